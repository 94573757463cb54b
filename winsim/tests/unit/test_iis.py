"""Tests of the ``microsoft.iis`` models (microsoft.iis 1.3.0) and of the IIS
state helpers other models use (baseline install, URL resolution,
effective authentication)."""

from __future__ import annotations

import copy
import typing as t
import xml.etree.ElementTree as ET

import pytest
from iis_ad_support import WHEN, fresh, iis_host, rhythm, run

from winsim import state as st
from winsim.models import iis, iis_sites
from winsim.models._base import MODELS

POOL = "microsoft.iis.web_app_pool"
POOL_INFO = "microsoft.iis.web_app_pool_info"
SITE = "microsoft.iis.website"
SITE_INFO = "microsoft.iis.website_info"
APP = "microsoft.iis.web_application"
APP_INFO = "microsoft.iis.web_application_info"
VDIR = "microsoft.iis.virtual_directory"
VDIR_INFO = "microsoft.iis.virtual_directory_info"
AUTH = "microsoft.iis.authentication"
APPHOST = "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"
DICT = "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
THUMB = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"


@pytest.fixture
def host() -> dict[str, t.Any]:
    h = iis_host()
    st.make_dirs(h, "D:\\sites\\mcms", WHEN)
    st.make_dirs(h, "D:\\sites\\mcms-v2", WHEN)
    st.make_dirs(h, "D:\\sites\\api", WHEN)
    return h


def _add_cert(h: dict[str, t.Any], thumb: str = THUMB, store: str = "My") -> None:
    h.setdefault("certificates", {}).setdefault("LocalMachine", {}).setdefault(store, {})[thumb] = {
        "thumbprint": thumb, "subject": "CN=mcms.example.internal"}


def _site(h: dict[str, t.Any], name: str = "MCMS", **params: t.Any) -> t.Any:
    params.setdefault("physical_path", "D:\\sites\\mcms")
    return run(SITE, h, name=name, **params)


# -- registration and baseline ----------------------------------------------------------------

@pytest.mark.parametrize("fqcn", [POOL, POOL_INFO, SITE, SITE_INFO, APP, APP_INFO, VDIR, VDIR_INFO, AUTH])
def test_models_name_upstream_version(fqcn: str) -> None:
    assert MODELS[fqcn].upstream == "microsoft.iis 1.3.0"


def test_fresh_host_has_no_iis() -> None:
    assert fresh()["iis"] == {"installed": False, "app_pools": {}, "sites": {}, "authentication": {}}


@pytest.mark.parametrize(("fqcn", "params", "prefix"), [
    (POOL, {"name": "p"}, "Unhandled exception while executing module: "),
    (POOL_INFO, {}, "Unhandled exception while executing module: "),
    (SITE, {"name": "s"}, "Unhandled exception while executing module: "),
    (SITE_INFO, {}, "Unhandled exception while executing module: "),
    (APP, {"name": "a", "site": "s"}, "Unhandled exception while executing module: "),
    (APP_INFO, {}, "Failed to load WebAdministration module, Exception: "),
    (VDIR, {"name": "v", "site": "s", "physical_path": "C:\\Windows"},
     "Unhandled exception while executing module: "),
    (VDIR_INFO, {}, "Failed to ensure WebAdministration module is loaded: "),
    (AUTH, {"site": "s", "auth_type": "WindowsAuthentication"},
     "Failed to ensure WebAdministration module is loaded: "),
])
def test_modules_fail_without_web_server_role(fqcn: str, params: dict[str, t.Any], prefix: str) -> None:
    r = run(fqcn, fresh(), **params)
    assert r.failed
    assert r["msg"] == prefix + ("The specified module 'WebAdministration' was not loaded because no valid module "
                                 "file was found in any module directory.")


def test_baseline_default_pool_has_iis10_defaults() -> None:
    pool = iis_host()["iis"]["app_pools"]["DefaultAppPool"]
    attrs = pool["attributes"]
    assert pool["state"] == "Started"
    assert attrs["managedRuntimeVersion"] == "v4.0"
    assert attrs["managedPipelineMode"] == "Integrated"
    assert attrs["processModel.identityType"] == "ApplicationPoolIdentity"
    assert attrs["processModel.idleTimeout"] == "00:20:00"
    assert attrs["recycling.periodicRestart.time"] == "1.05:00:00"
    assert attrs["startMode"] == "OnDemand"
    assert attrs["queueLength"] == 1000
    # the well-known virtual account SID of IIS APPPOOL\DefaultAppPool
    assert attrs["applicationPoolSid"] == "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"


def test_baseline_default_web_site() -> None:
    site = iis_host()["iis"]["sites"]["Default Web Site"]
    assert site["id"] == 1
    assert site["state"] == "Started"
    assert site["physical_path"] == "%SystemDrive%\\inetpub\\wwwroot"
    assert site["application_pool"] == "DefaultAppPool"
    assert [iis_sites._binding_info(b) for b in site["bindings"]] == ["*:80:"]
    assert site["bindings"][0]["protocol"] == "http"


def test_baseline_through_win_feature_writes_application_host_config() -> None:
    h = iis_host()
    root = ET.fromstring(st.read_file(h, APPHOST))
    assert root.find("system.webServer/httpProtocol/customHeaders") is not None
    assert st.exists(h, "C:\\inetpub\\wwwroot")


def test_baseline_is_idempotent() -> None:
    h = iis_host()
    snapshot = copy.deepcopy(h)
    assert iis.ensure_iis_baseline(h, WHEN) is False
    assert h == snapshot


def test_baseline_on_bare_state_and_removal() -> None:
    h = fresh()
    assert iis.ensure_iis_baseline(h, WHEN) is True
    assert st.exists(h, "C:\\inetpub\\wwwroot")
    assert list(h["iis"]["sites"]) == ["Default Web Site"]
    assert iis.remove_iis(h) is True
    assert h["iis"] == {"installed": False, "app_pools": {}, "sites": {}, "authentication": {}}
    assert st.exists(h, "C:\\inetpub\\wwwroot")
    assert iis.remove_iis(h) is False


def test_web_server_removal_through_win_feature_clears_iis() -> None:
    h = iis_host()
    r = run("ansible.windows.win_feature", h, name=["Web-Server"], state="absent")
    assert r.changed
    assert h["iis"]["installed"] is False
    assert h["iis"]["sites"] == {}


# -- web_app_pool ----------------------------------------------------------------------------------

def test_pool_create_rhythm(host: dict[str, t.Any]) -> None:
    attrs = {"managedRuntimeVersion": "", "managedPipelineMode": "Integrated", "startMode": "AlwaysRunning",
             "processModel.idleTimeout": "00:00:00", "recycling.periodicRestart.time": "00:00:00"}
    check, apply, again = rhythm(POOL, host, name="mcms", state="started", attributes=attrs)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not apply.untouched
    assert not again.changed
    assert again.untouched
    pool = host["iis"]["app_pools"]["mcms"]
    assert pool["state"] == "Started"
    assert pool["attributes"]["managedRuntimeVersion"] == ""
    assert pool["attributes"]["startMode"] == "AlwaysRunning"
    assert pool["attributes"]["processModel.idleTimeout"] == "00:00:00"
    assert set(apply.result) == {"changed"}


@pytest.mark.parametrize(("first", "second"), [
    (1, "Classic"),
    ("Classic", 1),
    ("classic", "Classic"),
    ("1", "Classic"),
])
def test_pool_enum_forms_are_equivalent(host: dict[str, t.Any], first: t.Any, second: t.Any) -> None:
    assert run(POOL, host, name="p", attributes={"managedPipelineMode": first}).changed
    assert host["iis"]["app_pools"]["p"]["attributes"]["managedPipelineMode"] == "Classic"
    assert not run(POOL, host, name="p", attributes={"managedPipelineMode": second}).changed


@pytest.mark.parametrize(("value", "stored"), [
    ("00:00:05:00.000000", "00:05:00"),
    ("00:05:00", "00:05:00"),
    ("1.05:00:00", "1.05:00:00"),
    ("2", "2.00:00:00"),
    (36000000000, "01:00:00"),  # an integer is a tick count, as "-as [TimeSpan]" reads it
])
def test_pool_timespan_conversion(host: dict[str, t.Any], value: t.Any, stored: str) -> None:
    assert run(POOL, host, name="p", attributes={"recycling.periodicRestart.time": value}).changed
    assert host["iis"]["app_pools"]["p"]["attributes"]["recycling.periodicRestart.time"] == stored
    assert not run(POOL, host, name="p", attributes={"recycling.periodicRestart.time": stored}).changed


def test_pool_identity_number_equals_name(host: dict[str, t.Any]) -> None:
    attrs = {"processModel.identityType": "SpecificUser", "processModel.userName": "CORP\\svc_mcms",
             "processModel.password": "S3cret!"}
    assert run(POOL, host, name="p", attributes=attrs).changed
    again = dict(attrs, **{"processModel.identityType": 3, "processModel.userName": "corp\\SVC_MCMS"})
    assert not run(POOL, host, name="p", attributes=again).changed


def test_pool_password_is_stored_as_digest_only(host: dict[str, t.Any]) -> None:
    run(POOL, host, name="p", attributes={"processModel.password": "S3cret!"})
    stored = host["iis"]["app_pools"]["p"]["attributes"]["processModel.password"]
    assert stored.startswith("sha256:")
    assert "S3cret!" not in repr(host)
    assert run(POOL, host, name="p", attributes={"processModel.password": "Other1!"}).changed


def test_pool_string_false_casts_to_true_like_powershell(host: dict[str, t.Any]) -> None:
    # "$value -as [bool]" is $true for any non-empty string, so the string
    # "false" does not disable autoStart on a real host either.
    r = run(POOL, host, name="DefaultAppPool", attributes={"autoStart": "false"})
    assert not r.changed
    assert run(POOL, host, name="DefaultAppPool", attributes={"autoStart": False}).changed


def test_pool_unknown_attribute_passes_check_mode_and_fails_on_apply(host: dict[str, t.Any]) -> None:
    check = run(POOL, host, check=True, name="DefaultAppPool", attributes={"processModel.nope": 1})
    assert check.changed
    assert not check.failed
    assert check.untouched
    apply = run(POOL, host, name="DefaultAppPool", attributes={"processModel.nope": 1})
    assert apply.failed
    assert apply["msg"].startswith("Failed to set attribute to Web App Pool DefaultAppPool. "
                                   "Attribute: processModel.nope, Value: 1, Exception: Property processModel.nope "
                                   "is not found on")


@pytest.mark.parametrize(("attribute", "value", "exception"), [
    ("managedPipelineMode", "Turbo", "Enum must be one of Integrated, Classic"),
    ("queueLength", 5, "Value must be between 10 and 65535"),
    ("queueLength", "lots", 'Cannot convert value "lots" to type "System.UInt32".'),
    ("processModel.idleTimeout", "25:00:00", 'Cannot convert value "25:00:00" to type "System.TimeSpan".'),
])
def test_pool_invalid_values_fail_like_iis(host: dict[str, t.Any], attribute: str, value: t.Any,
                                           exception: str) -> None:
    r = run(POOL, host, name="DefaultAppPool", attributes={attribute: value})
    assert r.failed
    prefix = f"Failed to set attribute to Web App Pool DefaultAppPool. Attribute: {attribute}, Value: {value}, "
    assert r["msg"].startswith(prefix + "Exception: " + exception)


def test_pool_schedule_collection(host: dict[str, t.Any]) -> None:
    attr = "recycling.periodicRestart.schedule"
    check = run(POOL, host, check=True, name="DefaultAppPool", attributes={attr: "00:10:00,10:10:00"})
    assert check.changed
    assert check.untouched
    assert run(POOL, host, name="DefaultAppPool", attributes={attr: "00:10:00,10:10:00"}).changed
    assert host["iis"]["app_pools"]["DefaultAppPool"]["attributes"][attr] == ["00:10:00", "10:10:00"]
    assert not run(POOL, host, name="DefaultAppPool", attributes={attr: ["00:10:00", "10:10:00"]}).changed
    assert run(POOL, host, name="DefaultAppPool", attributes={attr: []}).changed


@pytest.mark.parametrize(("initial", "wanted", "changed", "final"), [
    ("Started", "started", False, "Started"),
    ("Started", "present", False, "Started"),
    ("Started", "stopped", True, "Stopped"),
    ("Stopped", "stopped", False, "Stopped"),
    ("Stopped", "started", True, "Started"),
    ("Stopped", "restarted", True, "Started"),
    ("Started", "restarted", True, "Started"),
    ("Stopped", "present", False, "Stopped"),
])
def test_pool_run_state(host: dict[str, t.Any], initial: str, wanted: str, changed: bool, final: str) -> None:
    host["iis"]["app_pools"]["DefaultAppPool"]["state"] = initial
    check = run(POOL, host, check=True, name="DefaultAppPool", state=wanted)
    assert check.changed is changed
    assert check.untouched
    assert run(POOL, host, name="DefaultAppPool", state=wanted).changed is changed
    assert host["iis"]["app_pools"]["DefaultAppPool"]["state"] == final


@pytest.mark.parametrize(("wanted", "verb"), [("started", "start"), ("restarted", "restart")])
def test_pool_start_fault(host: dict[str, t.Any], wanted: str, verb: str) -> None:
    faults = [{"kind": "app_pool_start", "target": "mcms"}]
    run(POOL, host, name="mcms", state="stopped")
    if wanted == "restarted":
        host["iis"]["app_pools"]["mcms"]["state"] = "Started"
    r = run(POOL, host, name="mcms", state=wanted, faults=faults)
    assert r.failed
    assert r["msg"] == (f"Failed to {verb} Web App Pool mcms: The service cannot accept control messages at this "
                        "time. (Exception from HRESULT: 0x80070425)")
    assert host["iis"]["app_pools"]["mcms"]["state"] == "Stopped"


def test_pool_start_fault_custom_message_and_new_pool(host: dict[str, t.Any]) -> None:
    faults = [{"kind": "app_pool_start", "target": "MCMS", "message": "identity logon failure"}]
    r = run(POOL, host, name="mcms", state="started", faults=faults)
    assert r.failed
    assert r["msg"] == "Failed to start Web App Pool mcms: identity logon failure"
    assert host["iis"]["app_pools"]["mcms"]["state"] == "Stopped"


def test_pool_absent(host: dict[str, t.Any]) -> None:
    check, apply, again = rhythm(POOL, host, name="DefaultAppPool", state="absent")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert "DefaultAppPool" not in host["iis"]["app_pools"]
    assert not again.changed


def test_pool_new_in_check_mode_skips_attribute_validation(host: dict[str, t.Any]) -> None:
    r = run(POOL, host, check=True, name="new", attributes={"bogus": 1}, state="started")
    assert r.changed
    assert not r.failed
    assert r.untouched


# -- web_app_pool_info ---------------------------------------------------------------------------------

def test_pool_info_shape(host: dict[str, t.Any]) -> None:
    run(POOL, host, name="p", attributes={"processModel.password": "x", "cpu.limit": 95})
    r = run(POOL_INFO, host, name="p")
    assert r["exists"] is True
    assert not r.changed
    info = r["app_pools"][0]
    assert info["name"] == "p"
    attrs = info["attributes"]
    assert attrs["cpu"]["limit"] == 95
    assert attrs["processModel"]["identityType"] == "ApplicationPoolIdentity"
    assert "password" not in attrs["processModel"]
    assert attrs["recycling"]["periodicRestart"] == {"memory": 0, "privateMemory": 0, "requests": 0,
                                                     "time": "1.05:00:00"}
    assert attrs["state"] == "Started"
    assert attrs["managedRuntimeVersion"] == "v4.0"


def test_pool_info_all_and_missing(host: dict[str, t.Any]) -> None:
    run(POOL, host, name="p")
    r = run(POOL_INFO, host)
    assert [p["name"] for p in r["app_pools"]] == ["DefaultAppPool", "p"]
    missing = run(POOL_INFO, host, name="nope")
    assert missing.failed
    assert missing["msg"] == ("Failed to fetch the info of the required application pool Exception: Cannot find "
                              "path 'IIS:\\AppPools\\nope' because it does not exist.")


# -- website ------------------------------------------------------------------------------------------------

def test_site_create_rhythm(host: dict[str, t.Any]) -> None:
    run(POOL, host, name="mcms")
    params = {"name": "MCMS", "physical_path": "D:\\sites\\mcms", "application_pool": "mcms",
              "bindings": {"set": [{"ip": "*", "port": 8080, "hostname": "mcms.example.internal"}]}}
    check, apply, again = rhythm(SITE, host, **params)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    assert again.untouched
    site = host["iis"]["sites"]["MCMS"]
    assert site["id"] == 2
    assert site["state"] == "Started"
    assert site["application_pool"] == "mcms"
    assert [iis_sites._binding_info(b) for b in site["bindings"]] == ["*:8080:mcms.example.internal"]
    assert set(apply.result) == {"changed"}


@pytest.mark.parametrize(("physical_path", "msg"), [
    (None, "missing required arguments: physical_path"),
    ("D:\\nowhere", "specified folder must already exist: physical_path"),
    ("%SystemDrive%\\inetpub\\wwwroot", "specified folder must already exist: physical_path"),
])
def test_site_create_needs_existing_folder(host: dict[str, t.Any], physical_path: str | None, msg: str) -> None:
    r = run(SITE, host, name="new", physical_path=physical_path)
    assert r.failed
    assert r["msg"] == msg


def test_site_id_given_and_duplicate(host: dict[str, t.Any]) -> None:
    assert _site(host, site_id="7", state="stopped").changed
    assert host["iis"]["sites"]["MCMS"]["id"] == 7
    # in check mode New-Website is not called, so a taken ID is not detected
    assert run(SITE, host, check=True, name="other", physical_path="D:\\sites\\api", site_id="1").changed
    r = run(SITE, host, name="other", physical_path="D:\\sites\\api", site_id="1")
    assert r.failed
    assert r["msg"] == (f"{DICT} - Cannot add duplicate collection entry of type 'site' with unique key attribute "
                        "'id' set to '1'")


def test_site_physical_path_compares_full_name(host: dict[str, t.Any]) -> None:
    r = run(SITE, host, name="Default Web Site", physical_path="C:\\inetpub\\wwwroot")
    assert r.changed  # "%SystemDrive%\inetpub\wwwroot" is not the folder's FullName
    assert host["iis"]["sites"]["Default Web Site"]["physical_path"] == "C:\\inetpub\\wwwroot"
    assert not run(SITE, host, name="Default Web Site", physical_path="c:/inetpub/wwwroot").changed


@pytest.mark.parametrize(("bindings", "expected"), [
    ({"set": []}, []),
    ({"set": [{"ip": "*", "port": 8081, "hostname": "a"}]}, ["*:8081:a"]),
    ({"add": [{"ip": "*", "port": 8081, "hostname": "a"}]}, ["*:80:", "*:8081:a"]),
    ({"remove": [{"ip": "*", "port": 80}]}, []),
    ({"remove": [{"ip": "*", "port": 81}]}, ["*:80:"]),
    ({"remove": [{"port": 80}]}, ["*:80:"]),  # ":80:" never matches "*:80:"
])
def test_site_binding_semantics(host: dict[str, t.Any], bindings: dict[str, t.Any], expected: list[str]) -> None:
    site = host["iis"]["sites"]["Default Web Site"]
    before = [iis_sites._binding_info(b) for b in site["bindings"]]
    check = run(SITE, host, check=True, name="Default Web Site", bindings=bindings)
    assert check.untouched
    assert check.changed is (before != expected)
    apply = run(SITE, host, name="Default Web Site", bindings=bindings)
    assert apply.changed is (before != expected)
    assert [iis_sites._binding_info(b) for b in site["bindings"]] == expected
    assert not run(SITE, host, name="Default Web Site", bindings=bindings).changed


def test_site_https_binding_needs_certificate_in_store(host: dict[str, t.Any]) -> None:
    https = {"ip": "*", "port": 443, "hostname": "mcms.example.internal", "protocol": "https", "use_sni": True,
             "certificate_hash": THUMB}
    r = _site(host, bindings={"set": [https]})
    assert r.failed
    assert r["msg"] == f"Unable to locate certificate at cert:\\LocalMachine\\my\\{THUMB}"


def test_site_https_sni_binding_rhythm(host: dict[str, t.Any]) -> None:
    _add_cert(host)
    https = {"ip": "*", "port": 443, "hostname": "mcms.example.internal", "protocol": "https", "use_sni": True,
             "certificate_hash": THUMB.lower(), "certificate_store_name": "My"}
    check, apply, again = rhythm(SITE, host, name="MCMS", physical_path="D:\\sites\\mcms",
                                 bindings={"set": [https]})
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    info = run(SITE_INFO, host, name="MCMS")["site"][0]
    assert info["bindings"] == [{"ip": "*", "port": 443, "hostname": "mcms.example.internal", "protocol": "https",
                                 "use_ccs": False, "use_sni": True, "certificate_hash": THUMB,
                                 "certificate_store_name": "My"}]


def test_site_rebind_certificate(host: dict[str, t.Any]) -> None:
    new_thumb = "F" * 40
    _add_cert(host)
    _add_cert(host, new_thumb, "WebHosting")
    https = {"ip": "*", "port": 443, "hostname": "h", "protocol": "https", "use_sni": True, "certificate_hash": THUMB}
    _site(host, bindings={"set": [https]})
    moved = dict(https, certificate_hash=new_thumb, certificate_store_name="WebHosting")
    check = _site(host, check=True, bindings={"add": [moved]})
    assert check.changed
    assert check.untouched
    assert _site(host, bindings={"add": [moved]}).changed
    b = host["iis"]["sites"]["MCMS"]["bindings"][0]
    assert (b["certificate_hash"], b["certificate_store_name"]) == (new_thumb, "WebHosting")
    assert not _site(host, bindings={"add": [moved]}).changed


def test_site_edit_https_binding_without_protocol_fails(host: dict[str, t.Any]) -> None:
    # editing an existing SNI binding with the default protocol (http) keeps use_sni from the site
    _add_cert(host)
    https = {"ip": "*", "port": 443, "hostname": "h", "protocol": "https", "use_sni": True, "certificate_hash": THUMB}
    _site(host, bindings={"set": [https]})
    r = _site(host, bindings={"add": [{"ip": "*", "port": 443, "hostname": "h"}]})
    assert r.failed
    assert r["msg"] == "use_sni can only be set for https protocol"


@pytest.mark.parametrize(("binding", "msg"), [
    ({"ip": "*", "port": 443, "protocol": "https", "use_sni": True, "certificate_hash": THUMB},
     "must specify hostname value when use_sni is set."),
    ({"ip": "*", "port": 80, "hostname": "h", "use_sni": True}, "use_sni can only be set for https protocol"),
    ({"ip": "*", "port": 443, "hostname": "h", "protocol": "https"},
     "must either specify a certificate_hash or use_ccs."),
    ({"ip": "*", "port": 80, "hostname": "h", "certificate_hash": THUMB},
     "You can only provide a certificate thumbprint when protocol is set to https"),
    ({"ip": "*", "port": 443, "protocol": "https", "use_ccs": True, "hostname": ""},
     "must specify hostname value when use_ccs is set."),
])
def test_site_binding_validation(host: dict[str, t.Any], binding: dict[str, t.Any], msg: str) -> None:
    _add_cert(host)
    r = run(SITE, host, check=True, name="Default Web Site", bindings={"add": [binding]})
    assert r.failed
    assert r["msg"] == msg


def test_site_binding_conflict_fails_start(host: dict[str, t.Any]) -> None:
    r = _site(host, bindings={"set": [{"ip": "*", "port": 80}]})
    assert r.failed
    assert r["msg"] == (f"{DICT} - Cannot create a file when that file already exists. "
                        "(Exception from HRESULT: 0x800700B7)")
    site = host["iis"]["sites"]["MCMS"]
    assert site["state"] == "Stopped"


def test_site_starts_once_default_site_is_stopped(host: dict[str, t.Any]) -> None:
    assert run(SITE, host, name="Default Web Site", state="stopped").changed
    r = _site(host, bindings={"set": [{"ip": "*", "port": 80}]})
    assert r.changed
    assert not r.failed
    assert host["iis"]["sites"]["MCMS"]["state"] == "Started"


def test_site_without_binding_cannot_start(host: dict[str, t.Any]) -> None:
    _site(host, state="stopped")
    r = _site(host, state="started")
    assert r.failed
    assert r["msg"] == (f"{DICT} - The object identifier does not represent a valid object. "
                        "(Exception from HRESULT: 0x800710D8)")


@pytest.mark.parametrize(("wanted", "changed", "final"), [
    ("started", False, "Started"),
    ("stopped", True, "Stopped"),
    ("restarted", True, "Started"),
])
def test_site_run_state(host: dict[str, t.Any], wanted: str, changed: bool, final: str) -> None:
    check = run(SITE, host, check=True, name="Default Web Site", state=wanted)
    assert check.changed is changed
    assert check.untouched
    assert run(SITE, host, name="Default Web Site", state=wanted).changed is changed
    assert host["iis"]["sites"]["Default Web Site"]["state"] == final
    assert run(SITE, host, name="Default Web Site", state=wanted).changed is (wanted == "restarted")


def test_site_preload_and_pool(host: dict[str, t.Any]) -> None:
    check, apply, again = rhythm(SITE, host, name="Default Web Site", preload_enabled=True, application_pool="x")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    site = host["iis"]["sites"]["Default Web Site"]
    assert site["preload_enabled"] is True
    assert site["application_pool"] == "x"


def test_site_absent(host: dict[str, t.Any]) -> None:
    check, apply, again = rhythm(SITE, host, name="default web site", state="absent")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    assert host["iis"]["sites"] == {}


def test_site_site_start_fault(host: dict[str, t.Any]) -> None:
    run(SITE, host, name="Default Web Site", state="stopped")
    r = run(SITE, host, name="Default Web Site", state="started",
            faults=[{"kind": "site_start", "target": "Default Web Site", "message": "boom"}])
    assert r.failed
    assert r["msg"] == f"{DICT} - boom"


# -- website_info --------------------------------------------------------------------------------------------

def test_site_info(host: dict[str, t.Any]) -> None:
    r = run(SITE_INFO, host, name="Default Web Site")
    assert r["exists"] is True
    assert not r.changed
    assert r["site"] == [{"name": "Default Web Site", "site_id": 1, "state": "Started",
                          "physical_path": "%SystemDrive%\\inetpub\\wwwroot", "application_pool": "DefaultAppPool",
                          "bindings": [{"ip": "*", "port": 80, "hostname": "", "protocol": "http", "use_ccs": False,
                                        "use_sni": False, "certificate_hash": "", "certificate_store_name": ""}]}]


def test_site_info_missing_and_all(host: dict[str, t.Any]) -> None:
    assert run(SITE_INFO, host, name="nope").result == {"changed": False, "exists": False, "site": []}
    _site(host, state="stopped")
    assert [s["name"] for s in run(SITE_INFO, host)["site"]] == ["Default Web Site", "MCMS"]


# -- web_application -------------------------------------------------------------------------------------------

def test_app_rhythm_and_info(host: dict[str, t.Any]) -> None:
    check, apply, again = rhythm(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    info = run(APP_INFO, host, site="Default Web Site")
    assert info["exists"] is True
    assert info["applications"] == [{"name": "api", "site": "Default Web Site", "connect_as": "pass_through",
                                     "username": "", "application_pool": "DefaultAppPool",
                                     "physical_path": "D:\\sites\\api", "enabled_protocols": "http"}]


@pytest.mark.parametrize(("params", "msg"), [
    ({}, "missing required arguments: physical_path"),
    ({"physical_path": "D:\\nope"}, "specified folder must already exist: 'D:\\nope'"),
    ({"physical_path": "D:\\sites\\api", "connect_as": "specific_user"}, "missing required arguments: username"),
    ({"physical_path": "D:\\sites\\api", "connect_as": "specific_user", "username": "u"},
     "missing required arguments: password"),
])
def test_app_failures(host: dict[str, t.Any], params: dict[str, t.Any], msg: str) -> None:
    r = run(APP, host, name="api", site="Default Web Site", **params)
    assert r.failed
    assert r["msg"] == msg


def test_app_missing_site_fails_only_when_applied(host: dict[str, t.Any]) -> None:
    assert run(APP, host, check=True, name="api", site="nope", physical_path="D:\\sites\\api").changed
    r = run(APP, host, name="api", site="nope", physical_path="D:\\sites\\api")
    assert r.failed
    assert r["msg"] == "Cannot find path 'IIS:\\Sites\\nope' because it does not exist."


def test_app_follows_site_pool_when_not_given(host: dict[str, t.Any]) -> None:
    run(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api")
    run(SITE, host, name="Default Web Site", application_pool="mcms")
    r = run(APP, host, name="api", site="Default Web Site")
    assert r.changed
    assert host["iis"]["sites"]["Default Web Site"]["applications"]["/api"]["application_pool"] == "mcms"


def test_app_specific_user_and_back(host: dict[str, t.Any]) -> None:
    base = {"name": "api", "site": "Default Web Site", "physical_path": "D:\\sites\\api"}
    run(APP, host, **base)
    check, apply, again = rhythm(APP, host, connect_as="specific_user", username="CORP\\u", password="pw", **base)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    app = host["iis"]["sites"]["Default Web Site"]["applications"]["/api"]
    assert app["username"] == "CORP\\u"
    assert app["password"].startswith("sha256:")
    assert run(APP_INFO, host, name="api")["applications"][0]["connect_as"] == "specific_user"
    assert run(APP, host, connect_as="pass_through", **base).changed
    assert app["username"] == ""
    assert app["password"] == ""


def test_app_absent(host: dict[str, t.Any]) -> None:
    run(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api")
    run(VDIR, host, name="docs", site="Default Web Site", application="api", physical_path="D:\\sites\\mcms")
    check, apply, again = rhythm(APP, host, name="api", site="Default Web Site", state="absent")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    site = host["iis"]["sites"]["Default Web Site"]
    assert site["applications"] == {}
    assert site["virtual_directories"] == {}


# -- virtual_directory ---------------------------------------------------------------------------------------------

def test_vdir_rhythm_update_and_info(host: dict[str, t.Any]) -> None:
    params = {"name": "docs", "site": "Default Web Site", "physical_path": "D:\\sites\\mcms"}
    check, apply, again = rhythm(VDIR, host, **params)
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed
    assert run(VDIR, host, **dict(params, physical_path="D:\\sites\\mcms-v2")).changed
    info = run(VDIR_INFO, host, site="Default Web Site")
    assert info["directories"] == [{"name": "docs", "site": "Default Web Site", "physical_path": "D:\\sites\\mcms-v2",
                                    "application": "", "username": "", "connect_as": "pass_through"}]


@pytest.mark.parametrize(("params", "msg"), [
    ({"connect_as": "specific_user"}, "Both username and password are required."),
    ({"connect_as": "specific_user", "password": "p"}, "Username is required."),
    ({"connect_as": "specific_user", "username": "u"}, "Password is required."),
    ({"physical_path": None}, "missing required arguments: physical_path"),
    ({"physical_path": "D:\\nope"}, "specified folder must already exist: 'D:\\nope'"),
])
def test_vdir_failures(host: dict[str, t.Any], params: dict[str, t.Any], msg: str) -> None:
    full = dict({"name": "docs", "site": "Default Web Site", "physical_path": "D:\\sites\\mcms"}, **params)
    r = run(VDIR, host, **full)
    assert r.failed
    assert r["msg"] == msg


def test_vdir_on_application_and_absent(host: dict[str, t.Any]) -> None:
    run(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api")
    params = {"name": "docs", "site": "Default Web Site", "application": "api", "physical_path": "D:\\sites\\mcms"}
    assert run(VDIR, host, **params).changed
    info = run(VDIR_INFO, host, application="api")["directories"]
    assert [(d["name"], d["application"]) for d in info] == [("docs", "api")]
    check, apply, again = rhythm(VDIR, host, name="docs", site="Default Web Site", application="api", state="absent")
    assert check.changed
    assert check.untouched
    assert apply.changed
    assert not again.changed


def test_vdir_absent_on_physical_folder_deletes_it(host: dict[str, t.Any]) -> None:
    # Remove-Item through the IIS: drive deletes a physical folder of the same name
    st.make_dirs(host, "C:\\inetpub\\wwwroot\\old", WHEN)
    r = run(VDIR, host, name="old", site="Default Web Site", state="absent")
    assert r.changed
    assert not st.exists(host, "C:\\inetpub\\wwwroot\\old")


# -- authentication ---------------------------------------------------------------------------------------------

def test_auth_rhythm_with_diff(host: dict[str, t.Any]) -> None:
    params = {"site": "Default Web Site", "auth_type": "WindowsAuthentication", "enabled": True,
              "providers": ["Negotiate"], "use_kernel_mode": False}
    check = run(AUTH, host, check=True, diff=True, **params)
    before = {"enabled": False, "providers": ["Negotiate", "NTLM"], "use_kernel_mode": True, "token_checking": "None"}
    after = {"enabled": True, "providers": ["Negotiate"], "use_kernel_mode": False, "token_checking": "None"}
    assert check.changed
    assert check.untouched
    assert check["diff"] == {"before": before, "after": after}
    assert check["target"] == "IIS:\\Sites\\Default Web Site"
    apply = run(AUTH, host, diff=True, **params)
    assert apply.changed
    assert apply["diff"] == {"before": before, "after": after}
    again = run(AUTH, host, diff=True, **params)
    assert not again.changed
    assert again["diff"] == {"before": after, "after": after}
    assert "diff" not in run(AUTH, host, **params).result


def test_auth_inherits_from_site_to_application(host: dict[str, t.Any]) -> None:
    run(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api")
    run(AUTH, host, site="Default Web Site", auth_type="AnonymousAuthentication", enabled=False)
    r = run(AUTH, host, site="Default Web Site", application="api", auth_type="AnonymousAuthentication",
            enabled=False)
    assert not r.changed
    assert r["target"] == "IIS:\\Sites\\Default Web Site\\api"
    assert run(AUTH, host, site="Default Web Site", application="api", auth_type="AnonymousAuthentication",
               enabled=True).changed
    eff = iis.effective_authentication(host, "Default Web Site", "/api/orders")
    assert eff["AnonymousAuthentication"]["enabled"] is True
    assert iis.effective_authentication(host, "Default Web Site", "/")["AnonymousAuthentication"]["enabled"] is False


def test_auth_windows_only_options_warn(host: dict[str, t.Any]) -> None:
    r = run(AUTH, host, site="Default Web Site", auth_type="BasicAuthentication", providers=["NTLM"],
            token_checking="Allow")
    assert not r.changed
    assert r["warnings"] == ["The option(s) providers, token_checking are only valid with "
                             "auth_type=WindowsAuthentication and are ignored for BasicAuthentication."]


@pytest.mark.parametrize(("params", "msg"), [
    ({"site": "nope"}, "Unable to resolve an IIS site named 'nope'. Verify the site exists on the target host."),
    ({"site": "Default Web Site", "application": "nope"},
     "Unable to resolve an application or virtual directory named 'nope' under site 'Default Web Site'. "
     "Verify it exists on the target host."),
])
def test_auth_unresolved_target(host: dict[str, t.Any], params: dict[str, t.Any], msg: str) -> None:
    r = run(AUTH, host, auth_type="WindowsAuthentication", enabled=True, **params)
    assert r.failed
    assert r["msg"] == msg


# -- helpers for other models -----------------------------------------------------------------------------------

def test_resolve_url(host: dict[str, t.Any]) -> None:
    run(APP, host, name="api", site="Default Web Site", physical_path="D:\\sites\\api", application_pool="apipool")
    run(VDIR, host, name="docs", site="Default Web Site", physical_path="D:\\sites\\mcms")
    assert iis.resolve_url(host, "Default Web Site", "/health") == {
        "application": "/", "application_pool": "DefaultAppPool", "physical_path": "C:\\inetpub\\wwwroot\\health"}
    assert iis.resolve_url(host, "default web site", "/API/v1?x=1") == {
        "application": "/api", "application_pool": "apipool", "physical_path": "D:\\sites\\api\\v1"}
    assert iis.resolve_url(host, "Default Web Site", "/docs/a.html")["physical_path"] == "D:\\sites\\mcms\\a.html"
    assert iis.resolve_url(host, "nope", "/") is None


# -- through the runner (real Ansible.Basic validation of the upstream source) ------------------------------

def test_runner_web_tier_rhythm(run_module: t.Any) -> None:
    _, state = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]})
    st.make_dirs(state, "D:\\sites\\mcms", WHEN)
    pool = {"name": "mcms", "state": "started",
            "attributes": {"managedRuntimeVersion": "", "startMode": "AlwaysRunning",
                           "processModel.identityType": "SpecificUser", "processModel.userName": "CORP\\svc",
                           "processModel.password": "S3cret!"}}
    site = {"name": "MCMS", "physical_path": "D:\\sites\\mcms", "application_pool": "mcms",
            "bindings": {"set": [{"ip": "*", "port": 8080, "hostname": "mcms.corp.example"}]}}
    for fqcn, args in ((POOL, pool), (SITE, site)):
        result, after_check = run_module(fqcn, args, state=state, check_mode=True)
        assert result["changed"]
        assert after_check == state
        result, state = run_module(fqcn, args, state=state)
        assert result["changed"]
        result, again = run_module(fqcn, args, state=state)
        assert not result["changed"]
        assert again == state
    assert "S3cret!" not in repr(state)
    info, _ = run_module(SITE_INFO, {"name": "MCMS"}, state=state)
    assert info["site"][0]["bindings"][0]["hostname"] == "mcms.corp.example"


def test_runner_rejects_unknown_option(run_module: t.Any) -> None:
    result, _ = run_module(POOL, {"name": "p", "identity": "x"})
    assert result["failed"]
    assert "identity" in result["msg"]
