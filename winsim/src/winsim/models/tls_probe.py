"""The project's TLS read modules: ``mcms.infra.win_tls_probe`` and
``mcms.infra.win_cert_usage`` (modelled from ``plugins/modules/*.ps1`` of
the in-repo collection ``mcms.infra``).

http.sys SSL bindings
---------------------
On Windows, http.sys keeps its own SSL binding table
(``HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters``:
``SslBindingInfo`` = IP:port, ``SslSniBindingInfo`` = host:port,
``SslCcsBindingInfo`` = central certificate store).  IIS writes one entry per
https binding: an SNI binding (sslFlags 1) as ``<hostname>:<port>``, a binding
without SNI as ``<ip>:<port>`` (``*`` is ``0.0.0.0``), a CCS binding (sslFlags
2) as ``<hostname>:<port>`` in the CCS table.  winsim derives that table from
the IIS sites (:func:`ssl_bindings`); other programs' entries (``netsh http add
sslcert``, a self-hosted service) are in ``state["http_sys"]["ssl_bindings"]``::

    [{"kind": "ipport" | "sni" | "ccs", "endpoint": "0.0.0.0:8443",
      "thumbprint": "THUMBPRINT", "store": "My"}]

Which certificate a handshake gets (what ``win_tls_probe`` sees): the SNI
entry of (SNI name, port), else the IP:port entry of the address connected
to, else ``0.0.0.0:port``; none → http.sys resets the connection.  A CCS
entry is not simulated (``SimulatorError``).  The TCP connection itself is
accepted only when something listens on the port: IIS installed, ``W3SVC``
running and a started site with a binding on that port, or an extra http.sys
entry on it; else ``No connection could be made because the target machine
actively refused it``.  A plain-http binding answers a ClientHello with an
HTTP 400: the handshake fails with ``unexpected packet format``.

Trust: the chain is built from the presented certificate through the host's
``LocalMachine`` ``CA``/``My``/``WebHosting`` stores (by issuer = subject) to a
certificate in ``LocalMachine\\Root``; statuses are the ``X509ChainStatusFlags``
names (``UntrustedRoot``, ``PartialChain``, ``NotTimeValid``).  Revocation is
not checked (the module sets ``RevocationMode = NoCheck``).

WinRM HTTPS listener: ``state["host"]["winrm_https_thumbprint"]`` (the
realistic profile sets it, see ``certificates.py``), listening on ``*:5986``.

``win_cert_usage`` also answers which of ``root_thumbprints`` are in
``LocalMachine\\Root`` and sweeps the files of ``sweep_directory`` matching
``sweep_patterns`` (``Get-ChildItem -Filter``: ``*`` and ``?``, case
insensitive; not recursive): removed unless in check mode, reported with
``changed``, a diff and drift records.  The IIS entries carry IIS's
application ID; an extra entry's ``app_id`` is taken from it (default the nil
GUID).
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import typing as t

from cryptography import x509

from .. import state as st
from . import certificates, features, http, services
from ._base import ModuleContext, SimulatorError, model

_UPSTREAM = "mcms.infra 0.1.0"

REFUSED = "No connection could be made because the target machine actively refused it {}:{}"
TIMED_OUT = ("A connection attempt failed because the connected party did not properly respond after a period of "
             "time, or established connection failed because connected host has failed to respond {}:{}")
NO_SUCH_HOST = "No such host is known"
RESET = "An existing connection was forcibly closed by the remote host"
BAD_PACKET = "The handshake failed due to an unexpected packet format."


def _endpoint_ip(ip: t.Any) -> str:
    value = str(ip or "*")
    return "0.0.0.0" if value in ("*", "") else value


def ssl_bindings(state: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The host's http.sys SSL binding table (see the module docstring)."""
    out: list[dict[str, t.Any]] = []
    seen: set[tuple[str, str]] = set()
    for site in ((state.get("iis") or {}).get("sites") or {}).values():
        for b in site.get("bindings", []):
            if b.get("protocol") != "https":
                continue
            if b.get("use_ccs"):
                kind, endpoint = "ccs", f"{b.get('hostname') or ''}:{b.get('port')}"
            elif b.get("use_sni"):
                kind, endpoint = "sni", f"{str(b.get('hostname') or '').lower()}:{b.get('port')}"
            else:
                kind, endpoint = "ipport", f"{_endpoint_ip(b.get('ip'))}:{b.get('port')}"
            if (kind, endpoint) in seen:
                continue  # one http.sys entry per endpoint, whichever site wrote it first
            seen.add((kind, endpoint))
            out.append({"kind": kind, "endpoint": endpoint,
                        "thumbprint": "" if kind == "ccs" else str(b.get("certificate_hash") or "").upper(),
                        "store": "" if kind == "ccs" else (b.get("certificate_store_name") or "My")})
    for extra in ((state.get("http_sys") or {}).get("ssl_bindings") or []):
        key = (str(extra.get("kind", "ipport")), str(extra.get("endpoint", "")))
        if key not in seen:
            seen.add(key)
            out.append({"kind": key[0], "endpoint": key[1], "thumbprint": str(extra.get("thumbprint") or "").upper(),
                        "store": str(extra.get("store") or "My")})
    return sorted(out, key=lambda e: (e["kind"], e["endpoint"]))


def _port_of(endpoint: str) -> int:
    try:
        return int(endpoint.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return -1


def _own_addresses(state: dict[str, t.Any]) -> set[str]:
    host = state.get("host") or {}
    return {"127.0.0.1", "::1", *(str(ip).lower() for ip in host.get("ip_addresses") or [])}


def _listening(state: dict[str, t.Any], port: int) -> str | None:
    """What accepts TCP connections on ``port``: ``"iis"``, ``"http"`` (a
    plain-http IIS binding only), ``"other"`` (an extra http.sys entry) or None."""
    iis = state.get("iis") or {}
    w3svc = services.get_service(state, "W3SVC")
    protocols: set[str] = set()
    if iis.get("installed") and features.installed(state, "Web-Server") and w3svc is not None \
            and w3svc.get("state") == "started":
        for site in (iis.get("sites") or {}).values():
            if site.get("state") != "Started":
                continue
            protocols.update(b.get("protocol") for b in site.get("bindings", []) if int(b.get("port", 0)) == port)
    if "https" in protocols:
        return "iis"
    if any(_port_of(str(e.get("endpoint", ""))) == port
           for e in ((state.get("http_sys") or {}).get("ssl_bindings") or [])):
        return "other"
    return "http" if protocols else None


def presented_binding(state: dict[str, t.Any], address: str, port: int, server_name: str) -> dict[str, t.Any] | None:
    """The http.sys SSL entry a handshake to ``address:port`` with SNI
    ``server_name`` uses (SNI, else IP:port, else 0.0.0.0:port)."""
    table = ssl_bindings(state)
    name = server_name.lower().rstrip(".")
    for kind, endpoint in (("sni", f"{name}:{port}"), ("ccs", f"{name}:{port}"),
                           ("ipport", f"{_endpoint_ip(address)}:{port}"), ("ipport", f"0.0.0.0:{port}")):
        for entry in table:
            if entry["kind"] == kind and entry["endpoint"].lower() == endpoint:
                return entry
    return None


def _chain(state: dict[str, t.Any], entry: dict[str, t.Any], now: t.Any) -> tuple[list[str], list[str]]:
    """(chain thumbprints leaf first, X509ChainStatusFlags names)."""
    roots = certificates.store_certificates(state, "LocalMachine", "Root")
    pool: dict[str, dict[str, t.Any]] = {}
    for store in ("CA", "My", "WebHosting"):
        for e in certificates.store_certificates(state, "LocalMachine", store).values():
            pool.setdefault(e["subject"], e)
    chain = [entry["thumbprint"]]
    status: set[str] = set()
    current = entry
    for _ in range(8):
        if not certificates.is_time_valid(current, now):
            status.add("NotTimeValid")
        if current["thumbprint"] in roots:
            return chain, sorted(status)
        root = next((r for r in roots.values() if r["subject"] == current["issuer"]), None)
        if root is not None and current["issuer"] != current["subject"]:
            chain.append(root["thumbprint"])
            if not certificates.is_time_valid(root, now):
                status.add("NotTimeValid")
            return chain, sorted(status)
        if current["issuer"] == current["subject"]:
            status.add("UntrustedRoot")
            return chain, sorted(status)
        nxt = pool.get(current["issuer"])
        if nxt is None or nxt["thumbprint"] in chain:
            status.add("PartialChain")
            return chain, sorted(status)
        chain.append(nxt["thumbprint"])
        current = nxt
    status.add("PartialChain")
    return chain, sorted(status)


def _name_matches(entry: dict[str, t.Any], name: str) -> bool:
    return http._host_matches(entry, name.rstrip("."))


def _eku_oids(entry: dict[str, t.Any]) -> list[str] | None:
    cert = x509.load_der_x509_certificate(base64.b64decode(entry["der"]))
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return [o.dotted_string for o in eku]


@model("mcms.infra.win_tls_probe", upstream=_UPSTREAM)
def win_tls_probe(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    name, address, port = str(p["server_name"]), str(p.get("address") or "127.0.0.1"), int(p.get("port") or 443)
    ctx.exit(server_name=name, address=address, port=port, mcms_drift=[])
    state = ctx.state
    try:
        ip = str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        ip = ""
    if not ip:
        if address.lower() != "localhost":
            found = http.resolve_host(ctx, address)
            if found is None:
                ctx.fail(f"cannot connect to {address}:{port}: {NO_SUCH_HOST}")
            if found is not state:
                raise SimulatorError("winsim: win_tls_probe to another host is not simulated (the module is "
                                     "meant for this host's own listeners)")
        ip = "127.0.0.1"
    if ip.lower() not in _own_addresses(state):
        other = http._by_address(ctx, http.lab_spec(ctx), ip.lower())
        if other is not None and other[1] is not state:
            raise SimulatorError("winsim: win_tls_probe to another host is not simulated (the module is "
                                 "meant for this host's own listeners)")
        ctx.fail(f"cannot connect to {address}:{port}: {TIMED_OUT.format(address, port)}")
    listening = _listening(state, port)
    if listening is None:
        ctx.fail(f"cannot connect to {address}:{port}: {REFUSED.format(ip, port)}")
    entry_ref = presented_binding(state, ip, port, name)
    if entry_ref is None:
        if listening == "http":
            ctx.fail(f"TLS handshake with {address}:{port} for server name {name} failed: {BAD_PACKET}")
        ctx.fail(f"TLS handshake with {address}:{port} for server name {name} failed: {RESET}")
    if entry_ref["kind"] == "ccs":
        raise SimulatorError("winsim: central certificate store bindings (sslFlags 2) are not simulated")
    entry = certificates.find_certificate(state, "LocalMachine", entry_ref["store"] or "My", entry_ref["thumbprint"])
    if entry is None or not entry.get("has_private_key") or certificates.load_private_key(ctx, entry, state) is None:
        # http.sys cannot load the certificate or its key: SCHANNEL resets the handshake
        ctx.fail(f"TLS handshake with {address}:{port} for server name {name} failed: {RESET}")
    chain, status = _chain(state, entry, ctx.now())
    ca = p.get("ca_thumbprint")
    if ca:
        wanted = certificates.normalise_thumbprint(ca)
        if chain[-1] != wanted:
            status.append(f"RootIsNot:{wanted}")
    return ctx.exit(
        thumbprint=entry["thumbprint"],
        certificate={"thumbprint": entry["thumbprint"], "subject": entry["subject"], "issuer": entry["issuer"],
                     "dns_names": list(entry.get("dns_names") or []), "eku_oids": _eku_oids(entry),
                     "not_before": entry["not_before"], "not_after": entry["not_after"]},
        chain=chain, chain_status=status, chain_valid=not status, name_matches=_name_matches(entry, name))


IIS_APP_ID = "{4dc3e181-e14b-4a21-b022-59fc669b0914}"
"""The application ID IIS writes with its http.sys SSL bindings."""


def winrm_listeners(state: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    thumbprint = str((state.get("host") or {}).get("winrm_https_thumbprint") or "").replace(" ", "").upper()
    return [{"address": "*", "port": "5986", "thumbprint": thumbprint}] if thumbprint else []


@model("mcms.infra.win_cert_usage", upstream=_UPSTREAM)
def win_cert_usage(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    bindings = []
    extra_keys = {(str(e.get("kind", "ipport")), str(e.get("endpoint", "")))
                  for e in ((ctx.state.get("http_sys") or {}).get("ssl_bindings") or [])}
    for entry in ssl_bindings(ctx.state):
        iis = (entry["kind"], entry["endpoint"]) not in extra_keys
        app_id = IIS_APP_ID if iis else next(
            (str(e.get("app_id") or "{00000000-0000-0000-0000-000000000000}")
             for e in ctx.state["http_sys"]["ssl_bindings"]
             if (str(e.get("kind", "ipport")), str(e.get("endpoint", ""))) == (entry["kind"], entry["endpoint"])), "")
        bindings.append(dict(entry, app_id=app_id, iis=app_id == IIS_APP_ID))
    listeners = winrm_listeners(ctx.state)
    in_use = sorted({b["thumbprint"] for b in bindings if b["thumbprint"]} | {e["thumbprint"] for e in listeners})
    outside = sorted({b["thumbprint"] for b in bindings if b["thumbprint"] and not b["iis"]}
                     | {e["thumbprint"] for e in listeners})
    roots = certificates.store_certificates(ctx.state, "LocalMachine", "Root")
    in_root = [tp for tp in (certificates.normalise_thumbprint(x) for x in p.get("root_thumbprints") or [])
               if tp in roots]
    swept: list[str] = []
    directory = p.get("sweep_directory")
    patterns = list(p.get("sweep_patterns") or [])
    drift = []
    if directory and patterns:
        item = st.get_item(ctx.state, directory)
        if item is not None and item["type"] == "directory":
            for child in st.children(ctx.state, directory):
                name = child["path"].rsplit("\\", 1)[-1]
                if child["type"] == "file" and any(fnmatch.fnmatch(name.lower(), pat.lower()) for pat in patterns):
                    swept.append(child["path"])
                    drift.append({"resource_type": "file", "resource": child["path"], "attribute": "state",
                                  "wanted": "absent", "found": "present"})
            if not ctx.check_mode:
                for path in swept:
                    st.remove(ctx.state, path)
    if swept:
        ctx.changed()
        ctx.set_diff({"leftover_files": swept}, {"leftover_files": []})
    return ctx.exit(ssl_bindings=bindings, winrm_listeners=listeners, in_use=in_use, in_use_outside_iis=outside,
                    in_root=in_root, swept_files=swept, mcms_drift=drift)
