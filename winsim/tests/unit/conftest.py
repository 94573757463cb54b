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

import copy
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


class InPlaceRun:
    """What :func:`run_in_place` returns: the result (``failed``/``msg`` on
    failure, as the runner shapes it) and whether the state was untouched."""

    def __init__(self, result: dict[str, t.Any], untouched: bool) -> None:
        self.result = result
        self.untouched = untouched

    def __getitem__(self, key: str) -> t.Any:
        return self.result[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        return self.result.get(key, default)

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))


def run_in_place(fqcn: str, host: dict[str, t.Any], /, *, check: bool = False, diff: bool = False,
                 now: dt.datetime | None = NOW, faults: t.Any = None, runtime: HostRuntime | None = None,
                 **params: t.Any) -> InPlaceRun:
    """The ``run_module`` path (real argument validation, the runner's
    failure transaction) for the tests written against an in-place API:
    ``host`` becomes the state the run leaves.  The one model runner of the
    tests (``winsim_files_support.run`` and ``iis_ad_support.run`` are this)."""
    fault_list = list(faults) if faults is not None else None
    before = copy.deepcopy(host)
    result, after = make_run_module(runtime)(fqcn, params, host, check, diff, faults=fault_list,
                                             hostname=host["host"]["hostname"], now=now)
    if after is not host:
        _sync(host, after)
    return InPlaceRun(result, untouched=(host == before))


def _sync(dst: dict[str, t.Any], src: dict[str, t.Any]) -> None:
    """Make ``dst`` equal to ``src`` in place, keeping the nested dicts a
    test may hold a reference to (``site = host["iis"]["sites"][...]``)."""
    for key in [k for k in dst if k not in src]:
        del dst[key]
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _sync(dst[key], value)
        else:
            dst[key] = value
