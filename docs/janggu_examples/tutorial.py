# Ported from Janggu 0.10.2's tutorial, docs/tutorial.rst (https://github.com/BIMSBbioinfo/janggu,
# tag v0.10.2), GPL-3.0-or-later: this file stays under the GPL-3.0 (docs/janggu_examples/NOTICE).
# Every code block of the page, in page order (they share one namespace, as on the page).
# Changes: the import lines (janggu -> genomarray.compat), the lines marked "genomarray port:"
# (Janggu's documented values turned into asserts, 1 training epoch instead of 100, two names
# the page never defines, and Janggu's .figsave typo). Run it from a scratch folder:
#   cd $(mktemp -d) && python <checkout>/docs/janggu_examples/tutorial.py
# --- docs/tutorial.rst:132-159 -------------------------------------------
# ruff: noqa  (Janggu's code, kept as Janggu wrote it)
# fmt: off
from genomarray.compat import resource_filename
from genomarray.compat import Bioseq

fasta_file = resource_filename('janggu',
                               'resources/sample.fa')

dna = Bioseq.create_from_seq(name='dna',
                             fastafile=fasta_file)

# there are 3897 sequences in the in sample.fa
len(dna)

# Each sequence is 200 bp of length
dna.shape  # is (3897, 200, 1, 4)

# One-hot encoding for the first 10 bases of the first region
dna[0][0, :10, 0, :]

#array([[0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0],
#       [0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0]], dtype=int8)
# genomarray port: Janggu's documented values, asserted
import numpy as np  # noqa: E402
assert len(dna) == 3897
assert dna.shape == (3897, 200, 1, 4)
first = dna[0][0, :10, 0, :]
assert first.dtype == np.int8
assert first.tolist() == np.eye(4, dtype=int)[[1, 0, 1, 0, 2, 1, 0, 2, 0, 2]].tolist()  # CACAGCAGAG

# --- docs/tutorial.rst:167-182 -------------------------------------------
dna = Bioseq.create_from_seq(name='dna',
                             fastafile=fasta_file,
                             fixedlen=205)

# Each sequence is 205 bp of length
dna.shape  # is (3897, 205, 1, 4)

# the last 5 position were zero padded
dna[0][0, -6:, 0, :]

#array([[1, 0, 0, 0],
#       [0, 0, 0, 0],
#       [0, 0, 0, 0],
#       [0, 0, 0, 0],
#       [0, 0, 0, 0],
#       [0, 0, 0, 0]], dtype=int8)
# genomarray port: asserted
assert dna.shape == (3897, 205, 1, 4)
assert dna[0][0, -6:, 0, :].tolist() == [[1, 0, 0, 0]] + [[0, 0, 0, 0]] * 5
assert dna[0].dtype == np.int8

# --- docs/tutorial.rst:196-218 -------------------------------------------
roi = resource_filename('janggu',
                        'resources/sample_equalsize.bed')
refgenome = resource_filename('janggu',
                              'resources/sample_genome.fa')

dna = Bioseq.create_from_refgenome(name='dna',
                                   refgenome=refgenome,
                                   roi=roi)

dna.shape  # is (4, 200, 1, 4)
# One-hot encoding of the first 10 nucleotides in region 0
dna[0][0, :10, 0, :]

#array([[0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0],
#       [0, 1, 0, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0],
#       [1, 0, 0, 0],
#       [0, 0, 1, 0]], dtype=int8)
# genomarray port: asserted. Janggu's page shows the first bases of sample.fa here (a copy of the block
# above); chr1:15000-15010 of sample_genome.fa is ATTGTGGTGA, which Janggu returns too.
assert dna.shape == (4, 200, 1, 4)
assert dna[0][0, :10, 0, :].tolist() == np.eye(4, dtype=int)[[0, 3, 3, 2, 3, 2, 2, 3, 2, 0]].tolist()

# --- docs/tutorial.rst:233-252 -------------------------------------------
roi = resource_filename('janggu',
                        'resources/sample.bed')

# loading non-overlapping intervals
dna = Bioseq.create_from_refgenome(name='dna',
                                   refgenome=refgenome,
                                   roi=roi,
                                   binsize=200,
                                   stepsize=200)

dna.shape  # is (100, 200, 1, 4)

# loading mutually overlapping intervals
dna = Bioseq.create_from_refgenome(name='dna',
                                   refgenome=refgenome,
                                   roi=roi,
                                   binsize=200,
                                   stepsize=50)

dna.shape  # is (394, 200, 1, 4)
# genomarray port: asserted (the second value; the first was overwritten above)
assert dna.shape == (394, 200, 1, 4)
assert Bioseq.create_from_refgenome(name='dna', refgenome=refgenome, roi=roi,
                                    binsize=200, stepsize=200).shape == (100, 200, 1, 4)

# --- docs/tutorial.rst:260-267 -------------------------------------------
dna = Bioseq.create_from_refgenome(name='dna',
                                   refgenome=refgenome,
                                   roi=roi,
                                   binsize=200,
                                   stepsize=200,
                                   flank=100)

dna.shape  # is (100, 400, 1, 4)
# genomarray port: asserted
assert dna.shape == (100, 400, 1, 4)

# --- docs/tutorial.rst:277-297 -------------------------------------------
dna = Bioseq.create_from_refgenome(name='dna',
                                   refgenome=refgenome,
                                   roi=roi,
                                   binsize=200,
                                   stepsize=200,
                                   order=2)

# is (100, 199, 1, 16)
# that is the last dimension represents di-nucleotides
dna.shape

dna.conditions
# ['AA', 'AC', 'AG', 'AT', 'CA', 'CC', 'CG', 'CT', 'GA', 'GC', 'GG', 'GT', 'TA', 'TC', 'TG', 'TT']

dna[0][0, :5, 0, :]

#array([[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
#       [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
#       [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
#       [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
#       [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]], dtype=int8)
# genomarray port: asserted
assert dna.shape == (100, 199, 1, 16)
assert dna.conditions == ['AA', 'AC', 'AG', 'AT', 'CA', 'CC', 'CG', 'CT', 'GA', 'GC',
                          'GG', 'GT', 'TA', 'TC', 'TG', 'TT']
assert dna[0][0, :5, 0, :].argmax(axis=-1).tolist() == [3, 15, 14, 11, 14]
assert dna[0][0, :5, 0, :].sum() == 5 and dna[0].dtype == np.int8

# --- docs/tutorial.rst:322-348 -------------------------------------------
from genomarray.compat import Cover

bam_file = resource_filename('janggu',
                             'resources/sample.bam')

roi = resource_filename('janggu',
                        'resources/sample.bed')

cover = Cover.create_from_bam('read_count_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              stepsize=200,
                              roi=roi)

cover.shape  # is (100, 200, 2, 1)
cover[0]  # coverage of the first region

# Coverage regardless of read strandedness
# sums reads from both strand.
cover = Cover.create_from_bam('read_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              stepsize=200,
                              stranded=False,
                              roi=roi)

cover.shape  # is (100, 200, 1, 1)
# genomarray port: asserted
assert cover.shape == (100, 200, 1, 1)
assert Cover.create_from_bam('read_count_coverage', bamfiles=bam_file, binsize=200,
                             stepsize=200, roi=roi).shape == (100, 200, 2, 1)

# --- docs/tutorial.rst:359-366 -------------------------------------------
# example with resolution=200 bp
cover = Cover.create_from_bam('read_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              resolution=50,
                              roi=roi)

cover.shape  # is (100, 4, 2, 1)
# genomarray port: asserted
assert cover.shape == (100, 4, 2, 1)

# --- docs/tutorial.rst:378-385 -------------------------------------------
# example with resolution=None
cover = Cover.create_from_bam('read_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              resolution=None,
                              roi=roi)

cover.shape  # is (100, 1, 2, 1)
# genomarray port: asserted
assert cover.shape == (100, 1, 2, 1)

# --- docs/tutorial.rst:391-399 -------------------------------------------
# example with resolution=None without strandedness
cover = Cover.create_from_bam('read_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              resolution=None,
                              stranded=False,
                              roi=roi)

cover.shape  # is (100, 1, 1, 1)
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 1)

# --- docs/tutorial.rst:407-416 -------------------------------------------
# example with resolution=None without strandedness
cover = Cover.create_from_bam('read_coverage',
                              bamfiles=bam_file,
                              binsize=200,
                              resolution=None,
                              stranded=False,
                              normalizer='tpm',
                              roi=roi)

cover.shape  # is (100, 1, 1, 1)
# genomarray port: asserted; TPM: every condition sums to one million
assert cover.shape == (100, 1, 1, 1)
assert abs(float(cover[:].sum()) - 1e6) < 1

# --- docs/tutorial.rst:426-437 -------------------------------------------
roi = resource_filename('janggu',
                        'resources/sample.bed')
bw_file = resource_filename('janggu',
                            'resources/sample.bw')

cover = Cover.create_from_bigwig('bigwig_coverage',
                                 bigwigfiles=bw_file,
                                 roi=roi,
                                 binsize=200,
                                 stepsize=200)

cover.shape  # is (100, 200, 1, 1)
# genomarray port: asserted (and Janggu's test: the bigWig sums to 1044 over sample.bed)
assert cover.shape == (100, 200, 1, 1)
assert float(cover[:].sum()) == 1044.0

# --- docs/tutorial.rst:448-455 -------------------------------------------
cover = Cover.create_from_bigwig('bigwig_coverage',
                                 bigwigfiles=bw_file,
                                 roi=roi,
                                 binsize=200,
                                 resolution=None,
                                 collapser='mean')

cover.shape  # is (100, 1, 1, 1)
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 1)

# --- docs/tutorial.rst:476-575 -------------------------------------------
roi = resource_filename('janggu',
                        'resources/sample.bed')
score_file = resource_filename('janggu',
                               'resources/scored_sample.bed')

# binary mode (default)
cover = Cover.create_from_bed('binary_coverage',
                              bedfiles=score_file,
                              roi=roi,
                              binsize=200,
                              stepsize=200,
                              collapser='max',
                              resolution=None)

cover.shape
# (100, 1, 1, 1)

cover[4]
# array([[[[1.]]]])
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 1) and cover[4].tolist() == [[[[1.0]]]]

# score mode
cover = Cover.create_from_bed('score_coverage',
                              bedfiles=score_file,
                              roi=roi,
                              binsize=200,
                              stepsize=200,
                              resolution=None,
                              collapser='max',
                              mode='score')

cover.shape
# (100, 1, 1, 1)

cover[4]
# array([[[[5.]]]])
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 1) and cover[4].tolist() == [[[[5.0]]]]


# scoreclass (or categorical) mode
# Interprets the integer-valued score as class-label,
# which will then be one-hot encoded.
cover = Cover.create_from_bed('cat_coverage',
                              bedfiles=score_file,
                              roi=roi,
                              binsize=200,
                              stepsize=200,
                              resolution=None,
                              collapser='max',
                              mode='score_category')

# there are 4 categories
cover.shape
# (100, 1, 1, 4)

# category names
cover.conditions
# ['1', '2', '4', '5']

cover[4]
# array([[[[0., 0., 0., 1.]]]])
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 4) and cover.conditions == ['1', '2', '4', '5']
assert cover[4].tolist() == [[[[0.0, 0.0, 0.0, 1.0]]]]

# nameclass mode
# Interprets the name field as class-label.
# The class labels will be one hot encoded.
cover = Cover.create_from_bed('cat_coverage',
                              bedfiles=score_file,
                              roi=roi,
                              binsize=200,
                              stepsize=200,
                              resolution=None,
                              collapser='max',
                              mode='name_category')

cover.shape
# (100, 1, 1, 2)

# category names
cover.conditions
# ['state1', 'state2']

cover[4]
# array([[[[0., 1.]]]])
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 2) and cover.conditions == ['state1', 'state2']
assert cover[4].tolist() == [[[[0.0, 1.0]]]]

# bedgraph-format mode
bedgraph_file = resource_filename('janggu',
                                  'resources/sample.bedgraph')

cover = Cover.create_from_bed('bedgraph_coverage',
                              bedfiles=bedgraph_file,
                              roi=roi,
                              binsize=200,
                              stepsize=200,
                              resolution=None,
                              collapser='max',
                              mode='bedgraph')

cover.shape
# (100, 1, 1, 1)

cover[4]
# array([[[[0.5]]]])
# genomarray port: asserted
assert cover.shape == (100, 1, 1, 1) and cover[4].tolist() == [[[[0.5]]]]

# --- docs/tutorial.rst:589-597 -------------------------------------------
from genomarray.compat import ReduceDim

cover.shape
# (100, 1, 1, 1)

data = ReduceDim(cover, aggregator='sum')

data.shape
# (100, 1)
# genomarray port: asserted
assert data.shape == (100, 1)

# --- docs/tutorial.rst:629-646 -------------------------------------------
import numpy as np

# True labels may be obtained from a BED file
cover = Cover.create_from_bigwig('cov',
                                  bigwigfiles=bw_file,
                                  roi=roi,
                                  binsize=200,
                                  resolution=50)


# Let's pretend to have derived predictions from a NN
# of the same shape
predictions = np.random.randn(*cover.shape)*.1 + cover[:]

# We can reassociate the predictions with the genomic coordinates
# of a :code:`GenomicIndexer` (in this case, cover.gindexer).
predictions = Cover.create_from_array('predictions',
                                      predictions, cover.gindexer)
# genomarray port: asserted: resolution 200 // 4 = 50, conditions Cond_0
assert predictions.shape == (100, 4, 1, 1) and predictions.conditions == ['Cond_0']
assert predictions.attrs['resolution'] == 50

# --- docs/tutorial.rst:657-658 -------------------------------------------
# writes the predictions to a specified folder
predictions.export_to_bigwig(output_dir = './')
# genomarray port: asserted: "should result in a file 'predictions.Cond_0.bigwig'"
import os  # noqa: E402
assert os.path.exists('predictions.Cond_0.bigwig')

# --- docs/tutorial.rst:668-671 -------------------------------------------
from genomarray.compat import LineTrack
from genomarray.compat import plotGenomeTrack

fig = plotGenomeTrack([LineTrack(cover), LineTrack(predictions)], 'chr1', 16000, 18000).savefig('coverage.png')  # genomarray port: Janggu's .figsave does not exist
# genomarray port: asserted: two one-condition LineTracks give Janggu's 5 axes
assert os.path.exists('coverage.png')
assert len(plotGenomeTrack([LineTrack(cover), LineTrack(predictions)], 'chr1', 16000, 18000).axes) == 5

# --- docs/tutorial.rst:718-731 -------------------------------------------
from keras.layers import Input
from keras.layers import Dense

from genomarray.compat.keras import Janggu

# Define neural network layers using keras
in_ = Input(shape=(10,), name='ip')
layer = Dense(3)(in_)
output = Dense(1, activation='sigmoid',
               name='out')(layer)

# Instantiate model name.
model = Janggu(inputs=in_, outputs=output)
model.summary()
# genomarray port: asserted
assert [layer.name for layer in model.kerasmodel.layers][0] == 'ip'

# --- docs/tutorial.rst:742-752 -------------------------------------------
def model_template(inputs, inp, oup, params):
    inputs = Input(shape=(10,), name='ip')
    layer = Dense(params)(inputs)
    output = Dense(1, activation='sigmoid',
                   name='out')(layer)
    return inputs, output

# Defines the same model by invoking the definition function
# and the create constructor.
model = Janggu.create(template=model_template,
                      modelparams=3)
# genomarray port: asserted
assert model.kerasmodel.count_params() == 10 * 3 + 3 + 3 + 1

# --- docs/tutorial.rst:765-769 -------------------------------------------
from genomarray.compat.keras import create_model

# This will construct a keras model directly
model = create_model(template=model_template,
                     modelparams=3)
# genomarray port: asserted
assert model.count_params() == 37

# --- docs/tutorial.rst:780-805 -------------------------------------------
import numpy as np
from genomarray.compat.keras import inputlayer, outputdense
from genomarray.compat import Array

# Some random data
DATA = Array('ip', np.random.random((1000, 10)))
LABELS = Array('out', np.random.randint(2, size=(1000, 1)))

# inputlayer and outputdense automatically
# extract dataset shapes and extend the
# Input and Output layers appropriately.
# That is, only the model body needs to be specified.
@inputlayer
@outputdense('sigmoid')
def model_body_template(inputs, inp, oup, params):
    with inputs.use('ip') as layer:
        # the with block allows
        # for easy access of a specific named input.
        output = Dense(params)(layer)
    return inputs, output

# create the model.
model = Janggu.create(template=model_body_template,
                      modelparams=3,
                      inputs=DATA, outputs=LABELS)
model.summary()
# genomarray port: asserted: the output layer is named after the LABELS dataset
assert model.kerasmodel.get_layer('out').units == 1 and model.kerasmodel.count_params() == 37

# --- docs/tutorial.rst:835-893 -------------------------------------------
from keras.layers import Conv2D
from keras.layers import GlobalAveragePooling2D
from genomarray.compat.keras import inputlayer
from genomarray.compat.keras import outputconv
from genomarray.compat.keras import DnaConv2D
from genomarray.compat import ReduceDim


# load the dataset which consists of
# 1) a reference genome
REFGENOME = resource_filename('janggu', 'resources/pseudo_genome.fa')
# 2) ROI contains regions spanning positive and negative examples
ROI_FILE = resource_filename('janggu', 'resources/roi_train.bed')
# 3) PEAK_FILE only contains positive examples
PEAK_FILE = resource_filename('janggu', 'resources/scores.bed')

# DNA sequences are loaded directly from the reference genome
DNA = Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                   roi=ROI_FILE,
                                   binsize=200)

# Classification labels over the same regions are loaded
# into the Coverage dataset.
# It is important that both DNA and LABELS load with the same
# binsize, stepsize to ensure
# the correct correspondence between both datasets.
# Finally, the ReduceDim dataset wrapper transforms the 4D Coverage
# object into a 2D table like object (regions by conditions)
LABELS = ReduceDim(Cover.create_from_bed('peaks', roi=ROI_FILE,
                               bedfiles=PEAK_FILE,
                               binsize=200,
                               resolution=None), aggregator='mean')


# 2. define a simple conv net with 30 filters of length 15 bp
# and relu activation.
# outputconv as opposed to outputdense will put a conv layer as output
@inputlayer
@outputdense('sigmoid')
def double_stranded_model(inputs, inp, oup, params):
    with inputs.use('dna') as layer:
        # The DnaConv2D wrapper can be used with Conv2D
        # to scan both DNA strands with the weight matrices.
        layer = DnaConv2D(Conv2D(params[0], (params[1], 1),
                                 activation=params[2]))(layer)

    output = GlobalAveragePooling2D(name='motif')(layer)
    return inputs, output


# 3. instantiate and compile the model
model = Janggu.create(template=double_stranded_model,
                      modelparams=(30, 15, 'relu'),
                      inputs=DNA, outputs=LABELS)
model.compile(optimizer='adadelta', loss='binary_crossentropy',
              metrics=['acc'])

# 4. fit the model
model.fit(DNA,LABELS,epochs=1)  # genomarray port: 100 epochs
# genomarray port: asserted: the fit wrote the model and the logs
assert os.path.exists(os.path.join(model.outputdir, 'models', model.name + '.h5'))
assert os.path.exists(os.path.join(model.outputdir, 'logs', 'janggu.log'))
assert DNA.shape == (7797, 200, 1, 4) and LABELS.shape == (7797, 1)

# --- docs/tutorial.rst:919-940 -------------------------------------------
@inputlayer
@outputdense('sigmoid')
def double_stranded_model(inputs, inp, oup, params):
    with inputs.use('dna') as layer:
        # The DnaConv2D wrapper can be used with Conv2D
        # to scan both DNA strands with the weight matrices.
        layer = DnaConv2D(Conv2D(params[0], (params[1], 1),
                                 activation=params[2]))(layer)

    output = GlobalAveragePooling2D(name='motif')(layer)
    return inputs, output


# 3. instantiate and compile the model
model = Janggu.create(template=double_stranded_model,
                      modelparams=(30, 15, 'relu'),
                      inputs=DNA, outputs=LABELS)
model.compile(optimizer='adadelta', loss='binary_crossentropy',
              metrics=['acc'])

# 4. fit the model
model.fit(DNA, LABELS, epochs=1)  # genomarray port: 100 epochs

# --- docs/tutorial.rst:970-970 -------------------------------------------
# genomarray port: DNA_TEST and LABELS_TEST are not defined on Janggu's page; the test
# regions of the same pseudo genome, as in Janggu's examples
DNA_TEST = Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                        roi=resource_filename('janggu', 'resources/roi_test.bed'),
                                        binsize=200)
LABELS_TEST = ReduceDim(Cover.create_from_bed('peaks',
                                              roi=resource_filename('janggu', 'resources/roi_test.bed'),
                                              bedfiles=PEAK_FILE, binsize=200, resolution=None),
                        aggregator='mean')
model.evaluate(DNA_TEST, LABELS_TEST, callbacks=['roc', 'prc', 'auprc', 'auroc'])
# genomarray port: asserted: Janggu writes <results root>/evaluation/<model name>/{roc,prc}.png and
# {auroc,auprc}.tsv (its page says evaluation/ directly; its code adds the model name)
folder = os.path.join(model.outputdir, 'evaluation', model.name)
assert {'auprc.tsv', 'auroc.tsv', 'prc.png', 'roc.png'} <= set(os.listdir(folder))

# --- docs/tutorial.rst:979-979 -------------------------------------------
model.evaluate(DNA_TEST, LABELS_TEST, callbacks=['cor', 'mae', 'mse', 'var_explained'])
# genomarray port: asserted
assert {'cor.tsv', 'mae.tsv', 'mse.tsv', 'var_explained.tsv'} <= set(os.listdir(folder))
