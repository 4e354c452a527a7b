# Ported from Janggu 0.10.2's docs/custom_scorer.rst ("Customize Evaluation",
# https://github.com/BIMSBbioinfo/janggu, tag v0.10.2), GPL-3.0-or-later: this file stays under
# the GPL-3.0 (docs/janggu_examples/NOTICE). Every code block of the page in page order. The page
# uses a model and datasets it never defines; the lines marked "genomarray port:" supply them
# (the tutorial's Example 3 model on random data), and assert the files the page names.
# ruff: noqa  (Janggu's code, kept as Janggu wrote it)
# fmt: off

# genomarray port: the model, DNA and LABELS the page uses, and numpy (block 141)
import os

import numpy
from keras.layers import Dense

from genomarray.compat import Array
from genomarray.compat.keras import Janggu, inputlayer, outputdense

numpy.random.seed(1234)
DNA = Array('ip', numpy.random.random((200, 10)))
LABELS = Array('out', numpy.random.randint(2, size=(200, 1)))


@inputlayer
@outputdense('sigmoid')
def model_body_template(inputs, inp, oup, params):
    with inputs.use('ip') as layer:
        output = Dense(params)(layer)
    return inputs, output


model = Janggu.create(template=model_body_template, modelparams=3, inputs=DNA, outputs=LABELS,
                      name='custom_scorer_example')
model.compile(optimizer='adadelta', loss='binary_crossentropy')

# --- docs/custom_scorer.rst:24-32 ----------------------------------------
def custom_score(ytrue, ypred):
   """Custom score to be used with model.evaluate"""
   # do some evaluation
   return score

def custom_score(ypred):
   """Custom score to be used with model.predict"""
   # do some evaluation
   return score

# --- docs/custom_scorer.rst:39-45 ----------------------------------------
class CustomScore(object):
    def __init__(self, extra_parameter):
        self.extra_parameter

    def __call__(self, ytrue, ypred):
        # do some evaluation using self.extra_parameter
        return score
# genomarray port: not instantiated: its __init__ reads self.extra_parameter before setting it
# (AttributeError in Janggu too)

# --- docs/custom_scorer.rst:61-67 ----------------------------------------
class CustomExport(object):
    def __init__(self, extra_parameter):
        self.extra_parameter

    def __call__(self, output_dir, name, results):
        # run export
        pass
# genomarray port: not instantiated: its __init__ reads self.extra_parameter before setting it
# (AttributeError in Janggu too)

# --- docs/custom_scorer.rst:99-113 ---------------------------------------
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve
from genomarray.compat.keras import Scorer
from genomarray.compat.utils import ExportTsv
from genomarray.compat.utils import ExportScorePlot

# create a scorer
score_auroc = Scorer('auROC',
                     roc_auc_score,
                     exporter=ExportTsv())
score_roc = Scorer('ROC',
                   roc_curve,
                   exporter=ExportScorePlot(xlabel='FPR', ylabel='TPR'))
# determine the auROC
model.evaluate(DNA, LABELS, callbacks=[score_auroc, score_roc])
# genomarray port: asserted: "you will find auROC.tsv and ROC.png in <results-root>/evaluation/<modelname>/"
folder = os.path.join(model.outputdir, 'evaluation', model.name)
assert {'auROC.tsv', 'ROC.png'} <= set(os.listdir(folder))

# --- docs/custom_scorer.rst:123-130 --------------------------------------
from genomarray.compat.keras import Scorer
from genomarray.compat.keras import ExportJson

# create scorer
pred_scorer = Scorer('predict', exporter=ExportJson())

# Evaluate predictions
model.predict(DNA, callbacks=[pred_scorer])
# genomarray port: asserted
assert os.path.exists(os.path.join(folder, 'predict.json'))

# --- docs/custom_scorer.rst:141-143 --------------------------------------
# computes the per-data point loss
score_loss = Scorer('loss', lambda t, p: -t * numpy.log(p),
                         exporter=ExportJson())
# genomarray port: the page defines it; here it is used with evaluate
model.evaluate(DNA, LABELS, callbacks=[score_loss])
assert os.path.exists(os.path.join(folder, 'loss.json'))
