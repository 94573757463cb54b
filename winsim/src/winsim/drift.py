"""Drift injection: the edits an operator makes by hand on a Windows host.

Each *named drift* is a function registered with :func:`drift` (here, or in
the model file whose state section it edits: the IIS drifts live beside the
IIS models; :func:`all_drifts` collects them all) that edits a
host's state document the way the operator's action would change the real
host (``Stop-Website``, an edited binding in IIS Manager, a deleted file, a
``reg add``, a removed firewall rule, an expiring certificate, a deleted SQL
Agent job ...).  Drifts work through the section schemas the model files
document, so what a drift writes is exactly what the models read.

``winsim drift HOST <name> ...`` (``cli.py``) builds one sub-command per
registered drift from :func:`all_drifts`; the reference in ``winsim/docs/winsim.md``
lists them with their arguments.  A drift that does not find its target
fails with :class:`DriftError` naming what exists, and never creates the
target silently (``winsim set`` is the generic escape hatch).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import typing as t

from . import state as st
from .spec import ensure_plugin_loader

__all__ = ["DRIFTS", "Arg", "DriftError", "DriftSpec", "all_drifts", "apply_drift", "drift", "find_named", "host_now",
           "normalize_thumbprint"]


class DriftError(Exception):
    """A drift cannot be applied to this host (target missing, bad value)."""


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument of a drift, as ``argparse`` takes it."""

    name: str
    help: str
    type: t.Callable[[str], t.Any] = str
    required: bool = True
    default: t.Any = None
    action: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclasses.dataclass(frozen=True)
class DriftSpec:
    name: str
    help: str
    args: tuple[Arg, ...]
    func: t.Callable[..., str]
    section: str


DRIFTS: dict[str, DriftSpec] = {}


def drift(name: str, *, help: str, section: str, args: t.Sequence[Arg] = ()
          ) -> t.Callable[[t.Callable[..., str]], t.Callable[..., str]]:
    """Register a named drift.  The function takes the state, the host's
    current time and the arguments by name, edits the state and returns a
    one-line description of what it changed."""

    def deco(func: t.Callable[..., str]) -> t.Callable[..., str]:
        if name in DRIFTS:
            raise ValueError(f"winsim: drift {name!r} registered twice")
        DRIFTS[name] = DriftSpec(name=name, help=help, args=tuple(args), func=func, section=section)
        return func

    return deco


def all_drifts() -> dict[str, DriftSpec]:
    """Every named drift: the ones below and the ones model files register
    next to the models whose state they edit (``models/iis_sites.py``,
    ``models/iis_pools.py`` ...).  Those register when their file is
    imported, so this imports every model file first; :data:`DRIFTS` alone
    holds only what has been imported so far."""
    from .models import load_all

    load_all()
    return DRIFTS


def host_now(state: dict[str, t.Any]) -> _dt.datetime:
    """The host clock: ``state["clock"]["now"]`` when pinned, else now (UTC)."""
    pinned = (state.get("clock") or {}).get("now")
    if pinned:
        return st.parse_iso(pinned)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def apply_drift(state: dict[str, t.Any], drift_name: str, /, **kwargs: t.Any) -> str:
    """Apply the drift named ``drift_name`` to ``state`` (in place)."""
    drifts = all_drifts()
    spec = drifts.get(drift_name)
    if spec is None:
        raise DriftError(f"unknown drift {drift_name!r}; known drifts: {', '.join(sorted(drifts))}")
    return spec.func(state, host_now(state), **kwargs)


# -- helpers -----------------------------------------------------------------

def _section(state: dict[str, t.Any], name: str) -> t.Any:
    if name not in state:
        raise DriftError(f"the host state has no {name!r} section")
    return state[name]


def section_of(state: dict[str, t.Any], name: str) -> t.Any:
    """``state[name]``; a :class:`DriftError` when the host has no such section."""
    return _section(state, name)


def _find_named(items: dict[str, t.Any], name: str, what: str) -> tuple[str, t.Any]:
    """Case-insensitive lookup in a dict keyed by Windows object names."""
    for k, v in items.items():
        if k.lower() == name.lower():
            return k, v
    known = ", ".join(sorted(items)) or "none"
    raise DriftError(f"no {what} named {name!r} (existing: {known})")


def module_source(fqcn: str) -> tuple[str, dict[str, str]]:
    """The installed upstream module's PowerShell source and the collection
    module utils it requires (microsoft.ad's object modules declare their
    check-mode support in one)."""
    from .models._base import SimulatorError
    from .spec import load_module_source

    ensure_plugin_loader()
    try:
        return load_module_source(fqcn)
    except SimulatorError as exc:
        raise DriftError(f"the upstream module {fqcn} is not installed") from exc


def run_upstream(state: dict[str, t.Any], now: _dt.datetime, fqcn: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
    """Do what an operator does by hand by running the module model itself:
    the arguments are validated against the upstream spec and the model
    edits ``state`` (in place) exactly as a playbook task would.  A failure
    of the module becomes a :class:`DriftError`."""
    from .models._base import SimulatorError
    from .runner import run_model
    from .spec import module_spec, validate

    try:
        spec = module_spec(fqcn, *module_source(fqcn))
        validated = validate(spec, dict(args), fqcn.rsplit(".", 1)[-1])
        result, new_state, _warnings, _deprecations = run_model(
            fqcn=fqcn, params=validated.params, state=state, hostname=str(state.get("host", {}).get("hostname", "")),
            now=now)
    except SimulatorError as exc:
        raise DriftError(str(exc).removeprefix("winsim: ")) from exc
    except Exception as exc:  # ModuleFailed from argument validation
        msg = getattr(exc, "msg", None)
        if msg is None:
            raise
        raise DriftError(f"{fqcn}: {msg}") from exc
    if result.get("failed"):
        raise DriftError(f"{fqcn}: {result.get('msg')}")
    state.clear()
    state.update(new_state)
    return result


def _thumbprint(value: str) -> str:
    tp = re.sub(r"[\s:]", "", value).upper()
    if not re.fullmatch(r"[0-9A-F]{40}", tp):
        raise DriftError(f"a certificate thumbprint is 40 hexadecimal characters (got {value!r})")
    return tp


find_named = _find_named
normalize_thumbprint = _thumbprint


# -- registry --------------------------------------------------------------------

_REG_TYPES = ("string", "expandstring", "multistring", "dword", "qword", "binary", "none")


@drift("set-registry", section="registry",
       help="Create or change a registry value (reg add); missing keys are created (runs win_regedit's model).",
       args=[Arg("key", "registry key, e.g. HKLM:\\SOFTWARE\\MCMS"), Arg("name", "value name ('' for the default)"),
             Arg("value", "data (dword/qword: integer, 0x.. allowed; multistring: comma-separated; "
                          "binary: hex bytes such as 0x01,0x02)"),
             Arg("--type", "value type", required=False, default="string", choices=_REG_TYPES)])
def set_registry(state: dict[str, t.Any], now: _dt.datetime, *, key: str, name: str, value: str,
                 type: str = "string") -> str:
    data: t.Any = value
    if type == "multistring":
        data = value.split(",") if value else []
    result = run_upstream(state, now, "ansible.windows.win_regedit",
                          {"path": key, "name": name, "data": data, "type": type, "state": "present"})
    what = "changed" if result.get("changed") else "already set"
    return f"registry {key}\\{name or '(Default)'} = {value!r} ({type}): {what}"


@drift("remove-registry", section="registry",
       help="Delete a registry value, or the whole key and its subkeys when NAME is omitted.",
       args=[Arg("key", "registry key"), Arg("name", "value name", required=False)])
def remove_registry(state: dict[str, t.Any], now: _dt.datetime, *, key: str, name: str | None = None) -> str:
    args: dict[str, t.Any] = {"path": key, "state": "absent"}
    if name is None:
        args["delete_key"] = True
    else:
        args["name"] = name
    result = run_upstream(state, now, "ansible.windows.win_regedit", args)
    if not result.get("changed"):
        raise DriftError(f"nothing to remove at {key}" + (f" (value {name!r})" if name is not None else ""))
    return f"registry {key}" + (f"\\{name}" if name is not None else "") + ": removed"


# -- features ---------------------------------------------------------------------

@drift("remove-feature", section="features",
       help="Uninstall a Windows feature and what depends on it (Uninstall-WindowsFeature).",
       args=[Arg("name", "feature name, e.g. Web-WebSockets")])
def remove_feature(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    key, feature = _find_named(_section(state, "features"), name, "feature")
    if feature.get("install_state") != "Installed":
        raise DriftError(f"feature {key} is not installed ({feature.get('install_state')})")
    result = run_upstream(state, now, "ansible.windows.win_feature", {"name": [key], "state": "absent"})
    removed = [f.get("name") for f in result.get("feature_result") or []]
    return f"feature {key}: uninstalled ({', '.join(map(str, removed)) or key})"


# -- firewall ------------------------------------------------------------------------

def _firewall_rules(state: dict[str, t.Any], name: str) -> list[dict[str, t.Any]]:
    fw = _section(state, "firewall")
    rules = fw.get("rules") if isinstance(fw, dict) else None
    if not isinstance(rules, list):
        raise DriftError("the firewall section has an unknown layout")
    found = [r for r in rules if str(r.get("name") or "").lower() == name.lower()]
    if not found:
        names = sorted({str(r.get("name")) for r in rules})
        raise DriftError(f"no firewall rule named {name!r} ({len(names)} rules exist; e.g. {', '.join(names[:5])})")
    return found


@drift("remove-firewall-rule", section="firewall",
       help="Delete the Windows Firewall rules with this name (Remove-NetFirewallRule -DisplayName).",
       args=[Arg("name", "rule name")])
def remove_firewall_rule(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    found = _firewall_rules(state, name)
    rules = state["firewall"]["rules"]
    rules[:] = [r for r in rules if not any(r is f for f in found)]
    return f"firewall rule {name}: {len(found)} rule(s) removed"


@drift("disable-firewall-rule", section="firewall", help="Disable the Windows Firewall rules with this name.",
       args=[Arg("name", "rule name")])
def disable_firewall_rule(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    found = _firewall_rules(state, name)
    for rule in found:
        rule["enabled"] = False
    return f"firewall rule {name}: {len(found)} rule(s) disabled"


# -- certificates --------------------------------------------------------------------

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
