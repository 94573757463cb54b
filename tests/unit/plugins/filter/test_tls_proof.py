"""Tests of the tls role's binding proof verdict (``mcms.infra.tls_proof_failures``),
the issuer comparison by parsed DN and the purposes read by OID."""

from __future__ import annotations

import pytest
from _tls_certs import NOW, https, iis_site, info_entry

from ansible_collections.mcms.infra.plugins.filter.tls_select_certificate import (
    tls_plan,
    tls_proof_failures,
    tls_select_certificate,
)
from ansible_collections.mcms.infra.plugins.plugin_utils import _tls

A = "A" * 40
B = "B" * 40
HOST = "mcms.lab.example"
SITE = {"name": "MCMS", "hostnames": [HOST], "port": 443, "ip": "*"}


def _probe(thumb: str, *, chain_valid: bool = True, name_matches: bool = True, status: list[str] | None = None):
    return {"item": {"hostname": HOST, "port": 443}, "thumbprint": thumb, "chain_valid": chain_valid,
            "chain_status": status or [], "name_matches": name_matches, "changed": False}


def test_proven_binding_has_no_failure() -> None:
    assert tls_proof_failures([_probe(A.lower())], A) == []


def test_skipped_probe_is_ignored() -> None:
    assert tls_proof_failures([{"skipped": True, "item": {"hostname": HOST, "port": 443}}], A) == []


@pytest.mark.parametrize(("probe", "expected"), [
    (_probe(B), f"{HOST}:443: presented {B} instead of {A}"),
    (_probe(A, chain_valid=False, status=["PartialChain"]), f"{HOST}:443: its chain is not valid (PartialChain)"),
    (_probe(A, name_matches=False), f"{HOST}:443: it does not match {HOST}"),
    ({"item": {"hostname": HOST, "port": 443}, "failed": True, "msg": "cannot connect to 127.0.0.1:443: refused"},
     f"{HOST}:443 presented no certificate (cannot connect to 127.0.0.1:443: refused)"),
])
def test_each_unproven_binding_is_named_with_the_presented_certificate(probe, expected) -> None:
    assert tls_proof_failures([probe], A) == [expected]


def test_plan_lists_bindings_the_site_did_not_have() -> None:
    certs = [info_entry(A, [HOST, "www.lab.example"], days_left=300)]
    site = dict(SITE, hostnames=[HOST, "www.lab.example"])
    plan = tls_plan([site], certs, [iis_site("MCMS", [https(HOST, B)])], NOW)["sites"][0]
    assert [b["hostname"] for b in plan["rebind"]] == [HOST, "www.lab.example"]
    assert plan["added"] == [{"ip": "*", "port": 443, "hostname": "www.lab.example"}]
    assert [b["certificate_hash"] for b in plan["previous"]] == [B]


@pytest.mark.parametrize(("windows", "wanted"), [
    ("CN=MCMS Lab CA, O=Corp, C=US", "C=US,O=Corp,CN=MCMS Lab CA"),          # RFC 4514 order
    ("CN=MCMS Lab CA, O=Corp", "cn=mcms lab ca,  o=corp"),                    # case and spacing
    ('CN=Issuing CA, O="Contoso, Ltd", S=WA', "ST=WA,O=Contoso\\, Ltd,CN=Issuing CA"),  # quoting, ST = S
    ("CN=CA, DC=corp, DC=example", "DC=example,DC=corp,CN=CA"),
])
def test_issuer_is_compared_by_parsed_dn(windows, wanted) -> None:
    certs = [info_entry(A, [HOST], days_left=300, issuer=windows)]
    assert tls_select_certificate(certs, [HOST], NOW, issuer=wanted)["thumbprint"] == A


def test_issuer_with_another_attribute_is_refused() -> None:
    certs = [info_entry(A, [HOST], days_left=300, issuer="CN=MCMS Lab CA, O=Other")]
    assert tls_select_certificate(certs, [HOST], NOW, issuer="CN=MCMS Lab CA,O=Corp") is None
    assert not _tls.same_dn("CN=MCMS Lab CA, O=Corp", "CN=MCMS Lab CA")


def _localised(purposes: list[str], oids: list[str]) -> dict:
    entry = info_entry(A, [HOST], days_left=300, purposes=purposes)
    entry["extensions"] = [
        {"critical": False, "field": "Schlüsselverwendung",
         "value": "Digitale Signatur, Schlüsselverschlüsselung (a0)"},
        {"critical": False, "field": "Erweiterte Schlüsselverwendung",
         "value": ", ".join(f"{p} ({o})" for p, o in zip(purposes, oids, strict=True))},
    ]
    return entry


def test_purposes_are_read_by_oid_whatever_the_display_language() -> None:
    entry = _localised(["Serverauthentifizierung"], ["1.3.6.1.5.5.7.3.1"])
    assert _tls.purpose_oids(entry) == ["1.3.6.1.5.5.7.3.1"]
    assert tls_select_certificate([entry], [HOST], NOW)["thumbprint"] == A


def test_localised_client_only_certificate_is_refused() -> None:
    entry = _localised(["Clientauthentifizierung"], ["1.3.6.1.5.5.7.3.2"])
    assert tls_select_certificate([entry], [HOST], NOW) is None


def test_no_eku_means_any_purpose_and_english_names_without_extensions_still_work() -> None:
    assert _tls.purpose_oids(info_entry(A, [HOST], days_left=300)) is None
    assert _tls.serves_server_auth(info_entry(A, [HOST], days_left=300, purposes=["Server Authentication"]))
    assert not _tls.serves_server_auth(info_entry(A, [HOST], days_left=300, purposes=["Client Authentication"]))
