"""Shared helpers of the playbook tests: run ansible-playbook from the repository root."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import typing as t

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def ansible_bin(name: str) -> str:
    """The tool of the toolchain running the tests (.venv or .venv-oldest), else the project's .venv."""
    for candidate in (pathlib.Path(sys.executable).parent / name, REPO / ".venv" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    return name


def run_playbook(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """ansible-playbook from the repository root (so ansible.cfg applies), output captured."""
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PY_COLORS="0",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.run([ansible_bin("ansible-playbook"), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture
def sim_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """A private copy of inventories/sim; its winsim state lands in <tmp>/.winsim/sim."""
    target = tmp_path / "inventories" / "sim"
    shutil.copytree(REPO / "inventories" / "sim", target)
    return target


@pytest.fixture
def lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> t.Any:
    """A private clone of the session's converged golden lab, per test (test
    modules that share one lab between their tests define their own ``lab``)."""
    from .lab import clone_golden  # lab.py imports this module

    return clone_golden(tmp_path_factory, request.node.name[:40])
