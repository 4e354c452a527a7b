# Ported from Janggu 0.10.2, src/examples/plot_coverage.py (https://github.com/BIMSBbioinfo/janggu,
# tag v0.10.2), GPL-3.0-or-later: this file stays under the GPL-3.0 (docs/janggu_examples/NOTICE).
# Changes: the import lines (janggu -> genomarray.compat) and the lines marked
# "genomarray port:" (listed in docs/migration.md). Run:
#   python docs/janggu_examples/plot_coverage.py   (writes coverage.png, coverage2.png here)
# ruff: noqa  (Janggu's code, kept as Janggu wrote it)
# fmt: off
from genomarray.compat import resource_filename

from genomarray.compat import Cover
from genomarray.compat import HeatTrack
from genomarray.compat import LineTrack
from genomarray.compat import plotGenomeTrack

roi = resource_filename('janggu',
                        'resources/sample.bed')

bw_file = resource_filename('janggu',
                            'resources/sample.bw')

cover = Cover.create_from_bigwig('coverage1',
                                 bigwigfiles=[bw_file] * 2,
                                 conditions=['rep1', 'rep2'],
                                 roi=roi,
                                 binsize=200,
                                 stepsize=200,
                                 resolution=50)

cover2 = Cover.create_from_bigwig('coverage2',
                                  bigwigfiles=bw_file,
                                  roi=roi,
                                  binsize=200,
                                  stepsize=200,
                                  resolution=50)

plotGenomeTrack([cover, cover2],
                'chr1', 16000, 18000).savefig('coverage.png')

plotGenomeTrack([HeatTrack(cover), LineTrack(cover2)],
                'chr1', 16000, 18000).savefig('coverage2.png')
