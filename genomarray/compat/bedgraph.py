"""Overlapping bedGraph records, read as Janggu read them: the last record in file order wins.

genomarray's own reader refuses a bedGraph whose records overlap (a base would have two
values). Janggu's ``Cover.create_from_bed(mode="bedgraph")`` painted the records in file
order, so on overlaps the later record's value replaced the earlier one base by base.
:func:`last_record_wins` rewrites such a file into disjoint records with exactly those
values (a content-keyed copy under the output root), which the native reader then takes;
files without overlaps are returned as they are.
"""

from __future__ import annotations

import hashlib
import heapq
import os
from pathlib import Path

import numpy as np
import pandas as pd

from genomarray.atomic import AtomicFiles
from genomarray.paths import output_root


def resolve_overlaps(records: pd.DataFrame) -> pd.DataFrame:
    """Disjoint records where every base takes the value of the last record covering it.

    Parameters
    ----------
    records
        ``chrom, start, end, score`` in file order.

    Returns
    -------
    pandas.DataFrame
        ``chrom, start, end, score``, sorted, non-overlapping; adjacent pieces of one
        record stay separate only where another record cuts them.

    Examples
    --------
    >>> df = pd.DataFrame({"chrom": "chr1", "start": [1800, 1850, 1900, 1950, 2000],
    ...                    "end": [1900, 1900, 2050, 2000, 2200],
    ...                    "score": [1.1, 1.2, 1.3, 1.4, 1.5]})
    >>> resolve_overlaps(df).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['chr1', 1800, 1850, 1.1], ['chr1', 1850, 1900, 1.2], ['chr1', 1900, 1950, 1.3],
     ['chr1', 1950, 2000, 1.4], ['chr1', 2000, 2200, 1.5]]
    """
    out = []
    order = np.arange(len(records))
    frame = records.assign(_order=order)
    for chrom, grp in frame.groupby("chrom", sort=False):
        starts = grp["start"].to_numpy(np.int64)
        ends = grp["end"].to_numpy(np.int64)
        ranks = grp["_order"].to_numpy(np.int64)
        scores = grp["score"].to_numpy(np.float64)
        cuts = np.unique(np.concatenate([starts, ends]))
        by_start = np.argsort(starts, kind="stable")
        active: list[tuple[int, int]] = []  # (-rank, index) of records covering the segment
        k = 0
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            while k < len(by_start) and starts[by_start[k]] <= lo:
                i = int(by_start[k])
                heapq.heappush(active, (-int(ranks[i]), i))
                k += 1
            while active and ends[active[0][1]] <= lo:
                heapq.heappop(active)
            if active:
                i = active[0][1]
                if out and out[-1][0] == chrom and out[-1][2] == lo and out[-1][4] == i:
                    out[-1][2] = int(hi)
                else:
                    out.append([str(chrom), int(lo), int(hi), float(scores[i]), i])
    result = pd.DataFrame(
        [row[:4] for row in out], columns=["chrom", "start", "end", "score"]
    ).astype({"start": np.int64, "end": np.int64, "score": np.float64})
    return result


def _overlaps(records: pd.DataFrame) -> bool:
    for _, grp in records.groupby("chrom", sort=False):
        s = grp.sort_values("start", kind="stable")
        ends = np.maximum.accumulate(s["end"].to_numpy(np.int64))
        if np.any(s["start"].to_numpy(np.int64)[1:] < ends[:-1]):
            return True
    return False


def last_record_wins(path: str | os.PathLike) -> str:
    """``path``, or a content-keyed copy of it with overlapping records resolved as Janggu
    did (the last record in file order wins); the copy keeps the file's name so the
    condition label (the file stem) is unchanged.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> src = os.path.join(folder, "x.bedgraph")
    >>> _ = open(src, "w").write("c\\t0\\t10\\t1\\nc\\t5\\t8\\t2\\n")
    >>> open(last_record_wins(src)).read().split()
    ['c', '0', '5', '1.0', 'c', '5', '8', '2.0', 'c', '8', '10', '1.0']
    """
    from genomarray.io.regions import read_regions

    records = read_regions(path, fmt="bedgraph")
    if not _overlaps(records[["chrom", "start", "end"]]):
        return os.fspath(path)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    target = output_root() / "compat" / "bedgraph" / digest / Path(path).name
    if target.exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    resolved = resolve_overlaps(records[["chrom", "start", "end", "score"]])
    files = AtomicFiles([target], overwrite=True)
    with files as (tmp,):
        resolved.to_csv(tmp, sep="\t", header=False, index=False)
    files.commit()
    return str(target)
