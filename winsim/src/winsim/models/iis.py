"""IIS models: ``microsoft.iis`` 1.3.0 against the host's ``state["iis"]``.

Modelled from the installed module sources (``plugins/modules/*.ps1`` of
microsoft.iis 1.3.0): ``web_app_pool``, ``web_app_pool_info``, ``website``,
``website_info``, ``web_application``, ``web_application_info``,
``virtual_directory``, ``virtual_directory_info`` and ``authentication``.

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
from ..pwsh import ps_str
from ._base import ModuleContext, model

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


# -- microsoft.iis.web_app_pool ------------------------------------------------------

class _Meta(t.NamedTuple):
    key: str  # canonical attribute path
    kind: str


def _pool_meta(attribute_key: str) -> _Meta | None:
    canonical = _POOL_KEYS.get(attribute_key.lower())
    if canonical is None:
        return None
    return _Meta(canonical, _POOL_SCHEMA[canonical][0])


def _to_list(value: t.Any) -> list[t.Any]:
    """``Convert-CollectionToList``."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")]
    if isinstance(value, list):
        return list(value)
    return [value]


def _convert(meta: _Meta | None, value: t.Any) -> t.Any:
    """``Convert-ToPropertyValue``: the value the module compares and sets.
    Enums become their integer value (the attribute's .NET type is Int32),
    times a TimeSpan, numbers and booleans are cast with ``-as``; a value
    that does not cast is kept as given."""
    if meta is None:
        return value
    kind = meta.kind
    if kind == "collection":
        return _to_list(value)
    if kind == "enum":
        names = _ENUMS[meta.key]
        for enum_name, number in names.items():
            if enum_name.lower() == _ps_str(value).lower():
                return number
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    if kind == "bool":
        return _as_bool(value)
    if kind == "uint":
        cast = _as_int(value, *_U32)
        return value if cast is None else cast
    if kind == "int":
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    if kind == "timeSpan":
        cast = _as_timespan(value)
        return value if cast is None else cast
    if kind == "flags":
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    # string / password
    return _ps_str(value)


def _current_raw(pool: dict[str, t.Any], meta: _Meta | None) -> t.Any:
    """``Get-ItemProperty -Name <attribute>`` (``$null`` for an unknown one)."""
    if meta is None:
        return None
    stored = pool["attributes"].get(meta.key, _POOL_SCHEMA[meta.key][1])
    if meta.kind == "timeSpan":
        return _TimeSpan.parse(stored)
    return copy.deepcopy(stored)


def _compare_changed(current: t.Any, new: t.Any) -> bool:
    """``Compare-Value``."""
    if current is None:
        return True
    if isinstance(current, list):
        if not isinstance(new, list) or len(current) != len(new):
            return True
        return any(not _ps_eq(c, n) for c, n in zip(current, new, strict=True))
    return not _ps_eq(current, new)


def _pool_property_error(ctx: ModuleContext, name: str, attribute: str) -> str:
    return (f"Property {attribute} is not found on  \\\\{ctx.state['host']['hostname']}\\AppPools\\{name}."
            "\r\nParameter name: propName")


def _stored_value(ctx: ModuleContext, name: str, meta: _Meta | None, attribute_key: str,
                  new_value: t.Any) -> t.Any:
    """What ``Set-ItemProperty`` writes, or the IIS error it raises (as a
    ``ValueError`` carrying the exception message)."""
    if meta is None:
        raise ValueError(_pool_property_error(ctx, name, attribute_key))
    kind = meta.kind
    lo_hi = _POOL_SCHEMA[meta.key][2]
    if kind == "enum":
        names = _ENUMS[meta.key]
        if isinstance(new_value, int) and not isinstance(new_value, bool):
            for enum_name, number in names.items():
                if number == new_value:
                    return enum_name
        raise ValueError(f"Enum must be one of {', '.join(names)}")
    if kind == "flags":
        flags = _FLAGS[meta.key]
        if isinstance(new_value, int) and not isinstance(new_value, bool):
            if new_value & ~sum(v for _, v in flags):
                raise ValueError(f"Flags must be some combination of {', '.join(n for n, _ in flags)}")
            return ",".join(n for n, v in flags if new_value & v)
        wanted = [p.strip().lower() for p in _ps_str(new_value).split(",") if p.strip()]
        known = {n.lower(): n for n, _ in flags}
        if any(w not in known for w in wanted):
            raise ValueError(f"Flags must be some combination of {', '.join(n for n, _ in flags)}")
        return ",".join(n for n, _ in flags if n.lower() in wanted)
    if kind in ("uint", "int"):
        if not isinstance(new_value, int) or isinstance(new_value, bool):
            type_name = "System.UInt32" if kind == "uint" else "System.Int32"
            raise ValueError(f'Cannot convert value "{_ps_str(new_value)}" to type "{type_name}". '
                             'Error: "Input string was not in a correct format."')
        if lo_hi and not lo_hi[0] <= new_value <= lo_hi[1]:
            raise ValueError(f"Value must be between {lo_hi[0]} and {lo_hi[1]}")
        return new_value
    if kind == "timeSpan":
        if not isinstance(new_value, _TimeSpan):
            raise ValueError(f'Cannot convert value "{_ps_str(new_value)}" to type "System.TimeSpan". '
                             'Error: "String was not recognized as a valid TimeSpan."')
        return new_value.format()
    if kind == "password":
        return password_digest(_ps_str(new_value))
    if kind == "bool":
        return bool(new_value)
    return _ps_str(new_value)


def _schedule_value(value: t.Any) -> str:
    """One ``recycling.periodicRestart.schedule`` entry as IIS stores it."""
    span = _as_timespan(value)
    if span is None:
        raise ValueError(f'Cannot convert value "{_ps_str(value)}" to type "System.TimeSpan". '
                         'Error: "String was not recognized as a valid TimeSpan."')
    return span.format()


def _pool_current_for_compare(pool: dict[str, t.Any], meta: _Meta | None, attribute_key: str) -> t.Any:
    raw = _current_raw(pool, meta)
    if meta is not None and meta.kind == "password":
        return raw  # the digest; compared against the digest of the new value
    if meta is not None and meta.kind == "enum":
        return _ENUMS[meta.key].get(raw, raw)
    if meta is not None and meta.kind == "flags":
        return raw  # Get-ItemProperty renders flags as their names
    if meta is not None and meta.kind == "collection":
        return list(raw)
    return raw


@model("microsoft.iis.web_app_pool", upstream=UPSTREAM, partial_on_failure=True)
def web_app_pool(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove, configure and start/stop an application pool."""
    name: str = ctx.params["name"]
    state: str = ctx.params["state"]
    attributes: dict[str, t.Any] = ctx.params.get("attributes") or {}
    _require_webadministration(ctx)
    pools = ctx.state["iis"]["app_pools"]

    pool = find_pool(ctx.state, name)
    if state == "absent":
        if pool is not None:
            if not ctx.check_mode:
                del pools[pool["name"]]
            ctx.changed()
        return ctx.exit()

    if pool is None:
        if not ctx.check_mode:
            fault = ctx.faults.find("app_pool_start", name)
            pool = _new_pool(name, started=fault is None)
            pools[name] = pool
        ctx.changed()
    if pool is None:  # check mode: the pool does not exist yet, nothing more to compare
        return ctx.exit()

    initial_state = pool["state"]
    for attribute_key, raw_value in attributes.items():
        meta = _pool_meta(attribute_key)
        if meta is not None and meta.kind == "password":
            new_value: t.Any = password_digest(_ps_str(raw_value))
        else:
            new_value = _convert(meta, raw_value)
        current = _pool_current_for_compare(pool, meta, attribute_key)
        if not _compare_changed(current, new_value):
            continue
        ctx.changed()
        if ctx.check_mode:
            continue
        if isinstance(new_value, list):
            try:
                if meta is None or meta.kind != "collection":
                    raise ValueError(_pool_property_error(ctx, name, attribute_key))
            except ValueError as exc:
                ctx.fail(f"Failed to clear attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                         f"Exception: {exc}")
            entries: list[str] = []
            for value in new_value:
                try:
                    entries.append(_schedule_value(value))
                except ValueError as exc:
                    pool["attributes"][meta.key] = entries
                    ctx.fail(f"Failed to add new attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                             f"Value: {_ps_str(value)}, Exception: {exc}")
            pool["attributes"][meta.key] = entries
        else:
            try:
                if meta is not None and meta.kind == "password":
                    stored = new_value
                else:
                    stored = _stored_value(ctx, name, meta, attribute_key, new_value)
            except ValueError as exc:
                ctx.fail(f"Failed to set attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                         f"Value: {_ps_str(new_value)}, Exception: {exc}")
            pool["attributes"][meta.key] = stored

    if initial_state == "Stopped":
        if state in ("started", "restarted"):
            if not ctx.check_mode:
                fault = ctx.faults.find("app_pool_start", name)
                if fault is not None:
                    ctx.fail(f"Failed to start Web App Pool {name}: {_fault_message(fault, _HR_CANNOT_ACCEPT)}")
                pool["state"] = "Started"
            ctx.changed()
    else:
        if state == "stopped":
            if not ctx.check_mode:
                pool["state"] = "Stopped"
            ctx.changed()
        elif state == "restarted":
            if not ctx.check_mode:
                fault = ctx.faults.find("app_pool_start", name)
                if fault is not None:
                    pool["state"] = "Stopped"
                    ctx.fail(f"Failed to restart Web App Pool {name}: {_fault_message(fault, _HR_CANNOT_ACCEPT)}")
            ctx.changed()
    return ctx.exit()


# -- microsoft.iis.web_app_pool_info -------------------------------------------------

def _pool_info(pool: dict[str, t.Any]) -> dict[str, t.Any]:
    attrs: dict[str, t.Any] = {}
    for key, (kind, default, _range) in _POOL_SCHEMA.items():
        if "password" in key.lower() or kind == "collection":
            continue
        value = copy.deepcopy(pool["attributes"].get(key, default))
        parts = key.split(".")
        target = attrs
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    attrs["state"] = pool["state"]
    attrs.setdefault("recycling", {}).setdefault("periodicRestart", {})
    return {"name": pool["name"], "attributes": attrs}


@model("microsoft.iis.web_app_pool_info", upstream=UPSTREAM)
def web_app_pool_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about one or all application pools."""
    _require_webadministration(ctx)
    name = ctx.params.get("name")
    ctx.exit(exists=False, app_pools=[])
    if name is not None:
        pool = find_pool(ctx.state, name)
        if pool is None:
            ctx.fail("Failed to fetch the info of the required application pool "
                     f"Exception: Cannot find path 'IIS:\\AppPools\\{name}' because it does not exist.")
        return ctx.exit(exists=True, app_pools=[_pool_info(pool)])
    pools = [_pool_info(p) for p in ctx.state["iis"]["app_pools"].values()]
    return ctx.exit(exists=bool(pools), app_pools=pools)


# -- microsoft.iis.website ------------------------------------------------------------

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


def _binding_info(b: dict[str, t.Any]) -> str:
    return f"{b['ip']}:{b['port']}:{b['hostname']}"


def _user_binding_info(b: dict[str, t.Any]) -> str:
    """``"$($_.ip):$($_.port):$($_.hostname)"``: ``$null`` renders empty."""
    return f"{_ps_str(b.get('ip'))}:{_ps_str(b.get('port'))}:{_ps_str(b.get('hostname'))}"


def _ssl_flags(b: dict[str, t.Any]) -> int:
    return (1 if b.get("use_sni") else 0) + (2 if b.get("use_ccs") else 0)


def _cert_exists(state: dict[str, t.Any], store: str, thumbprint: str) -> bool:
    """``Test-Path cert:\\LocalMachine\\<store>\\<hash>`` against the
    certificates section (owned by the certificates model; absent = empty)."""
    stores = (state.get("certificates") or {}).get("LocalMachine") or {}
    for store_name, certs in stores.items():
        if store_name.lower() == str(store).lower():
            return any(tp.lower() == str(thumbprint).lower() for tp in certs)
    return False


def _ssl_flag_from_binding(ctx: ModuleContext, b: dict[str, t.Any]) -> int:
    """``Get-SSLFlagFromBinding``: validation and the sslFlags value."""
    flags = 0
    if b.get("use_sni"):
        if b.get("protocol") != "https":
            ctx.fail("use_sni can only be set for https protocol")
        if not b.get("hostname"):
            ctx.fail("must specify hostname value when use_sni is set.")
        flags += 1
    if b.get("use_ccs"):
        if b.get("protocol") != "https":
            ctx.fail("use_ccs can only be set for https protocol")
        if not b.get("hostname"):
            ctx.fail("must specify hostname value when use_ccs is set.")
        if b.get("certificate_hash"):
            ctx.fail(f"You set use_ccs to {_ps_str(b.get('use_ccs'))}.\n"
                     "            This indicates you wish to use the Central Certificate Store feature.\n"
                     "            This cannot be used in combination with certficiate_hash and certificate_store_name. "
                     "When using the Central Certificate Store feature,\n"
                     "            the certificate is automatically retrieved from the store rather than manually "
                     "assigned to the binding.")
        flags += 2
    if b.get("protocol") == "https" and not b.get("use_ccs") and not b.get("certificate_hash"):
        ctx.fail("must either specify a certificate_hash or use_ccs.")
    if b.get("certificate_hash"):
        if b.get("protocol") != "https":
            ctx.fail("You can only provide a certificate thumbprint when protocol is set to https")
        cert_path = f"cert:\\LocalMachine\\{_ps_str(b.get('certificate_store_name'))}\\{b['certificate_hash']}"
        if not _cert_exists(ctx.state, _ps_str(b.get("certificate_store_name")), b["certificate_hash"]):
            ctx.fail(f"Unable to locate certificate at {cert_path}")
    return flags


def _conflicting_site(state: dict[str, t.Any], site: dict[str, t.Any],
                      bindings: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any] | None:
    mine = {_binding_info(b).lower() for b in (site["bindings"] if bindings is None else bindings)}
    for other in _iis(state)["sites"].values():
        if other is site or other["state"] != "Started":
            continue
        if mine & {_binding_info(b).lower() for b in other["bindings"]}:
            return other
    return None


def _start_site(ctx: ModuleContext, site: dict[str, t.Any]) -> None:
    """``Start-Website``: fails like W3SVC does for a site that cannot listen."""
    fault = ctx.faults.find("site_start", site["name"])
    if fault is not None:
        raise RuntimeError(_fault_message(fault, _HR_INVALID_OBJECT))
    if not site["bindings"]:
        raise RuntimeError(_HR_INVALID_OBJECT)
    if _conflicting_site(ctx.state, site) is not None:
        raise RuntimeError(_HR_ALREADY_EXISTS)
    site["state"] = "Started"


def _new_binding(spec: dict[str, t.Any], flags: int) -> dict[str, t.Any]:
    """``New-WebBinding`` (+ ``AddSslCertificate``): unset ip/port/hostname
    take the cmdlet's defaults (``*``, 80, empty)."""
    ip = spec.get("ip") if spec.get("ip") not in (None, "") else "*"
    port = spec.get("port") if spec.get("port") is not None else 80
    host = spec.get("hostname") or ""
    b = _binding(spec.get("protocol") or "http", ip, int(port), host, bool(flags & 1), bool(flags & 2))
    if spec.get("certificate_hash"):
        b["certificate_hash"] = str(spec["certificate_hash"]).upper()
        b["certificate_store_name"] = _ps_str(spec.get("certificate_store_name"))
    return b


@model("microsoft.iis.website", upstream=UPSTREAM, partial_on_failure=True)
def website(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove, configure, start and stop a site."""
    p = ctx.params
    name: str = p["name"]
    state: str = p["state"]
    physical_path: str | None = p.get("physical_path")
    application_pool: str | None = p.get("application_pool")
    preload_enabled: bool | None = p.get("preload_enabled")
    bindings: dict[str, t.Any] = p.get("bindings") or {}
    site_id = p.get("site_id")
    _require_webadministration(ctx)
    sites = ctx.state["iis"]["sites"]

    try:
        site = find_site(ctx.state, name)
        if state != "absent" and site is None:
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            elif not _test_path(ctx, physical_path):
                ctx.fail("specified folder must already exist: physical_path")
            if not ctx.check_mode:
                new_id = _new_site_id(sites, site_id)
                pool_name = application_pool or "DefaultAppPool"
                site = _new_site(name, new_id, physical_path, pool_name, [_binding("http", "*", 80, "")], "Stopped")
                sites[name] = site
                # W3SVC starts the new site at once unless its default *:80 binding is taken.
                if _conflicting_site(ctx.state, site) is None and ctx.faults.find("site_start", name) is None:
                    site["state"] = "Started"
                # "Verify that initial site has no binding"
                site["bindings"] = []
            ctx.changed()
        if state == "absent" and site is not None:
            if not ctx.check_mode:
                del sites[site["name"]]
            ctx.changed()

        site = find_site(ctx.state, name)
        if site is not None:
            if physical_path:
                if not _test_path(ctx, physical_path):
                    ctx.fail("specified folder must already exist: physical_path")
                folder = _full_name(physical_path)
                if folder.lower() != site["physical_path"].lower():
                    if not ctx.check_mode:
                        site["physical_path"] = folder
                    ctx.changed()
            if application_pool and application_pool.lower() != site["application_pool"].lower():
                if not ctx.check_mode:
                    site["application_pool"] = application_pool
                ctx.changed()
            if preload_enabled is not None and bool(site.get("preload_enabled", False)) != preload_enabled:
                if not ctx.check_mode:
                    site["preload_enabled"] = preload_enabled
                ctx.changed()
            _apply_bindings(ctx, site, bindings)

            run_state = site["state"]
            if state in ("stopped", "restarted") and run_state == "Started":
                if not ctx.check_mode:
                    site["state"] = "Stopped"
                ctx.changed()
            if (state == "started" and run_state == "Stopped") or state == "restarted":
                if not ctx.check_mode:
                    _start_site(ctx, site)
                ctx.changed()
    except RuntimeError as exc:
        ctx.fail(f"{_DICT_TYPE} - {exc}")
    return ctx.exit()


def _new_site_id(sites: dict[str, t.Any], site_id: str | None) -> int:
    """The ID ``New-Website`` gives the site: ``-ID`` when given (it must be
    free), else 1 on an empty server, else the highest ID + 1."""
    if site_id:
        parsed = _as_int(site_id, *_U32)
        if parsed is None:
            raise RuntimeError(
                "Cannot process argument transformation on parameter 'ID'. Cannot convert value "
                f'"{site_id}" to type "System.UInt32". Error: "Input string was not in a correct format."')
        new_id = parsed
    elif not sites:
        new_id = 1
    else:
        new_id = max(s["id"] for s in sites.values()) + 1
    if any(s["id"] == new_id for s in sites.values()):
        raise RuntimeError("Cannot add duplicate collection entry of type 'site' with unique key "
                           f"attribute 'id' set to '{new_id}'")
    return new_id


def _apply_bindings(ctx: ModuleContext, site: dict[str, t.Any], bindings: dict[str, t.Any]) -> None:
    """The ``bindings`` add/set/remove block of website.ps1, in its order:
    additions, then edits of existing bindings, then removals."""
    want_set = bindings.get("set")
    want_add = bindings.get("add") or []
    want_remove = bindings.get("remove") or []
    if want_set is None and not want_add and not want_remove:
        return
    site_bindings = [b for b in site["bindings"] if b["protocol"] in ("http", "https")]
    existing = {_binding_info(b).lower() for b in site_bindings}
    to_add: list[dict[str, t.Any]] = []
    to_edit: list[dict[str, t.Any]] = []
    to_remove: list[str] = []
    if want_set is not None:
        to_add = [b for b in want_set if _user_binding_info(b).lower() not in existing]
        to_edit = [b for b in want_set if _user_binding_info(b).lower() in existing]
        user = {_user_binding_info(b).lower() for b in want_set}
        to_remove = [_binding_info(b) for b in site_bindings if _binding_info(b).lower() not in user]
    else:
        if want_add:
            to_add = [b for b in want_add if _user_binding_info(b).lower() not in existing]
            to_edit = [b for b in want_add if _user_binding_info(b).lower() in existing]
        if want_remove:
            user = {_user_binding_info(b).lower() for b in want_remove}
            to_remove = [_binding_info(b) for b in site_bindings if _binding_info(b).lower() in user]

    for spec in to_add:
        flags = _ssl_flag_from_binding(ctx, spec)
        if not ctx.check_mode:
            new = _new_binding(spec, flags)
            info = _binding_info(new).lower()
            if any(_binding_info(b).lower() == info and b["protocol"] == new["protocol"] for b in site["bindings"]):
                raise RuntimeError("Cannot add duplicate collection entry of type 'binding' with combined key "
                                   f"attributes 'protocol, bindingInformation' set to '{new['protocol']}, "
                                   f"{_binding_info(new)}'")
            site["bindings"].append(new)
        ctx.changed()

    for spec in to_edit:
        user_edit = dict(spec)
        info = _user_binding_info(user_edit).lower()
        site_edit = next(b for b in site_bindings if _binding_info(b).lower() == info)
        if user_edit.get("use_sni") is None:
            user_edit["use_sni"] = bool(_ssl_flags(site_edit) % 2)
        if user_edit.get("use_ccs") is None:
            user_edit["use_ccs"] = bool(_ssl_flags(site_edit) // 2)
        flags = _ssl_flag_from_binding(ctx, user_edit)
        if site_edit["protocol"] != user_edit.get("protocol"):
            if not ctx.check_mode:
                site_edit["protocol"] = user_edit.get("protocol")
            ctx.changed()
        if _ssl_flags(site_edit) != flags:
            if not ctx.check_mode:
                site_edit["use_sni"], site_edit["use_ccs"] = bool(flags & 1), bool(flags & 2)
            ctx.changed()
        if user_edit.get("certificate_hash"):
            store = _ps_str(user_edit.get("certificate_store_name"))
            if (site_edit["certificate_hash"].lower() != str(user_edit["certificate_hash"]).lower()
                    or site_edit["certificate_store_name"].lower() != store.lower()):
                # The real module calls AddSslCertificate here even in check mode.
                if not ctx.check_mode:
                    site_edit["certificate_hash"] = str(user_edit["certificate_hash"]).upper()
                    site_edit["certificate_store_name"] = store
                ctx.changed()

    for info in to_remove:
        if not ctx.check_mode:
            site["bindings"] = [b for b in site["bindings"] if _binding_info(b).lower() != info.lower()]
        ctx.changed()


# -- microsoft.iis.website_info ---------------------------------------------------------

def _site_info(site: dict[str, t.Any]) -> dict[str, t.Any]:
    bindings = []
    for b in site["bindings"]:
        bindings.append({
            "ip": b["ip"],
            "port": int(b["port"]),
            "hostname": b["hostname"],
            "protocol": b["protocol"],
            "use_ccs": bool(b.get("use_ccs")),
            "use_sni": bool(b.get("use_sni")),
            "certificate_hash": b.get("certificate_hash", ""),
            "certificate_store_name": b.get("certificate_store_name", ""),
        })
    return {"name": site["name"], "site_id": site["id"], "state": site["state"],
            "physical_path": site["physical_path"], "application_pool": site["application_pool"],
            "bindings": bindings}


@model("microsoft.iis.website_info", upstream=UPSTREAM)
def website_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about one or all sites."""
    _require_webadministration(ctx)
    name = ctx.params.get("name")
    ctx.exit(exists=False, site=[])
    if name is not None:
        site = find_site(ctx.state, name)
        if site is None:
            return ctx.exit()
        return ctx.exit(exists=True, site=[_site_info(site)])
    infos = [_site_info(s) for s in ctx.state["iis"]["sites"].values()]
    return ctx.exit(exists=bool(infos), site=infos)


# -- microsoft.iis.web_application ---------------------------------------------------------

def _missing_site_error(site: str) -> RuntimeError:
    return RuntimeError(f"Cannot find path 'IIS:\\Sites\\{site}' because it does not exist.")


@model("microsoft.iis.web_application", upstream=UPSTREAM)
def web_application(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a web application under a site."""
    p = ctx.params
    name, site_name, state = p["name"], p["site"], p["state"]
    physical_path = p.get("physical_path")
    application_pool = p.get("application_pool")
    connect_as, username, password = p.get("connect_as"), p.get("username"), p.get("password")
    if connect_as == "specific_user":
        if not username:
            ctx.fail("missing required arguments: username")
        if not password:
            ctx.fail("missing required arguments: password")
    _require_webadministration(ctx)

    site = find_site(ctx.state, site_name)
    path = _app_key(name)
    found = _find_app(site, path) if site else None
    if not application_pool:
        application_pool = site["application_pool"] if site else None
    try:
        if state == "present" and found is None:
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            if not _test_path(ctx, physical_path):
                ctx.fail(f"specified folder must already exist: '{physical_path}'")
            if not ctx.check_mode:
                if site is None:
                    raise _missing_site_error(site_name)
                site["applications"][path] = {
                    "path": path, "application_pool": application_pool or "",
                    "physical_path": physical_path, "enabled_protocols": "http",
                    "username": "", "password": ""}
            ctx.changed()
        if state == "absent" and found is not None:
            if not ctx.check_mode:
                _remove_app(site, found[0])
            ctx.changed()

        found = _find_app(site, path) if site else None
        if found is not None:
            app = found[1]
            if physical_path:
                if not _test_path(ctx, physical_path):
                    ctx.fail(f"specified folder must already exist: '{physical_path}'")
                if _full_name(physical_path).lower() != app["physical_path"].lower():
                    if not ctx.check_mode:
                        app["physical_path"] = physical_path
                    ctx.changed()
            if application_pool and application_pool.lower() != app["application_pool"].lower():
                if not ctx.check_mode:
                    app["application_pool"] = application_pool
                ctx.changed()
            if connect_as == "pass_through":
                if app["username"] != "":
                    if not ctx.check_mode:
                        app["username"] = ""
                    ctx.changed()
                if app["password"] != "":
                    if not ctx.check_mode:
                        app["password"] = ""
                    ctx.changed()
            elif connect_as == "specific_user":
                if app["username"].lower() != str(username).lower():
                    if not ctx.check_mode:
                        app["username"] = username
                    ctx.changed()
                if app["password"] != password_digest(password):
                    if not ctx.check_mode:
                        app["password"] = password_digest(password)
                    ctx.changed()
    except RuntimeError as exc:
        ctx.fail(str(exc))
    return ctx.exit()


def _remove_app(site: dict[str, t.Any], path: str) -> None:
    """``Remove-WebApplication``: the application and its virtual directories."""
    site["applications"].pop(path, None)
    for key in [k for k, v in site["virtual_directories"].items() if v["application"].lower() == path.lower()]:
        del site["virtual_directories"][key]


# -- microsoft.iis.web_application_info --------------------------------------------------------

@model("microsoft.iis.web_application_info", upstream=UPSTREAM)
def web_application_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about web applications (optionally filtered by name and site)."""
    ctx.exit(exists=False, applications=[])
    _require_webadministration(ctx, "Failed to load WebAdministration module, Exception: ")
    name, site_filter = ctx.params.get("name"), ctx.params.get("site")
    apps = []
    for site in ctx.state["iis"]["sites"].values():
        if site_filter and site["name"].lower() != site_filter.lower():
            continue
        for path, app in site["applications"].items():
            if name and path.strip("/").lower() != name.strip("/").lower():
                continue
            apps.append({
                "name": path.lstrip("/"),
                "site": site["name"],
                "connect_as": "specific_user" if app["username"] else "pass_through",
                "username": app["username"] or "",
                "application_pool": app["application_pool"],
                "physical_path": app["physical_path"],
                "enabled_protocols": app.get("enabled_protocols", "http"),
            })
    return ctx.exit(exists=bool(apps), applications=apps)


# -- microsoft.iis.virtual_directory -------------------------------------------------------------

def _vdir_key(application: str | None, name: str) -> tuple[str, str, str]:
    """(full URL path key, application path, vdir path within the application)."""
    app_path = _app_key(application) if application else "/"
    vdir_path = "/" + name.replace("\\", "/").strip("/")
    full = (app_path.rstrip("/") + vdir_path) if app_path != "/" else vdir_path
    return full, app_path, vdir_path


def _find_vdir(site: dict[str, t.Any], full: str) -> tuple[str, dict[str, t.Any]] | None:
    for key, vdir in site["virtual_directories"].items():
        if key.lower() == full.lower():
            return key, vdir
    return None


@model("microsoft.iis.virtual_directory", upstream=UPSTREAM)
def virtual_directory(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a virtual directory."""
    p = ctx.params
    name, site_name, application, state = p["name"], p["site"], p.get("application"), p["state"]
    physical_path = p.get("physical_path")
    connect_as, username, password = p.get("connect_as"), p.get("username"), p.get("password")
    if connect_as == "specific_user" and (not username or not password):
        if not username and not password:
            ctx.fail("Both username and password are required.")
        elif not username:
            ctx.fail("Username is required.")
        else:
            ctx.fail("Password is required.")
    _require_webadministration(ctx)
    site = find_site(ctx.state, site_name)
    full, app_path, vdir_path = _vdir_key(application, name)
    try:
        if state == "present":
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            if not _test_path(ctx, physical_path):
                ctx.fail(f"specified folder must already exist: '{physical_path}'")
            found = _find_vdir(site, full) if site else None
            if found is None:
                if not ctx.check_mode:
                    if site is None:
                        raise _missing_site_error(site_name)
                    if app_path != "/" and _find_app(site, app_path) is None:
                        raise RuntimeError(f"Cannot find path 'IIS:\\Sites\\{site_name}\\{application}' "
                                           "because it does not exist.")
                    app_key = _find_app(site, app_path)[0] if app_path != "/" else "/"
                    site["virtual_directories"][full] = {
                        "path": vdir_path, "application": app_key, "physical_path": physical_path,
                        "username": "", "password": ""}
                ctx.changed()
            else:
                vdir = found[1]
                if vdir["physical_path"].lower() != physical_path.lower():
                    if not ctx.check_mode:
                        vdir["physical_path"] = physical_path
                    ctx.changed()
                if connect_as == "specific_user":
                    if vdir["username"].lower() != str(username).lower():
                        if not ctx.check_mode:
                            vdir["username"] = username
                        ctx.changed()
                    if vdir["password"] != password_digest(password):
                        if not ctx.check_mode:
                            vdir["password"] = password_digest(password)
                        ctx.changed()
                elif connect_as == "pass_through":
                    if vdir["username"]:
                        if not ctx.check_mode:
                            vdir["username"] = ""
                        ctx.changed()
                    if vdir["password"]:
                        if not ctx.check_mode:
                            vdir["password"] = ""
                        ctx.changed()
        elif state == "absent" and site is not None:
            _remove_iis_path(ctx, site, full)
    except RuntimeError as exc:
        ctx.fail(str(exc))
    return ctx.exit()


def _remove_iis_path(ctx: ModuleContext, site: dict[str, t.Any], full: str) -> None:
    """``Test-Path IIS:\\Sites\\site\\path`` then ``Remove-Item -Recurse``:
    the path may name a virtual directory, an application, or a physical
    folder below the site's content (which the IIS provider deletes from disk)."""
    prefix = full.lower().rstrip("/") + "/"
    vdirs = [k for k in site["virtual_directories"] if k.lower() == full.lower() or k.lower().startswith(prefix)]
    apps = [k for k in site["applications"] if k.lower() == full.lower() or k.lower().startswith(prefix)]
    if vdirs or apps:
        if not ctx.check_mode:
            for k in apps:
                _remove_app(site, k)
            for k in vdirs:
                site["virtual_directories"].pop(k, None)
        ctx.changed()
        return
    resolved = resolve_url(ctx.state, site["name"], full)
    if resolved is not None and st.exists(ctx.state, resolved["physical_path"]):
        if not ctx.check_mode:
            st.remove(ctx.state, resolved["physical_path"])
        ctx.changed()


# -- microsoft.iis.virtual_directory_info -----------------------------------------------------------

@model("microsoft.iis.virtual_directory_info", upstream=UPSTREAM)
def virtual_directory_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about virtual directories (optionally filtered)."""
    _require_webadministration(ctx, "Failed to ensure WebAdministration module is loaded: ")
    name, site_filter, app_filter = ctx.params.get("name"), ctx.params.get("site"), ctx.params.get("application")
    directories = []
    for site in ctx.state["iis"]["sites"].values():
        if site_filter and site["name"].lower() != site_filter.lower():
            continue
        for vdir in site["virtual_directories"].values():
            if app_filter and vdir["application"].lower() != _app_key(app_filter).lower():
                continue
            if name and vdir["path"].strip("/").lower() != name.replace("\\", "/").strip("/").lower():
                continue
            directories.append({
                "name": vdir["path"].strip("/"),
                "site": site["name"],
                "physical_path": vdir["physical_path"],
                "application": vdir["application"].lstrip("/"),
                "username": vdir["username"],
                "connect_as": "specific_user" if vdir["username"] else "pass_through",
            })
    return ctx.exit(exists=bool(directories), directories=directories)


# -- microsoft.iis.authentication ------------------------------------------------------------------

def _auth_view(effective: dict[str, t.Any], auth_type: str) -> dict[str, t.Any]:
    """``Get-IISAuthConfig``: the module's view of one authentication type."""
    conf = effective.get(auth_type, {})
    view: dict[str, t.Any] = {"enabled": bool(conf.get("enabled", False))}
    if auth_type == "WindowsAuthentication":
        view["providers"] = list(conf.get("providers", []))
        view["use_kernel_mode"] = bool(conf.get("use_kernel_mode", True))
        view["token_checking"] = str(conf.get("token_checking", "None"))
    return view


def _auth_same(current: dict[str, t.Any], desired: dict[str, t.Any], auth_type: str) -> bool:
    """``Compare-IISAuthConfig`` (string comparisons are case-insensitive)."""
    if current["enabled"] != desired["enabled"]:
        return False
    if auth_type == "WindowsAuthentication":
        return (",".join(current["providers"]).lower() == ",".join(desired["providers"]).lower()
                and current["use_kernel_mode"] == desired["use_kernel_mode"]
                and current["token_checking"].lower() == desired["token_checking"].lower())
    return True


def _iis_path_exists(ctx: ModuleContext, site: dict[str, t.Any], application: str) -> bool:
    """``Test-Path IIS:\\Sites\\site\\application``: an application, a
    virtual directory, or a physical folder under the site's content."""
    full = _app_key(application)
    if _find_app(site, full) is not None or _find_vdir(site, full) is not None:
        return True
    resolved = resolve_url(ctx.state, site["name"], full)
    return resolved is not None and st.exists(ctx.state, resolved["physical_path"])


@model("microsoft.iis.authentication", upstream=UPSTREAM)
def authentication(ctx: ModuleContext) -> dict[str, t.Any]:
    """Enable/disable an authentication type at a site or application, with
    Windows authentication's providers, kernel mode and token checking."""
    p = ctx.params
    site_name, application, auth_type = p["site"], p.get("application"), p["auth_type"]
    enabled, providers = p.get("enabled"), p.get("providers")
    use_kernel_mode, token_checking = p.get("use_kernel_mode"), p.get("token_checking")
    _require_webadministration(ctx, "Failed to ensure WebAdministration module is loaded: ")

    if auth_type != "WindowsAuthentication":
        supplied = [n for n, v in (("providers", providers), ("use_kernel_mode", use_kernel_mode),
                                   ("token_checking", token_checking)) if v is not None]
        if supplied:
            ctx.warn(f"The option(s) {', '.join(supplied)} are only valid with auth_type=WindowsAuthentication "
                     f"and are ignored for {auth_type}.")

    site = find_site(ctx.state, site_name)
    if site is None:
        ctx.fail(f"Unable to resolve an IIS site named '{site_name}'. Verify the site exists on the target host.")
    if application and not _iis_path_exists(ctx, site, application):
        ctx.fail(f"Unable to resolve an application or virtual directory named '{application}' under site "
                 f"'{site_name}'. Verify it exists on the target host.")
    target = f"IIS:\\Sites\\{site_name}\\{application}" if application else f"IIS:\\Sites\\{site_name}"
    ctx.exit(target=target)
    location = _app_key(application) if application else "/"

    before = _auth_view(effective_authentication(ctx.state, site["name"], location), auth_type)
    after: dict[str, t.Any] = {"enabled": enabled if enabled is not None else before["enabled"]}
    if auth_type == "WindowsAuthentication":
        after["providers"] = list(providers) if providers is not None else before["providers"]
        after["use_kernel_mode"] = use_kernel_mode if use_kernel_mode is not None else before["use_kernel_mode"]
        after["token_checking"] = token_checking if token_checking is not None else before["token_checking"]

    if _auth_same(before, after, auth_type):
        ctx.set_diff(before, before)
        return ctx.exit()
    ctx.changed()
    if ctx.check_mode:
        ctx.set_diff(before, after)
        return ctx.exit()
    explicit = site.setdefault("authentication", {})
    loc_key = next((k for k in explicit if k.lower() == location.lower()), location)
    props = explicit.setdefault(loc_key, {}).setdefault(auth_type, {})
    if before["enabled"] != after["enabled"]:
        props["enabled"] = after["enabled"]
    if auth_type == "WindowsAuthentication":
        if ",".join(before["providers"]).lower() != ",".join(after["providers"]).lower():
            props["providers"] = list(after["providers"])
        if before["use_kernel_mode"] != after["use_kernel_mode"]:
            props["use_kernel_mode"] = after["use_kernel_mode"]
        if before["token_checking"].lower() != after["token_checking"].lower():
            props["token_checking"] = after["token_checking"]
    after_state = _auth_view(effective_authentication(ctx.state, site["name"], location), auth_type)
    ctx.set_diff(before, after_state)
    return ctx.exit()
