"""Stage 6, exporters: bigWig, bedGraph and BED files (:mod:`~genomarray.export.tracks`) and
genome-track plots (:mod:`~genomarray.export.plot`, which loads matplotlib)."""
