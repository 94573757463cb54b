"""Verify the iis scenario's host through read-only modules (testinfra's
``host.ansible`` runs them in check mode), against the scenario's input."""

from __future__ import annotations

import base64
import os
import typing as t
import xml.etree.ElementTree as ET

import pytest
from mcms_verify import role_defaults, run

DEFAULTS = role_defaults("iis")
APPHOST = r"C:\Windows\System32\inetsrv\config\applicationHost.config"


@pytest.fixture(scope="module")
def sites(host: t.Any) -> dict[str, dict[str, t.Any]]:
    return {s["name"]: s for s in run(host, "microsoft.iis.website_info")["site"]}


@pytest.fixture(scope="module")
def pools(host: t.Any) -> dict[str, dict[str, t.Any]]:
    return {p["name"]: p for p in run(host, "microsoft.iis.web_app_pool_info")["app_pools"]}


def test_features(host: t.Any) -> None:
    installed = {f["name"] for f in run(host, "ansible.windows.win_feature_info", {"name": "Web-*"})["features"]
                 if f["installed"]}
    assert set(DEFAULTS["iis_features"]) <= installed
    assert not installed & {*DEFAULTS["iis_features_absent"], "Web-Mgmt-Console"}


def test_mcms_site(sites: dict[str, dict[str, t.Any]]) -> None:
    site = sites["MCMS"]
    assert site["state"] == "Started"
    assert site["physical_path"].lower() == r"d:\sites\mcms"
    assert site["application_pool"] == "MCMS"
    http = sorted((b["protocol"], b["ip"], b["port"], b["hostname"]) for b in site["bindings"])
    assert http == [("http", "*", 80, "mcms"), ("http", "*", 80, "mcms.lab.mcms.internal")]


def test_site_without_http_waits_for_tls(sites: dict[str, dict[str, t.Any]]) -> None:
    site = sites["MCMS-Api"]
    assert site["bindings"] == []
    assert site["state"] == "Stopped"
    assert site["physical_path"].lower() == r"d:\sites\api"
    assert site["application_pool"] == "MCMS-Api-Pool"


def test_default_web_site_is_gone(sites: dict[str, dict[str, t.Any]]) -> None:
    assert "Default Web Site" not in sites


@pytest.mark.parametrize(("pool", "expected"), [
    ("MCMS", {"managedRuntimeVersion": "", "managedPipelineMode": "Integrated", "startMode": "AlwaysRunning",
              ("processModel", "identityType"): "ApplicationPoolIdentity",
              ("processModel", "idleTimeout"): "00:00:00",
              ("recycling", "periodicRestart", "time"): "00:00:00"}),
    ("MCMS-Api-Pool", {"managedRuntimeVersion": "", "startMode": "OnDemand",
                       ("processModel", "identityType"): "SpecificUser",
                       ("processModel", "userName"): "LAB\\gmsa_mcms_api$",
                       ("processModel", "idleTimeout"): "00:20:00",
                       ("processModel", "idleTimeoutAction"): "Suspend",
                       ("processModel", "loadUserProfile"): False,
                       ("recycling", "periodicRestart", "time"): "1.05:00:00"}),
])
def test_app_pools(pools: dict[str, dict[str, t.Any]], pool: str, expected: dict[t.Any, t.Any]) -> None:
    attributes = pools[pool]["attributes"]
    for key, value in expected.items():
        current: t.Any = attributes
        for part in key if isinstance(key, tuple) else (key,):
            current = current[part]
        assert current == value, key


def test_recycle_schedule(host: t.Any) -> None:
    # web_app_pool_info does not report the schedule (a child collection, not
    # an attribute): the module itself, in check mode, reports it would change nothing.
    result = run(host, "microsoft.iis.web_app_pool", {
        "name": "MCMS", "attributes": {"recycling.periodicRestart.schedule": ["03:00:00"]}})
    assert result["changed"] is False


@pytest.mark.parametrize(("site", "auth_type", "enabled"), [
    ("MCMS", "WindowsAuthentication", True),
    ("MCMS", "AnonymousAuthentication", True),
    ("MCMS-Api", "WindowsAuthentication", True),
])
def test_authentication_is_already_as_configured(host: t.Any, site: str, auth_type: str, enabled: bool) -> None:
    # The module run in check mode reports what it would change: nothing.
    result = run(host, "microsoft.iis.authentication", {"site": site, "auth_type": auth_type, "enabled": enabled})
    assert result["changed"] is False


def test_api_windows_authentication_settings(host: t.Any) -> None:
    result = run(host, "microsoft.iis.authentication", {
        "site": "MCMS-Api", "auth_type": "WindowsAuthentication", "enabled": True, "providers": ["Negotiate"],
        "use_kernel_mode": False, "token_checking": "Allow"})
    assert result["changed"] is False


def test_apphost_hardening(host: t.Any) -> None:
    root = ET.fromstring(base64.b64decode(run(host, "ansible.builtin.slurp", {"src": APPHOST})["content"]))
    headers = root.find("system.webServer/httpProtocol/customHeaders")
    assert headers is not None
    assert not [a for a in headers.findall("add") if a.get("name", "").lower() == "x-powered-by"]
    filtering = root.find("system.webServer/security/requestFiltering")
    assert filtering is not None
    assert filtering.get("removeServerHeader") == "true"
    limits = root.find("system.webServer/security/requestFiltering/requestLimits")
    assert limits is not None
    assert limits.attrib == {"maxAllowedContentLength": "30000000", "maxUrl": "4096", "maxQueryString": "2048"}
    hsts = root.find("system.applicationHost/sites/siteDefaults/hsts")
    assert hsts is not None
    assert hsts.attrib == {"enabled": "true", "max-age": "31536000", "includeSubDomains": "true",
                           "preload": "false", "redirectHttpToHttps": "true"}


def test_hosting_bundle_is_installed(host: t.Any) -> None:
    # vars.yml takes these from the environment for real hosts, as here.
    source = os.environ.get("MCMS_MOLECULE_HOSTING_BUNDLE_SOURCE") or \
        "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe"
    product_id = os.environ.get("MCMS_MOLECULE_HOSTING_BUNDLE_PRODUCT_ID") or "{26839EEE-DB8F-52EA-8A81-B752A6602FA0}"
    result = run(host, "ansible.windows.win_package", {"path": source, "product_id": product_id, "state": "present"})
    assert result["changed"] is False


def test_firewall_opens_only_the_site_ports(host: t.Any) -> None:
    rule = run(host, "community.windows.win_firewall_rule", {
        "name": DEFAULTS["iis_firewall_rule_name"], "localport": "80,443,8443", "protocol": "tcp",
        "direction": "in", "action": "allow", "enabled": True, "profiles": DEFAULTS["iis_firewall_profiles"]})
    assert rule["changed"] is False
    for group in DEFAULTS["iis_firewall_disabled_groups"]:
        result = run(host, "community.windows.win_firewall_rule", {"group": group, "enabled": False})
        # A group that matches no rule is "ok" too, without msg: the rules must exist and be disabled.
        assert result["changed"] is False
        assert result.get("msg", "").startswith("Firewall rule(s) changed '' - unchanged '"), (group, result)
