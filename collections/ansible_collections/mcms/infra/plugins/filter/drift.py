# Copyright: (c) 2026, MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn what a role already read into drift resources for
``mcms.infra.drift_records`` (decision 20): wanted and found per resource,
for the modules that give no diff in check mode.  Each role's
``tasks/drift.yml`` feeds them; they never see more than the role read."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _drift


def _flatten(attrs: t.Mapping[str, t.Any], prefix: str = "") -> dict[str, t.Any]:
    out: dict[str, t.Any] = {}
    for key, value in attrs.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _scalar(value: t.Any) -> t.Any:
    """Windows answers booleans and numbers as text now and then: compare as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    return value


def _binding(b: t.Mapping[str, t.Any]) -> str:
    return f"{b.get('protocol', 'http')}/{b.get('ip') or '*'}:{b.get('port')}:{b.get('hostname') or ''}".lower()


def drift_iis_sites(site_plan: list[dict[str, t.Any]], info_sites: list[dict[str, t.Any]] | None
                    ) -> list[dict[str, t.Any]]:
    """Drift records of the sites ``mcms.infra.iis_site_plan`` would change,
    wanted from the plan, found from ``microsoft.iis.website_info``."""
    current = {str(s.get("name", "")).lower(): s for s in info_sites or []}
    records: list[dict[str, t.Any]] = []
    for plan in site_plan or []:
        name = str(plan["name"])
        args = plan.get("args") or {}
        cur = current.get(name.lower())
        base = {"resource_type": "iis_site", "resource": name}
        if args.get("state") == "absent":
            records.append({**base, "attribute": "present", "wanted": False, "found": True})
            continue
        if cur is None:
            records.append({**base, "attribute": "present", "wanted": True, "found": False})
            continue
        if str(args.get("state", "")).lower() != str(cur.get("state", "")).lower():
            records.append({**base, "attribute": "state", "wanted": str(args["state"]).capitalize(),
                            "found": cur.get("state")})
        if "physical_path" in args:
            records.append({**base, "attribute": "physical_path", "wanted": args["physical_path"],
                            "found": cur.get("physical_path")})
        if "application_pool" in args:
            records.append({**base, "attribute": "application_pool", "wanted": args["application_pool"],
                            "found": cur.get("application_pool")})
        if args.get("bindings"):
            found = sorted(_binding(b) for b in cur.get("bindings") or [] if str(b.get("protocol")).lower() == "http")
            removed = {_binding({**b, "protocol": "http"}) for b in args["bindings"].get("remove") or []}
            wanted = sorted({b for b in found if b not in removed}
                            | {_binding(b) for b in args["bindings"].get("add") or []})
            records.append({**base, "attribute": "http_bindings", "wanted": wanted, "found": found})
    return records


def drift_iis_pools(pool_plan: list[dict[str, t.Any]], pool_info: list[dict[str, t.Any]] | None
                    ) -> list[dict[str, t.Any]]:
    """Resources (wanted/found) of the app pools, wanted from
    ``mcms.infra.iis_pool_plan``, found from ``microsoft.iis.web_app_pool_info``.
    Passwords and collections (not returned by the info module) are left out."""
    current = {str(p.get("name", "")).lower(): p for p in pool_info or []}
    resources = []
    for plan in pool_plan or []:
        cur = current.get(str(plan["name"]).lower())
        if plan.get("state") == "absent":
            if cur is not None:
                resources.append({"resource_type": "iis_app_pool", "resource": plan["name"],
                                  "wanted": {"present": False}, "found": {"present": True}})
            continue
        wanted = {k: _scalar(v) for k, v in (plan.get("attributes") or {}).items()
                  if not _drift.is_secret_name(k) and not isinstance(v, list | dict)}
        if plan.get("state") == "started":
            wanted["state"] = "started"
        found = None
        if cur is not None:
            flat = _flatten(cur.get("attributes") or {})
            found = {k: _scalar(flat.get(k)) for k in wanted}
        resources.append({"resource_type": "iis_app_pool", "resource": plan["name"], "wanted": wanted,
                          "found": found})
    return resources


def drift_tls_bindings(plan_sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Drift records of the https bindings the tls plan would move or remove."""
    records = []
    for site in plan_sites or []:
        previous = {(str(p.get("hostname")).lower(), int(p.get("port", 0))): p for p in site.get("previous") or []}
        for want in site.get("rebind") or []:
            have = previous.get((str(want.get("hostname")).lower(), int(want.get("port", 0))))
            label = f"{site['name']} https/{want.get('ip') or '*'}:{want.get('port')}:{want.get('hostname') or ''}"
            records.append({"resource_type": "iis_https_binding", "resource": label, "attribute": "certificate",
                            "wanted": {"certificate_hash": want.get("certificate_hash"), "use_sni": want.get("use_sni"),
                                       "certificate_store_name": want.get("certificate_store_name")},
                            "found": None if have is None else {
                                "certificate_hash": have.get("certificate_hash"), "use_sni": have.get("use_sni"),
                                "certificate_store_name": have.get("certificate_store_name")}})
        for label in site.get("stray_labels") or []:
            records.append({"resource_type": "iis_https_binding", "resource": f"{site['name']} https/{label}",
                            "attribute": "present", "wanted": False, "found": True})
    return records


def drift_sql_recovery(reads: list[dict[str, t.Any]], databases: list[t.Any], instance: str = ""
                       ) -> list[dict[str, t.Any]]:
    """Resources of the databases to back up: present, and in the FULL
    recovery model when they get log backups, from the check-mode
    ``lowlydba.sqlserver.database`` loop results (no ``data``: missing)."""
    log = {}
    for entry in databases or []:
        name = entry["name"] if isinstance(entry, dict) else entry
        log[str(name).lower()] = entry.get("log_backups", True) if isinstance(entry, dict) else True
    resources = []
    for read in reads or []:
        entry = read.get("__sql_backup_item") or read.get("item") or {}
        name = str(entry["name"] if isinstance(entry, dict) else entry)
        data = read.get("data") or {}
        label = f"{instance}/{name}" if instance else name
        wanted = {"recovery_model": "Full"} if log.get(name.lower(), True) else {}
        if not data:
            resources.append({"resource_type": "sql_database", "resource": label, "wanted": wanted, "found": None})
            continue
        resources.append({"resource_type": "sql_database", "resource": label, "wanted": wanted,
                          "found": {"recovery_model": data.get("RecoveryModel")}})
    return resources


def drift_missing(names: t.Iterable[t.Any], resource_type: str) -> list[dict[str, t.Any]]:
    """Drift records of resources that should exist and do not."""
    return [{"resource_type": resource_type, "resource": str(n), "attribute": "present", "wanted": True,
             "found": False} for n in names or []]


def _guard(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AnsibleFilterError(f"{func.__name__}: {exc}") from exc
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"drift_iis_sites": _guard(drift_iis_sites), "drift_iis_pools": _guard(drift_iis_pools),
                "drift_tls_bindings": _guard(drift_tls_bindings),
                "drift_sql_recovery": _guard(drift_sql_recovery), "drift_missing": _guard(drift_missing)}
