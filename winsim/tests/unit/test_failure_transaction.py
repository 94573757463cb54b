"""A failed module run leaves the host as Windows would: nothing of a failed
run is saved unless the real module is not atomic (``partial_on_failure``).

On the old code the runner saved whatever the model had done before it
failed: a full disk during ``win_feature`` left IIS half installed."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from winsim_core_support import module_payload

from winsim import decoder as d
from winsim import state as st
from winsim.models import load_all
from winsim.models._base import MODELS, ModelSpec, ModuleContext
from winsim.runner import Runner
from winsim.store import HostStore, canonical_json

FEATURE = "ansible.windows.win_feature"
CREDENTIAL = "ansible.windows.win_credential"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("WINSIM_RUN_ID", "test-run")
    return Runner(HostStore.for_host("web1", state_dir=str(tmp_path)))


def _run(runner: Runner, fqcn: str, args: dict[str, t.Any]) -> tuple[int, dict[str, t.Any]]:
    rc, out, err = runner.handle(d.decode(*module_payload("2.21", fqcn, args)))
    assert err == b""
    return rc, json.loads(out)


def test_disk_full_during_win_feature_leaves_the_state_byte_identical(runner: Runner) -> None:
    runner.store.save_state(st.fresh_state("web1"))
    before = runner.store.read_state_bytes()
    runner.store.save_faults([{"kind": "disk_full", "target": "C:"}])
    rc, result = _run(runner, FEATURE, {"name": ["Web-Server"]})
    assert rc == 1
    assert "not enough space on the disk" in result["msg"]
    assert runner.store.read_state_bytes() == before
    runner.store.save_faults([])
    rc, result = _run(runner, FEATURE, {"name": ["Web-Server"]})
    assert rc == 0
    assert result["changed"]
    state = runner.store.load_state()
    assert state["features"]["Web-Server"]["install_state"] == "Installed"
    assert st.exists(state, "C:\\inetpub\\wwwroot")


def test_failed_run_returns_the_unchanged_state(run_module: t.Any, fresh_state: dict[str, t.Any]) -> None:
    result, state = run_module(FEATURE, {"name": ["Web-Server"]}, state=fresh_state,
                               faults=[{"kind": "disk_full", "target": "C:"}])
    assert result["failed"]
    assert canonical_json(state) == canonical_json(fresh_state)


def test_partial_model_keeps_its_edits(run_module: t.Any, fresh_state: dict[str, t.Any]) -> None:
    """``win_service`` is not atomic: ``Set-Service`` commits the start mode
    before ``Start-Service`` fails."""
    fresh_state["services"]["w32time"]["state"] = "stopped"
    result, state = run_module("ansible.windows.win_service",
                               {"name": "W32Time", "start_mode": "auto", "state": "started"}, state=fresh_state,
                               faults=[{"kind": "service_start", "target": "W32Time"}])
    assert result["failed"]
    assert state["services"]["w32time"]["start_mode"] == "auto"
    assert state["services"]["w32time"]["state"] == "stopped"


@pytest.fixture
def fake_model() -> t.Iterator[t.Callable[..., None]]:
    load_all()
    added: list[str] = []

    def register(fqcn: str, func: t.Callable[[ModuleContext], dict[str, t.Any]], partial: bool) -> None:
        assert fqcn not in MODELS
        MODELS[fqcn] = ModelSpec(fqcn=fqcn, func=func, upstream="test", partial_on_failure=partial)
        added.append(fqcn)

    yield register
    for fqcn in added:
        MODELS.pop(fqcn, None)


def _two_files(ctx: ModuleContext) -> dict[str, t.Any]:
    ctx.changed()
    st.write_file(ctx.state, "C:\\one.txt", b"1", st.iso(ctx.now()))
    ctx.commit_partial()
    st.write_file(ctx.state, "C:\\two.txt", b"2", st.iso(ctx.now()))
    ctx.fail("the second step failed")


@pytest.mark.parametrize(("partial", "kept"), [(False, []), (True, ["C:\\one.txt"])])
def test_commit_partial_checkpoint(run_module: t.Any, fake_model: t.Any, partial: bool, kept: list[str]) -> None:
    fake_model(CREDENTIAL, _two_files, partial)
    result, state = run_module(CREDENTIAL, {"name": "x", "type": "generic_password", "username": "u"})
    assert result["msg"] == "the second step failed"
    assert [p for p in ("C:\\one.txt", "C:\\two.txt") if st.exists(state, p)] == kept
