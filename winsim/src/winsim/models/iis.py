"""IIS models: ``microsoft.iis`` 1.3.0 against the host's ``state["iis"]``.

Modelled from the installed module sources (``plugins/modules/*.ps1`` of
microsoft.iis 1.3.0), one file per area: ``iis_pools.py`` (``web_app_pool``,
``web_app_pool_info``), ``iis_sites.py`` (``website``, ``website_info``),
``iis_apps.py`` (``web_application``, ``web_application_info``,
``virtual_directory``, ``virtual_directory_info``) and ``iis_auth.py``
(``authentication``).  This file owns the ``iis`` state section, the value
semantics and the lookups the other models (``http.py``, ``features.py``)
share.  The named drifts that edit IIS state (``winsim drift``) are
registered next to the models they mirror (``iis_sites.py``, ``iis_pools.py``).

State section ``iis`` (owned here)
----------------------------------
A fresh host has no IIS: ``{"installed": false, "app_pools": {}, "sites": {},
"authentication": {}}``.  ``models/features.py`` calls
:func:`ensure_iis_baseline` when the ``Web-Server`` feature gets installed and
:func:`remove_iis` when it is removed.  Once installed::

    state["iis"] = {
      "installed": true,
      "authentication": {          # server-level (applicationHost) defaults
        "AnonymousAuthentication": {"enabled": true},
        "WindowsAuthentication": {"enabled": false, "providers": ["Negotiate", "NTLM"],
                                  "use_kernel_mode": true, "token_checking": "None"},
        "BasicAuthentication": {"enabled": false}, ...},
      "app_pools": {NAME: {
        "name": NAME,
        "state": "Started" | "Stopped",
        "attributes": {            # every attribute, flat, keyed by its IIS path
          "managedRuntimeVersion": "v4.0", "managedPipelineMode": "Integrated",
          "startMode": "OnDemand", "autoStart": true, "queueLength": 1000,
          "processModel.identityType": "ApplicationPoolIdentity",
          "processModel.userName": "", "processModel.password": "" | "sha256:<hex>",
          "processModel.idleTimeout": "00:20:00", "recycling.periodicRestart.time": "1.05:00:00",
          "recycling.periodicRestart.schedule": ["00:10:00"], "cpu.limit": 0, ...}}},
      "sites": {NAME: {
        "name": NAME, "id": 1, "state": "Started" | "Stopped",
        "physical_path": "%SystemDrive%\\inetpub\\wwwroot",   # raw, as IIS stores it
        "application_pool": "DefaultAppPool", "preload_enabled": false,
        "bindings": [{"protocol": "http" | "https", "ip": "*", "port": 80, "hostname": "",
                      "use_sni": false, "use_ccs": false,
                      "certificate_hash": "" | "THUMBPRINT", "certificate_store_name": "" | "My"}],
        "applications": {"/api": {"path": "/api", "application_pool": ..., "physical_path": ...,
                                  "enabled_protocols": "http", "username": "", "password": ""}},
        "virtual_directories": {"/api/docs": {"path": "/docs", "application": "/api",
                                              "physical_path": ..., "username": "", "password": ""}},
        "authentication": {"/": {"WindowsAuthentication": {"enabled": true}},
                           "/api": {"AnonymousAuthentication": {"enabled": false}}}}}}

Times are .NET ``TimeSpan.ToString("c")`` strings, enums their names, flags
the comma-joined names, passwords only as ``sha256:`` digests (never clear
text).  The site's ``authentication`` holds only what was set explicitly at a
location (``/`` = the site root, ``/app`` = an application or virtual
directory); :func:`effective_authentication` resolves inheritance
(server → site → application), which is what the HTTP model uses to answer
401 on paths where anonymous authentication is off.  :func:`resolve_url`
maps a URL path to its application, app pool and physical path.

``C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config`` (written by
``models/features.py`` on install) carries the global settings that roles
edit with ``community.windows.win_xml`` (custom headers, request filtering,
directory browsing, ``siteDefaults``); sites and pools live here, not in
that file.

Faults consumed: ``app_pool_start`` (target: pool name, optional
``message``) makes starting/restarting that pool fail; ``site_start``
(target: site name) does the same for a site.

Fidelity notes (deliberate, documented divergences):

* Messages raised by the IIS configuration system itself (unknown attribute,
  invalid enum value, out-of-range number, duplicate key) reproduce the kind
  and wording of the real errors as closely as known; the modules' own
  messages are exact.
* ``website`` in check mode: the real module rebinds the certificate of an
  existing binding (``AddSslCertificate``) even in check mode; winsim reports
  the change but never mutates state in check mode.
* Two started sites with the same ``ip:port:hostname`` cannot both run: a
  start fails with the real HRESULT 0x800700B7.  A started site without any
  binding cannot start (0x800710D8).
"""

from __future__ import annotations

import copy
import hashlib
import re
import struct
import typing as t

from .. import secrets
from .. import state as st
from ..drift import DriftError, find_named
from ..pwsh import ps_str
from ._base import ModuleContext

__all__ = [
    "effective_authentication",
    "ensure_iis_baseline",
    "find_pool",
    "find_site",
    "password_digest",
    "remove_iis",
    "resolve_url",
]

UPSTREAM = "microsoft.iis 1.3.0"

_DICT_TYPE = "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
_NO_WEBADMIN = ("The specified module 'WebAdministration' was not loaded because no valid module file "
                "was found in any module directory.")
_HR_ALREADY_EXISTS = "Cannot create a file when that file already exists. (Exception from HRESULT: 0x800700B7)"
_HR_INVALID_OBJECT = "The object identifier does not represent a valid object. (Exception from HRESULT: 0x800710D8)"
_HR_CANNOT_ACCEPT = ("The service cannot accept control messages at this time. "
                     "(Exception from HRESULT: 0x80070425)")

AUTH_TYPES = (
    "AnonymousAuthentication",
    "BasicAuthentication",
    "ClientCertificateMappingAuthentication",
    "DigestAuthentication",
    "IISClientCertificateMappingAuthentication",
    "WindowsAuthentication",
)


@st.section("iis")
def _fresh_iis() -> dict[str, t.Any]:
    return {"installed": False, "app_pools": {}, "sites": {}, "authentication": {}}


# -- PowerShell value semantics ---------------------------------------------

def password_digest(value: str) -> str:
    """What winsim stores instead of a password: never the clear text
    (``secrets.equality_digest``; ``""`` for no password)."""
    return secrets.equality_digest(value) or ""


def _ps_str(value: t.Any) -> str:
    """``[string]$value`` as PowerShell renders it (``pwsh.ps_str``)."""
    return ps_str(value)


def _ps_eq(left: t.Any, right: t.Any) -> bool:
    """PowerShell ``-eq`` with the left operand's type deciding the
    comparison (strings compare case-insensitively; a failed conversion of
    the right operand means "not equal")."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, str):
        return left.lower() == _ps_str(right).lower()
    if isinstance(left, bool):
        return left == _as_bool(right)
    if isinstance(left, int):
        conv = _as_int(right, -(2 ** 63), 2 ** 64)
        return conv is not None and conv == left
    if isinstance(left, _TimeSpan):
        conv = _as_timespan(right)
        return conv is not None and conv.ticks == left.ticks
    return bool(left == right)


def _as_bool(value: t.Any) -> bool:
    """``$value -as [bool]``: any non-empty string is ``$true``."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (list, dict)):
        return len(value) > 0
    return True


def _as_int(value: t.Any, lo: int, hi: int) -> int | None:
    """``$value -as [UInt32]`` / ``[Int32]``: ``None`` when not convertible."""
    if isinstance(value, bool):
        result = int(value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float):
        result = round(value)  # .NET rounds half to even, as Python does
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            result = int(text)
        elif re.fullmatch(r"0x[0-9a-fA-F]+", text):
            result = int(text, 16)
        else:
            return None
    else:
        return None
    if result < lo or result > hi:
        return None
    return result


class _TimeSpan:
    """A .NET ``System.TimeSpan`` (100 ns ticks)."""

    TICKS_PER_SECOND = 10_000_000

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TimeSpan) and other.ticks == self.ticks

    def __hash__(self) -> int:
        return hash(self.ticks)

    def __repr__(self) -> str:
        return f"TimeSpan({self.format()})"

    @property
    def total_seconds(self) -> float:
        return self.ticks / self.TICKS_PER_SECOND

    def ps_format(self) -> str:
        return self.format()

    def format(self) -> str:
        """``ToString("c")``: ``[-][d.]hh:mm:ss[.fffffff]``."""
        ticks = abs(self.ticks)
        sign = "-" if self.ticks < 0 else ""
        days, rem = divmod(ticks, 86400 * self.TICKS_PER_SECOND)
        hours, rem = divmod(rem, 3600 * self.TICKS_PER_SECOND)
        minutes, rem = divmod(rem, 60 * self.TICKS_PER_SECOND)
        seconds, frac = divmod(rem, self.TICKS_PER_SECOND)
        out = f"{sign}{str(days) + '.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
        if frac:
            out += f".{frac:07d}"
        return out

    @classmethod
    def parse(cls, text: str) -> _TimeSpan | None:
        """``[TimeSpan]::Parse($text, [CultureInfo]::InvariantCulture)``;
        ``None`` where .NET throws."""
        s = text.strip()
        m = re.fullmatch(r"(-)?(\d+)", s)
        if m:
            days = int(m.group(2))
            if days > 10675199:
                return None
            ticks = days * 86400 * cls.TICKS_PER_SECOND
            return cls(-ticks if m.group(1) else ticks)
        m = re.fullmatch(r"(-)?(?:(\d+)[.:])?(\d+):(\d+)(?::(\d+)(?:\.(\d{1,7}))?)?", s)
        if not m:
            return None
        neg, days, hours, minutes, seconds, frac = m.groups()
        # "a:b:c" is hh:mm:ss for .NET; only "d.hh:mm" carries days without seconds.
        if days is not None and seconds is None and s.count(":") == 2 and "." not in s:
            days, hours, minutes, seconds = None, days, hours, minutes
        h, mi = int(hours), int(minutes)
        sec = int(seconds) if seconds is not None else 0
        if h > 23 or mi > 59 or sec > 59:
            return None
        ticks = ((int(days or 0) * 24 + h) * 60 + mi) * 60 + sec
        ticks *= cls.TICKS_PER_SECOND
        if frac:
            ticks += int(frac.ljust(7, "0"))
        return cls(-ticks if neg else ticks)


def _as_timespan(value: t.Any) -> _TimeSpan | None:
    """``$value -as [TimeSpan]``: strings are parsed, integers are ticks."""
    if isinstance(value, _TimeSpan):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _TimeSpan(value)
    if isinstance(value, float):
        return _TimeSpan(round(value))
    if isinstance(value, str):
        return _TimeSpan.parse(value)
    return None


# -- the application pool schema (IIS 10, applicationHost schema) -------------

_ENUMS: dict[str, dict[str, int]] = {
    "managedPipelineMode": {"Integrated": 0, "Classic": 1},
    "startMode": {"OnDemand": 0, "AlwaysRunning": 1},
    "processModel.identityType": {"LocalSystem": 0, "LocalService": 1, "NetworkService": 2,
                                  "SpecificUser": 3, "ApplicationPoolIdentity": 4},
    "processModel.logonType": {"LogonBatch": 0, "LogonService": 1},
    "processModel.idleTimeoutAction": {"Terminate": 0, "Suspend": 1},
    "cpu.action": {"NoAction": 0, "KillW3wp": 1, "Throttle": 2, "ThrottleUnderLoad": 3},
    "cpu.numaNodeAssignment": {"MostAvailableMemory": 0, "WindowsScheduling": 1},
    "cpu.numaNodeAffinityMode": {"Soft": 0, "Hard": 1},
    "failure.loadBalancerCapabilities": {"TcpLevel": 1, "HttpLevel": 2},
}

_FLAGS: dict[str, list[tuple[str, int]]] = {
    "processModel.logEventOnProcessModel": [("IdleTimeout", 1)],
    "recycling.logEventOnRecycle": [("Time", 1), ("Requests", 2), ("Schedule", 4), ("Memory", 8),
                                    ("IsapiUnhealthy", 16), ("OnDemand", 32), ("ConfigChange", 64),
                                    ("PrivateMemory", 128)],
}

_U32 = (0, 4294967295)
# attribute path -> (schema type, default as stored in state, (lo, hi) validator range)
_POOL_SCHEMA: dict[str, tuple[str, t.Any, tuple[int, int] | None]] = {
    "name": ("string", "", None),
    "queueLength": ("uint", 1000, (10, 65535)),
    "autoStart": ("bool", True, None),
    "enable32BitAppOnWin64": ("bool", False, None),
    "managedRuntimeVersion": ("string", "v4.0", None),
    "managedRuntimeLoader": ("string", "webengine4.dll", None),
    "enableConfigurationOverride": ("bool", True, None),
    "managedPipelineMode": ("enum", "Integrated", None),
    "CLRConfigFile": ("string", "", None),
    "passAnonymousToken": ("bool", True, None),
    "startMode": ("enum", "OnDemand", None),
    "applicationPoolSid": ("string", "", None),
    "processModel.identityType": ("enum", "ApplicationPoolIdentity", None),
    "processModel.userName": ("string", "", None),
    "processModel.password": ("password", "", None),
    "processModel.loadUserProfile": ("bool", True, None),
    "processModel.setProfileEnvironment": ("bool", False, None),
    "processModel.logonType": ("enum", "LogonBatch", None),
    "processModel.manualGroupMembership": ("bool", False, None),
    "processModel.idleTimeout": ("timeSpan", "00:20:00", None),
    "processModel.idleTimeoutAction": ("enum", "Terminate", None),
    "processModel.maxProcesses": ("uint", 1, (0, 2147483647)),
    "processModel.shutdownTimeLimit": ("timeSpan", "00:01:30", None),
    "processModel.startupTimeLimit": ("timeSpan", "00:01:30", None),
    "processModel.pingingEnabled": ("bool", True, None),
    "processModel.pingInterval": ("timeSpan", "00:00:30", None),
    "processModel.pingResponseTime": ("timeSpan", "00:01:30", None),
    "processModel.logEventOnProcessModel": ("flags", "IdleTimeout", None),
    "processModel.requestQueueDelegatorIdentity": ("string", "", None),
    "recycling.disallowOverlappingRotation": ("bool", False, None),
    "recycling.disallowRotationOnConfigChange": ("bool", False, None),
    "recycling.logEventOnRecycle": ("flags", "Time,Requests,Schedule,Memory,IsapiUnhealthy,OnDemand,"
                                             "ConfigChange,PrivateMemory", None),
    "recycling.periodicRestart.memory": ("uint", 0, None),
    "recycling.periodicRestart.privateMemory": ("uint", 0, None),
    "recycling.periodicRestart.requests": ("uint", 0, None),
    "recycling.periodicRestart.time": ("timeSpan", "1.05:00:00", None),
    "recycling.periodicRestart.schedule": ("collection", [], None),
    "cpu.limit": ("uint", 0, (0, 100000)),
    "cpu.action": ("enum", "NoAction", None),
    "cpu.resetInterval": ("timeSpan", "00:05:00", None),
    "cpu.smpAffinitized": ("bool", False, None),
    "cpu.smpProcessorAffinityMask": ("uint", 4294967295, None),
    "cpu.smpProcessorAffinityMask2": ("uint", 4294967295, None),
    "cpu.processorGroup": ("int", 0, None),
    "cpu.numaNodeAssignment": ("enum", "MostAvailableMemory", None),
    "cpu.numaNodeAffinityMode": ("enum", "Soft", None),
    "failure.loadBalancerCapabilities": ("enum", "HttpLevel", None),
    "failure.orphanWorkerProcess": ("bool", False, None),
    "failure.orphanActionExe": ("string", "", None),
    "failure.orphanActionParams": ("string", "", None),
    "failure.rapidFailProtection": ("bool", True, None),
    "failure.rapidFailProtectionInterval": ("timeSpan", "00:05:00", None),
    "failure.rapidFailProtectionMaxCrashes": ("uint", 5, None),
    "failure.autoShutdownExe": ("string", "", None),
    "failure.autoShutdownParams": ("string", "", None),
}
_POOL_KEYS = {k.lower(): k for k in _POOL_SCHEMA}


def _pool_sid(name: str) -> str:
    """The ``IIS APPPOOL\\<name>`` virtual account SID (S-1-5-82 + SHA-1 of
    the lower-cased name)."""
    digest = hashlib.sha1(name.lower().encode("utf-16-le")).digest()
    return "S-1-5-82-" + "-".join(str(p) for p in struct.unpack("<5I", digest))


def _new_pool(name: str, started: bool = True) -> dict[str, t.Any]:
    attributes = {k: copy.deepcopy(v[1]) for k, v in _POOL_SCHEMA.items()}
    attributes["name"] = name
    attributes["applicationPoolSid"] = _pool_sid(name)
    return {"name": name, "state": "Started" if started else "Stopped", "attributes": attributes}


def _binding(protocol: str, ip: str, port: int, hostname: str, use_sni: bool = False, use_ccs: bool = False,
             certificate_hash: str = "", certificate_store_name: str = "") -> dict[str, t.Any]:
    return {"protocol": protocol, "ip": ip, "port": port, "hostname": hostname, "use_sni": use_sni,
            "use_ccs": use_ccs, "certificate_hash": certificate_hash,
            "certificate_store_name": certificate_store_name}


def _new_site(name: str, site_id: int, physical_path: str, pool: str, bindings: list[dict[str, t.Any]],
              run_state: str) -> dict[str, t.Any]:
    return {"name": name, "id": site_id, "state": run_state, "physical_path": physical_path,
            "application_pool": pool, "preload_enabled": False, "server_auto_start": True,
            "bindings": bindings, "applications": {}, "virtual_directories": {}, "authentication": {}}


def _default_authentication() -> dict[str, dict[str, t.Any]]:
    return {
        "AnonymousAuthentication": {"enabled": True},
        "BasicAuthentication": {"enabled": False},
        "ClientCertificateMappingAuthentication": {"enabled": False},
        "DigestAuthentication": {"enabled": False},
        "IISClientCertificateMappingAuthentication": {"enabled": False},
        "WindowsAuthentication": {"enabled": False, "providers": ["Negotiate", "NTLM"],
                                  "use_kernel_mode": True, "token_checking": "None"},
    }


# -- install / uninstall (called by models/features.py) -------------------------

def ensure_iis_baseline(state: dict[str, t.Any], when: str) -> bool:
    """Make ``state["iis"]`` look like a host where the ``Web-Server`` role
    was just installed: ``DefaultAppPool`` (started, IIS 10 defaults),
    ``Default Web Site`` (id 1, ``%SystemDrive%\\inetpub\\wwwroot``,
    ``http *:80:``, started) and the server-level authentication defaults;
    the default site's folder is created if missing.  ``when`` is the ISO
    timestamp of the install.  Returns whether anything changed (no-op if IIS
    is present).

    ``models/features.py`` calls this when ``Web-Server`` gets installed and
    owns the rest of the install (services, ``applicationHost.config``,
    ``iisstart.htm``, firewall rules, rights)."""
    iis = state.setdefault("iis", _fresh_iis())
    if iis.get("installed"):
        return False
    iis["installed"] = True
    iis["authentication"] = _default_authentication()
    iis["app_pools"] = {"DefaultAppPool": _new_pool("DefaultAppPool")}
    iis["sites"] = {
        "Default Web Site": _new_site(
            "Default Web Site", 1, "%SystemDrive%\\inetpub\\wwwroot", "DefaultAppPool",
            [_binding("http", "*", 80, "")], "Started"),
    }
    st.make_dirs(state, "C:\\inetpub\\wwwroot", when)
    return True


def remove_iis(state: dict[str, t.Any]) -> bool:
    """Uninstall of ``Web-Server``: sites, pools and their configuration go
    away (``models/features.py`` removes the binaries and
    ``applicationHost.config``; content under ``C:\\inetpub`` stays)."""
    iis = state.get("iis")
    if not iis or not iis.get("installed"):
        return False
    state["iis"] = _fresh_iis()
    return True


# -- lookups shared with other models ---------------------------------------------

def _iis(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state.get("iis") or _fresh_iis()


def find_pool(state: dict[str, t.Any], name: str | None) -> dict[str, t.Any] | None:
    """Application pool by name (case-insensitive, as IIS matches)."""
    if name is None:
        return None
    pools = _iis(state)["app_pools"]
    for key, pool in pools.items():
        if key.lower() == name.lower():
            return pool
    return None


def find_site(state: dict[str, t.Any], name: str | None) -> dict[str, t.Any] | None:
    """Site by name (case-insensitive)."""
    if name is None:
        return None
    for key, site in _iis(state)["sites"].items():
        if key.lower() == name.lower():
            return site
    return None


def _app_key(name: str) -> str:
    return "/" + name.replace("\\", "/").strip("/")


def _find_app(site: dict[str, t.Any], path: str) -> tuple[str, dict[str, t.Any]] | None:
    for key, app in site["applications"].items():
        if key.lower() == path.lower():
            return key, app
    return None


def effective_authentication(state: dict[str, t.Any], site_name: str, path: str = "/") -> dict[str, dict[str, t.Any]]:
    """The authentication settings in force for ``path`` (a URL path such as
    ``/`` or ``/api/orders``) of ``site_name``: server defaults overlaid by
    the settings stored at each enclosing location of the site."""
    site = find_site(state, site_name)
    result = copy.deepcopy(_iis(state).get("authentication") or _default_authentication())
    if site is None:
        return result
    locations = site.get("authentication", {})
    segments = [s for s in path.replace("\\", "/").split("/") if s]
    chain = ["/"] + ["/" + "/".join(segments[:i]) for i in range(1, len(segments) + 1)]
    lowered = {k.lower(): v for k, v in locations.items()}
    for loc in chain:
        for auth_type, props in lowered.get(loc.lower(), {}).items():
            result.setdefault(auth_type, {}).update(copy.deepcopy(props))
    return result


def resolve_url(state: dict[str, t.Any], site_name: str, path: str) -> dict[str, t.Any] | None:
    """Map a URL path of a site to what serves it: ``{"application": "/api",
    "application_pool": ..., "physical_path": <expanded Windows path>}``
    (``None`` if the site does not exist)."""
    site = find_site(state, site_name)
    if site is None:
        return None
    url = "/" + path.split("?", 1)[0].replace("\\", "/").strip("/")
    url_l = url.lower()

    def under(prefix: str) -> bool:
        p = prefix.lower().rstrip("/")
        return url_l == p or url_l.startswith(p + "/") or p == ""

    app_path, pool, root = "/", site["application_pool"], site["physical_path"]
    for key, app in sorted(site["applications"].items(), key=lambda kv: len(kv[0])):
        if under(key):
            app_path, pool, root = key, app["application_pool"], app["physical_path"]
    base, physical = app_path, root
    for key, vdir in sorted(site["virtual_directories"].items(), key=lambda kv: len(kv[0])):
        if under(key) and len(key) > len(base.rstrip("/")):
            base, physical = key, vdir["physical_path"]
    rest = url[len(base.rstrip("/")):].strip("/")
    full = st.normpath(physical, state)
    if rest:
        full = st.normpath(full + "\\" + rest.replace("/", "\\"))
    return {"application": app_path, "application_pool": pool, "physical_path": full}


# -- shared module plumbing ----------------------------------------------------------

def _require_webadministration(ctx: ModuleContext, prefix: str | None = None) -> None:
    """``Import-Module WebAdministration`` fails on a host without IIS."""
    if _iis(ctx.state).get("installed"):
        return
    if prefix is None:
        ctx.fail(f"Unhandled exception while executing module: {_NO_WEBADMIN}")
    ctx.fail(prefix + _NO_WEBADMIN)


def _test_path(ctx: ModuleContext, path: str | None) -> bool:
    """``Test-Path -LiteralPath``: no environment expansion, absolute only."""
    if not path or "%" in path or not st.is_absolute(path):
        return False
    return st.exists(ctx.state, path)


def _full_name(path: str) -> str:
    """``(Get-Item -LiteralPath $path).FullName``: separators normalised,
    ``.``/``..`` resolved, case and a trailing separator kept."""
    p = path.replace("/", "\\")
    trailing = p.endswith("\\") and not re.fullmatch(r"[A-Za-z]:\\", p)
    m = re.match(r"^([A-Za-z]:)(.*)$", p)
    drive, rest = (m.group(1), m.group(2)) if m else ("", p)
    parts = st.resolve_segments(rest)
    out = drive + "\\" + "\\".join(parts)
    return out + "\\" if trailing and parts else out


def _fault_message(fault: dict[str, t.Any], default: str) -> str:
    return str(fault.get("message") or fault.get("msg") or default)


# -- drifts (registered in iis_sites.py / iis_pools.py) ---------------------------

def drift_iis(state: dict[str, t.Any]) -> dict[str, t.Any]:
    iis = state.get("iis")
    if not isinstance(iis, dict) or "sites" not in iis or iis.get("installed") is False:
        raise DriftError("IIS is not installed on this host (no iis section; install feature Web-Server first)")
    return iis


def set_named_state(collection: dict[str, t.Any], name: str, what: str, value: str) -> str:
    """Drift helper: set the ``state`` of the site or pool ``name`` in
    ``collection`` (as Start-/Stop-Website and -WebAppPool do); returns the
    drift's description."""
    key, item = find_named(collection, name, what)
    before = item.get("state")
    item["state"] = value
    label = "site" if what == "IIS site" else "app pool"
    return f"{label} {key}: state {before} -> {value}"
