"""The ``.janggu`` xarray accessor, installed as ``genomarray.accessors``.

Importing this package registers the accessor on ``xarray.DataArray`` and
``xarray.Dataset``; ``import genomarray`` does that for you.
"""

from genomarray.accessors.janggu import JangguArrayAccessor, JangguDatasetAccessor

__all__ = ["JangguArrayAccessor", "JangguDatasetAccessor"]
