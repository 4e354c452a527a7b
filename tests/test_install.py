"""The accessor works from an installed (non-editable) wheel, and import stays light."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_accessor_from_installed_wheel(tmp_path):
    """Build the wheel, install it (not editable) into a folder of its own and use it from
    the running interpreter, whatever that is: a system Python, a virtualenv or a conda
    environment. The folder comes first on ``PYTHONPATH``, so the wheel's copy is imported
    while the dependencies come from the running environment (a nested ``venv
    --system-site-packages`` would see the base interpreter's packages, not a venv's)."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(wheels.glob("genomarray-*.whl"))
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-compile",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    script = textwrap.dedent("""
        import sys
        target, root = sys.argv[1], sys.argv[2]
        import genomarray as ga, genomarray.accessors as acc, xarray as xr
        for path in (ga.__file__, acc.__file__, ga.example_path("genome.fa")):
            assert path.startswith(target) and not path.startswith(root), path
        dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
        roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=100)
        x = dna.janggu.view(roi).janggu.onehot(order=3)
        assert x.dims == ("region", "pos", "base") and x.sizes["base"] == 64
        assert float(x.sum()) > 0
        ds = xr.Dataset({"dna": dna}).janggu.view(roi)
        import importlib, pkgutil
        installed = {m.name for m in pkgutil.walk_packages(ga.__path__, "genomarray.")}
        for sub in ("genomarray.io", "genomarray.transforms", "genomarray.keras",
                    "genomarray.data", "genomarray.accessors"):
            assert sub in installed, sub
        print("OK", acc.__file__)
    """)
    env = {**os.environ, "GENOMARRAY_OUTPUT": str(tmp_path / "out"), "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", script, str(target), str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK") and str(target) in out.stdout


def test_import_loads_no_keras_tensorflow_matplotlib():
    code = (
        "import sys, genomarray; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'matplotlib', 'torch', 'jax')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_demo_runs(tmp_path):
    env = {**os.environ, "GENOMARRAY_OUTPUT": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "genomarray", "demo", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "<xarray.DataArray 'onehot'" in out.stdout
    assert "(region: 230, pos: 399, base: 16)" in out.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "genomarray", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--order" in help_text and "one-hot" in help_text
