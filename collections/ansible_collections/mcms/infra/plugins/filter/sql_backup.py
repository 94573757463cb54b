# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the ``sql_backup`` role; the logic lives in ``plugin_utils/_sql_backup.py``.

* ``sql_backup_input_errors`` -- every problem in the role's variables (the
  same function the preflight runs);
* ``sql_backup_jobs``         -- the FULL/DIFF/LOG Agent jobs, steps and schedules;
* ``sql_backup_recovery_plan`` -- missing databases, SIMPLE databases to fix or report;
* ``sql_backup_databases``     -- the combined ``sql_backup_databases`` /
  ``_group_`` / ``_host_`` list (a later layer replaces an entry of the same name).
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _sql_backup


def sql_backup_input_errors(config: dict[str, t.Any]) -> list[str]:
    """Every problem in the ``sql_backup`` role's variables (empty when the input is good)."""
    if not isinstance(config, dict):
        raise AnsibleFilterError("sql_backup_input_errors: expects a dict of the role's variables")
    return _sql_backup.input_errors(config)


def sql_backup_jobs(config: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The role's Agent jobs (see ``_sql_backup.jobs``)."""
    try:
        return _sql_backup.jobs(config)
    except (_sql_backup.SqlBackupError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"sql_backup_jobs: {exc}") from exc


def sql_backup_recovery_plan(reads: list[dict[str, t.Any]], databases: list[t.Any], fix: bool) -> dict[str, t.Any]:
    """What to do about each database's recovery model (see ``_sql_backup.recovery_plan``)."""
    try:
        return _sql_backup.recovery_plan(list(reads), list(databases), bool(fix))
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"sql_backup_recovery_plan: {exc}") from exc


def sql_backup_databases(config: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The combined database list (see ``_sql_backup.databases``)."""
    try:
        return _sql_backup.databases(dict(config))
    except (_sql_backup.SqlBackupError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"sql_backup_databases: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"sql_backup_input_errors": sql_backup_input_errors, "sql_backup_jobs": sql_backup_jobs,
                "sql_backup_recovery_plan": sql_backup_recovery_plan, "sql_backup_databases": sql_backup_databases}
