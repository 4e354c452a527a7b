"""The layer rules of DESIGN.md, checked on the import graph of the source.

The folders are the stages of the data flow; a module imports only from its own stage, the
stages before it and the ground floor (function-level imports count: a lazy import is still
a dependency). Core modules never import keras, tensorflow, torch or matplotlib at module
level, and no private name crosses a module boundary.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# stage of each top-level part of the package; lower stages never import higher ones
STAGES = {
    "genomarray._version": 0,
    "genomarray.errors": 0,
    "genomarray.paths": 0,
    "genomarray.atomic": 0,
    "genomarray.threads": 0,
    "genomarray.encode": 0,
    "genomarray.model": 0,
    "genomarray.data": 0,
    "genomarray.direct_reads": 0,
    "genomarray.io": 1,
    "genomarray.regions": 1,
    "genomarray.genome": 2,
    "genomarray.views": 3,
    "genomarray.transforms": 4,
    "genomarray.batches": 5,
    "genomarray.keras": 5,
    "genomarray.torch": 5,
    "genomarray.export": 6,
    "genomarray.compat": 7,
    "genomarray.accessors": 7,
    "genomarray.xarray_engines": 7,
    "genomarray": 9,  # the package's __init__ re-exports every stage
    "genomarray.cli": 9,  # the command line uses the whole package
    "genomarray.cli_spec": 9,
    "genomarray.__main__": 9,
}
FRAMEWORKS = ("keras", "tensorflow", "torch", "jax", "matplotlib")
ALLOWED_FRAMEWORKS = {  # module prefix -> frameworks it may import at module level
    "genomarray.keras": {"keras", "tensorflow", "jax", "torch"},
    "genomarray.torch": {"torch"},
    "genomarray.export.plot": {"matplotlib"},
}


def _modules():
    for path in sorted((ROOT / "genomarray").rglob("*.py")) + sorted(
        (ROOT / "accessors").rglob("*.py")
    ):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[0] == "accessors":
            parts = ["genomarray", *parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _stage(module):
    best = None
    for prefix, stage in STAGES.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, stage)
    if best is None:
        raise AssertionError(f"{module} is on no stage of the layout; add it to STAGES")
    return best[1]


MODULES = dict(_modules())


def _imports(path):
    """(imported module, line, at module level, names) of every import in ``path``."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in top, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [a.name for a in node.names]
            # `from genomarray import model` imports the module genomarray.model only
            submodules = [n for n in names if f"{node.module}.{n}" in MODULES]
            if len(submodules) < len(names):
                yield node.module, node.lineno, id(node) in top, names
            for name in submodules:
                yield f"{node.module}.{name}", node.lineno, id(node) in top, []


def _is_module(name):
    return name in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_import(module):
    stage = _stage(module)
    for target, line, _, _ in _imports(MODULES[module]):
        if not target.startswith("genomarray") or not _is_module(target):
            continue
        assert _stage(target) <= stage, (
            f"{MODULES[module].relative_to(ROOT)}:{line} imports {target} "
            f"(stage {_stage(target)}) from stage {stage}"
        )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_frameworks_only_where_allowed(module):
    allowed = set()
    for prefix, frameworks in ALLOWED_FRAMEWORKS.items():
        if module == prefix or module.startswith(prefix + "."):
            allowed |= frameworks
    for target, line, at_top, _ in _imports(MODULES[module]):
        root = target.split(".")[0]
        if at_top and root in FRAMEWORKS:
            assert root in allowed, (
                f"{MODULES[module].relative_to(ROOT)}:{line} imports {target} at module "
                "level; import it inside the function that needs it"
            )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_modules(module):
    for target, line, _, names in _imports(MODULES[module]):
        if not target.startswith("genomarray"):
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        private = [n for n in private if not _is_module(f"{target}.{n}")]  # _version
        assert not private, f"{MODULES[module].relative_to(ROOT)}:{line} imports {private}"
    tree = ast.parse(MODULES[module].read_text())
    aliases = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("genomarray")
        ):
            for a in node.names:
                if _is_module(f"{node.module}.{a.name}"):
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            raise AssertionError(
                f"{MODULES[module].relative_to(ROOT)}:{node.lineno} uses the private "
                f"{aliases[node.value.id]}.{node.attr}"
            )


HEAVY = (
    *FRAMEWORKS,
    "dask",
    "dask.array",
    "distributed",
    "zarr",
    "numcodecs",
    "sparse",
    "numba",
    "scipy",
    "pysam",
    "pyBigWig",
    "pybigtools",
    "tqdm",
)


def test_import_genomarray_loads_only_xarray_and_the_accessor():
    """``import genomarray`` loads xarray (and what xarray needs) and the accessor; every
    heavy dependency loads on first use (issue 15: a fast start)."""
    code = (
        "import sys, genomarray\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
        "import xarray as xr\n"
        "assert hasattr(xr.DataArray, 'janggu') and hasattr(xr.Dataset, 'janggu')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"import genomarray loaded {out.stdout.strip()}"


def test_first_use_loads_what_it_needs():
    code = (
        "import sys, genomarray as ga\n"
        "dna = ga.read_fasta(ga.example_path('genome.fa'), cache=False)\n"
        "assert 'dask.array' in sys.modules\n"
        "assert 'pysam' not in sys.modules  # names and lengths come from the checked .fai\n"
        "assert int(dna.isel(chrom=0, pos=slice(0, 10)).max()) <= 4\n"
        "assert 'pysam' not in sys.modules  # a local FASTA's bases: read at the .fai offsets\n"
        "assert 'matplotlib' not in sys.modules and 'keras' not in sys.modules\n"
        "print(type(ga.view(dna, ga.tile(ga.example_path('roi.bed'), binsize=100))).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "DataArray"
