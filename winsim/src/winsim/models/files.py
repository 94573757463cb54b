"""Models of ``ansible.windows.win_file`` and ``ansible.windows.win_find``.

Both work on the shared file system in ``state["files"]`` (see
:mod:`..state`): a dict keyed by the lower-cased normalised path, each item
``{"path", "type": "file"|"directory", "created", "modified", "accessed"?,
"attributes": [...], "owner", "inherit", "acl", "size"?, "sha1"?,
"content"? (base64)}``.  ``accessed`` is optional (written by ``win_file``
when an access time is set; readers fall back to ``modified``).

Fidelity notes, from the module sources (ansible.windows 3.8.0):

* ``win_file`` is a Legacy module with ``supports_check_mode``; it has no
  diff support.  ``state: absent`` on an existing path always reports a
  change; ``state: touch`` always updates the time stamps to "now", so it
  always reports a change (Windows clocks have sub-second precision).
  Time stamps of an existing file or directory are only applied for
  ``touch`` (the module skips them otherwise), exactly like upstream.
  ``touch`` creates an empty file (``$null | Out-File``).
* ``win_find`` returns its documented keys for each matched item, sorted by
  path; link information is never set because winsim models no links, and
  shares are not modelled (``isshared`` false).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import re
import typing as t

from .. import state as st
from ..drift import Arg, DriftError, drift
from . import _winfs as fs
from . import iis_worker
from ._base import ModuleContext, model

_UPSTREAM = "ansible.windows 3.8.0"


# -- win_file ----------------------------------------------------------------

def _timestamp(ctx: ModuleContext, value: str, fmt: str, what: str) -> str | None:
    """Resolve ``now``/``preserve``/an explicit time into an ISO string;
    ``None`` means preserve."""
    if value == "preserve":
        return None
    if value == "now":
        return "now"
    try:
        return st.iso(fs.parse_dotnet_datetime(value, fmt))
    except ValueError:
        ctx.fail(f"Invalid {what} '{value}'")


def _apply_timestamps(ctx: ModuleContext, path: str, mtime: str | None, atime: str | None) -> bool:
    """Update-Timestamp: returns whether a time stamp differs (and sets it
    outside check mode)."""
    item = st.get_item(ctx.state, path)
    now = st.iso(ctx.now())
    changed = False
    for field, wanted in (("modified", mtime), ("accessed", atime)):
        if wanted is None:
            continue
        current = fs.item_time(item, field) if item else None
        if wanted == "now" or wanted != current:
            changed = True
            if item is not None and not ctx.check_mode:
                item[field] = now if wanted == "now" else wanted
    return changed


@model("ansible.windows.win_file", upstream=_UPSTREAM)
def win_file(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path = fs.resolve_path(ctx, p["path"])
    state = p.get("state")
    original_basename = p.get("_original_basename")
    item = st.get_item(ctx.state, path)
    if item is not None and item["type"] == "directory" and original_basename is not None:
        path = st.normpath(path + "\\" + original_basename)
        item = st.get_item(ctx.state, path)

    if p.get("_diff_peek") is not None:
        data = st.read_file(ctx.state, path) if item and item["type"] == "file" else b""
        return ctx.exit(path=p["path"], change=False, appears_binary=b"\0" in data[:8192],
                        state="file" if item else "absent")

    default = "now" if state == "touch" else "preserve"
    mtime = _timestamp(ctx, p.get("modification_time") or default,
                       p.get("modification_time_format") or "yyyy-MM-dd HH:mm:ss", "modification_time")
    atime = _timestamp(ctx, p.get("access_time") or default,
                       p.get("access_time_format") or "yyyy-MM-dd HH:mm:ss", "access_time")
    shown = p["path"]

    if state == "touch":
        if item is not None:
            ctx.changed(_apply_timestamps(ctx, path, mtime, atime))
        else:
            par = st.parent(path)
            if par is None or not st.exists(ctx.state, par) or st.get_item(ctx.state, par)["type"] != "directory":
                fs.unhandled(ctx, f"Could not find a part of the path '{path}'.")
            if not ctx.check_mode:
                try:
                    fs.write_bytes(ctx, path, b"")
                except st.DiskFull:
                    fs.unhandled(ctx, fs.disk_full_message())
                iis_worker.note_written(ctx.runtime, path)
            ctx.changed()
            _apply_timestamps(ctx, path, mtime, atime)
        item = st.get_item(ctx.state, path)

    if item is not None:
        if state == "absent":
            if not ctx.check_mode:
                locked = iis_worker.locked_for(ctx, path)
                if locked is not None:  # Remove-File's catch around Remove-Item (win_file.ps1)
                    ctx.fail(f"Failed to delete {locked}: {iis_worker.LOCKED_TEXT.format(locked)}")
                st.remove(ctx.state, path)
            ctx.changed()
        elif state == "directory" and item["type"] != "directory":
            ctx.fail(f"path {shown} is not a directory")
        elif state == "file" and item["type"] == "directory":
            ctx.fail(f"path {shown} is not a file")
    elif state == "touch" and ctx.check_mode:
        pass  # the file would have been created above
    else:
        if state is None:
            state = "file" if path.rstrip("\\").rsplit("\\", 1)[-1] and not shown.endswith(("\\", "/")) \
                else "directory"
        if state == "directory":
            if not fs.drive_exists(ctx, path):
                ctx.fail(f"Cannot find drive. A drive with the name '{st.drive_of(path).rstrip(':')}' "
                         "does not exist.")
            blocker = _file_in_chain(ctx, path)
            if blocker is not None:
                ctx.fail(f"An item with the specified name {blocker} already exists.")
            if not ctx.check_mode:
                st.make_dirs(ctx.state, path, st.iso(ctx.now()))
            ctx.changed()
            _apply_timestamps(ctx, path, mtime, atime)
        elif state == "file":
            ctx.fail(f"path {shown} will not be created")
    return ctx.exit()


def _file_in_chain(ctx: ModuleContext, path: str) -> str | None:
    """The first existing ancestor of ``path`` that is a file, if any."""
    cur = st.parent(path)
    while cur is not None:
        item = st.get_item(ctx.state, cur)
        if item is not None:
            return item["path"] if item["type"] != "directory" else None
        cur = st.parent(cur)
    return None


# -- win_find ----------------------------------------------------------------

_AGE_RE = re.compile(r"^(-?\d+)(s|m|h|d|w)?$", re.IGNORECASE)
_SIZE_RE = re.compile(r"^(-?\d+)(b|k|m|g|t)?$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BYTES = {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}
_STAMP_FIELD = {"mtime": "modified", "ctime": "created", "atime": "accessed"}


def _like(name: str, pattern: str) -> bool:
    """PowerShell ``-like``: case-insensitive ``*``, ``?`` and ``[...]``."""
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def find_file_info(ctx: ModuleContext, item: dict[str, t.Any], get_checksum: bool,
                   algorithm: str) -> dict[str, t.Any]:
    """The per-item dictionary ``win_find`` returns."""
    name = item["path"].rsplit("\\", 1)[-1]
    is_dir = item["type"] == "directory"
    info: dict[str, t.Any] = {
        "attributes": fs.attributes_string(item),
        "checksum": None,
        "creationtime": fs.epoch_seconds(item["created"]),
        "exists": True,
        "extension": None,
        "filename": name,
        "isarchive": fs.has_attribute(item, "Archive"),
        "isdir": is_dir,
        "ishidden": fs.has_attribute(item, "Hidden"),
        "isreadonly": fs.has_attribute(item, "ReadOnly"),
        "isreg": False,
        "isshared": False,
        "lastaccesstime": fs.epoch_seconds(fs.item_time(item, "accessed")),
        "lastwritetime": fs.epoch_seconds(item["modified"]),
        "owner": item.get("owner"),
        "path": item["path"],
        "sharename": None,
        "size": None,
    }
    if not is_dir:
        info["extension"] = ("." + name.rsplit(".", 1)[1]) if "." in name else ""
        info["isreg"] = True
        info["size"] = item.get("size", 0)
        if get_checksum:
            info["checksum"] = fs.checksum(st.read_file(ctx.state, item["path"]), algorithm)
    info.update({"isjunction": False, "islnk": False, "nlink": 1, "lnk_source": None,
                 "lnk_target": None, "hlnk_targets": []})
    return info


@model("ansible.windows.win_find", upstream=_UPSTREAM)
def win_find(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    result = ctx.exit(examined=0, files=[], matched=0)
    now = ctx.now()

    age_limit: float | None = None
    if p.get("age") is not None:
        m = _AGE_RE.match(str(p["age"]))
        if not m:
            ctx.fail("Invalid age pattern specified")
        age_limit = int(m.group(1)) * _SECONDS[(m.group(2) or "s").lower()]
    size_limit: int | None = None
    if p.get("size") is not None:
        m = _SIZE_RE.match(str(p["size"]))
        if not m:
            ctx.fail("Invalid size pattern specified")
        size_limit = int(m.group(1)) * _BYTES[(m.group(2) or "b").lower()]
    patterns = p.get("patterns")
    regexes: list[re.Pattern[str]] = []
    if patterns is not None and p.get("use_regex"):
        flags = 0 if p.get("case_sensitive") else re.IGNORECASE
        try:
            regexes = [re.compile(pat, flags) for pat in patterns]
        except re.error as exc:
            ctx.fail(f"Unhandled exception while executing module: parsing \"{exc.pattern}\" - {exc.msg}.")

    def matches(item: dict[str, t.Any]) -> bool:
        if age_limit is not None:
            stamp = st.parse_iso(fs.item_time(item, _STAMP_FIELD[p["age_stamp"]]))
            age = (now - stamp).total_seconds()
            if (age_limit >= 0 and age < age_limit) or (age_limit < 0 and age > -age_limit):
                return False
        ft = p.get("file_type", "file")
        if (ft == "file" and item["type"] == "directory") or (ft == "directory" and item["type"] != "directory"):
            return False
        if fs.has_attribute(item, "Hidden") and not p.get("hidden"):
            return False
        name = item["path"].rsplit("\\", 1)[-1]
        if patterns is not None:
            if p.get("use_regex"):
                if not any(rx.search(name) for rx in regexes):
                    return False
            elif not any(_like(name, pat) for pat in patterns):
                return False
        if size_limit is not None:
            if item["type"] == "directory":
                # DirectoryInfo has no Length: $null -ge N is false, $null -le N is true.
                if size_limit >= 0:
                    return False
            else:
                length = item.get("size", 0)
                if (size_limit >= 0 and length < size_limit) or (size_limit < 0 and length > -size_limit):
                    return False
        return True

    checked: set[str] = set()
    found: list[dict[str, t.Any]] = []

    def search(path: str, depth: int) -> None:
        for child in st.children(ctx.state, path):
            if child["type"] == "directory" and p.get("recurse") and depth != 1:
                search(child["path"], depth - 1)
            k = child["path"].lower()
            if k in checked:
                continue
            checked.add(k)
            result["examined"] += 1
            if not matches(child):
                continue
            result["matched"] += 1
            found.append(find_file_info(ctx, child, bool(p.get("get_checksum")),
                                        p.get("checksum_algorithm") or "sha1"))

    for raw in p["paths"]:
        path = fs.resolve_path(ctx, raw)
        item = st.get_item(ctx.state, path)
        if item is None:
            ctx.warn(f"Argument path '{path}' does not exist or is not accessible, skipping")
            continue
        if item["type"] != "directory":
            ctx.warn(f"Argument path '{path}' is a file not a directory, skipping")
            continue
        search(path, p.get("depth") or 0)

    result["files"] = sorted(found, key=lambda f: f["path"].lower())
    return result

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("remove-file", section="files", help="Delete a file or a folder with everything below it.",
       args=[Arg("path", "Windows path, e.g. D:\\mcms\\current\\web.config")])
def remove_file(state: dict[str, t.Any], now: _dt.datetime, *, path: str) -> str:
    if not st.exists(state, path):
        raise DriftError(f"no file or folder {st.normpath(path, state)}")
    removed = st.remove(state, path)
    return f"removed {len(removed)} item(s) at {st.normpath(path, state)}"


@drift("write-file", section="files", help="Create or overwrite a file (parents are created).",
       args=[Arg("path", "Windows path"), Arg("content", "new content (UTF-8 text)")])
def write_file(state: dict[str, t.Any], now: _dt.datetime, *, path: str, content: str) -> str:
    when = st.iso(now)
    par = st.parent(st.normpath(path, state))
    if par is None:
        raise DriftError(f"{path} is a drive root, not a file")
    st.make_dirs(state, par, when)
    try:
        st.write_file(state, path, content.encode("utf-8"), when)
    except st.DiskFull as exc:
        raise DriftError(f"the disk is full: {exc}") from exc
    except IsADirectoryError as exc:
        raise DriftError(f"{st.normpath(path, state)} is a folder") from exc
    return f"wrote {len(content.encode('utf-8'))} bytes to {st.normpath(path, state)}"
