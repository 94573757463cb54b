"""Names resolve through the lab's DNS, and https calls check trust
(``models/http.py``: :func:`resolve`, :func:`artifact_tls_error`).

The lab is real files: host states in a state directory and the lab
declaration in ``<state_dir>/_lab/lab.json``, read through
``runtime.Lab``.  Each test that uses a declaration fails on the code
before it: that code resolved every name bound on any lab host's sites,
never consulted a DNS table and never checked the artifact server's
certificate.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from conftest import make_run_module

from winsim import state as st
from winsim.models import http, load_all, packages
from winsim.runtime import HostRuntime
from winsim.store import HostStore

load_all()

DOMAIN = "corp.mcms.internal"
SITE_NAME = f"mcms.{DOMAIN}"
WHEN = "2026-02-01T00:00:00Z"
BUNDLE = "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe"
RESOLVE_FAILED = ('Unhandled exception occurred when sending web request. Exception: Exception calling "GetResponse" '
                  'with "0" argument(s): "{}"')


def _ok(result: dict[str, t.Any]) -> dict[str, t.Any]:
    assert not result.get("failed"), result.get("msg")
    return result


def write_lab(state_dir, *, records=None, legacy=None, require_trust=None) -> None:
    spec: dict[str, t.Any] = {
        "format": 1, "name": "sim",
        "domain": {"dns_name": DOMAIN, "netbios": "CORP", "dc": "dc01"},
        "dns": {"records": records or {}},
        "hosts": {"web01": {"profile": "realistic", "roles": ["member"], "address": "10.20.0.11"},
                  "app01": {"profile": "realistic", "roles": ["member"], "address": "10.20.0.21"}},
    }
    if legacy is not None:
        spec["dns"]["host_sites_resolve_locally"] = legacy
    if require_trust is not None:
        spec["artifacts"] = {"require_trust": require_trust}
    (state_dir / "_lab").mkdir(parents=True, exist_ok=True)
    (state_dir / "_lab" / "lab.json").write_text(json.dumps(spec), encoding="utf-8")


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state"


def runner_for(state_dir, host: str):
    return make_run_module(HostRuntime(HostStore.for_host(host, state_dir=str(state_dir))))


@pytest.fixture
def lab(state_dir):
    """web01 serves site ``mcms`` bound to mcms.corp.mcms.internal on port 80
    (saved in the state directory); app01 is a second, bare host."""
    run = runner_for(state_dir, "web01")
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server"]}, hostname="web01")
    st.make_dirs(s, "D:\\sites\\mcms", WHEN)
    st.write_file(s, "D:\\sites\\mcms\\index.htm", b"<html>mcms</html>", WHEN)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "started"}, state=s)
    result, s = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": "D:\\sites\\mcms", "application_pool": "mcms",
        "bindings": {"set": [{"ip": "*", "port": 80, "hostname": SITE_NAME}]}}, state=s)
    _ok(result)
    s["host"]["domain"] = DOMAIN
    s["host"]["ip_addresses"] = ["10.20.0.11"]
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "web01.json").write_text(json.dumps(s), encoding="utf-8")
    app = st.fresh_state("app01")
    app["host"]["domain"] = DOMAIN
    app["host"]["ip_addresses"] = ["10.20.0.21"]
    (state_dir / "app01.json").write_text(json.dumps(app), encoding="utf-8")
    return {"web01": s, "app01": app}


def uri(state_dir, host, state, url, **args):
    run = runner_for(state_dir, host)
    return run("ansible.windows.win_uri", {"url": url, "return_content": True, **args}, state=state,
               hostname=host)[0]


# -- resolution ------------------------------------------------------------------------

def test_another_lab_host_is_reached_by_its_dns_name(state_dir, lab):
    write_lab(state_dir, records={SITE_NAME: "web01"})
    res = _ok(uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm"))
    assert res["content"] == "<html>mcms</html>"


def test_a_record_may_name_the_address_of_a_lab_host(state_dir, lab):
    write_lab(state_dir, records={SITE_NAME: "10.20.0.11"})
    _ok(uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm"))


def test_a_name_not_in_dns_does_not_resolve(state_dir, lab):
    """Old code: the name is bound on web01's site, so it resolved anyway."""
    write_lab(state_dir, records={})
    res = uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm")
    assert res["failed"] is True
    assert res["msg"] == RESOLVE_FAILED.format(f"The remote name could not be resolved: '{SITE_NAME}'")


def test_a_host_reaches_its_own_sites_by_name_only_through_dns(state_dir, lab):
    write_lab(state_dir, records={})
    res = uri(state_dir, "web01", lab["web01"], f"http://{SITE_NAME}/index.htm")
    assert res["failed"] is True
    assert "could not be resolved" in res["msg"]
    write_lab(state_dir, records={SITE_NAME: "web01"})
    _ok(uri(state_dir, "web01", lab["web01"], f"http://{SITE_NAME}/index.htm"))


@pytest.mark.parametrize(("timeout", "error"), [(None, http.UNABLE_TO_CONNECT), (5, http.TIMED_OUT)])
def test_a_load_balancer_address_outside_the_lab_does_not_answer(state_dir, lab, timeout, error):
    write_lab(state_dir, records={SITE_NAME: "10.20.0.100"})
    args = {"url_timeout": timeout} if timeout else {}
    res = uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm", **args)
    assert res["failed"] is True
    assert res["msg"] == RESOLVE_FAILED.format(error)


def test_computer_names_resolve_without_records(state_dir, lab):
    """AD-integrated DNS: members register their own names."""
    write_lab(state_dir, records={})
    res = uri(state_dir, "app01", lab["app01"], f"http://web01.{DOMAIN}/index.htm", status_code=[404])
    assert res["status_code"] == 404  # web01's Default Web Site (*:80:) answers; it has no index.htm


def test_legacy_setting_keeps_bound_names_resolving(state_dir, lab):
    write_lab(state_dir, records={}, legacy=True)
    _ok(uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm"))


def test_without_a_lab_declaration_bound_names_resolve_as_before(state_dir, lab):
    _ok(uri(state_dir, "app01", lab["app01"], f"http://{SITE_NAME}/index.htm"))


def test_get_url_resolves_through_dns_too(state_dir, lab):
    write_lab(state_dir, records={})
    run = runner_for(state_dir, "app01")
    st.make_dirs(lab["app01"], "C:\\temp", WHEN)
    res, _ = run("ansible.windows.win_get_url", {"url": f"http://{SITE_NAME}/index.htm", "dest": "C:\\temp\\x.htm"},
                 state=lab["app01"], hostname="app01")
    assert res["failed"] is True
    assert res["msg"] == (f"Error downloading 'http://{SITE_NAME}/index.htm' to 'C:\\temp\\x.htm': Exception calling "
                          f"\"GetResponse\" with \"0\" argument(s): \"The remote name could not be resolved: "
                          f"'{SITE_NAME}'\"")


# -- trust of the artifact server --------------------------------------------------------

def _get_bundle(state_dir, state, **args):
    run = runner_for(state_dir, "app01")
    st.make_dirs(state, "C:\\temp", WHEN)
    return run("ansible.windows.win_get_url", {"url": BUNDLE, "dest": "C:\\temp\\bundle.exe", **args}, state=state,
               hostname="app01")


def _trust_artifact_ca(state_dir, state):
    run = runner_for(state_dir, "app01")
    st.write_file(state, "C:\\Windows\\Temp\\artifacts-ca.cer", packages.ARTIFACT_CA_DER, WHEN)
    result, new = run("ansible.windows.win_certificate_store", {"path": "C:\\Windows\\Temp\\artifacts-ca.cer",
                                                                "store_name": "Root"}, state=state)
    _ok(result)
    return new


def test_artifact_download_needs_trust_in_the_artifact_ca(state_dir, lab):
    write_lab(state_dir, require_trust=True)
    res, _ = _get_bundle(state_dir, lab["app01"])
    assert res["failed"] is True
    assert res["msg"] == (f"Error downloading '{BUNDLE}' to 'C:\\temp\\bundle.exe': Exception calling \"GetResponse\" "
                          f"with \"0\" argument(s): \"{http.TRUST_FAILED}\"")
    _ok(_get_bundle(state_dir, lab["app01"], validate_certs=False)[0])
    trusted = _trust_artifact_ca(state_dir, lab["app01"])
    res, _ = _get_bundle(state_dir, trusted)
    assert _ok(res)["changed"] is True


def test_win_package_from_https_needs_trust(state_dir, lab):
    write_lab(state_dir, require_trust=True)
    run = runner_for(state_dir, "app01")
    res, _ = run("ansible.windows.win_package", {"path": BUNDLE, "state": "present"}, state=lab["app01"],
                 hostname="app01")
    assert res["failed"] is True
    assert res["msg"] == ('Unhandled exception while executing module: Exception calling "GetResponse" with "0" '
                          f'argument(s): "{http.TRUST_FAILED}"')
    trusted = _trust_artifact_ca(state_dir, lab["app01"])
    _ok(run("ansible.windows.win_package", {"path": BUNDLE, "state": "present"}, state=trusted, hostname="app01")[0])


def test_artifact_ca_is_published_over_http(state_dir, lab):
    write_lab(state_dir, require_trust=True)
    run = runner_for(state_dir, "app01")
    st.make_dirs(lab["app01"], "C:\\temp", WHEN)
    res, s = run("ansible.windows.win_get_url", {"url": packages.ARTIFACT_CA_URL, "dest": "C:\\temp\\ca.cer"},
                 state=lab["app01"], hostname="app01")
    _ok(res)
    assert st.read_file(s, "C:\\temp\\ca.cer") == packages.ARTIFACT_CA_DER


@pytest.mark.parametrize("require_trust", [False, None])
def test_trust_not_required_without_declaration_or_when_off(state_dir, lab, require_trust):
    if require_trust is not None:
        write_lab(state_dir, require_trust=require_trust)
    _ok(_get_bundle(state_dir, lab["app01"])[0])


def test_https_to_a_lab_site_checks_the_callers_roots(state_dir, lab):
    """The IIS path already checked trust with validate_certs; it is the
    *calling* host's Root store that counts (here app01, which trusts
    nothing of web01's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from winsim.models import certificates

    ca_key, _ca_der = certificates.self_signed_for_tests("Lab Web CA", ca=True, days=3650)
    key, der = certificates.self_signed_for_tests(SITE_NAME, dns_names=[SITE_NAME], days=365,
                                                  issuer=(ca_key, "Lab Web CA"))
    pfx = pkcs12.serialize_key_and_certificates(None, key, x509.load_der_x509_certificate(der), None,
                                                serialization.BestAvailableEncryption(b"pw"))
    thumb = certificates.entry_from_der(der)["thumbprint"]
    run = runner_for(state_dir, "web01")
    web = lab["web01"]
    st.write_file(web, "C:\\Windows\\Temp\\web.pfx", pfx, WHEN)
    _, web = run("ansible.windows.win_certificate_store", {"path": "C:\\Windows\\Temp\\web.pfx", "password": "pw",
                                                           "key_storage": "machine"}, state=web)
    result, web = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": "D:\\sites\\mcms", "application_pool": "mcms",
        "bindings": {"add": [{"ip": "*", "port": 443, "hostname": SITE_NAME, "protocol": "https", "use_sni": True,
                              "certificate_hash": thumb, "certificate_store_name": "My"}]}}, state=web)
    _ok(result)
    (state_dir / "web01.json").write_text(json.dumps(web), encoding="utf-8")
    write_lab(state_dir, records={SITE_NAME: "web01"})
    res = uri(state_dir, "app01", lab["app01"], f"https://{SITE_NAME}/index.htm")
    assert res["msg"] == RESOLVE_FAILED.format(http.TRUST_FAILED)
    _ok(uri(state_dir, "app01", lab["app01"], f"https://{SITE_NAME}/index.htm", validate_certs=False))
