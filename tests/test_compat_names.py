"""Every public name of Janggu 0.10.2 exists in genomarray.compat and takes Janggu's keywords.

The list (tests/janggu_names.py) was written from Janggu's sources (names and parameter
names only). ``janggu.data`` maps to ``genomarray.compat``, ``janggu`` to
``genomarray.compat.keras``; the submodules Janggu's examples import map to
``genomarray.compat.layers`` / ``.utils`` / ``.data``.
"""

import importlib
import inspect
import subprocess
import sys

import numpy as np
import pytest

from tests.janggu_names import ATTRIBUTES, EXAMPLE_IMPORTS, NAMES, VAR_KW, VERSION

MODULES = {
    "janggu": "genomarray.compat.keras",
    "janggu.data": "genomarray.compat",
    "janggu.layers": "genomarray.compat.layers",
    "janggu.utils": "genomarray.compat.utils",
    "janggu.data.data": "genomarray.compat.data",
}

ENTRIES = [(m, n, p) for m, names in NAMES.items() for n, p in names.items()]


def resolve(module, name):
    obj = importlib.import_module(MODULES[module])
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    ("module", "name", "params"), ENTRIES, ids=[f"{m}:{n}" for m, n, _ in ENTRIES]
)
def test_name_exists_and_takes_janggu_keywords(module, name, params):
    obj = resolve(module, name)
    if params is None:  # __version__
        assert obj == VERSION
        return
    assert callable(obj), f"{module}.{name} is not callable"
    sig = inspect.signature(obj)
    sig.bind_partial(**dict.fromkeys(params))  # every Janggu keyword is accepted
    if f"{module}:{name}" in VAR_KW:
        assert any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    if f"{module}:{name}*" in VAR_KW:
        assert any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())


@pytest.mark.parametrize(
    ("module", "name"),
    [(m, n) for m, names in EXAMPLE_IMPORTS.items() for n in names],
)
def test_example_imports(module, name):
    assert resolve(module, name) is resolve(
        "janggu" if module != "janggu.data.data" else "janggu.data", name
    )


def test_lookup_rejects_unknown_names():
    with pytest.raises(AttributeError):
        resolve("janggu.data", "NoSuchThing")


def test_import_is_light():
    code = (
        "import sys, genomarray.compat, genomarray.compat.keras, genomarray.compat.utils, "
        "genomarray.compat.layers, genomarray.compat.data\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'torch', 'jax', 'matplotlib')]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the attributes Janggu's examples read -----------------------------------------------------
@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    import genomarray as ga
    from genomarray import compat
    from genomarray.compat import keras as jk

    roi = ga.example_path("roi.bed")
    cover = compat.Cover.create_from_bigwig(
        "cov", ga.example_path("sample.bw"), roi=roi, binsize=200, resolution=50
    )
    dna = compat.Bioseq.create_from_refgenome(
        "dna", ga.example_path("genome.fa"), roi=roi, binsize=200
    )
    arr = compat.Array("y", np.zeros((230, 1)), conditions=["c"])
    import keras

    x = keras.Input((3,), name="x")
    return {
        "Cover": cover,
        "Bioseq": dna,
        "Array": arr,
        "ReduceDim": compat.ReduceDim(cover),
        "GenomicIndexer": cover.gindexer,
        "GenomicArray": cover.garray,
        "JangguSequence": compat.JangguSequence(arr, batch_size=7),
        "Track": compat.LineTrack(cover),
        "Janggu": jk.Janggu(x, keras.layers.Dense(1, name="y")(x), name="names_test"),
        "Scorer": jk.Scorer("auc"),
    }


ATTRS = [
    (m, c, a) for m, classes in ATTRIBUTES.items() for c, attrs in classes.items() for a in attrs
]


@pytest.mark.parametrize(("module", "cls", "attr"), ATTRS, ids=[f"{c}.{a}" for _, c, a in ATTRS])
def test_attributes(instances, module, cls, attr, monkeypatch, tmp_path):
    obj = instances[cls]
    assert isinstance(obj, resolve(module, cls))
    assert hasattr(obj, attr), f"{cls} has no {attr}"
