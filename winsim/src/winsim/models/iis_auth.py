"""IIS authentication sections: ``microsoft.iis.authentication`` (microsoft.iis
1.3.0); the ``iis`` state section is documented in ``iis.py``."""

from __future__ import annotations

import typing as t

from .. import state as st
from ._base import ModuleContext, model
from .iis import (
    UPSTREAM,
    _app_key,
    _find_app,
    _require_webadministration,
    effective_authentication,
    find_site,
    resolve_url,
)
from .iis_apps import _find_vdir

# -- microsoft.iis.authentication ------------------------------------------------------------------

def _auth_view(effective: dict[str, t.Any], auth_type: str) -> dict[str, t.Any]:
    """``Get-IISAuthConfig``: the module's view of one authentication type."""
    conf = effective.get(auth_type, {})
    view: dict[str, t.Any] = {"enabled": bool(conf.get("enabled", False))}
    if auth_type == "WindowsAuthentication":
        view["providers"] = list(conf.get("providers", []))
        view["use_kernel_mode"] = bool(conf.get("use_kernel_mode", True))
        view["token_checking"] = str(conf.get("token_checking", "None"))
    return view


def _auth_same(current: dict[str, t.Any], desired: dict[str, t.Any], auth_type: str) -> bool:
    """``Compare-IISAuthConfig`` (string comparisons are case-insensitive)."""
    if current["enabled"] != desired["enabled"]:
        return False
    if auth_type == "WindowsAuthentication":
        return (",".join(current["providers"]).lower() == ",".join(desired["providers"]).lower()
                and current["use_kernel_mode"] == desired["use_kernel_mode"]
                and current["token_checking"].lower() == desired["token_checking"].lower())
    return True


def _iis_path_exists(ctx: ModuleContext, site: dict[str, t.Any], application: str) -> bool:
    """``Test-Path IIS:\\Sites\\site\\application``: an application, a
    virtual directory, or a physical folder under the site's content."""
    full = _app_key(application)
    if _find_app(site, full) is not None or _find_vdir(site, full) is not None:
        return True
    resolved = resolve_url(ctx.state, site["name"], full)
    return resolved is not None and st.exists(ctx.state, resolved["physical_path"])


@model("microsoft.iis.authentication", upstream=UPSTREAM)
def authentication(ctx: ModuleContext) -> dict[str, t.Any]:
    """Enable/disable an authentication type at a site or application, with
    Windows authentication's providers, kernel mode and token checking."""
    p = ctx.params
    site_name, application, auth_type = p["site"], p.get("application"), p["auth_type"]
    enabled, providers = p.get("enabled"), p.get("providers")
    use_kernel_mode, token_checking = p.get("use_kernel_mode"), p.get("token_checking")
    _require_webadministration(ctx, "Failed to ensure WebAdministration module is loaded: ")

    if auth_type != "WindowsAuthentication":
        supplied = [n for n, v in (("providers", providers), ("use_kernel_mode", use_kernel_mode),
                                   ("token_checking", token_checking)) if v is not None]
        if supplied:
            ctx.warn(f"The option(s) {', '.join(supplied)} are only valid with auth_type=WindowsAuthentication "
                     f"and are ignored for {auth_type}.")

    site = find_site(ctx.state, site_name)
    if site is None:
        ctx.fail(f"Unable to resolve an IIS site named '{site_name}'. Verify the site exists on the target host.")
    if application and not _iis_path_exists(ctx, site, application):
        ctx.fail(f"Unable to resolve an application or virtual directory named '{application}' under site "
                 f"'{site_name}'. Verify it exists on the target host.")
    target = f"IIS:\\Sites\\{site_name}\\{application}" if application else f"IIS:\\Sites\\{site_name}"
    ctx.exit(target=target)
    location = _app_key(application) if application else "/"

    before = _auth_view(effective_authentication(ctx.state, site["name"], location), auth_type)
    after: dict[str, t.Any] = {"enabled": enabled if enabled is not None else before["enabled"]}
    if auth_type == "WindowsAuthentication":
        after["providers"] = list(providers) if providers is not None else before["providers"]
        after["use_kernel_mode"] = use_kernel_mode if use_kernel_mode is not None else before["use_kernel_mode"]
        after["token_checking"] = token_checking if token_checking is not None else before["token_checking"]

    if _auth_same(before, after, auth_type):
        ctx.set_diff(before, before)
        return ctx.exit()
    ctx.changed()
    if ctx.check_mode:
        ctx.set_diff(before, after)
        return ctx.exit()
    explicit = site.setdefault("authentication", {})
    loc_key = next((k for k in explicit if k.lower() == location.lower()), location)
    props = explicit.setdefault(loc_key, {}).setdefault(auth_type, {})
    if before["enabled"] != after["enabled"]:
        props["enabled"] = after["enabled"]
    if auth_type == "WindowsAuthentication":
        if ",".join(before["providers"]).lower() != ",".join(after["providers"]).lower():
            props["providers"] = list(after["providers"])
        if before["use_kernel_mode"] != after["use_kernel_mode"]:
            props["use_kernel_mode"] = after["use_kernel_mode"]
        if before["token_checking"].lower() != after["token_checking"].lower():
            props["token_checking"] = after["token_checking"]
    after_state = _auth_view(effective_authentication(ctx.state, site["name"], location), auth_type)
    ctx.set_diff(before, after_state)
    return ctx.exit()
