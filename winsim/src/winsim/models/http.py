"""HTTP inside the simulated lab, and ``ansible.windows.win_uri`` (ansible.windows 3.8.0).

:func:`send` is the simulated ``HttpWebRequest.GetResponse()`` used by
``win_uri`` and ``win_get_url`` (``models/get_url.py``).  It answers from
the *state* of the host that owns the URL; the only thing it records is
which release an IIS worker has loaded (``models/iis_worker.py``, in the
host's runtime, never in the state).

Which host answers (:func:`resolve`; ``winsim/docs/http-dns-and-apps.md``):

1. ``file://`` URLs read ``state["files"]`` of the calling host.
2. Internal artifact hosts (``state["packages"]["artifact_hosts"]``, see
   ``models/packages.py``) answer from the artifact catalogue; over https
   the caller must trust the artifact CA when the lab declaration says
   ``artifacts.require_trust`` (:func:`artifact_tls_error`).
3. ``localhost``, ``127.0.0.1``, ``::1`` and the host's own computer name,
   FQDN and IP addresses reach the calling host.
4. An IP address reaches the lab host that has it; any other address does
   not answer (``Unable to connect to the remote server``, or ``The
   operation has timed out`` when the request's timeout is shorter than
   the TCP connect timeout).
5. A name in the lab's DNS table (``lab.json`` ``dns.records``; a
   single-label name is tried with the domain suffix too) goes where the
   record points: a lab host (inventory name, computer name or FQDN) or an
   address (as in 4).
6. A lab host's computer name and FQDN (registered by the host itself).
7. Legacy, transitional (``dns.host_sites_resolve_locally``, on when there
   is no lab declaration): a name bound by one of the calling host's own
   sites reaches it, then lab inventory names, then names bound by another
   lab host's sites.
8. Anything else: ``The remote name could not be resolved: '<name>'``
   (``HttpWebRequest`` on .NET Framework, as ``win_uri``/``win_get_url``
   run under Windows PowerShell 5.1).

How IIS answers (Windows Server 2022, IIS 10 + HTTP.sys):

* Nothing listens unless IIS is installed, ``W3SVC`` is running and a
  started site has a binding for the URL's scheme and port (else
  ``Unable to connect to the remote server``).  Bindings match on the Host
  header (exact host name, else a binding without host name); a listening
  port with no matching binding answers HTTP.sys ``400`` (Invalid Hostname).
* HTTPS needs the binding's certificate (``certificate_hash`` in
  ``LocalMachine\\<certificate_store_name>``) with a private key; an SNI
  binding only answers a client that sends its host name.  With
  ``validate_certs`` the *calling* host must trust the chain (issuer found
  in its ``LocalMachine\\Root``, intermediates in its or the server's
  ``CA``/``My`` stores), the certificate must be valid now and match the
  host name (SAN DNS names, wildcards, else CN), or the request fails with
  ``Could not establish trust relationship for the SSL/TLS secure channel``.
* A stopped application pool answers ``503``; a ``app_health`` fault whose
  target is the site name answers ``500`` on every path.  Faults are those
  of the host that *serves* the request.
* A site with URL Rewrite rules (``models/rewrite.py``) rewrites before
  authentication; a rule whose target is an absolute URL is forwarded by ARR
  from the serving host (the blue/green front): ``502`` when the target does
  not answer, else the target's response passed through; ``500.19`` for rules
  without the URL Rewrite module, ``404`` without ARR or its proxy enabled.
* Anonymous requests to a path where anonymous authentication is off and
  Windows authentication on get ``401`` with ``WWW-Authenticate``
  (``Negotiate``, ``NTLM``); ``use_default_credential`` or credentials pass.
* Headers: ``Server: Microsoft-IIS/10.0`` unless ``requestFiltering``
  ``removeServerHeader="true"``; the ``customHeaders`` of
  applicationHost.config and of the application's ``web.config``
  (``clear``/``add``/``remove``); ``Strict-Transport-Security`` on HTTPS
  from the site's ``hsts`` element in ``state["iis"]`` (``{"enabled",
  "max-age", "includeSubDomains", "preload", "redirectHttpToHttps"}``) or
  ``sites/siteDefaults/hsts`` of applicationHost.config.

The ASP.NET Core application convention (what the app role deploys):

* The application's physical path holds ``web.config`` with an
  ``<aspNetCore processPath=... arguments=...>`` element naming
  ``.\\<App>.dll`` (``processPath="dotnet"``) or ``.\\<App>.exe``; that
  file must exist, and ``AspNetCoreModuleV2`` must be registered in
  applicationHost.config ``globalModules`` (the Hosting Bundle, see
  ``models/packages.py``), else IIS answers ``500`` (500.19).
* The version is ``version`` of ``version.json`` (``{"version": "1.4.2"}``)
  or, failing that, ``Version`` of ``appsettings.json``.  The environment is
  the ``ASPNETCORE_ENVIRONMENT`` ``<environmentVariable>`` of web.config
  (default ``Production``).
* The application pool's identity must read ``web.config`` (the
  folder's effective ACL): else ``500.19`` (``Cannot read configuration
  file due to insufficient permissions``).
* ``app_offline.htm`` in the physical path: ``503`` with its content.
* The worker loads the app at its first request and serves that snapshot
  until a recycle, restart, physical-path change or app_offline cycle
  (``models/iis_worker.py``, which also locks the loaded DLLs).
* ``GET /health`` → ``200`` ``{"status":"Healthy","version":...}``
  (``application/json; charset=utf-8``), or ``503``
  ``{"status":"Unhealthy",...}`` under an ``unhealthy_release`` fault for
  the loaded version; an ``app_start_failure`` fault for the version
  answers ANCM ``500.30`` (in-process) / ``502.5`` (out-of-process).
  ``/swagger/index.html`` → ``200`` unless the environment is
  ``Production``; files under ``wwwroot`` are served; anything else ``404``.
* Without an ASP.NET Core app, the static file handler serves files whose
  extension has a ``mimeMap`` (else 404), default documents, ``403`` for a
  directory without one (directory browsing off).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import email.utils
import hashlib
import ipaddress
import json
import re
import typing as t
import urllib.parse
import xml.etree.ElementTree as ET

from .. import state as st
from . import _winfs as fs
from . import certificates, features, iis, iis_worker, packages, services
from ._base import Faults, ModuleContext, model

_UPSTREAM = "ansible.windows 3.8.0"

APPHOST = "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"
UNABLE_TO_CONNECT = "Unable to connect to the remote server"
SEND_FAILED = "The underlying connection was closed: An unexpected error occurred on a send."
TRUST_FAILED = ("The underlying connection was closed: Could not establish trust relationship for the SSL/TLS "
                "secure channel.")

STATUS_TEXT = {
    200: ("OK", "OK"), 201: ("Created", "Created"), 204: ("No Content", "NoContent"),
    301: ("Moved Permanently", "MovedPermanently"), 302: ("Found", "Redirect"),
    304: ("Not Modified", "NotModified"), 307: ("Temporary Redirect", "TemporaryRedirect"),
    400: ("Bad Request", "BadRequest"), 401: ("Unauthorized", "Unauthorized"), 403: ("Forbidden", "Forbidden"),
    404: ("Not Found", "NotFound"), 405: ("Method Not Allowed", "MethodNotAllowed"),
    500: ("Internal Server Error", "InternalServerError"), 502: ("Bad Gateway", "BadGateway"),
    503: ("Service Unavailable", "ServiceUnavailable"),
}


class WebError(Exception):
    """A ``WebException`` without a response (connection/TLS/DNS failure)."""


@dataclasses.dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str
    method: str

    @property
    def description(self) -> str:
        return STATUS_TEXT.get(self.status, (str(self.status), str(self.status)))[0]

    @property
    def enum_name(self) -> str:
        return STATUS_TEXT.get(self.status, (str(self.status), str(self.status)))[1]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclasses.dataclass
class Request:
    url: str
    method: str = "GET"
    validate_certs: bool = True
    authenticated: bool = False
    follow_redirects: str = "safe"
    maximum_redirection: int = 50
    host_header: str | None = None
    """``headers: {Host: ...}`` (``HttpWebRequest.Host``): the name sent in the Host header and SNI,
    and checked against the certificate, while the URL's host decides where the request goes (a smoke
    check to ``https://127.0.0.1/`` for ``mcms.example``, independent of DNS)."""


# -- name resolution --------------------------------------------------------------

def _names_of(state: dict[str, t.Any]) -> set[str]:
    host = state.get("host", {})
    names: set[str] = set()
    hostname = str(host.get("hostname") or "").lower()
    if hostname:
        names.add(hostname)
        if host.get("domain"):
            names.add(f"{hostname}.{str(host['domain']).lower()}")
    names.update(str(ip).lower() for ip in host.get("ip_addresses") or [])
    return names


def _bound_names(state: dict[str, t.Any]) -> set[str]:
    out = set()
    for site in (state.get("iis") or {}).get("sites", {}).values():
        for b in site.get("bindings", []):
            if b.get("hostname"):
                out.add(str(b["hostname"]).lower())
    return out


LOOPBACK = ("localhost", "127.0.0.1", "::1")
NAME_NOT_RESOLVED = "The remote name could not be resolved: '{}'"
TIMED_OUT = "The operation has timed out"
TCP_CONNECT_TIMEOUT = 21
"""Seconds Windows' TCP stack takes to give up a connect nobody answers (3
SYN attempts: 3 + 6 + 12 s); a request whose timeout is shorter times out
first."""


def lab_spec(ctx: ModuleContext) -> dict[str, t.Any] | None:
    """The lab declaration (``<state_dir>/_lab/lab.json``, ``runtime.Lab.spec``),
    or ``None``: no declaration, every legacy convenience stays on."""
    lab = getattr(ctx.runtime, "lab", None)
    spec = getattr(lab, "spec", None) if lab is not None else None
    return spec if isinstance(spec, dict) else None


def dns_records(spec: dict[str, t.Any] | None) -> dict[str, str]:
    """``dns.records`` of the lab declaration, keys lower-case."""
    records = ((spec or {}).get("dns") or {}).get("records") or {}
    return {str(k).lower().rstrip("."): str(v) for k, v in records.items()} if isinstance(records, dict) else {}


def host_sites_resolve_locally(spec: dict[str, t.Any] | None) -> bool:
    """Legacy, transitional (until issue 8): any host name bound on a lab
    host's IIS sites resolves to that host, and inventory names resolve.
    On without a lab declaration; with one, only when it says
    ``dns.host_sites_resolve_locally: true``."""
    if spec is None:
        return True
    return bool((spec.get("dns") or {}).get("host_sites_resolve_locally", False))


def artifacts_require_trust(spec: dict[str, t.Any] | None) -> bool:
    """Whether https calls to the internal artifact server check its
    certificate: off without a lab declaration (today's web tier), on with
    one unless it says ``artifacts.require_trust: false``."""
    if spec is None:
        return False
    return bool((spec.get("artifacts") or {}).get("require_trust", True))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _unreachable(ctx: ModuleContext) -> WebError:
    """A TCP connect to an address nothing answers on (e.g. a load-balancer
    VIP outside the lab): ``HttpWebRequest`` reports the socket timeout as
    ``Unable to connect to the remote server`` unless its own ``Timeout``
    (``url_timeout``/``timeout``, default 30 s) runs out first."""
    timeout = ctx.params.get("url_timeout", ctx.params.get("timeout"))
    if isinstance(timeout, int) and 0 < timeout < TCP_CONNECT_TIMEOUT:
        return WebError(TIMED_OUT)
    return WebError(UNABLE_TO_CONNECT)


def _is_self(ctx: ModuleContext, other: dict[str, t.Any]) -> bool:
    return str(other.get("host", {}).get("hostname", "")).lower() == \
        str(ctx.state.get("host", {}).get("hostname", "")).lower()


def _lab_hosts(ctx: ModuleContext) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    lab = getattr(ctx.runtime, "lab", None)
    if lab is None:
        return
    for name in lab.hosts():
        other = lab.state(name)
        if other is not None:
            yield name, other


def _by_address(ctx: ModuleContext, spec: dict[str, t.Any] | None, address: str
                ) -> tuple[str | None, dict[str, t.Any]] | None:
    if address in _names_of(ctx.state):
        return None, ctx.state
    declared = (spec or {}).get("hosts") or {}
    for name, other in _lab_hosts(ctx):
        addr = str((declared.get(name) or {}).get("address") or "").lower()
        if address == addr or address in _names_of(other):
            return (None, ctx.state) if _is_self(ctx, other) else (name, other)
    return None


def resolve(ctx: ModuleContext, host: str) -> tuple[str | None, dict[str, t.Any]]:
    """Resolve ``host`` the way the calling host's resolver would, to
    (lab inventory name or ``None`` for the calling host, that host's state).
    Raises :class:`WebError` with the ``WebException`` text when the name
    does not resolve or the address does not answer.  See
    ``winsim/docs/http-dns-and-apps.md``."""
    h = host.lower().strip("[]").rstrip(".")
    if h in LOOPBACK or h in _names_of(ctx.state):
        return None, ctx.state
    spec = lab_spec(ctx)
    if _is_ip(h):
        found = _by_address(ctx, spec, h)
        if found is None:
            raise _unreachable(ctx)
        return found
    records = dns_records(spec)
    domain = str(((spec or {}).get("domain") or {}).get("dns_name") or "").lower()
    record = records.get(h)
    if record is None and "." not in h and domain:
        record = records.get(f"{h}.{domain}")  # the primary DNS suffix is appended to a single-label name
    if record is not None:
        target = record.lower()
        if _is_ip(target):
            found = _by_address(ctx, spec, target)
            if found is None:
                raise _unreachable(ctx)
            return found
        for name, other in _lab_hosts(ctx):
            if target in (name.lower(), *_names_of(other)):
                return (None, ctx.state) if _is_self(ctx, other) else (name, other)
        raise WebError(NAME_NOT_RESOLVED.format(host))
    legacy = host_sites_resolve_locally(spec)
    if legacy and h in _bound_names(ctx.state):
        return None, ctx.state
    for name, other in _lab_hosts(ctx):
        if _is_self(ctx, other):
            continue
        # A lab host's computer name and FQDN are registered in the lab DNS
        # (dynamic update); inventory names only in the legacy mode.
        if h in _names_of(other) or h == str(other.get("host", {}).get("hostname", "")).lower() or (
                legacy and (h == name.lower() or h.split(".")[0] == name.lower())):
            return name, other
    if legacy:
        for name, other in _lab_hosts(ctx):
            if not _is_self(ctx, other) and h in _bound_names(other):
                return name, other
    raise WebError(NAME_NOT_RESOLVED.format(host))


def resolve_host(ctx: ModuleContext, host: str) -> dict[str, t.Any] | None:
    """The state of the lab host that answers for ``host`` (None: unknown)."""
    try:
        return resolve(ctx, host)[1]
    except WebError:
        return None


# -- applicationHost.config / web.config --------------------------------------------

def _xml(state: dict[str, t.Any], path: str) -> ET.Element | None:
    item = st.get_item(state, path)
    if item is None or item["type"] != "file":
        return None
    try:
        return ET.fromstring(st.read_file(state, path))
    except ET.ParseError:
        return None


def _scopes(root: ET.Element | None) -> list[ET.Element]:
    """The configuration element and its ``<location path=".">`` /
    ``<location path="">`` children: where settings for the file's own
    level live."""
    if root is None:
        return []
    return [root] + [loc for loc in root.findall("location") if loc.get("path", "") in ("", ".")]


def _find(root: ET.Element | None, xpath: str) -> ET.Element | None:
    found = None
    for scope in _scopes(root):
        el = scope.find(xpath)
        if el is not None:
            found = el
    return found


def _custom_headers(root: ET.Element | None, headers: dict[str, str]) -> dict[str, str]:
    out = dict(headers)
    for scope in _scopes(root):
        section = scope.find("./system.webServer/httpProtocol/customHeaders")
        if section is not None:
            out = _apply_collection(section, out)
    return out


def _apply_collection(section: ET.Element, headers: dict[str, str]) -> dict[str, str]:
    out = dict(headers)
    for child in section:
        if child.tag == "clear":
            out = {}
        elif child.tag == "add" and child.get("name"):
            out[child.get("name", "")] = child.get("value", "")
        elif child.tag == "remove":
            out = {k: v for k, v in out.items() if k.lower() != str(child.get("name", "")).lower()}
    return out


def _remove_server_header(roots: list[ET.Element | None]) -> bool:
    value = False
    for root in roots:
        if root is None:
            continue
        rf = _find(root, "./system.webServer/security/requestFiltering")
        if rf is not None and rf.get("removeServerHeader") is not None:
            value = rf.get("removeServerHeader", "").lower() == "true"
    return value


def _hsts(state: dict[str, t.Any], site: dict[str, t.Any], apphost: ET.Element | None) -> dict[str, t.Any]:
    settings: dict[str, t.Any] = {}
    if apphost is not None:
        el = apphost.find("./system.applicationHost/sites/siteDefaults/hsts")
        if el is not None:
            settings.update(el.attrib)
        for s in apphost.findall("./system.applicationHost/sites/site"):
            if s.get("name", "").lower() == site["name"].lower() and s.find("hsts") is not None:
                settings.update(s.find("hsts").attrib)  # type: ignore[union-attr]
    settings.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (site.get("hsts") or {}).items()})
    return settings


def _mime_types(roots: list[ET.Element | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for root in roots:
        if root is None:
            continue
        for scope in _scopes(root):
            for m in scope.findall("./system.webServer/staticContent/*"):
                if m.tag == "mimeMap":
                    out[m.get("fileExtension", "").lower()] = m.get("mimeType", "")
                elif m.tag == "remove":
                    out.pop(m.get("fileExtension", "").lower(), None)
    return out


# -- TLS ------------------------------------------------------------------------------

def _host_matches(entry: dict[str, t.Any], host: str) -> bool:
    names = entry.get("dns_names") or []
    if not names:
        m = re.search(r"(?:^|, )CN=([^,]+)", entry.get("subject", ""))
        names = [m.group(1)] if m else []
    for name in names:
        n = name.lower()
        if n == host.lower() or (n.startswith("*.") and "." in host and host.lower().split(".", 1)[1] == n[2:]):
            return True
    return False


def _trusted(client: dict[str, t.Any], server: dict[str, t.Any], entry: dict[str, t.Any]) -> bool:
    roots = certificates.store_certificates(client, "LocalMachine", "Root")
    pool = {}
    for state in (client, server):
        for store in ("CA", "My", "WebHosting"):
            for e in certificates.store_certificates(state, "LocalMachine", store).values():
                pool.setdefault(e["subject"], e)
    current = entry
    for _ in range(8):
        if current["thumbprint"] in roots:
            return True
        if current["issuer"] == current["subject"]:
            return False
        if any(r["subject"] == current["issuer"] for r in roots.values()):
            return True
        nxt = pool.get(current["issuer"])
        if nxt is None or nxt is current:
            return False
        current = nxt
    return False


def artifact_trusted(client: dict[str, t.Any]) -> bool:
    """The calling host trusts the artifact server's chain: the lab's
    artifact CA (or the server certificate itself) is in its
    ``LocalMachine\\Root``, compared by thumbprint."""
    roots = certificates.store_certificates(client, "LocalMachine", "Root")
    wanted = {packages.artifact_ca_certificate()["thumbprint"], packages.artifact_server_certificate()["thumbprint"]}
    return any(str(tp).upper() in wanted for tp in roots)


def artifact_tls_error(ctx: ModuleContext, host: str) -> str | None:
    """The ``WebException`` text of an https call from ``ctx``'s host to the
    internal artifact server, or ``None`` when the handshake succeeds.  Only
    checked when the lab declaration asks for it (``artifacts.require_trust``);
    callers skip it when ``validate_certs`` is false."""
    if not artifacts_require_trust(lab_spec(ctx)):
        return None
    entry = packages.artifact_server_certificate()
    if not certificates.is_time_valid(entry, ctx.now()) or not _host_matches(entry, host) \
            or not artifact_trusted(ctx.state):
        return TRUST_FAILED
    return None


# -- serving ----------------------------------------------------------------------------

def _http_date(when: _dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(_dt.UTC), usegmt=True)


def _site_for(server: dict[str, t.Any], scheme: str, host: str, port: int
              ) -> tuple[dict[str, t.Any] | None, dict[str, t.Any] | None, bool]:
    """(site, binding, something listens on the port)."""
    listening = False
    exact = wildcard = None
    for site in (server.get("iis") or {}).get("sites", {}).values():
        if site.get("state") != "Started":
            continue
        for b in site.get("bindings", []):
            if int(b.get("port", 0)) != port:
                continue
            listening = True
            if b.get("protocol") != scheme:
                continue
            if b.get("ip") not in ("*", "", None):
                try:
                    if ipaddress.ip_address(host) != ipaddress.ip_address(b["ip"]):
                        continue
                except ValueError:
                    pass
            bh = str(b.get("hostname") or "").lower()
            if bh and bh == host.lower() and exact is None:
                exact = (site, b)
            elif not bh and wildcard is None:
                wildcard = (site, b)
    chosen = exact or wildcard
    return (chosen[0], chosen[1], listening) if chosen else (None, None, listening)


def _app_info(server: dict[str, t.Any], root: str, apphost: ET.Element | None) -> dict[str, t.Any] | None:
    """The deployed ASP.NET Core app at ``root`` (see module docstring)."""
    cfg = _xml(server, root + "\\web.config")
    if cfg is None:
        return None
    anc = cfg.find(".//aspNetCore")
    if anc is None:
        return None
    target = anc.get("arguments", "") if anc.get("processPath", "").lower() == "dotnet" else anc.get("processPath", "")
    target = target.strip().split(" ")[0].lstrip(".\\/") if target else ""
    env = "Production"
    for var in anc.findall(".//environmentVariable"):
        if var.get("name", "").upper() == "ASPNETCORE_ENVIRONMENT":
            env = var.get("value", env)
    version = None
    for name, keys in (("version.json", ("version", "Version")), ("appsettings.json", ("Version", "version"))):
        item = st.get_item(server, root + "\\" + name)
        if item is None or item["type"] != "file":
            continue
        try:
            doc = json.loads(st.read_file(server, root + "\\" + name).decode("utf-8-sig"))
        except ValueError:
            continue
        version = next((str(doc[k]) for k in keys if isinstance(doc, dict) and k in doc), None)
        if version:
            break
    ancm = False
    if apphost is not None:
        modules = apphost.findall("./system.webServer/globalModules/add")
        ancm = any(m.get("name") == "AspNetCoreModuleV2" for m in modules)
    hosting = (anc.get("hostingModel") or "inprocess").lower()
    return {"target": target, "binary_present": bool(target) and st.exists(server, root + "\\" + target),
            "environment": env, "version": version, "ancm": ancm, "config": cfg, "hosting_model": hosting}


def _server_faults(ctx: ModuleContext, server_name: str | None) -> Faults:
    """The faults of the host that serves the request (the caller's own
    when it calls itself)."""
    if server_name is None:
        return ctx.faults
    lab = getattr(ctx.runtime, "lab", None)
    reader = getattr(lab, "faults", None)
    return Faults(reader(server_name) if callable(reader) else [])


def _release_fault(faults: Faults, kind: str, version: str | None) -> dict[str, t.Any] | None:
    return faults.find(kind, version) if version else None


def _serve(ctx: ModuleContext, server: dict[str, t.Any], req: Request, parsed: urllib.parse.SplitResult,
           server_name: str | None = None) -> Response:
    scheme = parsed.scheme.lower()
    host = req.host_header or parsed.hostname or ""
    port = parsed.port or (443 if scheme == "https" else 80)
    if not (server.get("iis") or {}).get("installed") or not features.installed(server, "Web-Server"):
        raise WebError(UNABLE_TO_CONNECT)
    w3svc = services.get_service(server, "W3SVC")
    if w3svc is None or w3svc.get("state") != "started":
        raise WebError(UNABLE_TO_CONNECT)
    site, binding, listening = _site_for(server, scheme, host, port)
    if not listening:
        raise WebError(UNABLE_TO_CONNECT)
    now = ctx.now()
    base_headers = [("Content-Type", "text/html; charset=us-ascii"), ("Server", "Microsoft-HTTPAPI/2.0"),
                    ("Date", _http_date(now))]

    def httpapi(status: int, text: str) -> Response:
        body = (f"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">"
                f"\r\n<HTML><HEAD><TITLE>{text}</TITLE>\r\n</HEAD><BODY><h2>{text}</h2>\r\n</BODY></HTML>\r\n")
        return Response(status, [*base_headers, ("Content-Length", str(len(body)))], body.encode(), req.url,
                        req.method)

    if scheme == "https":
        if binding is None:
            raise WebError(SEND_FAILED)
        if binding.get("use_sni") and not str(binding.get("hostname") or ""):
            raise WebError(SEND_FAILED)
        entry = certificates.find_certificate(server, "LocalMachine", binding.get("certificate_store_name") or "My",
                                              binding.get("certificate_hash") or "")
        if entry is None or not entry.get("has_private_key"):
            raise WebError(SEND_FAILED)
        if certificates.load_private_key(ctx, entry, server) is None:  # HTTP.sys needs the key itself
            raise WebError(SEND_FAILED)
        if req.validate_certs and (not certificates.is_time_valid(entry, now) or not _host_matches(entry, host)
                                   or not _trusted(ctx.state, server, entry)):
            raise WebError(TRUST_FAILED)
    if site is None:
        return httpapi(400, "Bad Request - Invalid Hostname")

    path = urllib.parse.unquote(parsed.path or "/")
    resolved = iis.resolve_url(server, site["name"], path)
    assert resolved is not None
    pool = iis.find_pool(server, resolved["application_pool"])
    if pool is None or pool.get("state") != "Started":
        return httpapi(503, "Service Unavailable")

    apphost = _xml(server, APPHOST)
    app_root = st.normpath(site["physical_path"], server)
    if resolved["application"] != "/":
        app = next((a for k, a in site.get("applications", {}).items()
                    if k.lower() == resolved["application"].lower()), None)
        if app is not None:
            app_root = st.normpath(app["physical_path"], server)
    webcfg = _xml(server, app_root + "\\web.config")
    roots = [apphost, webcfg]
    headers: list[tuple[str, str]] = []
    if not _remove_server_header(roots):
        headers.append(("Server", "Microsoft-IIS/10.0"))
    hsts = _hsts(server, site, apphost)
    if scheme == "https" and hsts.get("enabled", "false").lower() == "true" and int(hsts.get("max-age", "0")) > 0:
        value = f"max-age={hsts['max-age']}"
        if hsts.get("includeSubDomains", "false").lower() == "true":
            value += "; includeSubDomains"
        if hsts.get("preload", "false").lower() == "true":
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    custom = _custom_headers(webcfg, _custom_headers(apphost, {}))

    def respond(status: int, body: bytes, ctype: str, extra: list[tuple[str, str]] | None = None) -> Response:
        hdrs = [("Content-Type", ctype), *headers, *(extra or []), *custom.items(), ("Date", _http_date(now)),
                ("Content-Length", str(len(body)))]
        return Response(status, hdrs, b"" if req.method == "HEAD" else body, req.url, req.method)

    if scheme == "http" and hsts.get("redirectHttpToHttps", "false").lower() == "true":
        target = urllib.parse.urlunsplit(("https", parsed.netloc.split(":")[0], parsed.path, parsed.query, ""))
        return respond(301, b"", "text/html; charset=UTF-8", [("Location", target)])
    faults = _server_faults(ctx, server_name)
    if faults.find("app_health", site["name"]):
        return respond(500, b"", "text/html")
    proxied = _front(ctx, server, req, parsed, server_name, site, path, respond)
    if proxied is not None:
        return proxied

    own = server is ctx.state
    writable = own and not ctx.check_mode
    if own:
        workers = iis_worker.host_workers(ctx.runtime)
    else:
        reader = getattr(getattr(ctx.runtime, "lab", None), "runtime_doc", None)
        workers = reader(server_name, iis_worker.DOC) if callable(reader) and server_name else {}
    # WAS starts the pool's worker process (logging on as its identity) for
    # the first request; an identity that cannot log on disables the pool.
    failure, new = iis_worker.pool_start_failure(server, workers, pool, getattr(ctx.runtime, "lab", None))
    if failure is not None:
        if new and writable and ctx.runtime is not None:
            iis_worker.record_start_failure(workers, pool["name"], failure, st.iso(now))
            iis_worker.save_workers(ctx.runtime, workers)
        return httpapi(503, "Service Unavailable")

    auth = iis.effective_authentication(server, site["name"], path)
    anonymous = bool(auth.get("AnonymousAuthentication", {}).get("enabled"))
    windows = auth.get("WindowsAuthentication", {})
    if not anonymous and not req.authenticated:
        extra = [("WWW-Authenticate", p) for p in (windows.get("providers") or ["Negotiate", "NTLM"])] \
            if windows.get("enabled") else []
        return respond(401, _iis_error(401, "Unauthorized: Access is denied due to invalid credentials."),
                       "text/html", extra)

    identity = iis_worker.pool_identity(pool)
    config_path = app_root + "\\web.config" if webcfg is not None else app_root
    if st.exists(server, app_root) and not iis_worker.identity_can_read(server, identity, config_path):
        return respond(500, _config_error(config_path), "text/html")
    rel = path[len(resolved["application"].rstrip("/")):] if resolved["application"] != "/" else path
    rel_l = rel.lower().rstrip("/") or "/"
    key = iis_worker.app_key(site["name"], resolved["application"])
    if st.exists(server, app_root + "\\app_offline.htm"):
        if writable and workers:
            iis_worker.unload_root(workers, app_root)
            iis_worker.save_workers(ctx.runtime, workers)
        return respond(503, st.read_file(server, app_root + "\\app_offline.htm"), "text/html")
    app = _app_info(server, app_root, apphost)
    if app is not None:
        loaded = iis_worker.loaded_app(server, workers, pool["name"], key)
        if loaded is None:
            if not app["ancm"] or not app["binary_present"]:
                return respond(500, _iis_error(500, "Internal Server Error"), "text/html")
            if _release_fault(faults, "app_start_failure", app["version"]):
                return respond(*_ancm_start_failure(app["hosting_model"]), "text/html")
            loaded = {"site": site["name"], "application": resolved["application"], "physical_path": app_root,
                      "version": app["version"], "environment": app["environment"], "target": app["target"],
                      "hosting_model": app["hosting_model"]}
            if writable and ctx.runtime is not None:
                iis_worker.load(server, workers, pool["name"], key, loaded, st.iso(now))
                iis_worker.save_workers(ctx.runtime, workers)
        app = dict(app, version=loaded.get("version"), environment=loaded.get("environment") or "Production")
        if rel_l == "/health" and req.method in ("GET", "HEAD"):
            if _release_fault(faults, "unhealthy_release", app["version"]):
                body = json.dumps({"status": "Unhealthy", "version": app["version"]}, separators=(",", ":")).encode()
                return respond(503, body, "application/json; charset=utf-8")
            body = json.dumps({"status": "Healthy", "version": app["version"]}, separators=(",", ":")).encode()
            return respond(200, body, "application/json; charset=utf-8")
        if rel_l == "/swagger/index.html" and app["environment"].lower() != "production":
            return respond(200, b"<!DOCTYPE html><html><head><title>Swagger UI</title></head></html>",
                           "text/html;charset=utf-8")
        static = st.normpath(app_root + "\\wwwroot\\" + rel.strip("/").replace("/", "\\"))
        item = st.get_item(server, static) if rel.strip("/") else None
        if item is not None and item["type"] == "file":
            return respond(200, st.read_file(server, static), _guess_type(static))
        return respond(404, b"", "text/plain")

    physical = resolved["physical_path"]
    item = st.get_item(server, physical)
    if item is None:
        return respond(404, _iis_error(404, "File or directory not found."), "text/html")
    if item["type"] == "directory":
        docs = [a.get("value", "") for a in (apphost.findall("./system.webServer/defaultDocument/files/add")
                                             if apphost is not None else [])]
        for doc in docs:
            candidate = st.get_item(server, physical + "\\" + doc)
            if candidate is not None and candidate["type"] == "file":
                item, physical = candidate, candidate["path"]
                break
        else:
            return respond(403, _iis_error(403, "Forbidden: Access is denied."), "text/html")
    if req.method not in ("GET", "HEAD"):
        return respond(405, _iis_error(405, "HTTP verb used to access this page is not allowed."), "text/html")
    ext = "." + physical.rsplit(".", 1)[-1].lower() if "." in physical.rsplit("\\", 1)[-1] else ""
    mime = _mime_types(roots).get(ext)
    if mime is None or physical.rsplit("\\", 1)[-1].lower() == "web.config":
        return respond(404, _iis_error(404, "File or directory not found."), "text/html")
    data = st.read_file(server, physical)
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + ':0"'
    modified = _http_date(st.parse_iso(item["modified"]))
    return respond(200, data, mime, [("Last-Modified", modified), ("Accept-Ranges", "bytes"), ("ETag", etag)])


_PROXY_DEPTH = 0


def _front(ctx: ModuleContext, server: dict[str, t.Any], req: Request, parsed: urllib.parse.SplitResult,
           server_name: str | None, site: dict[str, t.Any], path: str,
           respond: t.Callable[..., Response]) -> Response | None:
    """URL Rewrite + ARR on ``site`` (``models/rewrite.py``): ``None`` when no rule applies, else the
    response (500.19 without the module, 404.4 without ARR/proxy, ARR's 502.3 when the target does not
    answer, or the target's response passed through)."""
    global _PROXY_DEPTH
    from . import rewrite

    kind, value = rewrite.rewrite(server, site, path)
    if kind == "none":
        return None
    if kind == "error":
        return respond(500, _iis_error(500, "Internal Server Error: Unrecognized configuration section "
                                       "system.webServer/rewrite (500.19)"), "text/html")
    if kind == "rewrite":
        return None  # a local rewrite: served as the path itself (not used by the roles)
    if not rewrite.can_proxy(server):
        return respond(404, _iis_error(404, "File or directory not found (404.4: no handler)."), "text/html")
    target = str(value) + (("?" + parsed.query) if parsed.query and "?" not in str(value) else "")
    if _PROXY_DEPTH > 4:
        return respond(502, _iis_error(502, "Web server received an invalid response while acting as a gateway "
                                       "or proxy server (502.3)."), "text/html")
    tparsed = urllib.parse.urlsplit(target)
    try:
        _PROXY_DEPTH += 1
        # ARR connects from the front host itself; the Host header is preserved.
        back = _serve(ctx, server, dataclasses.replace(req, url=target, validate_certs=False,
                                                       host_header=req.host_header or parsed.hostname),
                      tparsed, server_name) if (tparsed.hostname or "").lower() in (*LOOPBACK, *_names_of(server)) \
            else _send_once(ctx, dataclasses.replace(req, url=target, validate_certs=False))
    except WebError:
        return respond(502, _iis_error(502, "Web server received an invalid response while acting as a gateway "
                                       "or proxy server (502.3)."), "text/html")
    finally:
        _PROXY_DEPTH -= 1
    return Response(back.status, back.headers, back.body, req.url, req.method)


def _guess_type(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower()
    return {"html": "text/html", "htm": "text/html", "css": "text/css", "js": "application/javascript",
            "json": "application/json", "png": "image/png", "svg": "image/svg+xml"}.get(ext, "application/octet-stream")


def _config_error(path: str) -> bytes:
    """IIS 500.19 for a configuration file the worker identity cannot read."""
    return ("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html><head><title>IIS 10.0 Detailed "
            "Error - 500.19 - Internal Server Error</title></head><body><h3>HTTP Error 500.19 - Internal Server "
            "Error</h3><h4>The requested page cannot be accessed because the related configuration data for the page "
            "is invalid.</h4><ul><li>Error Code: 0x80070005</li><li>Config Error: Cannot read configuration file due "
            f"to insufficient permissions</li><li>Config File: \\\\?\\{path}</li></ul></body></html>").encode()


def _ancm_start_failure(hosting_model: str) -> tuple[int, bytes]:
    """ANCM's answer when the app does not start: 500.30 in-process,
    502.5 out-of-process."""
    if hosting_model == "outofprocess":
        title = "HTTP Error 502.5 - ANCM Out-Of-Process Startup Failure"
        return 502, (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
                     "<h2>Common solutions to this issue:</h2></body></html>").encode()
    title = "HTTP Error 500.30 - ASP.NET Core app failed to start"
    return 500, (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
                 "<h2>Common solutions to this issue:</h2><p>The app failed to start</p></body></html>").encode()


def _iis_error(status: int, text: str) -> bytes:
    return (f"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html><head><title>{status} - {text}"
            f"</title></head><body><h1>Server Error</h1><h2>{status} - {text}</h2></body></html>").encode()


def send(ctx: ModuleContext, req: Request) -> Response:
    """``GetResponse()`` for ``req``, following redirects the way
    ``follow_redirects``/``maximum_redirection`` allow.  Raises
    :class:`WebError` when no HTTP response comes back."""
    url = req.url
    for _ in range(max(req.maximum_redirection, 0) + 1):
        resp = _send_once(ctx, dataclasses.replace(req, url=url))
        location = resp.header("Location")
        follow = req.follow_redirects == "all" or (req.follow_redirects == "safe" and req.method in ("GET", "HEAD"))
        if resp.status in (301, 302, 303, 307, 308) and location and follow:
            url = urllib.parse.urljoin(url, location)
            continue
        return resp
    raise WebError("Too many automatic redirections were attempted.")


def _send_once(ctx: ModuleContext, req: Request) -> Response:
    parsed = urllib.parse.urlsplit(req.url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        path = urllib.parse.unquote(parsed.path).lstrip("/") if not parsed.netloc else \
            "\\\\" + parsed.netloc + urllib.parse.unquote(parsed.path)
        item = st.get_item(ctx.state, path)
        if item is None or item["type"] != "file":
            raise WebError(f"Could not find file '{st.normpath(path)}'.")
        return Response(200, [("Content-Length", str(item.get("size", 0)))], st.read_file(ctx.state, path),
                        req.url, req.method)
    if scheme not in ("http", "https"):
        raise WebError("The URI prefix is not recognized.")
    host = parsed.hostname or ""
    pkgs = ctx.state.get("packages") or {}
    if host.lower() in [h.lower() for h in pkgs.get("artifact_hosts", [])]:
        if scheme == "https" and req.validate_certs:
            error = artifact_tls_error(ctx, host)
            if error:
                raise WebError(error)
        code, info, data = packages.artifact(ctx.state, req.url)
        if code is None:
            raise WebError(info)
        body = data or b""
        hdrs = [("Content-Type", "application/octet-stream" if code == 200 else "text/html"),
                ("Server", "Microsoft-IIS/10.0"), ("Date", _http_date(ctx.now())), ("Content-Length", str(len(body)))]
        if code == 200:
            hdrs.insert(1, ("Last-Modified", _http_date(st.parse_iso(st.INSTALLED_AT))))
        return Response(code, hdrs, b"" if req.method == "HEAD" else body, req.url, req.method)
    server_name, server = resolve(ctx, host)
    return _serve(ctx, server, req, parsed, server_name)


# -- win_uri -------------------------------------------------------------------------

def snake_case(name: str) -> str:
    """``Convert-StringToSnakeCase`` (Ansible.ModuleUtils.CamelConversion)."""
    m = re.search(r"[A-Z]{3,}s", name)
    if m:
        replaced = re.sub(m.group(0), "_" + m.group(0).lower(), name)
        if replaced.startswith("_") and not name.startswith("_"):
            replaced = replaced[1:]
        name = replaced
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def _uri_json(url: str) -> dict[str, t.Any]:
    """``ConvertTo-Json`` of a ``System.Uri`` (Windows PowerShell 5.1)."""
    p = urllib.parse.urlsplit(url)
    scheme = p.scheme.lower()
    default = {"http": 80, "https": 443, "ftp": 21}.get(scheme, -1)
    port = p.port or default
    host = (p.hostname or "").lower()
    try:
        ip = ipaddress.ip_address(host)
        host_type = 3 if ip.version == 4 else 4
    except ValueError:
        host_type = 2 if host else 0
    path = p.path or "/"
    segments = [s + "/" for s in path.split("/")[1:-1]]
    segments = ["/", *segments] + ([path.rsplit("/", 1)[1]] if not path.endswith("/") else [])
    query = ("?" + p.query) if p.query else ""
    authority = host + ("" if port == default else f":{port}")
    return {
        "AbsolutePath": path, "AbsoluteUri": f"{scheme}://{authority}{path}{query}", "LocalPath": path,
        "Authority": authority, "HostNameType": host_type, "IsDefaultPort": port == default, "IsFile": False,
        "IsLoopback": host in ("localhost", "127.0.0.1", "::1"), "PathAndQuery": path + query, "Segments": segments,
        "IsUnc": False, "Host": host, "Port": port, "Query": query,
        "Fragment": ("#" + p.fragment) if p.fragment else "",
        "Scheme": scheme, "OriginalString": url, "DnsSafeHost": host, "IdnHost": host, "IsAbsoluteUri": True,
        "UserEscaped": False, "UserInfo": p.username or "",
    }


def _character_set(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*\"?([^;\"]+)", content_type, re.IGNORECASE)
    if m:
        return m.group(1).strip()
    return "ISO-8859-1" if content_type.strip().lower().startswith("text/") else ""


def response_properties(resp: Response, now: _dt.datetime) -> dict[str, t.Any]:
    """The snake-cased ``HttpWebResponse`` properties and headers ``win_uri`` returns."""
    ctype = resp.header("Content-Type")
    last = resp.header("Last-Modified")
    modified = email.utils.parsedate_to_datetime(last) if last else now
    length = resp.header("Content-Length")
    out: dict[str, t.Any] = {
        "is_mutually_authenticated": False,
        "cookies": [],
        "headers": [k for k, _ in resp.headers],
        "supports_headers": True,
        "content_length": int(length) if length is not None else -1,
        "content_encoding": resp.header("Content-Encoding") or "",
        "content_type": ctype or "",
        "character_set": _character_set(ctype),
        "server": resp.header("Server") or "",
        "last_modified": modified.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"),
        "status_code": resp.status,
        "status_description": resp.description,
        "protocol_version": {"Major": 1, "Minor": 1, "Build": -1, "Revision": -1, "MajorRevision": -1,
                             "MinorRevision": -1},
        "response_uri": _uri_json(resp.url),
        "method": resp.method,
        "is_from_cache": False,
    }
    for name, value in resp.headers:
        out[snake_case(name.replace("-", ""))] = value
    return out


def request_from_params(ctx: ModuleContext, url: str, method: str | None = None) -> Request:
    p = ctx.params
    return Request(
        url=url, method=(method or p.get("url_method") or "GET").upper(),
        validate_certs=bool(p.get("validate_certs", True)),
        authenticated=bool(p.get("use_default_credential") or p.get("url_username")),
        follow_redirects=p.get("follow_redirects") or "safe",
        maximum_redirection=int(p.get("maximum_redirection") if p.get("maximum_redirection") is not None else 50),
        host_header=next((str(v).split(":")[0] for k, v in (p.get("headers") or {}).items()
                          if str(k).lower() == "host"), None),
    )


def _path_exists(ctx: ModuleContext, path: str) -> bool:
    return st.exists(ctx.state, fs.resolve_path(ctx, path))


@model("ansible.windows.win_uri", upstream=_UPSTREAM)
def win_uri(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    url = p["url"]
    method = str(p.get("url_method") or "GET").upper()
    result = ctx.exit(elapsed=0, url=url)
    if not re.fullmatch(r"[A-Z]+", method):
        ctx.fail("Parameter 'method' needs to be a single word in uppercase, like GET or POST.")
    if p.get("creates") and _path_exists(ctx, p["creates"]):
        return ctx.exit(skipped=True, msg=f"The 'creates' file or directory ({p['creates']}) already exists.")
    if p.get("removes") and not _path_exists(ctx, p["removes"]):
        return ctx.exit(skipped=True, msg=f"The 'removes' file or directory ({p['removes']}) does not exist.")

    try:
        resp = send(ctx, request_from_params(ctx, url, method))
    except WebError as exc:
        result["elapsed"] = 0.0156
        ctx.fail("Unhandled exception occurred when sending web request. Exception: Exception calling "
                 f"\"GetResponse\" with \"0\" argument(s): \"{exc}\"")
    result["msg"] = resp.description
    result["status_code"] = resp.status
    result.update(response_properties(resp, ctx.now()))
    if p.get("return_content") or p.get("dest"):
        if p.get("return_content"):
            content = resp.body.decode("utf-8", "replace")
            result["content"] = content
            if re.search("text|json|javascript", result.get("content_type") or "", re.IGNORECASE) and content:
                with contextlib.suppress(ValueError):
                    result["json"] = json.loads(content)
        if p.get("dest"):
            dest = fs.resolve_path(ctx, p["dest"])
            changed = True
            if st.exists(ctx.state, dest) and st.get_item(ctx.state, dest)["type"] == "file":
                current = hashlib.sha256(st.read_file(ctx.state, dest)).hexdigest()
                changed = current != hashlib.sha256(resp.body).hexdigest()
            result["changed"] = changed
            if changed and not ctx.check_mode:
                try:
                    fs.write_bytes(ctx, dest, resp.body)
                except (FileNotFoundError, st.DiskFull) as exc:
                    reason = fs.disk_full_message() if isinstance(exc, st.DiskFull) else \
                        f"Could not find a part of the path '{dest}'."
                    ctx.fail("Unhandled exception occurred when sending web request. Exception: Exception calling "
                             f"\"Create\" with \"1\" argument(s): \"{reason}\"")
    result["elapsed"] = 0.0156
    if resp.status not in (p.get("status_code") or [200]):
        codes = " ".join(str(c) for c in p.get("status_code") or [200])
        ctx.fail(f"Status code of request '{resp.status}' is not in list of valid status codes {codes} : "
                 f"{resp.enum_name}'.")
    return result
