"""The blue/green front (``models/rewrite.py``, ``models/http.py``): URL Rewrite + ARR installed from their
MSI packages, a rule written by ``win_xml`` forwarding to a slot site, what the front answers, and the
project-owned ``mcms.infra.win_app_slots`` read."""

from __future__ import annotations

import typing as t

import pytest
from conftest import make_run_module
from test_app_release import RELEASES, _ok, release  # the ANCM release fixtures

from winsim import state as st
from winsim.drift import apply_drift
from winsim.models import load_all, packages
from winsim.runtime import HostRuntime
from winsim.store import HostStore

load_all()

APPHOST = "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"
REWRITE = packages.iis_extension("iis_url_rewrite")
ARR = packages.iis_extension("iis_arr")
RULE = ('<location path="front"><system.webServer><rewrite><rules><rule name="bg" stopProcessing="true">'
        '<match url="(.*)" /><action type="Rewrite" url="http://127.0.0.1:8081/{R:1}" /></rule></rules></rewrite>'
        '</system.webServer></location>')
SLOTS = [{"name": "blue", "site": "blue", "pool": "blue", "port": 8081},
         {"name": "green", "site": "green", "pool": "green", "port": 8082}]


@pytest.fixture
def run(tmp_path):
    return make_run_module(HostRuntime(HostStore.for_host("web01", state_dir=str(tmp_path / "state"))))


def _msi(run, s: dict[str, t.Any], entry: dict[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    path = f"C:\\MCMS\\packages\\{entry['installer']}"
    st.make_dirs(s, "C:\\MCMS\\packages", st.INSTALLED_AT)
    st.write_file(s, path, b"fake msi", st.INSTALLED_AT)
    return run("ansible.windows.win_package", {"path": path, "product_id": entry["product_id"], "state": "present"},
               state=s)


@pytest.fixture
def web(run) -> dict[str, t.Any]:
    """IIS with a front site (http *:80) and a blue slot site (127.0.0.1:8081, /api on release 1.4.0)."""
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server", "Web-Scripting-Tools"]}, hostname="web01")
    _, s = run("ansible.windows.win_package", {"path": "https://artifacts.mcms.internal/dotnet/"
                                               "dotnet-hosting-8.0.11-win.exe", "state": "present"}, state=s)
    _, s = run("microsoft.iis.website", {"name": "Default Web Site", "state": "absent"}, state=s)
    root = release(s, "1.4.0")
    st.make_dirs(s, "C:\\inetpub\\front", st.INSTALLED_AT)
    for name, ip, port, path in (("front", "*", 80, "C:\\inetpub\\front"), ("blue", "127.0.0.1", 8081, root)):
        _, s = run("microsoft.iis.web_app_pool", {"name": name, "state": "started"}, state=s)
        result, s = run("microsoft.iis.website", {
            "name": name, "state": "started", "physical_path": path, "application_pool": name,
            "bindings": {"set": [{"ip": ip, "port": port, "hostname": ""}]}}, state=s)
        _ok(result)
    result, s = run("microsoft.iis.web_application", {"name": "api", "site": "blue", "physical_path": root,
                                                      "application_pool": "blue", "state": "present"}, state=s)
    _ok(result)
    return s


def _front(run, s: dict[str, t.Any]) -> dict[str, t.Any]:
    result, _ = run("ansible.windows.win_uri", {"url": "http://127.0.0.1/api/health", "return_content": True,
                                                "status_code": [200, 404, 500, 502, 503]}, state=s)
    return result


def _configured(run, web: dict[str, t.Any]) -> dict[str, t.Any]:
    s = web
    for entry in (REWRITE, ARR):
        result, s = _msi(run, s, entry)
        _ok(result)
    result, s = run("community.windows.win_xml", {"path": APPHOST, "xpath": "/configuration/system.webServer",
                                                  "type": "element", "fragment": '<proxy enabled="true" />'}, state=s)
    _ok(result)
    result, s = run("community.windows.win_xml", {"path": APPHOST, "xpath": "/configuration", "type": "element",
                                                  "fragment": RULE}, state=s)
    _ok(result)
    return s


def test_arr_refuses_to_install_without_url_rewrite(run, web):
    result, _ = _msi(run, web, ARR)
    assert result.get("failed")
    assert result["rc"] == 1603


def test_front_answers_from_the_slot_through_arr(run, web):
    s = _configured(run, web)
    result = _front(run, s)
    assert result["status_code"] == 200
    assert result["json"]["version"] == "1.4.0"


def test_rule_without_url_rewrite_is_500_19_and_without_arr_404(run, web):
    _, s = run("community.windows.win_xml", {"path": APPHOST, "xpath": "/configuration", "type": "element",
                                             "fragment": RULE}, state=web)
    assert _front(run, s)["status_code"] == 500  # rewrite section unknown without the module
    _, s = _msi(run, s, REWRITE)
    assert _front(run, s)["status_code"] == 404  # no ARR: no handler for an absolute URL


def test_stopped_slot_site_gives_502_and_stopped_pool_passes_503(run, web):
    s = _configured(run, web)
    _, stopped = run("microsoft.iis.website", {"name": "blue", "state": "stopped"}, state=s)
    assert _front(run, stopped)["status_code"] == 502
    _, pool_stopped = run("microsoft.iis.web_app_pool", {"name": "blue", "state": "stopped"}, state=s)
    assert _front(run, pool_stopped)["status_code"] == 503


def test_win_app_slots_reads_the_active_slot_and_reports_a_flip(run, web):
    s = _configured(run, web)
    args = {"front_site": "front", "rule_name": "bg", "application": "api", "slots": SLOTS,
            "wanted_version": "1.4.0", "product_ids": [REWRITE["product_id"], ARR["product_id"]]}
    result, after = run("mcms.infra.win_app_slots", args, state=s, check_mode=True)
    _ok(result)
    assert after == s
    assert result["front"]["active_slot"] == "blue"
    assert result["slots"]["blue"]["version"] == "1.4.0"
    assert result["slots"]["green"]["site_exists"] is False
    assert result["proxy"] == {"present": True, "enabled": True}
    assert set(result["products"].values()) == {True}
    assert result["mcms_drift"] == []
    apply_drift(s, "flip-front", site="front", rule="bg", port=8082)
    result, _ = run("mcms.infra.win_app_slots", args, state=s)
    assert result["front"]["active_slot"] == "green"
    assert [(d["attribute"], d["wanted"], d["found"]) for d in result["mcms_drift"]] == \
        [("active_slot", "blue", "green")]
    assert _front(run, s)["status_code"] == 502  # nothing listens on 8082
    assert RELEASES  # the slot's release comes from the shared ANCM fixtures


def test_a_multi_line_fragment_keeps_every_element(run, web):
    _, s = _msi(run, web, REWRITE)
    result, s = run("community.windows.win_xml", {"path": APPHOST, "xpath": "/configuration", "type": "element",
                                                  "fragment": RULE.replace("><", ">\n  <")}, state=s)
    _ok(result)
    assert b'<match url="(.*)" />' in st.read_file(s, APPHOST)


def test_site_defaults_hsts_redirects_a_slot_until_it_has_its_own(run, web):
    _, s = run("community.windows.win_xml", {
        "path": APPHOST, "xpath": "/configuration/system.applicationHost/sites/siteDefaults", "type": "element",
        "fragment": '<hsts enabled="true" max-age="31536000" redirectHttpToHttps="true" />'}, state=web)
    slot = {"url": "http://127.0.0.1:8081/api/health", "follow_redirects": "none", "status_code": [200, 301]}
    result, _ = run("ansible.windows.win_uri", slot, state=s)
    assert result["status_code"] == 301  # siteDefaults apply to every site
    result, s = run("community.windows.win_xml", {
        "path": APPHOST, "xpath": "/configuration/system.applicationHost/sites/site[@name='blue']", "type": "element",
        "fragment": '<hsts enabled="false" redirectHttpToHttps="false" />'}, state=s)
    _ok(result)  # the site element exists since microsoft.iis.website created the site
    result, _ = run("ansible.windows.win_uri", slot, state=s)
    assert result["status_code"] == 200
