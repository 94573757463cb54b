"""Model of the project-owned ``mcms.infra.win_app_release`` (collections/ansible_collections/mcms/infra/
plugins/modules/win_app_release.ps1): one read of everything the ``app`` role decides a deploy from.

Reads the IIS application (``state["iis"]["sites"][site]["applications"]``), ``version.json`` in its
physical path, the folders under ``<app_root>\\releases``, the SHA-256 of the wanted release's files
(``Get-FileHash``), the shared folders and the Worker service (``Win32_Service``: ``State`` lower-cased,
``PathName``, ``StartName``). Writes nothing, in check mode or not.

With ``worker_account`` it says whether that account holds ``SeServiceLogonRight`` here (directly or through
a group: :func:`winsim.identity._holds_right`, what the service control manager checks before error 1069);
LocalSystem, LocalService, NetworkService and virtual accounts need none; an account that does not resolve
gives ``None``. Mismatched files come with the SHA-256 found (``release.found``); the drift records are the
role's (controller-side), the module returns none.

Fidelity notes: without IIS (no WebAdministration module) it returns ``iis_installed: false`` and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import typing as t

from .. import identity
from .. import state as st
from . import services
from ._base import ModuleContext, model
from .iis import _app_key, _find_app, _iis, find_site

_UPSTREAM = "mcms.infra 0.1.0"  # project-owned (collections/ansible_collections/mcms/infra)


def _version(state: dict[str, t.Any], path: str | None) -> str | None:
    if not path:
        return None
    item = st.get_item(state, path + "\\version.json")
    if item is None or item["type"] != "file":
        return None
    try:
        doc = json.loads(st.read_file(state, path + "\\version.json").decode("utf-8-sig"))
    except ValueError:
        return None
    return str(doc["version"]) if isinstance(doc, dict) and doc.get("version") is not None else None


def _logon_right(ctx: ModuleContext, account: str) -> bool | None:
    """Get-ServiceLogonRight of the module: whether ``account`` may log on as a service here."""
    if account.lower() == "localsystem":
        return True
    lab = identity.lab_of(ctx)
    resolved = identity.resolve(ctx.state, account, lab)
    if resolved is None:
        return None
    if resolved.sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20") or resolved.sid.startswith("S-1-5-80-"):
        return True
    return identity._holds_right(ctx.state, "SeServiceLogonRight", resolved, lab)


@model("mcms.infra.win_app_release", upstream=_UPSTREAM)
def win_app_release(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    root = st.normpath(p["app_root"]).rstrip("\\")
    releases_dir = root + "\\releases"
    release_dir = releases_dir + "\\" + p["version"]
    if not _iis(state).get("installed"):
        # Get-Module -ListAvailable WebAdministration finds nothing before IIS
        # is installed: the module says so instead of failing on Import-Module.
        return ctx.exit(changed=False, iis_installed=False)

    application: dict[str, t.Any] = {"exists": False, "physical_path": None, "application_pool": None}
    site = find_site(state, p["site"])
    found = _find_app(site, _app_key(p["application"])) if site else None
    if found is not None:
        app = found[1]
        application = {"exists": True, "physical_path": st.expand_env(app["physical_path"], state),
                       "application_pool": app.get("application_pool")}
    current = application["physical_path"]

    releases: list[str] = []
    item = st.get_item(state, releases_dir)
    if item is not None and item["type"] == "directory":
        releases = sorted(c["path"].rsplit("\\", 1)[-1] for c in st.children(state, releases_dir)
                          if c["type"] == "directory")

    missing: list[str] = []
    mismatched: list[str] = []
    found_hashes: dict[str, str] = {}
    for rel, expected in (p.get("files") or {}).items():
        path = release_dir + "\\" + str(rel).replace("/", "\\")
        entry = st.get_item(state, path)
        if entry is None or entry["type"] != "file":
            missing.append(rel)
            continue
        digest = hashlib.sha256(st.read_file(state, path)).hexdigest()
        if digest != str(expected).lower():
            mismatched.append(rel)
            found_hashes[rel] = digest

    shared_missing = [d for d in p.get("shared_dirs") or []
                      if (st.get_item(state, st.normpath(d)) or {}).get("type") != "directory"]

    worker: dict[str, t.Any] = {"exists": False, "state": None, "path": None, "username": None}
    if p.get("worker_service"):
        svc = services.get_service(state, p["worker_service"])
        if svc is not None:
            worker = {"exists": True, "state": {"started": "running"}.get(svc["state"], svc["state"]),
                      "path": svc.get("path"), "username": svc.get("username")}
        # The account the Worker is to run as; by default the one it runs as now.
        account = p.get("worker_account") or (svc.get("username") if svc is not None else "") or ""
        worker["account"] = account
        worker["logon_right"] = _logon_right(ctx, account) if account else None

    return ctx.exit(iis_installed=True,
        application=application, current_path=current, current_version=_version(state, current),
        releases=releases,
        release={"path": release_dir, "exists": (st.get_item(state, release_dir) or {}).get("type") == "directory",
                 "missing": missing, "mismatched": mismatched,
                 "found": found_hashes},
        shared_missing=shared_missing, worker=worker)
