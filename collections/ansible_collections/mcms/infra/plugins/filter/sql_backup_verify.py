# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the backup verification (``playbooks/backup_verify.yml``, role
``sql_backup`` entry point ``verify``); the logic lives in
``plugin_utils/_backup_verify.py``.

* ``sql_backup_verify_report``   -- one host's verdict per database;
* ``sql_backup_verify_summary``  -- the human-readable lines of every host's report;
* ``sql_backup_verify_failures`` -- one line per failed database, naming the break.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _backup_verify as bv


def sql_backup_verify_report(reads: list[t.Any], host: str, now: str, databases: list[t.Any],
                             restores: list[t.Any], checks: list[t.Any], drops: list[t.Any],
                             thresholds: dict[str, t.Any], scratch_suffix: str = "_verify",
                             loop_var: str = "__sql_backup_item") -> dict[str, t.Any]:
    """See ``_backup_verify.report``; input is the ``results`` of the registered loops."""
    try:
        return bv.report(str(host), now, list(databases), list(reads), list(restores), list(checks), list(drops),
                         dict(thresholds), loop_var=loop_var, scratch_suffix=str(scratch_suffix))
    except (bv.BackupVerifyError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"sql_backup_verify_report: {exc}") from exc


def sql_backup_verify_summary(reports: list[t.Any]) -> list[str]:
    """See ``_backup_verify.summary``."""
    try:
        return bv.summary(list(reports))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"sql_backup_verify_summary: {exc}") from exc


def sql_backup_verify_failures(reports: list[t.Any]) -> list[str]:
    """See ``_backup_verify.failures``."""
    try:
        return bv.failures(list(reports))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"sql_backup_verify_failures: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"sql_backup_verify_report": sql_backup_verify_report,
                "sql_backup_verify_summary": sql_backup_verify_summary,
                "sql_backup_verify_failures": sql_backup_verify_failures}
