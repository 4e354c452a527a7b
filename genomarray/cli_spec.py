"""The ``genomarray build`` spec: a TOML file of genomics files, loaded and checked.

:func:`check_spec` validates the whole spec (every key, value and file) before anything is
built and reports every problem at once, in one :class:`SpecError` that names the spec file
and each bad key. Only the standard library is imported here; the library's own names
(modes, normalizers) are imported when a spec is checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SpecError(Exception):
    """A spec that cannot be used: the message names the spec file and every bad key."""


def load_spec(path: Path) -> dict[str, Any]:
    """Read a TOML spec file (or a pipe) into a dict.

    Raises
    ------
    SpecError
        The file does not exist, or is not valid TOML (the parser's line and column).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> sorted(load_spec(Path(example_path("demo_spec.toml"))))
    ['genome', 'roi', 'tracks']
    """
    import tomllib

    if not path.exists() or path.is_dir():
        raise SpecError(f"{path}: spec file not found")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None


class _Problems:
    """The problems of a spec, collected so that all are reported at once."""

    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_any(self) -> None:
        if len(self.items) == 1:
            raise SpecError(f"{self.spec}: {self.items[0]}")
        if self.items:
            raise SpecError(
                f"{self.spec}: {len(self.items)} problems: "
                + "; ".join(f"({i}) {p}" for i, p in enumerate(self.items, 1))
            )


def _table(value: Any, where: str, problems: _Problems) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.add(f"key '{where}' must be a table ([{where}]), got {value!r}")
    return {}


def _file(value: Any, where: str, spec: Path, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not value:
        problems.add(f"key '{where}' must be a file path, got {value!r}")
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = spec.parent / path
    if not path.exists():
        problems.add(f"key '{where}': file not found: {path}")
        return None
    return str(path)


def _files(value: Any, where: str, spec: Path, problems: _Problems) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        problems.add(f"key '{where}' is an empty list")
    paths = [
        _file(v, f"{where}[{i}]" if isinstance(value, list) else where, spec, problems)
        for i, v in enumerate(values)
    ]
    return [p for p in paths if p is not None]


def _whole(
    table: dict[str, Any],
    key: str,
    default: int | None,
    where: str,
    least: int,
    problems: _Problems,
) -> int | None:
    value = table.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        problems.add(f"key '{where}.{key}' must be a whole number >= {least}, got {value!r}")
        return default
    return value


def _unknown(table: dict[str, Any], known: set[str], where: str, problems: _Problems) -> None:
    for key in sorted(set(table) - known):
        problems.add(
            f"unknown key '{where}.{key}' (expected {', '.join(sorted(known))})"
            if where
            else f"unknown key '{key}' (expected [genome], [[tracks]], [roi])"
        )


_TRACK_KEYS = {"name", "bam", "bigwig", "bed", "mode", "resolution", "normalizers", "conditions"}
_KINDS = ("bam", "bigwig", "bed")


def _modes() -> dict[str, tuple[str, ...]]:
    from genomarray.io import bam, bigwig, intervals

    return {"bam": bam.MODES, "bigwig": bigwig.HOWS, "bed": intervals.MODES}


def _check_track(
    track: Any, i: int, names: set[str], spec_path: Path, problems: _Problems
) -> dict[str, Any] | None:
    from genomarray.transforms.normalize import NAMES as NORMALIZER_NAMES

    where = f"tracks[{i}]"
    track = _table(track, where, problems)
    name = track.get("name")
    if name is None:
        problems.add(f"missing key '{where}.name'")
    elif name == "genome" and name in names:
        problems.add(
            f"key '{where}.name': 'genome' is the genome's store (genome.zarr); choose another"
        )
    elif not isinstance(name, str) or not name or "/" in name or name in names:
        problems.add(f"key '{where}.name' must be a new name without '/', got {name!r}")
    else:
        names.add(name)
    _unknown(track, _TRACK_KEYS, where, problems)
    kinds = [k for k in _KINDS if k in track]
    if len(kinds) != 1:
        problems.add(
            f"key '{where}' ({name}) needs exactly one of 'bam', 'bigwig', 'bed', "
            f"got {kinds or 'none'}"
        )
        return None
    kind = kinds[0]
    files = _files(track[kind], f"{where}.{kind}", spec_path, problems)
    mode = track.get("mode")
    if mode is not None and mode not in _modes()[kind]:
        problems.add(
            f"key '{where}.mode' of a {kind} track must be one of "
            f"{', '.join(_modes()[kind])}, got {mode!r}"
        )
    resolution = _whole(track, "resolution", 1, where, 1, problems)
    normalizers = track.get("normalizers", [])
    if isinstance(normalizers, str):
        normalizers = [normalizers]
    if not isinstance(normalizers, list):
        problems.add(f"key '{where}.normalizers' must be a list of names, got {normalizers!r}")
        normalizers = []
    for k, norm in enumerate(normalizers):
        if norm not in NORMALIZER_NAMES:
            problems.add(
                f"key '{where}.normalizers[{k}]' must be one of "
                f"{', '.join(NORMALIZER_NAMES)}, got {norm!r}"
            )
    conditions = track.get("conditions")
    if conditions is not None:
        n_files = len(track[kind]) if isinstance(track[kind], list) else 1
        if (
            not isinstance(conditions, list)
            or not all(isinstance(c, str) and c for c in conditions)
            or len(conditions) != n_files
        ):
            problems.add(
                f"key '{where}.conditions' must be a list of {n_files} name(s), one per "
                f"file, got {conditions!r}"
            )
    return {
        "name": name,
        "kind": kind,
        "files": files,
        "mode": mode,
        "resolution": resolution,
        "normalizers": list(normalizers),
        "conditions": conditions,
    }


def check_spec(spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Validate the whole spec (every key and file) before anything is built.

    Parameters
    ----------
    spec_path
        The spec file: relative paths in it are read from its folder.
    spec
        The spec, as :func:`load_spec` returns it.

    Returns
    -------
    dict
        The build plan: ``fasta`` (a path or None), ``tracks`` (one dict per track: name,
        kind, files, mode, resolution, normalizers, conditions) and ``roi`` (bed, binsize,
        flank, or None).

    Raises
    ------
    SpecError
        Naming the spec and every problem at once, numbered: unknown keys, missing keys,
        files not found, sizes below 1 (``binsize = 0``, ``resolution = 0``), unknown
        modes or normalizers, conditions that do not match the files.

    Examples
    --------
    >>> check_spec(Path("s.toml"), {"roi": {"binsize": 0}})
    Traceback (most recent call last):
    ...
    genomarray.cli_spec.SpecError: s.toml: 3 problems: (1) missing key 'genome.fasta' ...
    """
    problems = _Problems(spec_path)
    plan: dict[str, Any] = {"fasta": None, "tracks": [], "roi": None}
    _unknown(spec, {"genome", "tracks", "roi"}, "", problems)
    if "genome" in spec:
        genome = _table(spec["genome"], "genome", problems)
        _unknown(genome, {"fasta"}, "genome", problems)
        if "fasta" in genome:
            plan["fasta"] = _file(genome["fasta"], "genome.fasta", spec_path, problems)
        elif isinstance(spec["genome"], dict):
            problems.add("missing key 'genome.fasta'")
    tracks = spec.get("tracks", [])
    if not isinstance(tracks, list):
        problems.add("key 'tracks' must be written [[tracks]]")
        tracks = []
    if "genome" not in spec and not tracks:
        problems.add("missing key 'genome.fasta' (or a [[tracks]] table)")
    names = {"genome"} if "genome" in spec else set()  # genome.zarr is the genome's
    for i, track in enumerate(tracks):
        checked = _check_track(track, i, names, spec_path, problems)
        if checked is not None:
            plan["tracks"].append(checked)
    if "roi" in spec:
        roi = _table(spec["roi"], "roi", problems)
        _unknown(roi, {"bed", "binsize", "flank"}, "roi", problems)
        bed = None
        if "bed" in roi:
            bed = _file(roi["bed"], "roi.bed", spec_path, problems)
        elif isinstance(spec["roi"], dict):
            problems.add("missing key 'roi.bed'")
        plan["roi"] = {
            "bed": bed,
            "binsize": _whole(roi, "binsize", None, "roi", 1, problems),
            "flank": _whole(roi, "flank", 0, "roi", 0, problems),
        }
    problems.raise_any()
    return plan
