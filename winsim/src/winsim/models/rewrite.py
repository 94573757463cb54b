"""IIS URL Rewrite 2.1 + Application Request Routing 3.0 (the blue/green front), and the model of the
project-owned ``mcms.infra.win_app_slots`` (collections/ansible_collections/mcms/infra/plugins/modules/
win_app_slots.ps1).

What the front does (read by ``models/http.py`` for every request a started site answers):

* Rules live in applicationHost.config under ``<location path="<site>">`` (what
  ``community.windows.win_xml`` writes for the app role) or in the site root's ``web.config``:
  ``system.webServer/rewrite/rules/rule`` (``name``, ``stopProcessing``, ``enabled``), its ``match url``
  (a regular expression on the URL path without the leading slash, case-insensitive unless
  ``ignoreCase="false"``) and its ``action`` (``type="Rewrite"``, ``url`` with ``{R:n}`` back-references).
* A ``rewrite`` section in the configuration while the URL Rewrite module is not installed
  (``RewriteModule`` not in ``globalModules``, section not declared) makes IIS refuse every request of
  the site: ``500.19`` (``Unrecognized configuration section system.webServer/rewrite``).
* A Rewrite to an absolute ``http(s)://`` URL is a reverse proxy request: without ARR
  (``ApplicationRequestRouting`` global module) or with ``system.webServer/proxy`` not
  ``enabled="true"`` the request finds no handler: ``404`` (404.4).
* With ARR the request is forwarded (Host header preserved, ``preserveHostHeader`` defaults to true) from
  the front host to the target; a target that does not answer (the slot site stopped, nothing on the
  port) gives ARR's ``502`` (502.3 Bad Gateway); any response of the target (200, a stopped slot pool's
  ``503``, an unhealthy release's ``503``, ``401`` with its ``WWW-Authenticate``) is passed through.
  The front's own application pool must be started (ARR runs in its worker).

``win_app_slots`` reads the slot sites, their pools and applications (``state["iis"]``), the
version in each application's ``version.json``, the front's rule target and the proxy section
(applicationHost.config) and the Uninstall keys of the given product codes; it writes nothing.

Drift ``flip-front`` repoints the front's rule at another port, as an operator editing the rule in IIS
Manager would.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import typing as t
import xml.etree.ElementTree as ET

from .. import state as st
from ..drift import Arg, DriftError, drift
from . import features, packages, registry
from ._base import ModuleContext, model
from .app_release import _version
from .iis import _app_key, _find_app, _iis, find_pool, find_site

_UPSTREAM = "mcms.infra 0.1.0"  # project-owned (collections/ansible_collections/mcms/infra)
APPHOST = features.APPHOST


def _apphost(state: dict[str, t.Any]) -> ET.Element | None:
    item = st.get_item(state, APPHOST)
    if item is None or item["type"] != "file":
        return None
    try:
        return ET.fromstring(st.read_file(state, APPHOST))
    except ET.ParseError:
        return None


def _site_locations(root: ET.Element | None, site: str) -> list[ET.Element]:
    if root is None:
        return []
    return [loc for loc in root.findall("location") if loc.get("path", "").strip("/").lower() == site.lower()]


def rewrite_sections(state: dict[str, t.Any], site: dict[str, t.Any]) -> list[ET.Element]:
    """Every ``system.webServer/rewrite`` element that applies to the site root."""
    found: list[ET.Element] = []
    for loc in _site_locations(_apphost(state), site["name"]):
        found.extend(loc.findall("system.webServer/rewrite"))
    cfg_path = st.normpath(site["physical_path"], state) + "\\web.config"
    item = st.get_item(state, cfg_path)
    if item is not None and item["type"] == "file":
        with contextlib.suppress(ET.ParseError):
            found.extend(ET.fromstring(st.read_file(state, cfg_path)).findall("system.webServer/rewrite"))
    return found


def rules(state: dict[str, t.Any], site: dict[str, t.Any]) -> list[ET.Element]:
    out: list[ET.Element] = []
    for section in rewrite_sections(state, site):
        out.extend(section.findall("rules/rule"))
    return out


def proxy_enabled(state: dict[str, t.Any]) -> bool:
    root = _apphost(state)
    el = root.find("system.webServer/proxy") if root is not None else None
    return el is not None and el.get("enabled", "false").lower() == "true"


def rule_target(state: dict[str, t.Any], site_name: str, rule_name: str) -> tuple[bool, str | None]:
    site = find_site(state, site_name)
    if site is None:
        return False, None
    for rule in rules(state, site):
        if rule.get("name") == rule_name:
            action = rule.find("action")
            return True, (action.get("url") if action is not None else None)
    return False, None


def rewrite(state: dict[str, t.Any], site: dict[str, t.Any], path: str
            ) -> tuple[str, str | int | None]:
    """What URL Rewrite does with ``path`` on ``site``: ``("none", None)``, ``("error", 500)`` (500.19:
    rules without the module), ``("rewrite", new local path)`` or ``("proxy", absolute URL)``."""
    sections = rewrite_sections(state, site)
    if not sections:
        return "none", None
    if not packages.extension_installed(state, packages.REWRITE_MODULE[0]):
        return "error", 500
    subject = path.lstrip("/")
    for rule in rules(state, site):
        if rule.get("enabled", "true").lower() == "false":
            continue
        match = rule.find("match")
        action = rule.find("action")
        if match is None or action is None:
            continue
        flags = 0 if match.get("ignoreCase", "true").lower() == "false" else re.IGNORECASE
        try:
            found = re.search(match.get("url", ".*"), subject, flags)
        except re.error:
            return "error", 500
        if match.get("negate", "false").lower() == "true":
            found = None if found else re.match("", "")
        if not found:
            continue
        if action.get("type", "None") not in ("Rewrite",):
            if rule.get("stopProcessing", "false").lower() == "true":
                break
            continue
        target = _back_references(action.get("url", ""), (found.group(0), *found.groups()))
        if re.match(r"^https?://", target, re.IGNORECASE):
            return "proxy", target
        subject = target.lstrip("/")
        if rule.get("stopProcessing", "false").lower() == "true":
            break
    return ("rewrite", "/" + subject) if "/" + subject != "/" + path.lstrip("/") else ("none", None)


def _back_references(url: str, groups: tuple[str | None, ...]) -> str:
    """``{R:n}`` of a rule's action replaced by the match's groups (empty when there is no such group)."""
    def one(m: re.Match[str]) -> str:
        index = int(m.group(1))
        return (groups[index] or "") if index < len(groups) else ""

    return re.sub(r"\{R:(\d+)\}", one, url)


def can_proxy(state: dict[str, t.Any]) -> bool:
    """ARR installed and ``system.webServer/proxy enabled="true"``."""
    return packages.extension_installed(state, packages.ARR_MODULE[0]) and proxy_enabled(state)


def apphost_site(state: dict[str, t.Any], name: str, site_id: int | None, present: bool, when: str) -> None:
    """Keep a ``<site name=... id=...>`` element in applicationHost.config ``system.applicationHost/sites``
    for a site ``microsoft.iis.website`` creates or removes, as ``New-Website``/``Remove-Website`` do, so
    that ``win_xml`` finds it (e.g. to give a site its own ``<hsts>``, which ``http.py`` reads). The
    site's bindings and applications stay in ``state["iis"]`` (what every other model reads)."""
    if not st.exists(state, APPHOST):
        return
    tree = ET.fromstring(st.read_file(state, APPHOST), parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    sites = tree.find("system.applicationHost/sites")
    if sites is None:
        return
    have = [el for el in sites.findall("site") if el.get("name", "").lower() == name.lower()]
    if present and not have:
        el = ET.Element("site", {"name": name, "id": str(site_id or 0)})
        defaults = list(sites).index(sites.find("siteDefaults")) if sites.find("siteDefaults") is not None else 0
        sites.insert(defaults, el)
    elif not present and have:
        for el in have:
            sites.remove(el)
    else:
        return
    data = b'<?xml version="1.0" encoding="UTF-8"?>\r\n' + ET.tostring(tree, encoding="unicode").encode("utf-8")
    st.write_file(state, APPHOST, data, when)


# -- mcms.infra.win_app_slots ---------------------------------------------------------------

def _product_installed(state: dict[str, t.Any], pid: str) -> bool:
    return any(registry.get_key(state, f"HKLM\\{view}\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{pid}")
               is not None for view in ("SOFTWARE", "SOFTWARE\\WOW6432Node"))


@model("mcms.infra.win_app_slots", upstream=_UPSTREAM)
def win_app_slots(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    products = {pid: _product_installed(state, pid) for pid in p.get("product_ids") or []}
    if not _iis(state).get("installed"):
        return ctx.exit(changed=False, products=products, iis_installed=False)
    root = _apphost(state)
    el = root.find("system.webServer/proxy") if root is not None else None
    proxy = {"present": el is not None, "enabled": el is not None and el.get("enabled", "false").lower() == "true"}
    front: dict[str, t.Any] = {"site_exists": find_site(state, p["front_site"]) is not None, "rule_exists": False,
                               "target": None, "active_slot": None}
    if front["site_exists"]:
        front["rule_exists"], front["target"] = rule_target(state, p["front_site"], p["rule_name"])
    slots: dict[str, t.Any] = {}
    for slot in p["slots"]:
        info: dict[str, t.Any] = {"site_exists": False, "site_state": None, "bindings": [], "pool_exists": False,
                                  "pool_state": None, "application_exists": False, "physical_path": None,
                                  "application_pool": None, "version": None, "port": int(slot["port"])}
        site = find_site(state, slot["site"])
        if site is not None:
            info.update(site_exists=True, site_state=site.get("state"),
                        bindings=[f"{b.get('protocol')}/{b.get('ip')}:{b.get('port')}:{b.get('hostname') or ''}"
                                  for b in site.get("bindings", [])])
            found = _find_app(site, _app_key(p["application"]))
            if found is not None:
                path = st.expand_env(found[1]["physical_path"], state)
                info.update(application_exists=True, physical_path=path,
                            application_pool=found[1].get("application_pool"), version=_version(state, path))
        pool = find_pool(state, slot["site"] if slot.get("pool") is None else slot["pool"])
        if pool is not None:
            info.update(pool_exists=True, pool_state=pool.get("state"))
        if front["target"] and re.match(rf"^https?://[^/]+:{int(slot['port'])}/", front["target"], re.IGNORECASE):
            front["active_slot"] = slot["name"]
        slots[slot["name"]] = info
    drift_records: list[dict[str, t.Any]] = []
    if p.get("wanted_version"):
        wanted = None
        for slot in p["slots"]:
            if slots[slot["name"]]["version"] == p["wanted_version"]:
                wanted = slot["name"]
        if wanted != front["active_slot"]:
            drift_records.append({"resource_type": "iis_rewrite_rule",
                                  "resource": f"{p['front_site']}/{p['rule_name']}",
                                  "attribute": "active_slot",
                                  "wanted": wanted or f"a slot serving {p['wanted_version']}",
                                  "found": front["active_slot"]})
    return ctx.exit(changed=False, products=products, iis_installed=True, proxy=proxy, front=front, slots=slots,
                    mcms_drift=drift_records)


# -- drift --------------------------------------------------------------------------------------

@drift("flip-front", section="files",
       help="Repoint the front site's URL Rewrite rule at another port (an operator editing the rule in IIS "
            "Manager, e.g. flipping blue/green by hand).",
       args=[Arg("site", "front site name"), Arg("rule", "rewrite rule name"), Arg("port", "new target port", int)])
def flip_front(state: dict[str, t.Any], now: _dt.datetime, *, site: str, rule: str, port: int) -> str:
    raw = st.get_item(state, APPHOST)
    if raw is None:
        raise DriftError("applicationHost.config does not exist (IIS is not installed)")
    tree = ET.fromstring(st.read_file(state, APPHOST), parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    for loc in _site_locations(tree, site):
        for el in loc.findall("system.webServer/rewrite/rules/rule"):
            action = el.find("action")
            if el.get("name") == rule and action is not None:
                before = action.get("url", "")
                after = re.sub(r"^(https?://[^/:]+)(?::\d+)?/", rf"\g<1>:{port}/", before)
                action.set("url", after)
                data = b'<?xml version="1.0" encoding="UTF-8"?>\r\n' + ET.tostring(tree, encoding="unicode").encode()
                st.write_file(state, APPHOST, data, st.iso(now))
                return f"site {site}: rewrite rule {rule} target {before} -> {after}"
    raise DriftError(f"no rewrite rule {rule!r} in <location path=\"{site}\"> of applicationHost.config")
