"""Model of ``community.windows.win_unzip`` (community.windows 3.3.0).

Archives are real files in ``state["files"]``; ``.zip`` files are read with
:mod:`zipfile` (``System.IO.Compression.ZipFile``), ``.tar``/``.tar.gz``/
``.tgz``/``.tar.bz2``/``.tbz2``/``.tar.xz``/``.txz`` with :mod:`tarfile`
(``%SystemRoot%\\System32\\tar.exe``, present on Windows Server 2022).
Other formats, ``recurse`` and ``password`` need the PSCX PowerShell module;
without it (``state["psmodules"]``) the module fails as upstream does, with
it winsim fails loudly (not simulated).

Fidelity notes (from ``win_unzip.ps1``): extracting a zip always reports a
change (every entry is rewritten), so the task is only idempotent with
``creates``; extracted files keep the entry's time stamp; an entry that
would land outside ``dest`` fails (zip slip); ``dest`` is created (with its
parents) without counting as a change; in check mode nothing is written.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import tarfile
import typing as t
import zipfile

from .. import state as st
from . import _winfs as fs
from . import iis_worker
from ._base import ModuleContext, SimulatorError, model

_UPSTREAM = "community.windows 3.3.0"
_TAR_RE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$", re.IGNORECASE)


def _pscx_installed(state: dict[str, t.Any]) -> bool:
    """``Get-Module -ListAvailable`` lists PSCX (``models/psmodules.py``)."""
    installed = (state.get("psmodules") or {}).get("installed") or {}
    return any(str(k).lower() == "pscx" for k in installed)


def _extract(ctx: ModuleContext, dest: str, members: list[tuple[str, bytes | None, _dt.datetime | None]],
             src: str) -> None:
    """Write ``(name, data or None for a directory, time)`` members below
    ``dest`` the way ``Expand-Zip`` does."""
    for name, data, when in members:
        target = st.normpath(dest + "\\" + name.replace("/", "\\"))
        if not (target.lower() + "\\").startswith(st.normpath(dest).lower().rstrip("\\") + "\\"):
            shown = dest.rstrip("\\") + "\\" + name
            ctx.fail(f"Error unzipping '{src}' to '{dest}'! Filename contains relative paths which would extract "
                     f"outside the destination: {shown}")
        entry_dir = target if data is None else st.parent(target)
        if entry_dir and not st.exists(ctx.state, entry_dir):
            if not ctx.check_mode:
                st.make_dirs(ctx.state, entry_dir, st.iso(ctx.now()))
            ctx.changed()
        if data is not None and not ctx.check_mode:
            locked = iis_worker.locked_for(ctx, target)
            if locked is not None:  # ExtractToFile opens the target for writing: ERROR_SHARING_VIOLATION
                ctx.fail(f"Error unzipping '{src}' to '{dest}'!. Method: System.IO.Compression.ZipFile, Exception: "
                         f"Exception calling \"ExtractToFile\" with \"3\" argument(s): "
                         f"\"{iis_worker.LOCKED_TEXT.format(locked)}\"")
            item = fs.write_bytes(ctx, target, data)
            iis_worker.note_written(ctx.runtime, target)
            if when is not None:
                item["modified"] = st.iso(when)
        ctx.changed()


def _zip_members(data: bytes) -> list[tuple[str, bytes | None, _dt.datetime | None]]:
    out: list[tuple[str, bytes | None, _dt.datetime | None]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            when = _dt.datetime(*info.date_time, tzinfo=_dt.UTC)
            if info.is_dir():
                out.append((info.filename.rstrip("/"), None, when))
            else:
                out.append((info.filename, archive.read(info), when))
    return out


def _tar_members(data: bytes) -> list[tuple[str, bytes | None, _dt.datetime | None]]:
    out: list[tuple[str, bytes | None, _dt.datetime | None]] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive.getmembers():
            when = _dt.datetime.fromtimestamp(member.mtime, tz=_dt.UTC)
            if member.isdir():
                out.append((member.name.rstrip("/"), None, when))
            elif member.isfile():
                handle = archive.extractfile(member)
                out.append((member.name, handle.read() if handle else b"", when))
    return out


@model("community.windows.win_unzip", upstream=_UPSTREAM, partial_on_failure=True)
def win_unzip(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    src_raw, dest_raw = p["src"], p["dest"]
    result = ctx.exit(dest=dest_raw.replace("$", ""), removed=False, src=src_raw.replace("$", ""))
    if p.get("creates") and st.exists(ctx.state, fs.resolve_path(ctx, p["creates"])):
        return ctx.exit(skipped=True, msg=f"The file or directory '{p['creates']}' already exists.")
    src = fs.resolve_path(ctx, src_raw)
    dest = fs.resolve_path(ctx, dest_raw)
    item = st.get_item(ctx.state, src)
    if item is None:
        ctx.fail(f"File '{src_raw}' does not exist.")
    dest_item = st.get_item(ctx.state, dest)
    if dest_item is None or dest_item["type"] != "directory":
        if not fs.drive_exists(ctx, dest):
            ctx.fail(f"Error creating '{dest_raw}' directory! Msg: Cannot find drive. A drive with the name "
                     f"'{st.drive_of(dest).rstrip(':')}' does not exist.")
        if dest_item is not None:
            ctx.fail(f"Error creating '{dest_raw}' directory! Msg: An item with the specified name {dest} already "
                     "exists.")
        if not ctx.check_mode:
            st.make_dirs(ctx.state, dest, st.iso(ctx.now()))

    name = src.rsplit("\\", 1)[-1].lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    password = p.get("password")
    recurse = bool(p.get("recurse"))
    try:
        if ext == ".zip" and not recurse and not password:
            data = st.read_file(ctx.state, src) if item["type"] == "file" else b""
            try:
                members = _zip_members(data)
            except (zipfile.BadZipFile, OSError) as exc:
                reason = "End of Central Directory record could not be found." if isinstance(
                    exc, zipfile.BadZipFile) else str(exc)
                ctx.fail(f"Error unzipping '{src_raw}' to '{dest_raw}'!. Method: System.IO.Compression.ZipFile, "
                         f"Exception: Exception calling \"Open\" with \"3\" argument(s): \"{reason}\"")
            _extract(ctx, dest, members, src_raw)
        elif _TAR_RE.search(name) and not password and not recurse:
            if ctx.check_mode:
                ctx.changed()
            else:
                try:
                    members = _tar_members(st.read_file(ctx.state, src))
                except (tarfile.TarError, OSError, EOFError) as exc:
                    ctx.fail(f"Error extracting '{src_raw}' to '{dest_raw}' using tar.exe (rc=1): tar.exe: Error "
                             f"opening archive: {exc}")
                _extract(ctx, dest, members, src_raw)
                ctx.changed()
        else:
            if not _pscx_installed(ctx.state):
                ctx.fail("PowerShellCommunityExtensions PowerShell Module (PSCX) is required for this archive type, "
                         "recursive extraction, or password-protected archives.")
            raise SimulatorError("winsim: community.windows.win_unzip through PSCX (recurse, password or "
                                 f"{ext or 'unknown'} archives) is not simulated")
    except st.DiskFull:
        ctx.fail(f"Error unzipping '{src_raw}' to '{dest_raw}'!. Method: System.IO.Compression.ZipFile, Exception: "
                 f"Exception calling \"ExtractToFile\" with \"3\" argument(s): \"{fs.disk_full_message()}\"")

    if p.get("delete_archive"):
        if not ctx.check_mode:
            st.remove(ctx.state, src)
        result["removed"] = True
    return result
