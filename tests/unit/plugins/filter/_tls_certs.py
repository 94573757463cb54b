"""Helpers building real certificates and PFX files for the TLS filter/action tests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
_KEY = ec.generate_private_key(ec.SECP256R1())


def make_cert(names: list[str], *, days: int = 365, start_days_ago: int = 1, cn: str | None = None,
              issuer_cn: str = "MCMS Test CA") -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or (names[0] if names else "nosan"))])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)])
    start = NOW - dt.timedelta(days=start_days_ago)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(_KEY.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + dt.timedelta(days=days)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
    return builder.sign(_KEY, hashes.SHA256())


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def pfx_b64(cert: x509.Certificate, password: str | None, with_key: bool = True) -> str:
    enc = (serialization.BestAvailableEncryption(password.encode()) if password
           else serialization.NoEncryption())
    data = pkcs12.serialize_key_and_certificates(b"site", _KEY if with_key else None, cert, None, enc)
    return base64.b64encode(data).decode()


def info_entry(thumb: str, names: list[str], *, days_left: float, lifetime: int = 365, private_key: bool = True,
               issuer: str = "CN=MCMS Test CA", purposes: list[str] | None = None) -> dict:
    """A ``win_certificate_info`` certificates entry."""
    valid_to = NOW + dt.timedelta(days=days_left)
    valid_from = valid_to - dt.timedelta(days=lifetime)
    entry = {"thumbprint": thumb, "subject": f"CN={names[0] if names else 'x'}", "issuer": issuer,
             "dns_names": names, "has_private_key": private_key, "archived": False,
             "valid_from": valid_from.timestamp(), "valid_to": valid_to.timestamp(),
             "valid_from_iso8601": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "valid_to_iso8601": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if purposes is not None:
        entry["intended_purposes"] = purposes
    return entry


def iis_site(name: str, bindings: list[dict]) -> dict:
    """A ``website_info`` site entry."""
    return {"name": name, "site_id": 1, "state": "Started", "application_pool": name,
            "physical_path": "D:\\sites\\" + name, "bindings": bindings}


def https(hostname: str, thumb: str | None, port: int = 443, ip: str = "*", store: str = "My") -> dict:
    return {"protocol": "https", "ip": ip, "port": port, "hostname": hostname, "use_sni": True,
            "use_ccs": False, "certificate_hash": thumb, "certificate_store_name": store}
