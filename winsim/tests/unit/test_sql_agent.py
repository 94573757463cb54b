"""lowlydba.sqlserver 2.8.1 Agent and maintenance-solution models
(models/sql_agent.py)."""

from __future__ import annotations

import typing as t

import pytest

from winsim.models import sql

SA = {"sql_instance": "localhost", "sql_username": "sa", "sql_password": "Str0ng!Passw0rd"}


@pytest.fixture
def sql_state(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    return fresh_state


def agent(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]["agent"]


@pytest.fixture
def job_state(run_module, sql_state) -> dict[str, t.Any]:
    _, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly"), state=sql_state)
    return state


# -- agent_job ------------------------------------------------------------------------

def test_agent_job_check_apply_idempotent(run_module, sql_state):
    args = dict(SA, job="Nightly", description="Nightly work", category="Database Maintenance", owner_login="sa")
    result, checked = run_module("lowlydba.sqlserver.agent_job", args, state=sql_state, check_mode=True)
    assert result["changed"]
    assert "data" not in result
    assert checked == sql_state
    result, state = run_module("lowlydba.sqlserver.agent_job", args, state=sql_state)
    assert result["changed"]
    assert result["data"]["Name"] == "Nightly"
    assert result["data"]["OwnerLoginName"] == "sa"
    assert result["data"]["Enabled"] is True
    job = agent(state)["jobs"]["nightly"]
    assert job["category"] == "Database Maintenance"
    assert job["description"] == "Nightly work"
    result, state2 = run_module("lowlydba.sqlserver.agent_job", args, state=state)
    assert not result["changed"]
    assert state2 == state


def test_agent_job_defaults(run_module, job_state):
    job = agent(job_state)["jobs"]["nightly"]
    assert job["owner_login"] == "sa"       # the connecting login
    assert job["category"] == "[Uncategorized (Local)]"
    assert job["description"] == "No description available."


@pytest.mark.parametrize(("option", "value", "field"), [
    ("enabled", False, "enabled"),
    ("description", "Changed", "description"),
    ("category", "Log Shipping", "category"),
])
def test_agent_job_update(run_module, job_state, option, value, field):
    args = dict(SA, job="Nightly", **{option: value})
    result, state = run_module("lowlydba.sqlserver.agent_job", args, state=job_state)
    assert result["changed"]
    assert agent(state)["jobs"]["nightly"][field] == value
    result, _ = run_module("lowlydba.sqlserver.agent_job", args, state=state)
    assert not result["changed"]


def test_agent_job_update_in_check_mode_reports_unchanged(run_module, job_state):
    """Set-DbaAgentJob -WhatIf outputs nothing, so 2.8.1 reports no change."""
    result, checked = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", enabled=False),
                                 state=job_state, check_mode=True)
    assert not result["changed"]
    assert checked == job_state


def test_agent_job_unknown_category_needs_force(run_module, sql_state):
    args = dict(SA, job="Nightly", category="Custom")
    result, _ = run_module("lowlydba.sqlserver.agent_job", args, state=sql_state)
    assert result["failed"]
    # New-DbaAgentJob's error, caught by the module's creation branch (agent_job.ps1)
    assert result["msg"] == ("Failed creating new agent job: Job category Custom doesn't exist on localhost. "
                             "Use -Force to create it.")
    result, state = run_module("lowlydba.sqlserver.agent_job", dict(args, force=True), state=sql_state)
    assert result["changed"]
    assert "Custom" in agent(state)["categories"]
    # New-DbaAgentJob -Force creates the category but sets it on the job only when it already existed
    assert agent(state)["jobs"]["nightly"]["category"] == "[Uncategorized (Local)]"


def test_agent_job_absent_removes_unused_schedules(run_module, job_state):
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule",
                          dict(SA, job="Nightly", schedule="Daily 2am", frequency_type="Daily", force=True),
                          state=job_state)
    result, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", state="absent"), state=state)
    assert result["changed"]
    assert result["data"]["Status"] == "Dropped"
    assert agent(state)["jobs"] == {}
    assert agent(state)["schedules"] == []
    result, _ = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", state="absent"), state=state)
    assert not result["changed"]


# -- agent_job_step -------------------------------------------------------------------

def test_agent_job_step_check_apply_idempotent(run_module, job_state):
    args = dict(SA, job="Nightly", step_id=1, step_name="Purge", database="msdb", command="EXEC dbo.sp_purge",
                output_file="C:\\Logs\\purge.txt")
    result, checked = run_module("lowlydba.sqlserver.agent_job_step", args, state=job_state, check_mode=True)
    assert result["changed"]
    assert checked == job_state
    result, state = run_module("lowlydba.sqlserver.agent_job_step", args, state=job_state)
    assert result["changed"]
    assert result["data"]["Name"] == "Purge"
    assert "OutputFileName" not in result["data"]
    step = agent(state)["jobs"]["nightly"]["steps"][0]
    assert step == {"id": 1, "name": "Purge", "subsystem": "TransactSql", "command": "EXEC dbo.sp_purge",
                    "database_name": "msdb", "on_success_action": "QuitWithSuccess", "on_success_step": 0,
                    "on_fail_action": "QuitWithFailure", "on_fail_step": 0, "retry_attempts": 0,
                    "retry_interval": 0, "output_file_name": "C:\\Logs\\purge.txt"}
    result, _ = run_module("lowlydba.sqlserver.agent_job_step", args, state=state)
    assert not result["changed"]
    result, state = run_module("lowlydba.sqlserver.agent_job_step", dict(args, command="EXEC dbo.other"),
                               state=state)
    assert result["changed"]
    assert agent(state)["jobs"]["nightly"]["steps"][0]["command"] == "EXEC dbo.other"


@pytest.mark.parametrize(("args", "msg"), [
    ({"job": "Nightly", "step_name": "Purge"}, "Step name and step_id must be specified when state=present."),
    ({"job": "Missing", "step_name": "Purge", "step_id": 1}, "Error configuring SQL Agent job step."),
    ({"job": "Nightly", "step_name": "Purge", "step_id": 3}, "Error configuring SQL Agent job step."),
])
def test_agent_job_step_failures(run_module, job_state, args, msg):
    result, _ = run_module("lowlydba.sqlserver.agent_job_step", dict(SA, **args), state=job_state)
    assert result["failed"]
    assert result["msg"] == msg


def test_agent_job_step_name_taken_by_other_id(run_module, job_state):
    base = dict(SA, job="Nightly", step_name="One", step_id=1)
    _, state = run_module("lowlydba.sqlserver.agent_job_step", base, state=job_state)
    _, state = run_module("lowlydba.sqlserver.agent_job_step", dict(base, step_name="Two", step_id=2), state=state)
    result, _ = run_module("lowlydba.sqlserver.agent_job_step", dict(base, step_name="Two", step_id=1), state=state)
    assert result["msg"] == "There is already a step named 'Two' for this job with an ID of 2."


def test_agent_job_step_absent_by_id(run_module, job_state):
    base = dict(SA, job="Nightly", step_name="One", step_id=1)
    _, state = run_module("lowlydba.sqlserver.agent_job_step", base, state=job_state)
    result, state = run_module("lowlydba.sqlserver.agent_job_step",
                               dict(SA, job="Nightly", step_id=1, state="absent"), state=state)
    assert result["changed"]
    assert agent(state)["jobs"]["nightly"]["steps"] == []


# -- agent_job_schedule ---------------------------------------------------------------

@pytest.mark.parametrize(("args", "stored"), [
    ({"frequency_type": "Daily", "frequency_subday_type": "Minutes", "frequency_subday_interval": 15,
      "start_date": "20260101", "end_date": "99991231", "start_time": "000000", "end_time": "235959"},
     {"freq_type": 4, "freq_interval": 1, "freq_subday_type": 4, "freq_subday_interval": 15,
      "freq_relative_interval": 0, "freq_recurrence_factor": 0, "active_start_date": "2026-01-01",
      "active_end_date": "9999-12-31", "active_start_time": "00:00:00", "active_end_time": "23:59:59"}),
    ({"frequency_type": "Weekly", "frequency_interval": "Sunday", "frequency_recurrence_factor": 1,
      "start_date": "20260101", "end_date": "20261231", "start_time": "011500", "end_time": "235959"},
     {"freq_type": 8, "freq_interval": 1, "freq_subday_type": 1, "freq_subday_interval": 0,
      "freq_relative_interval": 0, "freq_recurrence_factor": 1, "active_start_date": "2026-01-01",
      "active_end_date": "2026-12-31", "active_start_time": "01:15:00", "active_end_time": "23:59:59"}),
    ({"frequency_type": "Weekly", "frequency_interval": "Weekdays", "force": True},
     {"freq_type": 8, "freq_interval": 62, "freq_recurrence_factor": 1, "active_start_date": "2026-03-02",
      "active_end_date": "9999-12-31", "active_start_time": "00:00:00"}),
    ({"frequency_type": "Daily", "frequency_interval": "3", "force": True},   # a string: dbatools keeps 1
     {"freq_type": 4, "freq_interval": 1}),
    ({"frequency_type": "Monthly", "frequency_interval": "15", "frequency_recurrence_factor": 1, "force": True},
     {"freq_type": 16, "freq_interval": 15, "freq_recurrence_factor": 1}),
    ({"frequency_type": "AgentStart", "force": True}, {"freq_type": 64, "freq_interval": 0}),
])
def test_agent_job_schedule_new_stores_msdb_codes(run_module, job_state, args, stored):
    full = dict(SA, job="Nightly", schedule="S1", **args)
    result, checked = run_module("lowlydba.sqlserver.agent_job_schedule", full, state=job_state, check_mode=True)
    assert result["changed"]
    assert checked == job_state
    result, state = run_module("lowlydba.sqlserver.agent_job_schedule", full, state=job_state)
    assert result["changed"]
    sched = agent(state)["schedules"][0]
    assert {k: sched[k] for k in stored} == stored
    assert sched["jobs"] == ["Nightly"]
    assert result["data"]["ScheduleName"] == "S1"
    assert result["data"]["JobCount"] == 1
    result, state2 = run_module("lowlydba.sqlserver.agent_job_schedule", full, state=state)
    assert not result["changed"]
    assert state2 == state


def test_agent_job_schedule_description(run_module, job_state):
    result, _ = run_module("lowlydba.sqlserver.agent_job_schedule",
                           dict(SA, job="Nightly", schedule="S1", frequency_type="Daily",
                                frequency_subday_type="Minutes", frequency_subday_interval=15, force=True),
                           state=job_state)
    assert result["data"]["Description"] == ("Occurs every day every 15 minute(s) between 12:00:00 AM and "
                                             "11:59:59 PM. Schedule will be used starting on 3/2/2026.")
    assert result["data"]["FrequencyTypes"] == "Daily"
    assert result["data"]["FrequencySubDayTypes"] == "Minute"


@pytest.mark.parametrize(("args", "reason"), [
    ({"frequency_type": "Daily"}, "Please enter a start date or use -Force to use defaults."),
    ({"frequency_type": "Weekly", "frequency_interval": "Monday", "start_date": "20260101", "end_date": "20261231",
      "start_time": "000000", "end_time": "235959"},
     "The recurrence factor 0 (parameter FrequencyRecurrenceFactor) needs to be at least one when using a weekly "
     "or monthly interval."),
    ({"frequency_type": "Weekly", "frequency_interval": "Funday", "frequency_recurrence_factor": 1},
     "Parameter FrequencyInterval must be provided for a recurring schedule."),
    ({"frequency_type": "Once", "start_date": "20261301", "end_date": "99991231", "start_time": "000000",
      "end_time": "235959"}, "Start date 20261301 needs to be a valid date with format yyyyMMdd"),
    ({"frequency_type": "Once", "start_date": "20260301", "end_date": "20260201", "start_time": "000000",
      "end_time": "235959"}, "End date 20260201 cannot be before start date 20260301"),
])
def test_agent_job_schedule_invalid_fails(run_module, job_state, args, reason):
    result, _ = run_module("lowlydba.sqlserver.agent_job_schedule", dict(SA, job="Nightly", schedule="S1", **args),
                           state=job_state)
    assert result["failed"]
    assert result["msg"] == "Error configuring SQL Agent job schedule."
    assert result["exception"] == reason


def test_agent_job_schedule_update(run_module, job_state):
    base = dict(SA, job="Nightly", schedule="S1", frequency_type="Daily", force=True)
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule", base, state=job_state)
    changed = dict(base, start_time="020000", enabled=False)
    result, checked = run_module("lowlydba.sqlserver.agent_job_schedule", changed, state=state, check_mode=True)
    assert not result["changed"]          # Set-DbaAgentSchedule -WhatIf outputs nothing
    assert checked == state
    result, state = run_module("lowlydba.sqlserver.agent_job_schedule", changed, state=state)
    assert result["changed"]
    sched = agent(state)["schedules"][0]
    assert sched["active_start_time"] == "02:00:00"
    assert sched["enabled"] is False
    result, _ = run_module("lowlydba.sqlserver.agent_job_schedule", changed, state=state)
    assert not result["changed"]


def test_agent_job_schedule_update_without_type_resets_to_once(run_module, job_state):
    base = dict(SA, job="Nightly", schedule="S1", frequency_type="Daily", force=True)
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule", base, state=job_state)
    result, state = run_module("lowlydba.sqlserver.agent_job_schedule",
                               dict(SA, job="Nightly", schedule="S1", start_time="030000"), state=state)
    assert result["changed"]
    assert agent(state)["schedules"][0]["freq_type"] == 1


def test_agent_job_schedule_of_another_job_fails(run_module, job_state):
    _, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Other"), state=job_state)
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule",
                          dict(SA, job="Nightly", schedule="S1", frequency_type="Daily", force=True), state=state)
    result, _ = run_module("lowlydba.sqlserver.agent_job_schedule",
                           dict(SA, job="Other", schedule="S1", frequency_type="Daily", force=True), state=state)
    assert result["failed"]
    assert result["exception"] == "Schedule S1 doesn't exists for job Other on localhost"


def test_agent_job_schedule_absent(run_module, job_state):
    base = dict(SA, job="Nightly", schedule="S1", frequency_type="Daily", force=True)
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule", base, state=job_state)
    result, state = run_module("lowlydba.sqlserver.agent_job_schedule", dict(base, state="absent"), state=state)
    assert result["changed"]
    assert agent(state)["schedules"] == []
    result, _ = run_module("lowlydba.sqlserver.agent_job_schedule", dict(base, state="absent"), state=state)
    assert not result["changed"]


def test_agent_job_attaches_shared_schedule(run_module, job_state):
    _, state = run_module("lowlydba.sqlserver.agent_job_schedule",
                          dict(SA, job="Nightly", schedule="S1", frequency_type="Daily", force=True), state=job_state)
    result, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Second", schedule="S1"), state=state)
    assert result["data"]["HasSchedule"] is True
    assert agent(state)["schedules"][0]["jobs"] == ["Nightly", "Second"]


# -- maintenance_solution -------------------------------------------------------------

OLA_JOBS = sorted([
    "CommandLog Cleanup", "DatabaseBackup - SYSTEM_DATABASES - FULL", "DatabaseBackup - USER_DATABASES - DIFF",
    "DatabaseBackup - USER_DATABASES - FULL", "DatabaseBackup - USER_DATABASES - LOG",
    "DatabaseIntegrityCheck - SYSTEM_DATABASES", "DatabaseIntegrityCheck - USER_DATABASES",
    "IndexOptimize - USER_DATABASES", "Output File Cleanup", "sp_delete_backuphistory", "sp_purge_jobhistory"])


def test_maintenance_solution_check_apply_idempotent(run_module, sql_state):
    args = dict(SA, database="master", install_jobs=True, backup_location="D:\\Backup", cleanup_time=168,
                log_to_table=True)
    result, checked = run_module("lowlydba.sqlserver.maintenance_solution", args, state=sql_state, check_mode=True)
    assert result["changed"]
    assert "data" not in result
    assert checked == sql_state
    result, state = run_module("lowlydba.sqlserver.maintenance_solution", args, state=sql_state)
    assert result["changed"]
    assert result["data"] == {"ComputerName": "WINSIM", "InstanceName": "MSSQLSERVER", "SqlInstance": "WINSIM",
                              "Results": "Success"}
    master = state["sql"]["instances"]["mssqlserver"]["databases"]["master"]
    assert sorted(o["name"] for o in master["objects"]) == [
        "CommandExecute", "CommandLog", "DatabaseBackup", "DatabaseIntegrityCheck", "IndexOptimize"]
    jobs = agent(state)["jobs"]
    assert sorted(j["name"] for j in jobs.values()) == OLA_JOBS
    full = jobs["databasebackup - user_databases - full"]
    assert full["category"] == "Database Maintenance"
    assert full["description"] == "Source: https://ola.hallengren.com"
    assert full["steps"][0]["command"] == (
        "EXECUTE [dbo].[DatabaseBackup]\r\n@Databases = 'USER_DATABASES',\r\n@Directory = N'D:\\Backup',\r\n"
        "@BackupType = 'FULL',\r\n@Verify = 'Y',\r\n@CleanupTime = 168,\r\n@CheckSum = 'Y',\r\n@LogToTable = 'Y'")
    assert jobs["output file cleanup"]["steps"][0]["subsystem"] == "CmdExec"
    result, state2 = run_module("lowlydba.sqlserver.maintenance_solution", args, state=state)
    assert not result["changed"]
    assert result["data"]["Results"] == "Success"
    assert state2 == state


def test_maintenance_solution_without_jobs(run_module, sql_state):
    _, state = run_module("lowlydba.sqlserver.maintenance_solution", dict(SA, database="master", solution="Backup"),
                          state=sql_state)
    master = state["sql"]["instances"]["mssqlserver"]["databases"]["master"]
    assert sorted(o["name"] for o in master["objects"]) == ["CommandExecute", "DatabaseBackup"]
    assert agent(state)["jobs"] == {}


def test_maintenance_solution_replace_recreates_deleted_job(run_module, sql_state):
    args = dict(SA, database="master", install_jobs=True)
    _, state = run_module("lowlydba.sqlserver.maintenance_solution", args, state=sql_state)
    del agent(state)["jobs"]["databasebackup - user_databases - log"]        # drift: a deleted backup job
    result, state = run_module("lowlydba.sqlserver.maintenance_solution", dict(args, replace_existing=True),
                               state=state)
    assert result["changed"]
    assert sorted(j["name"] for j in agent(state)["jobs"].values()) == OLA_JOBS


@pytest.mark.parametrize(("args", "exception"), [
    ({"database": "master", "install_jobs": True, "solution": "Backup"},
     "Jobs can only be created for all solutions. To create SQL Agent jobs you need to use '-Solution All' (or not "
     "specify the Solution and let it default to All) and '-InstallJobs'."),
    ({"database": "DBA"}, "Database DBA not found on localhost. Skipping."),
])
def test_maintenance_solution_failures(run_module, sql_state, args, exception):
    result, _ = run_module("lowlydba.sqlserver.maintenance_solution", dict(SA, **args), state=sql_state)
    assert result["failed"]
    assert result["msg"] == "Installing Maintenance Solution failed."
    assert result["exception"] == exception
