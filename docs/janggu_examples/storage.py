# Ported from Janggu 0.10.2's docs/storage.rst ("Genomic Datasets", https://github.com/BIMSBbioinfo/janggu,
# tag v0.10.2), GPL-3.0-or-later: this file stays under the GPL-3.0 (docs/janggu_examples/NOTICE).
# Every code block of the page in page order. The page never defines its inputs; the lines
# marked "genomarray port:" bind them to Janggu's resource files, apply the two functions the
# page only defines, and assert what the page states. Run it from a scratch folder.
# ruff: noqa  (Janggu's code, kept as Janggu wrote it)
# fmt: off

# genomarray port: the names the page uses but never defines
import numpy as np
from genomarray.compat import Bioseq, Cover, resource_filename, view

samplefile = resource_filename('janggu', 'resources/sample.bam')
roi = resource_filename('janggu', 'resources/sample.bed')
roitrain = resource_filename('janggu', 'resources/sample_equalsize.bed')
roitest = resource_filename('janggu', 'resources/sample.bed')
geneannot = resource_filename('janggu', 'resources/sample.gtf')
refgenome = resource_filename('janggu', 'resources/sample_genome.fa')
REFGENOME = resource_filename('janggu', 'resources/pseudo_genome.fa')

# --- docs/storage.rst:60-60 ------------------------------------------------
Cover.create_from_bam('track', bamfiles=samplefile, roi=roi, normalizer='tpm')
# genomarray port: asserted: 'tpm' scales every condition to one million
assert abs(float(Cover.create_from_bam('track', bamfiles=samplefile, roi=roi, normalizer='tpm')[:].sum()) - 1e6) < 1

# --- docs/storage.rst:71-75 ------------------------------------------------
from genomarray.compat import PercentileTrimming
from genomarray.compat import ZScore

Cover.create_from_bam('track', bamfiles=samplefile, roi=roi,
                      normalizer=[PercentileTrimming(95), ZScore()])

# --- docs/storage.rst:89-101 -----------------------------------------------
from genomarray.compat import ZScore

zscore = ZScore()

# First, mean and std will be determined.
# Then zscore transformation is applied.
Cover.create_from_bam('track_train', bamfiles=samplefile, roi=roitrain,
                      normalizer=[zscore])

# Subsequently, zscore transformation is applied with
# the same mean and std determined from the training set.
Cover.create_from_bam('track_test', bamfiles=samplefile, roi=roitest,
                      normalizer=[zscore])
# genomarray port: asserted: the second call reused the first call's statistics
track_train = Cover.create_from_bam('track_train', bamfiles=samplefile, roi=roitrain, normalizer=[zscore])
assert zscore.fitted and set(zscore.params) == {'mean', 'std'}

# --- docs/storage.rst:108-112 ----------------------------------------------
def custom_normalizer(genomicarray):

   # perform normalization genomicarray

   return genomicarray
# genomarray port: the page defines it; here it is used (genomarray passes a DataArray)
assert Cover.create_from_bam('track', bamfiles=samplefile, roi=roi,
                             normalizer=custom_normalizer).shape == (2, 10000, 2, 1)

# --- docs/storage.rst:137-141 ----------------------------------------------
Cover.create_from_bam('track', bamfiles=samplefile, roi=roi,
                      resolution=1)

Cover.create_from_bam('track', bamfiles=samplefile, roi=roi,
                      resolution=50)


# --- docs/storage.rst:158-161 ----------------------------------------------
Cover.create_from_bam('genes',
                      bamfiles=samplefile,
                      roi=geneannot,
                      resolution=None)
# genomarray port: asserted: one value per gene, the reads summed over it
genes = Cover.create_from_bam('genes', bamfiles=samplefile, roi=geneannot, resolution=None)
assert genes.shape == (2, 1, 2, 1) and float(genes[:].sum()) == 29.0  # 5' ends inside the genes (pysam)

# --- docs/storage.rst:176-188 ----------------------------------------------
# genomarray port: samplefile is the bigWig in this block
samplefile = resource_filename('janggu', 'resources/sample.bw')
import numpy as np

Cover.create_from_bigwig('bwtrack',
                         bigwigfiles=samplefile,
                         roi=roi,
                         resolution=50,
                         collapser='mean')

Cover.create_from_bigwig('bwtrack',
                         bigwigfiles=samplefile,
                         roi=roi,
                         resolution=50,
                         collapser=np.sum)
# genomarray port: samplefile is the bigWig here

# --- docs/storage.rst:199-209 ----------------------------------------------
def custom_collapser(numpyarray):

   # Initially, the dimensions of numpyarray correspond to
   # (intervallength // resolution, resolution, strand)

   numpyarray = numpyarray.sum(axis=1)

   # Subsequently, we return the array of shape
   # (intervallength // resolution, strand)

   return numpyarray
# genomarray port: the page defines it; here it is used
summed = Cover.create_from_bigwig('bwtrack', bigwigfiles=samplefile, roi=roi, resolution=50,
                                  collapser=custom_collapser)
assert np.allclose(summed[:], Cover.create_from_bigwig('bwtrack', bigwigfiles=samplefile, roi=roi,
                                                       resolution=50, collapser='sum')[:])

# --- docs/storage.rst:230-232 ----------------------------------------------
# load hg19 if the cache file does not exist yet, otherwise
# reload it.
try:  # genomarray port: without roi Janggu raises too ('Specify roi or store_whole_genome=True')
    Bioseq.create_from_refgenome('dna', refgenome, order=1, cache=True)
except ValueError as err:
    print(err)
Bioseq.create_from_refgenome('dna', refgenome, order=1, cache=True, store_whole_genome=True)  # genomarray port

# --- docs/storage.rst:343-354 ----------------------------------------------
# union ROI for training and test set.
ROI_FILE = resource_filename('janggu', 'resources/roi.bed')
ROI_TRAIN_FILE = resource_filename('janggu', 'resources/roi_train.bed')
ROI_TEST_FILE = resource_filename('janggu', 'resources/roi_test.bed')

DNA = Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                   roi=ROI_FILE,
                                   binsize=200,
                                   store_whole_genome=True)

DNA_TRAIN = view(DNA, ROI_TRAIN_FILE)
DNA_TEST = view(DNA, ROI_TEST_FILE)
# genomarray port: asserted
assert DNA_TRAIN.shape == (7797, 200, 1, 4) and DNA_TEST.shape == (200, 200, 1, 4)

# --- docs/storage.rst:384-390 ----------------------------------------------
DNA = Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                   roi=ROI_TRAIN_FILE,
                                   binsize=200,
                                   storage='hdf5',
                                   cache=True,
                                   store_whole_genome=False,
                                   random_state=43)
# genomarray port: asserted: the regions are permuted with Janggu's permutation for seed 43
assert DNA.shape == (7797, 200, 1, 4)
assert DNA.gindexer.randomidx.tolist() == np.random.RandomState(43).permutation(7797).tolist()

# --- docs/storage.rst:423-424 -------------------------------------------
import os
os.environ['JANGGU_OUTPUT']='/output/dir'
# genomarray port: the model side (genomarray.compat.keras) writes under $JANGGU_OUTPUT, read
# when a model is made; restored here so that running this file writes nothing there
del os.environ['JANGGU_OUTPUT']
