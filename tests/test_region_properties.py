"""Property-based tests (hypothesis) of region reading and tiling against naive references
(issue 13).

- Generated BED (3-6 and 12 columns), narrowPeak and bedGraph records, written with random
  separators (tabs, runs of spaces, tabs padded with spaces), CRLF or LF, comment, ``track``
  and ``browser`` lines, blank lines, a column-name header, plain or gzipped, read by
  ``read_regions`` against a plain parser of the *generated records* (it never parses the
  file), and one corrupted record reported at its own line number.
- Generated tiling parameters (binsize, stepsize, flank, zero_padding, collapse) through
  ``ga.tile`` against the walk documented in :func:`genomarray.regions.tile`.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray.errors import InputError
from genomarray.io.regions import read_regions

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

CHROMS = ["chr1", "chr2", "1", "X", "scaffold_12", "chrUn_KI270302v1"]
TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-|",
    min_size=1,
    max_size=8,
)


# -- generated records ---------------------------------------------------------------------
def number_text(value: float, integral: bool) -> str:
    return str(int(value)) if integral else repr(float(value))


@st.composite
def records(draw, fmt: str, ncol: int) -> list[dict]:
    """Each record: its fields as written, and what read_regions must return for it."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        chrom = draw(st.sampled_from(CHROMS))
        start = draw(st.integers(0, 10**7))
        end = start + draw(st.integers(1, 5000))
        fields = [chrom, str(start), str(end)]
        row = {"chrom": chrom, "start": start, "end": end, "name": ".", "score": 0.0, "strand": "."}
        if fmt == "bedgraph":
            value = draw(st.floats(-1e6, 1e6, allow_nan=False, width=32))
            integral = draw(st.booleans())
            text = number_text(round(value) if integral else value, integral)
            fields.append(text)
            row["score"] = float(text)
        else:
            if ncol >= 4:
                row["name"] = draw(TOKEN)
                fields.append(row["name"])
            if ncol >= 5:
                kind = draw(st.sampled_from(["int", "float", "dot"]))
                if kind == "dot":
                    fields.append(".")
                else:
                    value = (
                        draw(st.integers(0, 1000))
                        if kind == "int"
                        else draw(st.floats(0, 1000, allow_nan=False, width=32))
                    )
                    fields.append(number_text(value, kind == "int"))
                    row["score"] = float(fields[-1])
            if ncol >= 6:
                row["strand"] = draw(st.sampled_from("+-."))
                fields.append(row["strand"])
            if fmt == "narrowpeak":
                for col in ("signalValue", "pValue", "qValue"):
                    value = draw(st.floats(-1, 1e4, allow_nan=False, width=32))
                    fields.append(repr(float(value)))
                    row[col] = float(fields[-1])
                row["peak"] = draw(st.integers(-1, end - start - 1))
                fields.append(str(row["peak"]))
            elif ncol == 12:
                thick = draw(st.integers(start, end))
                fields += [str(thick), str(end), "255,0,0", "1", f"{end - start},", "0,"]
                row.update(
                    thickStart=thick,
                    thickEnd=end,
                    itemRgb="255,0,0",
                    blockCount=1,
                    blockSizes=f"{end - start},",
                    blockStarts="0,",
                )
        out.append({"fields": fields, "row": row})
    return out


FORMATS = {  # fmt: (column counts, file suffix)
    "bed": ((3, 4, 5, 6, 12), ".bed"),
    "narrowpeak": ((10,), ".narrowPeak"),
    "bedgraph": ((4,), ".bedGraph"),
}


@st.composite
def bed_files(draw) -> dict:
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    ncol = draw(st.sampled_from(FORMATS[fmt][0]))
    recs = draw(records(fmt, ncol))
    sep = draw(st.sampled_from(["tab", "spaces", "padded_tabs"]))
    if sep == "spaces" and any(" " in f for r in recs for f in r["fields"]):
        sep = "tab"
    return dict(
        fmt=fmt,
        ncol=ncol,
        records=recs,
        sep=sep,
        crlf=draw(st.booleans()),
        gz=draw(st.booleans()),
        header=draw(st.sampled_from([None, "names", "track", "browser", "comment"])),
        noise=draw(
            st.lists(
                st.sampled_from(["", "#x y", "track name=t", "browser position chr1", "  "]),
                max_size=len(recs) + 1,
            )
        ),
        noise_at=draw(
            st.lists(st.integers(0, max(len(recs), 0)), min_size=0, max_size=len(recs) + 1)
        ),
        final_newline=draw(st.booleans()),
    )


def join(fields: list[str], sep: str, draw_pad: int) -> str:
    if sep == "tab":
        return "\t".join(fields)
    if sep == "spaces":
        return (" " * (1 + draw_pad % 3)).join(fields)
    return "\t".join(f" {f}" if i % 2 else f"{f} " for i, f in enumerate(fields)) + " "


def write_file(spec: dict, folder: str) -> tuple[str, dict[int, int]]:
    """Write the file; return its path and the line number of each record."""
    lines: list[str] = []
    if spec["header"] == "names":
        lines.append(
            "\t".join(["chrom", "start", "end"][: spec["ncol"]] + ["x"] * (spec["ncol"] - 3))
        )
    elif spec["header"] == "track":
        lines.append('track name="generated" description="a b"')
    elif spec["header"] == "browser":
        lines.append("browser hide all")
    elif spec["header"] == "comment":
        lines.append("# generated")
    noise = dict(zip(spec["noise_at"], spec["noise"], strict=False))
    where: dict[int, int] = {}
    for i, rec in enumerate(spec["records"]):
        if i in noise:
            lines.append(noise[i])
        lines.append(join(rec["fields"], spec["sep"], i))
        where[i] = len(lines)
    if len(spec["records"]) in noise:
        lines.append(noise[len(spec["records"])])
    newline = "\r\n" if spec["crlf"] else "\n"
    text = newline.join(lines) + (newline if spec["final_newline"] else "")
    path = os.path.join(folder, "regions" + FORMATS[spec["fmt"]][1] + (".gz" if spec["gz"] else ""))
    data = text.encode()
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data) if spec["gz"] else data)
    return path, where


def expected_frame(spec: dict) -> pd.DataFrame:
    rows = [r["row"] for r in spec["records"]]
    columns = ["chrom", "start", "end", "name", "score", "strand"]
    if spec["fmt"] == "narrowpeak":
        columns += ["signalValue", "pValue", "qValue", "peak"]
    elif spec["ncol"] == 12 and rows:  # an empty file has no column count: BED6
        columns += ["thickStart", "thickEnd", "itemRgb", "blockCount", "blockSizes", "blockStarts"]
    return pd.DataFrame(rows, columns=columns)


def assert_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.columns.tolist() == want.columns.tolist()
    assert len(got) == len(want)
    if not len(want):
        return
    for col in want.columns:
        g, w = got[col].to_numpy(), want[col].to_numpy()
        if want[col].dtype.kind == "f":
            np.testing.assert_array_equal(g.astype(np.float64), w.astype(np.float64), err_msg=col)
        else:
            assert g.tolist() == w.tolist(), col
    assert got["start"].dtype == np.int64 and got["end"].dtype == np.int64
    assert got["score"].dtype == np.float64


@given(spec=bed_files())
@settings(max_examples=150, **SETTINGS)
def test_bed_like_records_against_naive(spec):
    with tempfile.TemporaryDirectory() as folder:
        path, _ = write_file(spec, folder)
        got = read_regions(path)
    assert_frame(got, expected_frame(spec))
    assert got.attrs["source"] == path


CORRUPTIONS = {
    "end_before_start": (lambda f: [f[0], f[2], f[1], *f[3:]], r"end \(\d+\) <= start \(\d+\)"),
    "start_not_int": (lambda f: [f[0], f[1] + "x", *f[2:]], r"start is not an integer: '\d+x'"),
    "negative_start": (lambda f: [f[0], "-5", *f[2:]], r"start must be >= 0, got -5"),
    "missing_column": (lambda f: f[:-1], None),  # message: see the test
}


@given(spec=bed_files(), data=st.data())
@settings(max_examples=100, **SETTINGS)
def test_one_bad_record_is_named_by_its_line(spec, data):
    if not spec["records"]:
        return
    k = data.draw(st.integers(0, len(spec["records"]) - 1))
    kind = data.draw(st.sampled_from(sorted(CORRUPTIONS)))
    change, message = CORRUPTIONS[kind]
    rec = spec["records"][k]
    fields = change(list(rec["fields"]))
    if kind == "missing_column" and spec["ncol"] == 3 and k == 0:
        message = r"expected at least 3 columns \(chrom, start, end\), got 2"
    elif kind == "missing_column":
        message = rf"expected {spec['ncol']} columns .*got {spec['ncol'] - 1}"
    sets_count = kind == "missing_column" and k == 0 and spec["fmt"] == "bed" and spec["ncol"] > 3
    spec["records"][k] = {"fields": fields, "row": rec["row"]}
    with tempfile.TemporaryDirectory() as folder:
        path, where = write_file(spec, folder)
        if sets_count and len(spec["records"]) == 1:
            # the first record sets a BED file's column count: one short record is fine
            assert len(read_regions(path)) == 1
            return
        with pytest.raises(InputError) as err:
            read_regions(path)
    text = str(err.value)
    line = int(re.match(rf"{re.escape(path)}, line (\d+): ", text).group(1))
    if sets_count:  # then the next record holds one column too many
        assert line == where[1], (text, where)
        assert f"expected {spec['ncol'] - 1} columns (as on line {where[0]})" in text
    else:
        assert line == where[k], (text, where[k])
        assert re.search(message, text), text


# -- tiling --------------------------------------------------------------------------------
def naive_tiles(regions: list[tuple[str, int, int]], binsize, stepsize, zero_padding, collapse):
    """The walk of tile()'s docstring: full windows while they fit, then the short tail
    when bases at the end are left uncovered and the next start is still inside."""
    if collapse:
        return [(c, s, e, i) for i, (c, s, e) in enumerate(regions)]
    if binsize is None:
        binsize = max((e - s for _, s, e in regions), default=None)
    if stepsize is None:
        stepsize = binsize
    out = []
    for i, (c, s, e) in enumerate(regions):
        pos, covered = s, s
        while pos + binsize <= e:
            out.append((c, pos, pos + binsize, i))
            covered = pos + binsize
            pos += stepsize
        if zero_padding and pos < e and covered < e:
            out.append((c, pos, e, i))
    return out


@st.composite
def tilings(draw) -> dict:
    regions = [
        (draw(st.sampled_from(["chr1", "chr2"])), s, s + draw(st.integers(1, 600)))
        for s in draw(st.lists(st.integers(0, 10**6), max_size=8))
    ]
    collapse = draw(st.booleans()) and draw(st.booleans())
    return dict(
        regions=regions,
        binsize=None if collapse else draw(st.one_of(st.none(), st.integers(1, 250))),
        stepsize=None if collapse else draw(st.one_of(st.none(), st.integers(1, 350))),
        flank=draw(st.integers(0, 150)),
        zero_padding=draw(st.booleans()),
        collapse=collapse,
    )


@given(t=tilings())
@settings(max_examples=300, **SETTINGS)
def test_tile_against_the_documented_walk(t):
    roi = pd.DataFrame(t["regions"], columns=["chrom", "start", "end"])
    roi["name"] = [f"r{i}" for i in range(len(roi))]
    roi["strand"] = ["+-."[i % 3] for i in range(len(roi))]
    got = ga.tile(
        roi,
        binsize=t["binsize"],
        stepsize=t["stepsize"],
        flank=t["flank"],
        zero_padding=t["zero_padding"],
        collapse=t["collapse"],
    )
    want = naive_tiles(t["regions"], t["binsize"], t["stepsize"], t["zero_padding"], t["collapse"])
    assert list(zip(got["chrom"], got["start"], got["end"], strict=True)) == [w[:3] for w in want]
    # each window keeps its region's name and strand, in region then position order
    assert got["name"].tolist() == [f"r{w[3]}" for w in want]
    assert got["strand"].tolist() == ["+-."[w[3] % 3] for w in want]
    binsize = t["binsize"]
    if binsize is None and not t["collapse"] and t["regions"]:
        binsize = max(e - s for _, s, e in t["regions"])
    stepsize = t["stepsize"] if t["stepsize"] is not None else binsize
    assert got.attrs["flank"] == t["flank"]
    assert got.attrs["zero_padding"] == t["zero_padding"]
    assert got.attrs["collapse"] == t["collapse"]
    assert got.attrs["binsize"] == (None if t["collapse"] else binsize)
    assert got.attrs["stepsize"] == (None if t["collapse"] else stepsize)
    if not t["collapse"] and len(got):
        widths = (got["end"] - got["start"]).to_numpy()
        assert (widths >= 1).all() and (widths <= binsize).all()
        if not t["zero_padding"]:
            assert (widths == binsize).all()


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        (dict(binsize=0), "binsize"),
        (dict(binsize=-3), "binsize"),
        (dict(stepsize=0), "stepsize"),
        (dict(binsize=10, stepsize=-1), "stepsize"),
        (dict(flank=-1), "flank"),
        (dict(binsize=2.5), "binsize"),
        (dict(collapse=True, binsize=10), "binsize"),
        (dict(collapse=True, stepsize=10), "stepsize"),
    ],
)
def test_tile_refuses_bad_parameters(bad, key):
    roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [100]})
    with pytest.raises(InputError) as err:
        ga.tile(roi, **bad)
    assert key in str(err.value)


# -- chromosome lookup ---------------------------------------------------------------------


@settings(max_examples=60, **SETTINGS)
@given(
    st.lists(st.sampled_from(CHROMS + ["chrM", "2"]), max_size=40),
    st.lists(st.sampled_from(CHROMS), unique=True, max_size=6),
    st.sampled_from(["object", "string", "category"]),
)
def test_chrom_codes_against_a_dict_lookup(chroms, names, dtype):
    """``chrom_codes`` (one factorize) equals a dict lookup per region, -1 where absent,
    whatever the column's dtype."""
    from genomarray.regions import chrom_codes

    index = {c: i for i, c in enumerate(names)}
    want = [index.get(c, -1) for c in chroms]
    got = chrom_codes(pd.Series(chroms, dtype=dtype), names)
    assert got.dtype == np.int64
    assert got.tolist() == want
