"""Shared fixtures: the example genome parsed naively (output isolation: ../conftest.py)."""

import pytest
from servers import http_server, s3_server  # noqa: F401  (fixtures: servers on 127.0.0.1)

from genomarray.data import example_path


def parse_fasta(path: str) -> dict[str, str]:
    """Independent FASTA parser (plain Python), upper-cased."""
    seqs: dict[str, list[str]] = {}
    name = None
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            elif line:
                seqs[name].append(line.upper())
    return {k: "".join(v) for k, v in seqs.items()}


@pytest.fixture(scope="session")
def genome_seqs() -> dict[str, str]:
    return parse_fasta(example_path("genome.fa"))
