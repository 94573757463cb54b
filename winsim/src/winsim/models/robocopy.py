"""Model of ``community.windows.win_robocopy`` (community.windows 3.3.0).

``robocopy.exe`` is simulated on the shared file system: a source file is
copied when it is missing from the destination or differs in size or time
stamp ("same" files are skipped), time stamps are preserved, ``/s`` and
``/e`` recurse (``/e`` also creates empty directories), ``/purge`` and
``/mir`` delete extras, ``/l`` (added by the module in check mode) only
lists, ``/xf``/``/xd`` exclude by wildcard, ``/xo``/``/xn`` skip older/newer
sources, positional file patterns after ``dest`` filter files, and the
logging/retry/threading switches are accepted without effect.  An unknown
switch is an "Invalid Parameter" (return code 16), as robocopy answers.

The return code is robocopy's bit mask (1 copied, 2 extras, 4 mismatches,
8 failures, 16 fatal) and the module maps it to ``msg``/``changed``/
``failed`` exactly as ``win_robocopy.ps1`` does — including that a run
whose only effect was purging extras (rc 2) reports no change.
"""

from __future__ import annotations

import fnmatch
import re
import typing as t

from .. import state as st
from . import _winfs as fs
from . import iis_worker
from ._base import ModuleContext, model

_UPSTREAM = "community.windows 3.3.0"
_SEP = "-" * 79
_NO_EFFECT = re.compile(
    r"^/(z|b|zb|j|np|nfl|ndl|njh|njs|nc|ns|nj|ts|fp|bytes|tee|v|eta|fft|dst|sec|copyall|nocopy|secfix|timfix|"
    r"x|xx|xl|xj|xjd|xjf|sl|create|a|m|it|is|xc|(r|w|mt|copy|dcopy|lev|log|log\+|unilog|unilog\+|min|max|"
    r"maxage|minage|maxlad|minlad|ipg|rh|pf|a\+|a-|ia|xa|mon|mot):.*)$", re.IGNORECASE)

_MESSAGES = {
    # rc: (msg, changed, Add-Warning)
    0: ("No files copied.", False, False),
    1: ("Files copied successfully!", True, False),
    2: ("Some Extra files or directories were detected. No files were copied.", False, True),
    3: ("(2+1) Some files were copied. Additional files were present.", True, True),
    4: ("Some mismatched files or directories were detected. Housekeeping might be required!", True, True),
    5: ("(4+1) Some files were copied. Some files were mismatched.", True, True),
    6: ("(4+2) Additional files and mismatched files exist. No files were copied.", False, False),
    7: ("(4+1+2) Files were copied, a file mismatch was present, and additional files were present.", True, True),
}


def _search_for_error(lines: list[str], default: str) -> str:
    """``SearchForError``: the first line mentioning an error after the
    third separator line."""
    separators = 0
    for line in lines:
        if not line:
            continue
        if separators != 3:
            if re.match(r"^(\s+)?(-+)(\s+)?$", line):
                separators += 1
        elif re.search("error", line, re.IGNORECASE):
            return line
    return default


class _Options:
    def __init__(self, tokens: list[str]) -> None:
        self.files: list[str] = []
        self.recurse = self.empty_dirs = self.purge = self.list_only = False
        self.xf: list[str] = []
        self.xd: list[str] = []
        self.xo = self.xn = False
        self.invalid: tuple[int, str] | None = None
        mode = None
        for index, tok in enumerate(tokens, 3):
            low = tok.lower()
            if not tok:
                continue
            if not tok.startswith("/"):
                if mode == "xf":
                    self.xf.append(tok)
                elif mode == "xd":
                    self.xd.append(tok)
                else:
                    self.files.append(tok)
                continue
            mode = None
            if low == "/s":
                self.recurse = True
            elif low == "/e":
                self.recurse = self.empty_dirs = True
            elif low == "/purge":
                self.purge = True
            elif low == "/mir":
                self.recurse = self.empty_dirs = self.purge = True
            elif low == "/l":
                self.list_only = True
            elif low in ("/xf", "/xd"):
                mode = low[1:]
            elif low == "/xo":
                self.xo = True
            elif low == "/xn":
                self.xn = True
            elif not _NO_EFFECT.match(tok) and self.invalid is None:
                self.invalid = (index, tok)


def _excluded(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


@model("community.windows.win_robocopy", upstream=_UPSTREAM, partial_on_failure=True)
def win_robocopy(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    src_raw, dest_raw = p["src"], p["dest"]
    purge, recurse, flags = bool(p.get("purge")), bool(p.get("recurse")), p.get("flags")
    result = ctx.exit(dest=dest_raw, purge=purge, recurse=recurse, src=src_raw)
    src = fs.resolve_path(ctx, src_raw)
    dest = fs.resolve_path(ctx, dest_raw)
    if not st.exists(ctx.state, src):
        ctx.fail(f"{src_raw} does not exist!")

    opts_list = [src_raw, dest_raw]
    if ctx.check_mode:
        opts_list.append("/l")
    if flags is None:
        if purge:
            opts_list.append("/purge")
        if recurse:
            opts_list.append("/e")
    else:
        opts_list.extend(flags.split(" "))
    result["flags"] = flags
    result["cmd"] = "robocopy " + " ".join(opts_list)
    opts = _Options(opts_list[2:])

    header = ["", _SEP, "   ROBOCOPY     ::     Robust File Copy for Windows                              ", _SEP, "",
              f"  Started : {ctx.now().strftime('%A, %d %B %Y %H:%M:%S')}", f"   Source : {src}\\",
              f"     Dest : {dest}\\", "", "    Files : " + (" ".join(opts.files) or "*.*"), "",
              "  Options : " + " ".join(o.upper() for o in opts_list[2:] if o.startswith("/")) + " /R:1000000 /W:30",
              "", _SEP, ""]
    lines = list(header)
    rc = 0
    src_item = st.get_item(ctx.state, src)
    if opts.invalid is not None:
        lines += [f"ERROR : Invalid Parameter #{opts.invalid[0]} : \"{opts.invalid[1]}\"", ""]
        rc = 16
    elif src_item["type"] != "directory":
        lines += [f"{ctx.now().strftime('%Y/%m/%d %H:%M:%S')} ERROR 267 (0x0000010B) Accessing Source Directory "
                  f"{src}\\", "The directory name is invalid.", ""]
        rc = 16
    else:
        rc = _sync(ctx, src, dest, opts, lines)

    result["msg"] = "Success"
    result["output"] = lines
    result["return_code"] = rc
    result["rc"] = rc
    if rc in _MESSAGES:
        msg, changed, warn = _MESSAGES[rc]
        result["msg"] = msg
        if changed:
            ctx.changed()
        elif not ctx.check_mode:
            # upstream maps rc 2/4/6 (extra files purged ...) to changed=false
            ctx.unreported_change = True
        if rc != 0:
            result["failed"] = False
        if warn:
            ctx.warn(msg)
        return result
    if rc == 8:
        ctx.fail(_search_for_error(lines, "Some files or directories could not be copied!"))
    if 9 <= rc <= 15:
        ctx.fail(_search_for_error(lines, "Fatal error. Check log message!"))
    ctx.fail(_search_for_error(lines, "Serious Error! No files were copied! Do you have permissions to access "
                                      f"{src_raw} and {dest_raw}?"))


def _sync(ctx: ModuleContext, src: str, dest: str, opts: _Options, lines: list[str]) -> int:
    rc = 0
    copied = extras = 0
    apply = not opts.list_only and not ctx.check_mode
    when = st.iso(ctx.now())

    def walk(sdir: str, ddir: str, level: int) -> None:
        nonlocal rc, copied, extras
        dest_item = st.get_item(ctx.state, ddir)
        if dest_item is not None and dest_item["type"] != "directory":
            rc |= 4
            return
        src_children = st.children(ctx.state, sdir)
        files = [c for c in src_children if c["type"] == "file"
                 and (not opts.files or any(fnmatch.fnmatchcase(_name(c).lower(), f.lower()) for f in opts.files))
                 and not _excluded(_name(c), opts.xf)]
        dirs = [c for c in src_children if c["type"] == "directory" and not _excluded(_name(c), opts.xd)]
        lines.append(f"\t                  {len(files)}\t{sdir}\\")
        dest_children = {(_name(c)).lower(): c for c in st.children(ctx.state, ddir)} if dest_item else {}
        if dest_item is None and (files or opts.empty_dirs or level == 0) and apply:
            st.make_dirs(ctx.state, ddir, when)
        for f in files:
            target = dest_children.get(_name(f).lower())
            if target is not None and target["type"] == "directory":
                rc |= 4
                lines.append(f"\t  *Mismatch\t\t{f.get('size', 0)}\t{_name(f)}")
                continue
            if target is not None:
                same = target.get("size") == f.get("size") and target["modified"] == f["modified"]
                older = st.parse_iso(f["modified"]) < st.parse_iso(target["modified"])
                if same or (opts.xo and older) or (opts.xn and not older):
                    continue
                label = "Older" if older else "Newer"
            else:
                label = "New File"
            lines.append(f"\t    {label}  \t\t{f.get('size', 0)}\t{_name(f)}")
            rc |= 1
            copied += 1
            if apply:
                path = ddir + "\\" + _name(f)
                if iis_worker.locked_for(ctx, path) is not None:
                    # ERROR_SHARING_VIOLATION: a running IIS worker holds the file (models/iis_worker.py)
                    rc |= 8
                    lines.append(f"{ctx.now().strftime('%Y/%m/%d %H:%M:%S')} ERROR 32 (0x00000020) Copying File "
                                 f"{f['path']}")
                    lines.append("The process cannot access the file because it is being used by another process.")
                    lines.append("")
                    lines.append("ERROR: RETRY LIMIT EXCEEDED.")
                    continue
                try:
                    item = fs.write_bytes(ctx, path, st.read_file(ctx.state, f["path"]))
                except st.DiskFull:
                    rc |= 8
                    lines.append(f"{ctx.now().strftime('%Y/%m/%d %H:%M:%S')} ERROR 112 (0x00000070) Copying File "
                                 f"{f['path']}")
                    lines.append(fs.disk_full_message())
                    continue
                item["modified"] = f["modified"]
                item["attributes"] = list(f.get("attributes") or ["Archive"])
                iis_worker.note_written(ctx.runtime, path)
        src_names = {_name(c).lower() for c in files + dirs}
        for name, extra in dest_children.items():
            if name in src_names:
                continue
            filtered_out = bool(opts.files) and not any(fnmatch.fnmatchcase(name, f.lower()) for f in opts.files)
            if extra["type"] == "file" and (filtered_out or _excluded(name, opts.xf)):
                continue
            if extra["type"] == "directory" and (not opts.recurse or _excluded(name, opts.xd)):
                continue
            rc |= 2
            extras += 1
            lines.append(f"\t   *EXTRA {'Dir ' if extra['type'] == 'directory' else 'File'}\t\t{extra['path']}")
            if opts.purge and apply:
                locked = iis_worker.locked_for(ctx, extra["path"])
                if locked is not None:
                    rc |= 8
                    lines.append(f"{ctx.now().strftime('%Y/%m/%d %H:%M:%S')} ERROR 32 (0x00000020) Deleting Extra "
                                 f"File {locked}")
                    lines.append("The process cannot access the file because it is being used by another process.")
                    continue
                st.remove(ctx.state, extra["path"])
        if opts.recurse:
            for d in dirs:
                has_content = any(c["type"] == "file" for c in st.children(ctx.state, d["path"], recurse=True))
                if opts.empty_dirs or has_content:
                    walk(d["path"], ddir + "\\" + _name(d), level + 1)

    walk(src, dest, 0)
    lines += ["", _SEP, "", "               Total    Copied   Skipped  Mismatch    FAILED    Extras",
              f"    Files :    {copied:>6}    {copied:>6}         0         0         0    {extras:>6}", ""]
    return rc


def _name(item: dict[str, t.Any]) -> str:
    return item["path"].rsplit("\\", 1)[-1]
