"""win_service / win_service_info models (ansible.windows 3.8.0)."""

from __future__ import annotations

import pytest

from winsim import masking
from winsim import state as st

SERVICE = "ansible.windows.win_service"
INFO = "ansible.windows.win_service_info"


@pytest.mark.parametrize(("name", "mode", "state"), [
    ("WinRM", "auto", "started"), ("W32Time", "manual", "started"), ("EventLog", "auto", "started"),
    ("LanmanServer", "auto", "started"), ("MpsSvc", "auto", "started"), ("Dnscache", "auto", "started"),
    ("RemoteRegistry", "disabled", "stopped"),
])
def test_fresh_host_services(fresh_state, name, mode, state):
    svc = fresh_state["services"][name.lower()]
    assert svc["start_mode"] == mode
    assert svc["state"] == state


@pytest.mark.parametrize(("args", "field", "value"), [
    ({"state": "stopped"}, "state", "stopped"),
    ({"start_mode": "delayed"}, "start_mode", "delayed"),
    ({"display_name": "Time"}, "display_name", "Time"),
    ({"description": "changed"}, "description", "changed"),
    ({"dependencies": ["RpcSs"], "dependency_action": "add"}, "dependencies", ["RpcSs"]),
    ({"failure_actions": [{"type": "restart", "delay_ms": 1000}]}, "failure_actions",
     [{"type": "restart", "delay_ms": 1000}]),
])
def test_check_apply_idempotent(run_module, fresh_state, args, field, value):
    args = {"name": "W32Time", **args}
    result, untouched = run_module(SERVICE, args, state=fresh_state, check_mode=True, diff=True)
    assert result["changed"]
    assert untouched == fresh_state
    assert result["diff"]["after"][field] == value
    result, state = run_module(SERVICE, args, state=fresh_state)
    assert result["changed"]
    assert state["services"]["w32time"][field] == value
    again, _ = run_module(SERVICE, args, state=state)
    assert not again["changed"]


def test_result_keys(run_module):
    result, _ = run_module(SERVICE, {"name": "WinRM"})
    assert not result["changed"]
    assert result["exists"]
    assert result["state"] == "running"
    assert result["username"] == "NT AUTHORITY\\NetworkService"
    assert result["start_mode"] == "auto"
    assert result["can_pause_and_continue"] is False
    assert result["depended_by"] == []
    result, _ = run_module(SERVICE, {"name": "Schedule"})
    assert result["username"] == "LocalSystem"


def test_found_by_display_name(run_module):
    result, _ = run_module(SERVICE, {"name": "Windows Time"})
    assert result["name"] == "W32Time"


def test_missing_service_needs_path(run_module):
    result, _ = run_module(SERVICE, {"name": "MCMS", "state": "started"})
    assert result["failed"]
    assert result["msg"] == "Service 'MCMS' is not installed, need to set 'path' to create a new service"
    result, _ = run_module(SERVICE, {"name": "MCMS"})
    assert not result["exists"]


def _ready_for_worker(run_module, state):
    """What a real host needs before a service of .\\Administrator at D:\\mcms\\Worker.exe can start:
    the executable, the account's password and the SeServiceLogonRight (identity.logon_failure)."""
    st.make_dirs(state, "D:\\mcms", "2026-03-02T14:30:15Z")
    st.write_file(state, "D:\\mcms\\Worker.exe", b"MZ", "2026-03-02T14:30:15Z")
    result, state = run_module("ansible.windows.win_user", {"name": "Administrator", "password": "S3cret!pass"},
                               state=state)
    assert result["changed"]
    result, state = run_module("ansible.windows.win_user_right", {
        "name": "SeServiceLogonRight", "users": [".\\Administrator"], "action": "add"}, state=state)
    assert result["changed"]
    return state


def test_create_with_account_and_password(run_module, fresh_state):
    args = {"name": "MCMS", "path": "D:\\mcms\\Worker.exe", "username": ".\\Administrator",
            "password": "S3cret!pass", "start_mode": "auto", "state": "started"}
    fresh_state = _ready_for_worker(run_module, fresh_state)
    result, untouched = run_module(SERVICE, args, state=fresh_state, check_mode=True)
    assert result["changed"]
    assert untouched == fresh_state
    result, state = run_module(SERVICE, args, state=fresh_state, diff=True)
    assert result["changed"]
    svc = state["services"]["mcms"]
    assert svc["username"] == "WINSIM\\Administrator"
    assert svc["state"] == "started"
    assert "S3cret!pass" not in str(state)
    assert masking.secret_matches("S3cret!pass", svc["password_digest"])
    again, _ = run_module(SERVICE, args, state=state)
    assert not again["changed"]
    always, _ = run_module(SERVICE, {**args, "update_password": "always"}, state=state, diff=True)
    assert always["changed"]
    assert always["diff"]["after"]["password"] == "CHANGED REDACTED"


def test_unknown_account_fails(run_module):
    result, _ = run_module(SERVICE, {"name": "W32Time", "username": "WINSIM\\nobody"})
    assert result["failed"]
    assert "Some or all identity references could not be translated." in result["msg"]


def test_start_fault_gives_the_real_error(run_module, fresh_state):
    fresh_state["services"]["w32time"]["state"] = "stopped"
    result, _ = run_module(SERVICE, {"name": "W32Time", "state": "started"}, state=fresh_state,
                           faults=[{"kind": "service_start", "target": "W32Time"}])
    assert result["failed"]
    assert result["msg"] == ("Unhandled exception while executing module: Service 'Windows Time (W32Time)' cannot "
                             "be started due to the following error: Cannot start service W32Time on computer '.'.")


def test_restart_always_changes(run_module):
    for _ in range(2):
        result, _ = run_module(SERVICE, {"name": "W32Time", "state": "restarted"})
        assert result["changed"]


@pytest.mark.parametrize(("force", "failed"), [(False, True), (True, False)])
def test_stopping_with_dependents(run_module, force, failed):
    result, state = run_module(SERVICE, {"name": "nsi", "state": "stopped", "force_dependent_services": force})
    assert bool(result.get("failed")) is failed
    if failed:
        assert "because it has dependent services" in result["msg"]
    else:
        assert state["services"]["dnscache"]["state"] == "stopped"


def test_pause_needs_support(run_module):
    result, _ = run_module(SERVICE, {"name": "W32Time", "state": "paused"})
    assert result["msg"] == "failed to pause service W32Time: The service does not support pausing"
    result, state = run_module(SERVICE, {"name": "LanmanServer", "state": "paused"})
    assert result["changed"]
    assert state["services"]["lanmanserver"]["state"] == "paused"


def test_disabled_service_does_not_start(run_module):
    result, _ = run_module(SERVICE, {"name": "RemoteRegistry", "state": "started"})
    assert result["failed"]
    assert "cannot be started" in result["msg"]


def test_absent_removes(run_module, fresh_state):
    result, untouched = run_module(SERVICE, {"name": "W32Time", "state": "absent"}, state=fresh_state,
                                   check_mode=True)
    assert result["changed"]
    assert untouched == fresh_state
    result, state = run_module(SERVICE, {"name": "W32Time", "state": "absent"}, state=fresh_state)
    assert "w32time" not in state["services"]
    again, _ = run_module(SERVICE, {"name": "W32Time", "state": "absent"}, state=state)
    assert not again["changed"]


def test_service_info(run_module):
    result, _ = run_module(INFO, {"name": "WinRM"})
    assert result["exists"]
    (info,) = result["services"]
    assert info["state"] == "started"
    assert info["username"] == "NT AUTHORITY\\NetworkService"
    assert info["dependencies"] == ["RPCSS", "HTTP"]
    assert {"checkpoint", "controls_accepted", "dependency_of", "triggers", "win32_exit_code"} <= set(info)
    result, _ = run_module(INFO, {})
    assert len(result["services"]) > 40
    result, _ = run_module(INFO, {"name": "nope"})
    assert result == {"changed": False, "exists": False, "services": []}
