"""Certificate stores: ``ansible.windows.win_certificate_store`` and
``ansible.windows.win_certificate_info`` (ansible.windows 3.8.0).

State section ``certificates`` (owned here)::

    {"LocalMachine": {"My": {THUMBPRINT: entry, ...}, "Root": {...}, "CA": {...}, ...},
     "CurrentUser":  {"My": {...}, "Root": {...}, ...}}

A store exists when its name is a key under its location (``win_certificate_store``
opens stores with ``OpenExistingOnly``).  ``LocalMachine\\WebHosting`` is
created by IIS: it also counts as existing once the ``Web-Server`` feature is
installed, and is added to the document on first import.  A fresh host's
``LocalMachine\\Root`` holds real public roots (``_fresh_roots.py``); ``My``
is empty (no WinRM HTTPS listener certificate in a fresh install, and no
self-signed Remote Desktop certificate: generating keys would make fresh
documents non-reproducible).

An entry (every value derived from the real DER with ``cryptography``)::

    {"thumbprint": "UPPERCASE SHA-1 OF THE DER",
     "subject": "CN=web01.corp.example, O=...",      # .NET X500DistinguishedName.Name
     "issuer": "CN=MCMS Lab CA, ...",
     "dns_names": ["web01.corp.example", ...],      # SAN DNS names only
     "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
     "serial_number": "01AB...",                    # .NET SerialNumber (big-endian hex)
     "signature_algorithm": "sha256RSA", "public_key_algorithm": "RSA" | "ECC", "key_length": 2048,
     "friendly_name": "", "archived": false,
     "has_private_key": true, "key_exportable": false,
     "key_storage": "machine" | "user" | null,
     "key_provider": "Microsoft Enhanced RSA and AES Cryptographic Provider"
                     | "Microsoft Software Key Storage Provider" | null,
     "key_container": "{GUID}" | null,
     "key_file": "C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\<md5>_<MachineGuid>" | null,
     "der": "<base64 DER>"}

The private key is a real file in ``state["files"]`` at ``key_file`` (as on
Windows, where it is a DPAPI-protected file): RSA keys imported from a PFX
go to the legacy CAPI provider (``...\\Crypto\\RSA\\MachineKeys`` or, for
user keys, ``%APPDATA%\\Microsoft\\Crypto\\RSA\\<user SID>``), EC keys to
the CNG software KSP (``...\\Crypto\\Keys``).  Its content is the PKCS#8 DER
of the key (needed to export a PFX, to serve https) *sealed* with the lab
key (``winsim/secrets.py``), opaque like the DPAPI blob it is on Windows:
no private key is ever in clear in a state file; read it only through
:func:`load_private_key`.  Its ACL *is* the key ACL
(:func:`key_acl`): explicit ``NT AUTHORITY\\SYSTEM`` and
``BUILTIN\\Administrators`` FullControl, inheritance disabled.  The
container GUID is derived from the thumbprint, store and key storage so
that runs are reproducible.  Removing a certificate leaves its key file, as
``X509Store.Remove`` does on Windows.  PFX passwords are never stored.

Finding for the tls role (private key read access for the app pool
identity, upstream modules only): ``ansible.windows.win_acl`` accepts
``path: Cert:\\LocalMachine\\My\\<thumbprint>`` (since ansible.windows
2.2.0, ``_CertACLHelper``) with ``rights: Read`` (or ``FullControl``) and
``user: IIS APPPOOL\\<pool>`` (needs the ``Web-Scripting-Tools`` feature
for the WebAdministration provider) or the gMSA/domain account; it edits
the key's security descriptor whichever provider (CAPI or CNG) holds it, so
the container name, which ``win_certificate_info`` does not return, is not
needed.  Import with ``key_storage: machine`` (the default key set of a PFX
without the Microsoft "local machine" bag attribute, e.g. one made by
OpenSSL or community.crypto, is the *connecting user's* profile, where the
app pool cannot reach it) and ``key_exportable: false``.  "Exactly the app
pool identity" means: this one allow ACE beyond SYSTEM/Administrators;
win_acl adds ACEs and never removes other principals.

Fidelity notes (from ``win_certificate_store.ps1`` / ``win_certificate_info.ps1``):

* ``win_certificate_store``: ``X509Certificate2Collection.Import`` loads
  every certificate of a PFX (the CA chain too) into the target store; a
  certificate already present is only re-imported when the new one carries
  a private key and the stored one does not; ``thumbprints`` lists every
  certificate handled.  ``exported`` rewrites the file unless a file of the
  same type already holds the same thumbprint.  Upstream deletes the old
  export file even in check mode; winsim does not (check mode must leave
  the host untouched).  ``store_type: service`` is not simulated.
* ``win_certificate_info`` returns exactly the keys the module builds
  (including ``raw``, ``valid_*_iso8601``, ``path_length_constraint`` and
  ``key_usages``) with Windows' own formatting of subjects and extensions.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import functools
import hashlib
import ipaddress
import re
import typing as t
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

from .. import secrets
from .. import state as st
from ..drift import Arg, DriftError, drift, run_upstream
from ..drift import normalize_thumbprint as _thumbprint
from ..drift import section_of as _section
from . import _winfs as fs
from . import accounts
from ._base import ModuleContext, SimulatorError, model
from ._fresh_roots import FRESH_ROOTS

_UPSTREAM = "ansible.windows 3.8.0"

LOCATIONS = ("CurrentUser", "LocalMachine")
_FRESH_STORES = {
    "LocalMachine": ["AuthRoot", "CA", "ClientAuthIssuer", "Disallowed", "My", "REQUEST", "Remote Desktop", "Root",
                     "SmartCardRoot", "Trust", "TrustedDevices", "TrustedPeople", "TrustedPublisher",
                     "Windows Live ID Token Issuer"],
    "CurrentUser": ["AuthRoot", "CA", "ClientAuthIssuer", "Disallowed", "My", "REQUEST", "Root", "SmartCardRoot",
                    "Trust", "TrustedPeople", "TrustedPublisher"],
}
CAPI_PROVIDER = "Microsoft Enhanced RSA and AES Cryptographic Provider"
CNG_PROVIDER = "Microsoft Software Key Storage Provider"
_KEY_NS = uuid.UUID("6f1d3c1e-2b7a-4c55-9d0e-5a1c0f3b9e21")


class CertLoadError(Exception):
    """``X509Certificate2Collection.Import`` failed; ``str()`` is the
    PowerShell exception message."""


# -- .NET renderings ---------------------------------------------------------

_RDN_NAMES = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.ORGANIZATION_NAME: "O",
    NameOID.LOCALITY_NAME: "L", NameOID.STATE_OR_PROVINCE_NAME: "S", NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E", NameOID.DOMAIN_COMPONENT: "DC", NameOID.STREET_ADDRESS: "STREET",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER", NameOID.TITLE: "T", NameOID.GIVEN_NAME: "G", NameOID.SURNAME: "SN",
    NameOID.INITIALS: "I", NameOID.USER_ID: "UID",
}


def _rdn_value(value: str) -> str:
    if value == "" or re.search(r'[,+="\n<>#;]', value) or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def dotnet_name(name: x509.Name) -> str:
    """``X500DistinguishedName.Name``: RDNs last-to-first, ``, `` separated."""
    parts = []
    for rdn in reversed(list(name.rdns)):
        attrs = []
        for attr in rdn:
            label = _RDN_NAMES.get(attr.oid, f"OID.{attr.oid.dotted_string}")
            value = attr.value if isinstance(attr.value, str) else attr.value.hex()
            attrs.append(f"{label}={_rdn_value(value)}")
        parts.append(" + ".join(attrs))
    return ", ".join(parts)


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> t.Any:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _san_dns(cert: x509.Certificate) -> list[str]:
    san = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    return list(san.get_values_for_type(x509.DNSName)) if san is not None else []


def simple_name(cert: x509.Certificate, issuer: bool) -> str:
    """``GetNameInfo('SimpleName', issuer)``."""
    name = cert.issuer if issuer else cert.subject
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME,
                NameOID.EMAIL_ADDRESS):
        values = name.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    if not issuer:
        dns = _san_dns(cert)
        if dns:
            return dns[0]
    return ""


_SIG_NAMES = {
    "sha1WithRSAEncryption": "sha1RSA", "sha256WithRSAEncryption": "sha256RSA",
    "sha384WithRSAEncryption": "sha384RSA", "sha512WithRSAEncryption": "sha512RSA",
    "md5WithRSAEncryption": "md5RSA", "ecdsa-with-SHA256": "sha256ECDSA", "ecdsa-with-SHA384": "sha384ECDSA",
    "ecdsa-with-SHA512": "sha512ECDSA", "ecdsa-with-SHA1": "sha1ECDSA", "RSASSA-PSS": "RSASSA-PSS",
}

_OID_FRIENDLY = {
    "2.5.29.14": "Subject Key Identifier", "2.5.29.15": "Key Usage", "2.5.29.17": "Subject Alternative Name",
    "2.5.29.18": "Issuer Alternative Name", "2.5.29.19": "Basic Constraints",
    "2.5.29.31": "CRL Distribution Points", "2.5.29.32": "Certificate Policies",
    "2.5.29.35": "Authority Key Identifier", "2.5.29.37": "Enhanced Key Usage",
    "1.3.6.1.5.5.7.1.1": "Authority Information Access", "1.3.6.1.4.1.311.21.1": "CA Version",
    "1.3.6.1.4.1.311.20.2": "Certificate Template Name", "1.3.6.1.4.1.311.21.7": "Certificate Template Information",
    "1.3.6.1.4.1.311.21.10": "Application Policies", "2.16.840.1.113730.1.1": "Netscape Cert Type",
}

_EKU_FRIENDLY = {
    "1.3.6.1.5.5.7.3.1": "Server Authentication", "1.3.6.1.5.5.7.3.2": "Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing", "1.3.6.1.5.5.7.3.4": "Secure Email",
    "1.3.6.1.5.5.7.3.8": "Time Stamping", "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "1.3.6.1.4.1.311.10.3.12": "Document Signing", "1.3.6.1.4.1.311.20.2.2": "Smart Card Logon",
    "1.3.6.1.4.1.311.10.3.4": "Encrypting File System", "2.5.29.37.0": "Any Purpose",
}

# (bit value in the first byte, Windows text, X509KeyUsageFlags name, flag value)
_KEY_USAGE = [
    ("digital_signature", 0x80, "Digital Signature", "DigitalSignature", 128),
    ("content_commitment", 0x40, "Non-Repudiation", "NonRepudiation", 64),
    ("key_encipherment", 0x20, "Key Encipherment", "KeyEncipherment", 32),
    ("data_encipherment", 0x10, "Data Encipherment", "DataEncipherment", 16),
    ("key_agreement", 0x08, "Key Agreement", "KeyAgreement", 8),
    ("key_cert_sign", 0x04, "Certificate Signing", "KeyCertSign", 4),
    ("crl_sign", 0x02, "Off-line CRL Signing, CRL Signing", "CrlSign", 2),
]


def _spaced_hex(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def _key_usage_parts(ku: x509.KeyUsage) -> tuple[str, list[str]]:
    text, names, first = [], [], 0
    for attr, bit, label, _flag_name, _ in _KEY_USAGE:
        if getattr(ku, attr):
            text.append(label)
            first |= bit
    flags = []
    if ku.key_agreement and ku.encipher_only:
        text.append("Encipher Only")
        first |= 0x01
        flags.append(("EncipherOnly", 1))
    flags += [(flag_name, value) for attr, _bit, _label, flag_name, value in _KEY_USAGE if getattr(ku, attr)]
    if ku.key_agreement and ku.decipher_only:
        text.append("Decipher Only")
        flags.append(("DecipherOnly", 32768))
        rendered = f"{', '.join(text)} ({first:02x} 80)"
    else:
        rendered = f"{', '.join(text)} ({first:02x})"
    names = [n for n, _ in sorted(flags, key=lambda f: f[1])]
    return rendered, names


def _general_name(gn: x509.GeneralName) -> str:
    if isinstance(gn, x509.DNSName):
        return f"DNS Name={gn.value}"
    if isinstance(gn, x509.IPAddress):
        return f"IP Address={gn.value}"
    if isinstance(gn, x509.RFC822Name):
        return f"RFC822 Name={gn.value}"
    if isinstance(gn, x509.UniformResourceIdentifier):
        return f"URL={gn.value}"
    if isinstance(gn, x509.DirectoryName):
        return f"Directory Address:{dotnet_name(gn.value)}"
    return f"Other Name:{gn.value!r}"


def format_extension(ext: x509.Extension[t.Any]) -> str:
    """``X509Extension.Format($false)`` (CryptFormatObject, single line)."""
    value = ext.value
    if isinstance(value, x509.BasicConstraints):
        subject = "CA" if value.ca else "End Entity"
        plc = "None" if value.path_length is None else str(value.path_length)
        return f"Subject Type={subject}, Path Length Constraint={plc}"
    if isinstance(value, x509.KeyUsage):
        return _key_usage_parts(value)[0]
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(f"{_EKU_FRIENDLY.get(o.dotted_string, '')} ({o.dotted_string})".lstrip()
                         for o in value)
    if isinstance(value, x509.SubjectAlternativeName | x509.IssuerAlternativeName):
        return ", ".join(_general_name(gn) for gn in value)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return _spaced_hex(value.digest)
    if isinstance(value, x509.AuthorityKeyIdentifier):
        parts = []
        if value.key_identifier is not None:
            parts.append(f"KeyID={_spaced_hex(value.key_identifier)}")
        if value.authority_cert_issuer:
            parts.append("Certificate Issuer:" + ", ".join(_general_name(g) for g in value.authority_cert_issuer))
        if value.authority_cert_serial_number is not None:
            parts.append("Certificate SerialNumber=" + _spaced_hex(_int_bytes(value.authority_cert_serial_number)))
        return ", ".join(parts)
    if isinstance(value, x509.CRLDistributionPoints):
        return ", ".join(
            f"[{i}]CRL Distribution Point: Distribution Point Name:Full Name:"
            + ", ".join(_general_name(g) for g in (dp.full_name or []))
            for i, dp in enumerate(value, 1))
    if isinstance(value, x509.AuthorityInformationAccess):
        methods = {"1.3.6.1.5.5.7.48.1": "On-line Certificate Status Protocol",
                   "1.3.6.1.5.5.7.48.2": "Certification Authority Issuer"}
        return ", ".join(
            f"[{i}]Authority Info Access: Access Method={methods.get(ad.access_method.dotted_string, '')} "
            f"({ad.access_method.dotted_string}), Alternative Name:{_general_name(ad.access_location)}"
            for i, ad in enumerate(value, 1))
    if isinstance(value, x509.CertificatePolicies):
        return ", ".join(f"[{i}]Certificate Policy:Policy Identifier={p.policy_identifier.dotted_string}"
                         for i, p in enumerate(value, 1))
    return _spaced_hex(value.public_bytes() if hasattr(value, "public_bytes") else b"")


def _int_bytes(value: int) -> bytes:
    length = value.bit_length() // 8 + 1
    return value.to_bytes(length, "big", signed=True)


def serial_hex(value: int) -> str:
    """``X509Certificate2.SerialNumber``: the DER INTEGER content bytes."""
    data = _int_bytes(value)
    if len(data) > 1 and data[0] == 0 and data[1] < 0x80:
        data = data[1:]
    return data.hex().upper()


def _der_read(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[start:start + n], "big")
        start += n
    return tag, start, start + length


def public_key_bytes(cert: x509.Certificate) -> bytes:
    """``GetPublicKey()``: the subjectPublicKey BIT STRING contents."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    _, start, _end = _der_read(spki, 0)
    _, _alg_start, alg_end = _der_read(spki, start)
    tag, bs_start, bs_end = _der_read(spki, alg_end)
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without BIT STRING")
    return spki[bs_start + 1:bs_end]


def _when(value: _dt.datetime) -> str:
    return st.iso(value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value)


def entry_from_der(der: bytes, *, friendly_name: str = "") -> dict[str, t.Any]:
    """A store entry (without private key) for a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        algo, length = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        algo, length = "ECC", key.curve.key_size
    else:
        algo, length = type(key).__name__.replace("PublicKey", "").upper(), None
    sig = cert.signature_algorithm_oid._name
    return {
        "thumbprint": hashlib.sha1(der).hexdigest().upper(),
        "subject": dotnet_name(cert.subject),
        "issuer": dotnet_name(cert.issuer),
        "dns_names": _san_dns(cert),
        "not_before": _when(cert.not_valid_before_utc),
        "not_after": _when(cert.not_valid_after_utc),
        "serial_number": serial_hex(cert.serial_number),
        "signature_algorithm": _SIG_NAMES.get(sig, sig),
        "public_key_algorithm": algo,
        "key_length": length,
        "friendly_name": friendly_name,
        "archived": False,
        "has_private_key": False,
        "key_exportable": False,
        "key_storage": None,
        "key_provider": None,
        "key_container": None,
        "key_file": None,
        "der": base64.b64encode(der).decode("ascii"),
    }


def certificate_of(entry: dict[str, t.Any]) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(entry["der"]))


# -- the section and store access ----------------------------------------------

@functools.cache
def _fresh_root_entries() -> tuple[dict[str, t.Any], ...]:
    out = []
    for friendly, pem in FRESH_ROOTS:
        der = x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(serialization.Encoding.DER)
        out.append(entry_from_der(der, friendly_name=friendly))
    return tuple(out)


@st.section("certificates")
def _fresh_certificates() -> dict[str, t.Any]:
    stores: dict[str, t.Any] = {loc: {name: {} for name in names} for loc, names in _FRESH_STORES.items()}
    for entry in _fresh_root_entries():
        stores["LocalMachine"]["Root"][entry["thumbprint"]] = copy.deepcopy(entry)
    return stores


def canonical_location(location: str) -> str | None:
    return next((loc for loc in LOCATIONS if loc.lower() == str(location).lower()), None)


def _store_key(state: dict[str, t.Any], location: str, name: str) -> str | None:
    stores = state.get("certificates", {}).get(location, {})
    found = next((k for k in stores if k.lower() == name.lower()), None)
    if found is None and location == "LocalMachine" and name.lower() == "webhosting":
        from .acl import feature_installed

        if feature_installed(state, "Web-Server"):
            return "WebHosting"
    return found


def store_exists(state: dict[str, t.Any], location: str, name: str) -> bool:
    loc = canonical_location(location)
    return loc is not None and _store_key(state, loc, name) is not None


def store_certificates(state: dict[str, t.Any], location: str, name: str) -> dict[str, dict[str, t.Any]]:
    """The entries of a store (empty when the store does not exist)."""
    loc = canonical_location(location)
    key = _store_key(state, loc, name) if loc else None
    if key is None:
        return {}
    return state["certificates"].get(loc, {}).get(key, {})


def _open_store(state: dict[str, t.Any], location: str, name: str) -> dict[str, dict[str, t.Any]]:
    loc = canonical_location(location)
    key = _store_key(state, loc, name) if loc else None
    if loc is None or key is None:
        raise KeyError(name)
    return state["certificates"].setdefault(loc, {}).setdefault(key, {})


def normalise_thumbprint(thumbprint: str) -> str:
    return re.sub(r"\s", "", str(thumbprint)).upper()


def find_certificate(state: dict[str, t.Any], location: str, store: str, thumbprint: str
                     ) -> dict[str, t.Any] | None:
    return store_certificates(state, location, store).get(normalise_thumbprint(thumbprint))


def key_acl(state: dict[str, t.Any], entry: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The private key's ACL (the explicit ACEs of its key file)."""
    item = st.get_item(state, entry["key_file"]) if entry.get("key_file") else None
    return list(item.get("acl", [])) if item else []


def is_time_valid(entry: dict[str, t.Any], now: _dt.datetime) -> bool:
    return st.parse_iso(entry["not_before"]) <= now <= st.parse_iso(entry["not_after"])


# -- private keys ---------------------------------------------------------------

def machine_guid(state: dict[str, t.Any]) -> str:
    """``HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid``: taken from the
    host document when recorded there, else derived from the host name."""
    recorded = state.get("host", {}).get("machine_guid")
    if recorded:
        return str(recorded)
    return str(uuid.uuid5(_KEY_NS, "machine:" + str(state["host"]["hostname"]).lower()))


def _key_location(state: dict[str, t.Any], cng: bool, storage: str, container: str) -> str:
    guid = machine_guid(state)
    if cng:
        name = hashlib.sha1(container.lower().encode("utf-16-le")).hexdigest() + "_" + guid
    else:
        name = hashlib.md5(container.lower().encode("ascii") + b"\0").hexdigest() + "_" + guid
    if storage == "machine":
        base = "C:\\ProgramData\\Microsoft\\Crypto\\" + ("Keys" if cng else "RSA\\MachineKeys")
    else:
        sid = f"{accounts.MACHINE_SID}-500"
        base = ("C:\\Users\\Administrator\\AppData\\Roaming\\Microsoft\\Crypto\\"
                + ("Keys" if cng else "RSA\\" + sid))
    return base + "\\" + name


def _key_file_acl(storage: str) -> list[dict[str, t.Any]]:
    owner = ("BUILTIN\\Administrators", "S-1-5-32-544") if storage == "machine" else \
        ("WIN-SIM\\Administrator", f"{accounts.MACHINE_SID}-500")
    return [
        {"identity": "NT AUTHORITY\\SYSTEM", "sid": "S-1-5-18", "rights": "FullControl", "type": "allow",
         "inheritance": "None", "propagation": "None", "inherited": False},
        {"identity": owner[0], "sid": owner[1], "rights": "FullControl", "type": "allow",
         "inheritance": "None", "propagation": "None", "inherited": False},
    ]


def store_private_key(ctx: ModuleContext, entry: dict[str, t.Any], key: t.Any, *, location: str, store: str,
                      storage: str, exportable: bool) -> None:
    """Persist ``key`` as the certificate's key file and record it on the
    entry (never in check mode)."""
    cng = not isinstance(key, rsa.RSAPrivateKey)
    container = "{" + str(uuid.uuid5(_KEY_NS, f"{entry['thumbprint']}|{location}|{store}|{storage}")).upper() + "}"
    path = _key_location(ctx.state, cng, storage, container)
    st.make_dirs(ctx.state, st.parent(path), st.iso(ctx.now()))
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    item = fs.write_bytes(ctx, path, secrets.seal(ctx, der))
    item["inherit"] = False
    item["attributes"] = ["Archive", "System"]
    acl = _key_file_acl(storage)
    if storage != "machine":
        acl[1]["identity"] = f"{accounts.computer_name(ctx.state)}\\Administrator"
    item["acl"] = acl
    entry.update(has_private_key=True, key_exportable=exportable, key_storage=storage,
                 key_provider=CNG_PROVIDER if cng else CAPI_PROVIDER, key_container=container, key_file=path)


def load_private_key(ctx: ModuleContext, entry: dict[str, t.Any], state: dict[str, t.Any] | None = None) -> t.Any:
    """The one way to the private key of a store entry: its key file (in
    ``state``, by default the model's host) unsealed with the lab key (see
    ``winsim/secrets.py``).  ``None`` when the entry has no key or its key
    file is gone."""
    state = ctx.state if state is None else state
    path = entry.get("key_file")
    if not entry.get("has_private_key") or not path or not st.exists(state, path):
        return None
    blob = st.read_file(state, path)
    if blob.startswith(BUILTIN_KEY_PREFIX):  # a profile's certificate: a public, derived key
        return builtin_key(blob[len(BUILTIN_KEY_PREFIX):].decode("ascii"))
    if state.get("winsim_format") == 1 and not secrets.is_sealed(blob):
        data = blob  # a format 1 document not migrated yet (another host read raw): still read
    else:
        data = secrets.unseal(ctx, blob, what=f"private key file {path}")
    return serialization.load_der_private_key(data, password=None)


def seal_clear_keys(state: dict[str, t.Any], lab_key: bytes) -> list[str]:
    """Migration from state format 1: seal every private key file still in
    clear (format 1 kept the PKCS#8 DER as is).  Returns the sealed paths."""
    sealed = []
    for stores in state.get("certificates", {}).values():
        for entries in stores.values():
            for entry in entries.values():
                path = entry.get("key_file")
                item = st.get_item(state, path) if path else None
                if item is None or item.get("type") != "file":
                    continue
                data = base64.b64decode(item["content"])
                if secrets.is_sealed(data):
                    continue
                blob = secrets.seal_with(lab_key, data)
                disk = state.get("disks", {}).get(st.drive_of(item["path"]))
                if disk is not None:
                    disk["free"] -= len(blob) - item["size"]
                item.update(content=base64.b64encode(blob).decode("ascii"), size=len(blob),
                            sha1=hashlib.sha1(blob).hexdigest())
                sealed.append(item["path"])
    return sealed


# -- X509Certificate2Collection.Import ----------------------------------------------

class LoadedCert(t.NamedTuple):
    der: bytes
    key: t.Any
    friendly_name: str


def _looks_like_pfx(data: bytes) -> bool:
    try:
        tag, start, _end = _der_read(data, 0)
        if tag != 0x30:
            return False
        tag, vstart, vend = _der_read(data, start)
        return tag == 0x02 and data[vstart:vend] == b"\x03"
    except IndexError:
        return False


def import_collection(data: bytes, password: str | None) -> list[LoadedCert]:
    """What ``X509Certificate2Collection.Import(path, password, flags)``
    loads from a file: one DER or PEM certificate, or every certificate of a
    PKCS#12 file (the one with the key first).  Raises :class:`CertLoadError`
    with the PowerShell message."""
    prefix = 'Exception calling "Import" with "3" argument(s): '
    stripped = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped.startswith(b"-----BEGIN CERTIFICATE-----"):
        try:
            cert = x509.load_pem_x509_certificate(stripped)
            return [LoadedCert(cert.public_bytes(serialization.Encoding.DER), None, "")]
        except ValueError as exc:
            raise CertLoadError(prefix + '"Cannot find the requested object.\r\n"') from exc
    if _looks_like_pfx(data):
        try:
            bundle = pkcs12.load_pkcs12(data, password.encode("utf-8") if password else None)
        except ValueError as exc:
            if password:
                try:
                    bundle = pkcs12.load_pkcs12(data, None)
                except ValueError:
                    raise CertLoadError(prefix + '"The specified network password is not correct.\r\n"') from exc
            else:
                raise CertLoadError(prefix + '"The specified network password is not correct.\r\n"') from exc
        out = []
        if bundle.cert is not None:
            out.append(LoadedCert(bundle.cert.certificate.public_bytes(serialization.Encoding.DER), bundle.key,
                                  (bundle.cert.friendly_name or b"").decode("utf-8", "replace")))
        for extra in bundle.additional_certs:
            out.append(LoadedCert(extra.certificate.public_bytes(serialization.Encoding.DER), None,
                                  (extra.friendly_name or b"").decode("utf-8", "replace")))
        return out
    try:
        cert = x509.load_der_x509_certificate(data)
        return [LoadedCert(cert.public_bytes(serialization.Encoding.DER), None, "")]
    except ValueError as exc:
        raise CertLoadError(prefix + '"Cannot find the requested object.\r\n"') from exc


def _file_type_of(path: str, data: bytes, password: str | None) -> str:
    """``Get-CertFileType`` of ``win_certificate_store.ps1``."""
    try:
        certs = import_collection(data, password)
    except CertLoadError:
        return "pkcs12"
    text = data.decode("latin-1")
    if text.startswith("-----BEGIN CERTIFICATE-----"):
        return "pem"
    if text.startswith("-----BEGIN PKCS7-----"):
        return "pkcs7-ascii"
    if len(certs) > 1:
        return "pkcs7-binary"
    if certs[0].key is not None:
        return "pkcs12"
    if path.endswith((".pfx", ".p12")):
        return "pkcs12"
    return "der"


# -- win_certificate_store ---------------------------------------------------------

def _store_failure(store_name: str) -> str:
    return (f"unable to find store '{store_name}': (CertOpenStore failed (The system cannot find the file "
            "specified, Win32ErrorCode 2 - 0x00000002))")


def _load_file(ctx: ModuleContext, path: str, password: str | None) -> list[LoadedCert]:
    item = st.get_item(ctx.state, path) if st.is_absolute(path) else None
    if item is None or item["type"] != "file":
        ctx.fail(f"File at '{path}' either does not exist or is not a file")
    try:
        return import_collection(st.read_file(ctx.state, path), password)
    except CertLoadError as exc:
        ctx.fail(f"Failed to load cert from file: {exc}")


def _export_bytes(ctx: ModuleContext, entry: dict[str, t.Any], file_type: str, password: str | None) -> bytes:
    cert = certificate_of(entry)
    if file_type in ("der", "pem"):
        der = cert.public_bytes(serialization.Encoding.DER)
        if file_type == "der":
            return der
        b64 = base64.b64encode(der).decode("ascii")
        lines = "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
        return ("-----BEGIN CERTIFICATE-----\r\n" + lines + "\r\n-----END CERTIFICATE-----").encode("ascii")
    key = None
    if entry.get("has_private_key"):
        if not entry.get("key_exportable"):
            ctx.fail('Failed to export certificate as bytes: Exception calling "Export" with "2" argument(s): '
                     '"Key not valid for use in specified state.\r\n"')
        key = load_private_key(ctx, entry)
    encryption = (serialization.BestAvailableEncryption(password.encode("utf-8")) if password
                  else serialization.NoEncryption())
    name = entry.get("friendly_name") or None
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8") if name else None, key, cert, None,
                                                 encryption)


@model("ansible.windows.win_certificate_store", upstream=_UPSTREAM, partial_on_failure=True)
def win_certificate_store(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = p.get("state") or "present"
    path = p.get("path")
    thumbprint = p.get("thumbprint")
    store_name = p.get("store_name") or "My"
    store_location = p.get("store_location") or "LocalMachine"
    password = p.get("password")
    result = ctx.exit(thumbprints=[])

    if store_name == "CertificateAuthority":
        store_name = "CA"
    if p.get("store_type") == "service":
        services = ctx.state.get("services", {})
        if not any(s.get("name", k).lower() == store_location.lower() for k, s in services.items()):
            ctx.fail(f"value of store_location '{store_location}' is not a valid windows service")
        raise SimulatorError("winsim: win_certificate_store with store_type=service is not simulated")
    location = canonical_location(store_location)
    if location is None:
        ctx.fail("value of store_location must be one of: CurrentUser, LocalMachine. Got no match for: "
                 f"{store_location}")
    if not store_exists(ctx.state, location, store_name):
        ctx.fail(_store_failure(store_name))
    entries = store_certificates(ctx.state, location, store_name)

    if state == "absent":
        wanted: list[str] = []
        if path is not None:
            wanted = [hashlib.sha1(c.der).hexdigest().upper()
                      for c in _load_file(ctx, path, password)]
        elif thumbprint is not None:
            wanted = [thumbprint]
        for thumb in wanted:
            result["thumbprints"].append(thumb)
            key = normalise_thumbprint(thumb)
            if key in entries:
                if not ctx.check_mode:
                    del _open_store(ctx.state, location, store_name)[key]
                ctx.changed()
    elif state == "exported":
        result["thumbprints"].append(thumbprint)
        target = fs.resolve_path(ctx, path)
        item = st.get_item(ctx.state, target)
        file_type = p.get("file_type") or "der"
        export = True
        if item is not None and item["type"] == "directory":
            ctx.fail(f"Cannot export cert to path '{path}' as it is a directory")
        if item is not None:
            data = st.read_file(ctx.state, target)
            if _file_type_of(target, data, password) == file_type:
                try:
                    existing = import_collection(data, password)
                except CertLoadError as exc:
                    ctx.fail(f"Failed to load cert from file: {exc}")
                if any(hashlib.sha1(c.der).hexdigest().upper() == normalise_thumbprint(thumbprint)
                       for c in existing):
                    export = False
        if export:
            found = entries.get(normalise_thumbprint(thumbprint))
            if found is None:
                ctx.fail("Found 0 certs when only expecting 1")
            if item is not None:
                ctx.changed()
            data = _export_bytes(ctx, found, file_type, password)
            if file_type == "pkcs12":
                result["key_exported"] = False
                if found.get("has_private_key"):
                    result["key_exportable"] = bool(found.get("key_exportable"))
            if not ctx.check_mode:
                par = st.parent(target)
                if par is None or not st.exists(ctx.state, par):
                    ctx.fail(f"Failed to write cert to file due to IO Exception: Could not find a part of the "
                             f"path '{target}'.")
                try:
                    fs.write_bytes(ctx, target, data)
                except st.DiskFull:
                    ctx.fail("Failed to write cert to file due to IO Exception: " + fs.disk_full_message())
            ctx.changed()
    else:
        storage = p.get("key_storage") or "default"
        if storage == "default":
            # DefaultKeySet: a PFX without the Microsoft machine key set attribute
            # (OpenSSL, community.crypto) lands in the connecting user's profile.
            storage = "user"
        for loaded in _load_file(ctx, path, password):
            thumb = hashlib.sha1(loaded.der).hexdigest().upper()
            result["thumbprints"].append(thumb)
            existing = entries.get(thumb)
            reimport = existing is not None and loaded.key is not None and not existing.get("has_private_key")
            if existing is None or reimport:
                if not ctx.check_mode:
                    entry = entry_from_der(loaded.der, friendly_name=loaded.friendly_name)
                    if loaded.key is not None:
                        try:
                            store_private_key(ctx, entry, loaded.key, location=location, store=store_name,
                                              storage=storage, exportable=bool(p.get("key_exportable")))
                        except st.DiskFull:
                            ctx.fail(f"Unable to import certificate with thumbprint '{thumb}' with the current "
                                     "permissions: Exception calling \"Add\" with \"1\" argument(s): "
                                     f"\"{fs.disk_full_message()}\r\n\"")
                    _open_store(ctx.state, location, store_name)[thumb] = entry
                ctx.changed()
    return result


# -- win_certificate_info -----------------------------------------------------------

def certificate_info(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Get-CertificateInfo`` of ``win_certificate_info.ps1`` for one entry."""
    der = base64.b64decode(entry["der"])
    cert = x509.load_der_x509_certificate(der)
    nb = st.parse_iso(entry["not_before"])
    na = st.parse_iso(entry["not_after"])
    issued_to = simple_name(cert, False)
    info: dict[str, t.Any] = {
        "extensions": [],
        "friendly_name": entry.get("friendly_name", ""),
        "thumbprint": entry["thumbprint"],
        "subject": entry["subject"],
        "issuer": entry["issuer"],
        "valid_from": fs.epoch_seconds(nb),
        "valid_from_iso8601": st.iso(nb),
        "valid_to": fs.epoch_seconds(na),
        "valid_to_iso8601": st.iso(na),
        "serial_number": entry["serial_number"],
        "archived": bool(entry.get("archived")),
        "version": cert.version.value + 1,
        "has_private_key": bool(entry.get("has_private_key")),
        "issued_by": simple_name(cert, True),
        "issued_to": issued_to,
        "signature_algorithm": entry["signature_algorithm"],
        "dns_names": [issued_to],
        "raw": base64.b64encode(der).decode("ascii"),
        "public_key": base64.b64encode(public_key_bytes(cert)).decode("ascii"),
    }
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        info["extensions"].append({"critical": ext.critical, "field": _OID_FRIENDLY.get(oid),
                                   "value": format_extension(ext)})
        value = ext.value
        if isinstance(value, x509.BasicConstraints):
            info["is_ca"] = value.ca
            info["path_length_constraint"] = value.path_length if value.path_length is not None else 0
        elif isinstance(value, x509.ExtendedKeyUsage):
            info["intended_purposes"] = [_EKU_FRIENDLY.get(o.dotted_string) for o in value]
        elif isinstance(value, x509.KeyUsage):
            info["key_usages"] = _key_usage_parts(value)[1]
        elif isinstance(value, x509.SubjectKeyIdentifier):
            info["ski"] = value.digest.hex().upper()
        elif isinstance(value, x509.SubjectAlternativeName):
            info["dns_names"].extend(value.get_values_for_type(x509.DNSName))
    return info


@model("ansible.windows.win_certificate_info", upstream=_UPSTREAM)
def win_certificate_info(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    store_name = p.get("store_name") or "My"
    location = canonical_location(p.get("store_location") or "LocalMachine") or "LocalMachine"
    if not store_exists(ctx.state, location, store_name):
        fs.unhandled(ctx, 'Exception calling "Open" with "1" argument(s): "The system cannot find the file '
                          'specified.\r\n"')
    entries = store_certificates(ctx.state, location, store_name)
    result = ctx.exit(exists=False, certificates=[])
    if p.get("thumbprint") is not None:
        found = [e for k, e in entries.items() if k == normalise_thumbprint(p["thumbprint"])]
    else:
        found = list(entries.values())
    if found:
        result["exists"] = True
        result["certificates"] = sorted((certificate_info(e) for e in found), key=lambda i: i["thumbprint"])
    return result


# -- helpers for other models and tools ------------------------------------------------

def add_certificate(state: dict[str, t.Any], location: str, store: str, der: bytes, *,
                    friendly_name: str = "") -> dict[str, t.Any]:
    """Put a public certificate into a store (drift/fault tooling, other
    models).  Creates the store when missing."""
    loc = canonical_location(location) or location
    stores = state.setdefault("certificates", {}).setdefault(loc, {})
    key = next((k for k in stores if k.lower() == store.lower()), store)
    entry = entry_from_der(der, friendly_name=friendly_name)
    stores.setdefault(key, {})[entry["thumbprint"]] = entry
    return entry


def self_signed_for_tests(common_name: str, *, dns_names: t.Sequence[str] = (), days: int = 365,
                          not_before: _dt.datetime | None = None, issuer: tuple[t.Any, str] | None = None,
                          ca: bool = False, key: t.Any = None) -> tuple[t.Any, bytes]:
    """(private key, DER) of a certificate signed by ``issuer`` ((key,
    subject CN)) or self-signed: for fault injection and tests."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = not_before or _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[1])]) if issuer else subject
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + _dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns_names:
        sans: list[x509.GeneralName] = []
        for name in dns_names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                        critical=False)
    cert = builder.sign(issuer[0] if issuer else key, hashes.SHA256())
    return key, cert.public_bytes(serialization.Encoding.DER)


# -- host profiles (winsim/docs/profiles.md) -------------------------------------------

BUILTIN_KEY_PREFIX = b"WINSIM-BUILTIN-KEY/1\n"
"""Content of the key file of a certificate a host *profile* brings (the
WinRM HTTPS certificate, the lived-in leftovers): a reference to a key
derived from a public seed, not key material.  Those keys protect nothing
(every simulated host of that profile derives the same key) and a fresh
document must be reproducible byte for byte, which a random key or a sealed
blob (the lab key is not known when a fresh document is built) is not."""


def _probable_prime(rng: t.Any, bits: int) -> int:
    small = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if any(n % p == 0 for p in small):
            continue
        d, r = n - 1, 0
        while d % 2 == 0:
            d //= 2
            r += 1
        for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


# The primes :func:`derive_builtin_primes` gives for the seed "profile",
# precomputed (deriving them costs half a second of CPU in every ansible
# worker; a unit test checks they are what the derivation gives).
_BUILTIN_PRIMES = {"profile": (
    int(
        "f57b0327f415e7e13b85ab4d6d81aab92078c1e703318bf6b8f712a6d30738e61c17336b0ce0868e16c5e64438312324"
        "4ea4ab110781e4c77ecfa2a1a2946058dda9b3d7a725f6ef213b10c87259c752cf84003d01d6dcb07d4680d8d676d76e"
        "d6fd76e8fa3a1d19b7c22a53a565587995e3ae99e8d09095f73c3a598e078537", 16),
    int(
        "d793fdfcee598fa60f65c9cc84b01fad3c2c5d2a834a223d77a73699a0443156becaa367f1b911befd8e50a81a95be99"
        "ce7497fdd9c2ba56d2934caa5c086e0610647d62b9efa32e57657358ce41bd7768af86bb5fab4d4f90ba78dcc8d17e83"
        "ae9c0ba2a833f4948b680c6d383368e30a7f08a4f54bd9fa2c0f8a13ebdc63df", 16),
)}


def derive_builtin_primes(seed: str) -> tuple[int, int]:
    """The two 1024-bit primes of the builtin key of ``seed`` (Miller-Rabin
    over a PRNG seeded with SHA-256 of the seed)."""
    import random

    rng = random.Random(hashlib.sha256(b"winsim builtin key\0" + seed.encode()).digest())
    while True:
        p, q = _probable_prime(rng, 1024), _probable_prime(rng, 1024)
        if p != q and (p - 1) % 65537 and (q - 1) % 65537:
            return p, q


@functools.cache
def builtin_key(seed: str) -> rsa.RSAPrivateKey:
    """The RSA-2048 key derived from ``seed`` (deterministic, cached)."""
    e = 65537
    p, q = _BUILTIN_PRIMES.get(seed) or derive_builtin_primes(seed)
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


def _profile_cert(doc: dict[str, t.Any], *, subject: str, issuer: str, dns: list[str], not_before: _dt.datetime,
                  days: int, server_auth_only: bool = False, friendly_name: str = "") -> dict[str, t.Any]:
    """A certificate with its (builtin) private key in ``LocalMachine\\My``,
    stored as a CNG key (``New-SelfSignedCertificate``'s default provider)."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = builtin_key("profile")

    def name(text: str) -> x509.Name:
        return x509.Name.from_rfc4514_string(text)

    eku = [ExtendedKeyUsageOID.SERVER_AUTH] if server_auth_only else [ExtendedKeyUsageOID.CLIENT_AUTH,
                                                                        ExtendedKeyUsageOID.SERVER_AUTH]
    serial = int.from_bytes(hashlib.sha256(f"{subject}|{issuer}|{not_before}".encode()).digest()[:16]) >> 1
    cert = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(serial).not_valid_before(not_before)
            .not_valid_after(not_before + _dt.timedelta(days=days))
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
            .sign(key, hashes.SHA256()))
    entry = entry_from_der(cert.public_bytes(serialization.Encoding.DER), friendly_name=friendly_name)
    container = "{" + str(uuid.uuid5(_KEY_NS, f"{entry['thumbprint']}|LocalMachine|My|machine")).upper() + "}"
    path = _key_location(doc, True, "machine", container)
    when = doc["host"]["installed_at"]
    st.make_dirs(doc, st.parent(path), when)
    item = st.write_file(doc, path, BUILTIN_KEY_PREFIX + b"profile", when)
    item.update(inherit=False, attributes=["Archive", "System"], acl=_key_file_acl("machine"))
    entry.update(has_private_key=True, key_exportable=False, key_storage="machine", key_provider=CNG_PROVIDER,
                 key_container=container, key_file=path)
    doc["certificates"]["LocalMachine"]["My"][entry["thumbprint"]] = entry
    return entry


@st.profile_finisher("certificates")
def _profile_certificates(doc: dict[str, t.Any], profile: str) -> None:
    """``realistic``: the WinRM HTTPS listener's self-signed certificate
    (CN = the host name, one year from the install, as
    ``New-SelfSignedCertificate -DnsName <host> -CertStoreLocation
    Cert:\\LocalMachine\\My`` before ``winrm quickconfig -transport:https``
    leaves it), ``host.winrm_https_thumbprint`` pointing at it.
    ``lived-in``: also an expired certificate of a CA that is gone and one of
    another company's CA, both with keys, neither chaining to a trusted root."""
    if profile == "bare":
        return
    host = doc["host"]["hostname"]
    installed = st.parse_iso(doc["host"]["installed_at"])
    winrm = _profile_cert(doc, subject=f"CN={host}", issuer=f"CN={host}", dns=[host.lower()],
                          not_before=installed, days=365)
    doc["host"]["winrm_https_thumbprint"] = winrm["thumbprint"]
    if profile != "lived-in":
        return
    short = host.lower()
    _profile_cert(doc, subject=f"CN={short}.corp.example.com",
                  issuer="CN=Example Enterprise CA G1,DC=corp,DC=example,DC=com",
                  dns=[f"{short}.corp.example.com", short], not_before=installed - _dt.timedelta(days=1100), days=730,
                  server_auth_only=True, friendly_name="IIS 2023")
    _profile_cert(doc, subject="CN=intranet.contoso.local,O=Contoso Ltd,C=US",
                  issuer="CN=Contoso Issuing CA 01,O=Contoso Ltd,C=US", dns=["intranet.contoso.local"],
                  not_before=installed - _dt.timedelta(days=200), days=825, server_auth_only=True,
                  friendly_name="legacy intranet")

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

def _split_store(store: str) -> tuple[str, str]:
    """``LocalMachine\\My``, ``Cert:\\LocalMachine\\My`` or ``My`` -> (location, name)."""
    parts = [p for p in re.split(r"[\\/]", store) if p and p.lower() != "cert:"]
    if len(parts) == 1:
        return "LocalMachine", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise DriftError(f"a certificate store is LOCATION\\NAME, e.g. LocalMachine\\My (got {store!r})")


def _cert_locations(state: dict[str, t.Any]) -> dict[str, dict[str, dict[str, t.Any]]]:
    certs = _section(state, "certificates")
    if not isinstance(certs, dict) or not all(isinstance(v, dict) for v in certs.values()):
        raise DriftError("the certificates section has an unknown layout")
    return certs


def _find_cert(state: dict[str, t.Any], thumbprint: str, store: str | None
               ) -> tuple[str, str, dict[str, t.Any]]:
    tp = _thumbprint(thumbprint)
    want = _split_store(store) if store else None
    for location, stores in _cert_locations(state).items():
        for name, entries in stores.items():
            if want and (location.lower(), name.lower()) != (want[0].lower(), want[1].lower()):
                continue
            for k, cert in entries.items():
                if k.upper() == tp:
                    return location, name, cert
    where = f"store {store}" if store else "any store"
    raise DriftError(f"no certificate {tp} in {where}")


@drift("expire-cert", section="certificates",
       help="Move a certificate's expiry to N days from the host's now (negative: already expired).",
       args=[Arg("thumbprint", "certificate thumbprint"), Arg("--days", "days from now", type=int),
             Arg("--store", "store, e.g. LocalMachine\\My (default: wherever the thumbprint is)", required=False)])
def expire_cert(state: dict[str, t.Any], now: _dt.datetime, *, thumbprint: str, days: int,
                store: str | None = None) -> str:
    """Only the entry's validity changes: thumbprint, DER and bindings stay,
    as if the same certificate had been issued with that validity, so every
    model that checks expiry (``not_after``) sees the new date."""
    location, name, cert = _find_cert(state, thumbprint, store)
    not_after = now + _dt.timedelta(days=days)
    before = cert.get("not_after")
    cert["not_after"] = st.iso(not_after)
    if cert.get("not_before") and st.parse_iso(cert["not_before"]) >= not_after:
        cert["not_before"] = st.iso(not_after - _dt.timedelta(days=365))
    return f"certificate {cert.get('thumbprint')} in {location}\\{name}: not_after {before} -> {cert['not_after']}"


def _make_pfx(subject: str, names: list[str], start: _dt.datetime, end: _dt.datetime, issuer: str | None,
              friendly_name: str, password: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID

    def parse_name(text: str) -> x509.Name:
        try:
            return x509.Name.from_rfc4514_string(text)
        except ValueError as exc:
            raise DriftError(f"not a distinguished name: {text!r} ({exc})") from exc

    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = ec.generate_private_key(ec.SECP256R1()) if issuer else key
    builder = (x509.CertificateBuilder()
               .subject_name(parse_name(subject))
               .issuer_name(parse_name(issuer or subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start)
               .not_valid_after(end)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                                        critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8") if friendly_name else None, key, cert, None,
        serialization.BestAvailableEncryption(password))


@drift("add-cert", section="certificates",
       help="Import a new certificate with its private key (as an operator importing a PFX by hand), valid from "
            "now for N days (negative N: expired N days ago); runs win_certificate_store's model.",
       args=[Arg("--subject", "subject, e.g. CN=mcms.lab"), Arg("--days", "validity in days from now", type=int),
             Arg("--store", "store", required=False, default="LocalMachine\\My"),
             Arg("--dns-name", "SAN DNS name (repeatable; default: the subject's CN)", required=False,
                 action="append"),
             Arg("--issuer", "issuer name (default: self-signed)", required=False),
             Arg("--friendly-name", "friendly name", required=False, default="")])
def add_cert(state: dict[str, t.Any], now: _dt.datetime, *, subject: str, days: int,
             store: str = "LocalMachine\\My", dns_name: list[str] | None = None, issuer: str | None = None,
             friendly_name: str = "") -> str:
    import secrets

    if days == 0:
        raise DriftError("--days must not be 0")
    location, name = _split_store(store)
    start, end = (now, now + _dt.timedelta(days=days)) if days > 0 else (
        now + _dt.timedelta(days=days - 365), now + _dt.timedelta(days=days))
    cn = re.search(r"CN=([^,]+)", subject)
    names = list(dns_name or ([cn.group(1).strip()] if cn else []))
    password = secrets.token_urlsafe(18)
    pfx = _make_pfx(subject, names, start, end, issuer, friendly_name, password.encode("ascii"))
    temp = st.normpath(f"C:\\Windows\\Temp\\winsim-drift-{secrets.token_hex(4)}.pfx")
    try:
        st.write_file(state, temp, pfx, st.iso(now))
    except st.DiskFull as exc:
        raise DriftError(f"the disk is full: {exc}") from exc
    try:
        result = run_upstream(state, now, "ansible.windows.win_certificate_store", {
            "path": temp, "password": password, "store_location": location, "store_name": name,
            "key_storage": "machine", "key_exportable": False, "state": "present"})
    finally:
        if st.exists(state, temp):
            st.remove(state, temp)
    thumbprints = result.get("thumbprints") or []
    return (f"certificate {', '.join(thumbprints)} ({subject}) imported into {location}\\{name}, "
            f"expires {st.iso(end)}")


@drift("remove-cert", section="certificates", help="Delete a certificate from a store (its key file stays).",
       args=[Arg("thumbprint", "certificate thumbprint"), Arg("--store", "store", required=False)])
def remove_cert(state: dict[str, t.Any], now: _dt.datetime, *, thumbprint: str, store: str | None = None) -> str:
    location, name, cert = _find_cert(state, thumbprint, store)
    entries = state["certificates"][location][name]
    del entries[next(k for k in entries if k.upper() == str(cert["thumbprint"]).upper())]
    return f"certificate {cert['thumbprint']} removed from {location}\\{name}"
