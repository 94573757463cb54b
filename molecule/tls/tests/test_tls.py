"""Verify the tls scenario's host through read-only modules (testinfra's
``host.ansible`` runs them in check mode), against the scenario's input and
the role's defaults."""

from __future__ import annotations

import os
import pathlib
import typing as t

import pytest
from mcms_verify import role_defaults, run, tls_scenario

DEFAULTS = role_defaults("tls")
SCENARIO = tls_scenario()
HOSTNAMES = SCENARIO["tls_scenario_hostnames"]
SCHANNEL = r"HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"


@pytest.fixture(scope="module")
def site(host: t.Any) -> dict[str, t.Any]:
    sites = {s["name"]: s for s in run(host, "microsoft.iis.website_info")["site"]}
    return sites[SCENARIO["tls_scenario_site"]]


@pytest.fixture(scope="module")
def my_store(host: t.Any) -> dict[str, dict[str, t.Any]]:
    return {c["thumbprint"]: c for c in run(host, "ansible.windows.win_certificate_info",
                                              {"store_name": "My"})["certificates"]}


@pytest.fixture(scope="module")
def https(site: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [b for b in site["bindings"] if b["protocol"] == "https"]


def test_one_sni_binding_per_hostname(https: list[dict[str, t.Any]]) -> None:
    assert sorted(b["hostname"] for b in https) == sorted(HOSTNAMES)
    assert all(b["port"] == 443 and b["ip"] == "*" and b["use_sni"] for b in https)
    assert all(b["certificate_store_name"].lower() == "my" for b in https)


def test_bindings_use_one_valid_certificate_covering_every_name(https: list[dict[str, t.Any]],
                                                              my_store: dict[str, dict[str, t.Any]]) -> None:
    thumbs = {b["certificate_hash"].upper() for b in https}
    assert len(thumbs) == 1
    cert = my_store[thumbs.pop()]
    assert set(HOSTNAMES) <= set(cert["dns_names"])
    assert cert["has_private_key"] is True
    assert cert["issuer"] == "CN=" + DEFAULTS["tls_ownca_common_name"]
    assert "Server Authentication" in cert.get("intended_purposes", [])
    assert cert["valid_to"] - cert["valid_from"] > DEFAULTS["tls_renew_before_days"] * 86400


def test_only_the_bound_certificate_is_in_the_store(host: t.Any, https: list[dict[str, t.Any]],
                                                    my_store: dict[str, dict[str, t.Any]]) -> None:
    # Besides the role's certificate, only what the host uses outside IIS (the
    # realistic profile's WinRM HTTPS listener) may stay: the role never removes it.
    outside = {th.upper() for th in run(host, "mcms.infra.win_cert_usage")["in_use_outside_iis"]}
    assert outside, "the realistic host should have its WinRM listener certificate"
    assert set(my_store) - outside == {b["certificate_hash"].upper() for b in https}


def test_controller_ca_is_trusted(host: t.Any) -> None:
    roots = run(host, "ansible.windows.win_certificate_info", {"store_name": "Root"})["certificates"]
    ca = [c for c in roots if c["subject"] == "CN=" + DEFAULTS["tls_ownca_common_name"]]
    assert len(ca) == 1
    assert ca[0]["is_ca"] is True


@pytest.mark.parametrize("protocol", DEFAULTS["tls_protocols_disabled"])
@pytest.mark.parametrize("side", ["Server", "Client"])
def test_old_protocols_disabled(host: t.Any, protocol: str, side: str) -> None:
    props = run(host, "ansible.windows.win_reg_stat", {"path": rf"{SCHANNEL}\Protocols\{protocol}\{side}"})
    assert props["exists"], props
    assert props["properties"]["Enabled"]["raw_value"] == 0
    assert props["properties"]["DisabledByDefault"]["raw_value"] == 1


@pytest.mark.parametrize("protocol", DEFAULTS["tls_protocols_enabled"])
def test_modern_protocols_enabled(host: t.Any, protocol: str) -> None:
    props = run(host, "ansible.windows.win_reg_stat", {"path": rf"{SCHANNEL}\Protocols\{protocol}\Server"})
    assert props["properties"]["Enabled"]["raw_value"] == 1
    assert props["properties"]["DisabledByDefault"]["raw_value"] == 0


@pytest.mark.parametrize("cipher", ["RC4 128/128", "Triple DES 168", "NULL"])
def test_weak_ciphers_disabled(host: t.Any, cipher: str) -> None:
    props = run(host, "ansible.windows.win_reg_stat", {"path": rf"{SCHANNEL}\Ciphers\{cipher}"})
    assert props["properties"]["Enabled"]["raw_value"] == 0


def test_md5_disabled(host: t.Any) -> None:
    props = run(host, "ansible.windows.win_reg_stat", {"path": rf"{SCHANNEL}\Hashes\MD5"})
    assert props["properties"]["Enabled"]["raw_value"] == 0


def test_cipher_suite_order(host: t.Any) -> None:
    props = run(host, "ansible.windows.win_reg_stat", {
        "path": r"HKLM:\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002", "name": "Functions"})
    assert props["value"] == ",".join(DEFAULTS["tls_cipher_suites"])


def test_no_pfx_left_on_the_host(host: t.Any) -> None:
    found = run(host, "ansible.windows.win_find", {"paths": DEFAULTS["tls_host_temp_dir"], "patterns": ["mcms-tls-*"]})
    assert found["matched"] == 0, found["files"]


def test_controller_keys_are_private() -> None:
    pki = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki"
    assert (pki / "ca.key").stat().st_mode & 0o077 == 0
    for key in pki.glob("issued/*/*.key"):
        assert key.stat().st_mode & 0o077 == 0, key


def test_app_pool_identity_can_read_the_private_key(host: t.Any, https: list[dict[str, t.Any]]) -> None:
    """win_acl in check mode reports no change when the ACE is already there (a read-only probe)."""
    thumb = https[0]["certificate_hash"].upper()
    result = run(host, "ansible.windows.win_acl", {
        "path": rf"Cert:\LocalMachine\My\{thumb}", "user": "IIS APPPOOL\\" + SCENARIO["tls_scenario_site"],
        "rights": "Read", "type": "allow", "state": "present"})
    assert result["changed"] is False, result
