"""The SQL models behind the backup verification (playbooks/backup_verify.yml, winsim/docs/backup-verify.md):
simulated restore durations from the backup sizes, a damaged backup failing RESTORE with Msg 3183/3013, a
deleted log backup breaking the chain, DBCC CHECKDB through nonquery, and the scratch database dropped."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from test_sql_clock import DIR, SA, T0, inst, ola_state  # noqa: F401  (ola_state is a fixture)

from winsim import state as st
from winsim.drift import DriftError
from winsim.models.sql_backup import corrupt_backup, restore_chain, restore_seconds
from winsim.models.sql_scheduler import run_agents

NOW = T0 + dt.timedelta(days=1, hours=8)          # 03-03 08:00: full 00:00, diff 06:00, logs 06:30, 07:30


@pytest.fixture
def chained(ola_state) -> dict[str, t.Any]:  # noqa: F811
    run_agents(ola_state, T0 - dt.timedelta(minutes=1), NOW)
    return ola_state


def _restore(run_module, state, **extra: t.Any) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    args = dict(SA, path=DIR, directory_recurse=True, database="AppDb_verify", destination_file_suffix="_verify",
                with_replace=True, **extra)
    return run_module("lowlydba.sqlserver.restore", args, state=state, now=NOW)


def _checkdb(run_module, state, db: str = "AppDb_verify", check_mode: bool = False):
    return run_module("lowlydba.sqlserver.nonquery",
                      dict(SA, database="master", nonquery=f"DBCC CHECKDB ([{db}]) WITH NO_INFOMSGS, ALL_ERRORMSGS"),
                      state=state, now=NOW, check_mode=check_mode)


def test_restore_time_is_simulated_from_the_backup_sizes(run_module, chained):
    result, _state = _restore(run_module, chained)
    assert result["changed"], result
    chain = restore_chain(chained, "AppDb")["chain"]
    per_file = [r["FileRestoreTime"]["TotalSeconds"] for r in result["data"]]
    assert per_file == [restore_seconds(s, last=i == len(chain) - 1) for i, s in enumerate(chain)]
    assert all(s >= 2 for s in per_file)
    totals = [r["DatabaseRestoreTime"]["TotalSeconds"] for r in result["data"]]
    assert totals == sorted(totals)
    assert totals[-1] == sum(per_file)


def test_a_damaged_backup_fails_the_restore_with_sql_servers_errors(run_module, chained):
    full = restore_chain(chained, "AppDb")["files"][0]
    message = corrupt_backup(chained, NOW, path=full)
    assert "damaged page (1:312)" in message
    result, state = _restore(run_module, chained)
    assert result["failed"], result
    assert "RESTORE detected an error on page (1:312) in database \"AppDb_verify\"" in result["msg"]
    assert "(Msg 3183)" in result["msg"]
    assert "RESTORE DATABASE is terminating abnormally. (Msg 3013)" in result["msg"]
    assert full in result["msg"]
    # SQL Server leaves the half-restored database RESTORING: CHECKDB cannot open it, the drop removes it.
    assert inst(state)["databases"]["appdb_verify"]["status"] == "Restoring"
    check, state = _checkdb(run_module, state)
    assert check["failed"], check
    assert "It is in the middle of a restore." in str(check), check
    dropped, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb_verify", state="absent",
                                                                         only_accessible=False),
                                state=state, now=NOW)
    assert dropped["changed"], dropped
    assert "appdb_verify" not in inst(state)["databases"]


def test_corrupt_backup_drift_refuses_what_is_not_a_backup(chained):
    with pytest.raises(DriftError, match="no file"):
        corrupt_backup(chained, NOW, path=DIR + "\\FULL\\nothing.bak")


def test_a_deleted_log_backup_breaks_the_chain_and_names_both_sides(run_module, chained):
    files = restore_chain(chained, "AppDb")["files"]
    logs = [f for f in files if f.endswith(".trn")]
    assert len(logs) == 2, files
    st.remove(chained, logs[0])
    chain = restore_chain(chained, "AppDb")
    assert not chain["restorable"]
    assert logs[0] in chain["missing"]
    result, state = _restore(run_module, chained)
    assert result["failed"], result
    assert "Break in LSN Chain between" in result["msg"], result["msg"]
    assert logs[1] in result["msg"], result["msg"]
    assert "appdb_verify" not in inst(state)["databases"]      # dbatools checks the chain before it restores


def test_checkdb_passes_on_a_restored_database_and_reads_only(run_module, chained):
    _result, state = _restore(run_module, chained)
    check, after = _checkdb(run_module, state, check_mode=True)
    assert not check.get("failed")
    assert after == state
    check, after = _checkdb(run_module, state)
    assert not check.get("failed"), check
    assert inst(after)["databases"]["appdb_verify"]["last_known_good"] == st.iso(NOW)


def test_checkdb_of_a_missing_database_fails_like_sql_server(run_module, chained):
    check, _state = _checkdb(run_module, chained, db="Nope")
    assert check["failed"]
    assert "Could not find database 'Nope'." in str(check), check


@pytest.mark.parametrize("local_file", ["D:\\Install\\missing.zip", "D:\\Install\\ola.txt", None])
def test_a_bad_local_file_never_fails_the_install_like_dbatools(run_module, fresh_state, local_file):
    """Install-DbaMaintenanceSolution (dbatools 2.x) falls back to its bundled copy on a missing or non-zip
    -LocalFile, and never reads it on a host without Internet: the install succeeds and says nothing."""
    from winsim.models import sql
    from winsim.models.sql_agent import OLA_BUNDLED_SOURCE

    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    args = dict(SA, database="master", local_file=local_file) if local_file else dict(SA, database="master")
    result, state = run_module("lowlydba.sqlserver.maintenance_solution", args, state=fresh_state, now=NOW)
    assert result["changed"], result
    assert not result.get("failed"), result
    assert not result.get("warnings"), result
    assert inst(state)["maintenance_solution"]["source"] == OLA_BUNDLED_SOURCE
    assert inst(state)["maintenance_solution"]["local_file"] == local_file
