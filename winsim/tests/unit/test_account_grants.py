"""Model of the project-owned ``mcms.infra.win_account_grants``: exact user
rights and folder rules of several accounts in one call, check mode, diff,
``mcms_drift`` records, and the resolver's failure before any change."""

from __future__ import annotations

import copy
import typing as t
from pathlib import Path

import pytest
from identity_support import dc_with_gmsas, member

from winsim import state as st
from winsim.drift import apply_drift
from winsim.models import ad
from winsim.store import HostStore

GRANTS = "mcms.infra.win_account_grants"
WHEN = "2026-03-02T14:30:15Z"
APP = "CORP\\gmsa_app$"
WRK = "CORP\\gmsa_wrk$"
DENY = ["SeDenyInteractiveLogonRight", "SeDenyRemoteInteractiveLogonRight"]


@pytest.fixture
def dc(host_store: HostStore) -> dict[str, t.Any]:
    h = dc_with_gmsas(Path(host_store.state_path.parent))
    return h


def _sid(dc: dict[str, t.Any], sam: str) -> str:
    return t.cast(str, ad.find_object(dc, sam, "ADServiceAccount")["sid"])


def _args(**extra: t.Any) -> dict[str, t.Any]:
    args: dict[str, t.Any] = {"accounts": [
        {"name": APP, "rights": ["SeBatchLogonRight", *DENY],
         "folders": [{"path": "C:\\MCMS\\releases", "rights": "ReadAndExecute"},
                     {"path": "C:\\MCMS\\shared\\logs", "rights": "Modify"}]},
        {"name": WRK, "rights": ["SeServiceLogonRight", *DENY],
         "folders": [{"path": "C:\\MCMS\\releases", "rights": "ReadAndExecute"},
                     {"path": "C:\\MCMS\\shared\\data", "rights": "Modify"}]},
    ]}
    args.update(extra)
    return args


def _mine(state: dict[str, t.Any], path: str, sid: str) -> list[dict[str, t.Any]]:
    item = st.get_item(state, path)
    assert item is not None, path
    return [a for a in item.get("acl", []) if a.get("sid") == sid]


def test_one_call_grants_rights_creates_folders_and_sets_rules(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    result, state = run_module(GRANTS, _args(), state=member())
    assert result["changed"], result
    app, wrk = _sid(dc, "gmsa_app$"), _sid(dc, "gmsa_wrk$")
    assert app in state["user_rights"]["SeBatchLogonRight"]
    assert wrk in state["user_rights"]["SeServiceLogonRight"]
    assert app not in state["user_rights"]["SeServiceLogonRight"]
    assert sorted(result["folders_created"]) == ["C:\\MCMS\\releases", "C:\\MCMS\\shared\\data",
                                                 "C:\\MCMS\\shared\\logs"]
    [rule] = _mine(state, "C:\\MCMS\\shared\\logs", app)
    assert (rule["rights"], rule["inheritance"], rule["type"]) == ("Modify, Synchronize",
                                                                   "ContainerInherit, ObjectInherit", "allow")
    assert _mine(state, "C:\\MCMS\\shared\\data", app) == []
    assert _mine(state, "C:\\MCMS\\releases", wrk)[0]["rights"] == "ReadAndExecute, Synchronize"
    again, after = run_module(GRANTS, _args(), state=state)
    assert not again["changed"], again["mcms_drift"]
    assert again["mcms_drift"] == []
    assert after == state


def test_check_mode_reports_everything_and_writes_nothing(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    fresh = member()
    result, state = run_module(GRANTS, _args(), state=copy.deepcopy(fresh), check_mode=True, diff=True)
    assert result["changed"]
    assert state == fresh
    kinds = {(d["resource_type"], d["resource"], d["attribute"]) for d in result["mcms_drift"]}
    assert ("user_right", "SeBatchLogonRight", APP) in kinds
    assert ("folder", "C:\\MCMS\\shared\\logs", "exists") in kinds
    assert ("folder_acl", "C:\\MCMS\\shared\\logs", APP) in kinds
    assert result["diff"]["after"][APP]["folders"]["C:\\MCMS\\shared\\logs"] == "Modify, Synchronize"
    assert result["diff"]["before"][APP]["rights"] == []


def test_extra_right_and_widened_rule_are_reported_and_repaired(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    _, state = run_module(GRANTS, _args(), state=member())
    app = _sid(dc, "gmsa_app$")
    state["user_rights"]["SeInteractiveLogonRight"].append(app)
    # an operator widens the app folder (Modify instead of read+execute) and grants Modify on the root
    releases = st.get_item(state, "C:\\MCMS\\releases")
    releases["acl"] = [dict(a, rights="Modify, Synchronize") if a.get("sid") == app else a for a in releases["acl"]]
    root = st.get_item(state, "C:\\MCMS")
    root.setdefault("acl", []).append({"identity": APP, "sid": app, "rights": "Modify, Synchronize", "type": "allow",
                                       "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None",
                                       "inherited": False})
    drifted = copy.deepcopy(state)
    check, untouched = run_module(GRANTS, _args(), state=copy.deepcopy(drifted), check_mode=True)
    assert untouched == drifted
    assert sorted((d["resource_type"], d["resource"], d["wanted"], d["found"]) for d in check["mcms_drift"]) == [
        ("folder_acl", "C:\\MCMS", None, "Allow:Modify, Synchronize"),
        ("folder_acl", "C:\\MCMS\\releases", "ReadAndExecute, Synchronize", "Allow:Modify, Synchronize"),
        ("user_right", "SeInteractiveLogonRight", "absent", "granted"),
    ]
    fixed, state = run_module(GRANTS, _args(), state=drifted)
    assert fixed["changed"]
    assert app not in state["user_rights"]["SeInteractiveLogonRight"]
    assert _mine(state, "C:\\MCMS", app) == []
    assert [a["rights"] for a in _mine(state, "C:\\MCMS\\releases", app)] == ["ReadAndExecute, Synchronize"]


def test_other_principals_keep_their_rights_and_rules(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    state = member()
    st.make_dirs(state, "C:\\MCMS\\releases", WHEN)
    st.get_item(state, "C:\\MCMS\\releases")["acl"] = [
        {"identity": "BUILTIN\\Administrators", "sid": "S-1-5-32-544", "rights": "FullControl", "type": "allow",
         "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None", "inherited": False}]
    holders = list(state["user_rights"]["SeServiceLogonRight"])
    _, state = run_module(GRANTS, _args(), state=state)
    assert set(holders) <= set(state["user_rights"]["SeServiceLogonRight"])
    assert any(a["sid"] == "S-1-5-32-544" for a in st.get_item(state, "C:\\MCMS\\releases")["acl"])


def test_misspelt_account_fails_with_windows_text_before_any_change(run_module: t.Any,
                                                                    dc: dict[str, t.Any]) -> None:
    args = _args()
    args["accounts"].append({"name": "CORP\\gmsa_wkr$", "rights": ["SeServiceLogonRight"]})
    fresh = member()
    result, state = run_module(GRANTS, args, state=copy.deepcopy(fresh))
    assert result["failed"]
    assert result["msg"] == ("Failed to translate the account 'CORP\\gmsa_wkr$' to a SID: Exception calling "
                             "\"Translate\" with \"1\" argument(s): \"Some or all identity references could not be "
                             "translated.\"")
    assert state == fresh


def test_unknown_right_fails_before_any_change(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    args = _args()
    args["accounts"][1]["rights"] = ["SeServiceLogonRigth"]
    result, _ = run_module(GRANTS, args, state=member())
    assert result["failed"]
    assert result["msg"] == "the specified right SeServiceLogonRigth is not a valid right"


def test_removed_account_loses_its_rights_and_rules(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    _, state = run_module(GRANTS, _args(), state=member())
    wrk = _sid(dc, "gmsa_wrk$")
    keep_app = _args()
    keep_app["accounts"] = keep_app["accounts"][:1]
    kept, state = run_module(GRANTS, keep_app, state=state)
    assert not kept["changed"], "an account not named is not managed"
    pruned, state = run_module(GRANTS, dict(keep_app, remove=[WRK]), state=state)
    assert pruned["rights_removed"][WRK] == sorted(["SeServiceLogonRight", *DENY])
    assert not [r for r, holders in state["user_rights"].items() if wrk in holders]
    assert _mine(state, "C:\\MCMS\\releases", wrk) == []
    # a removed account that no longer exists is skipped with a warning
    gone, _ = run_module(GRANTS, dict(keep_app, remove=["CORP\\gmsa_gone$"]), state=state)
    assert not gone.get("failed")
    assert not gone["changed"]
    assert any("gmsa_gone$" in w for w in gone.get("warnings", []))


def test_parent_widened_inside_root_is_one_record_and_removed_there(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    # `winsim drift HOST grant-folder-access C:\MCMS <account> Modify`: win_acl on the application root
    args = _args(root="C:\\MCMS")
    _, state = run_module(GRANTS, args, state=member())
    app = _sid(dc, "gmsa_app$")
    assert "Modify" in apply_drift(state, "grant-folder-access", path="C:\\MCMS", account=app, rights="Modify")
    inherited = [a for a in st.effective_acl(state, "C:\\MCMS\\releases") if a.get("sid") == app and a["inherited"]]
    assert [a["rights"] for a in inherited] == ["Modify, Synchronize"], "Get-Acl on the child shows it inherited"
    drifted = copy.deepcopy(state)
    check, untouched = run_module(GRANTS, args, state=copy.deepcopy(drifted), check_mode=True)
    assert untouched == drifted
    assert check["mcms_drift"] == [{"resource_type": "folder_acl", "resource": "C:\\MCMS", "attribute": APP,
                                    "wanted": None, "found": "Allow:Modify, Synchronize"}]
    fixed, state = run_module(GRANTS, args, state=drifted)
    assert fixed["acl_changed"] == {"C:\\MCMS": [APP]}
    assert _mine(state, "C:\\MCMS", app) == []
    again, _ = run_module(GRANTS, args, state=state)
    assert not again["changed"], again["mcms_drift"]


def test_parent_widened_above_root_is_reported_and_fails_naming_it(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    args = _args(root="C:\\MCMS")
    _, state = run_module(GRANTS, args, state=member())
    app = _sid(dc, "gmsa_app$")
    apply_drift(state, "grant-folder-access", path="C:\\", account=app, rights="Modify")
    state["user_rights"]["SeInteractiveLogonRight"].append(app)   # a change the failure must not make
    drifted = copy.deepcopy(state)
    check, untouched = run_module(GRANTS, args, state=copy.deepcopy(drifted), check_mode=True)
    assert untouched == drifted
    outside = [d for d in check["mcms_drift"] if d["resource_type"] == "folder_acl"]
    assert outside == [{"resource_type": "folder_acl", "resource": "C:", "attribute": APP, "wanted": None,
                        "found": "Allow:Modify, Synchronize"}]
    assert any("above the managed tree C:\\MCMS" in w for w in check.get("warnings", []))
    failed, after = run_module(GRANTS, args, state=copy.deepcopy(drifted))
    assert failed["failed"]
    assert failed["msg"] == (
        "folder access wider than declared, set above the managed tree C:\\MCMS (remove it there): C: gives "
        f"{APP} Allow:Modify, Synchronize, inherited by C:\\MCMS\\releases, C:\\MCMS\\shared\\logs")
    assert after == drifted, "nothing changed, the user right included"
    # without root (every parent managed) the rule on C:\ is removed like before
    fixed, state = run_module(GRANTS, _args(), state=copy.deepcopy(drifted))
    assert "C:" in fixed["acl_changed"]


def test_narrower_rule_or_non_inheritable_rule_above_root_is_not_widening(run_module: t.Any,
                                                                         dc: dict[str, t.Any]) -> None:
    args = _args(root="C:\\MCMS")
    _, state = run_module(GRANTS, args, state=member())
    app = _sid(dc, "gmsa_app$")
    # "this folder only" (no inheritance) on C:\: Get-Acl on the children shows nothing inherited
    st.get_item(state, "C:\\").setdefault("acl", []).append(
        {"identity": APP, "sid": app, "rights": "Modify, Synchronize", "type": "allow", "inheritance": "None",
         "propagation": "None", "inherited": False})
    check, _ = run_module(GRANTS, args, state=state, check_mode=True)
    assert check["mcms_drift"] == []
