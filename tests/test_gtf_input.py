"""GTF attribute columns with unbalanced quotes are errors, not garbled names (issue 13 item 13)."""

from __future__ import annotations

import gzip

import pytest

import genomarray as ga
from genomarray.errors import InputError
from genomarray.io.regions import read_regions

GOOD = 'chr1\tsrc\texon\t11\t20\t.\t+\t.\tgene_id "g0"; transcript_id "t0";\n'


def write(path, text: str, gz: bool = False):
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_unbalanced_quote_names_the_line(tmp_path, gz):
    bad = 'chr1\tsrc\texon\t31\t40\t.\t+\t.\tgene_id "g1; transcript_id "t1";\n'
    path = write(tmp_path / ("genes.gtf.gz" if gz else "genes.gtf"), "#!header\n" + GOOD + bad, gz)
    with pytest.raises(InputError) as err:
        read_regions(path)
    message = str(err.value)
    assert message.startswith(f"{path}, line 3: an unbalanced double quote")
    assert "column 9" in message and 'key "value"; pairs' in message
    assert '\'gene_id "g1; transcript_id "t1";\'' in message  # the column, quoted


def test_value_running_into_the_next_pair(tmp_path):
    """Balanced quote count, but the name would swallow the next pair."""
    bad = 'chr1\tsrc\texon\t31\t40\t.\t+\t.\tgene_id "g1; transcript_id "t1"";\n'
    path = write(tmp_path / "genes.gtf", GOOD + bad)
    with pytest.raises(InputError, match=r"genes\.gtf, line 2: a quoted value that runs into"):
        read_regions(path)


def test_gtf_syntax_in_a_gff_file_is_checked(tmp_path):
    bad = 'chr1\tsrc\texon\t31\t40\t.\t+\t.\tgene_id "g1; transcript_id "t1";\n'
    path = write(tmp_path / "genes.gff", GOOD + bad)
    with pytest.raises(InputError, match=r"genes\.gff, line 2: an unbalanced double quote"):
        read_regions(path)


def test_legal_quotes_are_read(tmp_path):
    text = (
        GOOD
        + 'chr1\tsrc\texon\t31\t40\t.\t+\t.\tgene_id "g1"; gene_name "a;b"; exon_number 2;\n'
        + "chr1\tsrc\texon\t51\t60\t.\t+\t.\tgene_id g2; transcript_id t2\n"
    )
    roi = read_regions(write(tmp_path / "genes.gtf", text))
    assert roi["name"].tolist() == ["g0", "a;b", "g2"]
    assert roi["start"].tolist() == [10, 30, 50]


def test_gff3_quotes_are_not_gtf_syntax(tmp_path):
    """In GFF3 a double quote is an ordinary character (key=value attributes)."""
    text = 'chr1\tsrc\tgene\t1\t10\t.\t+\t.\tID=g1;Note=a 5" overhang\n'
    roi = read_regions(write(tmp_path / "genes.gff3", text))
    assert roi["name"].tolist() == ["g1"]


def test_read_gff_track_reports_the_line(tmp_path):
    bad = 'chr1\tsrc\texon\t31\t40\t.\t+\t.\tgene_id "g1; transcript_id "t1";\n'
    path = write(tmp_path / "genes.gtf", GOOD + bad)
    with pytest.raises(InputError, match=r"genes\.gtf, line 2: an unbalanced"):
        ga.read_gff(path, like={"chr1": 100}, storage="memory")
