"""Unit tests of the backup verification's controller-side logic (``plugin_utils/_backup_verify.py``,
filters ``mcms.infra.sql_backup_verify_*``): ages against thresholds, the restore and CHECKDB verdicts,
the RTO figure, the summary and the failure lines that name the database and the break."""

from __future__ import annotations

import typing as t

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.filter import sql_backup_verify as filters
from ansible_collections.mcms.infra.plugins.plugin_utils import _backup_verify as bv

NOW = "2026-03-05T10:30:00"
THRESHOLDS = {"full_hours": 26, "diff_hours": 13, "log_minutes": 75}
LV = "__sql_backup_item"


def _item(name: str) -> dict[str, t.Any]:
    return {LV: {"name": name, "log_backups": True}}


def _read(name: str, full: str = "2026-03-05T00:00:00.0000000", diff: str = "2026-03-05T06:00:00.0000000",
          log: str = "2026-03-05T10:15:00.0000000") -> dict[str, t.Any]:
    return {**_item(name), "changed": False, "data": {"Name": name, "LastFullBackup": full, "LastDiffBackup": diff,
                                                      "LastLogBackup": log, "ComputerName": "SQL01"}}


def _restore(name: str, seconds: tuple[int, ...] = (5, 7, 12)) -> dict[str, t.Any]:
    data = [{"BackupFile": f"D:\\b\\{i}.bak", "RestoreComplete": True, "DatabaseRestoreTime": {"TotalSeconds": s}}
            for i, s in enumerate(seconds)]
    return {**_item(name), "changed": True, "data": data}


def _ok(name: str) -> dict[str, t.Any]:
    return {**_item(name), "changed": True}


def _report(reads: list, restores: list, checks: list, drops: list, dbs: t.Sequence[str] = ("MCMS",)) -> dict:
    return bv.report("sql01", NOW, [{"name": d} for d in dbs], reads, restores, checks, drops, THRESHOLDS)


def test_a_healthy_database_passes_with_its_ages_and_restore_time() -> None:
    rep = _report([_read("MCMS")], [_restore("MCMS")], [_ok("MCMS")], [_ok("MCMS")])
    row = rep["databases"][0]
    assert rep["passed"], row["problems"]
    assert row["status"] == "passed"
    assert {k: v["age_minutes"] for k, v in row["ages"].items()} == {"full": 630.0, "diff": 270.0, "log": 15.0}
    assert row["restore"]["seconds"] == 12.0            # DatabaseRestoreTime of the last file: the RTO figure
    assert row["restore"]["file_count"] == 3
    assert row["integrity"] == {"ok": True, "error": None}
    assert row["scratch_dropped"] is True


@pytest.mark.parametrize(("read", "words"), [
    pytest.param(_read("MCMS", log="2026-03-05T09:14:00.0000000"), "last log backup 76 min old (threshold 75 min)",
                 id="log-76min"),
    pytest.param(_read("MCMS", full="2026-03-04T08:00:00.0000000"), "last full backup 26.5 h old", id="full-old"),
    pytest.param(_read("MCMS", diff="2026-03-04T09:00:00.0000000"), "last diff backup 25.5 h old", id="diff-old"),
    pytest.param(_read("MCMS", log="0001-01-01T00:00:00.0000000"), "no log backup in msdb history", id="never"),
])
def test_an_old_backup_fails_the_database_naming_the_kind(read: dict, words: str) -> None:
    rep = _report([read], [_restore("MCMS")], [_ok("MCMS")], [_ok("MCMS")])
    assert not rep["passed"]
    assert any(words in p for p in rep["databases"][0]["problems"]), rep["databases"][0]["problems"]


def test_the_log_threshold_is_inclusive_and_ignored_without_log_backups() -> None:
    rep = _report([_read("MCMS", log="2026-03-05T09:15:00.0000000")], [_restore("MCMS")], [_ok("MCMS")], [_ok("MCMS")])
    assert rep["passed"], rep["databases"][0]["problems"]           # exactly 75 min
    rep = bv.report("sql01", NOW, [{"name": "MCMS", "log_backups": False}],
                    [_read("MCMS", log="0001-01-01T00:00:00.0000000")], [_restore("MCMS")], [_ok("MCMS")],
                    [_ok("MCMS")], THRESHOLDS)
    assert rep["passed"]
    assert "log" not in rep["databases"][0]["ages"]


def test_a_failed_restore_names_the_break_and_the_scratch_database_is_still_dropped() -> None:
    msg = ("Error restoring database: Database MCMS_verify unable to be restored, see warnings for details. "
           "Additional warnings: [10:30:00][Test-DbaLsnChain] Break in transaction log between "
           "D:\\SQLBackup\\SQL01\\MCMS\\LOG\\a.trn and D:\\SQLBackup\\SQL01\\MCMS\\LOG\\c.trn .")
    rep = _report([_read("MCMS"), _read("Other")], [{**_item("MCMS"), "failed": True, "msg": msg}, _restore("Other")],
                  [{**_item("MCMS"), "skipped": True}, _ok("Other")], [_ok("MCMS"), _ok("Other")],
                  dbs=("MCMS", "Other"))
    assert not rep["passed"]
    mcms, other = rep["databases"]
    assert mcms["status"] == "failed"
    assert other["status"] == "passed"
    assert mcms["integrity"] is None
    assert mcms["scratch_dropped"] is True
    lines = bv.failures([rep])
    assert len(lines) == 1
    assert lines[0].startswith("sql01: database MCMS: test restore failed:")
    assert "Break in transaction log between" in lines[0]
    assert "c.trn" in lines[0]


def test_a_failed_checkdb_fails_the_database() -> None:
    check = {**_item("MCMS"), "failed": True, "msg": "Executing nonquery failed.",
             "exception": "Msg 8939, Level 16: Table error: ... Test (IS_OFF (BUF_IOERR, pBUF->bstat)) failed."}
    rep = _report([_read("MCMS")], [_restore("MCMS")], [check], [_ok("MCMS")])
    assert rep["databases"][0]["integrity"]["ok"] is False
    assert "DBCC CHECKDB failed on MCMS_verify: Executing nonquery failed. Msg 8939" in bv.failures([rep])[0]


def test_a_database_that_cannot_be_read_or_restored_is_never_a_pass() -> None:
    rep = _report([{**_item("MCMS"), "changed": True}], [{**_item("MCMS"), "changed": False}], [], [])
    problems = rep["databases"][0]["problems"]
    assert "does not exist" in problems[0]
    assert "test restore found no backup files" in problems
    rep = _report([], [], [], [])
    assert rep["databases"][0]["problems"][:2] == ["its backup history was not read", "no test restore ran"]


def test_summary_lists_every_database_with_rpo_ages_and_restore_time() -> None:
    rep = _report([_read("MCMS")], [_restore("MCMS")], [_ok("MCMS")], [_ok("MCMS")])
    lines = bv.summary([rep])
    assert lines[0] == "sql01 (host time 2026-03-05T10:30:00): PASSED"
    assert lines[1] == ("  MCMS: PASSED; RPO ages: full 10.5 h, diff 4.5 h, log 15 min; restore 12 s (3 files); "
                        "CHECKDB ok")


def test_dates_with_a_zone_or_without_fractions_are_read() -> None:
    assert bv.parse_time("2026-03-05T10:15:00") == bv.parse_time("2026-03-05T10:15:00.0000000+01:00")
    assert bv.parse_time("0001-01-01T00:00:00") is None
    with pytest.raises(bv.BackupVerifyError):
        bv.parse_time("yesterday")


def test_filters_wrap_bad_input_as_filter_errors() -> None:
    with pytest.raises(AnsibleFilterError, match="sql_backup_verify_report: no current time"):
        filters.sql_backup_verify_report([], "sql01", "", [], [], [], [], THRESHOLDS)
    rep = filters.sql_backup_verify_report([_read("MCMS")], "sql01", NOW, [{"name": "MCMS"}], [_restore("MCMS")],
                                           [_ok("MCMS")], [_ok("MCMS")], THRESHOLDS)
    assert filters.sql_backup_verify_failures([rep]) == []
    assert filters.sql_backup_verify_summary([rep])[0].endswith("PASSED")
