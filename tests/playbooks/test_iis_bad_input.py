"""Bad input to the ``iis`` role fails before any host is touched, naming the variable.

Each case runs the role alone through the shared harness (``bad_input.py``,
also used by ``test_tls_bad_input.py``) against a fresh simulated host: the
run must fail, name the variable and the fix, and leave the host untouched.
A control case runs the same harness with good input in check mode and must
succeed, so the bad cases cannot pass because the harness itself is broken.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from .bad_input import assert_refused_untouched, run_role

pytestmark = pytest.mark.playbook

GOOD: dict[str, t.Any] = {
    "iis_hosting_bundle_source": "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe",
    "iis_hosting_bundle_product_id": "{26839EEE-DB8F-52EA-8A81-B752A6602FA0}",
    "iis_sites": [{"name": "MCMS", "hostnames": ["mcms.lab.example"]}],
}


def site(**options: t.Any) -> list[dict[str, t.Any]]:
    return [{"name": "MCMS", "hostnames": ["mcms.lab.example"], **options}]


CASES = [
    pytest.param({"iis_sites": site(https_port=70000)},
                 ["iis_sites[0] (MCMS): https_port '70000' is not a TCP port"], id="invalid-port"),
    pytest.param({"iis_host_sites": site(http_redirect=True, http_port=0)},
                 ["iis_host_sites[0] (MCMS): http_port '0' is not a TCP port"], id="invalid-http-port"),
    pytest.param({"iis_sites": site(hostnames=["https://mcms.lab.example"])},
                 ["iis_sites[0] (MCMS): hostnames entry 'https://mcms.lab.example' contains a scheme",
                  "write the bare DNS name"], id="hostname-with-scheme"),
    pytest.param({"iis_sites": site() + site(hostnames=["other.lab.example"])},
                 ["iis_sites[1]: duplicate site name 'MCMS' (also iis_sites[0])"], id="duplicate-site"),
    pytest.param({"iis_sites": [*site(http_redirect=True),
                                {"name": "Other", "hostnames": ["MCMS.lab.example"], "http_redirect": True}]},
                 ["iis_sites[1] (Other): hostname 'MCMS.lab.example' is also used by site 'MCMS'"],
                 id="duplicate-binding"),
    pytest.param({"iis_sites": site(app_pool={"identity": "LAB\\svc_mcms"})},
                 ["iis_sites[0] (MCMS): app_pool.identity 'LAB\\\\svc_mcms' is an account and needs "
                  "app_pool.password"], id="account-without-password"),
    pytest.param({"iis_group_sites": site(app_pool={"identity": "LAB\\gmsa_mcms$", "password": "x"})},
                 ["iis_group_sites[0] (MCMS): app_pool.identity 'LAB\\\\gmsa_mcms$' is a gMSA"],
                 id="gmsa-with-password"),
    pytest.param({"iis_sites": site(physical_path="C:\\sites\\MCMS"), "iis_require_non_system_drive": True},
                 ["physical_path 'C:\\\\sites\\\\MCMS' is on the system drive C:"], id="system-drive"),
    pytest.param({"iis_hosting_bundle_source": ""}, ["iis_hosting_bundle_source is empty"], id="no-bundle-source"),
    pytest.param({"iis_hosting_bundle_product_id": "8.0.11"},
                 ["iis_hosting_bundle_product_id '8.0.11' must be the bundle's product GUID"], id="bad-product-id"),
    # Types and choices fail even earlier, in the role's argument spec validation.
    pytest.param({"iis_sites": site(https_port="https")}, ["iis_sites", "https_port", "int"], id="spec-type"),
    pytest.param({"iis_sites": site(state="running")}, ["iis_sites", "state", "running"], id="spec-choice"),
    pytest.param({"iis_sites": site(hostname="mcms.lab.example")}, ["iis_sites", "hostname"], id="spec-unknown"),
    pytest.param({"iis_default_site_state": "deleted"}, ["iis_default_site_state", "deleted"], id="spec-default-site"),
    # Found on the controller, naming the variable (the host's own error would name neither).
    pytest.param({"iis_firewall_profiles": ["domain", "any"]},
                 ["iis_firewall_profiles entry 'any' is not a firewall profile"], id="firewall-profile"),
    pytest.param({"iis_firewall_remote_ip": "10.0.0.1-10.0.0"},
                 ["iis_firewall_remote_ip entry '10.0.0.1-10.0.0' is not an address range"], id="firewall-remote-ip"),
    pytest.param({"iis_sites_root": "sites"}, ["iis_sites_root 'sites' must be an absolute path"],
                 id="relative-sites-root"),
    # Decision 15: what only a real host would have refused, refused on the controller with the reason.
    pytest.param({"iis_hosting_bundle_source": "\\\\artifacts\\dotnet\\dotnet-hosting-8.0.11-win.exe"},
                 ["iis_hosting_bundle_source", "is a UNC path", "without delegation", "https:// URL"],
                 id="unc-source"),
    pytest.param({"iis_sites": site(ip="[2001:db8::10]")},
                 ["iis_sites[0] (MCMS): ip '[2001:db8::10]' is an IPv6 address", "bindingInformation"], id="ipv6-ip"),
    pytest.param({"iis_firewall_disabled_groups": ["World Wide Web Services (HTTP)"]},
                 ["iis_firewall_disabled_groups entry 'World Wide Web Services (HTTP)' is a display name",
                  "IIS-WebServerRole-HTTP-In-TCP"], id="firewall-display-group"),
]


@pytest.mark.parametrize(("extra_vars", "expected"), CASES)
def test_bad_input_fails_before_the_host_is_touched(tmp_path: pathlib.Path, extra_vars: dict[str, t.Any],
                                                    expected: list[str]) -> None:
    assert_refused_untouched(run_role(tmp_path, "iis", {**GOOD, **extra_vars}), expected)


def test_good_input_passes_the_same_harness(tmp_path: pathlib.Path) -> None:
    run = run_role(tmp_path, "iis", GOOD, "--check")
    assert run.returncode == 0, run.output
    assert "web01                      : ok=" in run.output
    assert "web01.json" not in run.touched(), "check mode wrote the host's state"
