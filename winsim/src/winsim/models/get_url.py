"""Model of ``ansible.windows.win_get_url`` (ansible.windows 3.8.0).

Downloads go through the lab's simulated HTTP (:func:`.http.send`): the
internal artifact server (``state["packages"]``: ``artifact_hosts`` and
``internal_urls``, see ``models/packages.py`` — the offline source of the
Hosting Bundle and other installers), ``file://`` paths on the host, and
files served by the IIS sites of lab hosts, reached through the lab's DNS
(``http.resolve``).  Nothing on the internet is reachable (``The remote
name could not be resolved``); https checks the calling host's trust.

Fidelity notes, from ``win_get_url.ps1``:

* ``dest`` may be a directory: the file name comes from the URL path (or
  the URL's host when the path has none).
* With ``checksum`` (or ``checksum_url``) and a matching ``dest``, nothing
  is requested.  ``force: true`` (the default) downloads and compares the
  checksums, reporting a change only when the content differs.
  ``force: false`` with an existing ``dest`` asks the server for
  ``Last-Modified`` (``HEAD``) and downloads only when the remote is newer.
* Non-2xx answers fail with ``Error downloading '<url>' to '<dest>': ...``
  and ``status_code`` set; the module's own messages are reproduced.
"""

from __future__ import annotations

import email.utils
import re
import typing as t
import urllib.parse

from .. import state as st
from . import _winfs as fs
from . import http
from ._base import ModuleContext, model

_UPSTREAM = "ansible.windows 3.8.0"


def _get(ctx: ModuleContext, url: str, method: str = "GET") -> http.Response:
    """``Invoke-AnsibleWindowsWebRequest`` without ``-IgnoreBadResponse``:
    a non-2xx status raises like the ``WebException`` it is."""
    resp = http.send(ctx, http.request_from_params(ctx, url, method))
    ctx.result["msg"] = resp.description
    ctx.result["status_code"] = resp.status
    if resp.status >= 400:
        raise http.WebError(f"The remote server returned an error: ({resp.status}) {resp.description}.")
    return resp


def _wrap(exc: http.WebError) -> str:
    return f'Exception calling "GetResponse" with "0" argument(s): "{exc}"'


def _checksum_from_url(ctx: ModuleContext, checksum_url: str, source_url: str) -> str:
    try:
        resp = _get(ctx, checksum_url)
    except http.WebError as exc:
        ctx.fail(f"Error when getting the remote checksum from '{checksum_url}'. {_wrap(exc)}")
    text = resp.body.decode("utf-8", "replace")
    basename = urllib.parse.unquote(urllib.parse.urlsplit(source_url).path).rsplit("/", 1)[-1]
    pattern = re.compile(r"\s+\.?/?\\?" + re.escape(basename) + r"\s*$", re.IGNORECASE)
    lines = [line for line in re.split(r"\r?\n", text) if pattern.search(line)]
    if not lines:
        ctx.fail(f"Checksum record not found for file name '{basename}' in file from url: '{checksum_url}'")
    return re.sub(r"\W+", "", lines[0].split(" ", 1)[0].strip())


def _download(ctx: ModuleContext, url: str, dest: str, checksum: str | None, dest_checksum: str | None,
              algorithm: str) -> None:
    par = st.parent(dest)
    if par is None or not st.exists(ctx.state, par) or st.get_item(ctx.state, par)["type"] != "directory":
        ctx.fail(f"The path '{par}' does not exist for destination '{dest}', or is not visible to the current user. "
                 "Ensure download destination folder exists (perhaps using win_file state=directory) before "
                 "win_get_url runs.")
    try:
        resp = _get(ctx, url)
    except http.WebError as exc:
        ctx.fail(f"Error downloading '{url}' to '{dest}': {_wrap(exc)}")
    tmp_checksum = fs.checksum(resp.body, algorithm)
    ctx.result["checksum_src"] = tmp_checksum
    if checksum and checksum != tmp_checksum:
        ctx.fail(f"The checksum for {url} did not match '{checksum}', it was '{tmp_checksum}'")
    if st.exists(ctx.state, dest) and dest_checksum == tmp_checksum:
        ctx.result["checksum_dest"] = dest_checksum
        ctx.result["size"] = st.get_item(ctx.state, dest).get("size", 0)
        return
    if not ctx.check_mode:
        try:
            fs.write_bytes(ctx, dest, resp.body)
        except st.DiskFull:
            ctx.fail(f"Error downloading '{url}' to '{dest}': {fs.disk_full_message()}")
    ctx.changed()


@model("ansible.windows.win_get_url", upstream=_UPSTREAM)
def win_get_url(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    url: str = p["url"]
    dest = fs.resolve_path(ctx, p["dest"])
    force = bool(p.get("force", True))
    algorithm = (p.get("checksum_algorithm") or "sha1").strip().lower()
    ctx.exit(elapsed=0, url=url)

    item = st.get_item(ctx.state, dest)
    if item is not None and item["type"] == "directory":
        parsed = urllib.parse.urlsplit(url)
        local = urllib.parse.unquote(parsed.path)
        base = local.rsplit("/", 1)[-1]
        dest = st.normpath(dest + "\\" + (base if local and local != "/" and base else (parsed.hostname or "")))
    elif p["dest"].endswith(("\\", "/")):
        ctx.fail(f"The destination path '{p['dest']}' does not exist, or is not visible to the current user. "
                 "Ensure download destination folder exists (perhaps using win_file state=directory) before "
                 "win_get_url runs.")
    ctx.result["dest"] = dest

    checksum = p["checksum"].strip().lower() if p.get("checksum") else None
    if p.get("checksum_url"):
        checksum_url = p["checksum_url"].strip()
        if urllib.parse.urlsplit(checksum_url).scheme.lower() not in ("file", "ftp", "http", "https"):
            ctx.fail(f"Unsupported 'checksum_url' value for '{dest}': '{checksum_url}'")
        checksum = _checksum_from_url(ctx, checksum_url, url)

    dest_checksum = None
    current = st.get_item(ctx.state, dest)
    if current is not None and current["type"] == "file":
        dest_checksum = fs.checksum(st.read_file(ctx.state, dest), algorithm)
        if checksum and dest_checksum != checksum:
            force = True

    ctx.result["elapsed"] = 0.0312
    if dest_checksum and checksum and dest_checksum == checksum and not force:
        ctx.result["checksum_dest"] = dest_checksum
        ctx.result["size"] = current.get("size", 0) if current else 0
    elif force or current is None:
        _download(ctx, url, dest, checksum, dest_checksum, algorithm)
    else:
        try:
            head = _get(ctx, url, "HEAD")
        except http.WebError as exc:
            ctx.fail(f"Error when requesting 'Last-Modified' date from '{url}'. {_wrap(exc)}")
        remote = head.header("Last-Modified")
        remote_time = email.utils.parsedate_to_datetime(remote) if remote else ctx.now()
        if remote_time > st.parse_iso(current["modified"]):
            _download(ctx, url, dest, checksum, dest_checksum, algorithm)

    final = st.get_item(ctx.state, dest)
    if "checksum_dest" not in ctx.result and final is not None and final["type"] == "file":
        ctx.result["checksum_dest"] = fs.checksum(st.read_file(ctx.state, dest), algorithm)
        ctx.result["size"] = final.get("size", 0)
    return ctx.result
