"""Model of the project-owned ``mcms.infra.sql_agent_jobs``: Agent jobs with
exactly one T-SQL step and one schedule each, in one call; check mode, diff,
``mcms_drift``; exactness on the jobs it lists; msdb's refusals before any
change; the jobs it creates run on the lab clock."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t

import pytest

from winsim.models import sql
from winsim.models.sql_scheduler import run_agents

JOBS = "mcms.infra.sql_agent_jobs"


@pytest.fixture
def sql_state(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    inst = sql.ensure_instance(fresh_state, sa_password="Str0ng!Passw0rd")
    inst["databases"]["mcms"] = sql.new_database(inst, "MCMS", owner="sa", when="2026-03-02T14:30:15Z")
    inst["next_database_id"] += 1
    return fresh_state


def _job(kind: str, *, hours: int = 1, start: str = "001500", **extra: t.Any) -> dict[str, t.Any]:
    name = f"Backup - {kind}"
    return {"name": name, "description": f"{kind} backups", "category": "Database Maintenance",
            "step": {"name": name, "database": "master",
                     "command": f"EXECUTE [dbo].[DatabaseBackup] @Databases = 'MCMS', @BackupType = '{kind}'"},
            "schedule": {"name": name, "frequency_type": "Daily", "frequency_interval": 1,
                         "frequency_subday_type": "Hours", "frequency_subday_interval": hours,
                         "start_date": "20260101", "start_time": start},
            **extra}


def _args(*jobs: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"sql_instance": "localhost", "jobs": list(jobs) or [_job("FULL", hours=24), _job("LOG")]}


def _agent(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], state["sql"]["instances"]["mssqlserver"]["agent"])


def _schedules(state: dict[str, t.Any], job: str) -> list[dict[str, t.Any]]:
    return [s for s in _agent(state)["schedules"] if job in s["jobs"]]


def _drift(result: dict[str, t.Any]) -> list[tuple[t.Any, ...]]:
    return sorted((d["resource_type"], d["resource"], d["attribute"], d["wanted"], d["found"])
                  for d in result["mcms_drift"])


@pytest.fixture
def converged(run_module: t.Any, sql_state: dict[str, t.Any]) -> dict[str, t.Any]:
    _, state = run_module(JOBS, _args(), state=sql_state)
    return t.cast(dict[str, t.Any], state)


def test_missing_jobs_are_one_record_each_in_check_mode_and_nothing_is_written(
        run_module: t.Any, sql_state: dict[str, t.Any]) -> None:
    before = copy.deepcopy(sql_state)
    result, state = run_module(JOBS, _args(), state=sql_state, check_mode=True, diff=True)
    assert result["changed"]
    assert _drift(result) == [("sql_agent_job", "Backup - FULL", "present", True, False),
                              ("sql_agent_job", "Backup - LOG", "present", True, False)]
    assert state == before
    assert result["diff"]["before"]["Backup - LOG"] == {"present": False}
    assert result["diff"]["after"]["Backup - LOG"]["schedules"][0]["freq_subday_interval"] == 1


def test_jobs_steps_and_schedules_in_one_call_then_nothing_to_do(
        run_module: t.Any, converged: dict[str, t.Any]) -> None:
    jobs = _agent(converged)["jobs"]
    log = jobs["backup - log"]
    assert (log["enabled"], log["category"], log["description"]) == (True, "Database Maintenance", "LOG backups")
    assert log["owner_login"].lower() == converged["sql"]["instances"]["mssqlserver"]["setup_admin"].lower()
    assert [(s["id"], s["name"], s["database_name"], s["subsystem"]) for s in log["steps"]] == [
        (1, "Backup - LOG", "master", "TransactSql")]
    (sched,) = _schedules(converged, "Backup - LOG")
    assert (sched["freq_type"], sched["freq_interval"], sched["freq_subday_type"], sched["freq_subday_interval"],
            sched["active_start_date"], sched["active_start_time"], sched["active_end_time"]) == (
        4, 1, 8, 1, "2026-01-01", "00:15:00", "23:59:59")
    (full,) = _schedules(converged, "Backup - FULL")
    assert (full["freq_subday_type"], full["freq_subday_interval"]) == (8, 24)
    again, after = run_module(JOBS, _args(), state=converged)
    assert not again["changed"]
    assert again["mcms_drift"] == []
    assert {(c["resource_type"], c["resource"]) for c in again["mcms_drift_checked"]} >= {
        ("sql_agent_job", "Backup - LOG"), ("sql_agent_job_step", "Backup - LOG/step 1"),
        ("sql_agent_job_schedule", "Backup - LOG/Backup - LOG")}
    assert after == converged


def test_the_jobs_it_creates_run_on_the_lab_clock(converged: dict[str, t.Any]) -> None:
    start = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
    runs = run_agents(converged, start, start + dt.timedelta(hours=3))
    assert runs == 4                       # LOG at 00:15, 01:15, 02:15; FULL (every 24 h) at 00:15
    jobs = _agent(converged)["jobs"]
    assert [h["schedule"] for h in jobs["backup - log"]["history"]] == ["Backup - LOG"] * 3
    assert [h["run_date"][11:16] for h in jobs["backup - full"]["history"]] == ["00:15"]


def test_disabled_job_and_changed_schedule_are_reported_in_check_mode_then_repaired(
        run_module: t.Any, converged: dict[str, t.Any]) -> None:
    _agent(converged)["jobs"]["backup - full"]["enabled"] = False
    _schedules(converged, "Backup - LOG")[0]["freq_subday_interval"] = 4
    drifted = copy.deepcopy(converged)
    check, state = run_module(JOBS, _args(), state=converged, check_mode=True, diff=True)
    assert check["changed"]
    assert _drift(check) == [
        ("sql_agent_job", "Backup - FULL", "enabled", True, False),
        ("sql_agent_job_schedule", "Backup - LOG/Backup - LOG", "freq_subday_interval", 1, 4)]
    assert state == drifted
    assert check["diff"]["before"]["Backup - FULL"]["enabled"] is False
    assert check["diff"]["after"]["Backup - FULL"]["enabled"] is True
    fix, state = run_module(JOBS, _args(), state=converged)
    assert _drift(fix) == _drift(check)
    assert state["sql"]["instances"]["mssqlserver"]["agent"]["jobs"]["backup - full"]["enabled"] is True
    assert _schedules(state, "Backup - LOG")[0]["freq_subday_interval"] == 1
    assert not run_module(JOBS, _args(), state=state)[0]["changed"]


def test_step_attributes_are_compared_one_by_one(run_module: t.Any, converged: dict[str, t.Any]) -> None:
    step = _agent(converged)["jobs"]["backup - log"]["steps"][0]
    step["command"] = "SELECT 1"
    step["on_fail_action"] = "QuitWithSuccess"
    result, _ = run_module(JOBS, _args(), state=converged, check_mode=True)
    assert _drift(result) == [
        ("sql_agent_job_step", "Backup - LOG/step 1", "command", _job("LOG")["step"]["command"], "SELECT 1"),
        ("sql_agent_job_step", "Backup - LOG/step 1", "on_fail_action", "QuitWithFailure", "QuitWithSuccess")]


def test_extra_steps_and_schedules_of_a_managed_job_are_reported_and_removed(
        run_module: t.Any, converged: dict[str, t.Any]) -> None:
    agent = _agent(converged)
    job = agent["jobs"]["backup - log"]
    job["steps"].append({**job["steps"][0], "id": 2, "name": "extra", "command": "SELECT 2"})
    agent["schedules"].append({**_schedules(converged, "Backup - LOG")[0], "id": 99, "uid": "x",
                               "name": "Every minute", "jobs": ["Backup - LOG"]})
    check, _ = run_module(JOBS, _args(), state=converged, check_mode=True)
    assert _drift(check) == [
        ("sql_agent_job_schedule", "Backup - LOG/Every minute", "present", False, True),
        ("sql_agent_job_step", "Backup - LOG/step 2", "present", False, True)]
    _, state = run_module(JOBS, _args(), state=converged)
    assert [s["id"] for s in _agent(state)["jobs"]["backup - log"]["steps"]] == [1]
    assert [s["name"] for s in _schedules(state, "Backup - LOG")] == ["Backup - LOG"]
    assert all(s["name"] != "Every minute" for s in _agent(state)["schedules"]), "unused schedule not deleted"


def test_jobs_not_listed_are_never_touched(run_module: t.Any, converged: dict[str, t.Any]) -> None:
    only_log = _args(_job("LOG"))
    _agent(converged)["jobs"]["backup - full"]["enabled"] = False
    result, state = run_module(JOBS, only_log, state=converged, diff=True)
    assert not result["changed"]
    assert _agent(state)["jobs"]["backup - full"]["enabled"] is False
    assert "Backup - FULL" not in result["diff"]["before"]


def test_a_schedule_shared_with_another_job_is_not_edited(run_module: t.Any, converged: dict[str, t.Any]) -> None:
    shared = _schedules(converged, "Backup - LOG")[0]
    shared["jobs"].append("Someone else's job")
    shared["freq_subday_interval"] = 4
    result, state = run_module(JOBS, _args(), state=converged)
    assert _drift(result) == [("sql_agent_job_schedule", "Backup - LOG/Backup - LOG", "freq_subday_interval", 1, 4)]
    others = [s for s in _agent(state)["schedules"] if "Someone else's job" in s["jobs"]]
    assert [(s["jobs"], s["freq_subday_interval"]) for s in others] == [(["Someone else's job"], 4)]
    assert [s["freq_subday_interval"] for s in _schedules(state, "Backup - LOG")] == [1]


def test_a_deleted_job_is_one_record_and_is_recreated(run_module: t.Any, converged: dict[str, t.Any]) -> None:
    del _agent(converged)["jobs"]["backup - log"]
    _agent(converged)["schedules"] = [s for s in _agent(converged)["schedules"] if "Backup - LOG" not in s["jobs"]]
    check, _ = run_module(JOBS, _args(), state=converged, check_mode=True)
    assert _drift(check) == [("sql_agent_job", "Backup - LOG", "present", True, False)]
    _, state = run_module(JOBS, _args(), state=converged)
    assert len(_schedules(state, "Backup - LOG")) == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"step": {**_job("LOG")["step"], "database": "Ghost"}},
     "job Backup - LOG: The specified @database_name ('Ghost') does not exist."),
    ({"owner": "CORP\\nobody"}, "The specified @owner_login_name ('CORP\\nobody') does not exist."),
    ({"category": "Backups"}, "The specified '@category_name' is invalid"),
    ({"schedule": {**_job("LOG")["schedule"], "frequency_subday_interval": 0}},
     "The schedule for this job is invalid (reason: The specified '@freq_subday_interval' is invalid.)."),
    ({"schedule": {**_job("LOG")["schedule"], "frequency_subday_type": "Seconds", "frequency_subday_interval": 5}},
     "The specified '@freq_subday_interval' is invalid."),
    ({"schedule": {**_job("LOG")["schedule"], "end_date": "20251231"}},
     "(reason: @active_end_date cannot be before @active_start_date.)"),
    ({"schedule": {**_job("LOG")["schedule"], "start_time": "246000"}},
     "The specified '@active_start_time' is invalid (valid values are: 000000 to 235959)."),
    ({"schedule": {**_job("LOG")["schedule"], "start_date": "20260230"}},
     "The specified '@active_start_date' is invalid"),
])
def test_what_msdb_refuses_fails_before_any_change(run_module: t.Any, sql_state: dict[str, t.Any],
                                                   change: dict[str, t.Any], message: str) -> None:
    before = copy.deepcopy(sql_state)
    result, state = run_module(JOBS, _args(_job("FULL", hours=24), {**_job("LOG"), **change}), state=sql_state)
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]
    assert state == before, "a refused job must leave every job unchanged (FULL comes first in the list)"


def test_duplicate_job_names_fail(run_module: t.Any, sql_state: dict[str, t.Any]) -> None:
    result, _ = run_module(JOBS, _args(_job("LOG"), _job("LOG")), state=sql_state)
    assert result.get("failed"), result
    assert "more than once" in result["msg"], result


def test_express_has_no_agent(run_module: t.Any, fresh_state: dict[str, t.Any]) -> None:
    sql.ensure_instance(fresh_state, edition="express", sa_password="Str0ng!Passw0rd")
    result, _ = run_module(JOBS, _args(), state=fresh_state)
    assert result.get("failed"), result
    assert "SQL Server Agent is not part of" in result["msg"], result


def test_a_stopped_agent_warns_and_configures(run_module: t.Any, sql_state: dict[str, t.Any]) -> None:
    from winsim.models import services

    services.get_service(sql_state, "SQLSERVERAGENT")["state"] = "stopped"
    result, state = run_module(JOBS, _args(), state=sql_state)
    assert result["changed"]
    assert any("SQLSERVERAGENT is not running" in w for w in result.get("warnings", [])), result
    assert len(_agent(state)["jobs"]) == 2


def test_set_agent_schedule_drift_is_what_the_module_then_reports(run_module: t.Any,
                                                                  converged: dict[str, t.Any]) -> None:
    from winsim.drift import DriftError, apply_drift

    message = apply_drift(converged, "set-agent-schedule", job="Backup - LOG", attribute="freq_subday_interval",
                          value="4")
    assert "freq_subday_interval 1 -> 4" in message
    result, _ = run_module(JOBS, _args(), state=converged, check_mode=True)
    assert _drift(result) == [("sql_agent_job_schedule", "Backup - LOG/Backup - LOG", "freq_subday_interval", 1, 4)]
    with pytest.raises(DriftError, match="takes an integer"):
        apply_drift(converged, "set-agent-schedule", job="Backup - LOG", attribute="freq_type", value="daily")
    with pytest.raises(DriftError, match="no SQL Agent job 'Ghost'"):
        apply_drift(converged, "set-agent-schedule", job="Ghost", attribute="enabled", value="false")
