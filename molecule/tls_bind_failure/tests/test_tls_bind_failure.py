"""Verify the tls_bind_failure scenario through read-only modules (testinfra's
``host.ansible`` runs them in check mode): after the failed renewal every https
binding is still on the old certificate, the old certificate is still in the
store with its private key, and the site answers over https."""

from __future__ import annotations

import json
import os
import pathlib
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


def test_every_binding_stays_on_the_old_certificate(https: list[dict[str, t.Any]], old_thumbprint: str) -> None:
    assert sorted(b["hostname"] for b in https) == sorted(HOSTNAMES)
    assert {b["certificate_hash"].upper() for b in https} == {old_thumbprint}


def test_old_certificate_kept_with_its_key(host: t.Any, old_thumbprint: str) -> None:
    certs = run(host, "ansible.windows.win_certificate_info",
                {"store_name": "My", "thumbprint": old_thumbprint})["certificates"]
    assert len(certs) == 1
    assert certs[0]["has_private_key"] is True


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_site_still_answers_over_https(host: t.Any, hostname: str) -> None:
    result = run(host, "ansible.windows.win_uri", {
        "url": f"https://{hostname}/", "validate_certs": True, "follow_redirects": "none",
        "status_code": DEFAULTS["tls_verify_status_codes"]})
    assert result["status_code"] in DEFAULTS["tls_verify_status_codes"]
