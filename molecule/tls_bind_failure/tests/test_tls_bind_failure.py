"""Verify the tls_bind_failure scenario through read-only modules (testinfra's
``host.ansible`` runs them in check mode): after the failed renewal every https
binding is still on the old certificate, the old certificate is still in the
store with its private key, and the site answers over https."""

from __future__ import annotations

import typing as t

import pytest
from mcms_verify import https_presented, role_defaults, run, tls_scenario

DEFAULTS = role_defaults("tls")
SCENARIO = tls_scenario()
HOSTNAMES = SCENARIO["tls_scenario_hostnames"]


def test_every_binding_stays_on_the_old_certificate(https: list[dict[str, t.Any]], old_thumbprint: str) -> None:
    assert sorted(b["hostname"] for b in https) == sorted(HOSTNAMES)
    assert {b["certificate_hash"].upper() for b in https} == {old_thumbprint}


def test_old_certificate_kept_with_its_key(host: t.Any, old_thumbprint: str) -> None:
    certs = run(host, "ansible.windows.win_certificate_info",
                {"store_name": "My", "thumbprint": old_thumbprint})["certificates"]
    assert len(certs) == 1
    assert certs[0]["has_private_key"] is True


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_site_still_answers_over_https(host: t.Any, hostname: str, old_thumbprint: str) -> None:
    presented = https_presented(host, hostname)
    assert presented["thumbprint"] == old_thumbprint
    assert presented["chain_valid"] is True
    assert presented["name_matches"] is True
