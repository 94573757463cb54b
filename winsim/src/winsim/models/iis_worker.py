"""IIS worker processes (``w3wp.exe``) and the ASP.NET Core Module (ANCM V2):
which release a running application pool has loaded, and the file locks
that come with it.

No module of its own: ``http.py`` loads an application into its pool's
worker when it serves the first request, the IIS models unload it when
the pool or site stops, restarts or its configuration changes, and the file
models (``win_copy``, ``win_file``, ``win_robocopy``, ``win_unzip``) ask
:func:`locked_file` before they overwrite or delete a file.

Where: the host's runtime document ``iis_workers`` (``ctx.runtime``,
``<state_dir>/<host>.d/iis_workers.json``), not the state document: a
worker process is not configuration, a ``GET`` must not change the state
(the runner refuses a state change reported as ``changed: false``), and
``--check`` compares the state only.  Layout::

    {POOL: {"started": ISO, "apps": {"<site>|<application path>": {
        "site": "mcms", "application": "/", "physical_path": "D:\\mcms\\app\\releases\\1.4.0",
        "version": "1.4.0", "environment": "Production", "target": "Mcms.Api.dll",
        "hosting_model": "inprocess", "loaded": ISO}}}}

What is modelled (IIS 10 + ANCM V2, in-process and out-of-process hosting):

* A worker loads an application at its first request (``startMode``
  ``OnDemand``) from the application's physical path *at that moment*,
  and keeps serving that snapshot (version, environment) while the files
  change underneath: new files take effect only after an app pool recycle,
  pool restart, site restart, or an ``app_offline.htm`` cycle.
* A change of the application's ``physicalPath`` (site or application) is
  a configuration change for that application: IIS shuts the application
  down (ANCM stops the app) and the next request starts it from the new
  path.  Same for a stopped site or pool.  Changing an application pool's
  attributes recycles it (``disallowRotationOnConfigChange`` is false).
* ``app_offline.htm`` in the loaded root shuts the application down at
  once (ANCM watches the folder); requests get ``503`` with the file's
  content, and the first request after it is removed starts the app from
  the current physical path.
* While the application is loaded, the ``.dll`` and ``.exe`` files below
  its root are open in the worker (the app, its dependencies, the
  ``apphost`` exe): they cannot be overwritten or deleted
  (``ERROR_SHARING_VIOLATION``).  Other files (``appsettings*.json``,
  ``wwwroot``) stay writable, as on Windows.

Only a request the host serves *to itself* (``win_uri`` against its own
sites) can record a load: a request from another lab host reads the
server's state and workers read-only (what is loaded there is honoured),
and an application not loaded yet answers from a snapshot taken now,
without recording it.  Without a runtime (bare unit tests), nothing is
recorded and nothing is locked.
"""

from __future__ import annotations

import typing as t

from .. import state as st
from .iis import find_pool, find_site

__all__ = [
    "DOC",
    "LOCKED_TEXT",
    "app_key",
    "current_root",
    "host_workers",
    "identity_can_read",
    "load",
    "loaded_app",
    "locked_file",
    "note_written",
    "pool_identity",
    "save_workers",
    "unload_pool",
    "unload_root",
    "unload_site",
]

LOCKED_TEXT = "The process cannot access the file '{}' because it is being used by another process."
"""``IOException`` for ``ERROR_SHARING_VIOLATION`` (HRESULT 0x80070020)."""

_LOCKED_EXTENSIONS = (".dll", ".exe")


def app_key(site: str, application: str) -> str:
    return f"{site.lower()}|{(application or '/').lower()}"


DOC = "iis_workers"


def host_workers(runtime: t.Any) -> dict[str, t.Any]:
    """The calling host's workers document (``{}`` without a runtime)."""
    load = getattr(runtime, "load_doc", None)
    return load(DOC) if callable(load) else {}


def save_workers(runtime: t.Any, workers: dict[str, t.Any]) -> None:
    save = getattr(runtime, "save_doc", None)
    if callable(save):
        save(DOC, workers)


def _workers(workers: dict[str, t.Any]) -> dict[str, t.Any]:
    return workers if isinstance(workers, dict) else {}


def current_root(state: dict[str, t.Any], site_name: str, application: str) -> str | None:
    """The physical path the configuration gives the application now."""
    site = find_site(state, site_name)
    if site is None:
        return None
    if application in ("", "/"):
        return st.normpath(site["physical_path"], state)
    app = next((a for k, a in (site.get("applications") or {}).items() if k.lower() == application.lower()), None)
    return st.normpath(app["physical_path"], state) if app is not None else None


def _live(state: dict[str, t.Any], pool_name: str, rec: dict[str, t.Any]) -> bool:
    """Whether the loaded application still runs: pool and site started, the
    configuration still points at the loaded folder, no app_offline.htm."""
    pool = find_pool(state, pool_name)
    site = find_site(state, rec["site"])
    if pool is None or pool.get("state") != "Started" or site is None or site.get("state") != "Started":
        return False
    root = current_root(state, rec["site"], rec["application"])
    if root is None or root.lower() != str(rec["physical_path"]).lower():
        return False
    return not st.exists(state, rec["physical_path"] + "\\app_offline.htm")


def loaded_app(state: dict[str, t.Any], workers: dict[str, t.Any], pool_name: str, key: str
               ) -> dict[str, t.Any] | None:
    """The application loaded in ``pool_name``'s worker under ``key``, if it
    still runs."""
    for name, worker in _workers(workers).items():
        if name.lower() == pool_name.lower():
            rec = (worker.get("apps") or {}).get(key)
            if rec is not None and _live(state, name, rec):
                return rec
    return None


def load(state: dict[str, t.Any], workers: dict[str, t.Any], pool_name: str, key: str, rec: dict[str, t.Any],
         when: str) -> None:
    pool = find_pool(state, pool_name)
    name = pool["name"] if pool is not None else pool_name
    worker = workers.setdefault(name, {"started": when, "apps": {}})
    worker["apps"][key] = dict(rec, loaded=when)


def pool_start_failure(state: dict[str, t.Any], workers: dict[str, t.Any], pool: dict[str, t.Any],
                       lab: t.Any) -> tuple[dict[str, t.Any] | None, bool]:
    """``(failure, new)``: what WAS found when it started ``pool``'s worker
    process for the first request (the identity's logon, see
    ``identity.app_pool_start_failure``), ``None`` when it runs.  A failure
    stays recorded on the worker entry (the pool is disabled until it is
    started, recycled or reconfigured, which drops the entry); ``new`` says
    whether this request found it first."""
    for name, worker in _workers(workers).items():
        if name.lower() == str(pool.get("name", "")).lower():
            return worker.get("start_error"), False
    from .. import identity

    return identity.app_pool_start_failure(state, pool, lab), True


def record_start_failure(workers: dict[str, t.Any], pool_name: str, failure: dict[str, t.Any], when: str) -> None:
    workers[pool_name] = {"started": when, "apps": {}, "start_error": dict(failure)}


def unload_pool(workers: dict[str, t.Any], pool_name: str) -> None:
    """The pool's worker exits (stop, recycle, restart, configuration change)."""
    for name in [n for n in workers if n.lower() == pool_name.lower()]:
        del workers[name]


def _drop(workers: dict[str, t.Any], match: t.Callable[[dict[str, t.Any]], bool]) -> None:
    for name in list(workers):
        apps = workers[name].get("apps") or {}
        for key in [k for k, rec in apps.items() if match(rec)]:
            del apps[key]


def unload_site(workers: dict[str, t.Any], site_name: str) -> None:
    """The site's applications shut down (site stopped or restarted)."""
    _drop(workers, lambda rec: str(rec.get("site", "")).lower() == site_name.lower())


def unload_root(workers: dict[str, t.Any], root: str) -> None:
    """ANCM saw ``app_offline.htm`` appear in ``root``: the app shuts down."""
    _drop(workers, lambda rec: str(rec.get("physical_path", "")).lower() == st.normpath(root).lower())


def note_written(runtime: t.Any, path: str) -> None:
    """A file model wrote ``path``: an ``app_offline.htm`` shuts down the
    application running from its folder (ANCM's file watcher)."""
    norm = st.normpath(path)
    if norm.rsplit("\\", 1)[-1].lower() != "app_offline.htm":
        return
    parent = st.parent(norm)
    workers = host_workers(runtime)
    if parent is not None and workers:
        unload_root(workers, parent)
        save_workers(runtime, workers)


def _below(path: str, root: str) -> bool:
    p, r = path.lower().rstrip("\\"), root.lower().rstrip("\\")
    return p == r or p.startswith(r + "\\")


def locked_file(state: dict[str, t.Any], workers: dict[str, t.Any], path: str) -> str | None:
    """The first file at or below ``path`` that a running worker holds open
    (``None``: nothing there is locked).  Ask before overwriting or deleting
    ``path``."""
    if not isinstance(state.get("iis"), dict):
        return None
    target = st.normpath(path)
    for pool_name, worker in _workers(workers).items():
        for rec in (worker.get("apps") or {}).values():
            root = str(rec.get("physical_path") or "")
            if not root or not (_below(target, root) or _below(root, target)) or not _live(state, pool_name, rec):
                continue
            if _below(target, root) and target.lower().endswith(_LOCKED_EXTENSIONS):
                item = st.get_item(state, target)
                if item is not None and item["type"] == "file":
                    return item["path"]
            start = target if _below(target, root) else root
            item = st.get_item(state, start)
            if item is not None and item["type"] == "directory":
                for child in st.children(state, start, recurse=True):
                    if child["type"] == "file" and child["path"].lower().endswith(_LOCKED_EXTENSIONS):
                        return child["path"]
    return None


# -- who the worker runs as, and what it may read -----------------------------------

_IDENTITY_TYPES = {
    "localsystem": "NT AUTHORITY\\SYSTEM",
    "localservice": "NT AUTHORITY\\LOCAL SERVICE",
    "networkservice": "NT AUTHORITY\\NETWORK SERVICE",
}


def pool_identity(pool: dict[str, t.Any]) -> str:
    """The account the pool's worker runs as (``processModel``)."""
    attrs = pool.get("attributes") or {}
    kind = str(attrs.get("processModel.identityType") or "ApplicationPoolIdentity")
    if kind.lower() == "specificuser":
        return str(attrs.get("processModel.userName") or "")
    return _IDENTITY_TYPES.get(kind.lower(), f"IIS AppPool\\{pool['name']}")


_EVERYONE = ("everyone", "nt authority\\authenticated users", "builtin\\users", "builtin\\iis_iusrs")


def _account_names(state: dict[str, t.Any], identity: str) -> set[str]:
    """The names an access check matches for ``identity``: itself, the
    groups every worker identity is in (Everyone, Authenticated Users,
    Users, IIS_IUSRS), SYSTEM's Administrators, and the local groups that
    list it.  Deliberately tolerant (string compare); a full resolver may
    replace :func:`identity_can_read`."""
    ident = identity.lower()
    names = {ident, *_EVERYONE}
    if ident == "nt authority\\system":
        names.add("builtin\\administrators")
    short = ident.rsplit("\\", 1)[-1]
    for group_name, group in (state.get("groups") or {}).items():
        members = [str(m).lower() for m in (group.get("members") or [])] if isinstance(group, dict) else []
        if any(m == ident or m.rsplit("\\", 1)[-1] == short for m in members):
            names.add(f"builtin\\{str(group.get('name') or group_name).lower()}")
    return names


def _ace_applies(ace_identity: str, names: set[str]) -> bool:
    ace = ace_identity.lower()
    if ace in names:
        return True
    # "Users" for "BUILTIN\\Users", "IIS APPPOOL\\mcms" for "IIS AppPool\\mcms"
    return "\\" not in ace and any(n.rsplit("\\", 1)[-1] == ace for n in names)


_FILE_READ_DATA = 0x1


def identity_can_read(state: dict[str, t.Any], identity: str, path: str) -> bool:
    """Does ``identity`` have read access to ``path`` (its effective ACL,
    inheritance included)?  One function on purpose: the lab-wide identity
    resolver will replace it."""
    from .acl import fs_rights_mask

    try:
        aces = st.effective_acl(state, path)
    except FileNotFoundError:
        return False
    names = _account_names(state, identity)
    allowed = False
    for ace in aces:
        if not _ace_applies(str(ace.get("identity") or ""), names):
            continue
        try:
            mask = fs_rights_mask(str(ace.get("rights") or ""))
        except Exception:  # an unparsable rights string grants nothing
            continue
        reads = bool(mask & _FILE_READ_DATA) or bool(mask & 0x80000000) or bool(mask & 0x10000000)
        if not reads:
            continue
        if str(ace.get("type", "allow")).lower() == "deny":
            return False
        allowed = True
    return allowed


def locked_for(ctx: t.Any, path: str) -> str | None:
    """:func:`locked_file` for a model's own host (``ctx.state`` and
    ``ctx.runtime``): what the file models ask before a write or delete."""
    workers = host_workers(ctx.runtime)
    return locked_file(ctx.state, workers, path) if workers else None
