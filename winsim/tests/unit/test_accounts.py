"""win_user, win_group, win_group_membership and win_user_right models."""

from __future__ import annotations

import pytest
from identity_support import ad_run, make_dc, member, save

from winsim import masking
from winsim.models import accounts

USER = "ansible.windows.win_user"
GROUP = "ansible.windows.win_group"
MEMBERSHIP = "ansible.windows.win_group_membership"
RIGHT = "ansible.windows.win_user_right"
PASSWORD = "Str0ng!Passw0rd"


@pytest.mark.parametrize(("name", "disabled"), [("Administrator", False), ("Guest", True),
                                                ("DefaultAccount", True), ("WDAGUtilityAccount", True)])
def test_fresh_users(fresh_state, name, disabled):
    assert fresh_state["users"][name.lower()]["account_disabled"] is disabled


@pytest.mark.parametrize(("right", "holder"), [("SeServiceLogonRight", "S-1-5-80-0"),
                                               ("SeBatchLogonRight", "S-1-5-32-544"),
                                               ("SeInteractiveLogonRight", "S-1-5-32-545")])
def test_fresh_rights(fresh_state, right, holder):
    assert holder in fresh_state["user_rights"][right]


def test_user_check_apply_idempotent(run_module, fresh_state):
    args = {"name": "svc_mcms", "password": PASSWORD, "groups": ["IIS_IUSRS"], "password_never_expires": True}
    result, untouched = run_module(USER, args, state=fresh_state, check_mode=True, diff=True)
    assert result["changed"]
    assert untouched == fresh_state
    assert result["diff"]["after"]["password"] == "REDACTED"
    result, state = run_module(USER, args, state=fresh_state)
    assert result["changed"]
    assert result["sid"].startswith(accounts.MACHINE_SID)
    assert result["groups"] == [{"name": "IIS_IUSRS", "path": "WinNT://WORKGROUP/WINSIM/IIS_IUSRS"}]
    assert PASSWORD not in str(state)
    assert masking.secret_matches(PASSWORD, state["users"]["svc_mcms"]["password_digest"])
    again, _ = run_module(USER, args, state=state)
    assert not again["changed"]


@pytest.mark.parametrize(("update_password", "changed"), [("always", True), ("on_create", False)])
def test_changed_password_is_detected(run_module, update_password, changed):
    _, state = run_module(USER, {"name": "svc_mcms", "password": PASSWORD})
    result, after = run_module(USER, {"name": "svc_mcms", "password": "0ther!Passw0rd",
                                      "update_password": update_password}, state=state, diff=True)
    assert result["changed"] is changed
    if changed:
        assert result["diff"]["after"]["password"] == "CHANGED REDACTED"
        assert masking.secret_matches("0ther!Passw0rd", after["users"]["svc_mcms"]["password_digest"])


def test_weak_password_fails(run_module):
    result, _ = run_module(USER, {"name": "svc_mcms", "password": "short"})
    assert result["failed"]
    assert "does not meet the password policy requirements" in result["msg"]


@pytest.mark.parametrize(("args", "msg"), [
    ({"name": "x", "account_locked": True}, "account_locked must be set to 'no' if provided"),
    ({"name": "x", "groups": ["NoSuchGroup"]}, "group 'NoSuchGroup' not found"),
    ({"name": "x", "account_expires": "tomorrow"},
     "Failed to parse account_expires as datetime string. Expecting datetime in yyyy-MM-dd or "
     "yyyy-MM-ddTHH:mm:ss.FFFFFFFK format."),
])
def test_user_failures(run_module, args, msg):
    result, _ = run_module(USER, args)
    assert result["failed"]
    assert result["msg"] == msg


def test_user_absent_and_query(run_module):
    _, state = run_module(USER, {"name": "svc_mcms", "password": PASSWORD, "groups": ["Users"]})
    result, _ = run_module(USER, {"name": "svc_mcms", "state": "query"}, state=state)
    assert result["state"] == "present"
    assert not result["changed"]
    result, gone = run_module(USER, {"name": "svc_mcms", "state": "absent"}, state=state)
    assert result["msg"] == "User 'svc_mcms' deleted successfully"
    sid = state["users"]["svc_mcms"]["sid"]
    assert sid not in gone["groups"]["users"]["members"]
    result, _ = run_module(USER, {"name": "svc_mcms", "state": "absent"}, state=gone)
    assert not result["changed"]
    assert result["msg"] == "User 'svc_mcms' was not found"


def test_group_check_apply_idempotent(run_module, fresh_state):
    args = {"name": "MCMS Operators", "description": "MCMS ops", "members": {"add": ["Administrator"]}}
    result, untouched = run_module(GROUP, args, state=fresh_state, check_mode=True)
    assert result["changed"]
    assert result["sid"] == "S-1-5-0000"
    assert untouched == fresh_state
    result, state = run_module(GROUP, args, state=fresh_state, diff=True)
    assert result["changed"]
    assert result["diff"]["after"]["members"] == ["WINSIM\\Administrator"]
    again, _ = run_module(GROUP, args, state=state)
    assert not again["changed"]
    result, _ = run_module(GROUP, {"name": "MCMS Operators", "members": {"set": []}}, state=state)
    assert result["changed"]


def test_group_unknown_member_fails(run_module):
    result, _ = run_module(GROUP, {"name": "Users", "members": {"add": ["nobody"]}})
    assert result["failed"]
    assert result["msg"].startswith("Unhandled exception while executing module: Failed to translate 'nobody'")


@pytest.mark.parametrize(("state_arg", "members", "added", "removed"), [
    ("present", ["Guest"], ["WINSIM\\Guest"], None),
    ("absent", ["Administrator"], None, ["WINSIM\\Administrator"]),
    ("pure", ["Guest"], ["WINSIM\\Guest"], ["WINSIM\\Administrator"]),
])
def test_group_membership(run_module, fresh_state, state_arg, members, added, removed):
    args = {"name": "Administrators", "members": members, "state": state_arg}
    result, untouched = run_module(MEMBERSHIP, args, state=fresh_state, check_mode=True)
    assert result["changed"]
    assert untouched == fresh_state
    result, state = run_module(MEMBERSHIP, args, state=fresh_state)
    assert result.get("added") == added
    assert result.get("removed") == removed
    again, _ = run_module(MEMBERSHIP, args, state=state)
    assert not again["changed"]


def test_group_membership_missing_group(run_module):
    result, _ = run_module(MEMBERSHIP, {"name": "Nope", "members": ["Guest"]})
    assert result["msg"] == "Could not find local group Nope"


def test_user_right_with_virtual_and_domain_accounts(run_module, host_store):
    # The domain account resolves through the lab's DC (identity.py), no longer from its name alone.
    dc = make_dc(domain="mcms.lab", netbios="MCMS")
    ad_run(dc, "microsoft.ad.user", name="svc_mcms_otel", password="0tel!Pass")
    save(host_store.state_path.parent, "dc01", dc)
    fresh_state = member(domain="mcms.lab", netbios="MCMS")
    args = {"name": "SeServiceLogonRight", "users": ["MCMS\\svc_mcms_otel", "NT SERVICE\\W32Time"], "action": "add"}
    result, untouched = run_module(RIGHT, args, state=fresh_state, check_mode=True, diff=True)
    assert result["changed"]
    assert untouched == fresh_state
    assert result["added"] == ["MCMS\\svc_mcms_otel", "NT SERVICE\\W32Time"]
    result, state = run_module(RIGHT, args, state=fresh_state, diff=True)
    assert result["diff"]["after"]["SeServiceLogonRight"] == ["NT SERVICE\\ALL SERVICES", "MCMS\\svc_mcms_otel",
                                                              "NT SERVICE\\W32Time"]
    again, _ = run_module(RIGHT, args, state=state)
    assert not again["changed"]
    result, _ = run_module(RIGHT, {"name": "SeServiceLogonRight", "users": ["NT SERVICE\\W32Time"]}, state=state)
    assert result["removed"] == ["NT SERVICE\\ALL SERVICES", "MCMS\\svc_mcms_otel"]


@pytest.mark.parametrize(("args", "msg"), [
    ({"name": "SeNope", "users": ["Administrators"]}, "the specified right SeNope is not a valid right"),
    ({"name": "SeBatchLogonRight", "users": ["nobody"]}, "Failed to translate the account 'nobody' to a SID"),
])
def test_user_right_failures(run_module, args, msg):
    result, _ = run_module(RIGHT, args)
    assert result["msg"] == msg
