"""Verify the sql_backup scenario's host through module runs that change
nothing (testinfra's ``host.ansible`` runs them in check mode), against the
scenario's input (``molecule/sql_backup/vars.yml``)."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml
from mcms_verify import run

SCENARIO = yaml.safe_load((pathlib.Path(__file__).resolve().parents[1] / "vars.yml").read_text(encoding="utf-8"))
PREFIX = SCENARIO["sql_backup_job_prefix"]
BACKUP_DIR = SCENARIO["sql_backup_dir"]


def test_backup_directory_exists(host: t.Any) -> None:
    stat = run(host, "ansible.windows.win_stat", {"path": BACKUP_DIR})["stat"]
    assert stat["exists"]
    assert stat["isdir"]


def test_maintenance_solution_is_installed_in_its_database(host: t.Any) -> None:
    result = run(host, "lowlydba.sqlserver.maintenance_solution", {
        "sql_instance": "localhost", "database": SCENARIO["sql_backup_solution_database"],
        "local_file": SCENARIO["sql_backup_solution_file"]})
    assert result["changed"] is False, "the Maintenance Solution is not installed"


@pytest.mark.parametrize(("database", "model"), [("MCMS", "Full"), ("MCMS_Reporting", "Simple")])
def test_recovery_models(host: t.Any, database: str, model: str) -> None:
    """Log-backup databases are FULL; a database without log backups is left as it is."""
    data = run(host, "lowlydba.sqlserver.database", {"sql_instance": "localhost", "database": database})["data"]
    assert data["RecoveryModel"] == model


@pytest.mark.parametrize("kind", ["FULL", "DIFF", "LOG"])
def test_backup_jobs_exist_and_are_enabled(host: t.Any, kind: str) -> None:
    # In check mode agent_job reports a change for a job it would create or enable, nothing otherwise.
    result = run(host, "lowlydba.sqlserver.agent_job", {"sql_instance": "localhost", "job": f"{PREFIX} - {kind}",
                                                        "enabled": True})
    assert result["changed"] is False


@pytest.mark.parametrize(("user", "rights"), [
    ("NT Service\\MSSQLSERVER", "Modify"),
    ("BUILTIN\\Administrators", "ReadAndExecute"),
])
def test_backup_directory_access_rules(host: t.Any, user: str, rights: str) -> None:
    result = run(host, "ansible.windows.win_acl", {"path": BACKUP_DIR, "user": user, "rights": rights,
                                                   "type": "allow", "state": "present"})
    assert result["changed"] is False


def test_backup_directory_inherits_nothing(host: t.Any) -> None:
    result = run(host, "ansible.windows.win_acl_inheritance", {"path": BACKUP_DIR, "state": "absent"})
    assert result["changed"] is False
