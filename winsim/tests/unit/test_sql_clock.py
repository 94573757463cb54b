"""SQL Server Agent under the lab clock (models/sql_scheduler.py, clock.py):
Ola Hallengren's jobs really run as lab time passes, their backups form a
restorable chain, and cleanup keeps what the newest chain needs.

Every test here fails on the code before the lab clock: there was no
``clock`` module, no scheduler, and Agent jobs never ran."""

from __future__ import annotations

import datetime as dt
import json
import time
import typing as t
from pathlib import Path

import pytest

from winsim import clock
from winsim import state as st
from winsim.models import sql
from winsim.models.sql_backup import parse_sets, restore_chain
from winsim.models.sql_scheduler import occurrences, run_agents
from winsim.store import HostStore

SA = {"sql_instance": "localhost", "sql_username": "sa", "sql_password": "Str0ng!Passw0rd"}
T0 = dt.datetime(2026, 3, 2, 0, 0, 0, tzinfo=dt.UTC)      # a Monday, midnight
ROOT = "D:\\Backup"
DIR = f"{ROOT}\\WINSIM\\AppDb"
OLA = ("DatabaseBackup - USER_DATABASES - FULL", "DatabaseBackup - USER_DATABASES - DIFF",
       "DatabaseBackup - USER_DATABASES - LOG")


def inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]


def files_in(state: dict[str, t.Any], folder: str) -> list[str]:
    return [i["path"].rsplit("\\", 1)[-1] for i in st.children(state, folder) if i["type"] == "file"]


def schedule(run_module, state, job, name, *, subday=None, interval=None, start_time="000000"):
    args = dict(SA, job=job, schedule=name, frequency_type="Daily", start_date="20260301", start_time=start_time,
                force=True)
    if subday:
        args.update(frequency_subday_type=subday, frequency_subday_interval=interval)
    result, state = run_module("lowlydba.sqlserver.agent_job_schedule", args, state=state, now=T0)
    assert result["changed"], result
    return state


@pytest.fixture
def ola_state(run_module, fresh_state) -> dict[str, t.Any]:
    """SQL Server 2022 with AppDb (FULL recovery) and Ola's jobs writing to
    D:\\Backup with @CleanupTime = 24 h, scheduled as a role would: FULL
    daily at 00:00, DIFF every 12 h from 06:00, LOG every hour from 00:30."""
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    state = fresh_state
    for fqcn, args in (
            ("ansible.windows.win_file", {"path": ROOT, "state": "directory"}),
            ("lowlydba.sqlserver.database", dict(SA, database="AppDb", recovery_model="Full")),
            ("lowlydba.sqlserver.maintenance_solution",
             dict(SA, database="master", install_jobs=True, backup_location=ROOT, cleanup_time=24))):
        result, state = run_module(fqcn, args, state=state, now=T0)
        assert result["changed"], result
        assert not result.get("failed"), result
    state = schedule(run_module, state, OLA[0], "Ola full daily")
    state = schedule(run_module, state, OLA[1], "Ola diff 12h", subday="Hours", interval=12, start_time="060000")
    state = schedule(run_module, state, OLA[2], "Ola log 1h", subday="Hours", interval=1, start_time="003000")
    return state


def test_three_days_of_ola_jobs_give_the_expected_files_and_a_restorable_chain(ola_state):
    """The issue's test: advancing 3 days with full daily / diff 12 h / log
    1 h gives exactly the expected files, a restorable chain, and cleanup
    (24 h, shorter than the 3-day chain age) never removes what the newest
    chain needs."""
    state = ola_state
    runs = run_agents(state, T0, T0 + dt.timedelta(days=3))
    # 3 full + 6 diff + 72 log runs of the scheduled jobs
    assert runs == 3 + 6 + 72
    jobs = inst(state)["agent"]["jobs"]
    for name in OLA:
        job = jobs[name.lower()]
        assert job["last_run_outcome"] == "Succeeded", job["history"][-1]
    assert len(jobs[OLA[2].lower()]["history"]) == 50     # msdb keeps 100 rows per job: 50 one-step runs
    assert jobs[OLA[0].lower()]["last_run_date"] == "2026-03-05T00:00:00Z"
    assert jobs[OLA[0].lower()]["next_run_date"] == "2026-03-06T00:00:00Z"
    assert jobs[OLA[2].lower()]["next_run_date"] == "2026-03-05T00:30:00Z"

    # FULL at 03-03, 03-04, 03-05 00:00; AFTER_BACKUP cleanup at 24 h deletes files *older* than 24 h,
    # so the full of the day before stays (its date equals the cleanup date)
    assert files_in(state, f"{DIR}\\FULL") == ["WINSIM_AppDb_FULL_20260304_000000.bak",
                                               "WINSIM_AppDb_FULL_20260305_000000.bak"]
    # DIFF every 12 h from 06:00 (none before the first full: Ola skips a DIFF without a base); the last
    # run (03-04 18:00) deletes those older than 03-03 18:00
    assert files_in(state, f"{DIR}\\DIFF") == ["WINSIM_AppDb_DIFF_20260303_180000.bak",
                                               "WINSIM_AppDb_DIFF_20260304_060000.bak",
                                               "WINSIM_AppDb_DIFF_20260304_180000.bak"]
    # LOG: none before the first full (no log chain: Ola skips LOG); the last run (03-04 23:30) deletes those
    # older than min(now - 24 h, start of the latest full/diff) = 03-03 23:30
    expected = [f"WINSIM_AppDb_LOG_{d:%Y%m%d_%H%M%S}.trn"
                for d in (dt.datetime(2026, 3, 3, 23, 30) + dt.timedelta(hours=h) for h in range(25))]
    assert files_in(state, f"{DIR}\\LOG") == expected
    history = inst(state)["backup_history"]
    assert [r["type"] for r in history].count("Log") == 48        # 03-03 00:30 .. 03-04 23:30
    assert [r["type"] for r in history].count("Full") == 3
    assert min(r["start"] for r in history if r["type"] == "Log") == "2026-03-03T00:30:00Z"

    # checksum and verify recorded on each backup set (the jobs pass @CheckSum = 'Y', @Verify = 'Y')
    (header,) = parse_sets(st.read_file(state, f"{DIR}\\FULL\\WINSIM_AppDb_FULL_20260305_000000.bak"))
    assert header["has_checksum"]
    assert header["verified"]

    chain = restore_chain(state, "AppDb")
    assert chain["restorable"], chain["breaks"]
    names = [p.rsplit("\\", 1)[-1] for p in chain["files"]]
    assert names[0] == "WINSIM_AppDb_FULL_20260305_000000.bak"
    # the newest full has no diff after it yet, so the logs after it follow it: none (it ran at the very end)
    assert names == ["WINSIM_AppDb_FULL_20260305_000000.bak"]
    # one hour later the chain is full + log
    run_agents(state, T0 + dt.timedelta(days=3), T0 + dt.timedelta(days=3, hours=7))
    chain = restore_chain(state, "AppDb")
    assert chain["restorable"], chain["breaks"]
    assert [p.rsplit("\\", 1)[-1] for p in chain["files"]] == [
        "WINSIM_AppDb_FULL_20260305_000000.bak", "WINSIM_AppDb_DIFF_20260305_060000.bak",
        "WINSIM_AppDb_LOG_20260305_063000.trn"]
    assert chain["missing"], "cleanup removed old files that msdb still lists"
    # every file the newest chain needs exists, whatever cleanup did
    assert all(st.exists(state, p) for p in chain["files"])


def test_backup_files_match_msdb_and_are_seen_by_the_file_modules(run_module, ola_state):
    state = ola_state
    run_agents(state, T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(hours=3))
    rows = inst(state)["backup_history"]
    assert [r["type"] for r in rows] == ["Full", "Log", "Log", "Log"]
    for row in rows:
        (header,) = parse_sets(st.read_file(state, row["paths"][0]))
        for k in ("first_lsn", "last_lsn", "checkpoint_lsn", "database_backup_lsn", "backup_set_guid"):
            assert header[k] == row[k], k
    # the log chain joins up: each log starts where the previous one ended, the first at the full's first LSN
    assert rows[1]["first_lsn"] == rows[0]["first_lsn"]
    assert all(rows[i]["first_lsn"] == rows[i - 1]["last_lsn"] for i in (2, 3))
    result, _ = run_module("ansible.windows.win_find", {"paths": f"{DIR}\\LOG", "patterns": ["*.trn"]},
                           state=state)
    assert sorted(f["filename"] for f in result["files"]) == [
        f"WINSIM_AppDb_LOG_20260302_0{h}3000.trn" for h in range(3)]
    result, _ = run_module("ansible.windows.win_stat", {"path": rows[0]["paths"][0]}, state=state)
    assert result["stat"]["exists"]
    assert result["stat"]["size"] > 0


def test_cleanup_keeps_the_logs_the_newest_chain_needs(ola_state):
    """@CleanupTime = 1 h on the LOG job: logs newer than the latest
    full/diff are never deleted (Ola's @CurrentLatestBackup)."""
    state = ola_state
    for job in inst(state)["agent"]["jobs"].values():
        for step in job["steps"]:
            step["command"] = step["command"].replace("@CleanupTime = 24", "@CleanupTime = 1")
    end = T0 + dt.timedelta(days=2, hours=5)           # 02:00 .. 05:00 logs after the 00:00 full, no diff yet
    run_agents(state, T0, end)
    chain = restore_chain(state, "AppDb")
    assert chain["restorable"], chain["breaks"]
    names = [p.rsplit("\\", 1)[-1] for p in chain["files"]]
    assert names == ["WINSIM_AppDb_FULL_20260304_000000.bak"] + [
        f"WINSIM_AppDb_LOG_20260304_0{h}3000.trn" for h in range(0, 5)]
    # older logs (before the latest full) are gone: older than min(now - 1 h, latest full)
    assert "WINSIM_AppDb_LOG_20260303_223000.trn" not in files_in(state, f"{DIR}\\LOG")


def test_diff_and_log_before_any_full_are_skipped_like_ola(ola_state):
    state = ola_state
    run_agents(state, T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=7))   # 05:30, 06:00 diff, 06:30
    jobs = inst(state)["agent"]["jobs"]
    assert jobs[OLA[1].lower()]["last_run_outcome"] == "Succeeded"           # nothing to back up: no error
    assert jobs[OLA[2].lower()]["last_run_outcome"] == "Succeeded"
    assert not st.exists(state, DIR)
    assert inst(state)["backup_history"] == []


def test_change_backup_type_turns_the_first_log_into_a_full(ola_state):
    """@ChangeBackupType = 'Y': a LOG without a log chain becomes DIFF, a
    DIFF without a base becomes FULL (and goes to the FULL folder)."""
    state = ola_state
    job = inst(state)["agent"]["jobs"][OLA[2].lower()]
    job["steps"][0]["command"] += ",\r\n@ChangeBackupType = 'Y'"
    run_agents(state, T0, T0 + dt.timedelta(hours=2))       # (00:00, 02:00]: the 00:00 full is not in it
    assert files_in(state, f"{DIR}\\FULL") == ["WINSIM_AppDb_FULL_20260302_003000.bak"]
    assert files_in(state, f"{DIR}\\LOG") == ["WINSIM_AppDb_LOG_20260302_013000.trn"]


def test_failing_step_records_failure_and_follows_on_fail_action(ola_state):
    """The backup root is gone: Ola's parameter check fails the step, the job
    records Failed and the history says why."""
    state = ola_state
    st.remove(state, ROOT)
    run_agents(state, T0 - dt.timedelta(minutes=1), T0)
    job = inst(state)["agent"]["jobs"][OLA[0].lower()]
    assert job["last_run_outcome"] == "Failed"
    run = job["history"][-1]
    assert run["outcome"] == "Failed"
    assert "The directory D:\\Backup does not exist." in run["steps"][0]["message"]
    assert run["message"].startswith("The job failed.  The Job was invoked by Schedule")
    assert job["steps"][0]["last_run_outcome"] == "Failed"


def test_disk_full_fails_the_backup_step(ola_state):
    state = ola_state
    state["disks"]["D:"]["free"] = 0
    run_agents(state, T0 - dt.timedelta(minutes=1), T0)
    job = inst(state)["agent"]["jobs"][OLA[0].lower()]
    assert job["last_run_outcome"] == "Failed"
    assert "There is not enough space on the disk" in job["history"][-1]["steps"][0]["message"]
    assert files_in(state, f"{DIR}\\FULL") == []


def test_go_to_next_step_on_failure(run_module, fresh_state):
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    _, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Two"), state=fresh_state, now=T0)
    for sid, name, db, fail in ((1, "bad", "master", "GoToNextStep"), (2, "good", "master", "QuitWithFailure")):
        result, state = run_module("lowlydba.sqlserver.agent_job_step",
                                   dict(SA, job="Two", step_id=sid, step_name=name, database=db,
                                        command="EXECUTE dbo.DatabaseBackup @Databases = 'USER_DATABASES'"
                                        if name == "bad" else "SELECT 1", on_fail_action=fail,
                                        on_success_action="GoToNextStep" if sid == 1 else "QuitWithSuccess"),
                                   state=state, now=T0)
        assert result["changed"], result
    state = schedule(run_module, state, "Two", "Every hour", subday="Hours", interval=1)
    run_agents(state, T0, T0 + dt.timedelta(hours=1))
    job = inst(state)["agent"]["jobs"]["two"]
    run = job["history"][-1]
    assert [s["outcome"] for s in run["steps"]] == ["Failed", "Succeeded"]
    assert "Could not find stored procedure 'dbo.DatabaseBackup'." in run["steps"][0]["message"]
    assert job["last_run_outcome"] == "Succeeded"
    result, _ = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Two"), state=state, now=T0)
    assert result["data"]["LastRunOutcome"] == "Succeeded"
    assert result["data"]["LastRunDate"] == "2026-03-02T01:00:00.0000000"


def test_disabled_job_or_schedule_or_stopped_agent_does_not_run(ola_state):
    state = ola_state
    inst(state)["agent"]["jobs"][OLA[0].lower()]["enabled"] = False
    next(s for s in inst(state)["agent"]["schedules"] if s["name"] == "Ola log 1h")["enabled"] = False
    run_agents(state, T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(hours=2))
    jobs = inst(state)["agent"]["jobs"]
    assert "last_run_date" not in jobs[OLA[0].lower()]
    assert "last_run_date" not in jobs[OLA[2].lower()]
    state["services"]["sqlserveragent"]["state"] = "stopped"
    assert run_agents(state, T0 + dt.timedelta(hours=2), T0 + dt.timedelta(days=2)) == 0


def test_occurrences_of_msdb_schedules():
    weekly = {"freq_type": 8, "freq_interval": 2 | 32, "freq_recurrence_factor": 2, "freq_subday_type": 1,
              "active_start_date": "2026-03-01", "active_start_time": "02:00:00"}
    got = occurrences(weekly, T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=29))
    # Mondays and Fridays, every other week from the week of 2026-03-01 (a Sunday)
    assert [d.strftime("%a %d") for d in got] == ["Mon 02", "Fri 06", "Mon 16", "Fri 20", "Mon 30"]
    monthly_rel = {"freq_type": 32, "freq_interval": 6, "freq_relative_interval": 16, "freq_recurrence_factor": 1,
                   "freq_subday_type": 1, "active_start_date": "2026-01-01", "active_start_time": "23:00:00"}
    got = occurrences(monthly_rel, T0, T0 + dt.timedelta(days=60))
    assert [d.date().isoformat() for d in got] == ["2026-03-27", "2026-04-24"]     # last Friday
    once = {"freq_type": 1, "active_start_date": "2026-03-03", "active_start_time": "12:00:00"}
    assert occurrences(once, T0, T0 + dt.timedelta(days=5)) == [dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)]
    assert occurrences({"freq_type": 64}, T0, T0 + dt.timedelta(days=5)) == []


def test_twenty_days_on_one_host_is_fast(ola_state):
    start = time.perf_counter()
    run_agents(ola_state, T0, T0 + dt.timedelta(days=20))
    assert time.perf_counter() - start < 3.0
    assert restore_chain(ola_state, "AppDb")["restorable"]


# -- restore through the module: point in time ------------------------------------------

@pytest.fixture
def chained(ola_state) -> dict[str, t.Any]:
    run_agents(ola_state, T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(days=1, hours=8))   # to 03-03 08:00
    return ola_state


def test_restore_uses_the_newest_chain(run_module, chained):
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_copy",
                destination_file_suffix="_copy")
    result, state = run_module("lowlydba.sqlserver.restore", args, state=chained,
                               now=T0 + dt.timedelta(days=1, hours=8))
    assert result["changed"], result
    files = [r["BackupFile"].rsplit("\\", 1)[-1] for r in result["data"]]
    assert files == ["WINSIM_AppDb_FULL_20260303_000000.bak", "WINSIM_AppDb_DIFF_20260303_060000.bak",
                     "WINSIM_AppDb_LOG_20260303_063000.trn", "WINSIM_AppDb_LOG_20260303_073000.trn"]
    assert inst(state)["databases"]["appdb_copy"]["status"] == "Normal"


def test_restore_time_stops_within_the_log_chain(run_module, chained):
    """restore_time reaches dbatools as -RestoreTime: the latest full and
    diff before it, the logs up to the one holding that time, the last one
    WITH STOPAT.  Failed on the old model, which ignored restore_time."""
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_pit", destination_file_suffix="_pit",
                restore_time="2026-03-03 03:10:00")
    result, state = run_module("lowlydba.sqlserver.restore", args, state=chained,
                               now=T0 + dt.timedelta(days=1, hours=8))
    assert result["changed"], result
    files = [r["BackupFile"].rsplit("\\", 1)[-1] for r in result["data"]]
    assert files == ["WINSIM_AppDb_FULL_20260303_000000.bak"] + [
        f"WINSIM_AppDb_LOG_20260303_{h:02d}3000.trn" for h in range(0, 4)]
    assert "STOPAT = N'2026-03-03T03:10:00.000'" in result["data"][-1]["Script"]
    assert "STOPAT" not in result["data"][-2]["Script"]
    assert result["data"][-1]["RestoreTargetTime"] == "2026-03-03T03:10:00.0000000"
    db = inst(state)["databases"]["appdb_pit"]
    assert db["status"] == "Normal"
    last = next(r for r in inst(state)["backup_history"] if r["paths"][0].endswith("LOG_20260303_033000.trn"))
    assert last["first_lsn"] < db["lsn"] < last["last_lsn"]          # stopped inside the last log


def test_restore_time_older_than_the_kept_logs_fails_like_dbatools(run_module, chained):
    """Ola's 24 h cleanup deleted the log after the 03-02 06:00 diff: a
    restore to 03-02 15:10 has a broken chain and dbatools refuses it."""
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_pit", destination_file_suffix="_pit",
                restore_time="2026-03-02 15:10:00")
    result, state = run_module("lowlydba.sqlserver.restore", args, state=chained,
                               now=T0 + dt.timedelta(days=1, hours=8))
    assert result["failed"]
    assert "[Test-DbaLsnChain] Break in LSN Chain between" in result["msg"]
    assert "LSN Check failed for AppDb" in result["msg"]
    assert "appdb_pit" not in inst(state)["databases"]


def test_restore_time_before_the_first_full_fails_like_dbatools(run_module, chained):
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_old", destination_file_suffix="_old",
                restore_time="2026-03-01 12:00:00")
    result, _ = run_module("lowlydba.sqlserver.restore", args, state=chained, now=T0 + dt.timedelta(days=1))
    assert result["failed"]
    assert "No Full backup found to anchor the restore of AppDb" in result["msg"]


def test_stop_mark_not_in_the_log_leaves_the_database_restoring(run_module, chained):
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_mark", destination_file_suffix="_mark",
                stop_mark="release-42")
    result, state = run_module("lowlydba.sqlserver.restore", args, state=chained,
                               now=T0 + dt.timedelta(days=1, hours=8))
    assert result["changed"]
    assert "STOPATMARK = N'release-42'" in result["data"][-1]["Script"]
    assert inst(state)["databases"]["appdb_mark"]["status"] == "Restoring"
    assert any("left in the restoring state" in w for w in result["warnings"])


# -- the clock through the CLI and the runner -----------------------------------------------

def _write_host(state_dir: Path, name: str, state: dict[str, t.Any]) -> HostStore:
    store = HostStore.for_host(name, state_dir=str(state_dir))
    with store.locked():
        store.save_state(state)
    return store


def test_cli_clock_advance_runs_every_host_and_persists(tmp_path, ola_state):
    from winsim.cli import main

    state_dir = tmp_path / "state"
    store = _write_host(state_dir, "sql01", ola_state)
    _write_host(state_dir, "web01", st.fresh_state("web01"))
    assert main(["--state-dir", str(state_dir), "clock", "set", "2026-03-02T00:00:00Z"]) == 0
    assert main(["--state-dir", str(state_dir), "clock", "advance", "26h"]) == 0
    doc = json.loads((state_dir / "_lab" / "clock.json").read_text())
    assert doc["now"] == "2026-03-03T02:00:00Z"
    assert doc["history"][-1]["command"] == "advance 26h"
    assert doc["history"][-1]["jobs_run"] == 1 + 2 + 26       # FULL 03-03 00:00, DIFF 06:00/18:00, 26 LOG
    with store.locked():
        state = store.load_state()
    assert files_in(state, f"{DIR}\\FULL") == ["WINSIM_AppDb_FULL_20260303_000000.bak"]


def test_cli_clock_refuses_to_go_backwards(tmp_path, capsys):
    from winsim.cli import main

    state_dir = tmp_path / "state"
    assert main(["--state-dir", str(state_dir), "clock", "set", "2026-03-02T00:00:00Z"]) == 0
    before = (state_dir / "_lab" / "clock.json").read_bytes()
    assert main(["--state-dir", str(state_dir), "clock", "set", "2026-03-01T00:00:00Z"]) == 2
    assert "refusing to move the lab clock backwards" in capsys.readouterr().err
    assert main(["--state-dir", str(state_dir), "clock", "advance", "0h"]) == 2
    assert main(["--state-dir", str(state_dir), "clock", "advance", "soon"]) == 2
    assert (state_dir / "_lab" / "clock.json").read_bytes() == before
    assert main(["--state-dir", str(state_dir), "clock", "show"]) == 0
    assert "2026-03-02T00:00:00Z" in capsys.readouterr().out


def test_no_clock_file_means_real_time(tmp_path):
    assert clock.lab_now(tmp_path) is None
    assert clock.lab_now_for_state_file(tmp_path / "web01.json") is None
    assert clock.parse_duration("1d12h") == dt.timedelta(hours=36)


def test_runner_uses_the_lab_clock(tmp_path, monkeypatch):
    """Runner passes the lab time as ``now`` to every module run of a host
    of the lab; without a clock file it passes None (real time)."""
    import winsim.runner as runner_mod

    seen: list[t.Any] = []

    def fake_execute(**kwargs: t.Any) -> t.Any:
        seen.append(kwargs.get("now"))
        raise RuntimeError("stop")

    monkeypatch.setattr(runner_mod, "execute_module", fake_execute)
    request = t.cast(t.Any, type("Request", (), {"fqcn": "x", "args": {}, "source": "", "module_utils": {},
                                                 "module_name": "x", "environment": {}})())
    state_dir = tmp_path / "state"
    runner = runner_mod.Runner(HostStore.for_host("sql01", state_dir=str(state_dir)))
    for _ in range(2):
        with pytest.raises(RuntimeError):
            runner._run_locked(request, t.cast(t.Any, None))
        clock.set_time(state_dir, "2030-01-02T03:04:05Z")
    assert seen == [None, dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)]
