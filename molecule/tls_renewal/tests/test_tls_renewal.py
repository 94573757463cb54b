"""Verify the tls_renewal scenario through read-only modules (testinfra's
``host.ansible`` runs them in check mode): the https bindings moved to a new
certificate with at least the renewal window left, the certificate recorded by
prepare (10 days from expiry) is gone, and the site answers over https with a
certificate the host trusts."""

from __future__ import annotations

import time
import typing as t

import pytest
from mcms_verify import https_presented, role_defaults, run, tls_scenario

DEFAULTS = role_defaults("tls")
SCENARIO = tls_scenario()
HOSTNAMES = SCENARIO["tls_scenario_hostnames"]


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


def test_only_the_new_certificate_is_left(host: t.Any, my_store: dict[str, dict[str, t.Any]],
                                         new_thumbprint: str) -> None:
    # Besides the new certificate, only what the host uses outside IIS (the
    # realistic profile's WinRM HTTPS listener) stays: the role never removes it.
    outside = {th.upper() for th in run(host, "mcms.infra.win_cert_usage")["in_use_outside_iis"]}
    assert outside, "the realistic host should have its WinRM listener certificate"
    assert set(my_store) - outside == {new_thumbprint}


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_site_answers_over_https_with_a_trusted_certificate(host: t.Any, hostname: str, new_thumbprint: str) -> None:
    presented = https_presented(host, hostname)
    assert presented["thumbprint"] == new_thumbprint
    assert presented["chain_valid"] is True
    assert presented["name_matches"] is True
