"""lowlydba.sqlserver 2.8.1 backup and restore models (models/sql_backup.py):
real backup files, msdb history, LSN chains and chain selection on restore."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from winsim import state as st
from winsim.models import sql
from winsim.models.sql_backup import parse_sets

SA = {"sql_instance": "localhost", "sql_username": "sa", "sql_password": "Str0ng!Passw0rd"}
T0 = dt.datetime(2026, 3, 2, 1, 0, 0, tzinfo=dt.UTC)
BACKUP_DIR = "C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Backup"


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]


@pytest.fixture
def db_state(run_module, fresh_state) -> dict[str, t.Any]:
    """AppDb in FULL recovery on a default instance."""
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", recovery_model="Full"),
                          state=fresh_state)
    return state


def backup(run_module, state, kind, minute, **extra):
    return run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb", type=kind, **extra), state=state,
                      now=at(minute))


@pytest.fixture
def chain_state(run_module, db_state) -> dict[str, t.Any]:
    """full (01:00) -> log (01:15) -> diff (01:30) -> log (01:45) -> log (02:00)."""
    state = db_state
    for kind, minute in (("full", 0), ("log", 15), ("diff", 30), ("log", 45), ("log", 60)):
        result, state = backup(run_module, state, kind, minute)
        assert result["changed"], result
    return state


def test_full_backup_writes_file_and_history(run_module, db_state):
    args = dict(SA, database="AppDb", type="full", checksum=True)
    result, checked = run_module("lowlydba.sqlserver.backup", args, state=db_state, check_mode=True, now=at(0))
    assert not result["changed"]          # Backup-DbaDatabase -WhatIf returns nothing
    assert checked == db_state
    result, state = run_module("lowlydba.sqlserver.backup", args, state=db_state, now=at(0))
    assert result["changed"]
    path = f"{BACKUP_DIR}\\AppDb_202603020100.bak"
    data = result["data"]
    assert data["BackupPath"] == path
    assert data["BackupFile"] == "AppDb_202603020100.bak"
    assert data["Type"] == "Full"
    assert data["BackupComplete"] is True
    assert "FirstLsn" not in data          # excluded unless there are notes
    assert "CHECKSUM" in data["Script"]
    (header,) = parse_sets(st.read_file(state, path))
    assert header["database"] == "AppDb"
    assert header["type"] == "Full"
    assert header["has_checksum"]
    (row,) = inst(state)["backup_history"]
    assert row["first_lsn"] == header["first_lsn"] == row["checkpoint_lsn"]
    assert row["last_lsn"] > row["first_lsn"]
    assert row["paths"] == [path]
    assert not row["is_compressed"]


def test_backup_is_not_idempotent_like_the_module(run_module, db_state):
    _, state = backup(run_module, db_state, "full", 0)
    result, state = backup(run_module, state, "full", 1)
    assert result["changed"]
    assert len(inst(state)["backup_history"]) == 2


def test_backup_lsns_chain(run_module, chain_state):
    full, log1, diff, log2, log3 = inst(chain_state)["backup_history"]
    assert [r["type"] for r in (full, log1, diff, log2, log3)] == ["Full", "Log", "Differential", "Log", "Log"]
    assert log1["first_lsn"] == full["first_lsn"]
    assert log2["first_lsn"] == log1["last_lsn"]
    assert log3["first_lsn"] == log2["last_lsn"]
    assert diff["database_backup_lsn"] == full["checkpoint_lsn"]
    assert log2["database_backup_lsn"] == full["checkpoint_lsn"]
    assert log1["last_lsn"] < diff["last_lsn"] < log2["last_lsn"]


def test_backup_verify_reports_lsns(run_module, db_state):
    result, state = backup(run_module, db_state, "full", 0, verify=True)
    assert result["data"]["Verified"] is True
    assert result["data"]["Notes"] == "Verify successful"
    assert result["data"]["FirstLsn"] == inst(state)["backup_history"][0]["first_lsn"]


def test_same_minute_backups_append_to_one_file(run_module, db_state):
    _, state = backup(run_module, db_state, "full", 0)
    result, state = backup(run_module, state, "diff", 0)
    assert result["data"]["Position"] == 2
    sets = parse_sets(st.read_file(state, f"{BACKUP_DIR}\\AppDb_202603020100.bak"))
    assert [s["type"] for s in sets] == ["Full", "Differential"]


def test_log_backup_on_simple_recovery_fails(run_module, db_state):
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", recovery_model="Simple"),
                          state=db_state)
    _, state = backup(run_module, state, "full", 0)
    for check_mode in (True, False):
        result, _ = run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb", type="log"), state=state,
                               check_mode=check_mode, now=at(5))
        assert result["failed"]
        assert result["msg"] == ("Error backing up database: [AppDb] is in simple recovery mode, cannot take log "
                                 "backup.")


@pytest.mark.parametrize("kind", ["diff", "differential", "log"])
def test_diff_or_log_without_full_fails(run_module, db_state, kind):
    result, _ = backup(run_module, db_state, kind, 0)
    assert result["failed"]
    assert result["msg"] == ("Error backing up database: [AppDb] does not have an existing full backup, cannot "
                             "take log or differentialbackup.")


def test_log_backup_after_recovery_model_switch_needs_new_full(run_module, db_state):
    _, state = backup(run_module, db_state, "full", 0)
    for model in ("Simple", "Full"):
        _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", recovery_model=model),
                              state=state)
    result, _ = backup(run_module, state, "log", 5)
    assert result["failed"]
    assert result["msg"].startswith("Error backing up database: BACKUP LOG cannot be performed because there is no "
                                    "current database backup.")


def test_copy_only_full_does_not_reset_differential_base(run_module, db_state):
    _, state = backup(run_module, db_state, "full", 0)
    _, state = backup(run_module, state, "full", 5, copy_only=True)
    _, state = backup(run_module, state, "diff", 10)
    full, copy_only, diff = inst(state)["backup_history"]
    assert copy_only["is_copy_only"]
    assert diff["database_backup_lsn"] == full["checkpoint_lsn"]


def test_disk_full_on_target_drive_fails(run_module, db_state):
    result, state = run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb", type="full"), state=db_state,
                               faults=[{"kind": "disk_full", "target": "C:"}], now=at(0))
    assert result["failed"]
    assert "112(There is not enough space on the disk.)" in result["msg"]
    assert inst(state)["backup_history"] == []


def test_backup_to_other_drive_ignores_full_drive(run_module, db_state):
    st.make_dirs(db_state, "D:\\Backup", "2026-03-02T00:00:00Z")
    result, state = run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb", type="full",
                                                                  path="D:\\Backup"),
                               state=db_state, faults=[{"kind": "disk_full", "target": "C:"}], now=at(0))
    assert result["changed"]
    assert st.exists(state, "D:\\Backup\\AppDb_202603020100.bak")


@pytest.mark.parametrize(("extra", "expected"), [
    ({"path": "D:\\Backup", "create_folder": True}, "D:\\Backup\\AppDb\\AppDb_202603020100.bak"),
    ({"file_path": "D:\\Backup\\nightly.bak"}, "D:\\Backup\\nightly.bak"),
    ({"path": "D:\\Backup", "timestamp_format": "yyyyMMdd"}, "D:\\Backup\\AppDb_20260302.bak"),
    ({"path": "D:\\Backup", "file_path": "dbname-backuptype.bak", "replace_in_name": True},
     "D:\\Backup\\AppDb-Full.bak"),
])
def test_backup_file_naming(run_module, db_state, extra, expected):
    st.make_dirs(db_state, "D:\\Backup", "2026-03-02T00:00:00Z")
    result, state = backup(run_module, db_state, "full", 0, **extra)
    assert result["changed"], result
    assert st.exists(state, expected)


def test_backup_to_missing_folder_is_silently_skipped(run_module, db_state):
    result, state = backup(run_module, db_state, "full", 0, path="D:\\Nope")
    assert not result["changed"]
    assert not result.get("failed")
    assert inst(state)["backup_history"] == []
    result, state = backup(run_module, db_state, "full", 0, path="D:\\Nope", build_path=True)
    assert result["changed"]
    assert st.exists(state, "D:\\Nope\\AppDb_202603020100.bak")


def test_backup_unknown_database_does_nothing(run_module, db_state):
    result, _ = run_module("lowlydba.sqlserver.backup", dict(SA, database="Nope"), state=db_state)
    assert not result["changed"]
    assert "data" not in result


def test_compress_has_no_effect_in_2_8_1(run_module, db_state):
    _, state = backup(run_module, db_state, "full", 0, compress=True)
    assert inst(state)["backup_history"][0]["is_compressed"] is False


# -- restore --------------------------------------------------------------------------

def restore(run_module, state, **extra):
    return run_module("lowlydba.sqlserver.restore", dict(SA, path=BACKUP_DIR, **extra), state=state, now=at(120))


def test_restore_picks_full_diff_and_later_logs(run_module, chain_state):
    result, checked = run_module("lowlydba.sqlserver.restore",
                                 dict(SA, path=BACKUP_DIR, database="AppDb_Copy", replace_db_name_in_file=True),
                                 state=chain_state, check_mode=True, now=at(120))
    assert not result["changed"]
    assert checked == chain_state
    result, state = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True)
    assert result["changed"], result
    files = [r["BackupFile"].rsplit("\\", 1)[-1] for r in result["data"]]
    assert files == ["AppDb_202603020100.bak", "AppDb_202603020130.bak", "AppDb_202603020145.trn",
                     "AppDb_202603020200.trn"]
    assert [r["NoRecovery"] for r in result["data"]] == [True, True, True, False]
    db = inst(state)["databases"]["appdb_copy"]
    assert db["status"] == "Normal"
    assert db["lsn"] == inst(state)["backup_history"][-1]["last_lsn"]
    assert db["files"][0]["physical_name"].endswith("\\AppDb_Copy.mdf")


def test_restore_without_diff_uses_all_logs(run_module, chain_state):
    result, _ = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True,
                        ignore_diff_backup=True)
    files = [r["BackupFile"].rsplit("\\", 1)[-1] for r in result["data"]]
    assert files == ["AppDb_202603020100.bak", "AppDb_202603020115.trn", "AppDb_202603020145.trn",
                     "AppDb_202603020200.trn"]


def test_restore_with_missing_log_fails(run_module, chain_state):
    st.remove(chain_state, f"{BACKUP_DIR}\\AppDb_202603020145.trn")
    result, state = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True)
    assert result["failed"]
    assert result["msg"].startswith("Error restoring database: Database AppDb_Copy unable to be restored, see "
                                    "warnings for details. Additional warnings: ")
    assert (f"Break in LSN Chain between {BACKUP_DIR}\\AppDb_202603020130.bak and "
            f"{BACKUP_DIR}\\AppDb_202603020200.trn") in result["msg"]
    assert "appdb_copy" not in inst(state)["databases"]


def test_restore_with_missing_middle_log_fails(run_module, chain_state):
    st.remove(chain_state, f"{BACKUP_DIR}\\AppDb_202603020145.trn")
    result, _ = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True,
                        ignore_diff_backup=True)
    assert result["failed"]
    assert (f"Break in transaction log between {BACKUP_DIR}\\AppDb_202603020115.trn and "
            f"{BACKUP_DIR}\\AppDb_202603020200.trn") in result["msg"]


def test_restore_over_existing_database_needs_replace(run_module, chain_state):
    result, _ = restore(run_module, chain_state)
    assert result["failed"]
    assert "Database AppDb exists, so WithReplace must be specified" in result["msg"]
    result, state = restore(run_module, chain_state, with_replace=True)
    assert result["changed"]
    assert inst(state)["databases"]["appdb"]["status"] == "Normal"


def test_restore_copy_next_to_source_clashes_on_files(run_module, chain_state):
    result, _ = restore(run_module, chain_state, database="AppDb_Copy")
    assert result["failed"]
    assert "already exists on localhost and owned by another database, cannot restore" in result["msg"]


def test_restore_no_recovery_leaves_database_restoring(run_module, chain_state):
    _, state = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True,
                       no_recovery=True)
    assert inst(state)["databases"]["appdb_copy"]["status"] == "Restoring"
    result, _ = run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb_Copy"), state=state, now=at(130))
    assert result["msg"] == "Error backing up database: Database status not Normal. AppDb_Copy skipped.."


def test_restore_brings_back_users(run_module, db_state):
    _, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", password="An0ther!Passw0rd"),
                          state=db_state)
    _, state = run_module("lowlydba.sqlserver.user", dict(SA, database="AppDb", login="app_user",
                                                          username="app_user"), state=state)
    _, state = backup(run_module, state, "full", 0)
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", state="absent"), state=state)
    result, state = restore(run_module, state)
    assert result["changed"]
    assert result["data"]["DatabaseName"] == "AppDb"        # a single backup: one object
    assert "app_user" in inst(state)["databases"]["appdb"]["users"]


def test_restore_verify_only(run_module, chain_state):
    result, state = restore(run_module, chain_state, verify_only=True)
    assert result["changed"]
    assert result["data"] == [{"Length": 17}] * 5
    assert state["sql"] == chain_state["sql"]


def test_restore_from_empty_path_does_nothing(run_module, db_state):
    result, _ = restore(run_module, db_state)
    assert not result["changed"]
    assert not result.get("failed")


def test_restore_without_full_fails(run_module, chain_state):
    for name in ("AppDb_202603020100.bak", "AppDb_202603020130.bak"):
        st.remove(chain_state, f"{BACKUP_DIR}\\{name}")
    result, _ = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True)
    assert result["failed"]
    assert "No Full backup found" in result["msg"]


def test_restored_database_has_no_backup_history_of_its_own(run_module, chain_state):
    _, state = restore(run_module, chain_state, database="AppDb_Copy", replace_db_name_in_file=True)
    result, _ = run_module("lowlydba.sqlserver.backup", dict(SA, database="AppDb_Copy", type="log"), state=state,
                           now=at(130))
    assert result["failed"]
    assert "does not have an existing full backup" in result["msg"]
