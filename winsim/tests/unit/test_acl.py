"""Tests of the ``ansible.windows.win_acl`` and ``win_acl_inheritance`` models."""

from __future__ import annotations

import copy

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from identity_support import MemLab, Runtime, ad_run, make_dc
from winsim_files_support import fresh, run

from winsim import state as st
from winsim.models import acl, ad, certificates, iis
from winsim.models._base import MODELS, SimulatorError

ACL = "ansible.windows.win_acl"
INH = "ansible.windows.win_acl_inheritance"
SITE = "D:\\sites\\mcms"


def _host():
    state = fresh()
    st.make_dirs(state, SITE + "\\bin", "2026-01-10T00:00:00Z")
    st.write_file(state, SITE + "\\web.config", b"<configuration/>", "2026-01-10T00:00:00Z")
    return state


def _explicit(state, path):
    return [{k: a[k] for k in ("identity", "rights", "type", "inheritance", "propagation")}
            for a in st.get_item(state, path)["acl"]]


def _with_iis(state, pool="mcms", tools=True):
    iis.ensure_iis_baseline(state, "2026-01-10T00:00:00Z")
    state["features"]["Web-Server"]["install_state"] = "Installed"
    if tools:
        state["features"]["Web-Scripting-Tools"]["install_state"] = "Installed"
    pool_entry = copy.deepcopy(state["iis"]["app_pools"]["DefaultAppPool"])
    pool_entry["name"] = pool
    state["iis"]["app_pools"][pool] = pool_entry
    return state


@pytest.mark.parametrize("fqcn", [ACL, INH])
def test_models_name_upstream_version(fqcn):
    assert MODELS[fqcn].upstream == "ansible.windows 3.8.0"


@pytest.mark.parametrize(("rights", "stored"), [
    ("ReadAndExecute", "ReadAndExecute, Synchronize"),
    ("Read,Write", "Write, Read, Synchronize"),
    ("Modify", "Modify, Synchronize"),
    ("FullControl", "FullControl"),
])
def test_grant_check_apply_idempotent(rights, stored):
    state = _host()
    args = {"path": SITE, "user": "IIS_IUSRS", "rights": rights, "type": "allow"}
    checked = run(ACL, state, check=True, **args)
    assert checked["changed"] is True
    assert checked.untouched
    assert run(ACL, state, **args)["changed"] is True
    assert _explicit(state, SITE) == [{"identity": "BUILTIN\\IIS_IUSRS", "rights": stored, "type": "allow",
                                       "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None"}]
    again = run(ACL, state, **args)
    assert again["changed"] is False
    assert again["msg"] == "the specified rule already exists"


def test_rights_written_differently_are_the_same_rule():
    state = _host()
    run(ACL, state, path=SITE, user="IIS_IUSRS", rights="Write, Read", type="allow")
    assert run(ACL, state, path=SITE, user="BUILTIN\\IIS_IUSRS", rights="read,write", type="allow")["changed"] is False


def test_files_get_no_inheritance_flags():
    state = _host()
    run(ACL, state, path=SITE + "\\web.config", user="IIS_IUSRS", rights="Read", type="allow")
    assert _explicit(state, SITE + "\\web.config")[0]["inheritance"] == "None"


def test_deny_rule_drops_synchronize():
    state = _host()
    run(ACL, state, path=SITE, user="Users", rights="Write", type="deny")
    assert _explicit(state, SITE)[0]["rights"] == "Write"
    assert _explicit(state, SITE)[0]["type"] == "deny"


def test_add_access_rule_merges_like_dotnet_so_narrower_rights_change_every_run():
    state = _host()
    run(ACL, state, path=SITE, user="IIS_IUSRS", rights="Read", type="allow")
    assert run(ACL, state, path=SITE, user="IIS_IUSRS", rights="Write", type="allow")["changed"] is True
    assert _explicit(state, SITE)[0]["rights"] == "Write, Read, Synchronize"
    assert run(ACL, state, path=SITE, user="IIS_IUSRS", rights="Write", type="allow")["changed"] is True


def test_absent_removes_and_is_idempotent():
    state = _host()
    args = {"path": SITE, "user": "IIS_IUSRS", "rights": "Modify", "type": "allow"}
    run(ACL, state, **args)
    checked = run(ACL, state, check=True, state="absent", **args)
    assert checked["changed"] is True
    assert checked.untouched
    assert run(ACL, state, state="absent", **args)["changed"] is True
    assert st.get_item(state, SITE)["acl"] == []
    again = run(ACL, state, state="absent", **args)
    assert again["changed"] is False
    assert again["msg"] == "the specified rule does not exist"


def test_inherited_rule_does_not_count_as_existing():
    # BUILTIN\Users has ReadAndExecute inherited from the volume: an explicit one is still added.
    state = _host()
    res = run(ACL, state, path=SITE, user="Users", rights="ReadAndExecute", type="allow")
    assert res["changed"] is True


def test_unknown_account_fails_like_convert_to_sid():
    res = run(ACL, _host(), path=SITE, user="CORP\\svc-mcms", rights="Read", type="allow")
    assert res["failed"] is True
    assert res["msg"] == ('account_name CORP\\svc-mcms is not a valid account, cannot get SID: Exception calling '
                          '"Translate" with "1" argument(s): "Some or all identity references could not be '
                          'translated."')


def _domain_lab(state):
    """The host joined to corp.mcms.internal, whose DC (in the lab) holds gmsa-mcms$."""
    dc = make_dc()
    ad_run(dc, "microsoft.ad.service_account", name="gmsa-mcms", dns_hostname="gmsa-mcms.corp.mcms.internal")
    state["host"].update(domain="corp.mcms.internal", domain_netbios="CORP", domain_role="Member server")
    return dc, Runtime(MemLab({"dc01": dc, state["host"]["hostname"].lower(): state}))


def test_domain_account_and_gmsa_on_domain_member():
    state = _host()
    dc, runtime = _domain_lab(state)
    res = run(ACL, state, path=SITE, user="CORP\\gmsa-mcms$", rights="Read", type="allow", runtime=runtime)
    assert res["changed"] is True
    ace = st.get_item(state, SITE)["acl"][0]
    assert ace["identity"] == "CORP\\gmsa-mcms$"
    assert ace["sid"] == ad.find_object(dc, "gmsa-mcms$", "ADServiceAccount")["sid"]


@pytest.mark.parametrize("user", ["CORP\\gmsa-mcsm$", "CORP\\gmsa-mcms", "OTHER\\gmsa-mcms$"])
def test_misspelt_domain_account_fails_like_convert_to_sid(user):
    """Old code accepted any name in the host's domain (SID made up from a hash)."""
    state = _host()
    _dc, runtime = _domain_lab(state)
    res = run(ACL, state, path=SITE, user=user, rights="Read", type="allow", runtime=runtime)
    assert res["failed"] is True
    assert res["msg"] == (f'account_name {user} is not a valid account, cannot get SID: Exception calling '
                          '"Translate" with "1" argument(s): "Some or all identity references could not be '
                          'translated."')


def test_domain_account_without_reachable_dc_fails():
    state = _host()
    state["host"].update(domain="corp.mcms.internal", domain_netbios="CORP")
    res = run(ACL, state, path=SITE, user="CORP\\gmsa-mcms$", rights="Read", type="allow")
    assert res["failed"] is True


@pytest.mark.parametrize("user", ["NT AUTHORITY\\SYSTEM", "SYSTEM", "Administrators", "S-1-5-32-545",
                                  "NT AUTHORITY\\NETWORK SERVICE", ".\\Administrator"])
def test_well_known_and_local_identities(user):
    assert run(ACL, _host(), path=SITE, user=user, rights="Read", type="allow")["changed"] is True


def test_app_pool_identity_needs_web_scripting_tools():
    state = _with_iis(_host(), tools=False)
    res = run(ACL, state, path=SITE, user="IIS APPPOOL\\mcms", rights="Read", type="allow")
    assert res["msg"] == ("Unhandled exception while executing module: The specified module 'WebAdministration' "
                          "was not loaded because no valid module file was found in any module directory.")


def test_app_pool_identity_granted():
    state = _with_iis(_host())
    res = run(ACL, state, path=SITE, user="IIS AppPool\\mcms", rights="ReadAndExecute", type="allow")
    assert res["changed"] is True
    assert _explicit(state, SITE)[0]["identity"] == "IIS APPPOOL\\mcms"


def test_missing_app_pool_is_unhandled():
    state = _with_iis(_host())
    res = run(ACL, state, path=SITE, user="IIS APPPOOL\\other", rights="Read", type="allow")
    assert res["msg"] == ("Unhandled exception while executing module: Cannot find path 'IIS:\\AppPools\\other' "
                          "because it does not exist.")


def test_invalid_right_fails_with_cast_error():
    res = run(ACL, _host(), path=SITE, user="IIS_IUSRS", rights="Read,Browse", type="allow")
    assert res["msg"].startswith(f"an error occurred when attempting to present Read,Browse permission(s) on {SITE} "
                                 "for IIS_IUSRS - Cannot convert value \"Read,Browse\" to type "
                                 "\"System.Security.AccessControl.FileSystemRights\"")
    assert "ListDirectory, ReadData, WriteData" in res["msg"]


def test_missing_path_fails():
    res = run(ACL, _host(), path="D:\\nope", user="IIS_IUSRS", rights="Read", type="allow")
    assert res["msg"] == "D:\\nope file or directory does not exist on the host"


def test_registry_paths_fail_loudly():
    with pytest.raises(SimulatorError):
        run(ACL, _host(), path="HKLM:\\SOFTWARE\\x", user="Users", rights="ReadKey", type="allow")


@pytest.mark.parametrize(("mask", "text"), [
    (0x1F01FF, "FullControl"), (0x1301BF, "Modify, Synchronize"), (0x1200A9, "ReadAndExecute, Synchronize"),
    (0x6, "CreateFiles, AppendData"), (0x80120089, "-2146303863"),
])
def test_rights_render_like_dotnet(mask, text):
    assert acl.fs_rights_string(mask) == text


# -- private keys through Cert: paths -------------------------------------------------

@pytest.fixture(scope="module")
def pfx():
    key, der = certificates.self_signed_for_tests("web01.corp.example", dns_names=["web01.corp.example"])
    data = pkcs12.serialize_key_and_certificates(None, key, x509.load_der_x509_certificate(der), None,
                                                 serialization.BestAvailableEncryption(b"pw"))
    return data, certificates.entry_from_der(der)["thumbprint"]


def test_cert_path_grants_private_key_read_to_app_pool(pfx):
    data, thumb = pfx
    state = _with_iis(_host())
    st.write_file(state, "C:\\Windows\\Temp\\w.pfx", data, "2026-01-10T00:00:00Z")
    run("ansible.windows.win_certificate_store", state, path="C:\\Windows\\Temp\\w.pfx", password="pw",
        key_storage="machine")
    args = {"path": f"Cert:\\LocalMachine\\My\\{thumb}", "user": "IIS APPPOOL\\mcms", "rights": "Read",
            "type": "allow"}
    checked = run(ACL, state, check=True, **args)
    assert checked["changed"] is True
    assert checked.untouched
    assert run(ACL, state, **args)["changed"] is True
    entry = state["certificates"]["LocalMachine"]["My"][thumb]
    granted = [a for a in certificates.key_acl(state, entry) if a["identity"] == "IIS APPPOOL\\mcms"]
    assert granted == [dict(granted[0], rights="-2146303863", type="allow", inheritance="None")]
    assert run(ACL, state, **args)["changed"] is False


def test_cert_path_without_private_key_fails(pfx):
    _, thumb = pfx
    state = _host()
    root = next(iter(state["certificates"]["LocalMachine"]["Root"]))
    res = run(ACL, state, path=f"Cert:\\LocalMachine\\Root\\{root}", user="Users", rights="Read", type="allow")
    assert res["msg"].endswith('Exception calling ".ctor" with "1" argument(s): "Cannot find the certificate and '
                               'private key for decryption"')
    missing = run(ACL, state, path=f"Cert:\\LocalMachine\\My\\{thumb}", user="Users", rights="Read", type="allow")
    assert missing["msg"] == f"Cert:\\LocalMachine\\My\\{thumb} file or directory does not exist on the host"


# -- win_acl_inheritance -------------------------------------------------------------

def test_disable_inheritance_check_apply_idempotent_with_diff():
    state = _host()
    checked = run(INH, state, check=True, diff=True, path=SITE)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"state": "present"}, "after": {"state": "absent"}}
    assert checked.untouched
    assert run(INH, state, path=SITE)["changed"] is True
    assert st.get_item(state, SITE)["inherit"] is False
    assert st.get_item(state, SITE)["acl"] == []
    assert run(INH, state, path=SITE)["changed"] is False


def test_disable_with_reorganize_copies_inherited_aces():
    state = _host()
    run(INH, state, path=SITE, reorganize=True)
    identities = [a["identity"] for a in st.get_item(state, SITE)["acl"]]
    assert identities == ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators", "BUILTIN\\Users"]
    assert all(a["inherited"] is False for a in st.get_item(state, SITE)["acl"])


def test_enable_with_reorganize_drops_duplicates_of_inherited():
    state = _host()
    run(INH, state, path=SITE, reorganize=True)
    run(ACL, state, path=SITE, user="IIS_IUSRS", rights="Read", type="allow")
    res = run(INH, state, path=SITE, state="present", reorganize=True, diff=True)
    assert res["changed"] is True
    assert res["diff"]["after"] == {"state": "present"}
    assert [a["identity"] for a in st.get_item(state, SITE)["acl"]] == ["BUILTIN\\IIS_IUSRS"]


def test_inheritance_missing_path_fails():
    res = run(INH, _host(), path="D:\\nope")
    assert res["msg"] == "D:\\nope does not exist"


def test_inherit_takes_the_comma_separated_flags_of_upstreams_example(run_module):
    """The doc lists ``choices: [ContainerInherit, ObjectInherit]`` but the
    Legacy code declares no ValidateSet: the code wins (the old code refused
    upstream's own example ``inherit: ContainerInherit, ObjectInherit``)."""
    args = {"path": "C:\\Users", "user": "BUILTIN\\Users", "rights": "Read", "type": "allow",
            "inherit": "ContainerInherit, ObjectInherit", "propagation": "None"}
    result, state = run_module("ansible.windows.win_acl", args)
    assert not result.get("failed"), result
    assert result["changed"]
    result, _ = run_module("ansible.windows.win_acl", args, state=state)
    assert not result.get("failed"), result
    assert not result["changed"]
