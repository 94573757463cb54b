"""Verify the tls_renewal scenario through read-only modules (testinfra's
``host.ansible`` runs them in check mode): the https bindings moved to a new
certificate with at least the renewal window left, the certificate recorded by
prepare (10 days from expiry) is gone, and the site answers over https with a
certificate the host trusts."""

from __future__ import annotations

import json
import os
import pathlib
import time
import typing as t

import pytest
import yaml

ROOT = pathlib.Path(__file__).parents[3]
DEFAULTS = yaml.safe_load((ROOT / "roles" / "tls" / "defaults" / "main.yml").read_text(encoding="utf-8"))
SCENARIO = yaml.safe_load((ROOT / "molecule" / "tls" / "vars.yml").read_text(encoding="utf-8"))
HOSTNAMES = SCENARIO["tls_scenario_hostnames"]


def run(host: t.Any, module: str, args: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """A read-only module result (check mode); fails the test on a module failure."""
    result = host.ansible(module, json.dumps(args) if args else None, check=True)
    assert not result.get("failed"), result
    return result


@pytest.fixture(scope="module")
def old_thumbprint(host: t.Any) -> str:
    record = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"renewal-old-{host.backend.host}.json"
    return json.loads(record.read_text(encoding="utf-8"))["thumbprint"].upper()


@pytest.fixture(scope="module")
def https(host: t.Any) -> list[dict[str, t.Any]]:
    site = run(host, "microsoft.iis.website_info", {"name": SCENARIO["tls_scenario_site"]})["site"][0]
    return [b for b in site["bindings"] if b["protocol"] == "https"]


@pytest.fixture(scope="module")
def my_store(host: t.Any) -> dict[str, dict[str, t.Any]]:
    certs = run(host, "ansible.windows.win_certificate_info", {"store_name": "My"})["certificates"]
    return {c["thumbprint"].upper(): c for c in certs}


@pytest.fixture(scope="module")
def new_thumbprint(https: list[dict[str, t.Any]]) -> str:
    thumbs = {b["certificate_hash"].upper() for b in https}
    assert len(thumbs) == 1, https
    return thumbs.pop()


def test_every_hostname_has_an_sni_binding(https: list[dict[str, t.Any]]) -> None:
    assert sorted(b["hostname"] for b in https) == sorted(HOSTNAMES)
    assert all(b["use_sni"] and b["port"] == 443 for b in https)


def test_binding_points_at_a_new_certificate(new_thumbprint: str, old_thumbprint: str) -> None:
    assert new_thumbprint != old_thumbprint


def test_old_certificate_removed(my_store: dict[str, dict[str, t.Any]], old_thumbprint: str) -> None:
    assert old_thumbprint not in my_store


def test_new_certificate_outside_the_renewal_window(my_store: dict[str, dict[str, t.Any]],
                                                     new_thumbprint: str) -> None:
    cert = my_store[new_thumbprint]
    days_left = (cert["valid_to"] - time.time()) / 86400
    assert days_left >= DEFAULTS["tls_renew_before_days"], cert
    assert cert["has_private_key"] is True
    assert set(HOSTNAMES) <= set(cert["dns_names"])
    assert cert["issuer"] == "CN=" + DEFAULTS["tls_ownca_common_name"]


def test_only_the_new_certificate_is_left(my_store: dict[str, dict[str, t.Any]], new_thumbprint: str) -> None:
    assert set(my_store) == {new_thumbprint}


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_site_answers_over_https_with_a_trusted_certificate(host: t.Any, hostname: str) -> None:
    result = run(host, "ansible.windows.win_uri", {
        "url": f"https://{hostname}/", "validate_certs": True, "follow_redirects": "none",
        "status_code": DEFAULTS["tls_verify_status_codes"]})
    assert result["status_code"] in DEFAULTS["tls_verify_status_codes"]
