"""Shared fixtures: the example genome parsed naively (output isolation: ../conftest.py);
the keras backend of the run and its markers."""

import importlib.util
import os

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


# -- keras backends ---------------------------------------------------------------------------
# keras picks its backend once, when it is first imported, from KERAS_BACKEND (or
# ~/.keras/keras.json), so one pytest process tests one backend:
#   KERAS_BACKEND=jax python -m pytest -m backends tests/test_keras_*.py ...
# Tests marked `backends` form the fast subset run under every backend; tests marked
# `only_backends("tensorflow", reason=...)` are skipped, with the reason, under the others.
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backends: in the fast subset run once per keras backend "
        "(KERAS_BACKEND=tensorflow|jax|torch pytest -m backends ...)",
    )
    config.addinivalue_line(
        "markers",
        "only_backends(*names, reason): meaningful only on these keras backends; "
        "skipped with the reason under the others",
    )
    from genomarray.threads import configured_keras_backend, prefer_passive_openmp

    name = configured_keras_backend()
    if name == "torch":  # as genomarray.keras does, but before a test module imports keras
        prefer_passive_openmp()
    if name == "jax":
        # the tests' models are tiny: compiling them dominates, and without LLVM's
        # optimisations it takes about a third less time (the values are the same ops')
        os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
    wanted = os.environ.get("KERAS_BACKEND")
    module = BACKEND_MODULES.get(name)
    if wanted and module and importlib.util.find_spec(module) is None:
        # a missing framework would make keras' import fail and importorskip skip every
        # keras test: a run that asked for a backend must not pass by testing nothing
        raise pytest.UsageError(f"KERAS_BACKEND={wanted} but {module} is not installed")


def pytest_report_header(config):
    from genomarray.threads import configured_keras_backend

    return f"keras backend: {configured_keras_backend()}"


def pytest_collection_modifyitems(config, items):
    from genomarray.threads import configured_keras_backend

    name = configured_keras_backend()
    for item in items:
        marker = item.get_closest_marker("only_backends")
        if marker is None or name in marker.args:
            continue
        reason = marker.kwargs.get("reason", "")
        item.add_marker(
            pytest.mark.skip(
                reason=f"only on the {'/'.join(marker.args)} keras backend(s), "
                f"this run uses {name}: {reason}"
            )
        )


@pytest.fixture(scope="session")
def keras_backend() -> str:
    """Name of the keras backend of this run (``tensorflow``, ``jax`` or ``torch``)."""
    from genomarray.threads import configured_keras_backend

    return configured_keras_backend()
