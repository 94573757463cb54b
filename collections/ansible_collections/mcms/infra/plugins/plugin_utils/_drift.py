# Copyright: (c) 2026, MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift records and drift reports (issue 11, decision 20).

Shared by the ``mcms.infra.drift_records`` action plugin (roles publish
records computed from their reads), the ``mcms.infra.drift`` callback (the
collector and report writer), the ``bin/mcms-drift-check`` wrapper and the
tests.  Pure Python, no Ansible import, so every rule is unit-tested.

A drift record (the project convention, brief "Drift records convention")::

    {resource_type, resource, attribute, wanted, found}

the collector adds ``host``, ``role``, ``task``, ``source`` (``record``: a
module's or task's ``mcms_drift``; ``action``: published by a role through
``mcms.infra.drift_records``; ``diff``: derived from a result's diff;
``coarse``: a changed result that said nothing more) and ``coarse``.

The report (``drift.json``) follows ``docs/schemas/drift-report-v1.schema.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import os
import pathlib
import re
import shutil
import typing as t
from xml.etree import ElementTree as ET

MASK = "********"
SCHEMA_ID = "mcms-drift-report"
SCHEMA_VERSION = 1
RECORD_KEYS = ("resource_type", "resource", "attribute", "wanted", "found")
DEFAULT_KEEP_WEEKS = 12
# Exit status of bin/mcms-drift-check (README, docs/drift-check.md).
EXIT_CLEAN = 0
EXIT_DRIFT = 3
EXIT_ERROR = 4
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_TIMESTAMP = re.compile(r"^\d{8}T\d{6}Z$")

_SECRET_NAME = re.compile(r"pass(word|wd|phrase)?$|^pass_|^pwd$|secret|token|(^|_)key$|private_?key|credential|"
                          r"^psk$|password", re.IGNORECASE)
_NOT_SECRET = re.compile(r"^(registry_?key|key_?(path|store|exchange|exchanges|usage|size|type|algorithm|acl|name|id)"
                         r"|update_password)$|_path$|_file$", re.IGNORECASE)


# Tasks that change nothing on a host: skipping them in check mode hides no drift.
_READ_ONLY_ACTIONS = {
    "ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.debug", "ansible.builtin.fail",
    "ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_role",
    "ansible.builtin.import_role", "ansible.builtin.meta", "ansible.builtin.stat", "ansible.builtin.slurp",
    "ansible.builtin.include_vars", "ansible.builtin.set_stats", "ansible.windows.win_stat",
    "ansible.windows.win_reg_stat", "ansible.windows.win_uri", "ansible.windows.setup", "ansible.builtin.setup",
    "mcms.infra.drift_records", "mcms.infra.tls_expiry_report", "mcms.infra.preflight",
}
_CHECK_MODE_SKIP = re.compile(r"^\(?\s*not\s+ansible_check_mode\s*\)?(\s+and\s+.*)?$", re.DOTALL)


def is_read_only(action: str) -> bool:
    """Whether a module or action only reads (its skip hides no drift)."""
    short = action.rsplit(".", 1)[-1]
    return action in _READ_ONLY_ACTIONS or short.endswith("_info") or short in {"set_fact", "assert", "debug",
                                                                                  "fail", "meta"}


def skipped_for_check_mode(false_condition: str) -> bool:
    """Whether a skipped task's false condition is check mode itself:
    ``not ansible_check_mode`` alone or first in an ``and``."""
    return bool(_CHECK_MODE_SKIP.match(str(false_condition).strip()))


class DriftError(ValueError):
    """A malformed drift record (names the offending field)."""


def is_secret_name(name: t.Any) -> bool:
    text = str(name)
    return bool(_SECRET_NAME.search(text)) and not _NOT_SECRET.search(text)


def _is_vaulted(value: t.Any) -> bool:
    name = type(value).__name__
    return "Vault" in name or "Encrypted" in name


def plain(value: t.Any) -> t.Any:
    """A JSON-safe copy of a value; vaulted values are masked, never decrypted."""
    if _is_vaulted(value):
        return MASK
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not str(k).startswith("_ansible_")}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def mask_value(value: t.Any, secrets: t.Iterable[str] = ()) -> t.Any:
    """``value`` with every known secret string replaced by the mask, at any depth."""
    known = [s for s in secrets if s and len(s) >= 4]
    if not known:
        return value
    if isinstance(value, dict):
        return {k: mask_value(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v, known) for v in value]
    if isinstance(value, str):
        for secret in known:
            if secret in value:
                return MASK
    return value


def normalize_record(record: t.Any, *, secret: bool = False) -> dict[str, t.Any]:
    """One convention record checked and made safe: the five keys, strings
    where the convention says so, values masked when the record, its
    attribute or its resource type is secret."""
    if not isinstance(record, dict):
        raise DriftError(f"a drift record must be a mapping with {', '.join(RECORD_KEYS)}, got {record!r:.80}")
    missing = [k for k in ("resource_type", "resource", "attribute") if not record.get(k) and record.get(k) != 0]
    if missing:
        raise DriftError(f"drift record {plain(record)!r:.120} lacks {', '.join(missing)}")
    out = {k: str(plain(record[k])) for k in ("resource_type", "resource", "attribute")}
    hide = secret or bool(record.get("secret")) or is_secret_name(out["attribute"]) or is_secret_name(
        out["resource_type"])
    for key in ("wanted", "found"):
        value = plain(record.get(key))
        out[key] = MASK if hide and value not in (None, "") else _mask_secret_keys(value)
    return out


def _mask_secret_keys(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        return {k: (MASK if is_secret_name(k) and v not in (None, "") else _mask_secret_keys(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secret_keys(v) for v in value]
    return value


def _norm(value: t.Any, ignore_case: bool) -> t.Any:
    if isinstance(value, str):
        return value.lower() if ignore_case else value
    if isinstance(value, dict):
        return {str(k).lower() if ignore_case else str(k): _norm(v, ignore_case) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_norm(v, ignore_case) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def compare(resources: t.Sequence[t.Mapping[str, t.Any]]) -> tuple[list[dict[str, t.Any]], list[dict[str, str]]]:
    """Drift records from desired and read state.

    ``resources``: ``{resource_type, resource, wanted: {attr: value}, found:
    {attr: value} | None, ignore_case: bool, secret: [attr, ...]}``.  An
    attribute drifts when its normalised values differ (lists compare as
    sets, strings case-insensitively with ``ignore_case``); a ``found`` of
    ``None`` is a missing resource (one record, attribute ``present``).
    Returns (records, checked resources).
    """
    records: list[dict[str, t.Any]] = []
    checked: list[dict[str, str]] = []
    for index, res in enumerate(resources):
        if not isinstance(res, dict) or not res.get("resource_type") or not res.get("resource"):
            raise DriftError(f"resources[{index}] needs resource_type and resource, got {plain(res)!r:.120}")
        wanted = res.get("wanted") or {}
        if not isinstance(wanted, dict):
            raise DriftError(f"resources[{index}] ({res['resource']}): wanted must be a mapping of attribute: value")
        found = res.get("found")
        secrets = {str(s) for s in res.get("secret") or []}
        ignore_case = bool(res.get("ignore_case", True))
        base = {"resource_type": str(res["resource_type"]), "resource": str(res["resource"])}
        checked.append(dict(base))
        if found is None:
            records.append(normalize_record({**base, "attribute": "present", "wanted": True, "found": False}))
            continue
        if not isinstance(found, dict):
            raise DriftError(f"resources[{index}] ({res['resource']}): found must be a mapping or null")
        for attr in sorted(wanted):
            if _norm(plain(wanted[attr]), ignore_case) != _norm(plain(found.get(attr)), ignore_case):
                records.append(normalize_record({**base, "attribute": attr, "wanted": wanted[attr],
                                                 "found": found.get(attr)}, secret=attr in secrets))
    return records, checked


# -- records from a module's diff ------------------------------------------------------------
#
# A module's before/after may give the same value in two shapes, and a naive
# comparison then reports drift that is not there.  The rules, generic first:
#
# * PowerShell unrolls a one-item array into its item: microsoft.ad's
#   ``before`` (``ADPropertyValueCollection.Value``) and ``after``
#   (``Compare-AnsibleADIdempotentList``'s ``Value``) hold a scalar for one
#   value, a list for more, ``$null`` for none; so a one-item list equals its
#   item, and an empty list equals ``None``, for every module;
# * per module (:data:`DIFF_RULES`), the attributes the module compares as
#   sets (order-insensitive, a scalar is a one-item set) and those it
#   compares case-insensitively (as AD does: DNs, SPNs, encryption types,
#   sAMAccountName, the OU path).  An attribute the module compares exactly
#   (a gMSA's ``description``, ``dns_hostname``, its ``name``) stays exact:
#   a change of case there is a change the module would make.


@dataclasses.dataclass(frozen=True)
class DiffRules:
    """How one module's before/after attributes compare (docs/drift-check.md)."""

    sets: frozenset[str] = frozenset()
    ignore_case: frozenset[str] = frozenset()


def _rules(*, sets: t.Iterable[str] = (), ignore_case: t.Iterable[str] = ()) -> DiffRules:
    return DiffRules(sets=frozenset(sets), ignore_case=frozenset(ignore_case))


# microsoft.ad 1.x, Invoke-AnsibleADObject (module_utils/_ADObject.psm1): options of type add_remove_set go
# through Compare-AnsibleADIdempotentList (sets), case-insensitive where the option has DNLookup or
# CaseInsensitive; ``path`` and ``sam_account_name`` are compared with PowerShell's case-insensitive -ne.
_AD_COMMON = ("path", "sam_account_name")
DIFF_RULES: dict[str, DiffRules] = {
    "microsoft.ad.service_account": _rules(
        sets=("allowed_to_retrieve_password", "delegates", "kerberos_encryption_types", "spn"),
        ignore_case=("allowed_to_retrieve_password", "delegates", "kerberos_encryption_types", "spn",
                     *_AD_COMMON)),
    "microsoft.ad.user": _rules(
        sets=("groups", "delegates", "spn"), ignore_case=("groups", "delegates", "spn", *_AD_COMMON)),
    "microsoft.ad.computer": _rules(
        sets=("delegates", "spn", "kerberos_encryption_types"),
        ignore_case=("delegates", "spn", "kerberos_encryption_types", *_AD_COMMON)),
    "microsoft.ad.group": _rules(sets=("members",), ignore_case=("members", *_AD_COMMON)),
}


def _sort_key(value: t.Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _unroll(value: t.Any) -> t.Any:
    """A one-item list as its item, an empty list as ``None`` (PowerShell's pipeline), at any depth."""
    if isinstance(value, dict):
        return {k: _unroll(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_unroll(v) for v in value]
        return None if not items else items[0] if len(items) == 1 else items
    return value


def _as_set(value: t.Any) -> list[t.Any]:
    items = [] if value is None else list(value) if isinstance(value, list) else [value]
    unique: dict[str, t.Any] = {}
    for item in items:
        unique.setdefault(_sort_key(item), item)
    return [unique[k] for k in sorted(unique)]


def _fold(value: t.Any) -> t.Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list):
        return [_fold(v) for v in value]
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    return value


def diff_values(key: str, before: t.Any, after: t.Any, rules: DiffRules = DiffRules()
                ) -> tuple[bool, t.Any, t.Any]:
    """Whether one attribute of a before/after diff really differs under
    ``rules``, and its (wanted, found) as a report shows them (sets sorted)."""
    if key in rules.sets:
        wanted, found = _as_set(_unroll(after)), _as_set(_unroll(before))
        if key in rules.ignore_case:
            return _as_set(_fold(wanted)) != _as_set(_fold(found)), wanted, found
        return wanted != found, wanted, found
    wanted, found = _unroll(after), _unroll(before)
    if key in rules.ignore_case:
        return _fold(wanted) != _fold(found), wanted, found
    return wanted != found, wanted, found


def records_from_diff(diff: t.Any, action: str = "") -> list[tuple[str, t.Any, t.Any]]:
    """(attribute, wanted, found) of each attribute that differs in a
    module's ``diff`` (one dict or a list of them), compared under the
    module's :data:`DIFF_RULES`; an empty list when it holds no before/after.
    A ``before`` of ``None`` beside a mapping ``after`` is a missing resource
    (attribute ``present``), and the reverse one that should not exist."""
    rules = DIFF_RULES.get(action, DiffRules())
    diffs = diff if isinstance(diff, list) else [diff]
    pairs: list[tuple[str, t.Any, t.Any]] = []
    for one in diffs:
        if not isinstance(one, dict) or ("before" not in one and "after" not in one):
            continue
        before, after = plain(one.get("before")), plain(one.get("after"))
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after)):
                differs, wanted, found = diff_values(key, before.get(key), after.get(key), rules)
                if differs:
                    pairs.append((key, wanted, found))
        elif before is None and isinstance(after, dict):
            pairs.append(("present", True, False))
        elif after is None and isinstance(before, dict):
            pairs.append(("present", False, True))
        elif before != after:
            pairs.append((str(one.get("after_header") or one.get("before_header") or "content"), after, before))
    return pairs


# -- records from a "prepared" diff (modules that give text, not before/after) -----------------
#
# community.windows.win_firewall_rule (3.x) writes, per rule it matched,
# ``[<rule name>]`` then for each property it would change ``-Prop='old'`` and
# ``+Prop='new'``; ``+[<name>]`` and ``-[<name>]`` (every property after them)
# for a rule it would create or remove.  Properties are reported by the
# module option that sets them, with the COM numbers in the option's words.

_FW_OPTION = {"Description": "description", "Direction": "direction", "Action": "action",
              "ApplicationName": "program", "Grouping": "group", "ServiceName": "service", "Enabled": "enabled",
              "Profiles": "profiles", "LocalAddresses": "localip", "RemoteAddresses": "remoteip",
              "LocalPorts": "localport", "RemotePorts": "remoteport", "Protocol": "protocol",
              "InterfaceTypes": "interfacetypes", "EdgeTraversalOptions": "edge", "SecureFlags": "security",
              "IcmpTypesAndCodes": "icmp_type_code"}
_FW_PROFILES = ((1, "domain"), (2, "private"), (4, "public"))
_FW_PROTOCOLS = {"1": "icmpv4", "6": "tcp", "17": "udp", "58": "icmpv6", "256": "any"}


def _fw_value(prop: str, text: str) -> t.Any:
    if prop == "Enabled" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if prop == "Direction":
        return {"1": "in", "2": "out"}.get(text, text)
    if prop == "Action":
        return {"0": "block", "1": "allow"}.get(text, text)
    if prop == "Protocol":
        return _FW_PROTOCOLS.get(text, text)
    if prop == "Profiles" and text.isdigit():
        mask = int(text)
        if mask & 0x7FFFFFFF == 0x7FFFFFFF:
            return ["any"]
        return [name for bit, name in _FW_PROFILES if mask & bit]
    return text


_PREPARED_LINE = re.compile(r"^([+-]?)\[(.*)\]$|^([+-])(\w+)='(.*)$")


def records_from_prepared(action: str, prepared: t.Any) -> list[dict[str, t.Any]]:
    """Drift records from a module's text diff (``diff.prepared``), for the
    modules this file knows (win_firewall_rule); an empty list otherwise."""
    if action.rsplit(".", 1)[-1] != "win_firewall_rule" or not isinstance(prepared, str):
        return []
    rules: list[dict[str, t.Any]] = []
    current: dict[str, t.Any] | None = None
    last: tuple[str, str] | None = None
    for line in prepared.splitlines():
        match = _PREPARED_LINE.match(line)
        if match is None:
            if current is not None and last is not None:  # a multi-line value (a description)
                current[last[0]][last[1]] += "\n" + line
            continue
        if match.group(2) is not None:
            current = {"name": match.group(2), "mode": match.group(1), "-": {}, "+": {}}
            rules.append(current)
            last = None
        elif current is not None:
            sign, prop = match.group(3), match.group(4)
            current[sign][prop] = match.group(5)
            last = (sign, prop)
    records: list[dict[str, t.Any]] = []
    for rule in rules:
        base = {"resource_type": "firewall_rule", "resource": rule["name"]}
        if rule["mode"]:
            created = rule["mode"] == "+"
            records.append({**base, "attribute": "present", "wanted": created, "found": not created})
            continue
        for prop in [p for p in rule["+"] if p in rule["-"]]:
            new, old = (v[:-1] if v.endswith("'") else v for v in (rule["+"][prop], rule["-"][prop]))
            records.append({**base, "attribute": _FW_OPTION.get(prop, prop), "wanted": _fw_value(prop, new),
                            "found": _fw_value(prop, old)})
    return records


def diff_records(action: str, diff: t.Any, resource: str) -> list[dict[str, t.Any]]:
    """Drift records (the convention's five keys) from a changed result's
    ``diff``: a ``prepared`` text the module's parser reads, else before/after
    (resource type the module, resource the loop item or task)."""
    diffs = diff if isinstance(diff, list) else [diff]
    records: list[dict[str, t.Any]] = []
    for one in diffs:
        if isinstance(one, dict) and "prepared" in one:
            records.extend(records_from_prepared(action, one.get("prepared")))
    records.extend({"resource_type": action, "resource": resource, "attribute": attribute, "wanted": wanted,
                    "found": found} for attribute, wanted, found in records_from_diff(diff, action))
    return records


def drift_id(record: t.Mapping[str, t.Any]) -> str:
    """Identity of a drift across runs: where it is, not what values it has."""
    key = "|".join(str(record.get(k, "")) for k in ("host", "role", "resource_type", "resource", "attribute"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def utc_timestamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime(TIMESTAMP_FORMAT)


# -- the report ----------------------------------------------------------------------

def build_report(*, environment: str, run_id: str, hosts: t.Iterable[str], drift: list[dict[str, t.Any]],
                 checked: list[dict[str, t.Any]], could_not_check: list[dict[str, t.Any]],
                 errors: list[dict[str, t.Any]], playbook: str = "", ansible_version: str = "",
                 previous: dict[str, t.Any] | None = None, secrets: t.Iterable[str] = ()) -> dict[str, t.Any]:
    """The report document (schema v1), history included."""
    secrets = list(secrets)
    drift = [dict(mask_value(d, secrets), id=drift_id(d)) for d in drift]
    drift.sort(key=lambda d: (d["host"], d["role"], d["resource_type"], d["resource"], d["attribute"]))
    seen: set[str] = set()
    unique = []
    for d in drift:
        if d["id"] not in seen:
            seen.add(d["id"])
            unique.append(d)
    drift = unique
    errors = [mask_value(e, secrets) for e in errors]
    host_names = sorted(set(hosts) | {d["host"] for d in drift} | {e["host"] for e in errors})
    host_rows = []
    for host in host_names:
        n_drift = sum(1 for d in drift if d["host"] == host)
        unreachable = any(e["host"] == host and e.get("unreachable") for e in errors)
        failed = any(e["host"] == host for e in errors)
        status = "unreachable" if unreachable else "error" if failed else "drift" if n_drift else "clean"
        host_rows.append({"host": host, "status": status, "drift": n_drift,
                          "checked": len({(c["resource_type"], c["resource"]) for c in checked if c["host"] == host}),
                          "could_not_check": sum(1 for c in could_not_check if c["host"] == host)})
    status = "error" if errors else "drift" if drift else "clean"
    report = {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "environment": environment,
        "run_id": run_id,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "playbook": playbook,
        "ansible_version": ansible_version,
        "status": status,
        "exit_code": {"clean": EXIT_CLEAN, "drift": EXIT_DRIFT, "error": EXIT_ERROR}[status],
        "summary": {"hosts": len(host_rows), "hosts_with_drift": sum(1 for h in host_rows if h["drift"]),
                    "drift": len(drift), "could_not_check": len(could_not_check), "errors": len(errors)},
        "hosts": host_rows,
        "drift": drift,
        "checked": sorted(checked, key=lambda c: (c["host"], c["role"], c["resource_type"], c["resource"])),
        "could_not_check": could_not_check,
        "errors": errors,
    }
    report["history"] = history(report, previous)
    return report


def history(report: dict[str, t.Any], previous: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """New, resolved and persisting drift against the previous report."""
    now = {d["id"]: d for d in report["drift"]}
    if previous is None:
        return {"previous_run_id": None, "new": sorted(now), "resolved": [], "persisting": []}
    before = {d["id"]: d for d in previous.get("drift", [])}
    resolved = [{k: before[i][k] for k in ("id", "host", "role", "resource_type", "resource", "attribute")}
                for i in sorted(set(before) - set(now))]
    return {"previous_run_id": previous.get("run_id"), "new": sorted(set(now) - set(before)),
            "resolved": resolved, "persisting": sorted(set(now) & set(before))}


def junit_xml(report: dict[str, t.Any]) -> str:
    """One test case per host and resource, a failure per drift; errors and
    what could not be checked as test cases with an error / skipped."""
    suites = ET.Element("testsuites", name=f"drift {report['environment']}")
    by_host: dict[str, list[tuple[str, list[dict[str, t.Any]]]]] = {}
    cases: dict[tuple[str, str, str, str], list[dict[str, t.Any]]] = {}
    for c in report["checked"]:
        cases.setdefault((c["host"], c["role"], c["resource_type"], c["resource"]), [])
    for d in report["drift"]:
        cases.setdefault((d["host"], d["role"], d["resource_type"], d["resource"]), []).append(d)
    for (host, role, rtype, res), drifts in sorted(cases.items()):
        by_host.setdefault(host, []).append((f"{role}: {rtype} {res}", drifts))
    for host in sorted(set(by_host) | {h["host"] for h in report["hosts"]}):
        entries = by_host.get(host, [])
        errs = [e for e in report["errors"] if e["host"] == host]
        skipped = [c for c in report["could_not_check"] if c["host"] == host]
        suite = ET.SubElement(suites, "testsuite", name=host,
                              tests=str(len(entries) + len(errs) + len(skipped)),
                              failures=str(sum(1 for _, d in entries if d)), errors=str(len(errs)),
                              skipped=str(len(skipped)), timestamp=report["generated"])
        for name, drifts in entries:
            case = ET.SubElement(suite, "testcase", classname=f"drift.{report['environment']}.{host}", name=name)
            for d in drifts:
                failure = ET.SubElement(case, "failure", type="drift",
                                        message=f"{d['attribute']}: wanted {_short(d['wanted'])}, "
                                                f"found {_short(d['found'])}")
                failure.text = json.dumps({k: d[k] for k in ("attribute", "wanted", "found", "task", "source")},
                                          indent=2, default=str)
        for e in errs:
            case = ET.SubElement(suite, "testcase", classname=f"drift.{report['environment']}.{host}",
                                 name=f"run: {e.get('task') or 'host'}")
            ET.SubElement(case, "error", type="unreachable" if e.get("unreachable") else "failed",
                          message=str(e.get("msg", ""))[:500])
        for c in skipped:
            case = ET.SubElement(suite, "testcase", classname=f"drift.{report['environment']}.{host}",
                                 name=f"{c['role']}: could not check: {c['task']}")
            ET.SubElement(case, "skipped", message=c["reason"])
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _short(value: t.Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _pretty(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin-top:1.4em}
.status{display:inline-block;padding:.15em .6em;border-radius:.3em;color:#fff;font-weight:600}
.clean{background:#1a7f37}.drift{background:#bf8700}.error,.unreachable{background:#cf222e}
table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #d0d7de;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f6f8fa}
.res{border:1px solid #d0d7de;border-radius:.4em;margin:1em 0;padding:.6em}
.res h3{margin:.1em 0 .4em;font-size:1.05em}.pair{display:grid;grid-template-columns:1fr 1fr;gap:.6em}
pre{background:#f6f8fa;margin:0;padding:.5em;white-space:pre-wrap;word-break:break-word}
.wanted pre{border-left:4px solid #1a7f37}.found pre{border-left:4px solid #cf222e}
.meta{color:#57606a;font-size:.9em}.tag{font-size:.8em;background:#eaeef2;border-radius:.3em;padding:0 .4em}
"""


def html_page(report: dict[str, t.Any]) -> str:
    """A self-contained page: summary per environment and host, history, then
    each drifted resource with wanted and found side by side.  No script, no
    external asset (inline CSS only)."""
    e = html.escape
    s = report["summary"]
    hist = report["history"]
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Drift report {e(report['environment'])} {e(report['run_id'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>Drift report: {e(report["environment"])} <span class="status {e(report["status"])}" id="status">'
        f'{e(report["status"])}</span></h1>',
        f'<p class="meta">Run {e(report["run_id"])}, generated {e(report["generated"])}, playbook '
        f'{e(report["playbook"])}, ansible-core {e(report["ansible_version"])}, schema v{report["schema_version"]}</p>',
        '<section id="summary"><h2>Summary</h2>',
        f'<p id="summary-line">Environment {e(report["environment"])}: {s["hosts"]} hosts, '
        f'{s["hosts_with_drift"]} with drift, {s["drift"]} drifted attributes, '
        f'{s["could_not_check"]} could not be checked, {s["errors"]} errors.</p>',
        "<table><tr><th>Host</th><th>Status</th><th>Drift</th><th>Resources checked</th>"
        "<th>Could not check</th></tr>",
    ]
    for h in report["hosts"]:
        out.append(f'<tr class="host-row"><td>{e(h["host"])}</td><td><span class="status {e(h["status"])}">'
                   f'{e(h["status"])}</span></td><td>{h["drift"]}</td><td>{h["checked"]}</td>'
                   f'<td>{h["could_not_check"]}</td></tr>')
    out.append("</table></section>")
    out.append('<section id="history"><h2>Since the previous report</h2>')
    if hist["previous_run_id"] is None:
        out.append("<p>No previous report: every drift is new.</p>")
    else:
        out.append(f'<p>Previous report {e(str(hist["previous_run_id"]))}: {len(hist["new"])} new, '
                   f'{len(hist["persisting"])} persisting, {len(hist["resolved"])} resolved.</p>')
        if hist["resolved"]:
            out.append("<ul>" + "".join(
                f'<li>resolved: {e(r["host"])} {e(r["role"])} {e(r["resource_type"])} {e(r["resource"])} '
                f'{e(r["attribute"])}</li>' for r in hist["resolved"]) + "</ul>")
    out.append("</section>")
    if report["errors"]:
        out.append('<section id="errors"><h2>Errors</h2><table><tr><th>Host</th><th>Task</th><th>Message</th></tr>')
        for err in report["errors"]:
            kind = "unreachable" if err.get("unreachable") else "failed"
            out.append(f'<tr><td>{e(err["host"])}</td><td>{e(str(err.get("task") or ""))} ({kind})</td>'
                       f'<td>{e(str(err.get("msg") or ""))}</td></tr>')
        out.append("</table></section>")
    out.append('<section id="drift"><h2>Drifted resources</h2>')
    if not report["drift"]:
        out.append("<p>No drift.</p>")
    new = set(hist["new"]) if hist["previous_run_id"] is not None else set()
    for d in report["drift"]:
        tags = "".join(f' <span class="tag">{t_}</span>' for t_ in
                       (["coarse"] if d.get("coarse") else []) + (["new"] if d["id"] in new else []))
        out.append(
            f'<div class="res" id="drift-{e(d["id"])}"><h3>{e(d["host"])}: {e(d["resource_type"])} '
            f'<code>{e(d["resource"])}</code> &middot; {e(d["attribute"])}{tags}</h3>'
            f'<p class="meta">role {e(d["role"])}, task {e(str(d.get("task") or ""))}, source {e(d["source"])}</p>'
            f'<div class="pair"><div class="wanted"><strong>Wanted</strong><pre>{e(_pretty(d["wanted"]))}</pre></div>'
            f'<div class="found"><strong>Found</strong><pre>{e(_pretty(d["found"]))}</pre></div></div></div>')
    out.append("</section>")
    out.append('<section id="could-not-check"><h2>Could not check</h2>')
    if report["could_not_check"]:
        out.append("<table><tr><th>Host</th><th>Role</th><th>Task</th><th>Reason</th></tr>")
        for c in report["could_not_check"]:
            out.append(f'<tr><td>{e(c["host"])}</td><td>{e(c["role"])}</td><td>{e(c["task"])}</td>'
                       f'<td>{e(c["reason"])}</td></tr>')
        out.append("</table>")
    else:
        out.append("<p>Everything was checked.</p>")
    out.append("</section></body></html>")
    return "\n".join(out) + "\n"


# -- the report directory --------------------------------------------------------------

def load_latest(env_dir: pathlib.Path) -> dict[str, t.Any] | None:
    """The report the ``latest`` pointer names, if any."""
    for candidate in (env_dir / "latest" / "drift.json",):
        try:
            return json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    return None


def write_reports(report: dict[str, t.Any], base: pathlib.Path, *, keep_weeks: int = DEFAULT_KEEP_WEEKS,
                  now: dt.datetime | None = None) -> pathlib.Path:
    """Write ``<base>/<env>/<run_id>/{drift.json,drift.junit.xml,drift.html}``,
    point ``<base>/<env>/latest`` at it and prune reports older than
    ``keep_weeks`` (0 keeps everything).  Returns the run directory."""
    env_dir = base / report["environment"]
    run_dir = env_dir / report["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "drift.json").write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n",
                                        encoding="utf-8")
    (run_dir / "drift.junit.xml").write_text(junit_xml(report), encoding="utf-8")
    (run_dir / "drift.html").write_text(html_page(report), encoding="utf-8")
    latest = env_dir / "latest"
    tmp = env_dir / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(report["run_id"], target_is_directory=True)
    os.replace(tmp, latest)
    prune(env_dir, keep_weeks=keep_weeks, now=now, keep=report["run_id"])
    return run_dir


def prune(env_dir: pathlib.Path, *, keep_weeks: int, now: dt.datetime | None = None, keep: str = "") -> list[str]:
    """Remove report directories older than ``keep_weeks`` weeks (by their
    UTC timestamp name); never the one named ``keep``."""
    if keep_weeks <= 0:
        return []
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(weeks=keep_weeks)
    removed = []
    for child in sorted(env_dir.iterdir()):
        if child.is_symlink() or not child.is_dir() or not _TIMESTAMP.match(child.name) or child.name == keep:
            continue
        when = dt.datetime.strptime(child.name, TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)
        if when < cutoff:
            shutil.rmtree(child)
            removed.append(child.name)
    return removed
