"""genomarray.keras lets torch's idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE) where
the keras backend is torch, before torch loads, and never overrides the user's choice."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from genomarray.threads import configured_keras_backend, prefer_passive_openmp

CODE = (
    "import os, sys, genomarray.keras; "
    "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules, 'keras' in sys.modules)"
)


def _run(env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "KERAS_BACKEND")}
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KERAS_BACKEND": "torch"}, "PASSIVE False False"),
        ({"KERAS_BACKEND": "torch", "OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE False False"),
        ({"KERAS_BACKEND": "jax"}, "None False False"),
        ({"KERAS_BACKEND": "tensorflow"}, "None False False"),
    ],
)
def test_policy_set_only_for_torch_and_only_by_default(env, expected):
    assert _run(env) == expected


def test_keras_json_backend(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "torch", "floatx": "float32"}')
    assert configured_keras_backend({"KERAS_HOME": str(tmp_path)}, loaded={}) == "torch"
    assert configured_keras_backend({"KERAS_HOME": str(tmp_path / "none")}, loaded={}) == (
        "tensorflow"
    )
    (tmp_path / "keras.json").write_text("not json")
    assert configured_keras_backend({"KERAS_HOME": str(tmp_path)}, loaded={}) == "tensorflow"


def test_too_late_once_torch_is_loaded():
    env: dict[str, str] = {}
    assert not prefer_passive_openmp(env, loaded={"torch": object()})
    assert env == {}
    assert prefer_passive_openmp(env, loaded={})
    assert env == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_reuse_freed_memory_respects_the_users_tunables():
    from genomarray import threads

    for key in threads.MALLOC_ENV:
        assert threads.reuse_freed_memory(environ={key: "1"}) is False
    first = threads.reuse_freed_memory(environ={})
    assert threads.reuse_freed_memory(environ={}) is first  # once per process
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first is True


def test_the_batch_engine_tunes_malloc_in_a_fresh_process():
    """A BatchEngine sets glibc's thresholds (batch-sized blocks reused, not page-faulted
    in anew); a MALLOC_*_ variable in the environment keeps them as they are."""
    code = (
        "import numpy as np; from genomarray import threads; "
        "from genomarray.batches import BatchEngine, Request; "
        "BatchEngine([Request('a', np.zeros((4, 3)))], batch_size=2); "
        "print(threads._malloc_tuned)"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env
    )
    expected = "True" if platform.libc_ver()[0] == "glibc" else "False"
    assert run.stdout.strip() == expected, run.stderr
    env["MALLOC_TRIM_THRESHOLD_"] = "131072"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env
    )
    assert run.stdout.strip() == "None", run.stderr
