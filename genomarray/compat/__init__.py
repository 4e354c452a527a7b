"""Janggu-compatible constructors: ``Cover`` and ``Bioseq`` that return DataArrays.

A Janggu script runs after changing its import line::

    # from janggu.data import Bioseq, Cover, split_train_test
    from genomarray.compat import Bioseq, Cover, split_train_test

``Cover.create_from_bam``, ``create_from_bigwig``, ``create_from_bed``,
``create_from_array``, ``Bioseq.create_from_refgenome`` and ``create_from_seq`` take
Janggu's parameter names and defaults and return :class:`xarray.DataArray` views, named
``name``, whose values have Janggu's shapes:

- ``Cover``: ``(region, pos, strand, condition)``, i.e. ``(N, L, strands, conditions)``,
  with ``L = ceil((binsize + 2 * flank) / resolution)`` (1 for ``resolution=None``);
- ``Bioseq``: ``(region, pos, strand, base)``, i.e. ``(N, L - order + 1, 1, 4**order)``
  (``20**order`` for protein), the singleton ``strand`` axis labelled ``"."``.

``len(x)``, ``x.shape``, ``x[0:4]``, ``np.asarray(x)`` behave as on a numpy array, and the
labels (``x.chrom``, ``x.start``, ``x.condition``, ``x.base``) name regions and channels.
The constructors are thin: each is the native pipeline
``read_*(...) -> view(tile(roi, ...)) -> collapse(...) -> normalize(...)`` plus a reshape.
``random_state=`` permutes the regions as Janggu's does (the same order for the same seed).

Janggu's ``view``, ``subset`` and ``split_train_test`` are here too. Every deliberate
difference from Janggu is listed in ``docs/migration.md``.
"""

from genomarray.compat.bioseq import Bioseq
from genomarray.compat.common import STORAGE_NAMES
from genomarray.compat.cover import COLLAPSERS, Cover
from genomarray.compat.functions import split_train_test, subset, view

__all__ = ["COLLAPSERS", "STORAGE_NAMES", "Bioseq", "Cover", "split_train_test", "subset", "view"]
