"""The weekly backup verification (``playbooks/backup_verify.yml``, role ``sql_backup`` entry point ``verify``)
on the simulated lab: three days of lab clock on a converged data tier, then the verification passes with
RPO ages and restore times; one deleted log backup or one damaged full backup makes it fail naming the
database and the break. Each case works on its own copy of one lab advanced once (``Lab.clone``)."""

from __future__ import annotations

import datetime as _dt
import json
import pathlib

import pytest

from winsim.models.sql_backup import restore_chain

from .lab import Lab, clone_golden

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

DATABASE = "MCMS"
# Issue 9 / docs/backup-verify.md: 1 clock read + 4 module runs per database.
ROUND_TRIPS_PER_DATABASE = 4


@pytest.fixture(scope="module")
def advanced(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = clone_golden(tmp_path_factory, "backup-verify")
    # Three days on, at 10:30 (host time is UTC): the newest chain then always
    # holds the 06:00 differential and four log backups after it, whatever the
    # time of day the tests run at.
    # (`clock advance` runs every Agent job occurrence on the way.)
    now = _dt.datetime.now(_dt.UTC)
    later = now + _dt.timedelta(days=3)
    target = later.replace(hour=10, minute=30, second=0, microsecond=0)
    if target < later:
        target += _dt.timedelta(days=1)
    lab.winsim("clock", "advance", f"{int((target - now).total_seconds() // 60)}m")
    return lab


def _verify(lab: Lab, label: str) -> tuple[object, dict]:
    reports = lab.root / "reports"
    run = lab.playbook("playbooks/backup_verify.yml", "-e", f"backup_verify_report_dir={reports}", label=label)
    found = sorted(reports.glob("*/report.json"))
    assert found, f"no report written under {reports}:\n{run.output}"
    return run, json.loads(found[-1].read_text(encoding="utf-8"))


def _chain(lab: Lab) -> list[str]:
    host = lab.group("sqlservers")[0]
    chain = restore_chain(lab.state(host), DATABASE)
    assert chain["restorable"], chain["breaks"]
    return chain["files"]


def test_after_three_days_every_database_passes_with_rpo_ages_and_restore_time(advanced: Lab) -> None:
    run, report = _verify(advanced, "verify-3d")
    assert run.returncode == 0, run.output
    assert report["passed"] is True
    host = advanced.group("sqlservers")[0]
    rows = {r["database"]: r for rep in report["reports"] for r in rep["databases"]}
    assert set(rows) == {DATABASE}
    row = rows[DATABASE]
    assert row["status"] == "passed", row["problems"]
    assert set(row["ages"]) == {"full", "diff", "log"}
    assert all(a["ok"] and a["age_minutes"] is not None for a in row["ages"].values()), row["ages"]
    assert row["ages"]["log"]["age_minutes"] <= 75
    assert row["restore"]["ok"]
    assert row["restore"]["seconds"] > 0
    assert row["restore"]["files"] == _chain(advanced)        # exactly the newest chain, full first
    assert row["integrity"]["ok"]
    assert row["scratch_dropped"] is True
    assert f"{DATABASE.lower()}_verify" not in advanced.state(host)["sql"]["instances"]["mssqlserver"]["databases"]
    assert f"{DATABASE}: PASSED; RPO ages: full " in run.output
    assert " s (" in run.output
    stats = advanced.stats(host, "last")
    print(f"{host}: backup verification of 1 database: {stats['module_runs']} module runs")
    assert stats["module_runs"] <= 1 + ROUND_TRIPS_PER_DATABASE, stats


def test_a_deleted_log_backup_fails_the_run_naming_the_database_and_the_break(
        advanced: Lab, tmp_path: pathlib.Path) -> None:
    lab = advanced.clone(tmp_path / "lab")
    host = lab.group("sqlservers")[0]
    logs = [f for f in _chain(lab) if f.endswith(".trn")]
    assert len(logs) >= 2, logs
    lab.winsim("drift", host, "remove-file", logs[-2])
    run, report = _verify(lab, "verify-missing-log")
    assert run.returncode != 0, run.output
    assert report["passed"] is False
    assert "BACKUP VERIFICATION FAILED" in run.output
    assert f"{host}: database {DATABASE}: test restore failed:" in run.output, run.output
    # The text dbatools' Test-DbaLsnChain.ps1 writes when a log's FirstLSN does not
    # follow the previous LastLSN (lowlydba.sqlserver.restore runs Restore-DbaDatabase,
    # which calls it); winsim's restore model answers with it.
    assert "Break in transaction log between" in run.output
    assert logs[-1] in run.output
    # The half-done restore left nothing behind.
    assert f"{DATABASE.lower()}_verify" not in lab.state(host)["sql"]["instances"]["mssqlserver"]["databases"]


def test_a_damaged_full_backup_fails_the_run_with_the_checksum_error(advanced: Lab, tmp_path: pathlib.Path) -> None:
    lab = advanced.clone(tmp_path / "lab")
    host = lab.group("sqlservers")[0]
    full = _chain(lab)[0]
    lab.winsim("drift", host, "corrupt-backup", full)
    run, report = _verify(lab, "verify-damaged-full")
    assert run.returncode != 0, run.output
    row = report["reports"][0]["databases"][0]
    assert row["status"] == "failed"
    assert row["integrity"] is None
    assert f"{host}: database {DATABASE}: test restore failed:" in run.output, run.output
    assert "RESTORE detected an error on page" in run.output
    assert "(Msg 3183)" in run.output
    assert "(Msg 3013)" in run.output
    assert full in run.output
    # SQL Server left the scratch database RESTORING; the verification dropped it all the same.
    assert row["scratch_dropped"] is True
    assert f"{DATABASE.lower()}_verify" not in lab.state(host)["sql"]["instances"]["mssqlserver"]["databases"]
