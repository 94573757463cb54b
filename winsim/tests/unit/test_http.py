"""Tests of the simulated HTTP answers: ``ansible.windows.win_uri`` and ``win_get_url``.

The web host is built through the real models (win_feature, web_app_pool,
website, win_certificate_store) with the winsim-core runner, so these tests
also prove the conventions other models rely on fit together.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json

import pytest
from conftest import make_run_module
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from winsim import state as st
from winsim.models import certificates, http, load_all
from winsim.models._base import MODELS

URI = "ansible.windows.win_uri"
GET_URL = "ansible.windows.win_get_url"
ROOT = "D:\\sites\\mcms"
HOST = "mcms.corp.example"
WEB_CONFIG = b"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <location path="." inheritInChildApplications="false">
    <system.webServer>
      <handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" />
      </handlers>
      <aspNetCore processPath="dotnet" arguments=".\\Mcms.Api.dll" stdoutLogEnabled="false" hostingModel="inprocess">
        <environmentVariables>
          <environmentVariable name="ASPNETCORE_ENVIRONMENT" value="%s" />
        </environmentVariables>
      </aspNetCore>
      <httpProtocol><customHeaders><remove name="X-Powered-By" /></customHeaders></httpProtocol>
    </system.webServer>
  </location>
</configuration>
"""

run = make_run_module()
load_all()


class Lab:
    def __init__(self, states):
        self.states = states

    def hosts(self):
        return sorted(self.states)

    def state(self, name):
        return self.states.get(name)


class Runtime:
    def __init__(self, states):
        self.lab = Lab(states)


@pytest.fixture(scope="module")
def pki():
    ca_key, ca_der = certificates.self_signed_for_tests("MCMS Lab CA", ca=True, days=3650)
    key, der = certificates.self_signed_for_tests(HOST, dns_names=[HOST], days=365,
                                                  issuer=(ca_key, "MCMS Lab CA"))
    pfx = pkcs12.serialize_key_and_certificates(None, key, x509.load_der_x509_certificate(der), None,
                                                serialization.BestAvailableEncryption(b"pw"))
    return {"ca_der": ca_der, "pfx": pfx, "thumb": certificates.entry_from_der(der)["thumbprint"]}


def _ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def _deploy_app(state, environment="Production", version="1.4.2"):
    files = {"web.config": WEB_CONFIG.replace(b"%s", environment.encode()), "Mcms.Api.dll": b"MZ\x90\x00app",
             "version.json": json.dumps({"version": version}).encode()}
    for name, data in files.items():
        st.write_file(state, f"{ROOT}\\{name}", data, "2026-02-01T00:00:00Z")
    return state


@pytest.fixture(scope="module")
def base_web(pki):
    """IIS + hosting bundle + an https site bound by SNI to a lab certificate."""
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server", "Web-Scripting-Tools"]})
    _, s = run("ansible.windows.win_package", {"path": "https://artifacts.mcms.internal/dotnet/"
                                               "dotnet-hosting-8.0.11-win.exe", "state": "present"}, state=s)
    st.write_file(s, "C:\\Windows\\Temp\\web.pfx", pki["pfx"], "2026-02-01T00:00:00Z")
    st.write_file(s, "C:\\Windows\\Temp\\ca.cer", pki["ca_der"], "2026-02-01T00:00:00Z")
    _ok(run("ansible.windows.win_certificate_store", {"path": "C:\\Windows\\Temp\\web.pfx", "password": "pw",
                                                      "key_storage": "machine"}, state=s)[0])
    _, s = run("ansible.windows.win_certificate_store", {"path": "C:\\Windows\\Temp\\web.pfx", "password": "pw",
                                                         "key_storage": "machine"}, state=s)
    _, s = run("ansible.windows.win_certificate_store", {"path": "C:\\Windows\\Temp\\ca.cer",
                                                         "store_name": "Root"}, state=s)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "started"}, state=s)
    _, s = run("ansible.windows.win_file", {"path": ROOT, "state": "directory"}, state=s)
    result, s = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": ROOT, "application_pool": "mcms",
        "bindings": {"set": [
            {"ip": "*", "port": 80, "hostname": HOST},
            {"ip": "*", "port": 443, "hostname": HOST, "protocol": "https", "use_sni": True,
             "certificate_hash": pki["thumb"], "certificate_store_name": "My"}]}}, state=s)
    _ok(result)
    return s


@pytest.fixture
def web(base_web):
    return copy.deepcopy(base_web)


def uri(state, url, faults=None, runtime=None, **args):
    ctx_args = {"url": url, **args}
    if runtime is not None:
        from winsim_files_support import run as direct

        return direct(URI, state, runtime=runtime, faults=faults, **ctx_args).result
    return run(URI, ctx_args, state=state, faults=faults)[0]


@pytest.mark.parametrize("fqcn", [URI, GET_URL])
def test_models_name_upstream_version(fqcn):
    assert MODELS[fqcn].upstream == "ansible.windows 3.8.0"


def test_health_answers_with_deployed_version(web):
    _deploy_app(web)
    res = uri(web, f"https://{HOST}/health", return_content=True)
    _ok(res)
    assert res["changed"] is False
    assert res["status_code"] == 200
    assert res["json"] == {"status": "Healthy", "version": "1.4.2"}
    assert res["content_type"] == "application/json; charset=utf-8"
    assert res["server"] == "Microsoft-IIS/10.0"
    assert "x_powered_by" not in res  # removed by the app's web.config


def test_default_custom_header_is_served_without_app(web):
    res = uri(web, f"http://{HOST}/", status_code=[403])
    assert res["x_powered_by"] == "ASP.NET"
    assert res["msg"] == "Forbidden"


def test_health_without_app_files_is_404(web):
    res = uri(web, f"https://{HOST}/health")
    assert res["failed"] is True
    assert res["status_code"] == 404
    assert res["msg"] == "Status code of request '404' is not in list of valid status codes 200 : NotFound'."


def test_app_offline_answers_503(web):
    _deploy_app(web)
    st.write_file(web, ROOT + "\\app_offline.htm", b"<html>maintenance</html>", "2026-02-01T00:00:00Z")
    res = uri(web, f"https://{HOST}/health", status_code=[503], return_content=True)
    _ok(res)
    assert res["content"] == "<html>maintenance</html>"


def test_app_health_fault_answers_500(web):
    _deploy_app(web)
    res = uri(web, f"https://{HOST}/health", faults=[{"kind": "app_health", "target": "mcms"}],
              status_code=[500, 200])
    _ok(res)
    assert res["status_code"] == 500


def test_stopped_app_pool_answers_503(web):
    _deploy_app(web)
    web["iis"]["app_pools"]["mcms"]["state"] = "Stopped"
    assert uri(web, f"https://{HOST}/health", status_code=[503])["status_code"] == 503


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda s: s["iis"]["sites"]["mcms"].update(state="Stopped"), http.SEND_FAILED),
    (lambda s: s["services"]["w3svc"].update(state="stopped"), http.UNABLE_TO_CONNECT),
])
def test_nothing_listening_fails_like_webexception(web, mutate, message):
    _deploy_app(web)
    mutate(web)
    web["iis"]["sites"]["Default Web Site"]["state"] = "Stopped"
    res = uri(web, f"https://{HOST}/health")
    if message == http.SEND_FAILED:
        message = http.UNABLE_TO_CONNECT  # no started site binds 443 any more
    assert res["msg"] == ("Unhandled exception occurred when sending web request. Exception: Exception calling "
                          f"\"GetResponse\" with \"0\" argument(s): \"{message}\"")


def test_unknown_host_does_not_resolve(web):
    res = uri(web, "https://www.example.com/")
    assert res["msg"].endswith("\"The remote name could not be resolved: 'www.example.com'\"")


def test_untrusted_chain_fails_only_with_validate_certs(web):
    _deploy_app(web)
    ca = next(t for t, e in web["certificates"]["LocalMachine"]["Root"].items() if e["subject"] == "CN=MCMS Lab CA")
    del web["certificates"]["LocalMachine"]["Root"][ca]
    res = uri(web, f"https://{HOST}/health")
    assert res["msg"].endswith(f'"{http.TRUST_FAILED}"')
    assert uri(web, f"https://{HOST}/health", validate_certs=False)["status_code"] == 200


def test_expired_certificate_fails_validation(web):
    _deploy_app(web)
    web["clock"] = {"now": "2028-01-01T00:00:00Z"}
    res = run(URI, {"url": f"https://{HOST}/health"}, state=web, now=None)[0]
    assert res["msg"].endswith(f'"{http.TRUST_FAILED}"')


def test_sni_binding_needs_the_host_name(web):
    _deploy_app(web)
    res = uri(web, "https://localhost/health", validate_certs=False)
    assert res["msg"].endswith(f'"{http.SEND_FAILED}"')


def test_wrong_host_header_on_listening_port_is_400(web):
    web["iis"]["sites"]["Default Web Site"]["state"] = "Stopped"
    res = _ok(uri(web, "http://192.0.2.10/", status_code=[400]))
    assert res["status_code"] == 400
    assert res["server"] == "Microsoft-HTTPAPI/2.0"


def test_swagger_only_outside_production(web):
    _deploy_app(web, environment="Production")
    assert uri(web, f"https://{HOST}/swagger/index.html", status_code=[404])["status_code"] == 404
    _deploy_app(web, environment="Staging")
    assert uri(web, f"https://{HOST}/swagger/index.html")["status_code"] == 200


def test_windows_authentication_challenges_anonymous_requests(web):
    _deploy_app(web)
    web["iis"]["sites"]["mcms"]["authentication"] = {"/": {"AnonymousAuthentication": {"enabled": False},
                                                           "WindowsAuthentication": {"enabled": True}}}
    res = uri(web, f"https://{HOST}/health", status_code=[401])
    _ok(res)
    assert res["www_authenticate"] in ("Negotiate", "NTLM")
    assert "WWW-Authenticate" in res["headers"]
    assert uri(web, f"https://{HOST}/health", use_default_credential=True)["status_code"] == 200


def test_hsts_and_server_header_from_application_host_config(web):
    _deploy_app(web)
    path = http.APPHOST
    xml = st.read_file(web, path).decode("utf-8")
    xml = xml.replace("<siteDefaults>", '<siteDefaults>\r\n                <hsts enabled="true" max-age="31536000" '
                      'includeSubDomains="true" />')
    xml = xml.replace("<requestFiltering>", '<requestFiltering removeServerHeader="true">')
    st.write_file(web, path, xml.encode("utf-8"), "2026-02-01T00:00:00Z")
    res = uri(web, f"https://{HOST}/health")
    assert res["strict_transport_security"] == "max-age=31536000; includeSubDomains"
    assert res["server"] == ""
    plain = uri(web, f"http://{HOST}/health")
    assert "strict_transport_security" not in plain


def test_status_code_list_and_creates(web):
    st.write_file(web, "C:\\Windows\\Temp\\done", b"", "2026-02-01T00:00:00Z")
    res = uri(web, f"https://{HOST}/health", creates="C:\\Windows\\Temp\\done")
    assert res["skipped"] is True
    assert res["msg"] == "The 'creates' file or directory (C:\\Windows\\Temp\\done) already exists."


def test_dest_written_then_unchanged_and_check_mode(web):
    _deploy_app(web)
    args = {"url": f"https://{HOST}/health", "dest": "C:\\Windows\\Temp\\health.json"}
    checked, after_check = run(URI, args, state=web, check_mode=True)
    assert checked["changed"] is True
    assert after_check == web
    first, web2 = run(URI, args, state=web)
    assert first["changed"] is True
    assert json.loads(st.read_file(web2, "C:\\Windows\\Temp\\health.json")) == {"status": "Healthy",
                                                                                "version": "1.4.2"}
    assert run(URI, args, state=web2)[0]["changed"] is False


def test_other_lab_host_answers_from_its_state(web):
    _deploy_app(web, version="2.0.0")
    client = st.fresh_state("ctl01")
    client["certificates"]["LocalMachine"]["Root"].update(
        {t: e for t, e in web["certificates"]["LocalMachine"]["Root"].items() if e["subject"] == "CN=MCMS Lab CA"})
    web["host"]["ip_addresses"] = ["192.0.2.21"]
    runtime = Runtime({"web01": web, "ctl01": client})
    res = uri(client, f"https://{HOST}/health", runtime=runtime, return_content=True)
    _ok(res)
    assert res["json"]["version"] == "2.0.0"
    assert uri(client, "http://192.0.2.21/", runtime=runtime)["status_code"] == 200  # Default Web Site


@pytest.mark.parametrize(("name", "expected"), [
    ("Content-Type", "content_type"), ("X-Powered-By", "x_powered_by"), ("WWW-Authenticate", "www_authenticate"),
    ("Strict-Transport-Security", "strict_transport_security"), ("ETag", "e_tag"),
])
def test_header_keys_are_snake_cased_like_the_module(name, expected):
    assert http.snake_case(name.replace("-", "")) == expected


def test_invalid_method_fails():
    assert run(URI, {"url": "http://localhost/", "method": "get", "status_code": [200]})[0]["msg"].endswith(
        f'"{http.UNABLE_TO_CONNECT}"')  # lower case is upper-cased first, as upstream does
    res = run(URI, {"url": "http://localhost/", "method": "M-SEARCH"})[0]
    assert res["msg"] == "Parameter 'method' needs to be a single word in uppercase, like GET or POST."


# -- win_get_url ------------------------------------------------------------------

BUNDLE_URL = "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe"


def test_get_url_from_artifact_server_check_apply_idempotent():
    _, s = run("ansible.windows.win_file", {"path": "D:\\install", "state": "directory"})
    args = {"url": BUNDLE_URL, "dest": "D:\\install\\"}
    checked, after = run(GET_URL, args, state=s, check_mode=True)
    assert checked["changed"] is True
    assert after == s
    first, s2 = run(GET_URL, args, state=s)
    _ok(first)
    assert first["changed"] is True
    assert first["dest"] == "D:\\install\\dotnet-hosting-8.0.11-win.exe"
    data = st.read_file(s2, first["dest"])
    assert first["checksum_dest"] == hashlib.sha1(data).hexdigest()
    assert first["size"] == len(data)
    assert first["status_code"] == 200
    again, _ = run(GET_URL, args, state=s2)
    assert again["changed"] is False
    with_checksum, _ = run(GET_URL, {**args, "checksum": first["checksum_dest"], "force": False}, state=s2)
    assert with_checksum["changed"] is False
    assert "status_code" not in with_checksum  # nothing requested


def test_get_url_checksum_mismatch_fails():
    _, s = run("ansible.windows.win_file", {"path": "D:\\install", "state": "directory"})
    res, _ = run(GET_URL, {"url": BUNDLE_URL, "dest": "D:\\install\\b.exe", "checksum": "00" * 20}, state=s)
    assert res["failed"] is True
    assert res["msg"].startswith(f"The checksum for {BUNDLE_URL} did not match '{'00' * 20}', it was '")


def test_get_url_404_and_offline_internet():
    _, s = run("ansible.windows.win_file", {"path": "D:\\install", "state": "directory"})
    missing, _ = run(GET_URL, {"url": "https://artifacts.mcms.internal/nope.exe", "dest": "D:\\install\\x"}, state=s)
    assert missing["status_code"] == 404
    assert missing["msg"] == ("Error downloading 'https://artifacts.mcms.internal/nope.exe' to 'D:\\install\\x': "
                              "Exception calling \"GetResponse\" with \"0\" argument(s): \"The remote server "
                              "returned an error: (404) Not Found.\"")
    offline, _ = run(GET_URL, {"url": "https://dot.net/x.exe", "dest": "D:\\install\\x"}, state=s)
    assert "The remote name could not be resolved: 'dot.net'" in offline["msg"]


def test_get_url_missing_parent_fails():
    res, _ = run(GET_URL, {"url": BUNDLE_URL, "dest": "D:\\nope\\b.exe"})
    assert res["msg"].startswith("The path 'D:\\nope' does not exist for destination 'D:\\nope\\b.exe'")


def test_get_url_force_false_keeps_newer_local_file():
    _, s = run("ansible.windows.win_file", {"path": "D:\\install", "state": "directory"})
    st.write_file(s, "D:\\install\\b.exe", b"local", "2026-02-01T00:00:00Z")
    res, s2 = run(GET_URL, {"url": BUNDLE_URL, "dest": "D:\\install\\b.exe", "force": False}, state=s)
    assert res["changed"] is False
    assert st.read_file(s2, "D:\\install\\b.exe") == b"local"


def test_get_url_file_scheme():
    s = st.fresh_state("web01")
    st.write_file(s, "C:\\Windows\\Temp\\src.bin", b"abc", "2026-02-01T00:00:00Z")
    res, s2 = run(GET_URL, {"url": "file:///C:/Windows/Temp/src.bin", "dest": "C:\\Windows\\Temp\\dst.bin"}, state=s)
    _ok(res)
    assert st.read_file(s2, "C:\\Windows\\Temp\\dst.bin") == b"abc"


def test_now_is_pinned_for_reproducible_dates():
    assert http._http_date(dt.datetime(2026, 3, 2, 14, 30, 15, tzinfo=dt.UTC)) == "Mon, 02 Mar 2026 14:30:15 GMT"
