"""The one identity resolver (winsim/identity.py) and what rests on it:
account names in win_user_right / win_acl / win_service / SQL logins,
service start-up checks, the domain join's computer object and AD object
modules run from a member.

Every test here fails on the code before identity.py: there any
``DOMAIN\\name`` resolved (SID made up from a hash of the name), a service
started whatever its account, password, logon right or binary, the join
wrote nothing on the DC and AD modules ran only on the DC itself."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from identity_support import ADMIN_PASSWORD, DN, DOMAIN, ad_run, add_computer, load, make_dc, member, save

from winsim import identity
from winsim import state as st
from winsim.models import ad, sql
from winsim.runtime import Lab
from winsim.store import HostStore

SERVICE = "ansible.windows.win_service"
RIGHT = "ansible.windows.win_user_right"
ACL = "ansible.windows.win_acl"
LOGIN = "lowlydba.sqlserver.login"
WHEN = "2026-03-02T14:30:15Z"
START_ERROR = ("Unhandled exception while executing module: Service 'MCMS (MCMS)' cannot be started due to the "
               "following error: Cannot start service MCMS on computer '.'.")


@pytest.fixture
def lab_dir(host_store: HostStore) -> Path:
    """Where the run_module fixture's runtime looks for the other lab hosts."""
    path = host_store.state_path.parent
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def dc(lab_dir: Path) -> dict[str, t.Any]:
    """dc01: corp.mcms.internal with svc_mcms (password known), MCMS Admins (group holding svc_mcms),
    gmsa_mcms$ retrievable by WINSIM$ and gmsa_other$ retrievable by nobody; saved in the lab."""
    h = make_dc()
    add_computer(h, "WINSIM")
    ad_run(h, "microsoft.ad.user", name="svc_mcms", password="Svc!Pass1", upn="svc.mcms@corp.mcms.internal")
    ad_run(h, "microsoft.ad.group", name="MCMS Admins", scope="global", members={"add": ["svc_mcms"]})
    ad_run(h, "microsoft.ad.service_account", name="gmsa_mcms", dns_hostname="gmsa_mcms.corp.mcms.internal",
           allowed_to_retrieve_password={"set": ["WINSIM$"]})
    ad_run(h, "microsoft.ad.service_account", name="gmsa_other", dns_hostname="gmsa_other.corp.mcms.internal")
    save(lab_dir, "dc01", h)
    return h


# -- the resolver -----------------------------------------------------------------------------------

def test_virtual_account_sids_match_windows() -> None:
    # NT SERVICE hashes the upper-case name, IIS APPPOOL the lower-case one (known SIDs of real hosts).
    assert identity.service_sid("TrustedInstaller") == (
        "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464")
    assert identity.service_sid("MSSQLSERVER") == "S-1-5-80-3880718306-3832830129-1677859214-2598158968-1052248003"
    assert identity.app_pool_sid("DefaultAppPool") == (
        "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415")


def test_one_domain_sid_function(dc: dict[str, t.Any]) -> None:
    assert dc["ad"]["domain"]["sid"] == identity.domain_sid(DOMAIN)


@pytest.mark.parametrize("name", ["CORP\\svc_mcms", "corp\\SVC_MCMS", "corp.mcms.internal\\svc_mcms",
                                  "svc.mcms@corp.mcms.internal", "svc_mcms@corp.mcms.internal", "svc_mcms"])
def test_member_sees_the_dcs_sid(dc: dict[str, t.Any], name: str) -> None:
    lab = Lab_of({"dc01": dc})
    found = identity.resolve(member(), name, lab)
    assert found is not None
    assert found.sid == ad.find_object(dc, "svc_mcms", "ADUser")["sid"]
    assert found.name == "CORP\\svc_mcms"
    assert found.kind == "user"
    assert identity.lookup_sid(member(), found.sid, lab) == "CORP\\svc_mcms"


def test_computer_gmsa_and_group_kinds(dc: dict[str, t.Any]) -> None:
    lab = Lab_of({"dc01": dc})
    assert identity.resolve(member(), "CORP\\WINSIM$", lab).kind == "computer"
    assert identity.resolve(member(), "CORP\\gmsa_mcms$", lab).kind == "gmsa"
    assert identity.resolve(member(), "gmsa_mcms$@corp.mcms.internal", lab).kind == "gmsa"
    assert identity.resolve(member(), "CORP\\MCMS Admins", lab).is_group
    assert identity.resolve(member(), "CORP\\gmsa_mcms", lab) is None  # no implicit $
    assert identity.resolve(member(), "CORP\\gmsa_mcsm$", lab) is None
    # Local names win over the domain for isolated names.
    assert identity.resolve(member(), "Administrator", lab).source == "sam"


def test_no_dc_in_the_lab_no_domain_names(dc: dict[str, t.Any]) -> None:
    assert identity.resolve(member(), "CORP\\svc_mcms", Lab_of({})) is None
    assert identity.resolve(member(), "CORP\\svc_mcms", None) is None
    workgroup = st.fresh_state("winsim")
    assert identity.resolve(workgroup, "CORP\\svc_mcms", Lab_of({"dc01": dc})) is None


def test_lab_declaration_names_the_dc(tmp_path: Path, dc: dict[str, t.Any]) -> None:
    other = make_dc("dc02")
    ad_run(other, "microsoft.ad.user", name="svc_mcms", password="x")  # same domain, other SIDs
    save(tmp_path, "dc01", dc)
    save(tmp_path, "dc02", other)
    (tmp_path / "_lab").mkdir()
    (tmp_path / "_lab" / "lab.json").write_text(
        '{"format": 1, "domain": {"dns_name": "corp.mcms.internal", "netbios": "CORP", "dc": "dc02"}}')
    found = identity.resolve(member(), "CORP\\svc_mcms", Lab(tmp_path))
    assert found.sid == ad.find_object(other, "svc_mcms", "ADUser")["sid"]


def Lab_of(states: dict[str, dict[str, t.Any]]) -> t.Any:
    from identity_support import MemLab

    return MemLab(states)


# -- every module that takes account names: a misspelt gMSA fails with that module's real text ----------------

def test_user_right_misspelt_gmsa(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    args = {"name": "SeServiceLogonRight", "users": ["CORP\\gmsa_mcsm$"], "action": "add"}
    result, _ = run_module(RIGHT, args, state=member())
    assert result["failed"]
    assert result["msg"] == "Failed to translate the account 'CORP\\gmsa_mcsm$' to a SID"
    result, state = run_module(RIGHT, dict(args, users=["CORP\\gmsa_mcms$"]), state=member())
    assert result["added"] == ["CORP\\gmsa_mcms$"]
    assert ad.find_object(dc, "gmsa_mcms$", "ADServiceAccount")["sid"] in state["user_rights"]["SeServiceLogonRight"]


def test_acl_misspelt_gmsa(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    state = member()
    st.make_dirs(state, "D:\\sites", WHEN)
    result, _ = run_module(ACL, {"path": "D:\\sites", "user": "CORP\\gmsa_mcsm$", "rights": "Read",
                                 "type": "allow"}, state=state)
    assert result["failed"]
    assert result["msg"] == ('account_name CORP\\gmsa_mcsm$ is not a valid account, cannot get SID: Exception '
                             'calling "Translate" with "1" argument(s): "Some or all identity references could '
                             'not be translated."')


def test_service_misspelt_gmsa(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    result, _ = run_module(SERVICE, {"name": "W32Time", "username": "CORP\\gmsa_mcsm$"}, state=member())
    assert result["failed"]
    assert result["msg"] == ('Unhandled exception while executing module: Exception calling "Translate" with "1" '
                             'argument(s): "Some or all identity references could not be translated."')


@pytest.fixture
def sql_member(dc: dict[str, t.Any]) -> dict[str, t.Any]:
    h = member()
    sql.ensure_instance(h, sa_password="Str0ng!Passw0rd")
    return h


def test_sql_login_misspelt_gmsa(run_module: t.Any, sql_member: dict[str, t.Any]) -> None:
    result, _ = run_module(LOGIN, {"sql_instance": "localhost", "login": "CORP\\gmsa_mcsm$"}, state=sql_member)
    assert result["failed"]
    assert result["msg"].startswith("Configuring login failed: Windows NT user or group 'CORP\\gmsa_mcsm$' not "
                                    "found. Check the name again.")


@pytest.mark.parametrize(("name", "ltype"), [("CORP\\MCMS Admins", "WindowsGroup"), ("CORP\\svc_mcms", "WindowsUser"),
                                             ("CORP\\gmsa_mcms$", "WindowsUser")])
def test_sql_domain_login_type_and_sid(run_module: t.Any, sql_member: dict[str, t.Any], dc: dict[str, t.Any],
                                       name: str, ltype: str) -> None:
    result, state = run_module(LOGIN, {"sql_instance": "localhost", "login": name}, state=sql_member)
    assert result["changed"], result
    login = state["sql"]["instances"]["mssqlserver"]["logins"][name.lower()]
    assert login["type"] == ltype
    assert login["sid"] == ad.find_object(dc, name.split("\\")[1])["sid"]


# -- services start like Windows services ------------------------------------------------------------------

def _worker_host(run_module: t.Any, *, rights: list[str] | None = None) -> dict[str, t.Any]:
    state = member()
    st.make_dirs(state, "D:\\mcms", WHEN)
    st.write_file(state, "D:\\mcms\\Worker.exe", b"MZ", WHEN)
    if rights:
        result, state = run_module(RIGHT, {"name": "SeServiceLogonRight", "users": rights, "action": "add"},
                                   state=state)
        assert result["changed"], result
    return state


def _service(run_module: t.Any, host: dict[str, t.Any], **args: t.Any) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    full = {"name": "MCMS", "path": "\"D:\\mcms\\Worker.exe\" --urls http://*:5000", "start_mode": "auto",
            "state": "started", **args}
    return run_module(SERVICE, full, state=host)


def test_domain_user_without_service_logon_right_fails_1069(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    result, state = _service(run_module, _worker_host(run_module), username="CORP\\svc_mcms", password="Svc!Pass1")
    assert result["failed"]
    assert result["msg"] == START_ERROR
    err = state["services"]["mcms"]["start_error"]
    assert err["win32_error"] == 1069
    assert err["message"] == "The service did not start due to a logon failure."
    assert err["logon_error"] == ("Logon failure: the user has not been granted the requested logon type at this "
                                  "computer.")
    assert state["services"]["mcms"]["state"] == "stopped"


def test_domain_user_with_right_starts_and_wrong_password_fails(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    host = _worker_host(run_module, rights=["CORP\\svc_mcms"])
    result, state = _service(run_module, host, username="CORP\\svc_mcms", password="Svc!Pass1")
    assert not result.get("failed"), result
    assert state["services"]["mcms"]["state"] == "started"
    assert "Svc!Pass1" not in repr(state)
    result, state = _service(run_module, host, username="CORP\\svc_mcms", password="wrong")
    assert result["failed"]
    assert state["services"]["mcms"]["start_error"]["win32_error"] == 1069
    assert state["services"]["mcms"]["start_error"]["logon_error"] == "The user name or password is incorrect."


def test_right_through_a_domain_group(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    host = _worker_host(run_module, rights=["CORP\\MCMS Admins"])
    result, _ = _service(run_module, host, username="CORP\\svc_mcms", password="Svc!Pass1")
    assert not result.get("failed"), result


def test_gmsa_allowed_via_the_computer_account_starts(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    host = _worker_host(run_module, rights=["CORP\\gmsa_mcms$"])
    result, state = _service(run_module, host, username="CORP\\gmsa_mcms$")
    assert not result.get("failed"), result
    svc = state["services"]["mcms"]
    assert (svc["state"], svc["username"], svc["password_digest"]) == ("started", "CORP\\gmsa_mcms$", None)


def test_gmsa_allowed_via_domain_computers_starts(run_module: t.Any, dc: dict[str, t.Any], lab_dir: Path) -> None:
    ad_run(dc, "microsoft.ad.service_account", name="gmsa_other",
           allowed_to_retrieve_password={"set": ["Domain Computers"]})
    save(lab_dir, "dc01", dc)
    host = _worker_host(run_module, rights=["CORP\\gmsa_other$"])
    result, _ = _service(run_module, host, username="CORP\\gmsa_other$")
    assert not result.get("failed"), result


def test_gmsa_not_allowed_on_this_host_fails_1069(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    host = _worker_host(run_module, rights=["CORP\\gmsa_other$"])
    result, state = _service(run_module, host, username="CORP\\gmsa_other$")
    assert result["failed"]
    assert result["msg"] == START_ERROR
    assert state["services"]["mcms"]["start_error"]["win32_error"] == 1069


def test_local_user_password_checked(run_module: t.Any) -> None:
    state = _worker_host(run_module, rights=[".\\Administrator"])
    result, state = run_module("ansible.windows.win_user", {"name": "Administrator", "password": "Adm!Pass1"},
                               state=state)
    result, after = _service(run_module, state, username=".\\Administrator", password="Adm!Pass1")
    assert not result.get("failed"), result
    result, after = _service(run_module, state, username=".\\Administrator", password="nope")
    assert after["services"]["mcms"]["start_error"]["win32_error"] == 1069


def test_missing_binary_fails_with_error_2(run_module: t.Any) -> None:
    result, state = _service(run_module, member(), username="LocalSystem",
                             path="D:\\mcms\\Missing.exe --urls x")
    assert result["failed"]
    assert result["msg"] == START_ERROR
    assert state["services"]["mcms"]["start_error"]["win32_error"] == 2
    assert state["services"]["mcms"]["start_error"]["message"] == "The system cannot find the file specified."


def test_unquoted_path_with_spaces_and_no_extension(run_module: t.Any) -> None:
    state = member()
    st.make_dirs(state, "C:\\Program Files\\MCMS", WHEN)
    st.write_file(state, "C:\\Program Files\\MCMS\\worker.exe", b"MZ", WHEN)
    result, _ = _service(run_module, state, path="C:\\Program Files\\MCMS\\worker -k x")
    assert not result.get("failed"), result


def test_disabled_service_fails_with_1058(run_module: t.Any) -> None:
    state = _worker_host(run_module)
    result, state = _service(run_module, state, start_mode="disabled")
    assert result["failed"]
    assert result["msg"] == START_ERROR
    assert state["services"]["mcms"]["start_error"]["win32_error"] == 1058


def test_virtual_and_builtin_service_accounts_need_no_right(run_module: t.Any) -> None:
    state = _worker_host(run_module)
    for account in ("NT AUTHORITY\\NetworkService", "NT AUTHORITY\\LocalService", "LocalSystem"):
        result, state = _service(run_module, state, username=account, state="restarted")
        assert not result.get("failed"), (account, result)


# -- the domain join and AD modules from a member ------------------------------------------------------------

JOIN = {"dns_domain_name": DOMAIN, "domain_admin_user": f"Administrator@{DOMAIN}",
        "domain_admin_password": ADMIN_PASSWORD, "state": "domain"}


def test_join_creates_the_computer_object(run_module: t.Any, lab_dir: Path) -> None:
    save(lab_dir, "dc01", make_dc())
    result, _ = run_module("microsoft.ad.membership", JOIN, state=st.fresh_state("sql01"), hostname="sql01",
                           check_mode=True)
    assert result["changed"]
    assert ad.find_object(load(lab_dir, "dc01"), "SQL01$", "ADComputer") is None
    result, state = run_module("microsoft.ad.membership", JOIN, state=st.fresh_state("sql01"), hostname="sql01")
    assert result["changed"]
    dc = load(lab_dir, "dc01")
    obj = ad.find_object(dc, "SQL01$", "ADComputer")
    assert obj["dn"] == f"CN=SQL01,CN=Computers,{DN}"
    assert obj["sid"].startswith(dc["ad"]["domain"]["sid"] + "-")
    assert state["host"]["domain_netbios"] == "CORP"
    # The member sees its own computer account with the DC's SID.
    assert identity.resolve(state, "CORP\\SQL01$", Lab(lab_dir)).sid == obj["sid"]
    # Now a gMSA can name SQL01$ as a principal allowed to retrieve its password.
    r = ad_run(dc, "microsoft.ad.service_account", name="gmsa_sql", dns_hostname="gmsa_sql.corp.mcms.internal",
               allowed_to_retrieve_password={"set": ["SQL01$"]})
    assert r.changed


def test_failed_join_writes_nothing_on_the_dc(run_module: t.Any, lab_dir: Path) -> None:
    save(lab_dir, "dc01", make_dc())
    before = (lab_dir / "dc01.json").read_bytes()
    result, _ = run_module("microsoft.ad.membership", dict(JOIN, domain_admin_password="wrong"),
                           state=st.fresh_state("sql01"), hostname="sql01")
    assert result["failed"]
    assert (lab_dir / "dc01.json").read_bytes() == before


def _with_rsat(run_module: t.Any, state: dict[str, t.Any]) -> dict[str, t.Any]:
    result, state = run_module("ansible.windows.win_feature", {"name": ["RSAT-AD-PowerShell"]}, state=state)
    assert not result.get("failed"), result
    return state


def test_ad_modules_from_a_member_with_rsat_edit_the_dc(run_module: t.Any, dc: dict[str, t.Any],
                                                        lab_dir: Path) -> None:
    state = _with_rsat(run_module, member())
    args = {"name": "MCMS Readers", "scope": "global", "members": {"add": ["CORP\\svc_mcms", "WINSIM$"]}}
    result, after = run_module("microsoft.ad.group", args, state=state, check_mode=True)
    assert result["changed"]
    assert ad.find_object(load(lab_dir, "dc01"), "MCMS Readers", "ADGroup") is None
    result, after = run_module("microsoft.ad.group", args, state=state)
    assert result["changed"], result
    assert after == state  # the member's own state is untouched
    grp = ad.find_object(load(lab_dir, "dc01"), "MCMS Readers", "ADGroup")
    assert result["sid"] == grp["sid"]
    assert len(grp["attrs"]["member"]) == 2
    again, _ = run_module("microsoft.ad.group", args, state=state)
    assert not again["changed"]
    # The new group resolves on the member, with the DC's SID.
    assert identity.resolve(state, "CORP\\MCMS Readers", Lab(lab_dir)).sid == grp["sid"]


def test_ad_modules_from_a_member_domain_server(run_module: t.Any, dc: dict[str, t.Any], lab_dir: Path) -> None:
    state = _with_rsat(run_module, member())
    result, _ = run_module("microsoft.ad.user", {"name": "svc_new", "password": "N3w!Pass",
                                                 "domain_server": "dc01.corp.mcms.internal"}, state=state)
    assert result["changed"], result
    assert ad.find_object(load(lab_dir, "dc01"), "svc_new", "ADUser") is not None
    result, _ = run_module("microsoft.ad.user", {"name": "svc_new2", "domain_server": "dc09"}, state=state)
    assert result["failed"]
    assert result["msg"] == ("Unhandled exception while executing module: Unable to contact the server. This may be "
                             "because this server does not exist, it is currently down, or it does not have the "
                             "Active Directory Web Services running.")


def test_ad_modules_from_a_member_without_rsat_fail(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    result, _ = run_module("microsoft.ad.group", {"name": "g", "scope": "global"}, state=member())
    assert result["failed"]
    assert result["msg"].startswith("Unhandled exception while executing module: The term 'Get-ADRootDSE' is not "
                                    "recognized")


def test_ad_module_failure_on_the_dc_is_not_saved(run_module: t.Any, dc: dict[str, t.Any], lab_dir: Path) -> None:
    state = _with_rsat(run_module, member())
    before = (lab_dir / "dc01.json").read_bytes()
    result, _ = run_module("microsoft.ad.group", {"name": "g", "scope": "global",
                                                  "members": {"add": ["CORP\\nobody"]}}, state=state)
    assert result["failed"]
    assert (lab_dir / "dc01.json").read_bytes() == before


def test_lab_edit_saves_only_on_success(lab_dir: Path) -> None:
    save(lab_dir, "dc01", make_dc())
    lab = Lab(lab_dir)

    def failing_model() -> None:
        with lab.edit("dc01") as doc:
            doc["ad"]["next_rid"] = 1
            raise RuntimeError("model failed")

    with pytest.raises(RuntimeError):
        failing_model()
    assert load(lab_dir, "dc01")["ad"]["next_rid"] != 1
    with lab.edit("dc01") as doc:
        doc["ad"]["next_rid"] = 5000
    assert load(lab_dir, "dc01")["ad"]["next_rid"] == 5000


# -- application pools: IIS takes any identity, WAS logs it on at the first request -------------------------

def _pool_host(identity_attrs: dict[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    from iis_ad_support import iis_host, run

    host = iis_host("winsim")
    host["host"].update(domain=DOMAIN, domain_netbios="CORP", workgroup=None, domain_role="Member server")
    attrs = {"processModel.identityType": "SpecificUser", **identity_attrs}
    r = run("microsoft.iis.web_app_pool", host, name="mcms", attributes=attrs)
    assert not r.failed, r.result  # IIS accepts any string at configuration time
    assert r.changed
    return host, host["iis"]["app_pools"]["mcms"]


@pytest.mark.parametrize(("attrs", "error"), [
    ({"processModel.userName": "CORP\\gmsa_mcms$", "processModel.password": ""}, None),
    ({"processModel.userName": "CORP\\gmsa_other$", "processModel.password": ""},
     "The user name or password is incorrect."),
    ({"processModel.userName": "CORP\\gmsa_mcsm$", "processModel.password": ""},
     "No mapping between account names and security IDs was done."),
    ({"processModel.userName": "CORP\\svc_mcms", "processModel.password": "Svc!Pass1"}, None),
    ({"processModel.userName": "CORP\\svc_mcms", "processModel.password": "wrong"},
     "The user name or password is incorrect."),
])
def test_app_pool_identity_logon_at_first_request(dc: dict[str, t.Any], attrs: dict[str, t.Any],
                                                  error: str | None) -> None:
    host, pool = _pool_host(attrs)
    failure = identity.app_pool_start_failure(host, pool, Lab_of({"dc01": dc}))
    if error is None:
        assert failure is None
        return
    assert failure["logon_error"] == error
    assert failure["event_ids"] == [5021, 5057]
    assert failure["disabled"] == ("Application pool mcms has been disabled. Windows Process Activation Service "
                                   "(WAS) did not create a worker process to serve the application pool because "
                                   "the application pool identity is invalid.")
    identity.disable_app_pool(pool, failure)
    assert pool["state"] == "Stopped"  # the HTTP model answers 503 for a pool that is not Started


def test_application_pool_identity_never_fails(dc: dict[str, t.Any]) -> None:
    from iis_ad_support import iis_host

    host = iis_host("winsim")
    assert identity.app_pool_start_failure(host, host["iis"]["app_pools"]["DefaultAppPool"], None) is None


# -- local groups with domain members ---------------------------------------------------------------------

def test_group_membership_domain_members(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    args = {"name": "Administrators", "members": ["CORP\\MCMS Admins", "CORP\\gmsa_mcms$"], "state": "present"}
    result, state = run_module("ansible.windows.win_group_membership", args, state=member())
    assert result["changed"], result
    assert result["added"] == ["CORP\\MCMS Admins", "CORP\\gmsa_mcms$"]
    assert ad.find_object(dc, "MCMS Admins", "ADGroup")["sid"] in state["groups"]["administrators"]["members"]
    result, _ = run_module("ansible.windows.win_group_membership", dict(args, members=["CORP\\MCMS Admns"]),
                           state=member())
    assert result["failed"]
    assert result["msg"] == ('account_name CORP\\MCMS Admns is not a valid account, cannot get SID: Exception '
                             'calling "Translate" with "1" argument(s): "Some or all identity references could '
                             'not be translated."')


def test_right_through_a_domain_group_in_a_local_group(run_module: t.Any, dc: dict[str, t.Any]) -> None:
    """A domain group nested in a local group that holds SeServiceLogonRight carries the right."""
    host = _worker_host(run_module)
    result, host = run_module("ansible.windows.win_group", {"name": "MCMS Services",
                                                            "members": {"add": ["CORP\\MCMS Admins"]}}, state=host)
    assert result["changed"], result
    result, host = run_module(RIGHT, {"name": "SeServiceLogonRight", "users": ["MCMS Services"], "action": "add"},
                              state=host)
    assert result["changed"], result
    result, _ = _service(run_module, host, username="CORP\\svc_mcms", password="Svc!Pass1")
    assert not result.get("failed"), result
