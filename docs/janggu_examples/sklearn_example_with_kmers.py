# Ported from Janggu 0.10.2, src/examples/sklearn_example_with_kmers.ipynb (its code cells in
# order; https://github.com/BIMSBbioinfo/janggu, tag v0.10.2), GPL-3.0-or-later: this file stays
# under the GPL-3.0 (docs/janggu_examples/NOTICE). Changes: the import lines (janggu ->
# genomarray.compat) and the lines marked "genomarray port:". The SVM takes minutes on two cores.
# ruff: noqa  (Janggu's code, kept as Janggu wrote it)
# fmt: off
# [cell 2]
import os

import numpy as np


from genomarray.compat import resource_filename

from genomarray.compat import Bioseq
from genomarray.compat import Cover
from genomarray.compat import ReduceDim
from genomarray.compat import SqueezeDim

from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

# from IPython.display import Image  # genomarray port: unused import (needs IPython)

np.random.seed(1234)

# [cell 3]
os.environ['JANGGU_OUTPUT'] = os.environ.get('JANGGU_OUTPUT', 'janggu_examples')  # genomarray port: was /home/wkopp/janggu_examples

# [cell 5]
order = 5

# [cell 6]
# load the dataset
# The pseudo genome represents just a concatenation of all sequences
# in sample.fa and sample2.fa. Therefore, the results should be almost
# identically to the models obtained from classify_fasta.py.
REFGENOME = resource_filename('janggu', 'resources/pseudo_genome.fa')
# ROI contains regions spanning positive and negative examples
ROI_TRAIN_FILE = resource_filename('janggu', 'resources/roi_train.bed')
ROI_TEST_FILE = resource_filename('janggu', 'resources/roi_test.bed')
# PEAK_FILE only contains positive examples
PEAK_FILE = resource_filename('janggu', 'resources/scores.bed')

# [cell 8]
# Training input and labels are purely defined genomic coordinates
DNA = SqueezeDim(ReduceDim(Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                   roi=ROI_TRAIN_FILE,
                                   binsize=200,
                                   order=order,
                                   cache=True)))

LABELS = SqueezeDim(ReduceDim(Cover.create_from_bed('peaks', roi=ROI_TRAIN_FILE,
                               bedfiles=PEAK_FILE,
                               binsize=200,
                               resolution=200,
                               cache=True,
                               storage='sparse')))


DNA_TEST = SqueezeDim(ReduceDim(Bioseq.create_from_refgenome('dna', refgenome=REFGENOME,
                                        roi=ROI_TEST_FILE,
                                        binsize=200,
                                        order=order)))

LABELS_TEST = SqueezeDim(ReduceDim(Cover.create_from_bed('peaks',
                                    bedfiles=PEAK_FILE,
                                    roi=ROI_TEST_FILE,
                                    binsize=200,
                                    resolution=200,
                                    storage='sparse')))

# [cell 10]
DNA.shape
assert DNA.shape == (7797, 1024)  # genomarray port: Janggu's recorded output, asserted

# [cell 12]
logreg = LogisticRegression()
logreg.fit(DNA, LABELS)
logregpred = logreg.predict_proba(DNA_TEST)[:,1]

# [cell 13]
svc = SVC(probability=True)
svc.fit(DNA, LABELS)
svcpred = svc.predict_proba(DNA_TEST)[:,1]

# [cell 14]
rf = RandomForestClassifier()
rf.fit(DNA, LABELS)
rfpred = rf.predict_proba(DNA_TEST)[:,1]

# [cell 16]
print("AUC_LogReg: ", roc_auc_score(LABELS_TEST[:], logregpred))
print("AUC_SVM: ", roc_auc_score(LABELS_TEST[:], svcpred))
print("AUC_RF: ", roc_auc_score(LABELS_TEST[:], rfpred))

# genomarray port: Janggu's recorded AUCs were 0.9055 (LogReg), 0.9357 (SVM) and 0.8668 (RF, random);
# LogReg is deterministic up to scikit-learn's version
assert abs(roc_auc_score(LABELS_TEST[:], logregpred) - 0.9055) < 0.005
assert roc_auc_score(LABELS_TEST[:], svcpred) > 0.9 and roc_auc_score(LABELS_TEST[:], rfpred) > 0.8
