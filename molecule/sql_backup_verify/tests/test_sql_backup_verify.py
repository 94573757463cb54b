"""Verify the sql_backup_verify scenario: the two reports of the sql_backup role's ``verify`` entry point
that its side effect kept (three days of lab clock: passed; one log backup of the newest chain deleted:
failed, naming the database and the break) against the host as it is now, read through module runs that
change nothing (testinfra's ``host.ansible`` runs them in check mode)."""

from __future__ import annotations

import json
import typing as t

import pytest
from mcms_verify import (
    backup_files,
    ephemeral,
    lab_clock,
    newest_chain,
    ola_backup_time,
    run,
    sql_backup_lab_input,
    sql_backup_schedule,
)

INPUT = sql_backup_lab_input()
DATABASE = INPUT["sql_backup_databases"][0]["name"]
SCRATCH = DATABASE + INPUT["sql_backup_verify_scratch_suffix"]


def _report(label: str) -> dict[str, t.Any]:
    """The SQL host's report (``sql_backup_verify_report``) of the side effect's passing or broken run."""
    return json.loads(ephemeral(f"backup-verify-{label}.json").read_text(encoding="utf-8"))


def _row(report: dict[str, t.Any]) -> dict[str, t.Any]:
    (row,) = report["databases"]
    assert row["database"] == DATABASE
    return row


@pytest.fixture(scope="module")
def passed() -> dict[str, t.Any]:
    return _row(_report("passed"))


@pytest.fixture(scope="module")
def chain(passed: dict[str, t.Any]) -> list[str]:
    """The files the passing verification restored, full first."""
    return passed["restore"]["files"]


@pytest.fixture(scope="module")
def on_disk(host: t.Any) -> set[str]:
    return {path for by_time in backup_files(host, INPUT["sql_backup_dir"], DATABASE).values()
            for path in by_time.values()}


def test_three_days_on_the_verification_passed_with_rpo_ages_and_restore_time(passed: dict[str, t.Any]) -> None:
    assert _report("passed")["passed"] is True
    assert passed["status"] == "passed", passed["problems"]
    assert set(passed["ages"]) == {"full", "diff", "log"}
    assert all(age["ok"] for age in passed["ages"].values()), passed["ages"]
    assert passed["ages"]["log"]["age_minutes"] <= INPUT["sql_backup_verify_log_max_age_minutes"]
    assert passed["restore"]["ok"]
    assert passed["restore"]["seconds"] > 0
    assert passed["integrity"]["ok"]
    assert passed["scratch_dropped"] is True


def test_the_passing_restore_used_the_newest_chain_of_the_schedule(chain: list[str]) -> None:
    """The last full, the differential after it, every log backup since: the role's schedule in the three days."""
    expected = newest_chain(sql_backup_schedule(INPUT, *lab_clock()))
    restored = [ola_backup_time(path) for path in chain]
    assert restored == ([("FULL", expected["full"])] + ([("DIFF", expected["diff"])] if expected["diff"] else [])
                        + [("LOG", log) for log in expected["logs"]])
    assert len(expected["logs"]) >= 2, "the chain needs two log backups for a gap between them"


def test_exactly_one_log_backup_of_that_chain_is_gone_from_the_host(chain: list[str], on_disk: set[str]) -> None:
    gone = [path for path in chain if path not in on_disk]
    assert len(gone) == 1, gone
    assert gone[0].endswith(".trn")
    assert gone[0] != chain[-1], "the deleted log backup must leave one after it, to break the chain"


def test_then_the_verification_failed_naming_the_database_and_the_break(chain: list[str], on_disk: set[str]) -> None:
    report = _report("broken")
    row = _row(report)
    assert report["passed"] is False
    assert row["status"] == "failed"
    assert row["restore"]["ok"] is False
    assert row["integrity"] is None                                  # nothing restored, nothing to check
    (gone,) = (path for path in chain if path not in on_disk)
    after = chain[chain.index(gone) + 1]
    (problem,) = row["problems"]
    assert problem.startswith("test restore failed:"), problem
    # Test-DbaLsnChain's text (dbatools' Restore-DbaDatabase, through lowlydba.sqlserver.restore)
    assert "Break in transaction log between" in problem, problem
    assert after in problem, problem
    # The backup ages still pass: only the restore finds the gap.
    assert all(age["ok"] for age in row["ages"].values()), row["ages"]


def test_no_scratch_database_is_left_behind(host: t.Any) -> None:
    # In check mode the module reports a change for a database it would drop (a RESTORING one included).
    result = run(host, "lowlydba.sqlserver.database", {"sql_instance": INPUT["sql_backup_instance"],
                                                       "database": SCRATCH, "only_accessible": False,
                                                       "state": "absent"})
    assert result["changed"] is False
