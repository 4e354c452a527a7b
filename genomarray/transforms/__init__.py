"""Stage 4, transforms: pure functions of arrays (no files), and the stateful normalizers.

:mod:`~genomarray.transforms.onehot`, :mod:`~genomarray.transforms.collapse`,
:mod:`~genomarray.transforms.normalize` (classes in
:mod:`~genomarray.transforms.normalizers`), :mod:`~genomarray.transforms.augment`,
:mod:`~genomarray.transforms.shape` and :mod:`~genomarray.transforms.split`; their numpy
kernels are in the ``*_fns`` modules beside them.
"""
