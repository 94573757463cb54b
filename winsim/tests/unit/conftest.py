"""Shared fixtures for winsim unit tests.

``run_module`` runs a model exactly as the connection plugin does for a
playbook task (the same ``runner.execute_module``): the arguments are
validated against the upstream module's documented spec with its real
PowerShell source deciding Ansible.Basic vs Legacy behaviour, check-mode
support and ``no_log`` options; a module that does not support check mode is
skipped; a model that changes the state in check mode fails the test.

    def test_feature_installs(run_module):
        result, state = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]})
        assert result["changed"]
        result, state = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]}, state=state)
        assert not result["changed"]

``state`` defaults to a fresh host; the state passed in is never modified
(the returned state is a new document).  Faults are ``{"kind", "target",
...}`` dicts as in the ``<host>.faults.json`` sidecar.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

import pytest

from winsim import state as st
from winsim.runner import execute_module
from winsim.runtime import HostRuntime
from winsim.spec import load_module_source
from winsim.store import HostStore

# A fixed clock for reproducible results (certificate expiry, timestamps).
NOW = dt.datetime(2026, 3, 2, 14, 30, 15, tzinfo=dt.UTC)


class ModuleRunner(t.Protocol):
    def __call__(
        self,
        fqcn: str,
        args: dict[str, t.Any] | None = None,
        state: dict[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
        *,
        faults: list[dict[str, t.Any]] | None = None,
        hostname: str = "winsim",
        now: dt.datetime | None = NOW,
        environment: dict[str, str] | None = None,
    ) -> tuple[dict[str, t.Any], dict[str, t.Any]]: ...


def make_run_module(runtime: HostRuntime | None = None) -> ModuleRunner:
    """A ``run_module`` bound to ``runtime`` (temp files, async jobs)."""

    def run_module(
        fqcn: str,
        args: dict[str, t.Any] | None = None,
        state: dict[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
        *,
        faults: list[dict[str, t.Any]] | None = None,
        hostname: str = "winsim",
        now: dt.datetime | None = NOW,
        environment: dict[str, str] | None = None,
    ) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
        source, utils = load_module_source(fqcn)
        complex_args = dict(args or {})
        complex_args.update({
            "_ansible_check_mode": check_mode,
            "_ansible_diff": diff,
            "_ansible_no_log": False,
            "_ansible_module_name": fqcn,
            "_ansible_inject_invocation": False,
        })
        doc = state if state is not None else st.fresh_state(hostname)
        outcome = execute_module(
            fqcn=fqcn, args=complex_args, source=source, module_utils=utils, state=doc, module_name=fqcn,
            environment=environment, hostname=hostname, faults=faults, runtime=runtime, now=now)
        return outcome.result, outcome.state

    return run_module


@pytest.fixture
def host_store(tmp_path: Path) -> HostStore:
    """A store for host ``winsim`` in a temporary state directory."""
    return HostStore.for_host("winsim", state_dir=str(tmp_path / "state"))


@pytest.fixture
def host_runtime(host_store: HostStore) -> HostRuntime:
    return HostRuntime(host_store)


@pytest.fixture
def run_module(host_runtime: HostRuntime) -> ModuleRunner:
    """Run a model through real argument validation: see the module doc."""
    return make_run_module(host_runtime)


@pytest.fixture
def fresh_state() -> dict[str, t.Any]:
    return st.fresh_state("winsim")
