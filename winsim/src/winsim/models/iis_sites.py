"""IIS sites and bindings: ``microsoft.iis.website`` and ``website_info``
(microsoft.iis 1.3.0); the ``iis`` state section is documented in ``iis.py``."""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

from .. import state as st
from ..drift import Arg, DriftError, drift, find_named, normalize_thumbprint
from . import iis_worker
from ._base import ModuleContext, model
from .iis import (
    _DICT_TYPE,
    _HR_ALREADY_EXISTS,
    _HR_INVALID_OBJECT,
    _U32,
    UPSTREAM,
    _as_int,
    _binding,
    _fault_message,
    _full_name,
    _iis,
    _new_site,
    _ps_str,
    _require_webadministration,
    _test_path,
    drift_iis,
    find_site,
    set_named_state,
)


def _apphost_site(state: dict[str, t.Any], name: str, site_id: int | None, present: bool, when: str) -> None:
    from .rewrite import apphost_site  # the <site> element win_xml edits (blue/green slots' <hsts>)

    apphost_site(state, name, site_id, present, when)


# -- microsoft.iis.website ------------------------------------------------------------

def _binding_info(b: dict[str, t.Any]) -> str:
    return f"{b['ip']}:{b['port']}:{b['hostname']}"


def _user_binding_info(b: dict[str, t.Any]) -> str:
    """``"$($_.ip):$($_.port):$($_.hostname)"``: ``$null`` renders empty."""
    return f"{_ps_str(b.get('ip'))}:{_ps_str(b.get('port'))}:{_ps_str(b.get('hostname'))}"


def _ssl_flags(b: dict[str, t.Any]) -> int:
    return (1 if b.get("use_sni") else 0) + (2 if b.get("use_ccs") else 0)


def _cert_exists(state: dict[str, t.Any], store: str, thumbprint: str) -> bool:
    """``Test-Path cert:\\LocalMachine\\<store>\\<hash>`` against the
    certificates section (owned by the certificates model; absent = empty)."""
    stores = (state.get("certificates") or {}).get("LocalMachine") or {}
    for store_name, certs in stores.items():
        if store_name.lower() == str(store).lower():
            return any(tp.lower() == str(thumbprint).lower() for tp in certs)
    return False


def _ssl_flag_from_binding(ctx: ModuleContext, b: dict[str, t.Any]) -> int:
    """``Get-SSLFlagFromBinding``: validation and the sslFlags value."""
    flags = 0
    if b.get("use_sni"):
        if b.get("protocol") != "https":
            ctx.fail("use_sni can only be set for https protocol")
        if not b.get("hostname"):
            ctx.fail("must specify hostname value when use_sni is set.")
        flags += 1
    if b.get("use_ccs"):
        if b.get("protocol") != "https":
            ctx.fail("use_ccs can only be set for https protocol")
        if not b.get("hostname"):
            ctx.fail("must specify hostname value when use_ccs is set.")
        if b.get("certificate_hash"):
            ctx.fail(f"You set use_ccs to {_ps_str(b.get('use_ccs'))}.\n"
                     "            This indicates you wish to use the Central Certificate Store feature.\n"
                     "            This cannot be used in combination with certficiate_hash and certificate_store_name. "
                     "When using the Central Certificate Store feature,\n"
                     "            the certificate is automatically retrieved from the store rather than manually "
                     "assigned to the binding.")
        flags += 2
    if b.get("protocol") == "https" and not b.get("use_ccs") and not b.get("certificate_hash"):
        ctx.fail("must either specify a certificate_hash or use_ccs.")
    if b.get("certificate_hash"):
        if b.get("protocol") != "https":
            ctx.fail("You can only provide a certificate thumbprint when protocol is set to https")
        cert_path = f"cert:\\LocalMachine\\{_ps_str(b.get('certificate_store_name'))}\\{b['certificate_hash']}"
        if not _cert_exists(ctx.state, _ps_str(b.get("certificate_store_name")), b["certificate_hash"]):
            ctx.fail(f"Unable to locate certificate at {cert_path}")
    return flags


def _conflicting_site(state: dict[str, t.Any], site: dict[str, t.Any],
                      bindings: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any] | None:
    mine = {_binding_info(b).lower() for b in (site["bindings"] if bindings is None else bindings)}
    for other in _iis(state)["sites"].values():
        if other is site or other["state"] != "Started":
            continue
        if mine & {_binding_info(b).lower() for b in other["bindings"]}:
            return other
    return None


def _start_site(ctx: ModuleContext, site: dict[str, t.Any]) -> None:
    """``Start-Website``: fails like W3SVC does for a site that cannot listen."""
    fault = ctx.faults.find("site_start", site["name"])
    if fault is not None:
        raise RuntimeError(_fault_message(fault, _HR_INVALID_OBJECT))
    if not site["bindings"]:
        raise RuntimeError(_HR_INVALID_OBJECT)
    if _conflicting_site(ctx.state, site) is not None:
        raise RuntimeError(_HR_ALREADY_EXISTS)
    site["state"] = "Started"


def _new_binding(spec: dict[str, t.Any], flags: int) -> dict[str, t.Any]:
    """``New-WebBinding`` (+ ``AddSslCertificate``): unset ip/port/hostname
    take the cmdlet's defaults (``*``, 80, empty)."""
    ip = spec.get("ip") if spec.get("ip") not in (None, "") else "*"
    port = spec.get("port") if spec.get("port") is not None else 80
    host = spec.get("hostname") or ""
    b = _binding(spec.get("protocol") or "http", ip, int(port), host, bool(flags & 1), bool(flags & 2))
    if spec.get("certificate_hash"):
        b["certificate_hash"] = str(spec["certificate_hash"]).upper()
        b["certificate_store_name"] = _ps_str(spec.get("certificate_store_name"))
    return b


@model("microsoft.iis.website", upstream=UPSTREAM, partial_on_failure=True)
def website(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove, configure, start and stop a site."""
    p = ctx.params
    name: str = p["name"]
    state: str = p["state"]
    physical_path: str | None = p.get("physical_path")
    application_pool: str | None = p.get("application_pool")
    preload_enabled: bool | None = p.get("preload_enabled")
    bindings: dict[str, t.Any] = p.get("bindings") or {}
    site_id = p.get("site_id")
    _require_webadministration(ctx)
    sites = ctx.state["iis"]["sites"]

    try:
        site = find_site(ctx.state, name)
        if state != "absent" and site is None:
            if not physical_path:
                ctx.fail("missing required arguments: physical_path")
            elif not _test_path(ctx, physical_path):
                ctx.fail("specified folder must already exist: physical_path")
            if not ctx.check_mode:
                new_id = _new_site_id(sites, site_id)
                pool_name = application_pool or "DefaultAppPool"
                site = _new_site(name, new_id, physical_path, pool_name, [_binding("http", "*", 80, "")], "Stopped")
                sites[name] = site
                # W3SVC starts the new site at once unless its default *:80 binding is taken.
                if _conflicting_site(ctx.state, site) is None and ctx.faults.find("site_start", name) is None:
                    site["state"] = "Started"
                # "Verify that initial site has no binding"
                site["bindings"] = []
                _apphost_site(ctx.state, name, new_id, True, st.iso(ctx.now()))
            ctx.changed()
        if state == "absent" and site is not None:
            if not ctx.check_mode:
                del sites[site["name"]]
                _apphost_site(ctx.state, site["name"], None, False, st.iso(ctx.now()))
            ctx.changed()

        site = find_site(ctx.state, name)
        if site is not None:
            if physical_path:
                if not _test_path(ctx, physical_path):
                    ctx.fail("specified folder must already exist: physical_path")
                folder = _full_name(physical_path)
                if folder.lower() != site["physical_path"].lower():
                    if not ctx.check_mode:
                        site["physical_path"] = folder
                    ctx.changed()
            if application_pool and application_pool.lower() != site["application_pool"].lower():
                if not ctx.check_mode:
                    site["application_pool"] = application_pool
                ctx.changed()
            if preload_enabled is not None and bool(site.get("preload_enabled", False)) != preload_enabled:
                if not ctx.check_mode:
                    site["preload_enabled"] = preload_enabled
                ctx.changed()
            _apply_bindings(ctx, site, bindings)

            run_state = site["state"]
            if state in ("stopped", "restarted") and run_state == "Started":
                if not ctx.check_mode:
                    site["state"] = "Stopped"
                ctx.changed()
            if (state == "started" and run_state == "Stopped") or state == "restarted":
                if not ctx.check_mode:
                    _start_site(ctx, site)
                ctx.changed()
            if (state in ("stopped", "restarted") or run_state == "Stopped") and not ctx.check_mode:
                workers = iis_worker.host_workers(ctx.runtime)
                if workers:
                    iis_worker.unload_site(workers, site["name"])
                    iis_worker.save_workers(ctx.runtime, workers)
    except RuntimeError as exc:
        ctx.fail(f"{_DICT_TYPE} - {exc}")
    return ctx.exit()


def _new_site_id(sites: dict[str, t.Any], site_id: str | None) -> int:
    """The ID ``New-Website`` gives the site: ``-ID`` when given (it must be
    free), else 1 on an empty server, else the highest ID + 1."""
    if site_id:
        parsed = _as_int(site_id, *_U32)
        if parsed is None:
            raise RuntimeError(
                "Cannot process argument transformation on parameter 'ID'. Cannot convert value "
                f'"{site_id}" to type "System.UInt32". Error: "Input string was not in a correct format."')
        new_id = parsed
    elif not sites:
        new_id = 1
    else:
        new_id = max(s["id"] for s in sites.values()) + 1
    if any(s["id"] == new_id for s in sites.values()):
        raise RuntimeError("Cannot add duplicate collection entry of type 'site' with unique key "
                           f"attribute 'id' set to '{new_id}'")
    return new_id


def _apply_bindings(ctx: ModuleContext, site: dict[str, t.Any], bindings: dict[str, t.Any]) -> None:
    """The ``bindings`` add/set/remove block of website.ps1, in its order:
    additions, then edits of existing bindings, then removals."""
    want_set = bindings.get("set")
    want_add = bindings.get("add") or []
    want_remove = bindings.get("remove") or []
    if want_set is None and not want_add and not want_remove:
        return
    site_bindings = [b for b in site["bindings"] if b["protocol"] in ("http", "https")]
    existing = {_binding_info(b).lower() for b in site_bindings}
    to_add: list[dict[str, t.Any]] = []
    to_edit: list[dict[str, t.Any]] = []
    to_remove: list[str] = []
    if want_set is not None:
        to_add = [b for b in want_set if _user_binding_info(b).lower() not in existing]
        to_edit = [b for b in want_set if _user_binding_info(b).lower() in existing]
        user = {_user_binding_info(b).lower() for b in want_set}
        to_remove = [_binding_info(b) for b in site_bindings if _binding_info(b).lower() not in user]
    else:
        if want_add:
            to_add = [b for b in want_add if _user_binding_info(b).lower() not in existing]
            to_edit = [b for b in want_add if _user_binding_info(b).lower() in existing]
        if want_remove:
            user = {_user_binding_info(b).lower() for b in want_remove}
            to_remove = [_binding_info(b) for b in site_bindings if _binding_info(b).lower() in user]

    for spec in to_add:
        flags = _ssl_flag_from_binding(ctx, spec)
        if not ctx.check_mode:
            new = _new_binding(spec, flags)
            info = _binding_info(new).lower()
            if any(_binding_info(b).lower() == info and b["protocol"] == new["protocol"] for b in site["bindings"]):
                raise RuntimeError("Cannot add duplicate collection entry of type 'binding' with combined key "
                                   f"attributes 'protocol, bindingInformation' set to '{new['protocol']}, "
                                   f"{_binding_info(new)}'")
            site["bindings"].append(new)
        ctx.changed()

    for spec in to_edit:
        user_edit = dict(spec)
        info = _user_binding_info(user_edit).lower()
        site_edit = next(b for b in site_bindings if _binding_info(b).lower() == info)
        if user_edit.get("use_sni") is None:
            user_edit["use_sni"] = bool(_ssl_flags(site_edit) % 2)
        if user_edit.get("use_ccs") is None:
            user_edit["use_ccs"] = bool(_ssl_flags(site_edit) // 2)
        flags = _ssl_flag_from_binding(ctx, user_edit)
        if site_edit["protocol"] != user_edit.get("protocol"):
            if not ctx.check_mode:
                site_edit["protocol"] = user_edit.get("protocol")
            ctx.changed()
        if _ssl_flags(site_edit) != flags:
            if not ctx.check_mode:
                site_edit["use_sni"], site_edit["use_ccs"] = bool(flags & 1), bool(flags & 2)
            ctx.changed()
        if user_edit.get("certificate_hash"):
            store = _ps_str(user_edit.get("certificate_store_name"))
            if (site_edit["certificate_hash"].lower() != str(user_edit["certificate_hash"]).lower()
                    or site_edit["certificate_store_name"].lower() != store.lower()):
                # The real module calls AddSslCertificate here even in check mode.
                if not ctx.check_mode:
                    site_edit["certificate_hash"] = str(user_edit["certificate_hash"]).upper()
                    site_edit["certificate_store_name"] = store
                ctx.changed()

    for info in to_remove:
        if not ctx.check_mode:
            site["bindings"] = [b for b in site["bindings"] if _binding_info(b).lower() != info.lower()]
        ctx.changed()


# -- microsoft.iis.website_info ---------------------------------------------------------

def _site_info(site: dict[str, t.Any]) -> dict[str, t.Any]:
    bindings = []
    for b in site["bindings"]:
        bindings.append({
            "ip": b["ip"],
            "port": int(b["port"]),
            "hostname": b["hostname"],
            "protocol": b["protocol"],
            "use_ccs": bool(b.get("use_ccs")),
            "use_sni": bool(b.get("use_sni")),
            "certificate_hash": b.get("certificate_hash", ""),
            "certificate_store_name": b.get("certificate_store_name", ""),
        })
    return {"name": site["name"], "site_id": site["id"], "state": site["state"],
            "physical_path": site["physical_path"], "application_pool": site["application_pool"],
            "bindings": bindings}


@model("microsoft.iis.website_info", upstream=UPSTREAM)
def website_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about one or all sites."""
    _require_webadministration(ctx)
    name = ctx.params.get("name")
    ctx.exit(exists=False, site=[])
    if name is not None:
        site = find_site(ctx.state, name)
        if site is None:
            return ctx.exit()
        return ctx.exit(exists=True, site=[_site_info(site)])
    infos = [_site_info(s) for s in ctx.state["iis"]["sites"].values()]
    return ctx.exit(exists=bool(infos), site=infos)


# -- drifts: what an operator does by hand in IIS Manager (``winsim drift``) ---------

@drift("stop-site", section="iis", help="Stop an IIS site (Stop-Website).",
       args=[Arg("name", "site name")])
def stop_site(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    return set_named_state(drift_iis(state)["sites"], name, "IIS site", "Stopped")


@drift("start-site", section="iis", help="Start an IIS site (Start-Website).",
       args=[Arg("name", "site name")])
def start_site(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    return set_named_state(drift_iis(state)["sites"], name, "IIS site", "Started")


@drift("remove-site", section="iis", help="Delete an IIS site (Remove-Website); its files stay.",
       args=[Arg("name", "site name")])
def remove_site(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    sites = drift_iis(state)["sites"]
    key, _site = find_named(sites, name, "IIS site")
    del sites[key]
    return f"site {key}: removed"


@drift("set-physical-path", section="iis", help="Point an IIS site at another folder.",
       args=[Arg("name", "site name"), Arg("path", "new physical path")])
def set_physical_path(state: dict[str, t.Any], now: _dt.datetime, *, name: str, path: str) -> str:
    key, site = find_named(drift_iis(state)["sites"], name, "IIS site")
    before = site.get("physical_path")
    site["physical_path"] = st.normpath(path, state)
    return f"site {key}: physical_path {before} -> {site['physical_path']}"


_BINDING_RE = re.compile(r"^(?:(?P<protocol>[a-z.]+)/)?(?P<ip>[^:]*):(?P<port>\d+):(?P<hostname>.*)$", re.IGNORECASE)


def _binding_label(b: dict[str, t.Any]) -> str:
    return f"{b.get('protocol')}/{b.get('ip')}:{b.get('port')}:{b.get('hostname') or ''}"


def _select_binding(site_key: str, site: dict[str, t.Any], selector: str | None) -> dict[str, t.Any]:
    bindings = site.get("bindings") or []
    if not bindings:
        raise DriftError(f"site {site_key} has no bindings")
    if selector is None:
        if len(bindings) != 1:
            raise DriftError(f"site {site_key} has {len(bindings)} bindings; choose one with --binding "
                             f"({', '.join(_binding_label(b) for b in bindings)})")
        return bindings[0]
    m = _BINDING_RE.match(selector)
    if not m:
        raise DriftError(f"--binding must look like [PROTOCOL/]IP:PORT:HOSTNAME, e.g. https/*:443:mcms.lab "
                         f"(got {selector!r})")
    for b in bindings:
        if (str(b.get("ip")) == m.group("ip") and int(b.get("port", 0)) == int(m.group("port"))
                and str(b.get("hostname") or "").lower() == m.group("hostname").lower()
                and (m.group("protocol") is None or str(b.get("protocol")).lower() == m.group("protocol").lower())):
            return b
    raise DriftError(f"site {site_key} has no binding {selector} "
                     f"(existing: {', '.join(_binding_label(b) for b in bindings)})")


@drift("change-binding", section="iis",
       help="Edit one binding of an IIS site (as in IIS Manager > Edit Site Bindings).",
       args=[Arg("site", "site name"),
             Arg("--binding", "the binding to edit, [PROTOCOL/]IP:PORT:HOSTNAME (needed when the site has several)",
                 required=False),
             Arg("--protocol", "new protocol", required=False, choices=("http", "https")),
             Arg("--ip", "new IP address (* for all unassigned)", required=False),
             Arg("--port", "new port", type=int, required=False),
             Arg("--hostname", "new host header ('' for none)", required=False),
             Arg("--certificate-hash", "new certificate thumbprint", required=False),
             Arg("--certificate-store", "new certificate store name (My, WebHosting)", required=False),
             Arg("--sni", "require SNI (true/false)", required=False, choices=("true", "false"))])
def change_binding(state: dict[str, t.Any], now: _dt.datetime, *, site: str, binding: str | None = None,
                   protocol: str | None = None, ip: str | None = None, port: int | None = None,
                   hostname: str | None = None, certificate_hash: str | None = None,
                   certificate_store: str | None = None, sni: str | None = None) -> str:
    key, s = find_named(drift_iis(state)["sites"], site, "IIS site")
    b = _select_binding(key, s, binding)
    before = _binding_label(b)
    changes: dict[str, t.Any] = {}
    if protocol is not None:
        changes["protocol"] = protocol
    if ip is not None:
        changes["ip"] = ip
    if port is not None:
        if not 1 <= port <= 65535:
            raise DriftError(f"port must be 1-65535 (got {port})")
        changes["port"] = port
    if hostname is not None:
        changes["hostname"] = hostname
    if certificate_hash is not None:
        changes["certificate_hash"] = normalize_thumbprint(certificate_hash) if certificate_hash else ""
    if certificate_store is not None:
        changes["certificate_store_name"] = certificate_store
    if sni is not None:
        changes["use_sni"] = sni == "true"
    if not changes:
        raise DriftError("change-binding needs at least one of --protocol, --ip, --port, --hostname, "
                         "--certificate-hash, --certificate-store, --sni")
    b.update(changes)
    return f"site {key}: binding {before} -> {_binding_label(b)} ({', '.join(sorted(changes))})"


@drift("remove-binding", section="iis", help="Remove one binding of an IIS site.",
       args=[Arg("site", "site name"),
             Arg("--binding", "the binding to remove, [PROTOCOL/]IP:PORT:HOSTNAME", required=False)])
def remove_binding(state: dict[str, t.Any], now: _dt.datetime, *, site: str, binding: str | None = None) -> str:
    key, s = find_named(drift_iis(state)["sites"], site, "IIS site")
    b = _select_binding(key, s, binding)
    s["bindings"].remove(b)
    return f"site {key}: binding {_binding_label(b)} removed"
