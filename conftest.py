"""Root pytest configuration: every test and doctest writes under its own output root."""

import pytest


@pytest.fixture(autouse=True)
def isolated_output(tmp_path_factory, monkeypatch):
    """Caches, logs and outputs of a test go to a fresh temporary folder."""
    root = tmp_path_factory.mktemp("output")
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(root))
    return root
