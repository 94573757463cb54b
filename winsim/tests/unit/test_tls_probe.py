"""Tests of the project's TLS read modules: ``mcms.infra.win_tls_probe`` and
``mcms.infra.win_cert_usage`` (``winsim/models/tls_probe.py``).

The web host is built through the real models (win_feature, website,
win_certificate_store), as in ``test_http.py``.
"""

from __future__ import annotations

import copy

import pytest
from conftest import make_run_module
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from winsim import state as st
from winsim.models import certificates, load_all, tls_probe
from winsim.models._base import MODELS, SimulatorError

PROBE = "mcms.infra.win_tls_probe"
USAGE = "mcms.infra.win_cert_usage"
HOST = "mcms.corp.example"
OTHER = "other.corp.example"

run = make_run_module()
load_all()


def _pfx(key, der):
    return pkcs12.serialize_key_and_certificates(None, key, x509.load_der_x509_certificate(der), None,
                                                serialization.BestAvailableEncryption(b"pw"))


@pytest.fixture(scope="module")
def pki():
    ca_key, ca_der = certificates.self_signed_for_tests("MCMS Lab CA", ca=True, days=3650)
    key, der = certificates.self_signed_for_tests(HOST, dns_names=[HOST], days=365, issuer=(ca_key, "MCMS Lab CA"))
    okey, oder = certificates.self_signed_for_tests(OTHER, dns_names=[OTHER], days=365,
                                                    issuer=(ca_key, "MCMS Lab CA"))
    bad_ca_key, _ = certificates.self_signed_for_tests("Untrusted CA", ca=True, days=3650)
    ukey, uder = certificates.self_signed_for_tests(HOST, dns_names=[HOST], days=365,
                                                    issuer=(bad_ca_key, "Untrusted CA"))
    return {"ca_der": ca_der, "ca": certificates.entry_from_der(ca_der)["thumbprint"],
            "pfx": _pfx(key, der), "thumb": certificates.entry_from_der(der)["thumbprint"],
            "other_pfx": _pfx(okey, oder), "other": certificates.entry_from_der(oder)["thumbprint"],
            "untrusted_pfx": _pfx(ukey, uder), "untrusted": certificates.entry_from_der(uder)["thumbprint"]}


def _ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def _import(state, data, name, store="My"):
    st.write_file(state, f"C:\\Windows\\Temp\\{name}", data, "2026-02-01T00:00:00Z")
    args = {"path": f"C:\\Windows\\Temp\\{name}", "store_name": store}
    if name.endswith(".pfx"):
        args.update(password="pw", key_storage="machine")
    result, state = run("ansible.windows.win_certificate_store", args, state=state)
    _ok(result)
    return state


@pytest.fixture(scope="module")
def base_web(pki):
    """IIS with a site bound by SNI to HOST's certificate (no DNS anywhere)."""
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server", "Web-Scripting-Tools"]})
    s = _import(s, pki["pfx"], "web.pfx")
    s = _import(s, pki["other_pfx"], "other.pfx")
    s = _import(s, pki["untrusted_pfx"], "untrusted.pfx")
    s = _import(s, pki["ca_der"], "ca.cer", "Root")
    _, s = run("ansible.windows.win_file", {"path": "D:\\sites\\mcms", "state": "directory"}, state=s)
    result, s = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": "D:\\sites\\mcms",
        "bindings": {"set": [
            {"ip": "*", "port": 80, "hostname": HOST},
            {"ip": "*", "port": 443, "hostname": HOST, "protocol": "https", "use_sni": True,
             "certificate_hash": pki["thumb"], "certificate_store_name": "My"}]}}, state=s)
    _ok(result)
    return s


@pytest.fixture
def web(base_web):
    return copy.deepcopy(base_web)


def probe(state, check_mode=False, **args):
    return run(PROBE, {"server_name": HOST, **args}, state=state, check_mode=check_mode)[0]


@pytest.mark.parametrize("fqcn", [PROBE, USAGE])
def test_models_name_the_project_module(fqcn):
    assert MODELS[fqcn].upstream == "mcms.infra 0.1.0"


def test_sni_binding_presents_its_certificate_without_any_dns(web, pki):
    res = _ok(probe(web))
    assert res["changed"] is False
    assert res["thumbprint"] == pki["thumb"]
    assert res["chain_valid"] is True
    assert res["chain_status"] == []
    assert res["chain"] == [pki["thumb"], pki["ca"]]
    assert res["name_matches"] is True
    assert res["certificate"]["dns_names"] == [HOST]
    assert res["certificate"]["issuer"] == "CN=MCMS Lab CA"
    assert res["mcms_drift"] == []


def test_probe_runs_in_check_mode_and_changes_nothing(web, pki):
    before = copy.deepcopy(web)
    res = _ok(probe(web, check_mode=True))
    assert res["thumbprint"] == pki["thumb"]
    assert web == before


def test_ca_thumbprint_pins_the_root(web, pki):
    assert _ok(probe(web, ca_thumbprint=pki["ca"].lower()))["chain_valid"] is True
    res = _ok(probe(web, ca_thumbprint="A" * 40))
    assert res["chain_valid"] is False
    assert res["chain_status"] == ["RootIsNot:" + "A" * 40]


def test_certificate_from_untrusted_ca_is_reported_not_valid(web, pki):
    web["iis"]["sites"]["mcms"]["bindings"][1]["certificate_hash"] = pki["untrusted"]
    res = _ok(probe(web))
    assert res["thumbprint"] == pki["untrusted"]
    assert res["chain_valid"] is False
    assert res["chain_status"] == ["PartialChain"]
    assert res["name_matches"] is True


def test_name_mismatch_is_reported(web, pki):
    web["iis"]["sites"]["mcms"]["bindings"][1]["certificate_hash"] = pki["other"]
    res = _ok(probe(web))
    assert res["thumbprint"] == pki["other"]
    assert res["chain_valid"] is True
    assert res["name_matches"] is False


def test_unknown_sni_name_falls_back_to_the_wildcard_ip_binding(web, pki):
    bindings = web["iis"]["sites"]["mcms"]["bindings"]
    bindings.append({"protocol": "https", "ip": "*", "port": 443, "hostname": "", "use_sni": False,
                     "use_ccs": False, "certificate_hash": pki["other"], "certificate_store_name": "My"})
    assert _ok(probe(web, server_name="nobody.example"))["thumbprint"] == pki["other"]
    assert _ok(probe(web))["thumbprint"] == pki["thumb"]  # the SNI entry wins for its name


def test_ip_specific_binding_answers_only_on_its_address(web, pki):
    web["host"]["ip_addresses"] = ["10.20.0.11"]
    web["iis"]["sites"]["mcms"]["bindings"].append(
        {"protocol": "https", "ip": "10.20.0.11", "port": 8443, "hostname": "", "use_sni": False,
         "use_ccs": False, "certificate_hash": pki["other"], "certificate_store_name": "My"})
    assert _ok(probe(web, address="10.20.0.11", port=8443))["thumbprint"] == pki["other"]
    res = probe(web, port=8443)
    assert res["failed"] is True
    assert res["msg"] == f"TLS handshake with 127.0.0.1:8443 for server name {HOST} failed: {tls_probe.RESET}"


def test_no_sni_entry_for_the_name_resets_the_handshake(web):
    res = probe(web, server_name="nobody.example")
    assert res["failed"] is True
    assert res["msg"].endswith("An existing connection was forcibly closed by the remote host")


def test_port_with_no_listener_is_refused(web):
    res = probe(web, port=8443)
    assert res["failed"] is True
    assert res["msg"] == ("cannot connect to 127.0.0.1:8443: No connection could be made because the target machine "
                          "actively refused it 127.0.0.1:8443")


def test_stopped_w3svc_refuses_the_connection(web):
    web["services"]["w3svc"]["state"] = "stopped"
    assert "actively refused it" in probe(web)["msg"]


def test_plain_http_port_fails_the_handshake(web):
    res = probe(web, port=80)
    assert res["msg"].endswith(tls_probe.BAD_PACKET)


def test_bound_certificate_missing_from_the_store_resets_the_handshake(web, pki):
    del web["certificates"]["LocalMachine"]["My"][pki["thumb"]]
    assert probe(web)["msg"].endswith(tls_probe.RESET)


def test_central_certificate_store_binding_is_not_simulated(web):
    web["iis"]["sites"]["mcms"]["bindings"][1].update(use_sni=False, use_ccs=True, certificate_hash="")
    with pytest.raises(SimulatorError):
        run(PROBE, {"server_name": HOST}, state=web)


def test_spec_is_read_from_the_module_source(web):
    res = run(PROBE, {"server_name": HOST, "bogus": 1}, state=web)[0]
    assert res["failed"] is True
    assert "bogus" in res["msg"]
    assert "server_name" in run(PROBE, {}, state=web)[0]["msg"]


def test_cert_usage_lists_iis_http_sys_and_winrm_certificates(web, pki):
    web["host"]["winrm_https_thumbprint"] = "ab" * 20
    web.setdefault("http_sys", {})["ssl_bindings"] = [
        {"kind": "ipport", "endpoint": "0.0.0.0:9443", "thumbprint": pki["other"], "store": "My"}]
    before = copy.deepcopy(web)
    res = _ok(run(USAGE, {}, state=web, check_mode=True)[0])
    assert res["changed"] is False
    assert res["ssl_bindings"] == [
        {"kind": "ipport", "endpoint": "0.0.0.0:9443", "thumbprint": pki["other"], "store": "My",
         "app_id": "{00000000-0000-0000-0000-000000000000}", "iis": False},
        {"kind": "sni", "endpoint": f"{HOST}:443", "thumbprint": pki["thumb"], "store": "My",
         "app_id": tls_probe.IIS_APP_ID, "iis": True}]
    assert res["winrm_listeners"] == [{"address": "*", "port": "5986", "thumbprint": "AB" * 20}]
    assert res["in_use"] == sorted([pki["other"], pki["thumb"], "AB" * 20])
    assert res["in_use_outside_iis"] == sorted([pki["other"], "AB" * 20])
    assert res["swept_files"] == []
    assert res["mcms_drift"] == []
    assert web == before


def test_cert_usage_tells_which_roots_are_trusted(web, pki):
    res = _ok(run(USAGE, {"root_thumbprints": [pki["ca"].lower(), "C" * 40]}, state=web)[0])
    assert res["in_root"] == [pki["ca"]]


SWEEP = {"sweep_directory": "C:\\Windows\\Temp", "sweep_patterns": ["mcms-tls-*.pfx"]}


def test_leftover_pfx_is_swept_and_other_files_stay(web):
    st.write_file(web, "C:\\Windows\\Temp\\mcms-tls-MCMS.pfx", b"0\x82key", "2026-02-01T00:00:00Z")
    st.write_file(web, "C:\\Windows\\Temp\\other.pfx", b"0\x82", "2026-02-01T00:00:00Z")
    res, after = run(USAGE, SWEEP, state=web, diff=True)
    _ok(res)
    assert res["changed"] is True
    assert res["swept_files"] == ["C:\\Windows\\Temp\\mcms-tls-MCMS.pfx"]
    assert res["diff"] == {"before": {"leftover_files": ["C:\\Windows\\Temp\\mcms-tls-MCMS.pfx"]},
                           "after": {"leftover_files": []}}
    assert res["mcms_drift"] == [{"resource_type": "file", "resource": "C:\\Windows\\Temp\\mcms-tls-MCMS.pfx",
                                  "attribute": "state", "wanted": "absent", "found": "present"}]
    assert not st.exists(after, "C:\\Windows\\Temp\\mcms-tls-MCMS.pfx")
    assert st.exists(after, "C:\\Windows\\Temp\\other.pfx")
    again, _ = run(USAGE, SWEEP, state=after)
    assert again["changed"] is False


def test_leftover_sweep_in_check_mode_reports_and_keeps_the_file(web):
    st.write_file(web, "C:\\Windows\\Temp\\MCMS-TLS-a.PFX", b"0\x82key", "2026-02-01T00:00:00Z")
    before = copy.deepcopy(web)
    res = _ok(run(USAGE, SWEEP, state=web, check_mode=True)[0])
    assert res["changed"] is True
    assert res["swept_files"] == ["C:\\Windows\\Temp\\MCMS-TLS-a.PFX"]
    assert web == before


def test_realistic_profile_winrm_certificate_is_in_use():
    doc = st.fresh_state("web01", profile="realistic") if "profile" in st.fresh_state.__code__.co_varnames \
        else pytest.skip("fresh_state has no profile argument")
    res = _ok(run(USAGE, {}, state=doc)[0])
    assert doc["host"]["winrm_https_thumbprint"] in res["in_use"]
