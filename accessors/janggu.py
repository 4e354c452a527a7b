"""``.janggu``: genomarray's operations as methods of xarray objects.

Thin by design: each method hands off to one library function, which validates its input
(kind, dims) and holds the logic, so everything is usable without the accessor too. The
Dataset accessor calls the same functions, which accept Datasets.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

import xarray as xr

from genomarray import model

if TYPE_CHECKING:
    import pandas as pd


class _Module:
    """A library module imported on first use: registering the accessor (at ``import
    genomarray``) loads none of dask.array, zarr or the readers."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


loading = _Module("genomarray.batches.load")
tracks = _Module("genomarray.export.tracks")
store = _Module("genomarray.genome.store")
augmentations = _Module("genomarray.transforms.augment")
collapsers = _Module("genomarray.transforms.collapse")
normalizers = _Module("genomarray.transforms.normalize")
onehot = _Module("genomarray.transforms.onehot")
shape = _Module("genomarray.transforms.shape")
split = _Module("genomarray.transforms.split")
predictions = _Module("genomarray.views.predictions")
shuffled = _Module("genomarray.views.shuffled")
windows = _Module("genomarray.views.windows")


@xr.register_dataarray_accessor("janggu")
class JangguArrayAccessor:
    """Genomics operations on a genomarray DataArray.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=100)
    >>> dna.janggu.view(roi).janggu.onehot(order=2).sizes["base"]
    16
    """

    def __init__(self, obj: xr.DataArray) -> None:
        self._obj = obj

    @property
    def kind(self) -> str:
        """The array's kind: sequence_genome, coverage_track, region_view or onehot_view."""
        return model.kind_of(self._obj)

    def validate(self) -> str:
        """Check the array against the data model; return its kind."""
        return model.validate(self._obj)

    def chrom_sizes(self) -> dict[str, int]:
        """``{chrom: length}`` of a genome-wide array."""
        return model.chrom_sizes(self._obj)

    def regions(self) -> pd.DataFrame:
        """The regions of a view as a BED-like DataFrame."""
        model.validate(self._obj, (model.REGION_VIEW, model.ONEHOT_VIEW))
        return model.regions_of(self._obj)

    def view(
        self, regions: Any, flank: int | None = None, strand_aware: bool = True, **kwargs: Any
    ) -> xr.DataArray:
        """View through regions: see :func:`genomarray.views.windows.view`."""
        return windows.view(self._obj, regions, flank=flank, strand_aware=strand_aware, **kwargs)

    def onehot(self, order: int = 1, dtype: str = "float32") -> xr.DataArray:
        """One-hot of any order: see :func:`genomarray.transforms.onehot.onehot`."""
        return onehot.onehot(self._obj, order=order, dtype=dtype)

    def revcomp(self) -> xr.DataArray:
        """Reverse complement: see :func:`genomarray.transforms.onehot.revcomp`."""
        return onehot.revcomp(self._obj)

    def collapse(
        self, resolution: int | None, how: Any = "sum", fill: Any = None, partial: str = "pad"
    ) -> xr.DataArray:
        """Coarser bins, or one value per region: see
        :func:`genomarray.transforms.collapse.collapse`."""
        return collapsers.collapse(self._obj, resolution, how=how, fill=fill, partial=partial)

    def to_genome(
        self,
        chrom_sizes: Any = None,
        how: str | None = "mean",
        fill: float = 0.0,
        resolution: int | None = None,
    ) -> xr.DataArray:
        """Place a view on a genome-wide track: see
        :func:`genomarray.views.predictions.to_genome`."""
        return predictions.to_genome(
            self._obj, chrom_sizes=chrom_sizes, how=how, fill=fill, resolution=resolution
        )

    def normalize(self, spec: Any, mask: Any = None) -> xr.DataArray:
        """Normalize (``"tpm"``, ``"zscore"``, ``"zscorelog"``, objects, lists...): see
        :func:`genomarray.transforms.normalize.normalize`."""
        return normalizers.normalize(self._obj, spec, mask=mask)

    def denormalize(self) -> xr.DataArray:
        """Undo every normalization recorded in ``attrs["normalizers"]``, last first."""
        return normalizers.denormalize(self._obj)

    def flip(self) -> xr.DataArray:
        """Reverse complement (one-hot, codes) or reverse + strand swap (coverage) of every
        region: see :func:`genomarray.transforms.augment.flip`."""
        return augmentations.flip(self._obj)

    def augment(
        self, augmentation: Any = "flip", random_state: Any = None, **options: Any
    ) -> xr.DataArray:
        """Random flip / scale / shift per region: see
        :func:`genomarray.transforms.augment.augment`."""
        return augmentations.augment(self._obj, augmentation, random_state, **options)

    def with_reverse_complement(self) -> xr.DataArray:
        """The regions followed by their flipped copies (training on both strands)."""
        return augmentations.with_reverse_complement(self._obj)

    def reduce_dim(
        self, dim: str | list[str], how: Any = "sum", keepdims: bool = False
    ) -> xr.DataArray:
        """Reduce over dims (Janggu's ``ReduceDim``): see
        :func:`genomarray.transforms.shape.reduce_dim`."""
        return shape.reduce_dim(self._obj, dim, how=how, keepdims=keepdims)

    def squeeze(self, dims: Any = None) -> xr.DataArray:
        """Drop size-1 dims except ``region``: see :func:`genomarray.transforms.shape.squeeze`."""
        return shape.squeeze(self._obj, dims)

    def channel_order(self, order: str = "last") -> xr.DataArray:
        """Channel-last ``(region, pos, ...)`` or channel-first ``(region, ..., pos)``."""
        return shape.channel_order(self._obj, order)

    def as_numpy(self, channel: str = "last") -> Any:
        """A plain numpy batch in a documented dim order, for any framework."""
        return shape.as_numpy_batch(self._obj, channel=channel)

    def load(self, threads: int | None = None) -> xr.DataArray:
        """The values in memory, read straight from the store's chunks where the view's
        making allows: see :func:`genomarray.batches.load.load`."""
        return loading.load(self._obj, threads=threads)

    def subset(self, include: Any = None, exclude: Any = None, regions: Any = None) -> xr.DataArray:
        """Keep regions (or chromosomes) by name or overlap: see
        :func:`genomarray.transforms.split.subset`."""
        return split.subset(self._obj, include=include, exclude=exclude, regions=regions)

    def shuffle(self, random_state: Any = None) -> xr.DataArray:
        """Permute the regions (lazily): see :func:`genomarray.transforms.split.shuffle`."""
        return split.shuffle(self._obj, random_state)

    def plot(self, region: Any, **kwargs: Any) -> Any:
        """A genome-browser-like figure of ``region`` (a matplotlib Figure): see
        :func:`genomarray.export.plot.plot_track`."""
        from genomarray.export.plot import plot_track

        return plot_track(self._obj, region, **kwargs)

    def to_bigwig(self, path_or_dir: str | os.PathLike, **kwargs: Any) -> list:
        """One bigWig per condition (and strand): see :func:`genomarray.export.tracks.to_bigwig`."""
        return tracks.to_bigwig(self._obj, path_or_dir, **kwargs)

    def to_bedgraph(self, path: str | os.PathLike, **kwargs: Any) -> list:
        """bedGraph per condition (and strand): see :func:`genomarray.export.tracks.to_bedgraph`."""
        return tracks.to_bedgraph(self._obj, path, **kwargs)

    def to_bed(self, path: str | os.PathLike, **kwargs: Any) -> Any:
        """A view's regions with a score per condition: see
        :func:`genomarray.export.tracks.to_bed`."""
        return tracks.to_bed(self._obj, path, **kwargs)

    def to_zarr(
        self, path: str | os.PathLike, overwrite: bool = False, progress: bool = True
    ) -> xr.DataArray:
        """Write to a zarr store atomically and return the store reopened lazily."""
        store.write_zarr(self._obj, path, overwrite=overwrite, progress=progress)
        return store.open_zarr(path)


@xr.register_dataset_accessor("janggu")
class JangguDatasetAccessor:
    """Genomics operations applied to every suitable variable of a Dataset.

    Examples
    --------
    >>> import genomarray as ga, xarray as xr
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> xr.Dataset({"dna": seqs}).janggu.onehot(order=1)["dna"].sizes["base"]
    4
    """

    def __init__(self, obj: xr.Dataset) -> None:
        self._obj = obj

    def view(self, regions: Any, flank: int | None = None, strand_aware: bool = True) -> xr.Dataset:
        """View every genome-wide variable through the same regions: see
        :func:`genomarray.views.windows.view`."""
        return windows.view(self._obj, regions, flank, strand_aware)

    def collapse(self, resolution: int | None, how: Any = "sum") -> xr.Dataset:
        """Collapse every coverage view (and track) of the Dataset; codes are kept."""
        return collapsers.collapse(self._obj, resolution, how=how)

    def normalize(self, spec: Any) -> xr.Dataset:
        """Normalize every coverage variable (each fitted on its own data)."""
        return normalizers.normalize(self._obj, spec)

    def plot(self, region: Any, **kwargs: Any) -> Any:
        """Every variable as a stacked track of one figure: see
        :func:`genomarray.export.plot.plot_tracks`."""
        from genomarray.export.plot import plot_tracks

        return plot_tracks(dict(self._obj.data_vars), region, **kwargs)

    def flip(self) -> xr.Dataset:
        """Flip every variable's regions (see :func:`genomarray.transforms.augment.flip`)."""
        return augmentations.flip(self._obj)

    def augment(
        self, augmentation: Any = "flip", random_state: Any = None, **options: Any
    ) -> xr.Dataset:
        """The same random draw per region applied to every variable."""
        return augmentations.augment_dataset(self._obj, augmentation, random_state, **options)

    def with_reverse_complement(self) -> xr.Dataset:
        """Every variable's regions followed by their flipped copies."""
        return augmentations.with_reverse_complement(self._obj)

    def subset(self, include: Any = None, exclude: Any = None, regions: Any = None) -> xr.Dataset:
        """Keep regions by chromosome or overlap, in every variable."""
        return split.subset(self._obj, include=include, exclude=exclude, regions=regions)

    def shuffle(self, random_state: Any = None) -> xr.Dataset:
        """Permute the regions of every variable by one permutation."""
        return split.shuffle(self._obj, random_state)

    def split(self, holdout_chroms: Any) -> tuple[xr.Dataset, xr.Dataset]:
        """``(train, test)``: the test set holds the regions on ``holdout_chroms``."""
        return split.split_train_test(self._obj, holdout_chroms)

    def write_shuffled(
        self, path: str | os.PathLike, random_state: Any = None, **kwargs: Any
    ) -> Any:
        """Write the variables permuted by one permutation, for contiguous reads in random
        order: see :func:`genomarray.views.shuffled.write_shuffled`."""
        return shuffled.write_shuffled(self._obj, path, random_state, **kwargs)

    def onehot(self, order: int = 1, dtype: str = "float32") -> xr.Dataset:
        """One-hot every sequence view (codes) of the Dataset; other variables are kept."""
        return onehot.onehot(self._obj, order=order, dtype=dtype)

    def load(self, threads: int | None = None) -> xr.Dataset:
        """Every variable in memory: see :func:`genomarray.batches.load.load`."""
        return loading.load(self._obj, threads=threads)
