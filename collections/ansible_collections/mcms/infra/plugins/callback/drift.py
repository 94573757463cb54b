# Copyright: (c) 2026, MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift collector: gathers drift records from task results and writes the
drift reports (JSON, JUnit XML, HTML).  Decision 20, docs/drift-check.md."""

from __future__ import annotations

DOCUMENTATION = r"""
name: drift
type: aggregate
short_description: Collect drift records and write the drift reports
description:
  - Gathers, per host, the drift records of a check-mode run (normally C(playbooks/drift_check.yml) through
    C(bin/mcms-drift-check)), from every task result and every loop item
  - C(mcms_drift) lists returned by any module or action (the project's drift records convention), among them
    the records roles publish through M(mcms.infra.drift_records);
  - for a changed result without records, records derived from its C(diff) (before/after, compared under
    the module's rules, so a one-item list equals its item, set-like attributes ignore order and compare
    case-insensitively where the module does; or the C(prepared) text of
    M(community.windows.win_firewall_rule), one record per rule and property), else one coarse record
    naming the task, module and item;
  - tasks skipped because of check mode (a module without check-mode support, or a C(when) on
    C(ansible_check_mode)) that no role's records cover, listed by name under C(could_not_check);
  - failures and unreachable hosts, as errors.
  - Secret values never reach a report, results of C(no_log) tasks are masked, and so are vaulted values and
    attributes named like a secret.
  - At the end of the playbook writes C(<report_dir>/<environment>/<UTC timestamp>/) with C(drift.json)
    (schema C(docs/schemas/drift-report-v1.schema.json)), C(drift.junit.xml) and C(drift.html), moves the
    C(latest) pointer, compares with the previous report and removes reports older than O(keep_weeks).
version_added: 0.1.0
author:
  - MCMS infrastructure team
requirements:
  - enable in configuration (callbacks_enabled), as bin/mcms-drift-check does
options:
  report_dir:
    description: Directory holding one sub-directory per environment.
    type: path
    default: reports/drift
    env:
      - name: MCMS_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift
        key: report_dir
  environment:
    description: Environment name; default the inventory directory's name (C(inventories/prod) -> C(prod)).
    type: str
    env:
      - name: MCMS_DRIFT_ENV
    ini:
      - section: callback_drift
        key: environment
  keep_weeks:
    description: Remove reports older than this many weeks (0 keeps every report).
    type: int
    default: 12
    env:
      - name: MCMS_DRIFT_KEEP_WEEKS
    ini:
      - section: callback_drift
        key: keep_weeks
  run_id:
    description: Name of this report's directory; default the UTC start time (C(YYYYMMDDTHHMMSSZ)).
    type: str
    env:
      - name: MCMS_DRIFT_RUN_ID
"""

import os
import pathlib
import typing as t

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ANSIBLE_VERSION

from ansible_collections.mcms.infra.plugins.plugin_utils import _drift

_NO_CHECK_MODE = ("does not support check mode", "check mode not supported")


class CallbackModule(CallbackBase):
    """Collects drift; see DOCUMENTATION."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "mcms.infra.drift"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: t.Any = None) -> None:
        super().__init__(display=display)
        self._run_id = _drift.utc_timestamp()
        self._playbook = ""
        self._hosts: set[str] = set()
        self._drift: list[dict[str, t.Any]] = []
        self._checked: list[dict[str, t.Any]] = []
        self._skipped: list[dict[str, t.Any]] = []
        self._errors: list[dict[str, t.Any]] = []
        self._covers: dict[str, set[str]] = {}

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _where(result: t.Any) -> tuple[str, str, str, str]:
        task = result._task
        role = task._role.get_name() if getattr(task, "_role", None) else ""
        name = str(task.name or task.action)
        return result._host.get_name(), role, name, str(task.resolved_action or task.action)

    def _collect(self, result: t.Any, res: t.Mapping[str, t.Any], item: str | None) -> None:
        host, role, task, action = self._where(result)
        self._hosts.add(host)
        secret = bool(result._task.no_log) or bool(res.get("_ansible_no_log")) or "censored" in res
        base = {"host": host, "role": role, "task": task + (f" [{item}]" if item else "")}
        for rec in res.get("mcms_drift_checked") or []:
            if isinstance(rec, dict):
                self._checked.append({"host": host, "role": role, "resource_type": str(rec.get("resource_type")),
                                      "resource": str(rec.get("resource"))})
        if res.get("mcms_drift_covers"):
            self._covers.setdefault(host, set()).update(str(c) for c in res["mcms_drift_covers"])
        records = res.get("mcms_drift")
        if isinstance(records, list) and records:
            source = "action" if action.endswith("drift_records") else "record"
            for rec in records:
                try:
                    norm = _drift.normalize_record(rec, secret=secret)
                except _drift.DriftError as exc:
                    self._errors.append({"host": host, "task": task, "msg": f"malformed drift record: {exc}",
                                         "unreachable": False})
                    continue
                self._drift.append({**norm, **base, "source": source, "coarse": False, "_task": task})
                self._checked.append({"host": host, "role": role, "resource_type": norm["resource_type"],
                                      "resource": norm["resource"]})
            return
        if not res.get("changed"):
            return
        resource = item or task
        derived = [] if secret else _drift.diff_records(action, res.get("diff"), resource)
        if derived:
            for rec in derived:
                norm = _drift.normalize_record(rec)
                self._drift.append({**norm, **base, "source": "diff", "coarse": False, "_task": task})
                self._checked.append({"host": host, "role": role, "resource_type": norm["resource_type"],
                                      "resource": norm["resource"]})
            return
        self._drift.append({"resource_type": action, "resource": "(secret)" if secret and item else resource,
                            "attribute": "changed", "wanted": "as the task declares",
                            "found": "differs (the module reports a change without details)",
                            **base, "source": "coarse", "coarse": True, "_task": task})
        self._checked.append({"host": host, "role": role, "resource_type": action, "resource": resource})

    def _check_skip(self, result: t.Any, res: t.Mapping[str, t.Any]) -> None:
        if not result._task.check_mode and not context.CLIARGS.get("check"):
            return
        if isinstance(result._task, Handler):
            # Handlers only restart, recycle or reboot (HOUSE_STYLE): the change that
            # notified one is the drift, already reported; its skip hides no state.
            return
        host, role, task, action = self._where(result)
        msg = str(res.get("msg") or "")
        cond = str(res.get("false_condition") or "")
        reason = ""
        if any(s in msg for s in _NO_CHECK_MODE):
            reason = f"{action} does not support check mode"
        elif _drift.skipped_for_check_mode(cond) and not _drift.is_read_only(action):
            reason = f"skipped in check mode (when: {cond})"
        if reason:
            self._skipped.append({"host": host, "role": role, "task": task, "reason": reason})

    def _error(self, result: t.Any, unreachable: bool) -> None:
        host, role, task, _ = self._where(result)
        self._hosts.add(host)
        res = result._result
        msg = "(no_log)" if result._task.no_log else str(res.get("msg") or res.get("reason") or "")[:1000]
        self._errors.append({"host": host, "role": role, "task": task, "msg": msg, "unreachable": unreachable})

    # -- events ------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: t.Any) -> None:
        self._playbook = os.path.basename(str(playbook._file_name))

    def v2_runner_on_ok(self, result: t.Any) -> None:
        res = result._result
        items = res.get("results")
        if isinstance(items, list) and any(isinstance(i, dict) and "ansible_loop_var" in i for i in items):
            for one in items:
                if not isinstance(one, dict):
                    continue
                if one.get("skipped"):
                    self._check_skip(result, one)
                    continue
                label = one.get("_ansible_item_label", one.get(one.get("ansible_loop_var", "item")))
                label_text = "(no_log)" if result._task.no_log else _drift.plain(label)
                if not isinstance(label_text, str):
                    label_text = str(label_text)[:200]
                self._collect(result, one, label_text)
            return
        self._collect(result, res, None)

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        res = result._result
        self._hosts.add(result._host.get_name())
        items = res.get("results")
        if isinstance(items, list) and items:
            seen = False
            for one in items:
                if isinstance(one, dict) and not seen:
                    before = len(self._skipped)
                    self._check_skip(result, one)
                    seen = len(self._skipped) > before
            return
        self._check_skip(result, res)

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            self._error(result, unreachable=False)

    def v2_runner_on_unreachable(self, result: t.Any) -> None:
        self._error(result, unreachable=True)

    # -- the report --------------------------------------------------------------------
    def _environment(self) -> str:
        env = self.get_option("environment")
        if env:
            return str(env)
        sources = context.CLIARGS.get("inventory") or []
        if sources:
            path = pathlib.Path(str(sources[0])).resolve()
            return (path if path.is_dir() else path.parent).name
        return "default"

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        self._hosts.update(stats.processed.keys())
        drift = []
        for d in self._drift:
            covers = self._covers.get(d["host"], set())
            if d["coarse"] and d["_task"] in covers:
                continue
            drift.append({k: v for k, v in d.items() if k != "_task"})
        could_not_check = []
        for s in self._skipped:
            if s["task"] in self._covers.get(s["host"], set()):
                continue
            if s not in could_not_check:
                could_not_check.append(s)
        checked = []
        for c in self._checked:
            if c not in checked:
                checked.append(c)
        base = pathlib.Path(self.get_option("report_dir"))
        env = self._environment()
        previous = _drift.load_latest(base / env)
        report = _drift.build_report(environment=env, run_id=str(self.get_option("run_id") or self._run_id),
                                     hosts=self._hosts, drift=drift, checked=checked, could_not_check=could_not_check,
                                     errors=self._errors, playbook=self._playbook, ansible_version=ANSIBLE_VERSION,
                                     previous=previous)
        run_dir = _drift.write_reports(report, base, keep_weeks=int(self.get_option("keep_weeks")))
        self._display.display(f"DRIFT REPORT: {report['status']}: {report['summary']['drift']} drifted attribute(s) "
                              f"on {report['summary']['hosts_with_drift']} host(s), "
                              f"{report['summary']['could_not_check']} could not be checked, "
                              f"{report['summary']['errors']} error(s): {run_dir}")
