"""The registry: ``ansible.windows.win_regedit`` and ``win_reg_stat``
(ansible.windows 3.8.0) and ``community.windows.win_regmerge``
(community.windows 3.3.0), plus the ``reg.exe export``/``import`` formats
win_regmerge relies on.

State section ``state["registry"]``: a flat map of keys, keyed by the lower-case
canonical path (``hklm\\software\\microsoft``)::

    {"path": "HKLM\\SOFTWARE\\Microsoft", "values": {lower-case name ("" = (Default)):
        {"name", "type" ("string"|"expandstring"|"multistring"|"dword"|"qword"|"binary"|"none"),
         "data": str | [str] | int (unsigned) | [int] (bytes)}}}

Hive roots are ``HKLM``, ``HKCU``, ``HKCR``, ``HKU`` and ``HKCC``.  Values keep
their creation order (the order ``RegEnumValue`` and ``reg export`` use);
sub-keys are enumerated in case-insensitive name order.  A fresh host holds
the keys that matter to the roles: SCHANNEL (``Protocols`` holds only the
``SSL 2.0\\Client`` key of a fresh 2022 install), ``Ciphers``, ``Hashes``,
``KeyExchangeAlgorithms``, the Uninstall views, ``.NETFramework``,
``NET Framework Setup\\NDP\\v4\\Full`` and ``Windows NT\\CurrentVersion``.

SCHANNEL changes need a reboot on Windows, but none of these modules says so;
the models stay faithful and leave that to the calling role.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import typing as t

from .. import state as st
from ..drift import Arg, DriftError, drift, run_upstream
from ..state import section
from ._base import ModuleContext, model

UPSTREAM = "ansible.windows 3.8.0"
UPSTREAM_MERGE = "community.windows 3.3.0"

HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG",
}
LONG_HIVES = {v: k for k, v in HIVES.items()}

TYPE_NAMES = {  # model type -> RegistryValueKind.ToString()
    "string": "String", "expandstring": "ExpandString", "multistring": "MultiString", "dword": "DWord",
    "qword": "QWord", "binary": "Binary", "none": "None",
}
REG_TYPES = {
    "string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "multistring": "REG_MULTI_SZ", "dword": "REG_DWORD",
    "qword": "REG_QWORD", "binary": "REG_BINARY", "none": "REG_NONE",
}

SCHANNEL = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
UNINSTALL = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
UNINSTALL_WOW = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"


def _v(name: str, vtype: str, data: t.Any) -> tuple[str, str, t.Any]:
    return (name, vtype, data)


_FRESH: dict[str, list[tuple[str, str, t.Any]]] = {
    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion": [
        _v("SystemRoot", "string", "C:\\Windows"), _v("CurrentBuild", "string", "20348"),
        _v("CurrentBuildNumber", "string", "20348"), _v("CurrentMajorVersionNumber", "dword", 10),
        _v("CurrentMinorVersionNumber", "dword", 0), _v("CurrentVersion", "string", "6.3"),
        _v("DisplayVersion", "string", "21H2"), _v("EditionID", "string", "ServerDatacenter"),
        _v("InstallationType", "string", "Server"),
        _v("ProductName", "string", "Windows Server 2022 Datacenter"), _v("UBR", "dword", 2849),
    ],
    "HKLM\\SOFTWARE\\Microsoft\\.NETFramework": [
        _v("InstallRoot", "string", "C:\\Windows\\Microsoft.NET\\Framework64\\"),
    ],
    "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319": [],
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319": [],
    "HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full": [
        _v("CBS", "dword", 1), _v("Install", "dword", 1),
        _v("InstallPath", "string", "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\"),
        _v("Release", "dword", 528449), _v("Servicing", "dword", 0), _v("TargetVersion", "string", "4.0.0"),
        _v("Version", "string", "4.8.04161"),
    ],
    UNINSTALL: [],
    UNINSTALL_WOW: [],
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing": [],
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration": [],
    SCHANNEL: [_v("EventLogging", "dword", 1)],
    SCHANNEL + "\\Ciphers": [],
    SCHANNEL + "\\CipherSuites": [],
    SCHANNEL + "\\Hashes": [],
    SCHANNEL + "\\KeyExchangeAlgorithms": [],
    SCHANNEL + "\\Protocols": [],
    SCHANNEL + "\\Protocols\\SSL 2.0": [],
    SCHANNEL + "\\Protocols\\SSL 2.0\\Client": [_v("DisabledByDefault", "dword", 1)],
    "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager": [
        _v("BootExecute", "multistring", ["autocheck autochk *"]),
    ],
    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters": [],
    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\Parameters": [
        _v("NtpServer", "string", "time.windows.com,0x9"), _v("Type", "string", "NTP"),
    ],
    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinRM": [],
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion": [],
    "HKCR\\.txt": [_v("", "string", "txtfile")],
    "HKU\\.DEFAULT": [],
    "HKCC\\Software": [],
}


# What real estates accumulate (profile ``lived-in``): SCHANNEL keys set by
# hand or by an old hardening script (IIS Crypto, the 2014 POODLE advisories)
# that no role manages, and a cipher suite order pushed by group policy
# ("SSL Cipher Suite Order", which wins over the local SCHANNEL settings).
_LIVED_IN: dict[str, list[tuple[str, str, t.Any]]] = {
    SCHANNEL + "\\Protocols\\PCT 1.0": [],
    SCHANNEL + "\\Protocols\\PCT 1.0\\Server": [_v("Enabled", "dword", 0)],
    SCHANNEL + "\\Protocols\\Multi-Protocol Unified Hello": [],
    SCHANNEL + "\\Protocols\\Multi-Protocol Unified Hello\\Server": [
        _v("Enabled", "dword", 0), _v("DisabledByDefault", "dword", 1)],
    SCHANNEL + "\\Ciphers\\RC4 128/128": [_v("Enabled", "dword", 0)],
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL": [],
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002": [
        _v("Functions", "string", ",".join([
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]))],
}


@section("registry")
def _fresh_registry(profile: str = "bare") -> dict[str, t.Any]:
    """The fresh registry.  ``bare`` and ``realistic`` are the same here: the
    SCHANNEL keys of a fresh Windows Server 2022 (``EventLogging=1``, empty
    ``Ciphers``/``CipherSuites``/``Hashes``/``KeyExchangeAlgorithms``,
    ``Protocols\\SSL 2.0\\Client`` with ``DisabledByDefault=1``) were already
    part of the historical fresh host; ``lived-in`` adds :data:`_LIVED_IN`."""
    reg: dict[str, t.Any] = {}
    fresh = dict(_FRESH)
    if profile == "lived-in":
        fresh.update(_LIVED_IN)
    for path, values in fresh.items():
        _create_key(reg, path)
        for name, vtype, data in values:
            reg[path.lower()]["values"][name.lower()] = {"name": name, "type": vtype, "data": data}
    return reg


# -- key helpers (shared with packages.py) ---------------------------------------------

def canonical(path: str) -> str | None:
    """``HKLM:\\Software\\X``, ``HKLM\\Software\\X`` or
    ``HKEY_LOCAL_MACHINE\\Software\\X`` -> ``HKLM\\Software\\X``; None when
    the hive is unknown.  Only ``\\`` separates keys: ``/`` is an ordinary
    character of a key name on Windows (``SCHANNEL\\Ciphers\\AES 128/128`` is one
    key; ``RegistryKey.OpenSubKey`` and ``reg import`` both keep it)."""
    p = path.strip()
    head, _, rest = p.partition("\\")
    head = head.rstrip(":").upper()
    hive = head if head in HIVES else LONG_HIVES.get(head)
    if hive is None:
        return None
    parts = [x for x in rest.split("\\") if x]
    return "\\".join([hive, *parts])


def _create_key(reg: dict[str, t.Any], path: str) -> list[str]:
    created = []
    parts = path.split("\\")
    for i in range(1, len(parts) + 1):
        sub = "\\".join(parts[:i])
        if sub.lower() not in reg:
            reg[sub.lower()] = {"path": sub, "values": {}}
            created.append(sub)
    return created


def get_key(state: dict[str, t.Any], path: str) -> dict[str, t.Any] | None:
    c = canonical(path)
    if c is None:
        return None
    return state["registry"].get(c.lower())


def create_key(state: dict[str, t.Any], path: str) -> dict[str, t.Any]:
    c = canonical(path)
    if c is None:
        raise ValueError(f"unknown registry hive in {path}")
    _create_key(state["registry"], c)
    return state["registry"][c.lower()]


def subkeys(state: dict[str, t.Any], path: str) -> list[str]:
    """Names of the direct sub-keys of ``path`` (case-insensitive order)."""
    c = canonical(path)
    if c is None:
        return []
    prefix = c.lower() + "\\"
    out = [k["path"].rsplit("\\", 1)[1] for lk, k in state["registry"].items()
           if lk.startswith(prefix) and "\\" not in lk[len(prefix):]]
    return sorted(out, key=str.lower)


def delete_tree(state: dict[str, t.Any], path: str) -> bool:
    c = canonical(path)
    if c is None or c.lower() not in state["registry"] or "\\" not in c:
        return False
    prefix = c.lower() + "\\"
    for lk in [k for k in state["registry"] if k == c.lower() or k.startswith(prefix)]:
        del state["registry"][lk]
    return True


def set_value(state: dict[str, t.Any], path: str, name: str, vtype: str, data: t.Any) -> None:
    key = create_key(state, path)
    old = key["values"].get(name.lower())
    key["values"][name.lower()] = {"name": old["name"] if old else name, "type": vtype, "data": data}


def get_value(state: dict[str, t.Any], path: str, name: str) -> dict[str, t.Any] | None:
    key = get_key(state, path)
    return None if key is None else key["values"].get(name.lower())


# -- win_regedit ----------------------------------------------------------------------

def _diff_value(vtype: str, data: t.Any) -> dict[str, t.Any]:
    value: t.Any = data
    if vtype in ("binary", "none"):
        value = [f"0x{b:02x}" for b in data]
    elif vtype == "dword":
        value = f"0x{data & 0xFFFFFFFF:08x}"
    elif vtype == "qword":
        value = f"0x{data & 0xFFFFFFFFFFFFFFFF:016x}"
    return {"type": TYPE_NAMES[vtype], "value": value}


def hex_to_bytes(text: str) -> list[int]:
    """win_regedit's ``Convert-RegExportHexStringToByteArray``."""
    s = re.sub(r"^hex:", "", text.lower())
    s = re.sub(r"[^a-f0-9\\,x\-:]", "", s).replace(",", ":")
    if not s:
        return []
    if len(s) == 1:
        return [int(s, 16)]
    if len(s) % 2 == 0 and ":" not in s:
        return [int(s[i:i + 2], 16) for i in range(0, len(s), 2)]
    if ":" in s:
        return [int(x, 16) for x in re.split(":+", s) if x != ""]
    return []


def _to_uint(ctx: ModuleContext, data: t.Any) -> int:
    if isinstance(data, bool):
        return int(data)
    if isinstance(data, int):
        return data
    if isinstance(data, float):
        if data % 1 != 0:
            ctx.fail(f"data '{data:g}' cannot be a decimal or float value with a remainder when type is dword "
                     "or qword")
        return int(data)
    text = str(data).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        ctx.fail(f'Unhandled exception while executing module: Cannot convert value "{text}" to type '
                 '"System.UInt64". Error: "Input string was not in a correct format."')


def _convert_data(ctx: ModuleContext, vtype: str, data: t.Any, name: str | None) -> t.Any:
    if vtype in ("binary", "none"):
        if data is None:
            data = ""
        if isinstance(data, str):
            return hex_to_bytes(data)
        if isinstance(data, int) and not isinstance(data, bool):
            if data > 255:
                ctx.fail(f"cannot convert binary data '{data}' to byte array, please specify this value as a yaml "
                         "byte array or a comma separated hex value string")
            return [data]
        if isinstance(data, list):
            out = []
            for b in data:
                val = int(b, 16) if isinstance(b, str) and b.lower().startswith("0x") else int(b)
                out.append(val & 0xFF)
            return out
        return data
    if vtype in ("dword", "qword"):
        value = 0 if data is None else _to_uint(ctx, data)
        if vtype == "dword":
            if value > 0xFFFFFFFF:
                ctx.fail("data cannot be larger than 0xffffffff when type is dword")
            return value & 0xFFFFFFFF
        if value > 0xFFFFFFFFFFFFFFFF:
            ctx.fail("data cannot be larger than 0xffffffffffffffff when type is qword")
        return value & 0xFFFFFFFFFFFFFFFF
    if vtype in ("string", "expandstring"):
        if data is None:
            return "" if name else None
        if isinstance(data, bool):
            return "True" if data else "False"
        return data if isinstance(data, str) else str(data)
    # multistring
    if data is None:
        return []
    if isinstance(data, list):
        return [str(x) for x in data]
    return [str(data)]


def _differs(existing: t.Any, new: t.Any) -> bool:
    """win_regedit's ``Compare-RegistryProperty``: positional,
    case-insensitive ``Compare-Object`` for arrays, ``-cne`` for scalars."""
    if isinstance(existing, list):
        new_l = new if isinstance(new, list) else [new]
        if len(existing) != len(new_l):
            return True
        return any(str(a).lower() != str(b).lower() for a, b in zip(existing, new_l, strict=True))
    if isinstance(existing, int) and isinstance(new, int):
        return existing != new
    return str(existing) != str(new if not isinstance(new, list) else " ".join(map(str, new)))


@model("ansible.windows.win_regedit", upstream=UPSTREAM)
def win_regedit(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path, name, vtype = p["path"], p.get("name"), p["type"]
    result: dict[str, t.Any] = {"data_changed": False, "data_type_changed": False}
    before: t.Any = ""
    after: t.Any = ""
    if name is None and vtype != "string":
        ctx.warn("the data type when name is not specified can only be 'string', the type has automatically "
                 "been converted")
        vtype = "string"
    if not re.match(r"^HK(CC|CR|CU|LM|U):\\", path, re.IGNORECASE):
        ctx.fail(f"path: {path} is not a valid powershell path, see module documentation for examples.", **result)
    if name == "":
        name = None
    data = _convert_data(ctx, vtype, p.get("data"), name)
    if p.get("hive"):
        hive_file = p["hive"]
        if not st.exists(ctx.state, hive_file):
            ctx.fail(f"hive at path '{hive_file}' is not valid or accessible, cannot load hive", **result)
        ctx.fail("winsim: loading an offline registry hive (win_regedit 'hive') is not simulated")
    key_path = canonical(path)
    assert key_path is not None
    vname = name or ""
    key = get_key(ctx.state, key_path)
    changed = False

    if p["state"] == "absent":
        if key is not None:
            if p["delete_key"] and not name:
                if not ctx.check_mode:
                    delete_tree(ctx.state, key_path)
                changed = True
                before, after = {path: {}}, {}
            else:
                val = key["values"].get(vname.lower())
                if val is not None:
                    if not ctx.check_mode:
                        del key["values"][vname.lower()]
                    changed = True
                    before = {path: {name: _diff_value(val["type"], val["data"])}}
                    after = {path: {}}
    else:
        if key is None:
            changed = True
            before, after = {}, {path: {}}
            if not ctx.check_mode:
                key = create_key(ctx.state, key_path)
        else:
            before, after = {path: {}}, {path: {}}
        if key is not None and data is not None:
            val = key["values"].get(vname.lower())
            if val is not None:
                change = False
                mismatch = _differs(val["data"], data)
                if vtype != val["type"]:
                    change = True
                    result["data_type_changed"] = True
                    result["data_changed"] = mismatch
                elif mismatch:
                    change = True
                    result["data_changed"] = True
                if change:
                    if not ctx.check_mode:
                        key["values"][vname.lower()] = {"name": val["name"], "type": vtype, "data": data}
                    changed = True
                    before[path][name] = _diff_value(val["type"], val["data"])
                    after[path][name] = _diff_value(vtype, data)
                else:
                    before[path][name] = after[path][name] = _diff_value(val["type"], val["data"])
            else:
                if not ctx.check_mode:
                    key["values"][vname.lower()] = {"name": vname, "type": vtype, "data": data}
                changed = True
                after[path][name] = _diff_value(vtype, data)
    ctx.changed(changed)
    ctx.set_diff(before, after)
    return ctx.exit(**result)


# -- win_reg_stat ---------------------------------------------------------------------

def _stat_value(state: dict[str, t.Any], val: dict[str, t.Any]) -> dict[str, t.Any]:
    vtype, data = val["type"], val["data"]
    value: t.Any = data
    raw: t.Any = data
    if vtype in ("binary", "none"):
        raw = [f"0x{b:02x}" for b in data]
        value = list(data)
    elif vtype == "expandstring":
        value = st.expand_env(data, state)
    elif vtype == "multistring":
        value = list(data)
        raw = list(data)
    return {"type": REG_TYPES[vtype], "value": value, "raw_value": raw}


@model("ansible.windows.win_reg_stat", upstream=UPSTREAM)
def win_reg_stat(ctx: ModuleContext) -> dict[str, t.Any]:
    path, name = ctx.params["path"], ctx.params.get("name")
    if not re.match(r"^HK(CC|CR|CU|LM|U):\\", path, re.IGNORECASE):
        ctx.fail(f"path: {path} is not a valid registry path, see module documentation for examples.")
    key = get_key(ctx.state, path)
    if key is None:
        return ctx.exit(exists=False)
    if name is None:
        props = {}
        for val in key["values"].values():
            props[val["name"]] = _stat_value(ctx.state, val)
        return ctx.exit(exists=True, properties=props, sub_keys=subkeys(ctx.state, path))
    val = key["values"].get(name.lower())
    if val is None:
        return ctx.exit(exists=False)
    return ctx.exit(exists=True, **_stat_value(ctx.state, val))


# -- reg.exe export / import ---------------------------------------------------------

def _hex_line(prefix: str, data: bytes) -> list[str]:
    """``reg export`` hex formatting: comma separated bytes, wrapped with a
    trailing backslash so that no line exceeds 80 characters."""
    lines = []
    line = prefix
    items = [f"{b:02x}" for b in data]
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + len(piece) > 79 and i < len(items):
            lines.append(line + "\\")
            line = "  "
        line += piece
    lines.append(line)
    return lines


def _export_value(val: dict[str, t.Any]) -> list[str]:
    name = val["name"]
    head = "@=" if name == "" else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"='
    vtype, data = val["type"], val["data"]
    if vtype == "string":
        return [head + '"' + str(data).replace("\\", "\\\\").replace('"', '\\"') + '"']
    if vtype == "dword":
        return [f"{head}dword:{data & 0xFFFFFFFF:08x}"]
    if vtype == "qword":
        return _hex_line(head + "hex(b):", (data & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"))
    if vtype == "binary":
        return _hex_line(head + "hex:", bytes(data))
    if vtype == "none":
        return _hex_line(head + "hex(0):", bytes(data))
    if vtype == "expandstring":
        return _hex_line(head + "hex(2):", (str(data) + "\0").encode("utf-16-le"))
    return _hex_line(head + "hex(7):", "".join(s + "\0" for s in data).encode("utf-16-le") + b"\0\0")


def reg_export(state: dict[str, t.Any], path: str) -> list[str]:
    """The lines ``reg.exe export <path> <file>`` writes for ``path`` and
    its whole subtree (what ``Get-Content`` reads back)."""
    c = canonical(path)
    assert c is not None
    lines = ["Windows Registry Editor Version 5.00", ""]

    def walk(kpath: str) -> None:
        key = state["registry"][kpath.lower()]
        hive, _, rest = key["path"].partition("\\")
        lines.append(f"[{HIVES[hive]}\\{rest}]" if rest else f"[{HIVES[hive]}]")
        for val in key["values"].values():
            lines.extend(_export_value(val))
        lines.append("")
        for sub in subkeys(state, kpath):
            walk(f"{key['path']}\\{sub}")

    walk(c)
    return lines


class RegImportError(Exception):
    pass


_VALUE_RE = re.compile(r'^(@|"(?:[^"\\]|\\.)*")=(.*)$')


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _parse_data(raw: str) -> tuple[str, t.Any] | None:
    """``(type, data)`` of a .reg value, or None for ``-`` (delete)."""
    if raw == "-":
        return None
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return "string", _unescape(raw[1:-1])
    m = re.match(r"^dword:([0-9a-fA-F]{1,8})$", raw)
    if m:
        return "dword", int(m.group(1), 16)
    m = re.match(r"^hex(?:\(([0-9a-fA-F]+)\))?:(.*)$", raw)
    if not m:
        raise RegImportError(raw)
    kind = int(m.group(1), 16) if m.group(1) else 3
    body = m.group(2).replace(" ", "").rstrip(",")
    try:
        data = bytes(int(x, 16) for x in body.split(",") if x) if body else b""
    except ValueError as err:
        raise RegImportError(raw) from err
    if kind == 3:
        return "binary", list(data)
    if kind == 0:
        return "none", list(data)
    if kind == 4:
        return "dword", int.from_bytes(data[:4].ljust(4, b"\0"), "little")
    if kind == 11:
        return "qword", int.from_bytes(data[:8].ljust(8, b"\0"), "little")
    if kind in (1, 2):
        text = data.decode("utf-16-le", errors="replace").split("\0", 1)[0]
        return ("string" if kind == 1 else "expandstring"), text
    if kind == 7:
        text = data.decode("utf-16-le", errors="replace")
        parts = text.split("\0")
        while parts and parts[-1] == "":
            parts.pop()
        return "multistring", parts
    return "binary", list(data)


def parse_reg(text: str) -> list[tuple[str, str, t.Any]]:
    """Parse .reg text into operations: ``("key", path, None)``,
    ``("delete_key", path, None)``, ``("value", name, (type, data))`` and
    ``("delete_value", name, None)``.  Raises :class:`RegImportError`."""
    raw_lines = text.lstrip("\ufeff").splitlines()
    if not raw_lines or raw_lines[0].strip() not in ("Windows Registry Editor Version 5.00", "REGEDIT4"):
        raise RegImportError("header")
    lines: list[str] = []
    buf = ""
    for line in raw_lines[1:]:
        if buf:
            line = line.lstrip()
        if line.endswith("\\") and not line.rstrip().endswith('"'):
            buf += line[:-1]
            continue
        lines.append(buf + line)
        buf = ""
    if buf:
        lines.append(buf)
    ops: list[tuple[str, str, t.Any]] = []
    current = None
    for line in lines:
        s = line.strip()
        if not s or s.startswith(";"):
            continue
        if s.startswith("[") and s.endswith("]"):
            inner = s[1:-1]
            delete = inner.startswith("-")
            c = canonical(inner[1:] if delete else inner)
            if c is None or "\\" not in c:
                raise RegImportError(s)
            ops.append(("delete_key" if delete else "key", c, None))
            current = None if delete else c
            continue
        m = _VALUE_RE.match(s)
        if not m or current is None:
            raise RegImportError(s)
        name = "" if m.group(1) == "@" else _unescape(m.group(1)[1:-1])
        parsed = _parse_data(m.group(2).strip())
        if parsed is None:
            ops.append(("delete_value", name, current))
        else:
            ops.append(("value", name, (current, parsed)))
    return ops


def reg_import(state: dict[str, t.Any], ops: list[tuple[str, str, t.Any]]) -> None:
    for op, target, extra in ops:
        if op == "key":
            create_key(state, target)
        elif op == "delete_key":
            delete_tree(state, target)
        elif op == "delete_value":
            key = get_key(state, extra)
            if key is not None:
                key["values"].pop(target.lower(), None)
        else:
            kpath, (vtype, data) = extra
            set_value(state, kpath, target, vtype, data)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _compare_object(ref: list[str], diff: list[str]) -> int:
    """Number of ``Compare-Object`` results (case-insensitive multiset
    difference of the two line lists)."""
    pool: dict[str, int] = {}
    for line in diff:
        pool[line.lower()] = pool.get(line.lower(), 0) + 1
    missing = 0
    for line in ref:
        if pool.get(line.lower(), 0) > 0:
            pool[line.lower()] -= 1
        else:
            missing += 1
    return missing + sum(pool.values())


@model("community.windows.win_regmerge", upstream=UPSTREAM_MERGE, legacy_check_mode=False)
def win_regmerge(ctx: ModuleContext) -> dict[str, t.Any]:
    if ctx.check_mode:  # Parse-Args without -supports_check_mode
        return ctx.exit(skipped=True, msg="remote module does not support check mode")
    p = ctx.params
    state = ctx.state
    path, content, compare_to = p.get("path"), p.get("content"), p.get("compare_to")
    result: dict[str, t.Any] = {}
    if not path and not content:
        ctx.fail("Missing required arguments: path or content. At lease one must be provided.")
    if path and content:
        ctx.fail("Extra arguments: path or content. Only one must be provided.")
    label = path
    if content:
        text: str | None = content + "\r\n"  # Set-Content appends a line break
        digest = hashlib.sha1(content.encode("utf-8")).hexdigest()[:4].upper()
        label = f"C:\\Users\\Administrator\\AppData\\Local\\Temp\\tmp{digest}.tmp"
    else:
        path = st.expand_env(path, state)
        text = _decode(st.read_file(state, path)) if st.exists(state, path) and \
            st.get_item(state, path)["type"] == "file" else None

    def do_import(msg: str) -> None:
        err = "ERROR: Error opening the file. There may be a disk or file system error.\r\n"
        if text is not None:
            try:
                ops = parse_reg(text)
            except RegImportError:
                ops = None
                err = "ERROR: Error accessing the registry.\r\n"
            if ops is not None:
                reg_import(state, ops)
                return
        ctx.fail(msg, rc=1, stdout="", stderr=err, **result)

    do_comparison = False
    if compare_to:
        c = canonical(compare_to) if re.match(r"^HK(LM|CU):\\", compare_to, re.IGNORECASE) else None
        if c is not None and c.lower() in state["registry"]:
            do_comparison = True
        else:
            result["compare_to_key_found"] = False
    if do_comparison:
        if text is None:
            ctx.fail(f"Unhandled exception while executing module: Cannot find path '{st.normpath(path)}' because "
                     "it does not exist.")
        exported = reg_export(state, compare_to)
        count = _compare_object(text.splitlines(), exported)
        # ``Get-Member -Name count`` finds nothing on a single difference
        # object: the module then neither merges nor reports a change.
        if count > 1:
            do_import(f"error importing registry values from '{label}'")
            ctx.changed(True)
            result["difference_count"] = count
        else:
            result["difference_count"] = 0
        result["compared"] = True
    else:
        do_import(f"error importing registry value from '{label}'")
        ctx.changed(True)
        result["compared"] = False
    return ctx.exit(**result)

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

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
