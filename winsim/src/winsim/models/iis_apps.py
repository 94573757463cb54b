"""IIS applications and virtual directories: ``microsoft.iis.web_application``,
``web_application_info``, ``virtual_directory`` and ``virtual_directory_info``
(microsoft.iis 1.3.0); the ``iis`` state section is documented in ``iis.py``."""

from __future__ import annotations

import typing as t

from .. import state as st
from ._base import ModuleContext, model
from .iis import (
    UPSTREAM,
    _app_key,
    _find_app,
    _full_name,
    _require_webadministration,
    _test_path,
    find_site,
    password_digest,
    resolve_url,
)

# -- microsoft.iis.web_application ---------------------------------------------------------

def _missing_site_error(site: str) -> RuntimeError:
    return RuntimeError(f"Cannot find path 'IIS:\\Sites\\{site}' because it does not exist.")


@model("microsoft.iis.web_application", upstream=UPSTREAM)
def web_application(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a web application under a site."""
    p = ctx.params
    name, site_name, state = p["name"], p["site"], p["state"]
    physical_path = p.get("physical_path")
    application_pool = p.get("application_pool")
    connect_as, username, password = p.get("connect_as"), p.get("username"), p.get("password")
    if connect_as == "specific_user":
        if not username:
            ctx.fail("missing required arguments: username")
        if not password:
            ctx.fail("missing required arguments: password")
    _require_webadministration(ctx)

    site = find_site(ctx.state, site_name)
    path = _app_key(name)
    found = _find_app(site, path) if site else None
    if not application_pool:
        application_pool = site["application_pool"] if site else None
    try:
        if state == "present" and found is None:
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            if not _test_path(ctx, physical_path):
                ctx.fail(f"specified folder must already exist: '{physical_path}'")
            if not ctx.check_mode:
                if site is None:
                    raise _missing_site_error(site_name)
                site["applications"][path] = {
                    "path": path, "application_pool": application_pool or "",
                    "physical_path": physical_path, "enabled_protocols": "http",
                    "username": "", "password": ""}
            ctx.changed()
        if state == "absent" and found is not None:
            if not ctx.check_mode:
                _remove_app(site, found[0])
            ctx.changed()

        found = _find_app(site, path) if site else None
        if found is not None:
            app = found[1]
            if physical_path:
                if not _test_path(ctx, physical_path):
                    ctx.fail(f"specified folder must already exist: '{physical_path}'")
                if _full_name(physical_path).lower() != app["physical_path"].lower():
                    if not ctx.check_mode:
                        app["physical_path"] = physical_path
                    ctx.changed()
            if application_pool and application_pool.lower() != app["application_pool"].lower():
                if not ctx.check_mode:
                    app["application_pool"] = application_pool
                ctx.changed()
            if connect_as == "pass_through":
                if app["username"] != "":
                    if not ctx.check_mode:
                        app["username"] = ""
                    ctx.changed()
                if app["password"] != "":
                    if not ctx.check_mode:
                        app["password"] = ""
                    ctx.changed()
            elif connect_as == "specific_user":
                if app["username"].lower() != str(username).lower():
                    if not ctx.check_mode:
                        app["username"] = username
                    ctx.changed()
                if app["password"] != password_digest(password):
                    if not ctx.check_mode:
                        app["password"] = password_digest(password)
                    ctx.changed()
    except RuntimeError as exc:
        ctx.fail(str(exc))
    return ctx.exit()


def _remove_app(site: dict[str, t.Any], path: str) -> None:
    """``Remove-WebApplication``: the application and its virtual directories."""
    site["applications"].pop(path, None)
    for key in [k for k, v in site["virtual_directories"].items() if v["application"].lower() == path.lower()]:
        del site["virtual_directories"][key]


# -- microsoft.iis.web_application_info --------------------------------------------------------

@model("microsoft.iis.web_application_info", upstream=UPSTREAM)
def web_application_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about web applications (optionally filtered by name and site)."""
    ctx.exit(exists=False, applications=[])
    _require_webadministration(ctx, "Failed to load WebAdministration module, Exception: ")
    name, site_filter = ctx.params.get("name"), ctx.params.get("site")
    apps = []
    for site in ctx.state["iis"]["sites"].values():
        if site_filter and site["name"].lower() != site_filter.lower():
            continue
        for path, app in site["applications"].items():
            if name and path.strip("/").lower() != name.strip("/").lower():
                continue
            apps.append({
                "name": path.lstrip("/"),
                "site": site["name"],
                "connect_as": "specific_user" if app["username"] else "pass_through",
                "username": app["username"] or "",
                "application_pool": app["application_pool"],
                "physical_path": app["physical_path"],
                "enabled_protocols": app.get("enabled_protocols", "http"),
            })
    return ctx.exit(exists=bool(apps), applications=apps)


# -- microsoft.iis.virtual_directory -------------------------------------------------------------

def _vdir_key(application: str | None, name: str) -> tuple[str, str, str]:
    """(full URL path key, application path, vdir path within the application)."""
    app_path = _app_key(application) if application else "/"
    vdir_path = "/" + name.replace("\\", "/").strip("/")
    full = (app_path.rstrip("/") + vdir_path) if app_path != "/" else vdir_path
    return full, app_path, vdir_path


def _find_vdir(site: dict[str, t.Any], full: str) -> tuple[str, dict[str, t.Any]] | None:
    for key, vdir in site["virtual_directories"].items():
        if key.lower() == full.lower():
            return key, vdir
    return None


@model("microsoft.iis.virtual_directory", upstream=UPSTREAM)
def virtual_directory(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a virtual directory."""
    p = ctx.params
    name, site_name, application, state = p["name"], p["site"], p.get("application"), p["state"]
    physical_path = p.get("physical_path")
    connect_as, username, password = p.get("connect_as"), p.get("username"), p.get("password")
    if connect_as == "specific_user" and (not username or not password):
        if not username and not password:
            ctx.fail("Both username and password are required.")
        elif not username:
            ctx.fail("Username is required.")
        else:
            ctx.fail("Password is required.")
    _require_webadministration(ctx)
    site = find_site(ctx.state, site_name)
    full, app_path, vdir_path = _vdir_key(application, name)
    try:
        if state == "present":
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            if not _test_path(ctx, physical_path):
                ctx.fail(f"specified folder must already exist: '{physical_path}'")
            found = _find_vdir(site, full) if site else None
            if found is None:
                if not ctx.check_mode:
                    if site is None:
                        raise _missing_site_error(site_name)
                    if app_path != "/" and _find_app(site, app_path) is None:
                        raise RuntimeError(f"Cannot find path 'IIS:\\Sites\\{site_name}\\{application}' "
                                           "because it does not exist.")
                    app_key = _find_app(site, app_path)[0] if app_path != "/" else "/"
                    site["virtual_directories"][full] = {
                        "path": vdir_path, "application": app_key, "physical_path": physical_path,
                        "username": "", "password": ""}
                ctx.changed()
            else:
                vdir = found[1]
                if vdir["physical_path"].lower() != physical_path.lower():
                    if not ctx.check_mode:
                        vdir["physical_path"] = physical_path
                    ctx.changed()
                if connect_as == "specific_user":
                    if vdir["username"].lower() != str(username).lower():
                        if not ctx.check_mode:
                            vdir["username"] = username
                        ctx.changed()
                    if vdir["password"] != password_digest(password):
                        if not ctx.check_mode:
                            vdir["password"] = password_digest(password)
                        ctx.changed()
                elif connect_as == "pass_through":
                    if vdir["username"]:
                        if not ctx.check_mode:
                            vdir["username"] = ""
                        ctx.changed()
                    if vdir["password"]:
                        if not ctx.check_mode:
                            vdir["password"] = ""
                        ctx.changed()
        elif state == "absent" and site is not None:
            _remove_iis_path(ctx, site, full)
    except RuntimeError as exc:
        ctx.fail(str(exc))
    return ctx.exit()


def _remove_iis_path(ctx: ModuleContext, site: dict[str, t.Any], full: str) -> None:
    """``Test-Path IIS:\\Sites\\site\\path`` then ``Remove-Item -Recurse``:
    the path may name a virtual directory, an application, or a physical
    folder below the site's content (which the IIS provider deletes from disk)."""
    prefix = full.lower().rstrip("/") + "/"
    vdirs = [k for k in site["virtual_directories"] if k.lower() == full.lower() or k.lower().startswith(prefix)]
    apps = [k for k in site["applications"] if k.lower() == full.lower() or k.lower().startswith(prefix)]
    if vdirs or apps:
        if not ctx.check_mode:
            for k in apps:
                _remove_app(site, k)
            for k in vdirs:
                site["virtual_directories"].pop(k, None)
        ctx.changed()
        return
    resolved = resolve_url(ctx.state, site["name"], full)
    if resolved is not None and st.exists(ctx.state, resolved["physical_path"]):
        if not ctx.check_mode:
            st.remove(ctx.state, resolved["physical_path"])
        ctx.changed()


# -- microsoft.iis.virtual_directory_info -----------------------------------------------------------

@model("microsoft.iis.virtual_directory_info", upstream=UPSTREAM)
def virtual_directory_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about virtual directories (optionally filtered)."""
    _require_webadministration(ctx, "Failed to ensure WebAdministration module is loaded: ")
    name, site_filter, app_filter = ctx.params.get("name"), ctx.params.get("site"), ctx.params.get("application")
    directories = []
    for site in ctx.state["iis"]["sites"].values():
        if site_filter and site["name"].lower() != site_filter.lower():
            continue
        for vdir in site["virtual_directories"].values():
            if app_filter and vdir["application"].lower() != _app_key(app_filter).lower():
                continue
            if name and vdir["path"].strip("/").lower() != name.replace("\\", "/").strip("/").lower():
                continue
            directories.append({
                "name": vdir["path"].strip("/"),
                "site": site["name"],
                "physical_path": vdir["physical_path"],
                "application": vdir["application"].lstrip("/"),
                "username": vdir["username"],
                "connect_as": "specific_user" if vdir["username"] else "pass_through",
            })
    return ctx.exit(exists=bool(directories), directories=directories)
