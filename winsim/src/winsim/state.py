"""The host state document: one JSON document per simulated host.

The format is documented in ``winsim/docs/winsim.md`` and versioned by
``FORMAT_VERSION``.  A fresh document looks like a freshly installed Windows
Server 2022 Datacenter host that is not yet joined to a domain.

Each model file registers the fresh contents of the sections it owns with
:func:`section`; :func:`fresh_state` assembles them.  This module also holds
the Windows path and file-system helpers every model shares, so that a file
written by ``win_copy`` is the file ``win_stat``, ``win_acl`` and IIS see.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
import typing as t

FORMAT_VERSION = 2
"""2: private key files are sealed with the lab key (``secrets.py``); a
format 1 document is migrated on load (:func:`migrate`)."""

_SECTIONS: dict[str, t.Callable[..., t.Any]] = {}

PROFILES = ("bare", "realistic", "lived-in")
"""Host profiles (``winsim/docs/profiles.md``): what a host with no state
file yet looks like.  ``bare``: what the models need and nothing else (the
historical fresh document); ``realistic``: what a real fresh Windows Server
2022 also carries where the roles look (indirect firewall groups, the
default SCHANNEL keys, the WinRM HTTPS certificate); ``lived-in``:
realistic plus what real estates accumulate (unmanaged SCHANNEL keys, a
policy cipher suite order, old certificates, IIS with a legacy site)."""
DEFAULT_PROFILE = "bare"

_FINISHERS: dict[str, t.Callable[[dict[str, t.Any], str], None]] = {}


def section(name: str) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    """Register the factory of a fresh host's ``name`` section.  A factory
    taking one argument gets the host profile (see :data:`PROFILES`)."""

    def deco(factory: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        if name in _SECTIONS and _SECTIONS[name] is not factory:
            raise ValueError(f"winsim: state section {name!r} registered twice")
        _SECTIONS[name] = factory
        return factory

    return deco


def profile_finisher(name: str) -> t.Callable[[t.Callable[[dict[str, t.Any], str], None]],
                                                t.Callable[[dict[str, t.Any], str], None]]:
    """Register ``func(doc, profile)``, run (in name order) on a fresh
    document once every section exists and the host is named: for profile
    content that spans sections (a certificate with its key file, IIS
    pre-installed)."""

    def deco(func: t.Callable[[dict[str, t.Any], str], None]) -> t.Callable[[dict[str, t.Any], str], None]:
        if name in _FINISHERS and _FINISHERS[name] is not func:
            raise ValueError(f"winsim: profile finisher {name!r} registered twice")
        _FINISHERS[name] = func
        return func

    return deco


def check_profile(profile: t.Any) -> str:
    """``profile`` if it names a host profile, else a clear error."""
    if profile not in PROFILES:
        from .models._base import SimulatorError

        raise SimulatorError(f"winsim: unknown host profile {profile!r}: choose one of {', '.join(PROFILES)}")
    return str(profile)


def profile_of(state: dict[str, t.Any]) -> str:
    """The profile a host was created with (``bare`` for documents made
    before profiles existed)."""
    return str((state.get("host") or {}).get("profile") or DEFAULT_PROFILE)


def iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# The installation date of every fresh simulated host: fixed, so that fresh
# documents are reproducible byte for byte.
INSTALLED_AT = "2026-01-05T09:00:00Z"

_SYSTEM_DIRS = [
    "C:\\",
    "C:\\Windows",
    "C:\\Windows\\System32",
    "C:\\Windows\\Temp",
    "C:\\Program Files",
    "C:\\Program Files (x86)",
    "C:\\ProgramData",
    "C:\\Users",
    "C:\\Users\\Administrator",
    "C:\\Users\\Administrator\\AppData",
    "C:\\Users\\Administrator\\AppData\\Local",
    "C:\\Users\\Administrator\\AppData\\Local\\Temp",
    "D:\\",
]

DEFAULT_ACL = [
    {"identity": "NT AUTHORITY\\SYSTEM", "rights": "FullControl", "type": "allow",
     "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None", "inherited": True},
    {"identity": "BUILTIN\\Administrators", "rights": "FullControl", "type": "allow",
     "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None", "inherited": True},
    {"identity": "BUILTIN\\Users", "rights": "ReadAndExecute, Synchronize", "type": "allow",
     "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None", "inherited": True},
]


@section("host")
def _fresh_host() -> dict[str, t.Any]:
    return {
        "hostname": "WIN-SIM",
        "os_name": "Microsoft Windows Server 2022 Datacenter",
        "os_version": "10.0.20348.0",
        "os_build": "20348",
        "os_product_type": "server",
        "powershell_version": "5.1.20348.2849",
        "dotnet_framework": "4.8.04161",
        "domain": None,
        "workgroup": "WORKGROUP",
        "domain_role": "Standalone server",
        "ip_addresses": ["192.0.2.10"],
        "installed_at": INSTALLED_AT,
        "last_boot": INSTALLED_AT,
        "reboot_pending": False,
        "timezone": "UTC",
        "processor_count": 2,
        "memory_mb": 8192,
    }


@section("disks")
def _fresh_disks() -> dict[str, t.Any]:
    gib = 1024 ** 3
    return {
        "C:": {"size": 127 * gib, "free": 100 * gib, "label": "System"},
        "D:": {"size": 200 * gib, "free": 199 * gib, "label": "Data"},
    }


@section("env")
def _fresh_env() -> dict[str, str]:
    return {
        "SystemDrive": "C:",
        "SystemRoot": "C:\\Windows",
        "windir": "C:\\Windows",
        "ProgramFiles": "C:\\Program Files",
        "ProgramFiles(x86)": "C:\\Program Files (x86)",
        "ProgramData": "C:\\ProgramData",
        "TEMP": "C:\\Users\\Administrator\\AppData\\Local\\Temp",
        "TMP": "C:\\Users\\Administrator\\AppData\\Local\\Temp",
        "USERPROFILE": "C:\\Users\\Administrator",
        "COMPUTERNAME": "WIN-SIM",
        "PATH": "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
    }


@section("files")
def _fresh_files() -> dict[str, t.Any]:
    files: dict[str, t.Any] = {}
    for path in _SYSTEM_DIRS:
        files[key(path)] = _dir_entry(path, INSTALLED_AT)
    return files


def fresh_state(hostname: str = "WIN-SIM", profile: str = DEFAULT_PROFILE) -> dict[str, t.Any]:
    """A freshly installed Windows Server 2022 host named ``hostname``, as
    ``profile`` (:data:`PROFILES`) has it; an unknown profile is an error.

    Loads every model so that every section is registered."""
    import inspect

    from .models import load_all

    check_profile(profile)
    load_all()
    doc: dict[str, t.Any] = {"winsim_format": FORMAT_VERSION}
    for name in sorted(_SECTIONS):
        factory = _SECTIONS[name]
        doc[name] = factory(profile) if inspect.signature(factory).parameters else factory()
    netbios = re.sub(r"[^A-Za-z0-9-]", "-", hostname.split(".")[0]).upper()[:15]
    doc["host"]["hostname"] = netbios
    doc["host"]["profile"] = profile
    doc["env"]["COMPUTERNAME"] = netbios
    for name in sorted(_FINISHERS):
        _FINISHERS[name](doc, profile)
    return doc


def migrate(doc: dict[str, t.Any], state_dir: t.Any) -> list[str]:
    """Bring a loaded document of an older format up to ``FORMAT_VERSION``
    in place.  Returns what was done (one message per step, empty when the
    document was current).  A document of a newer format is refused."""
    from .models._base import SimulatorError

    version = doc.get("winsim_format")
    if version == FORMAT_VERSION:
        return []
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise SimulatorError(f"winsim: state format {version!r} is not supported (this winsim reads formats 1 to "
                             f"{FORMAT_VERSION}); upgrade winsim or reset the host")
    messages = []
    if version == 1:
        from . import secrets
        from .models.certificates import seal_clear_keys

        sealed = seal_clear_keys(doc, secrets.lab_key(state_dir))
        doc["winsim_format"] = 2
        messages.append(f"migrated from state format 1 to 2: sealed {len(sealed)} private key file(s) with the "
                        "lab key")
    return messages


# -- Windows paths --------------------------------------------------------

_ENV_RE = re.compile(r"%([^%]+)%")


def expand_env(path: str, state: dict[str, t.Any] | None = None) -> str:
    env = {k.lower(): v for k, v in ((state or {}).get("env") or _fresh_env()).items()}

    def repl(match: re.Match[str]) -> str:
        return env.get(match.group(1).lower(), match.group(0))

    return _ENV_RE.sub(repl, path)


def normpath(path: str, state: dict[str, t.Any] | None = None) -> str:
    """Canonical display form of a Windows path: environment variables
    expanded, ``/`` turned into ``\\``, ``.``/``..`` resolved, no trailing
    separator except on a drive root (``C:\\``)."""
    if path is None:
        raise ValueError("path is None")
    p = expand_env(str(path), state).replace("/", "\\")
    if p.startswith("\\\\?\\"):
        p = p[4:]
    drive = ""
    m = re.match(r"^([A-Za-z]):(.*)$", p)
    if m:
        drive = m.group(1).upper() + ":"
        p = m.group(2)
    parts = resolve_segments(p)
    if drive:
        return drive + "\\" + "\\".join(parts)
    return "\\".join(parts)


def resolve_segments(path: str) -> list[str]:
    """The segments of a ``\\``-separated path (without its drive) with empty
    and ``.`` segments dropped and ``..`` resolved (never above the root)."""
    parts: list[str] = []
    for part in path.split("\\"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return parts


def key(path: str, state: dict[str, t.Any] | None = None) -> str:
    """Case-insensitive lookup key of a Windows path."""
    return normpath(path, state).lower()


def parent(path: str) -> str | None:
    p = normpath(path)
    if re.match(r"^[A-Z]:\\$", p):
        return None
    head = p.rsplit("\\", 1)[0]
    if re.match(r"^[A-Z]:$", head):
        return head + "\\"
    return head


def is_absolute(path: str) -> bool:
    return bool(re.match(r"^([A-Za-z]:[\\/]|\\\\)", expand_env(str(path))))


# -- the file system --------------------------------------------------------

def _dir_entry(path: str, when: str) -> dict[str, t.Any]:
    return {
        "path": normpath(path),
        "type": "directory",
        "created": when,
        "modified": when,
        "attributes": ["Directory"],
        "owner": "BUILTIN\\Administrators",
        "inherit": True,
        "acl": [],
    }


def get_item(state: dict[str, t.Any], path: str) -> dict[str, t.Any] | None:
    return state["files"].get(key(path, state))


def exists(state: dict[str, t.Any], path: str) -> bool:
    return get_item(state, path) is not None


def children(state: dict[str, t.Any], path: str, recurse: bool = False) -> list[dict[str, t.Any]]:
    """Items directly below (or, with ``recurse``, anywhere below) ``path``,
    sorted by path."""
    prefix = key(path, state).rstrip("\\") + "\\"
    out = []
    for k, item in state["files"].items():
        if k.startswith(prefix) and k != prefix.rstrip("\\"):
            rest = k[len(prefix):]
            if recurse or "\\" not in rest:
                out.append(item)
    return sorted(out, key=lambda i: i["path"].lower())


def drive_of(path: str) -> str:
    p = normpath(path)
    return p[:2].upper() if re.match(r"^[A-Za-z]:", p) else ""


class DiskFull(Exception):
    """Raised when a write does not fit on the drive (``disk_full`` fault or
    real exhaustion of the simulated free space)."""


def make_dirs(state: dict[str, t.Any], path: str, when: str) -> list[str]:
    """Create ``path`` and its missing parents; return the created paths."""
    created = []
    chain = []
    p: str | None = normpath(path, state)
    while p is not None and not exists(state, p):
        chain.append(p)
        p = parent(p)
    if p is not None and get_item(state, p)["type"] != "directory":
        raise NotADirectoryError(p)
    for d in reversed(chain):
        state["files"][key(d)] = _dir_entry(d, when)
        created.append(d)
    return created


def write_file(state: dict[str, t.Any], path: str, data: bytes, when: str) -> dict[str, t.Any]:
    """Write ``data`` to ``path`` (parents must exist), keeping the ACL and
    creation time of an existing file.  Accounts for free disk space."""
    p = normpath(path, state)
    par = parent(p)
    if par is None or not exists(state, par):
        raise FileNotFoundError(par or p)
    old = get_item(state, p)
    if old is not None and old["type"] == "directory":
        raise IsADirectoryError(p)
    disk = state.get("disks", {}).get(drive_of(p))
    grow = len(data) - (old["size"] if old else 0)
    if disk is not None:
        if grow > disk["free"]:
            raise DiskFull(p)
        disk["free"] -= grow
    entry = {
        "path": p,
        "type": "file",
        "created": old["created"] if old else when,
        "modified": when,
        "attributes": old["attributes"] if old else ["Archive"],
        "owner": old["owner"] if old else "BUILTIN\\Administrators",
        "inherit": old["inherit"] if old else True,
        "acl": old["acl"] if old else [],
        "size": len(data),
        "sha1": hashlib.sha1(data).hexdigest(),
        "content": base64.b64encode(data).decode("ascii"),
    }
    state["files"][key(p)] = entry
    return entry


def read_file(state: dict[str, t.Any], path: str) -> bytes:
    item = get_item(state, path)
    if item is None:
        raise FileNotFoundError(normpath(path))
    if item["type"] != "file":
        raise IsADirectoryError(normpath(path))
    return base64.b64decode(item["content"])


def remove(state: dict[str, t.Any], path: str) -> list[str]:
    """Remove ``path`` and everything below it; return the removed paths."""
    k = key(path, state)
    removed = []
    prefix = k.rstrip("\\") + "\\"
    for kk in sorted(state["files"]):
        if kk == k or kk.startswith(prefix):
            item = state["files"].pop(kk)
            removed.append(item["path"])
            disk = state.get("disks", {}).get(drive_of(item["path"]))
            if disk is not None and item["type"] == "file":
                disk["free"] += item["size"]
    return removed


def effective_acl(state: dict[str, t.Any], path: str) -> list[dict[str, t.Any]]:
    """Explicit ACEs of ``path`` plus, while inheritance is enabled, the
    inheritable ACEs of its ancestors (marked ``inherited``).  Paths with no
    explicit ACE anywhere up the tree get the default volume ACL."""
    item = get_item(state, path)
    if item is None:
        raise FileNotFoundError(normpath(path))
    aces = [dict(a, inherited=False) for a in item.get("acl", [])]
    if item.get("inherit", True):
        par = parent(item["path"])
        if par is not None and exists(state, par):
            for ace in effective_acl(state, par):
                inh = ace.get("inheritance", "None")
                if item["type"] == "directory" and "ContainerInherit" not in inh:
                    continue
                if item["type"] == "file" and "ObjectInherit" not in inh:
                    continue
                aces.append(dict(ace, inherited=True))
        elif par is None:
            aces.extend(dict(a) for a in DEFAULT_ACL)
    return aces
