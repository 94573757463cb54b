"""Controller-side TLS logic shared by the ``tls_*`` filters and action plugins.

Everything the ``tls`` role decides is computed here, on the controller, from
what read-only ``*_info`` modules returned: which certificate a site should be
bound to, which certificate must be issued or imported, which bindings move,
which replaced certificates may be removed, how many days each bound
certificate has left, and the managed SCHANNEL values.  Keeping the decisions
in plain Python makes them unit-testable and keeps the role's tasks a thin
sequence of upstream module calls, so a no-op run costs few round trips.

Input shapes are those of the upstream modules:

* certificates: ``ansible.windows.win_certificate_info`` ``certificates``
  entries (``thumbprint``, ``subject``, ``issuer``, ``dns_names``,
  ``has_private_key``, ``valid_from``/``valid_to`` as epoch seconds, optional
  ``intended_purposes``, ``archived``);
* sites: ``microsoft.iis.website_info`` ``site`` entries (``name``,
  ``application_pool``, ``bindings`` with ``protocol``, ``ip``, ``port``,
  ``hostname``, ``use_sni``, ``certificate_hash``, ``certificate_store_name``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import ipaddress
import re
import typing as t

from ansible_collections.mcms.infra.plugins.plugin_utils._validate import hostname_problem

__all__ = [
    "KNOWN_PROTOCOLS",
    "TlsError",
    "binding_plan",
    "certificate_facts",
    "days_left",
    "expiry_report",
    "hostname_matches",
    "input_errors",
    "normalize_thumbprint",
    "parse_time",
    "pfx_facts",
    "schannel_values",
    "select_certificate",
]

THUMBPRINT_RE = re.compile(r"^[0-9A-F]{40}$")
KNOWN_PROTOCOLS = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
KNOWN_CIPHERS = ("NULL", "DES 56/56", "RC2 40/128", "RC2 56/128", "RC2 128/128", "RC4 40/128", "RC4 56/128",
                 "RC4 64/128", "RC4 128/128", "Triple DES 168", "AES 128/128", "AES 256/256")
KNOWN_HASHES = ("MD5", "SHA", "SHA256", "SHA384", "SHA512")
KNOWN_KEY_EXCHANGES = ("Diffie-Hellman", "ECDH", "PKCS")
# Every cipher suite the Microsoft Schannel provider of Windows Server 2022 knows, enabled by default or not
# (Microsoft Learn, "TLS Cipher Suites in Windows Server 2022", win32 docs secauthn): a name outside this list
# in the "SSL Cipher Suite Order" policy is ignored by Windows, so a typo would silently drop a suite.
WINDOWS_2022_CIPHER_SUITES = (
    # enabled by default, in the default priority order
    "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_NULL_SHA256", "TLS_RSA_WITH_NULL_SHA",
    # supported, not enabled by default
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_RC4_128_MD5",
    "TLS_RSA_WITH_DES_CBC_SHA", "TLS_DHE_DSS_WITH_DES_CBC_SHA", "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA",
    "TLS_RSA_WITH_NULL_MD5", "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA",
    # PSK suites
    "TLS_PSK_WITH_AES_256_GCM_SHA384", "TLS_PSK_WITH_AES_128_GCM_SHA256",
    "TLS_PSK_WITH_AES_256_CBC_SHA384", "TLS_PSK_WITH_AES_128_CBC_SHA256",
    "TLS_PSK_WITH_NULL_SHA384", "TLS_PSK_WITH_NULL_SHA256",
)
DWORD_ON = 0xFFFFFFFF
SERVER_AUTH = "Server Authentication"


class TlsError(ValueError):
    """Bad input that the role must report by variable name."""


# -- primitives ---------------------------------------------------------------
def normalize_thumbprint(value: t.Any) -> str:
    """Upper-case a thumbprint and drop the spaces/colons Windows tools show."""
    return re.sub(r"[\s:]", "", str(value or "")).upper()


def is_thumbprint(value: t.Any) -> bool:
    return bool(THUMBPRINT_RE.match(normalize_thumbprint(value)))


def parse_time(value: t.Any) -> _dt.datetime:
    """Epoch seconds, ISO 8601 text or a datetime, as an aware UTC datetime."""
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(float(value), tz=_dt.UTC)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return _dt.datetime.fromtimestamp(float(text), tz=_dt.UTC)
    parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def _cert_time(cert: dict[str, t.Any], field: str) -> _dt.datetime:
    if cert.get(field) is not None:
        return parse_time(cert[field])
    iso = cert.get(f"{field}_iso8601")
    if iso:
        return parse_time(iso)
    raise TlsError(f"certificate {cert.get('thumbprint', '?')} has no {field}")


def days_left(cert: dict[str, t.Any], now: t.Any) -> int:
    """Whole days until ``valid_to`` (negative once expired), rounded down."""
    delta = _cert_time(cert, "valid_to") - parse_time(now)
    return int(delta.total_seconds() // 86400)


def hostname_matches(pattern: str, hostname: str) -> bool:
    """RFC 6125 matching: case-insensitive, ``*`` only as the whole left-most label."""
    pattern = pattern.lower().rstrip(".")
    hostname = hostname.lower().rstrip(".")
    if pattern == hostname:
        return True
    if pattern.startswith("*."):
        head, _, tail = hostname.partition(".")
        return bool(head) and tail == pattern[2:] and "." in tail
    return False


# -- distinguished names and purposes ----------------------------------------------
# Attribute names as .NET (X500DistinguishedName.Name) and RFC 4514 spell them,
# and the dotted OIDs cryptography prints for attributes it has no name for.
_DN_ALIASES = {
    "ST": "S", "EMAILADDRESS": "E", "EMAIL": "E", "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "S",
    "2.5.4.9": "STREET", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.5": "SERIALNUMBER", "2.5.4.12": "T",
    "2.5.4.42": "G", "2.5.4.4": "SN", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "E",
}
SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1"
ANY_PURPOSE_OID = "2.5.29.37.0"
_OID_IN_PARENS = re.compile(r"^.*\((\d+(?:\.\d+)+)\)$")


def dn_attributes(dn: str) -> list[tuple[str, str]]:
    """The attributes of a distinguished name, whichever way it is written:
    .NET's ``CN=a, O="b, c"`` (most specific first, quoted values) or RFC
    4514's ``O=b\\, c,CN=a`` (least specific first, escaped values).  Names
    are upper-cased through their aliases (``ST`` = ``S``, dotted OIDs), values
    case-folded with blanks collapsed; the list is sorted, so two spellings of
    one name compare equal whatever their order and spacing."""
    out: list[tuple[str, str]] = []
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in str(dn or ""):
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch in ",;+" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    for part in parts:
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise TlsError(f"{dn!r} is not a distinguished name (no '=' in {part.strip()!r})")
        key = name.strip().upper()
        key = _DN_ALIASES.get(key, key)
        out.append((key, " ".join(value.split()).casefold()))
    return sorted(out)


def same_dn(left: str, right: str) -> bool:
    """Whether two distinguished names name the same entity (see :func:`dn_attributes`)."""
    try:
        return dn_attributes(left) == dn_attributes(right)
    except TlsError:
        return str(left).strip().lower() == str(right).strip().lower()


def purpose_oids(cert: dict[str, t.Any]) -> list[str] | None:
    """The enhanced key usage OIDs of a ``win_certificate_info`` entry, or
    ``None`` when the certificate has no EKU extension (valid for any purpose).

    ``win_certificate_info`` returns ``intended_purposes`` as localised friendly
    names; the OIDs are read from the EKU extension's formatted value
    (``Server Authentication (1.3.6.1.5.5.7.3.1), ...``, the OID in parentheses
    whatever the display language): the one extension whose every part ends
    with an OID in parentheses, one part per intended purpose.  When no such
    extension is found the friendly names are mapped back (English only)."""
    purposes = cert.get("intended_purposes")
    if purposes is None:
        return None
    purposes = list(purposes)
    for ext in cert.get("extensions") or []:
        parts = [p.strip() for p in str((ext or {}).get("value") or "").split(", ")]
        oids = [m.group(1) for m in (_OID_IN_PARENS.match(p) for p in parts) if m]
        if parts and len(oids) == len(parts) == len(purposes):
            return oids
    english = {SERVER_AUTH: SERVER_AUTH_OID, "Client Authentication": "1.3.6.1.5.5.7.3.2"}
    return [english.get(str(p), str(p)) for p in purposes]


def serves_server_auth(cert: dict[str, t.Any]) -> bool:
    """The certificate may serve TLS: no EKU, or serverAuth / anyExtendedKeyUsage in it."""
    oids = purpose_oids(cert)
    return oids is None or SERVER_AUTH_OID in oids or ANY_PURPOSE_OID in oids


def proof_failures(results: list[dict[str, t.Any]] | None, wanted: str) -> list[str]:
    """Why the probes (``mcms.infra.win_tls_probe`` results of a loop over
    bindings) do not prove that the bindings present certificate ``wanted``
    with a valid chain for their name; empty when every one does."""
    want = normalize_thumbprint(wanted)
    out = []
    for result in results or []:
        if result.get("skipped"):
            continue
        item = result.get("item") or {}
        label = f"{item.get('hostname') or result.get('server_name')}:{item.get('port') or result.get('port')}"
        if result.get("failed") or not result.get("thumbprint"):
            out.append(f"{label} presented no certificate ({result.get('msg') or 'no answer'})")
            continue
        problems = []
        presented = normalize_thumbprint(result["thumbprint"])
        if presented != want:
            problems.append(f"presented {presented} instead of {want}")
        if not result.get("chain_valid"):
            problems.append("its chain is not valid (" + (", ".join(result.get("chain_status") or []) or "?") + ")")
        if not result.get("name_matches"):
            problems.append(f"it does not match {item.get('hostname') or result.get('server_name')}")
        if problems:
            out.append(f"{label}: " + "; ".join(problems))
    return out


# -- selection ------------------------------------------------------------------
def _candidate_problem(cert: dict[str, t.Any], hostnames: list[str], now: _dt.datetime,
                       issuer: str | None) -> str | None:
    """Why ``cert`` cannot serve ``hostnames`` now (``None`` when it can)."""
    if not cert.get("has_private_key"):
        return "has no private key"
    if cert.get("archived"):
        return "is archived"
    names = [str(n) for n in (cert.get("dns_names") or [])]
    missing = [h for h in hostnames if not any(hostname_matches(n, h) for n in names)]
    if missing:
        return f"does not cover {', '.join(missing)}"
    if not serves_server_auth(cert):
        return "is not valid for Server Authentication"
    if _cert_time(cert, "valid_from") > now:
        return "is not valid yet"
    if _cert_time(cert, "valid_to") <= now:
        return "has expired"
    if issuer and not same_dn(str(cert.get("issuer", "")), issuer):
        return f"is not issued by {issuer}"
    return None


def select_certificate(certificates: list[dict[str, t.Any]] | None, hostnames: list[str] | str, now: t.Any,
                       thumbprint: str | None = None, issuer: str | None = None) -> dict[str, t.Any] | None:
    """The certificate a site with ``hostnames`` should be bound to, or ``None``.

    A candidate has its private key, covers every host name through its SANs,
    is valid for server authentication and valid now, and (when ``issuer`` is
    given) comes from that issuer.  The one that stays valid the longest wins;
    ties go to the newest, then to the thumbprint so the choice is stable.  A
    pinned ``thumbprint`` (used to roll back to a known certificate) limits the
    choice to that certificate.  The result is a copy of the entry with
    ``days_left`` added.
    """
    names = [hostnames] if isinstance(hostnames, str) else list(hostnames or [])
    moment = parse_time(now)
    pinned = normalize_thumbprint(thumbprint) if thumbprint else None
    best: tuple[t.Any, ...] | None = None
    chosen: dict[str, t.Any] | None = None
    for cert in certificates or []:
        thumb = normalize_thumbprint(cert.get("thumbprint"))
        if pinned and thumb != pinned:
            continue
        if _candidate_problem(cert, names, moment, issuer) is not None:
            continue
        rank = (_cert_time(cert, "valid_to"), _cert_time(cert, "valid_from"), thumb)
        if best is None or rank > best:
            best, chosen = rank, cert
    if chosen is None:
        return None
    result = dict(chosen)
    result["thumbprint"] = normalize_thumbprint(chosen.get("thumbprint"))
    result["days_left"] = days_left(chosen, moment)
    return result


def explain_rejections(certificates: list[dict[str, t.Any]] | None, hostnames: list[str], now: t.Any,
                       issuer: str | None = None) -> dict[str, str]:
    """Thumbprint -> why it was not selected, for certificates naming one of ``hostnames``."""
    moment = parse_time(now)
    out: dict[str, str] = {}
    for cert in certificates or []:
        names = [str(n) for n in (cert.get("dns_names") or [])]
        if not any(hostname_matches(n, h) for n in names for h in hostnames):
            continue
        problem = _candidate_problem(cert, hostnames, moment, issuer)
        if problem:
            out[normalize_thumbprint(cert.get("thumbprint"))] = problem
    return out


# -- certificate files -------------------------------------------------------------
def _x509_facts(cert: t.Any) -> dict[str, t.Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    der = cert.public_bytes(serialization.Encoding.DER)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        dns_names = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bool(basic.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    return {
        "thumbprint": hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": dns_names,
        "is_ca": is_ca,
        "valid_from": not_before.timestamp(),
        "valid_to": not_after.timestamp(),
        "valid_from_iso8601": not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_to_iso8601": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lifetime_days": int((not_after - not_before).total_seconds() // 86400),
        "serial_number": format(cert.serial_number, "X"),
    }


def certificate_facts(pem: str) -> dict[str, t.Any]:
    """Thumbprint (SHA-1 of the DER, as Windows shows it), names and validity of a PEM certificate."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise TlsError(f"not a PEM certificate: {exc}") from None
    return _x509_facts(cert)


def pfx_facts(pfx_b64: str, password: str | None) -> dict[str, t.Any]:
    """Facts of the leaf certificate in a base64 PKCS#12 (PFX), checking its password."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = base64.b64decode("".join(str(pfx_b64).split()), validate=True)
    except (ValueError, TypeError):
        raise TlsError("is not valid base64") from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text or "decrypt" in text:
            raise TlsError("cannot be opened with the given password") from None
        raise TlsError(f"is not a PKCS#12 (PFX) file: {exc}") from None
    extra = list(extra or [])
    if cert is None:
        # A PFX without a key carries its certificate(s) as "additional" ones.
        if not extra:
            raise TlsError("holds no certificate")
        cert = extra.pop(0)
    facts = _x509_facts(cert)
    facts["has_private_key"] = key is not None
    facts["chain"] = [_x509_facts(c)["thumbprint"] for c in extra]
    return facts


# -- input validation ------------------------------------------------------------------
def input_errors(config: dict[str, t.Any], iis_sites: list[str] | None = None) -> list[str]:
    """Every problem in the role's input, each naming the variable and the fix.

    ``config`` holds the role's public variables (``tls_*``; ``tls_sites`` as
    given or normalised).  Type and choice errors are already caught by
    ``meta/argument_specs.yml``; this checks what a spec cannot express.  It
    is the role's one validation function: ``validate.yml`` (filter
    ``tls_input_errors``) and the preflight both call it.

    ``iis_sites``: the names of the sites the ``iis`` role keeps present when
    it runs before this role on the host (None: unknown, not checked); every
    ``tls_sites`` entry must name one of them.
    """
    errors: list[str] = []
    source = config.get("tls_certificate_source")
    renew = int(config.get("tls_renew_before_days") or 0)
    warn_days = int(config.get("tls_expiry_warn_days") or 0)
    fail_days = int(config.get("tls_expiry_fail_days") or 0)
    if renew < 1:
        errors.append(f"tls_renew_before_days is {renew}: set it to a number of days of at least 1 (default 30)")
    if fail_days < 0:
        errors.append(f"tls_expiry_fail_days is {fail_days}: set it to 0 or more days")
    if warn_days < fail_days:
        errors.append(f"tls_expiry_warn_days ({warn_days}) is below tls_expiry_fail_days ({fail_days}): "
                      "the warning threshold must be at least the failure threshold")
    if source == "ownca":
        lifetime = int(config.get("tls_ownca_certificate_days") or 0)
        if renew >= lifetime:
            errors.append(f"tls_renew_before_days ({renew}) is not shorter than the certificate lifetime "
                          f"tls_ownca_certificate_days ({lifetime}): every run would renew; lower "
                          "tls_renew_before_days or raise tls_ownca_certificate_days")
        ca_days = int(config.get("tls_ownca_ca_days") or 0)
        if ca_days <= lifetime:
            errors.append(f"tls_ownca_ca_days ({ca_days}) must be longer than tls_ownca_certificate_days "
                          f"({lifetime}): a certificate cannot outlive its CA")
    enabled = list(config.get("tls_protocols_enabled") or [])
    disabled = list(config.get("tls_protocols_disabled") or [])
    for var, names in (("tls_protocols_enabled", enabled), ("tls_protocols_disabled", disabled)):
        for name in names:
            if name not in KNOWN_PROTOCOLS:
                errors.append(f"{var} holds unknown protocol {name!r}: use one of {', '.join(KNOWN_PROTOCOLS)}")
    both = sorted(set(enabled) & set(disabled))
    if both:
        errors.append(f"tls_protocols_enabled and tls_protocols_disabled both list {', '.join(both)}: "
                      "keep each protocol in one list")
    if not any(p in ("TLS 1.2", "TLS 1.3") for p in enabled):
        errors.append("tls_protocols_enabled enables neither 'TLS 1.2' nor 'TLS 1.3': the sites would be "
                      "unreachable; enable at least 'TLS 1.2'")
    for var in ("tls_ciphers_enabled", "tls_ciphers_disabled"):
        for name in config.get(var) or []:
            if name not in KNOWN_CIPHERS:
                errors.append(f"{var} holds unknown cipher {name!r}: use one of {', '.join(KNOWN_CIPHERS)}")
    for var in ("tls_hashes_enabled", "tls_hashes_disabled"):
        for name in config.get(var) or []:
            if name not in KNOWN_HASHES:
                errors.append(f"{var} holds unknown hash {name!r}: use one of {', '.join(KNOWN_HASHES)}")
    known_suites = {name.upper(): name for name in WINDOWS_2022_CIPHER_SUITES}
    for index, suite in enumerate(config.get("tls_cipher_suites") or []):
        if str(suite) not in WINDOWS_2022_CIPHER_SUITES:
            close = [known_suites[c] for c in _close(str(suite).upper(), known_suites)]
            hint = f"did you mean {close[0]}? " if close else ""
            errors.append(f"tls_cipher_suites[{index}] is {suite!r}, which Windows Server 2022 does not know "
                          f"(Windows ignores it): {hint}use a name from the list of TLS cipher suites in Windows "
                          "Server 2022, e.g. 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'")
    if not config.get("tls_cipher_suites"):
        errors.append("tls_cipher_suites is empty: list the cipher suites in order of preference")
    errors.extend(_schannel_dword_errors(config))

    ca_pem = config.get("tls_ca_certificate")
    if ca_pem:
        try:
            certificate_facts(str(ca_pem))
        except TlsError as exc:
            errors.append(f"tls_ca_certificate is {exc}: paste the internal root CA certificate in PEM "
                          "('-----BEGIN CERTIFICATE-----...') or leave it empty")

    sites = normalize_sites(config.get("tls_sites") or [])
    managed = {name.lower() for name in iis_sites} if iis_sites is not None else None
    seen: dict[tuple[str, int, str], str] = {}
    for index, site in enumerate(sites):
        where = f"tls_sites[{index}]"
        name = site.get("name") or ""
        if name:
            where = f"tls_sites[{index}] ({name})"
        if managed is not None and name and name.lower() not in managed:
            errors.append(f"{where}.name: {name!r} is not a site of the iis role on this host (iis_sites, "
                          "iis_group_sites, iis_host_sites): fix the name, or add the site there")
        hostnames = site.get("hostnames") or []
        if not hostnames:
            errors.append(f"{where}.hostnames is empty: list the host names the site answers to")
        for hindex, hostname in enumerate(hostnames):
            problem = hostname_problem(hostname)
            if problem:
                errors.append(f"{where}.hostnames[{hindex}] {hostname!r} {problem}")
        port = site.get("port", 443)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.append(f"{where}.port is {port!r}: use a TCP port between 1 and 65535 (HTTPS is 443)")
        ip = str(site.get("ip", "*") or "*")
        if ip != "*":
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                errors.append(f"{where}.ip is {ip!r}: use '*' (all addresses) or one IP address")
        for hostname in hostnames:
            ident = (ip, port if isinstance(port, int) else 0, str(hostname).lower())
            if ident in seen and seen[ident] != name:
                errors.append(f"{where}.hostnames: {hostname} on {ip}:{port} is also bound by site "
                              f"{seen[ident]!r}: each ip:port:hostname may belong to one site only")
            seen[ident] = name
        pin = site.get("thumbprint")
        if pin and not is_thumbprint(pin):
            errors.append(f"{where}.thumbprint {pin!r} is not 40 hexadecimal characters: copy the "
                          "certificate's SHA-1 thumbprint (spaces allowed) or leave it empty")
        if source == "pfx":
            errors.extend(_pfx_errors(where, site, hostnames, renew))
    return errors


def _close(word: str, candidates: t.Iterable[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.8)


def _pfx_errors(where: str, site: dict[str, t.Any], hostnames: list[str], renew: int) -> list[str]:
    errors: list[str] = []
    pfx = site.get("pfx_b64")
    password = site.get("pfx_password")
    if not pfx:
        return [f"{where}.pfx_b64 is empty: with tls_certificate_source 'pfx' each site needs its PFX, "
                "base64-encoded, from the vault (e.g. pfx_b64: \"{{ vault_tls_mcms_pfx_b64 }}\")"]
    if not password:
        return [f"{where}.pfx_password is empty: a PFX without a password is refused; export the PFX "
                "with a password and keep it in the vault"]
    try:
        facts = pfx_facts(pfx, password)
    except TlsError as exc:
        return [f"{where}.pfx_b64 {exc}: check the vaulted PFX and {where}.pfx_password"]
    if not facts["has_private_key"]:
        errors.append(f"{where}.pfx_b64 holds no private key: export the PFX with its private key")
    if renew >= facts["lifetime_days"]:
        errors.append(f"tls_renew_before_days ({renew}) is not shorter than the lifetime of the certificate in "
                      f"{where}.pfx_b64 ({facts['lifetime_days']} days): lower tls_renew_before_days")
    missing = [h for h in hostnames if not any(hostname_matches(n, h) for n in facts["dns_names"])]
    if missing:
        errors.append(f"{where}.pfx_b64 holds a certificate for {', '.join(facts['dns_names'])} that does not "
                      f"cover {', '.join(missing)}: issue a certificate with these names as SANs")
    return errors


def normalize_sites(sites: list[dict[str, t.Any]] | None) -> list[dict[str, t.Any]]:
    """``tls_sites`` with every option filled in and thumbprints normalised.

    Role argument specs validate nested options but do not apply their
    defaults, so the role normalises here once.
    """
    out = []
    for site in sites or []:
        entry = {"port": 443, "ip": "*", "app_pool": "", "key_reader": "", "thumbprint": "",
                 "pfx_b64": "", "pfx_password": ""}
        entry.update({k: v for k, v in site.items() if v is not None})
        entry["app_pool"] = entry["app_pool"] or entry.get("name", "")
        entry["key_reader"] = entry["key_reader"] or f"IIS APPPOOL\\{entry['app_pool']}"
        entry["thumbprint"] = normalize_thumbprint(entry["thumbprint"])
        entry["hostnames"] = list(entry.get("hostnames") or [])
        out.append(entry)
    return out


def pfx_offers(sites: list[dict[str, t.Any]] | None) -> dict[str, dict[str, t.Any]]:
    """Site name -> facts of its vaulted PFX (no secret in the result)."""
    offers = {}
    for site in sites or []:
        if site.get("pfx_b64"):
            facts = pfx_facts(site["pfx_b64"], site.get("pfx_password"))
            offers[str(site["name"])] = {k: v for k, v in facts.items() if k != "chain"}
    return offers


# -- plan -----------------------------------------------------------------------------
def _binding_key(ip: t.Any, port: t.Any, hostname: t.Any) -> tuple[str, int, str]:
    return (str(ip or "*"), int(port), str(hostname or "").lower())


def binding_plan(sites: list[dict[str, t.Any]], certificates: list[dict[str, t.Any]] | None,
                 iis_sites: list[dict[str, t.Any]] | None, now: t.Any, *, renew_before_days: int,
                 store: str = "My", issuer: str | None = None,
                 offered: dict[str, dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    """What the role must do on one host, per managed site.

    ``offered`` maps a site name to the facts of the certificate the role can
    import for it (the vaulted PFX, or the one the controller CA holds): when it
    is not in the store yet and would be selected over the current one, the
    site needs an import.  For each site the plan gives:

    * ``selected``: the certificate the site should be bound to now (or None);
    * ``issue``: a new certificate must be issued/imported (none usable, or the
      selected one expires within ``renew_before_days``);
    * ``bindings``: the desired https bindings, and ``rebind`` the ones whose
      certificate differs (or that are missing) on the host; ``previous``
      what the moved ones were bound to (put back when the proof fails) and
      ``added`` the ones the site did not have (``{ip, port, hostname}``,
      removed again when the proof fails);
    * ``stray``: https bindings on the site that no hostname/port/ip declares
      (removed after the declared ones are verified), and ``reconcile`` when
      the site has bindings to move or remove;
    * ``state``: the site state to keep (``tls_sites[].state`` when given; a
      stopped site without any binding is started by its first binding);
    * ``bound``: thumbprints currently bound by this site's https bindings;
    * ``removable``: replaced certificates for the same names that no binding
      on the host uses any more.
    """
    moment = parse_time(now)
    store_cmp = store.lower()
    iis_by_name = {str(s.get("name")): s for s in iis_sites or []}
    bound_anywhere: set[str] = set()
    for iis_site in iis_sites or []:
        for binding in iis_site.get("bindings") or []:
            if binding.get("certificate_hash"):
                bound_anywhere.add(normalize_thumbprint(binding["certificate_hash"]))
    present = {normalize_thumbprint(c.get("thumbprint")) for c in certificates or []}
    plan_sites = []
    for site in sites:
        name = site["name"]
        hostnames = list(site.get("hostnames") or [])
        port = int(site.get("port", 443))
        ip = str(site.get("ip") or "*")
        selected = select_certificate(certificates, hostnames, moment, site.get("thumbprint"), issuer)
        offer = (offered or {}).get(name)
        offer_thumb = normalize_thumbprint(offer.get("thumbprint")) if offer else None
        import_offer = False
        if offer and offer_thumb not in present and not site.get("thumbprint"):
            offer_ok = select_certificate([dict(offer, has_private_key=True)], hostnames, moment, None, issuer)
            if offer_ok and (selected is None or offer_ok["days_left"] > selected["days_left"]):
                import_offer = True
        renewal_due = selected is not None and selected["days_left"] <= renew_before_days
        reason = None
        if selected is None:
            reason = "no valid certificate with a private key covers " + ", ".join(hostnames)
        elif renewal_due:
            reason = f"certificate {selected['thumbprint']} expires in {selected['days_left']} days"
        iis_site = iis_by_name.get(name)
        current = {}
        for binding in (iis_site or {}).get("bindings") or []:
            if str(binding.get("protocol", "")).lower() == "https":
                current[_binding_key(binding.get("ip"), binding.get("port", 0), binding.get("hostname"))] = binding
        desired, rebind, previous, added, bound = [], [], [], [], set()
        for hostname in hostnames:
            key = _binding_key(ip, port, hostname)
            have = current.get(key)
            have_thumb = normalize_thumbprint(have.get("certificate_hash")) if have else ""
            if have_thumb:
                bound.add(have_thumb)
            if selected is None:
                continue
            want = {"protocol": "https", "ip": ip, "port": port, "hostname": hostname, "use_sni": True,
                    "certificate_hash": selected["thumbprint"], "certificate_store_name": store}
            desired.append(want)
            if (have is None or have_thumb != selected["thumbprint"]
                    or str(have.get("certificate_store_name") or "").lower() != store_cmp
                    or not have.get("use_sni")):
                rebind.append(want)
                if have is None:
                    added.append({"ip": ip, "port": port, "hostname": hostname})
                if have_thumb:
                    previous.append({"protocol": "https", "ip": ip, "port": port, "hostname": hostname,
                                     "use_sni": bool(have.get("use_sni")), "certificate_hash": have_thumb,
                                     "certificate_store_name": have.get("certificate_store_name") or store})
        # The role owns every https binding of a managed site: one nobody
        # declared (e.g. moved by hand to another port) is removed, but only
        # once the declared ones are bound and verified (bind_site.yml).
        wanted_keys = {_binding_key(ip, port, h) for h in hostnames}
        stray_keys = [] if selected is None else sorted(k for k in current if k not in wanted_keys)
        stray = [{"ip": current[k].get("ip") or "*", "port": int(current[k].get("port", 0)),
                  "hostname": current[k].get("hostname") or ""} for k in stray_keys]
        stray_labels = [f"{b['ip']}:{b['port']}:{b['hostname']}" for b in stray]
        removable = []
        if selected is not None and not rebind and not stray:
            for cert in certificates or []:
                thumb = normalize_thumbprint(cert.get("thumbprint"))
                # a set: Windows may list the subject CN beside the SANs (duplicates)
                names = {str(n).lower().rstrip(".") for n in cert.get("dns_names") or []}
                if (thumb != selected["thumbprint"] and thumb not in bound_anywhere
                        and names == {h.lower().rstrip(".") for h in hostnames}
                        and _cert_time(cert, "valid_to") <= _cert_time(selected, "valid_to")):
                    removable.append(thumb)
        app_pool = site.get("app_pool") or (iis_site or {}).get("application_pool") or name
        state = str((iis_site or {}).get("state") or "Started").lower()
        if site.get("state") in ("started", "stopped"):
            state = str(site["state"])
        elif state == "stopped" and not (iis_site or {}).get("bindings") and rebind:
            # IIS cannot start a site without bindings, so the iis role
            # creates an HTTPS-only site stopped: its first binding starts it.
            state = "started"
        plan_sites.append({
            "name": name,
            "hostnames": hostnames,
            "port": port,
            "site_exists": iis_site is not None,
            "state": state,
            "key_reader": site.get("key_reader") or f"IIS APPPOOL\\{app_pool}",
            "selected": selected,
            "issue": selected is None or renewal_due or import_offer,
            "import_offer": import_offer,
            "reason": reason if reason else ("a newer certificate is available" if import_offer else None),
            "rejected": explain_rejections(certificates, hostnames, moment, issuer),
            "bindings": desired,
            "rebind": rebind,
            "previous": previous,
            "added": added,
            "stray": stray,
            "stray_labels": stray_labels,
            "reconcile": bool(rebind or stray),
            "bound": sorted(bound),
            "removable": sorted(removable),
        })
    return {
        "sites": plan_sites,
        "issue": [s["name"] for s in plan_sites if s["issue"]],
        "rebind": [s["name"] for s in plan_sites if s["rebind"]],
        "reconcile": [s["name"] for s in plan_sites if s["reconcile"]],
        "removable": sorted({t for s in plan_sites for t in s["removable"]}),
        "missing_sites": [s["name"] for s in plan_sites if not s["site_exists"]],
    }


def unbindable(plan: dict[str, t.Any], issued_for: list[str], source: str, store: str = "My",
               offered: dict[str, dict[str, t.Any]] | None = None) -> list[str]:
    """After issuing/importing for ``issued_for``, the sites still without a certificate to bind.

    ``plan`` is the plan recomputed from the store as read after the import.
    With ``ownca`` every such site must now have a certificate outside the
    renewal window.  With ``pfx`` the vaulted certificate must be selectable
    when it was imported (a PFX that is simply not newer is left to the expiry
    report).  With any source a site without any usable certificate fails.
    Each message names the site, the certificates and why, and says which
    certificate the bindings stay on.
    """
    messages = []
    for site in plan.get("sites") or []:
        if site["name"] not in issued_for:
            continue
        selected = site.get("selected")
        offer = (offered or {}).get(site["name"]) or {}
        offer_thumb = normalize_thumbprint(offer.get("thumbprint")) if offer else ""
        rejected = site.get("rejected") or {}
        failing = selected is None
        if source == "ownca" and site.get("issue"):
            failing = True
        if source == "pfx" and offer_thumb and offer_thumb in rejected:
            failing = True
        if not failing:
            continue
        why = "; ".join(f"{thumb} {reason}" for thumb, reason in sorted(rejected.items()))
        if not why and selected is not None:
            why = (f"the newest usable certificate {selected['thumbprint']} expires in {selected['days_left']} days, "
                   "within tls_renew_before_days, and no newer one was imported")
        if not why:
            why = f"no certificate for these names in LocalMachine\\{store}"
        stays = (f"the https bindings stay on {selected['thumbprint']} ({selected['days_left']} days left)"
                 if selected is not None else "the site has no usable certificate and gets no https binding")
        messages.append(f"site {site['name']}: no new certificate can be bound for {', '.join(site['hostnames'])} "
                        f"({why}); {stays}")
    return messages


# -- expiry report -------------------------------------------------------------------------
def expiry_report(host: str, iis_sites: list[dict[str, t.Any]] | None, certificates: list[dict[str, t.Any]] | None,
                  now: t.Any, *, warn_days: int, fail_days: int) -> dict[str, t.Any]:
    """Days left of every certificate bound by an https binding on ``host``.

    Returns ``rows`` (one per binding), ``warnings`` (below ``warn_days``) and
    ``failures`` (at or below ``fail_days``, expired, or bound to a certificate
    that is not in the store), each message naming host, site and certificate.
    """
    moment = parse_time(now)
    by_thumb = {normalize_thumbprint(c.get("thumbprint")): c for c in certificates or []}
    rows, warnings, failures = [], [], []
    for site in sorted(iis_sites or [], key=lambda s: str(s.get("name"))):
        for binding in site.get("bindings") or []:
            thumb = normalize_thumbprint(binding.get("certificate_hash"))
            if str(binding.get("protocol", "")).lower() != "https" or not thumb:
                continue
            where = (f"{host}: site {site.get('name')} binding "
                     f"{binding.get('ip') or '*'}:{binding.get('port')}:{binding.get('hostname') or ''}")
            cert = by_thumb.get(thumb)
            if cert is None:
                row = {"site": site.get("name"), "hostname": binding.get("hostname"), "port": binding.get("port"),
                       "thumbprint": thumb, "subject": None, "valid_to": None, "days_left": None,
                       "status": "missing"}
                failures.append(f"{where} uses certificate {thumb}, which is not in the store")
                rows.append(row)
                continue
            left = days_left(cert, moment)
            status = "ok"
            label = f"certificate {thumb} ({cert.get('subject')})"
            if left < 0:
                status = "expired"
                failures.append(f"{where} uses {label}, which expired {-left} days ago")
            elif left <= fail_days:
                status = "critical"
                failures.append(f"{where} uses {label}, which expires in {left} days "
                                f"(at or below tls_expiry_fail_days={fail_days})")
            elif left <= warn_days:
                status = "warning"
                warnings.append(f"{where} uses {label}, which expires in {left} days "
                                f"(at or below tls_expiry_warn_days={warn_days})")
            rows.append({"site": site.get("name"), "hostname": binding.get("hostname"), "port": binding.get("port"),
                         "thumbprint": thumb, "subject": cert.get("subject"),
                         "valid_to": cert.get("valid_to_iso8601") or _cert_time(cert, "valid_to").isoformat(),
                         "days_left": left, "status": status})
    return {"rows": rows, "warnings": warnings, "failures": failures}


# -- SCHANNEL ----------------------------------------------------------------------------
def schannel_values(*, protocols_enabled: list[str], protocols_disabled: list[str],
                    ciphers_enabled: list[str], ciphers_disabled: list[str],
                    hashes_enabled: list[str], hashes_disabled: list[str],
                    key_exchanges: dict[str, dict[str, int]] | None = None,
                    event_logging: int = 1) -> dict[str, dict[str, int]]:
    """SCHANNEL subkey (relative to the SCHANNEL key, '' for itself) -> value name -> DWORD.

    Only keys that hold a managed value are listed: ``mcms.infra.win_schannel``
    reads and writes exactly these values and creates a missing key with its
    first value, so no key is listed for its own sake.
    """
    keys: dict[str, dict[str, int]] = {"": {"EventLogging": int(event_logging)}}
    for proto in protocols_enabled:
        for side in ("Client", "Server"):
            keys[f"Protocols\\{proto}\\{side}"] = {"DisabledByDefault": 0, "Enabled": 1}
    for proto in protocols_disabled:
        for side in ("Client", "Server"):
            keys[f"Protocols\\{proto}\\{side}"] = {"DisabledByDefault": 1, "Enabled": 0}
    for cipher in ciphers_enabled:
        keys[f"Ciphers\\{cipher}"] = {"Enabled": DWORD_ON}
    for cipher in ciphers_disabled:
        keys[f"Ciphers\\{cipher}"] = {"Enabled": 0}
    for hash_name in hashes_enabled:
        keys[f"Hashes\\{hash_name}"] = {"Enabled": DWORD_ON}
    for hash_name in hashes_disabled:
        keys[f"Hashes\\{hash_name}"] = {"Enabled": 0}
    for kex, values in (key_exchanges or {}).items():
        keys[f"KeyExchangeAlgorithms\\{kex}"] = {k: int(v) for k, v in values.items()}
    return keys


def _is_dword(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DWORD_ON


def _schannel_dword_errors(config: dict[str, t.Any]) -> list[str]:
    """The SCHANNEL values a spec cannot type: DWORDs (0 to 4294967295), which
    ``mcms.infra.win_schannel`` would otherwise refuse on the host."""
    errors: list[str] = []
    kex = config.get("tls_key_exchanges")
    if kex is not None and not isinstance(kex, dict):
        return [f"tls_key_exchanges is {kex!r}: map each key exchange (Diffie-Hellman, ECDH, PKCS) to its values, "
                "e.g. {'ECDH': {'Enabled': 4294967295}}"]
    for name, values in (kex or {}).items():
        if not isinstance(values, dict) or not values:
            errors.append(f"tls_key_exchanges[{name!r}] is {values!r}: map value names to DWORDs, "
                          "e.g. {'Enabled': 4294967295}")
            continue
        for value_name, data in values.items():
            if not _is_dword(data):
                errors.append(f"tls_key_exchanges[{name!r}][{value_name!r}] is {data!r}: a DWORD is an integer "
                              "from 0 to 4294967295 (4294967295 = 0xFFFFFFFF enables)")
    logging = config.get("tls_schannel_event_logging", 1)
    if not _is_dword(logging):
        errors.append(f"tls_schannel_event_logging is {logging!r}: a DWORD from 0 to 4294967295 "
                      "(1 = errors only, the Windows default)")
    return errors
