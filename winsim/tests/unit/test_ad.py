"""Tests of the ``microsoft.ad`` models (microsoft.ad 1.12.1): the common AD
object framework through ``group``, ``user`` and ``service_account``, plus
``kds_root_key`` and ``membership``."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from iis_ad_support import NOW, fresh, rhythm, run

from winsim.models import ad
from winsim.models._base import MODELS

GROUP = "microsoft.ad.group"
USER = "microsoft.ad.user"
GMSA = "microsoft.ad.service_account"
KDS = "microsoft.ad.kds_root_key"
JOIN = "microsoft.ad.membership"
USERS = "CN=Users,DC=corp,DC=example"
MSA = "CN=Managed Service Accounts,DC=corp,DC=example"


@pytest.fixture
def dc() -> dict[str, t.Any]:
    h = fresh("dc01")
    ad.ensure_domain(h, "corp.example", "CORP", admin_password="Adm1n!")
    return h


def _usable_key(h: dict[str, t.Any]) -> None:
    assert run(KDS, h, effective_time_hours=0).changed


class _Lab:
    def __init__(self, states: dict[str, dict[str, t.Any]]) -> None:
        self._states = states

    def hosts(self) -> list[str]:
        return sorted(self._states)

    def state(self, host: str) -> dict[str, t.Any] | None:
        return self._states.get(host)


class _Runtime:
    def __init__(self, lab: _Lab) -> None:
        self.lab = lab


@pytest.mark.parametrize("fqcn", [GROUP, USER, GMSA, KDS, JOIN])
def test_models_name_upstream_version(fqcn: str) -> None:
    assert MODELS[fqcn].upstream == "microsoft.ad 1.12.1"


def test_fresh_host_is_not_a_dc() -> None:
    assert fresh()["ad"] == {"is_dc": False}


def test_ensure_domain_seeds_a_dc(dc: dict[str, t.Any]) -> None:
    assert dc["ad"]["is_dc"] is True
    assert dc["ad"]["domain"]["dn"] == "DC=corp,DC=example"
    assert dc["host"]["domain"] == "corp.example"
    assert dc["host"]["domain_role"] == "Primary domain controller"
    admins = ad.find_object(dc, "CORP\\Domain Admins", "ADGroup")
    assert admins["sid"].endswith("-512")
    assert admins["attrs"]["member"] == [f"CN=Administrator,{USERS}"]
    assert ad.find_object(dc, "DC01$", "ADComputer")["dn"] == "CN=DC01,OU=Domain Controllers,DC=corp,DC=example"
    assert ad.ensure_domain(dc, "corp.example", "CORP") is False


@pytest.mark.parametrize(("features", "msg"), [
    ([], "The term 'Get-ADRootDSE' is not recognized as the name of a cmdlet"),
    (["RSAT-AD-PowerShell"], "Unable to find a default server with Active Directory Web Services running."),
])
def test_object_modules_need_a_dc(features: list[str], msg: str) -> None:
    h = fresh()
    for name in features:
        assert not run("ansible.windows.win_feature", h, name=[name]).failed
    r = run(GROUP, h, name="g", scope="global")
    assert r.failed
    assert r["msg"].startswith("Unhandled exception while executing module: " + msg)


# -- group (and the common framework) ---------------------------------------------------------------

def test_group_rhythm(dc: dict[str, t.Any]) -> None:
    params = {"name": "MCMS Web Servers", "scope": "global", "description": "Web nodes",
              "members": {"add": ["Administrator"]}}
    check, apply, again = rhythm(GROUP, dc, **params)
    assert check.changed
    assert check.untouched
    assert check["object_guid"] == ad.EMPTY_GUID
    assert check["sid"] == "S-1-5-0000"
    assert apply.changed
    assert apply["distinguished_name"] == f"CN=MCMS Web Servers,{USERS}"
    assert apply["sid"].startswith(dc["ad"]["domain"]["sid"] + "-")
    assert not again.changed
    assert again["object_guid"] == apply["object_guid"]
    grp = ad.find_object(dc, "MCMS Web Servers", "ADGroup")
    assert grp["attrs"]["groupscope"] == "Global"
    assert grp["attrs"]["groupcategory"] == "Security"
    assert grp["attrs"]["member"] == [f"CN=Administrator,{USERS}"]


def test_group_requires_scope_on_create(dc: dict[str, t.Any]) -> None:
    r = run(GROUP, dc, name="g")
    assert r.failed
    assert r["msg"] == "scope must be set when state=present and the group does not exist"


@pytest.mark.parametrize(("members", "expected"), [
    ({"add": ["Guest"]}, ["Administrator", "Guest"]),
    ({"remove": ["administrator"]}, []),
    ({"set": ["krbtgt"]}, ["krbtgt"]),
    ({"set": []}, []),
])
def test_group_members_add_remove_set(dc: dict[str, t.Any], members: dict[str, t.Any],
                                      expected: list[str]) -> None:
    run(GROUP, dc, name="g", scope="global", members={"set": ["Administrator"]})
    check = run(GROUP, dc, check=True, name="g", members=members)
    assert check.untouched
    assert run(GROUP, dc, name="g", members=members).changed is check.changed
    grp = ad.find_object(dc, "g", "ADGroup")
    assert sorted(m.split(",")[0][3:] for m in grp["attrs"]["member"]) == expected
    assert not run(GROUP, dc, name="g", members=members).changed


@pytest.mark.parametrize(("action", "failed", "warning"), [("fail", True, False), ("warn", False, True),
                                                           ("ignore", False, False)])
def test_group_member_lookup_failure_action(dc: dict[str, t.Any], action: str, failed: bool,
                                            warning: bool) -> None:
    r = run(GROUP, dc, name="g", scope="global", members={"add": ["nobody"], "lookup_failure_action": action})
    assert r.failed is failed
    msg = "Failed to find the AD object DNs for members.add"
    if failed:
        assert r["msg"] == f"{msg}. Invalid identities: 'nobody'"
    assert ("warnings" in r.result) is warning
    if warning:
        assert r["warnings"] == [f"{msg}. Ignoring invalid identities: 'nobody'"]


def test_diff_shape_on_update(dc: dict[str, t.Any]) -> None:
    run(GROUP, dc, name="g", scope="global", description="old")
    r = run(GROUP, dc, diff=True, name="g", description="new", attributes={"set": {"info": "note"}})
    assert r.changed
    assert r["diff"]["before"] == {"attributes": {"info": []}, "name": "g", "path": USERS, "description": "old"}
    # Compare-AnsibleADIdempotentList's Value: PowerShell unrolls the one-item array into a string
    assert r["diff"]["after"] == {"attributes": {"info": ["note"]}, "name": "g", "path": USERS,
                                  "description": "new"}
    assert ad.find_object(dc, "g", "ADGroup")["attrs"]["info"] == ["note"]
    assert "diff" not in run(GROUP, dc, name="g", description="new").result


def test_identity_forms(dc: dict[str, t.Any]) -> None:
    created = run(USER, dc, name="jdoe", upn="jdoe@corp.example", password="x")
    obj = ad.find_object(dc, "jdoe", "ADUser")
    for identity in ("jdoe", "CORP\\jdoe", "jdoe@corp.example", obj["sid"], created["object_guid"],
                     f"CN=jdoe,{USERS}"):
        r = run(USER, dc, identity=identity, description="d" + identity[:3])
        assert r["object_guid"] == created["object_guid"], identity


def test_rename_and_move(dc: dict[str, t.Any]) -> None:
    run(GROUP, dc, name="g", scope="global")
    run(GROUP, dc, name="outer", scope="global", members={"add": ["g"]})
    target = "CN=Computers,DC=corp,DC=example"
    check = run(GROUP, dc, check=True, identity="g", name="g2", path=target)
    assert check.changed
    assert check.untouched
    assert check["distinguished_name"] == f"CN=g2,{target}"
    assert run(GROUP, dc, identity="g", name="g2", path=target).changed
    assert ad.find_object(dc, "outer", "ADGroup")["attrs"]["member"] == [f"CN=g2,{target}"]


def test_absent_removes_object(dc: dict[str, t.Any]) -> None:
    run(GROUP, dc, name="g", scope="global")
    check, apply, again = rhythm(GROUP, dc, name="g", state="absent")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert apply["sid"].startswith(dc["ad"]["domain"]["sid"])
    assert not again.changed
    assert ad.find_object(dc, "g", "ADGroup") is None


def test_new_object_in_missing_path_fails(dc: dict[str, t.Any]) -> None:
    r = run(GROUP, dc, name="g", scope="global", path="OU=Nope,DC=corp,DC=example")
    assert r.failed
    assert r["msg"] == "New-ADGroup failed: Directory object not found"


def test_default_credentials_conflict(dc: dict[str, t.Any]) -> None:
    r = run(GROUP, dc, name="g", scope="global", domain_username="CORP\\a", domain_password="p",
            domain_credentials=[{"username": "CORP\\b", "password": "q"}])
    assert r.failed
    assert r["msg"] == ("Cannot specify domain_username/domain_password and domain_credentials with an entry that "
                        "has no name.")


# -- user ---------------------------------------------------------------------------------------------

def test_user_rhythm_and_groups(dc: dict[str, t.Any]) -> None:
    run(GROUP, dc, name="MCMS Operators", scope="global")
    params = {"name": "svc_mcms_cmd", "password": "Pa55w.rd", "update_password": "when_changed",
              "groups": {"add": ["MCMS Operators"]}, "password_never_expires": True}
    check, apply, again = rhythm(USER, dc, **params)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    user = ad.find_object(dc, "svc_mcms_cmd", "ADUser")
    assert user["attrs"]["enabled"] is True  # a password was given
    assert user["attrs"]["password"].startswith("sha256:")
    assert "Pa55w.rd" not in repr(dc)
    assert ad.groups_of(dc, user["dn"]) == [f"CN=MCMS Operators,{USERS}"]


@pytest.mark.parametrize(("mode", "same_password", "changed"), [
    ("always", True, True),
    ("on_create", False, False),
    ("when_changed", True, False),
    ("when_changed", False, True),
])
def test_user_update_password(dc: dict[str, t.Any], mode: str, same_password: bool, changed: bool) -> None:
    run(USER, dc, name="u", password="first")
    r = run(USER, dc, diff=True, name="u", password="first" if same_password else "second", update_password=mode)
    assert r.changed is changed
    expected = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" + (" - changed" if changed else "")
    assert r["diff"]["after"]["password"] == expected


def test_user_without_password_is_disabled(dc: dict[str, t.Any]) -> None:
    run(USER, dc, name="nopw")
    assert ad.find_object(dc, "nopw", "ADUser")["attrs"]["enabled"] is False


def test_user_spn_case_insensitive(dc: dict[str, t.Any]) -> None:
    run(USER, dc, name="svc", password="p", spn={"add": ["HTTP/mcms.corp.example"]})
    assert not run(USER, dc, name="svc", spn={"add": ["http/MCMS.corp.example"]}).changed
    assert run(USER, dc, name="svc", spn={"set": ["HTTP/other"]}).changed
    assert ad.find_object(dc, "svc", "ADUser")["attrs"]["serviceprincipalname"] == ["HTTP/other"]


def test_user_duplicate_sam_fails(dc: dict[str, t.Any]) -> None:
    r = run(USER, dc, name="other", sam_account_name="Administrator", path="CN=Computers,DC=corp,DC=example")
    assert r.failed
    assert r["msg"] == "New-ADUser failed: The specified account already exists"


# -- kds_root_key and service_account ---------------------------------------------------------------------

def test_kds_root_key_any(dc: dict[str, t.Any]) -> None:
    check = run(KDS, dc, check=True)
    assert check.changed
    assert check.untouched
    assert check["key_id"] == ad.EMPTY_GUID
    apply = run(KDS, dc)
    assert apply.changed
    key = dc["ad"]["kds_root_keys"][apply["key_id"]]
    assert key["effective_time"] == "2026-03-02T14:30:15Z"  # now + (10 - 10) hours
    again = run(KDS, dc)
    assert not again.changed
    assert again["key_id"] == ad.EMPTY_GUID


def test_kds_root_key_match_by_key_id_and_absent(dc: dict[str, t.Any]) -> None:
    key_id = run(KDS, dc)["key_id"]
    same = run(KDS, dc, match_by="key_id", key_id=key_id.upper())
    assert not same.changed
    assert same["key_id"] is None  # "$key_id.Guid" on a string is $null upstream
    assert run(KDS, dc, match_by="never").changed
    check, apply, again = rhythm(KDS, dc, state="absent", key_id=key_id)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    assert again["key_id"] == key_id


def test_kds_root_key_needs_a_dc() -> None:
    r = run(KDS, fresh())
    assert r.failed
    assert r["msg"].startswith("Failed to get KDS root keys: The term 'Get-KdsRootKey' is not recognized")


def test_gmsa_rhythm(dc: dict[str, t.Any]) -> None:
    _usable_key(dc)
    run(GROUP, dc, name="MCMS Web Servers", scope="global")
    params = {"name": "gmsa_mcms", "dns_hostname": "gmsa_mcms.corp.example",
              "allowed_to_retrieve_password": {"set": ["MCMS Web Servers"]},
              "spn": {"add": ["HTTP/mcms.corp.example"]}, "kerberos_encryption_types": {"set": ["aes256"]}}
    check, apply, again = rhythm(GMSA, dc, **params)
    assert check.changed
    assert check.untouched
    assert check["sid"] == "S-1-5-0000"
    assert apply.changed
    assert apply["distinguished_name"] == f"CN=gmsa_mcms,{MSA}"
    assert not again.changed
    obj = ad.find_object(dc, "gmsa_mcms", "ADServiceAccount")
    assert obj["attrs"]["samaccountname"] == "gmsa_mcms$"
    assert obj["attrs"]["principalsallowedtoretrievemanagedpassword"] == [f"CN=MCMS Web Servers,{USERS}"]
    assert obj["attrs"]["kerberosencryptiontype"] == ["AES256"]


def test_gmsa_diff_has_the_shapes_of_real_ad(dc: dict[str, t.Any]) -> None:
    """_ADObject.psm1 on real AD: one value is a scalar on both sides (ADPropertyValueCollection.Value before,
    the unrolled Compare-AnsibleADIdempotentList Value after); more values are sorted lists; the encryption
    types read back as the enum names and go out as the task wrote them."""
    _usable_key(dc)
    run(GROUP, dc, name="web01", scope="global")
    run(GROUP, dc, name="web02", scope="global")
    params = {"name": "gmsa_mcms", "dns_hostname": "gmsa_mcms.corp.example", "description": "MCMS",
              "allowed_to_retrieve_password": {"set": ["web01"]},
              "kerberos_encryption_types": {"set": ["aes128", "aes256"]}}
    run(GMSA, dc, **params)
    same = run(GMSA, dc, check=True, diff=True, **params)
    assert not same.changed
    before, after = same["diff"]["before"], same["diff"]["after"]
    assert before["allowed_to_retrieve_password"] == after["allowed_to_retrieve_password"] == f"CN=web01,{USERS}"
    assert before["description"] == after["description"] == "MCMS"
    assert before["dns_hostname"] == after["dns_hostname"] == "gmsa_mcms.corp.example"
    assert before["kerberos_encryption_types"] == ["AES128", "AES256"]
    assert after["kerberos_encryption_types"] == ["aes128", "aes256"]
    both = {**params, "allowed_to_retrieve_password": {"set": ["web02", "web01"]}}
    two = run(GMSA, dc, check=True, diff=True, **both)
    assert two.changed
    assert two["diff"]["after"]["allowed_to_retrieve_password"] == [f"CN=web01,{USERS}", f"CN=web02,{USERS}"]


def test_gmsa_drifts_edit_what_the_module_reads(dc: dict[str, t.Any]) -> None:
    from winsim.drift import DriftError, apply_drift

    _usable_key(dc)
    run(GROUP, dc, name="web01", scope="global")
    run(GROUP, dc, name="web02", scope="global")
    params = {"name": "gmsa_mcms", "dns_hostname": "gmsa_mcms.corp.example", "description": "MCMS",
              "allowed_to_retrieve_password": {"set": ["web01"]}}
    run(GMSA, dc, **params)
    apply_drift(dc, "set-gmsa-description", name="gmsa_mcms", description="by hand")
    apply_drift(dc, "set-gmsa-principals", name="gmsa_mcms", principal=["web01", "web02"])
    check = run(GMSA, dc, check=True, diff=True, **params)
    assert check.changed
    assert check["diff"]["before"]["description"] == "by hand"
    assert check["diff"]["before"]["allowed_to_retrieve_password"] == [f"CN=web01,{USERS}", f"CN=web02,{USERS}"]
    with pytest.raises(DriftError, match="no gMSA named 'nope'"):
        apply_drift(dc, "set-gmsa-description", name="nope", description="x")
    with pytest.raises(DriftError, match="already has that description"):
        apply_drift(dc, "set-gmsa-description", name="gmsa_mcms", description="by hand")


@pytest.mark.parametrize(("hours_ago", "hours", "usable"), [
    (0, 10, False),   # default: effective now, usable in 10 hours
    (0, 0, True),     # effective_time_hours: 0 is usable at once
    (11, 10, True),   # created 11 hours ago with the default
])
def test_gmsa_needs_usable_kds_key(dc: dict[str, t.Any], hours_ago: int, hours: int, usable: bool) -> None:
    run(KDS, dc, effective_time_hours=hours, now=NOW - dt.timedelta(hours=hours_ago))
    r = run(GMSA, dc, name="gmsa", dns_hostname="gmsa.corp.example")
    assert r.failed is not usable
    if not usable:
        assert r["msg"] == "New-ADServiceAccount failed: Key does not exist"


def test_gmsa_without_any_kds_key_passes_check_mode_only(dc: dict[str, t.Any]) -> None:
    assert run(GMSA, dc, check=True, name="gmsa", dns_hostname="gmsa.corp.example").changed
    assert run(GMSA, dc, name="gmsa", dns_hostname="gmsa.corp.example").failed


@pytest.mark.parametrize(("params", "msg"), [
    ({}, "dns_hostname is required when creating a new service account."),
    ({"outbound_auth_only": True, "dns_hostname": "x"}, "dns_hostname can not be set when outbound_auth_only=true."),
])
def test_gmsa_validation(dc: dict[str, t.Any], params: dict[str, t.Any], msg: str) -> None:
    _usable_key(dc)
    r = run(GMSA, dc, name="gmsa", **params)
    assert r.failed
    assert r["msg"] == msg


def test_gmsa_sam_without_dollar(dc: dict[str, t.Any]) -> None:
    _usable_key(dc)
    run(GMSA, dc, name="gmsa", dns_hostname="g.corp.example", sam_account_name="gmsa_x",
        do_not_append_dollar_to_sam=True)
    assert ad.find_object(dc, f"CN=gmsa,{MSA}", "ADServiceAccount")["attrs"]["samaccountname"] == "gmsa_x"
    assert not run(GMSA, dc, name="gmsa", sam_account_name="gmsa_x", do_not_append_dollar_to_sam=True).changed


# -- membership -----------------------------------------------------------------------------------------

JOIN_ARGS = {"dns_domain_name": "corp.example", "domain_admin_user": "Administrator@corp.example",
             "domain_admin_password": "Adm1n!", "state": "domain"}


def test_join_rhythm_without_lab() -> None:
    h = fresh("web01")
    check, apply, again = rhythm(JOIN, h, **JOIN_ARGS)
    assert check.changed
    assert check.untouched
    assert check["reboot_required"] is True
    assert apply.changed
    assert apply["reboot_required"] is True
    assert not again.changed
    assert again["reboot_required"] is False
    assert h["host"]["domain"] == "corp.example"
    assert h["host"]["domain_role"] == "Member server"
    assert h["host"]["reboot_pending"] is True


def test_join_diff() -> None:
    r = run(JOIN, fresh("web01"), diff=True, **JOIN_ARGS)
    assert r["diff"] == {
        "before": {"dns_domain_name": None, "hostname": "WEB01", "state": "workgroup", "workgroup_name": "WORKGROUP"},
        "after": {"dns_domain_name": "corp.example", "hostname": "WEB01", "state": "domain", "workgroup_name": None}}


@pytest.mark.parametrize(("args", "error"), [
    ({"dns_domain_name": "other.example"}, "The specified domain either does not exist or could not be contacted."),
    ({"domain_admin_password": "wrong"}, "The user name or password is incorrect."),
    ({"domain_admin_user": "CORP\\nobody"}, "The user name or password is incorrect."),
    ({}, None),
])
def test_join_validated_against_the_lab(dc: dict[str, t.Any], args: dict[str, t.Any], error: str | None) -> None:
    h = fresh("web01")
    full = dict(JOIN_ARGS, **args)
    r = run(JOIN, h, runtime=_Runtime(_Lab({"dc01": dc, "web01": h})), **full)
    if error is None:
        assert r.changed
        assert not r.failed
    else:
        assert r.failed
        assert r["msg"] == (f"Computer 'WEB01' failed to join domain '{full['dns_domain_name']}' from its current "
                            f"workgroup 'WORKGROUP' with following error message: {error}")


def test_join_other_domain_fails() -> None:
    h = fresh("web01")
    run(JOIN, h, **JOIN_ARGS)
    r = run(JOIN, h, **dict(JOIN_ARGS, dns_domain_name="other.example"))
    assert r.failed
    assert r["msg"] == "Host is already joined to 'corp.example', switching domains is not implemented"


def test_leave_to_workgroup() -> None:
    h = fresh("web01")
    run(JOIN, h, **JOIN_ARGS)
    r = run(JOIN, h, state="workgroup", workgroup_name="LAB", domain_admin_user="CORP\\Administrator",
            domain_admin_password="Adm1n!")
    assert r.changed
    assert h["host"]["domain"] is None
    assert h["host"]["workgroup"] == "LAB"


def test_rename_host() -> None:
    h = fresh("web01")
    r = run(JOIN, h, hostname="WEB02", **JOIN_ARGS)
    assert r.changed
    assert h["host"]["hostname"] == "WEB02"
    assert not run(JOIN, h, hostname="web02", **JOIN_ARGS).changed


# -- through the runner (real Ansible.Basic validation of the upstream source) ------------------------------

_RUNNER_STEPS = [
    (KDS, {"effective_time_hours": 0}),
    (GROUP, {"name": "MCMS Web Servers", "scope": "global"}),
    (GMSA, {"name": "gmsa_mcms", "dns_hostname": "gmsa_mcms.corp.example",
            "allowed_to_retrieve_password": {"set": ["MCMS Web Servers"]}}),
    (USER, {"name": "svc_mcms_otel", "password": "0tel!Pass", "update_password": "when_changed"}),
]


def test_runner_identity_apply_and_idempotence(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    state = dc
    for fqcn, args in _RUNNER_STEPS:
        result, state = run_module(fqcn, args, state=state)
        assert result["changed"], fqcn
        result, again = run_module(fqcn, args, state=state)
        assert not result["changed"], fqcn
        assert again == state
    assert "0tel!Pass" not in repr(state)


@pytest.mark.parametrize(("fqcn", "args"), [
    (GROUP, {"name": "MCMS Web Servers", "scope": "global"}),
    (GMSA, {"name": "gmsa_mcms", "dns_hostname": "gmsa_mcms.corp.example",
            "allowed_to_retrieve_password": {"set": ["Domain Computers"]}}),
    (USER, {"name": "svc_mcms_otel", "password": "0tel!Pass"}),
])
def test_runner_ad_object_modules_support_check_mode(run_module: t.Any, dc: dict[str, t.Any], fqcn: str,
                                                     args: dict[str, t.Any]) -> None:
    """supports_check_mode is declared in the _ADObject module util, not in the module: still honoured."""
    result, after = run_module(fqcn, args, state=dc, check_mode=True)
    assert result["changed"]
    assert after == dc


def test_runner_join_masks_password(run_module: t.Any) -> None:
    result, state = run_module(JOIN, JOIN_ARGS)
    assert result["changed"]
    assert result["reboot_required"] is True
    assert "Adm1n!" not in repr(result)
    assert "Adm1n!" not in repr(state)
