"""Tests of ``mcms.infra.tls_certificate_facts``, ``tls_pfx_facts`` and ``tls_input_errors``."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml
from _tls_certs import make_cert, pem, pfx_b64, thumbprint
from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.filter.tls_inspect import (
    tls_certificate_facts,
    tls_input_errors,
    tls_normalize_sites,
    tls_pfx_facts,
    tls_pfx_offers,
)

HOST = "mcms.lab.example"
from ansible_collections.mcms.infra.plugins.plugin_utils import _tls

REPO = pathlib.Path(__file__).resolve().parents[4]
GOOD = {
    "tls_certificate_source": "ownca",
    "tls_renew_before_days": 30,
    "tls_expiry_warn_days": 21,
    "tls_expiry_fail_days": 7,
    "tls_ownca_certificate_days": 397,
    "tls_ownca_ca_days": 3650,
    "tls_protocols_enabled": ["TLS 1.2", "TLS 1.3"],
    "tls_protocols_disabled": ["SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"],
    "tls_ciphers_enabled": ["AES 128/128"],
    "tls_ciphers_disabled": ["RC4 128/128"],
    "tls_hashes_enabled": ["SHA256"],
    "tls_hashes_disabled": ["MD5"],
    "tls_cipher_suites": ["TLS_AES_256_GCM_SHA384"],
    "tls_sites": [{"name": "MCMS", "hostnames": [HOST], "port": 443, "ip": "*", "thumbprint": ""}],
}


def with_(path: str, value: object, base: dict | None = None) -> dict:
    """A copy of GOOD with one (dotted, list-indexed) variable replaced."""
    config = copy.deepcopy(base or GOOD)
    target: object = config
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]  # type: ignore[index]
    last = parts[-1]
    target[int(last) if last.isdigit() else last] = value  # type: ignore[index]
    return config


def test_certificate_facts_thumbprint_matches_windows() -> None:
    cert = make_cert([HOST, "api.lab.example"], days=90)
    facts = tls_certificate_facts(pem(cert))
    assert facts["thumbprint"] == thumbprint(cert)
    assert facts["dns_names"] == [HOST, "api.lab.example"]
    assert facts["lifetime_days"] == 90
    assert facts["issuer"] == "CN=MCMS Test CA"


def test_certificate_facts_falls_back_to_cn_without_san() -> None:
    assert tls_certificate_facts(pem(make_cert([], cn="legacy.example")))["dns_names"] == ["legacy.example"]


def test_certificate_facts_rejects_garbage() -> None:
    with pytest.raises(AnsibleFilterError, match="not a PEM certificate"):
        tls_certificate_facts("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_pfx_facts_reads_key_and_certificate() -> None:
    cert = make_cert([HOST])
    facts = tls_pfx_facts(pfx_b64(cert, "s3cret"), "s3cret")
    assert facts["thumbprint"] == thumbprint(cert)
    assert facts["has_private_key"] is True


@pytest.mark.parametrize(("data", "password", "message"), [
    ("not base64!!", "x", "not valid base64"),
    (None, "wrong", "password"),
])
def test_pfx_facts_errors(data: str | None, password: str, message: str) -> None:
    data = data or pfx_b64(make_cert([HOST]), "right")
    with pytest.raises(AnsibleFilterError, match=message):
        tls_pfx_facts(data, password)


def test_good_input_has_no_errors() -> None:
    assert tls_input_errors(GOOD) == []


@pytest.mark.parametrize(("path", "value", "names"), [
    ("tls_sites.0.thumbprint", "ABC123", "tls_sites[0] (MCMS).thumbprint"),
    ("tls_sites.0.thumbprint", "Z" * 40, "not 40 hexadecimal"),
    ("tls_renew_before_days", 400, "tls_renew_before_days (400) is not shorter than the certificate lifetime"),
    ("tls_renew_before_days", 0, "tls_renew_before_days is 0"),
    ("tls_protocols_enabled", ["TLS 1.2", "TLS 9.9"], "tls_protocols_enabled holds unknown protocol 'TLS 9.9'"),
    ("tls_protocols_disabled", ["SSLv3"], "tls_protocols_disabled holds unknown protocol 'SSLv3'"),
    ("tls_protocols_enabled", ["TLS 1.1"], "enables neither 'TLS 1.2' nor 'TLS 1.3'"),
    ("tls_protocols_enabled", ["TLS 1.2", "TLS 1.0"], "both list TLS 1.0"),
    ("tls_sites.0.port", 70000, "tls_sites[0] (MCMS).port is 70000"),
    ("tls_sites.0.port", 0, "use a TCP port between 1 and 65535"),
    ("tls_sites.0.hostnames", ["https://mcms.lab.example"], "contains a scheme"),
    ("tls_sites.0.hostnames", ["mcms.lab.example:443"], "contains a port"),
    ("tls_sites.0.hostnames", ["bad_host!.example"], "is not a valid DNS name"),
    ("tls_sites.0.hostnames", [], "tls_sites[0] (MCMS).hostnames is empty"),
    ("tls_sites.0.ip", "300.1.1.1", "tls_sites[0] (MCMS).ip"),
    ("tls_expiry_warn_days", 3, "tls_expiry_warn_days (3) is below tls_expiry_fail_days (7)"),
    ("tls_ownca_ca_days", 100, "tls_ownca_ca_days (100) must be longer"),
    ("tls_ciphers_disabled", ["RC5"], "tls_ciphers_disabled holds unknown cipher 'RC5'"),
    ("tls_hashes_disabled", ["MD4"], "tls_hashes_disabled holds unknown hash 'MD4'"),
    ("tls_cipher_suites", ["ECDHE-RSA-AES128-GCM-SHA256"], "tls_cipher_suites[0]"),
    ("tls_cipher_suites", [], "tls_cipher_suites is empty"),
    # A suite name with the right shape that Windows Server 2022 does not know (a typo) is refused too.
    ("tls_cipher_suites", ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA348"],
     "did you mean TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384?"),
    ("tls_cipher_suites", ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"], "Windows Server 2022 does not know"),
    ("tls_ca_certificate", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----",
     "tls_ca_certificate is not a PEM certificate"),
])
def test_bad_input_names_the_variable(path: str, value: object, names: str) -> None:
    errors = tls_input_errors(with_(path, value))
    assert any(names in e for e in errors), errors


def test_every_default_cipher_suite_is_known() -> None:
    defaults = yaml.safe_load((REPO / "roles" / "tls" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert tls_input_errors({**GOOD, "tls_cipher_suites": defaults["tls_cipher_suites"]}) == []


@pytest.mark.parametrize(("iis_sites", "expected"), [
    (["MCMS"], []),
    (["mcms"], []),  # IIS site names are case-insensitive
    (["Other"], ["tls_sites[0] (MCMS).name: 'MCMS' is not a site of the iis role on this host"]),
    (None, []),  # the iis role does not run here: nothing to compare with
])
def test_tls_site_must_be_an_iis_site(iis_sites: list[str] | None, expected: list[str]) -> None:
    errors = _tls.input_errors(GOOD, iis_sites)
    assert [e for e in errors if ".name:" in e] == [e for e in errors if any(x in e for x in expected)]
    assert len([e for e in errors if ".name:" in e]) == len(expected), errors


def test_duplicate_binding_across_sites() -> None:
    config = copy.deepcopy(GOOD)
    config["tls_sites"].append({"name": "Other", "hostnames": [HOST], "port": 443, "ip": "*"})
    assert any("is also bound by site 'MCMS'" in e for e in tls_input_errors(config))


def _pfx_config(**site: object) -> dict:
    config = with_("tls_certificate_source", "pfx")
    config["tls_sites"][0].update(site)
    return config


def test_pfx_without_password_is_refused() -> None:
    errors = tls_input_errors(_pfx_config(pfx_b64=pfx_b64(make_cert([HOST]), None), pfx_password=""))
    assert any("tls_sites[0] (MCMS).pfx_password is empty" in e and "without a password" in e for e in errors)


def test_pfx_with_wrong_password() -> None:
    errors = tls_input_errors(_pfx_config(pfx_b64=pfx_b64(make_cert([HOST]), "right"), pfx_password="wrong"))
    assert any("pfx_b64 cannot be opened with the given password" in e for e in errors), errors


def test_pfx_missing() -> None:
    assert any("pfx_b64 is empty" in e for e in tls_input_errors(_pfx_config(pfx_password="x")))


def test_pfx_renewal_window_longer_than_lifetime() -> None:
    config = _pfx_config(pfx_b64=pfx_b64(make_cert([HOST], days=20), "pw"), pfx_password="pw")
    errors = tls_input_errors(config)
    assert any("tls_renew_before_days (30) is not shorter than the lifetime" in e for e in errors), errors


def test_pfx_not_covering_hostnames() -> None:
    config = _pfx_config(pfx_b64=pfx_b64(make_cert(["other.example"]), "pw"), pfx_password="pw")
    assert any("does not cover mcms.lab.example" in e for e in tls_input_errors(config))


def test_pfx_without_key() -> None:
    config = _pfx_config(pfx_b64=pfx_b64(make_cert([HOST]), "pw", with_key=False), pfx_password="pw")
    assert any("holds no private key" in e for e in tls_input_errors(config))


def test_good_pfx_passes() -> None:
    config = _pfx_config(pfx_b64=pfx_b64(make_cert([HOST]), "pw"), pfx_password="pw")
    assert tls_input_errors(config) == []


def test_input_errors_requires_a_dict() -> None:
    with pytest.raises(AnsibleFilterError):
        tls_input_errors(["tls_sites"])  # type: ignore[arg-type]


def test_normalize_sites_fills_defaults() -> None:
    sites = tls_normalize_sites([{"name": "MCMS", "hostnames": [HOST], "thumbprint": "ab cd" * 8 + "abcdabcd"}])
    assert sites == [{"name": "MCMS", "hostnames": [HOST], "port": 443, "ip": "*", "app_pool": "MCMS",
                      "key_reader": "IIS APPPOOL\\MCMS", "thumbprint": ("ABCD" * 8) + "ABCDABCD",
                      "pfx_b64": "", "pfx_password": ""}]


def test_pfx_offers_carry_no_secret() -> None:
    cert = make_cert([HOST])
    offers = tls_pfx_offers([{"name": "MCMS", "pfx_b64": pfx_b64(cert, "pw"), "pfx_password": "pw"},
                             {"name": "Other", "pfx_b64": ""}])
    assert list(offers) == ["MCMS"]
    assert offers["MCMS"]["thumbprint"] == thumbprint(cert)
    assert "pw" not in str(offers)
