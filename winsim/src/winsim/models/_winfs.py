"""Helpers shared by the file-system, ACL, certificate, HTTP and archive
models (files-models engineer).

Everything here works on the shared file system in ``state["files"]``
through :mod:`..state`; nothing here keeps state of its own.  The helpers
reproduce small pieces of .NET / PowerShell behaviour the upstream modules
rely on (``FileAttributes.ToString()``, ``ConvertTo-Json`` of doubles,
``DateTime.ParseExact`` formats, the Legacy module wrapper's message for
unhandled exceptions) so that each model can stay close to its module's
source.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import typing as t

from .. import state as st

if t.TYPE_CHECKING:
    from ._base import ModuleContext

__all__ = [
    "EPOCH",
    "attributes_string",
    "checksum",
    "disk_full_message",
    "epoch_seconds",
    "item_time",
    "parse_dotnet_datetime",
    "ps_number",
    "resolve_path",
    "unhandled",
    "write_bytes",
]

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

# System.IO.FileAttributes, in value order: ``ToString()`` of a flags enum
# lists the set names in ascending value order.
_FILE_ATTRIBUTES = [
    ("ReadOnly", 0x1), ("Hidden", 0x2), ("System", 0x4), ("Directory", 0x10),
    ("Archive", 0x20), ("Device", 0x40), ("Normal", 0x80), ("Temporary", 0x100),
    ("SparseFile", 0x200), ("ReparsePoint", 0x400), ("Compressed", 0x800),
    ("Offline", 0x1000), ("NotContentIndexed", 0x2000), ("Encrypted", 0x4000),
]

_HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256,
           "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def unhandled(ctx: ModuleContext, message: str) -> t.NoReturn:
    """Fail the way ``module_wrapper.ps1`` reports an exception the module
    did not catch (``$ErrorActionPreference = 'Stop'`` in Legacy modules)."""
    ctx.fail(f"Unhandled exception while executing module: {message}")


def attributes_string(item: dict[str, t.Any]) -> str:
    """``FileSystemInfo.Attributes.ToString()`` of a state item."""
    names = set(item.get("attributes") or [])
    if item.get("type") == "directory":
        names.add("Directory")
    ordered = [name for name, _ in _FILE_ATTRIBUTES if name in names]
    return ", ".join(ordered) if ordered else "Normal"


def has_attribute(item: dict[str, t.Any], name: str) -> bool:
    if name == "Directory":
        return item.get("type") == "directory"
    return name in (item.get("attributes") or [])


def ps_number(value: float) -> int | float:
    """A double as ``ConvertTo-Json`` writes it: integral values carry no
    fractional part on the wire."""
    return int(value) if float(value).is_integer() else value


def epoch_seconds(when: str | _dt.datetime) -> int | float:
    if isinstance(when, str):
        when = st.parse_iso(when)
    return ps_number((when - EPOCH).total_seconds())


def item_time(item: dict[str, t.Any], which: str) -> str:
    """ISO time of a state item: ``created``, ``modified`` or ``accessed``
    (items written before access times were tracked fall back to
    ``modified``)."""
    if which == "accessed":
        return item.get("accessed") or item["modified"]
    return item[which]


def checksum(data: bytes, algorithm: str = "sha1") -> str:
    return _HASHES[algorithm](data).hexdigest()


def disk_full_message() -> str:
    return "There is not enough space on the disk."


def write_bytes(ctx: ModuleContext, path: str, data: bytes) -> dict[str, t.Any]:
    """Write a file through :func:`state.write_file`, honouring a
    ``disk_full`` fault on the target drive (``target`` = ``"C:"``) the way
    Windows reports it (``IOException``: not enough space)."""
    drive = st.drive_of(path)
    if ctx.faults.find("disk_full", drive) or ctx.faults.find("disk_full", drive.rstrip(":")):
        raise st.DiskFull(path)
    return st.write_file(ctx.state, path, data, st.iso(ctx.now()))


def resolve_path(ctx: ModuleContext, path: str) -> str:
    """Absolute display form of a path given to a module.  Relative paths
    resolve against the WinRM session's location, the connecting user's
    profile directory."""
    expanded = st.expand_env(path, ctx.state)
    if not st.is_absolute(expanded):
        home = ctx.state.get("env", {}).get("USERPROFILE", "C:\\Users\\Administrator")
        expanded = home + "\\" + expanded
    return st.normpath(expanded, ctx.state)


def drive_exists(ctx: ModuleContext, path: str) -> bool:
    drive = st.drive_of(path)
    disks = ctx.state.get("disks")
    if not drive:
        return True  # UNC paths: not modelled further
    if disks is None:
        return st.exists(ctx.state, drive + "\\")
    return drive in disks


# -- DateTime.ParseExact ---------------------------------------------------

_DOTNET_TOKENS = [
    ("yyyy", r"(?P<year>\d{4})"), ("MM", r"(?P<month>\d{2})"), ("M", r"(?P<month>\d{1,2})"),
    ("dd", r"(?P<day>\d{2})"), ("d", r"(?P<day>\d{1,2})"), ("HH", r"(?P<hour>\d{2})"),
    ("H", r"(?P<hour>\d{1,2})"), ("hh", r"(?P<hour12>\d{2})"), ("h", r"(?P<hour12>\d{1,2})"),
    ("mm", r"(?P<minute>\d{2})"), ("m", r"(?P<minute>\d{1,2})"), ("ss", r"(?P<second>\d{2})"),
    ("s", r"(?P<second>\d{1,2})"), ("fff", r"(?P<milli>\d{3})"), ("ff", r"(?P<centi>\d{2})"),
    ("f", r"(?P<deci>\d)"), ("tt", r"(?P<ampm>AM|PM)"), ("zzz", r"(?P<tz>[+-]\d{2}:\d{2})"),
    ("zz", r"(?P<tz>[+-]\d{2})"), ("z", r"(?P<tz>[+-]\d{1,2})"), ("K", r"(?P<tz>Z|[+-]\d{2}:\d{2})?"),
]


def parse_dotnet_datetime(value: str, fmt: str) -> _dt.datetime:
    """``[datetime]::ParseExact(value, fmt, $null)`` for the common custom
    format specifiers.  Without a zone specifier the time is local host time
    (winsim hosts run on UTC).  Raises ``ValueError`` like ParseExact throws
    ``FormatException``."""
    pattern = ""
    i = 0
    seen: set[str] = set()
    while i < len(fmt):
        if fmt[i] in "'\"":
            end = fmt.find(fmt[i], i + 1)
            if end < 0:
                raise ValueError("unterminated quote in format")
            pattern += re.escape(fmt[i + 1:end])
            i = end + 1
            continue
        if fmt[i] == "\\" and i + 1 < len(fmt):
            pattern += re.escape(fmt[i + 1])
            i += 2
            continue
        for token, rx in _DOTNET_TOKENS:
            if fmt.startswith(token, i):
                group = re.search(r"\?P<(\w+)>", rx).group(1)  # type: ignore[union-attr]
                if group in seen:
                    raise ValueError(f"repeated specifier {token}")
                seen.add(group)
                pattern += rx
                i += len(token)
                break
        else:
            pattern += re.escape(fmt[i])
            i += 1
    match = re.fullmatch(pattern, value.strip())
    if not match:
        raise ValueError(f"String '{value}' was not recognized as a valid DateTime.")
    g = {k: v for k, v in match.groupdict().items() if v is not None}
    hour = int(g.get("hour", 0))
    if "hour12" in g:
        hour = int(g["hour12"]) % 12 + (12 if g.get("ampm") == "PM" else 0)
    micro = 0
    if "milli" in g:
        micro = int(g["milli"]) * 1000
    elif "centi" in g:
        micro = int(g["centi"]) * 10000
    elif "deci" in g:
        micro = int(g["deci"]) * 100000
    tz = _dt.UTC
    if g.get("tz") and g["tz"] != "Z":
        sign = -1 if g["tz"][0] == "-" else 1
        hh, _, mm = g["tz"][1:].partition(":")
        tz = _dt.timezone(sign * _dt.timedelta(hours=int(hh), minutes=int(mm or 0)))
    when = _dt.datetime(int(g.get("year", 1)), int(g.get("month", 1)), int(g.get("day", 1)),
                        hour, int(g.get("minute", 0)), int(g.get("second", 0)), micro, tzinfo=tz)
    return when.astimezone(_dt.UTC)
