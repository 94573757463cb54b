"""Model of the project-owned ``mcms.infra.win_folder_acl``: exactly the declared
allow rules on one folder, inheritance off, in one call; check mode, diff,
``mcms_drift``; names translated before any change."""

from __future__ import annotations

import copy
import typing as t

import pytest

from winsim import state as st
from winsim.models import sql

ACL = "mcms.infra.win_folder_acl"
FOLDER = "D:\\SQLBackup"
ARGS = {"path": FOLDER, "rules": [{"identity": "NT Service\\MSSQLSERVER", "rights": "Modify"},
                                  {"identity": "BUILTIN\\Administrators", "rights": "ReadAndExecute"}]}


@pytest.fixture
def host(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    sql.ensure_instance(fresh_state, sa_password="Str0ng!Passw0rd")
    st.make_dirs(fresh_state, FOLDER, "2026-03-02T14:30:15Z")
    return fresh_state


def _records(result: dict[str, t.Any]) -> list[tuple[t.Any, ...]]:
    return sorted((d["attribute"], d["wanted"], d["found"]) for d in result["mcms_drift"])


def test_exact_rules_and_no_inheritance_in_one_call_then_nothing_to_do(run_module: t.Any,
                                                                        host: dict[str, t.Any]) -> None:
    before = copy.deepcopy(host)
    check, untouched = run_module(ACL, ARGS, state=host, check_mode=True, diff=True)
    assert check["changed"]
    assert ("inheritance", "disabled", "enabled") in _records(check)
    assert ("rule NT Service\\MSSQLSERVER", "Modify, Synchronize", "absent") in _records(check)
    assert untouched == before
    _, state = run_module(ACL, ARGS, state=host)
    folder = st.get_item(state, FOLDER)
    assert folder["inherit"] is False
    assert sorted((a["identity"].upper(), a["rights"], a["inheritance"]) for a in folder["acl"]) == [
        ("BUILTIN\\ADMINISTRATORS", "ReadAndExecute, Synchronize", "ContainerInherit, ObjectInherit"),
        ("NT SERVICE\\MSSQLSERVER", "Modify, Synchronize", "ContainerInherit, ObjectInherit")]
    again, after = run_module(ACL, ARGS, state=state)
    assert not again["changed"]
    assert again["mcms_drift"] == []
    assert after == state


def test_a_widened_rule_and_an_extra_account_are_reported_then_removed(run_module: t.Any,
                                                                        host: dict[str, t.Any]) -> None:
    _, state = run_module(ACL, ARGS, state=host)
    folder = st.get_item(state, FOLDER)
    folder["acl"][1] = dict(folder["acl"][1], rights="FullControl")
    folder["acl"].append({"identity": "Everyone", "sid": "S-1-1-0", "rights": "ReadAndExecute, Synchronize",
                          "type": "allow", "inheritance": "None", "propagation": "None", "inherited": False})
    check, _ = run_module(ACL, ARGS, state=state, check_mode=True)
    assert _records(check) == [("rule BUILTIN\\Administrators", "ReadAndExecute, Synchronize", "FullControl (Allow)"),
                               ("rule Everyone", "absent", "ReadAndExecute, Synchronize (Allow)")]
    _, fixed = run_module(ACL, ARGS, state=state)
    assert len(st.get_item(fixed, FOLDER)["acl"]) == 2
    assert not run_module(ACL, ARGS, state=fixed)[0]["changed"]


def test_an_unknown_account_fails_before_any_change(run_module: t.Any, host: dict[str, t.Any]) -> None:
    args = {"path": FOLDER, "rules": [*ARGS["rules"], {"identity": "CORP\\nobody", "rights": "Read"}]}
    result, state = run_module(ACL, args, state=host)
    assert result.get("failed"), result
    assert "CORP\\nobody" in result["msg"]
    assert st.get_item(state, FOLDER)["inherit"] is not False


def test_a_missing_folder_fails(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, _ = run_module(ACL, {**ARGS, "path": "D:\\Nowhere"}, state=host)
    assert result.get("failed"), result
    assert "is not an existing folder" in result["msg"]
