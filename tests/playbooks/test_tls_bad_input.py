"""Bad input to the ``tls`` role fails before any host is touched, naming the variable.

Each case runs the role alone through the shared harness (``bad_input.py``,
also used by ``test_iis_bad_input.py``) against a fresh simulated host: the
run must fail, name the variable and the fix, and leave the host (and the
controller CA) untouched.
"""

from __future__ import annotations

import base64
import pathlib

import pytest

from .bad_input import assert_refused_untouched, run_role

pytestmark = pytest.mark.playbook

SITE = {"name": "MCMS", "hostnames": ["mcms.lab.example"], "port": 443}


def _pfx(password: str | None) -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mcms.lab.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=20))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("mcms.lab.example")]), False)
            .sign(key, hashes.SHA256()))
    enc = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return base64.b64encode(pkcs12.serialize_key_and_certificates(b"x", key, cert, None, enc)).decode()


CASES = [
    pytest.param({"tls_sites": [dict(SITE, thumbprint="12AB")]},
                 ["tls_sites[0] (MCMS).thumbprint", "40 hexadecimal"], id="thumbprint-not-40-hex"),
    pytest.param({"tls_renew_before_days": 400},
                 ["tls_renew_before_days (400)", "tls_ownca_certificate_days"], id="renewal-window-too-long"),
    pytest.param({"tls_certificate_source": "pfx",
                  "tls_sites": [dict(SITE, pfx_b64=_pfx(None), pfx_password="")]},
                 ["tls_sites[0] (MCMS).pfx_password", "without a password"], id="pfx-without-password"),
    pytest.param({"tls_certificate_source": "pfx", "tls_renew_before_days": 30,
                  "tls_sites": [dict(SITE, pfx_b64=_pfx("pw"), pfx_password="pw")]},
                 ["tls_renew_before_days (30)", "lifetime of the certificate"], id="pfx-renewal-window"),
    pytest.param({"tls_protocols_enabled": ["TLS 1.2", "TLS 1.4"]},
                 ["tls_protocols_enabled", "TLS 1.4"], id="unknown-protocol"),
    pytest.param({"tls_sites": [dict(SITE, port=70000)]},
                 ["tls_sites[0] (MCMS).port is 70000", "between 1 and 65535"], id="invalid-port"),
    pytest.param({"tls_sites": [dict(SITE, hostnames=["https://mcms.lab.example"])]},
                 ["tls_sites[0] (MCMS).hostnames[0]", "contains a scheme"], id="hostname-with-scheme"),
    pytest.param({"tls_certificate_store": "Personal"},
                 ["tls_certificate_store", "My, WebHosting"], id="unknown-store"),
    pytest.param({"tls_sites": [{"name": "MCMS"}]},
                 ["hostnames"], id="site-without-hostnames"),
    pytest.param({"tls_cipher_suites": ["TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA348"]},
                 ["tls_cipher_suites[1]", "did you mean TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384?"],
                 id="cipher-suite-typo"),
]


@pytest.mark.parametrize(("extra_vars", "expected"), CASES)
def test_bad_input_fails_before_the_host_is_touched(tmp_path: pathlib.Path, extra_vars: dict,
                                                    expected: list[str]) -> None:
    run = run_role(tmp_path, "tls", {"tls_sites": [SITE], "tls_ownca_dir": str(tmp_path / "pki"), **extra_vars})
    assert_refused_untouched(run, expected)
    assert "pki" not in [p.name for p in tmp_path.iterdir()], "the controller CA was touched"
