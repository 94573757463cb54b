"""Models of the modules ansible-core's and ansible.windows' action plugins
drive to move files and poll jobs: ``win_copy`` (all internal ``_copy_mode``
values; ``win_template`` renders on the controller and then runs the
``win_copy`` action, so it reaches winsim as ``win_copy``), ``win_stat``
(also what ``fetch`` and diff use through ``ansible.legacy.stat``),
``slurp`` and ``async_status``.

Written from ansible.windows 3.8.0 (``win_copy.ps1``, ``win_stat.ps1``,
``slurp.ps1``, ``async_status.ps1``).  They use no state section of their
own: they read and write the shared file system ``state["files"]`` through
the ``state.py`` helpers, and the files ``put_file`` sent through
``ctx.runtime`` (temporary directories are not part of the state).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import typing as t
import zipfile

from .. import state as st
from ..spec import register_internal_options
from ._base import ModuleContext, model

UPSTREAM = "ansible.windows 3.8.0"

register_internal_options("ansible.windows.win_copy", {
    "_copy_mode": {"type": "str", "default": "single", "choices": ["explode", "query", "remote", "single"]},
    "_original_basename": {"type": "str"},
    "files": {"type": "list"},
    "directories": {"type": "list"},
    "symlinks": {"type": "list"},
})
register_internal_options("ansible.windows.async_status", {
    "_async_dir": {"type": "path", "required": True},
})

# System.IO.FileAttributes, in enum order (how Attributes.ToString() lists them).
_ATTRIBUTE_ORDER = ["ReadOnly", "Hidden", "System", "Directory", "Archive", "Device", "Normal", "Temporary",
                    "SparseFile", "ReparsePoint", "Compressed", "Offline", "NotContentIndexed", "Encrypted",
                    "IntegrityStream", "NoScrubData"]


# -- file-system view shared by the models -------------------------------------------------

class _FS:
    """The host file system as a module sees it: the state's files plus the
    runtime's temporary directories (read-only here)."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.runtime = ctx.runtime

    def _tmp(self, path: str) -> bool:
        return self.runtime is not None and self.runtime.is_tmp(path)

    def is_file(self, path: str) -> bool:
        if self._tmp(path):
            return self.runtime.tmp_exists(path) and not self.runtime.tmp_is_dir(path)
        item = st.get_item(self.state, path)
        return item is not None and item["type"] == "file"

    def is_dir(self, path: str) -> bool:
        if self._tmp(path):
            return self.runtime.tmp_is_dir(path)
        item = st.get_item(self.state, path)
        return item is not None and item["type"] == "directory"

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def read(self, path: str) -> bytes:
        if self._tmp(path):
            return self.runtime.read_tmp(path)
        return st.read_file(self.state, path)

    def when(self) -> str:
        return st.iso(self.ctx.now())

    def make_dirs(self, path: str) -> None:
        st.make_dirs(self.state, path, self.when())

    def _not_locked(self, path: str) -> None:
        """A file a running IIS worker holds open cannot be replaced or
        deleted (``models/iis_worker.py``): ``Copy-Item``/``Remove-Item``
        raise, and the Legacy module wrapper reports it unhandled."""
        from . import _winfs, iis_worker

        locked = iis_worker.locked_for(self.ctx, path)
        if locked is not None:
            _winfs.unhandled(self.ctx, iis_worker.LOCKED_TEXT.format(locked))

    def write(self, path: str, data: bytes) -> None:
        self._not_locked(path)
        st.write_file(self.state, path, data, self.when())
        from . import iis_worker

        iis_worker.note_written(self.runtime, path)

    def remove(self, path: str) -> None:
        self._not_locked(path)
        st.remove(self.state, path)

    def children(self, path: str) -> list[dict[str, t.Any]]:
        return st.children(self.state, path)


def _join(path: str, child: str) -> str:
    """``Join-Path -Path $path -ChildPath $child``."""
    child = child.replace("/", "\\")
    return path.rstrip("\\/") + "\\" + child.lstrip("\\")


def _leaf(path: str) -> str:
    """``Split-Path -Leaf`` (both separators)."""
    return path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1]


def _dirname(path: str) -> str | None:
    """``[System.IO.Path]::GetDirectoryName``."""
    p = path.replace("/", "\\")
    if len(p) <= 3 and p[1:2] == ":":
        return None
    head, sep, _tail = p.rstrip("\\").rpartition("\\") if not p.endswith("\\") else (p[:-1], "\\", "")
    if not sep:
        return ""
    if len(head) == 2 and head[1] == ":":
        return head + "\\"
    return head


def _checksum(data: bytes, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _cwd(ctx: ModuleContext) -> str:
    return str(ctx.state.get("env", {}).get("USERPROFILE", "C:\\Users\\Administrator"))


def _absolute(ctx: ModuleContext, path: str) -> str:
    return path if st.is_absolute(path) else _join(_cwd(ctx), path)


# -- win_copy ------------------------------------------------------------------------------

class _Copy:
    """``win_copy.ps1`` Copy-File / Copy-Folder / Backup-File."""

    def __init__(self, ctx: ModuleContext, fs: _FS) -> None:
        self.ctx = ctx
        self.fs = fs
        self.force = bool(ctx.params.get("force", True))
        self.check = ctx.check_mode

    def backup(self, path: str) -> str | None:
        if not self.fs.is_file(path):
            return None
        stamp = self.ctx.now().astimezone().strftime("%Y%m%d-%H%M%S")
        backup = f"{path}.{os.getpid()}.{stamp}.bak"
        if not self.check:
            self.fs.write(backup, self.fs.read(path))
        return backup

    def copy_file(self, source: str, dest: str, backup: bool = False) -> tuple[str, str | None]:
        diff = ""
        source_checksum = _checksum(self.fs.read(source)) if self.force else None
        copy_file = False
        if self.fs.is_dir(dest):
            self.ctx.fail(f"cannot copy file from '{source}' to '{dest}': dest is already a folder")
        elif self.fs.is_file(dest):
            if self.force and _checksum(self.fs.read(dest)) != source_checksum:
                copy_file = True
        else:
            copy_file = True
        if copy_file:
            file_dir = _dirname(dest) or _cwd(self.ctx)
            if self.fs.is_file(file_dir):
                self.ctx.fail(f"cannot copy file from '{source}' to '{dest}': object at dest parent dir is not a "
                              "folder")
            elif not self.fs.exists(file_dir):
                if not self.check:
                    self.fs.make_dirs(file_dir)
                diff += f"+{file_dir}\\\n"
            if backup:
                self.ctx.result["backup_file"] = self.backup(dest)
            if self.fs.is_file(dest):
                if not self.check:
                    self.fs.remove(dest)
                diff += f"-{dest}\n"
            if not self.check:
                self.fs.write(dest, self.fs.read(source))
            diff += f"+{dest}\n"
            self.ctx.changed()
        return diff, source_checksum

    def copy_folder(self, source: str, dest: str) -> str:
        diff = ""
        if not self.fs.is_dir(dest):
            parent_dir = _dirname(dest) or _cwd(self.ctx)
            if self.fs.is_file(parent_dir):
                self.ctx.fail(f"cannot copy file from '{source}' to '{dest}': object at dest parent dir is not a "
                              "folder")
            if self.fs.is_file(dest):
                self.ctx.fail(f"cannot copy folder from '{source}' to '{dest}': dest is already a file")
            if not self.check:
                self.fs.make_dirs(dest)
            diff += f"+{dest}\\\n"
            self.ctx.changed()
        for child in self.fs.children(source):
            name = _leaf(child["path"])
            dest_child = _join(dest, name)
            if child["type"] == "directory":
                diff += self.copy_folder(child["path"], dest_child)
            else:
                diff += self.copy_file(child["path"], dest_child)[0]
        return diff


def _size(fs: _FS, path: str) -> int:
    item = st.get_item(fs.state, path)
    if item is None:
        return 0
    if item["type"] == "file":
        return int(item.get("size", 0))
    return sum(int(c.get("size", 0)) for c in st.children(fs.state, path, recurse=True) if c["type"] == "file")


@model("ansible.windows.win_copy", upstream=UPSTREAM, partial_on_failure=True)
def win_copy(ctx: ModuleContext) -> dict[str, t.Any]:
    """``win_copy.ps1``: the four modes the action plugin drives."""
    p = ctx.params
    fs = _FS(ctx)
    mode = p.get("_copy_mode") or "single"
    src, dest = p.get("src"), p.get("dest")
    if not dest:
        ctx.fail("Get-AnsibleParam: Missing required argument: dest")
    if not src and mode in ("explode", "single"):
        ctx.fail("Get-AnsibleParam: Missing required argument: src")
    if ctx.diff_mode:
        ctx.result["diff"] = {}
    copier = _Copy(ctx, fs)

    if mode == "query":
        changed_files: list[t.Any] = []
        changed_dirs: list[t.Any] = []
        for file in p.get("files") or []:
            filename = str(file.get("dest"))
            filepath = _absolute(ctx, _join(dest, filename))
            if fs.is_dir(filepath):
                filename = _join(filename, _leaf(str(file.get("src"))))
                filepath = _absolute(ctx, _join(dest, filename))
            if fs.is_file(filepath):
                if copier.force and _checksum(fs.read(filepath)) != file.get("checksum"):
                    changed_files.append(file)
            elif fs.is_dir(filepath):
                ctx.fail(f"cannot copy file to dest '{filepath}': object at path is already a directory")
            else:
                changed_files.append(file)
        for directory in p.get("directories") or []:
            dirpath = _absolute(ctx, _join(dest, str(directory.get("dest"))))
            parent_dir = _dirname(dirpath)
            if parent_dir and fs.is_file(parent_dir):
                ctx.fail(f"cannot copy folder to dest '{dirpath}': object at parent directory path is already a file")
            if fs.is_file(dirpath):
                ctx.fail(f"cannot copy folder to dest '{dirpath}': object at path is already a file")
            elif not fs.is_dir(dirpath):
                changed_dirs.append(directory)
        return ctx.exit(files=changed_files, directories=changed_dirs, symlinks=[])

    if mode == "explode":
        if not fs.is_file(src):
            ctx.fail(f"Cannot expand src zip file: '{src}' as it does not exist")
        try:
            archive = zipfile.ZipFile(io.BytesIO(fs.read(src)))
        except zipfile.BadZipFile as exc:
            ctx.fail(f"Exception calling \"Open\" with \"3\" argument(s): \"{exc}\"")
        with archive:
            for entry in archive.infolist():
                name = entry.filename
                pad = len(name) % 4
                if pad == 0:
                    is_dir, b64 = False, name
                elif pad == 1 and name.endswith(("/", "\\")):
                    is_dir, b64 = True, name[:-1]
                elif pad == 1:
                    ctx.fail(f"invalid base64 archive name '{name}'")
                else:
                    ctx.fail(f"invalid base64 length '{name}'")
                try:
                    decoded = base64.b64decode(b64, validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    ctx.fail(f"invalid base64 archive name '{name}'")
                target = st.normpath(_join(dest, decoded + ("/" if is_dir else "")))
                entry_dir = target if is_dir else (_dirname(target) or dest)
                if not fs.exists(entry_dir) and not ctx.check_mode:
                    fs.make_dirs(entry_dir)
                if not is_dir and not ctx.check_mode:
                    fs.write(target, archive.read(entry))
        ctx.changed()
        return ctx.result

    if mode == "remote":
        ctx.result["src"] = src
        ctx.result["dest"] = dest
        if not fs.exists(src):
            ctx.fail(f"Cannot copy src file: '{src}' as it does not exist")
        remote_dest = dest
        if fs.is_dir(src):
            ctx.result["operation"] = "folder_copy"
            if src.endswith(("/", "\\")):
                diff = ""
                for child in fs.children(src):
                    dest_child = _join(dest, _leaf(child["path"]))
                    if child["type"] == "directory":
                        diff += copier.copy_folder(child["path"], dest_child)
                    else:
                        diff += copier.copy_file(child["path"], dest_child)[0]
            else:
                item = st.get_item(ctx.state, src)
                remote_dest = _join(dest, _leaf(item["path"]))
                ctx.result["dest"] = remote_dest
                diff = copier.copy_folder(src, remote_dest)
        else:
            ctx.result["operation"] = "file_copy"
            item = st.get_item(ctx.state, src)
            basename = _leaf(item["path"]) if item else _leaf(src)
            ctx.result["original_basename"] = basename
            if dest.endswith(("/", "\\")) or fs.is_dir(dest):
                remote_dest = _join(dest, basename)
            ctx.result["dest"] = remote_dest
            parent_dir = _dirname(remote_dest)
            if not parent_dir:
                parent_dir = _cwd(ctx)
                remote_dest = _join(parent_dir, remote_dest)
            if fs.is_file(parent_dir):
                ctx.fail(f"object at destination parent dir '{parent_dir}' is currently a file")
            elif not fs.is_dir(parent_dir):
                if dest == remote_dest:
                    ctx.fail(f"Destination directory '{parent_dir}' does not exist")
                elif not ctx.check_mode:
                    fs.make_dirs(parent_dir)
            diff, checksum = copier.copy_file(src, remote_dest)
            ctx.result["checksum"] = checksum
        if not ctx.check_mode or fs.is_file(remote_dest):
            ctx.result["size"] = _size(fs, remote_dest)
        else:
            ctx.result["size"] = None
        if ctx.diff_mode:
            ctx.result["diff"]["prepared"] = diff
        return ctx.result

    # single
    if not fs.is_file(src):
        ctx.fail(f"Cannot copy src file: '{src}' as it does not exist")
    remote_dest = dest
    if dest.endswith(("/", "\\")) or fs.is_dir(dest):
        remote_dest = _join(dest, str(p.get("_original_basename") or ""))
    parent_dir = _dirname(remote_dest) or _cwd(ctx)
    if not st.is_absolute(remote_dest):
        remote_dest = _join(_cwd(ctx), remote_dest)
    if fs.is_file(parent_dir):
        ctx.fail(f"object at destination parent dir '{parent_dir}' is currently a file")
    elif not fs.is_dir(parent_dir):
        if dest == remote_dest:
            ctx.fail(f"Destination directory '{parent_dir}' does not exist")
        elif not ctx.check_mode:
            fs.make_dirs(parent_dir)
    if p.get("backup"):
        ctx.result["backup_file"] = copier.backup(remote_dest)
    if not ctx.check_mode:
        fs.write(remote_dest, fs.read(src))
    ctx.changed()
    return ctx.result


# -- win_stat --------------------------------------------------------------------------------

def _epoch(iso_time: str | None) -> float | None:
    if not iso_time:
        return None
    return (st.parse_iso(iso_time) - st.parse_iso("1970-01-01T00:00:00Z")).total_seconds()


def _attributes(item: dict[str, t.Any]) -> list[str]:
    attrs = set(item.get("attributes") or [])
    return [a for a in _ATTRIBUTE_ORDER if a in attrs] + sorted(attrs - set(_ATTRIBUTE_ORDER))


@model("ansible.windows.win_stat", upstream=UPSTREAM)
def win_stat(ctx: ModuleContext) -> dict[str, t.Any]:
    """``win_stat.ps1``: information about a file or directory."""
    p = ctx.params
    path = p["path"]
    item = st.get_item(ctx.state, path)
    if item is None:
        return ctx.exit(stat={"exists": False})
    attrs = _attributes(item)
    name = _leaf(item["path"]) if not item["path"].endswith(":\\") else item["path"]
    stat: dict[str, t.Any] = {
        "exists": True,
        "attributes": ", ".join(attrs),
        "isarchive": "Archive" in attrs,
        "isdir": False,
        "ishidden": "Hidden" in attrs,
        "isjunction": False,
        "islnk": False,
        "isreadonly": "ReadOnly" in attrs,
        "isreg": False,
        "isshared": False,
        "nlink": 1,
        "hlnk_targets": [],
        "creationtime": _epoch(item.get("created")),
        "lastaccesstime": _epoch(item.get("accessed") or item.get("modified")),
        "lastwritetime": _epoch(item.get("modified")),
        "path": item["path"],
        "filename": name,
        "owner": item.get("owner"),
    }
    if item["type"] == "directory":
        stat["isdir"] = True
        share = _share_of(ctx.state, item["path"])
        if share is not None:
            stat["isshared"] = True
            stat["sharename"] = share
        if p.get("get_size"):
            stat["size"] = _size(_FS(ctx), item["path"])
    else:
        dot = name.rfind(".")
        stat["extension"] = name[dot:] if dot > 0 else ""
        stat["isreg"] = True
        if p.get("get_checksum"):
            stat["checksum"] = _checksum(st.read_file(ctx.state, item["path"]), p.get("checksum_algorithm") or "sha1")
        if p.get("get_size"):
            stat["size"] = int(item.get("size", 0))
    link = item.get("link")
    if isinstance(link, dict):
        kind = link.get("type")
        if kind in ("SymbolicLink", "JunctionPoint"):
            stat["islnk" if kind == "SymbolicLink" else "isjunction"] = True
            stat["isreg"] = False
            stat["lnk_target"] = link.get("target")
            stat["lnk_source"] = st.normpath(link.get("target", ""))
    return ctx.exit(stat=stat)


def _share_of(state: dict[str, t.Any], path: str) -> str | None:
    shares = state.get("shares")
    if not isinstance(shares, dict):
        return None
    for name, share in shares.items():
        if isinstance(share, dict) and st.key(str(share.get("path", ""))) == st.key(path):
            return str(name)
    return None


# -- slurp ---------------------------------------------------------------------------------

@model("ansible.windows.slurp", upstream=UPSTREAM)
def slurp(ctx: ModuleContext) -> dict[str, t.Any]:
    """``slurp.ps1``: a file's content, base64 encoded."""
    src = ctx.params.get("src")
    if not src:
        ctx.fail("Get-AnsibleParam: Missing required argument: src")
    fs = _FS(ctx)
    if fs.is_file(src):
        return ctx.exit(content=base64.b64encode(fs.read(src)).decode("ascii"), encoding="base64")
    if fs.is_dir(src):
        ctx.fail(f"Path {src} is a directory")
    ctx.fail(f"Path {src} is not found")


# -- async_status --------------------------------------------------------------------------

@model("ansible.windows.async_status", upstream=UPSTREAM)
def async_status(ctx: ModuleContext) -> dict[str, t.Any]:
    """``async_status.ps1``: status or cleanup of an async job (winsim runs
    the job to completion when it is started)."""
    p = ctx.params
    jid, mode, async_dir = p.get("jid"), p.get("mode") or "status", p.get("_async_dir")
    if not jid:
        ctx.fail("Get-AnsibleParam: Missing required argument: jid")
    if not async_dir:
        ctx.fail("Get-AnsibleParam: Missing required argument: _async_dir")
    log_path = f"{async_dir.rstrip(chr(92))}\\{jid}"
    data = ctx.runtime.read_async(async_dir, jid) if ctx.runtime is not None else None
    if data is None:
        ctx.fail(f"could not find job at '{async_dir}'", ansible_job_id=jid, started=1, finished=1)
    if mode == "cleanup":
        if not ctx.check_mode:
            ctx.runtime.remove_async(async_dir, jid)
        return ctx.exit(ansible_job_id=jid, erased=log_path)
    result = dict(data)
    if "started" not in result:
        result["finished"] = 1
        result["ansible_job_id"] = jid
    elif "finished" not in result:
        result["finished"] = 0
    ctx.result.clear()
    ctx.result.update(result)
    ctx.result.setdefault("changed", False)
    return ctx.result
