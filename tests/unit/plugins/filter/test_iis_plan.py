"""Unit tests for the iis role's controller-side planning filters."""

from __future__ import annotations

import base64
import copy
import pathlib
import typing as t

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.filter import iis_plan as f

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "iis"
SITE_DEFAULTS = {
    "state": "started", "hostnames": [], "physical_path": "", "ip": "*", "https_port": 443,
    "http_redirect": False, "http_port": 80, "preload_enabled": True,
}
POOL_DEFAULTS = {
    "name": "", "identity": "ApplicationPoolIdentity", "password": "", "start_mode": "AlwaysRunning",
    "idle_timeout_minutes": 0, "idle_timeout_action": "Terminate", "periodic_restart_minutes": 0,
    "recycle_schedule": [], "load_user_profile": True,
}
AUTH_DEFAULTS = {"windows": True, "anonymous": None, "providers": ["Negotiate", "NTLM"],
                 "use_kernel_mode": True, "token_checking": "None"}


def role_vars(**overrides: t.Any) -> dict[str, t.Any]:
    """The role's defaults (as defaults/main.yml sets them) plus overrides."""
    values: dict[str, t.Any] = {
        "iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example"]}],
        "iis_group_sites": [], "iis_host_sites": [],
        "iis_site_defaults": copy.deepcopy(SITE_DEFAULTS),
        "iis_app_pool_defaults": copy.deepcopy(POOL_DEFAULTS),
        "iis_authentication_defaults": copy.deepcopy(AUTH_DEFAULTS),
        "iis_sites_root": "C:\\inetpub\\sites", "iis_require_non_system_drive": False, "iis_system_drive": "C:",
        "iis_features": ["Web-Server", "Web-WebSockets"], "iis_features_absent": ["Web-Dir-Browsing"],
        "iis_management_console": False,
        "iis_hosting_bundle_enabled": True,
        "iis_hosting_bundle_source": "https://artifacts.corp.example/dotnet/dotnet-hosting-8.0.11-win.exe",
        "iis_hosting_bundle_product_id": "{0A1B2C3D-1111-2222-3333-444455556666}",
        "iis_hosting_bundle_checksum": "", "iis_hosting_bundle_allow_http": False,
        "iis_request_max_allowed_content_length": 30000000, "iis_request_max_url": 4096,
        "iis_request_max_query_string": 2048, "iis_hsts_max_age": 31536000, "iis_hsts_preload": False,
        "iis_firewall_extra_ports": [],
    }
    values.update(overrides)
    return values


def normalize(*layers: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    padded = [*layers, *([[]] * (3 - len(layers)))]
    return f.iis_sites_normalize(padded, SITE_DEFAULTS, POOL_DEFAULTS, AUTH_DEFAULTS, "D:\\sites")


# --- iis_input_errors -----------------------------------------------------------------------------------------------
def test_defaults_with_one_site_are_valid() -> None:
    assert f.iis_input_errors(role_vars()) == []


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example"], "https_port": 70000}]},
     "iis_sites[0] (MCMS): https_port '70000' is not a TCP port"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example"], "http_port": 0}]},
     "iis_sites[0] (MCMS): http_port '0' is not a TCP port"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example"], "https_port": 80, "http_port": 80}]},
     "https_port and http_port are both 80"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["https://mcms.corp.example"]}]},
     "iis_sites[0] (MCMS): hostnames entry 'https://mcms.corp.example' contains a scheme"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example:443"]}]},
     "hostnames entry 'mcms.corp.example:443' contains a port"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["mcms.corp.example/app"]}]}, "contains a path"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["bad_host!.example"]}]}, "is not a valid DNS name"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": []}]}, "iis_sites[0] (MCMS): hostnames is empty"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["a.example"]}, {"name": "mcms", "hostnames": ["b.example"]}]},
     "iis_sites[1]: duplicate site name 'mcms' (also iis_sites[0])"),
    ({"iis_sites": [{"name": "A", "hostnames": ["same.example"]}, {"name": "B", "hostnames": ["SAME.example"]}]},
     "iis_sites[1] (B): hostname 'SAME.example' is also used by site 'A'"),
    ({"iis_sites": [{"name": "A", "hostnames": ["a.example"], "app_pool": {"name": "Shared"}},
                    {"name": "B", "hostnames": ["b.example"], "app_pool": {"name": "shared"}}]},
     "iis_sites[1] (B): app_pool.name 'shared' is also the pool of site 'A'"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "app_pool": {"identity": "CORP\\svc_mcms"}}]},
     "iis_sites[0] (MCMS): app_pool.identity 'CORP\\svc_mcms' is an account and needs app_pool.password"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"],
                     "app_pool": {"identity": "CORP\\gmsa_mcms$", "password": "x"}}]},
     "is a gMSA, whose password Windows manages; remove app_pool.password"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"],
                     "app_pool": {"identity": "ApplicationPoolIdentity", "password": "x"}}]},
     "is a built-in identity that takes no password"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "app_pool": {"identity": "svc_mcms"}}]},
     "is neither a built-in identity"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "app_pool": {"recycle_schedule": ["25:00"]}}]},
     "app_pool.recycle_schedule ['25:00'] must be a list of times"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "physical_path": "sites\\mcms"}]},
     "physical_path 'sites\\mcms' must be an absolute path with a drive letter"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "physical_path": "C:\\sites\\mcms"}],
      "iis_require_non_system_drive": True},
     "physical_path 'C:\\sites\\mcms' is on the system drive C: but iis_require_non_system_drive is true"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "ip": "localhost"}]}, "ip 'localhost' must be"),
    ({"iis_sites": [{"name": "Default Web Site", "hostnames": ["m.example"]}]},
     "'Default Web Site' is managed by iis_default_site_state"),
    ({"iis_sites": [{"hostnames": ["m.example"]}]}, "iis_sites[0]: 'name' is required"),
    ({"iis_host_sites": [{"name": "MCMS", "hostnames": ["m.example"], "authentication": {"providers": ["Kerberos"]}}]},
     "iis_host_sites[0] (MCMS): authentication.providers entry 'Kerberos' is not one of"),
    ({"iis_features_absent": ["Web-Server"]}, "iis_features_absent: 'Web-Server' is also in iis_features"),
    ({"iis_hosting_bundle_source": ""}, "iis_hosting_bundle_source is empty"),
    ({"iis_hosting_bundle_source": "http://artifacts/dotnet-hosting.exe"},
     "iis_hosting_bundle_source 'http://artifacts/dotnet-hosting.exe' is plain http"),
    ({"iis_hosting_bundle_product_id": "not-a-guid"}, "iis_hosting_bundle_product_id 'not-a-guid' must be"),
    ({"iis_hosting_bundle_checksum": "abc"}, "iis_hosting_bundle_checksum 'abc' must be a SHA-256"),
    ({"iis_request_max_url": 0}, "iis_request_max_url '0' must be a positive integer"),
    ({"iis_hsts_max_age": 300, "iis_hsts_preload": True}, "iis_hsts_max_age 300 is below one year"),
    ({"iis_firewall_extra_ports": [99999]}, "iis_firewall_extra_ports entry '99999' is not a TCP port"),
    # decision 15: sources the PSRP session cannot read, addresses website_info cannot read back
    ({"iis_hosting_bundle_source": "\\\\artifacts\\dotnet\\dotnet-hosting-8.0.11-win.exe"},
     "is a UNC path: the installer runs in the Ansible session, which reaches the host over PSRP with Kerberos "
     "and without delegation"),
    ({"iis_hosting_bundle_source": "//artifacts/dotnet/dotnet-hosting-8.0.11-win.exe"}, "is a UNC path"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "ip": "[2001:db8::10]"}]},
     "iis_sites[0] (MCMS): ip '[2001:db8::10]' is an IPv6 address, which the role does not support yet: "
     "microsoft.iis.website_info splits a binding's bindingInformation"),
    ({"iis_sites": [{"name": "MCMS", "hostnames": ["m.example"], "ip": "2001:db8::10"}]}, "is an IPv6 address"),
    ({"iis_firewall_disabled_groups": ["World Wide Web Services (HTTP)"]},
     "iis_firewall_disabled_groups entry 'World Wide Web Services (HTTP)' is a display name"),
    ({"iis_trusted_ca_certificates": ["not a certificate"]}, "iis_trusted_ca_certificates[0] is not a PEM certificate"),
    ({"iis_features_absent": ["Web-AppInit"]},
     "iis_features_absent lists Web-AppInit (Application Initialization) but site(s) MCMS ask for preload_enabled"),
])
def test_bad_input_is_reported_naming_the_variable(overrides: dict[str, t.Any], expected: str) -> None:
    errors = f.iis_input_errors(role_vars(**overrides))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize("pool", [
    {"identity": "CORP\\gmsa_mcms$"},
    {"identity": "CORP\\svc_mcms", "password": "vaulted"},
    {"identity": "svc_mcms@corp.example", "password": "vaulted"},
    {"identity": "networkservice"},
])
def test_valid_identities_are_accepted(pool: dict[str, str]) -> None:
    sites = [{"name": "MCMS", "hostnames": ["m.example"], "app_pool": pool}]
    assert f.iis_input_errors(role_vars(iis_sites=sites)) == []


def test_the_same_site_in_two_layers_is_an_override_not_a_duplicate() -> None:
    values = role_vars(iis_host_sites=[{"name": "MCMS", "hostnames": ["mcms.corp.example"], "https_port": 8443}])
    assert f.iis_input_errors(values) == []


def test_absent_sites_need_no_hostnames() -> None:
    assert f.iis_input_errors(role_vars(iis_sites=[{"name": "Old", "state": "absent"}])) == []


def test_digit_strings_from_extra_vars_are_ports() -> None:
    sites = [{"name": "MCMS", "hostnames": ["m.example"], "https_port": "8443"}]
    assert f.iis_input_errors(role_vars(iis_sites=sites)) == []
    assert normalize(sites)[0]["https_port"] == 8443


# --- iis_sites_normalize --------------------------------------------------------------------------------------------
def test_later_layers_replace_a_site_whole_and_keep_its_position() -> None:
    sites = normalize(
        [{"name": "A", "hostnames": ["a.example"], "http_redirect": True}, {"name": "B", "hostnames": ["b.example"]}],
        [],
        [{"name": "a", "hostnames": ["a2.example"]}],
    )
    assert [s["name"] for s in sites] == ["a", "B"]
    assert sites[0]["hostnames"] == ["a2.example"]
    assert sites[0]["http_redirect"] is False  # not merged from the replaced entry
    assert sites[0]["_origin"] == "iis_host_sites[0]"


def test_defaults_fill_every_option() -> None:
    site = normalize([{"name": "MCMS", "hostnames": ["m.example"], "app_pool": {"start_mode": "OnDemand"}}])[0]
    assert site["physical_path"] == "D:\\sites\\MCMS"
    assert site["app_pool"]["name"] == "MCMS"
    assert site["app_pool"]["start_mode"] == "OnDemand"
    assert site["app_pool"]["identity"] == "ApplicationPoolIdentity"
    assert site["authentication"] == AUTH_DEFAULTS


# --- iis_feature_plan ------------------------------------------------------------------------------------------------
def test_feature_plan_lists_only_missing_and_unwanted() -> None:
    info = [{"name": "Web-Server", "installed": True}, {"name": "Web-WebSockets", "installed": False},
            {"name": "Web-Dir-Browsing", "installed": True}, {"name": "Web-DAV-Publishing", "installed": False}]
    plan = f.iis_feature_plan(info, ["Web-Server", "web-websockets", "Web-Unknown"],
                              ["Web-Dir-Browsing", "Web-DAV-Publishing"])
    assert plan == {"install": ["web-websockets", "Web-Unknown"], "remove": ["Web-Dir-Browsing"]}


def test_feature_plan_is_empty_on_a_matching_host() -> None:
    info = [{"name": "Web-Server", "installed": True}, {"name": "Web-Dir-Browsing", "installed": False}]
    assert f.iis_feature_plan(info, ["Web-Server"], ["Web-Dir-Browsing"]) == {"install": [], "remove": []}


# --- iis_pool_plan ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("pool", "expected", "secret"), [
    ({}, {"processModel.identityType": "ApplicationPoolIdentity"}, False),
    ({"identity": "CORP\\gmsa_mcms$"}, {"processModel.identityType": "SpecificUser",
                                        "processModel.userName": "CORP\\gmsa_mcms$", "processModel.password": ""},
     False),
    ({"identity": "CORP\\svc", "password": "s3cret"},
     {"processModel.identityType": "SpecificUser", "processModel.userName": "CORP\\svc",
      "processModel.password": "s3cret"}, True),
])
def test_pool_identity_becomes_process_model_attributes(pool: dict[str, str], expected: dict[str, str],
                                                        secret: bool) -> None:
    plan = f.iis_pool_plan(normalize([{"name": "MCMS", "hostnames": ["m.example"], "app_pool": pool}]))[0]
    for key, value in expected.items():
        assert plan["attributes"][key] == value
    if not secret:
        assert plan["attributes"].get("processModel.password", "") == ""
    assert plan["secret"] is secret


def test_pool_attributes_for_aspnet_core() -> None:
    site = normalize([{"name": "MCMS", "hostnames": ["m.example"], "app_pool": {
        "idle_timeout_minutes": 20, "periodic_restart_minutes": 1740, "recycle_schedule": ["03:00"]}}])[0]
    plan = f.iis_pool_plan([site])[0]
    assert plan["state"] == "started"
    assert plan["attributes"]["managedRuntimeVersion"] == ""
    assert plan["attributes"]["managedPipelineMode"] == "Integrated"
    assert plan["attributes"]["startMode"] == "AlwaysRunning"
    assert plan["attributes"]["processModel.idleTimeout"] == "00:20:00"
    assert plan["attributes"]["recycling.periodicRestart.time"] == "1.05:00:00"
    assert plan["attributes"]["recycling.periodicRestart.schedule"] == ["03:00:00"]


def test_pool_of_an_absent_site_is_removed() -> None:
    plan = f.iis_pool_plan(normalize([{"name": "Old", "state": "absent"}]))
    assert plan == [{"name": "Old", "state": "absent", "attributes": {}, "secret": False}]


# --- iis_site_plan ---------------------------------------------------------------------------------------------------
def info_site(name: str = "MCMS", **overrides: t.Any) -> dict[str, t.Any]:
    site = {"name": name, "site_id": 2, "state": "Started", "physical_path": f"D:\\sites\\{name}",
            "application_pool": name, "bindings": []}
    site.update(overrides)
    return site


HTTPS = {"protocol": "https", "ip": "*", "port": 443, "hostname": "m.example", "use_sni": True,
         "certificate_hash": "AB" * 20, "certificate_store_name": "My"}


def test_new_site_without_http_is_created_stopped_until_tls_binds() -> None:
    plan = f.iis_site_plan(normalize([{"name": "MCMS", "hostnames": ["m.example"]}]), [], "unmanaged")
    assert len(plan) == 1
    assert plan[0]["needs_dir"] is True
    assert plan[0]["args"] == {"name": "MCMS", "physical_path": "D:\\sites\\MCMS", "application_pool": "MCMS",
                               "preload_enabled": True, "state": "stopped"}


def test_new_site_with_redirect_gets_http_bindings_and_starts() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example", "n.example"], "http_redirect": True}])
    args = f.iis_site_plan(sites, [], "unmanaged")[0]["args"]
    assert args["state"] == "started"
    assert args["bindings"] == {"add": [
        {"protocol": "http", "ip": "*", "port": 80, "hostname": "m.example"},
        {"protocol": "http", "ip": "*", "port": 80, "hostname": "n.example"},
    ]}


def test_matching_site_with_tls_binding_needs_no_call() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example"]}])
    info = [info_site(bindings=[HTTPS], physical_path="d:\\SITES\\mcms\\")]
    assert f.iis_site_plan(sites, info, "unmanaged") == []


def test_new_site_left_stopped_is_not_drift_before_tls_runs() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example"]}])
    assert f.iis_site_plan(sites, [info_site(state="Stopped")], "unmanaged") == []


def test_stopped_site_with_binding_is_started() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example"]}])
    plan = f.iis_site_plan(sites, [info_site(state="Stopped", bindings=[HTTPS])], "unmanaged")
    assert plan[0]["args"] == {"name": "MCMS", "state": "started", "preload_enabled": True}
    assert plan[0]["reasons"] == ["state Stopped -> started"]


def test_http_binding_drift_is_repaired_without_touching_https() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example"], "http_redirect": True}])
    stray = {"protocol": "http", "ip": "*", "port": 8080, "hostname": "m.example"}
    plan = f.iis_site_plan(sites, [info_site(bindings=[HTTPS, stray])], "unmanaged")
    assert plan[0]["args"]["bindings"] == {
        "add": [{"protocol": "http", "ip": "*", "port": 80, "hostname": "m.example"}],
        "remove": [{"ip": "*", "port": 8080, "hostname": "m.example"}],
    }
    assert "physical_path" not in plan[0]["args"]
    assert plan[0]["needs_dir"] is False


def test_path_and_pool_drift() -> None:
    sites = normalize([{"name": "MCMS", "hostnames": ["m.example"]}])
    plan = f.iis_site_plan(sites, [info_site(bindings=[HTTPS], physical_path="C:\\inetpub\\wwwroot",
                                             application_pool="DefaultAppPool")], "unmanaged")
    assert plan[0]["needs_dir"] is True
    assert plan[0]["args"]["physical_path"] == "D:\\sites\\MCMS"
    assert plan[0]["args"]["application_pool"] == "MCMS"


@pytest.mark.parametrize(("default_state", "current_state", "expected"), [
    ("absent", "Started", {"name": "Default Web Site", "state": "absent"}),
    ("stopped", "Started", {"name": "Default Web Site", "state": "stopped"}),
    ("stopped", "Stopped", None),
    ("unmanaged", "Started", None),
])
def test_default_web_site(default_state: str, current_state: str, expected: dict[str, str] | None) -> None:
    info = [info_site("Default Web Site", state=current_state)]
    plan = f.iis_site_plan([], info, default_state)
    assert (plan[0]["args"] if plan else None) == expected


def test_absent_site_is_removed_only_when_present() -> None:
    sites = normalize([{"name": "Old", "state": "absent"}])
    assert f.iis_site_plan(sites, [], "unmanaged") == []
    assert f.iis_site_plan(sites, [info_site("Old")], "unmanaged")[0]["args"] == {"name": "Old", "state": "absent"}


# --- iis_apphost_plan ------------------------------------------------------------------------------------------------
SETTINGS = {"remove_x_powered_by": True, "remove_server_header": True, "max_allowed_content_length": 30000000,
            "max_url": 4096, "max_query_string": 2048, "hsts_enabled": True, "hsts_max_age": 31536000,
            "hsts_include_sub_domains": True, "hsts_preload": False, "hsts_redirect_http_to_https": True}

DEFAULT_APPHOST = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <sites>
      <siteDefaults>
        <logFile logFormat="W3C" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />
      </siteDefaults>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <httpProtocol>
      <customHeaders>
        <clear />
        <add name="X-Powered-By" value="ASP.NET" />
      </customHeaders>
    </httpProtocol>
    <security>
      <requestFiltering>
        <fileExtensions allowUnlisted="true" />
      </requestFiltering>
    </security>
  </system.webServer>
</configuration>
"""

HARDENED_APPHOST = """\ufeff<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost><sites><siteDefaults>
    <hsts enabled="true" max-age="31536000" includeSubDomains="TRUE" preload="false" redirectHttpToHttps="true" />
  </siteDefaults></sites></system.applicationHost>
  <system.webServer>
    <httpProtocol><customHeaders><clear /></customHeaders></httpProtocol>
    <security><requestFiltering removeServerHeader="true">
      <requestLimits maxAllowedContentLength="30000000" maxUrl="4096" maxQueryString="2048" />
    </requestFiltering></security>
  </system.webServer>
</configuration>
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def test_default_apphost_needs_every_hardening_step() -> None:
    calls = {c["id"]: c for c in f.iis_apphost_plan(b64(DEFAULT_APPHOST), SETTINGS)}
    assert set(calls) == {"customHeaders.X-Powered-By", "requestFiltering.removeServerHeader", "requestLimits",
                          "hsts"}
    assert calls["customHeaders.X-Powered-By"] == {
        "id": "customHeaders.X-Powered-By", "reason": "remove the X-Powered-By response header",
        "xpath": "/configuration/system.webServer/httpProtocol/customHeaders/add[@name='X-Powered-By']",
        "type": "element", "state": "absent"}
    assert calls["requestFiltering.removeServerHeader"]["type"] == "attribute"
    assert calls["requestLimits"]["xpath"] == "/configuration/system.webServer/security/requestFiltering"
    assert calls["requestLimits"]["fragment"] == (
        '<requestLimits maxAllowedContentLength="30000000" maxUrl="4096" maxQueryString="2048" />')
    assert calls["hsts"]["xpath"] == "/configuration/system.applicationHost/sites/siteDefaults"
    assert calls["hsts"]["fragment"].startswith('<hsts enabled="true" max-age="31536000"')


def test_hardened_apphost_needs_nothing_and_compares_case_insensitively() -> None:
    assert f.iis_apphost_plan(b64(HARDENED_APPHOST), SETTINGS) == []


def test_one_changed_attribute_is_one_call() -> None:
    drifted = HARDENED_APPHOST.replace('maxUrl="4096"', 'maxUrl="8192"')
    calls = f.iis_apphost_plan(b64(drifted), SETTINGS)
    assert calls == [{"id": "requestLimits.maxUrl", "reason": "requestLimits: maxUrl '8192' -> '4096'",
                      "xpath": "/configuration/system.webServer/security/requestFiltering/requestLimits",
                      "type": "attribute", "attribute": "maxUrl", "fragment": "4096", "state": "present"}]


def test_missing_ancestors_are_added_in_one_fragment() -> None:
    bare = "<configuration><system.webServer /></configuration>"
    calls = f.iis_apphost_plan(b64(bare), {**SETTINGS, "remove_server_header": False})
    limits = next(c for c in calls if c["id"] == "requestLimits")
    assert limits["xpath"] == "/configuration/system.webServer"
    assert limits["fragment"].startswith("<security><requestFiltering><requestLimits ")


def test_x_powered_by_is_left_alone_when_not_asked() -> None:
    calls = f.iis_apphost_plan(b64(DEFAULT_APPHOST), {**SETTINGS, "remove_x_powered_by": False})
    assert "customHeaders.X-Powered-By" not in {c["id"] for c in calls}


@pytest.mark.parametrize(("content", "message"), [
    ("%%%", "not valid base64"),
    (b64("<configuration>"), "not well-formed XML"),
    (b64("<html />"), "has root <html>"),
])
def test_unreadable_apphost_fails_loudly(content: str, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        f.iis_apphost_plan(content, SETTINGS)


# --- iis_firewall_ports ----------------------------------------------------------------------------------------------
def test_firewall_ports() -> None:
    sites = normalize([{"name": "A", "hostnames": ["a.example"], "http_redirect": True},
                       {"name": "B", "hostnames": ["b.example"], "https_port": 8443},
                       {"name": "C", "state": "absent", "https_port": 9443}])
    assert f.iis_firewall_ports(sites, [5985]) == "80,443,5985,8443"
    assert f.iis_firewall_ports([], []) == ""


def test_filter_module_exposes_every_filter() -> None:
    assert set(f.FilterModule().filters()) == {
        "iis_input_errors", "iis_sites_normalize", "iis_feature_plan", "iis_pool_plan", "iis_auth_plan",
        "iis_site_plan", "iis_apphost_plan", "iis_firewall_ports", "iis_trust_plan", "iis_shared_configuration",
        "iis_firewall_groups_missing"}


@pytest.mark.parametrize("name", sorted(f.FilterModule().filters()))
def test_every_filter_has_its_doc_sidecar(name: str) -> None:
    sidecar = pathlib.Path(f.__file__).with_name(f"{name}.yml")
    assert sidecar.is_file(), f"{sidecar} missing (ansible-doc -t filter mcms.infra.{name} needs it)"
    doc = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
    assert doc["DOCUMENTATION"]["name"] == name
    assert set(doc) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def test_auth_plan_carries_no_secret() -> None:
    sites = normalize([{"name": "A", "hostnames": ["a.example"],
                        "app_pool": {"identity": "CORP\\svc", "password": "s3cret"}},
                       {"name": "B", "hostnames": ["b.example"], "state": "absent"}])
    plan = f.iis_auth_plan(sites)
    assert [p["name"] for p in plan] == ["A"]
    assert "s3cret" not in repr(plan)
    assert plan[0]["authentication"]["providers"] == ["Negotiate", "NTLM"]


# --- decision 15: IIS default firewall rules, internal CA trust, shared configuration -----------------------------
def test_default_firewall_groups_are_the_indirect_strings_windows_stores() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["iis_firewall_disabled_groups"] == [
        "@%windir%\\system32\\inetsrv\\iisres.dll,-30501", "@%windir%\\system32\\inetsrv\\iisres.dll,-30503"]
    assert f.iis_input_errors(role_vars(iis_firewall_disabled_groups=defaults["iis_firewall_disabled_groups"])) == []


def test_firewall_groups_that_matched_no_rule_are_reported() -> None:
    results = [
        {"item": "@g1", "changed": True, "msg": "Firewall rule(s) changed 'World Wide Web Services (HTTP Traffic-In)' "
                                                "- unchanged ''"},
        {"item": "@g2", "changed": False},  # win_firewall_rule.ps1 sets no msg when the group matched nothing
        {"item": "@g3", "skipped": True},
    ]
    assert f.iis_firewall_groups_missing(results) == ["@g2"]


def _ca_pem(ca: bool = True, cn: str = "MCMS Lab Artifacts CA") -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    import hashlib
    return cert.public_bytes(serialization.Encoding.PEM).decode(), hashlib.sha1(der).hexdigest().upper()


def test_trust_plan_imports_only_the_cas_the_root_store_lacks() -> None:
    pem_a, thumb_a = _ca_pem(cn="A")
    pem_b, thumb_b = _ca_pem(cn="B")
    root = [{"thumbprint": thumb_a, "subject": "CN=A"}]
    plan = f.iis_trust_plan([pem_a, pem_b, pem_b], root)
    assert [(p["thumbprint"], p["subject"]) for p in plan] == [(thumb_b, "CN=B")]
    assert f.iis_trust_plan([pem_a], root) == []


def test_trust_plan_takes_the_thumbprints_a_caller_already_read() -> None:
    """The tls role passes win_cert_usage's in_root (thumbprints, any case) instead of a second store read."""
    pem_a, thumb_a = _ca_pem(cn="A")
    assert f.iis_trust_plan([pem_a], [thumb_a.lower()]) == []
    assert [p["thumbprint"] for p in f.iis_trust_plan([pem_a], [])] == [thumb_a]


def test_a_server_certificate_is_not_a_trusted_ca() -> None:
    pem, _ = _ca_pem(ca=False, cn="artifacts.corp.example")
    errors = f.iis_input_errors(role_vars(iis_trusted_ca_certificates=[pem]))
    assert any("iis_trusted_ca_certificates[0] (CN=artifacts.corp.example) is not a CA certificate" in e
               for e in errors), errors


@pytest.mark.parametrize(("xml", "enabled"), [
    ('<configuration><configurationRedirection /></configuration>', False),
    ('<configuration><configurationRedirection enabled="false" path="\\\\fs\\iis" /></configuration>', False),
    ('<configuration><configurationRedirection enabled="true" path="\\\\fs\\iis" /></configuration>', True),
])
def test_shared_configuration_is_read_from_redirection_config(xml: str, enabled: bool) -> None:
    content = base64.b64encode(("\ufeff" + xml).encode()).decode()
    assert f.iis_shared_configuration(content)["enabled"] is enabled


def test_unreadable_redirection_config_fails() -> None:
    with pytest.raises(AnsibleFilterError, match=r"redirection\.config is not readable XML"):
        f.iis_shared_configuration(base64.b64encode(b"<configuration").decode())
