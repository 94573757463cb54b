"""lowlydba.sqlserver 2.8.1 divergences of the old SQL models, each proved
against the upstream .ps1 (plugins/modules/) and each failing on the old
model (models/sql.py, sql_agent.py, sql_backup.py before the fix)."""

from __future__ import annotations

import typing as t

import pytest

from winsim.models import sql

SA = {"sql_instance": "localhost", "sql_username": "sa", "sql_password": "Str0ng!Passw0rd"}


def inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]


@pytest.fixture
def sql_state(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    return fresh_state


@pytest.fixture
def step_state(run_module, sql_state) -> dict[str, t.Any]:
    _, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly"), state=sql_state)
    result, state = run_module("lowlydba.sqlserver.agent_job_step",
                               dict(SA, job="Nightly", step_id=1, step_name="Backup", database="master",
                                    command="SELECT 1"), state=state)
    assert result["changed"]
    return state


def test_database_owner_is_compared_case_insensitively(run_module, sql_state):
    """database.ps1: ``if ($existingDatabase.Owner -ne $owner)``: -ne ignores case."""
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", owner="sa"), state=sql_state)
    result, state2 = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", owner="SA"), state=state)
    assert not result["changed"]
    assert state2 == state


def test_agent_job_step_check_mode_always_reports_changed(run_module, step_state):
    """agent_job_step.ps1: ``if ($diff -or $checkMode) { changed = $true }``."""
    args = dict(SA, job="Nightly", step_id=1, step_name="Backup", database="master", command="SELECT 1")
    result, checked = run_module("lowlydba.sqlserver.agent_job_step", args, state=step_state, check_mode=True)
    assert result["changed"]
    assert checked == step_state
    result, _ = run_module("lowlydba.sqlserver.agent_job_step", args, state=step_state)
    assert not result["changed"]


def test_agent_job_step_name_matches_case_insensitively(run_module, step_state):
    """``Where-Object Name -eq $stepName`` ignores case: the existing step is
    updated, not created a second time (the old model failed with "There is
    already a step with ID 1")."""
    args = dict(SA, job="Nightly", step_id=1, step_name="BACKUP", database="master", command="SELECT 1")
    result, state = run_module("lowlydba.sqlserver.agent_job_step", args, state=step_state)
    assert not result.get("failed"), result
    assert not result["changed"]
    assert len(inst(state)["agent"]["jobs"]["nightly"]["steps"]) == 1
    result, _ = run_module("lowlydba.sqlserver.agent_job_step", dict(args, step_id=2), state=step_state)
    assert result["failed"]
    assert result["msg"] == "There is already a step named 'BACKUP' for this job with an ID of 1."


def test_agent_job_creation_errors_are_new_dbaagentjob_s(run_module, sql_state):
    """agent_job.ps1 wraps New-DbaAgentJob: "Failed creating new agent job: ..."."""
    result, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", owner_login="nobody"),
                               state=sql_state)
    assert result["failed"]
    assert result["msg"] == "Failed creating new agent job: The owner nobody does not exist on instance localhost"
    assert not result["changed"]
    assert inst(state)["agent"]["jobs"] == {}


def test_agent_job_creation_checks_nothing_in_check_mode(run_module, sql_state):
    """New-DbaAgentJob checks the owner inside ShouldProcess: under -WhatIf
    nothing is checked and the module reports changed."""
    result, checked = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", owner_login="nobody"),
                                 state=sql_state, check_mode=True)
    assert result["changed"]
    assert not result.get("failed")
    assert checked == sql_state


def test_agent_job_created_without_a_missing_schedule(run_module, sql_state):
    """New-DbaAgentJob attaches the schedule through a nested Set-DbaAgentJob
    without -EnableException: a missing schedule is a warning and the job is
    created without it (the old model failed)."""
    result, state = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", schedule="Nope"),
                               state=sql_state)
    assert result["changed"]
    assert not result.get("failed")
    assert result["data"]["HasSchedule"] is False
    assert "nightly" in inst(state)["agent"]["jobs"]
    # on an existing job Set-DbaAgentJob runs with -EnableException: the same schedule fails
    result, _ = run_module("lowlydba.sqlserver.agent_job", dict(SA, job="Nightly", schedule="Nope"), state=state)
    assert result["failed"]
    assert result["msg"] == "Error configuring SQL Agent job: Schedule Nope cannot be found on instance localhost"


def test_backup_with_encryption_fails_like_the_misspelt_module(run_module, sql_state):
    """backup.ps1 reads ``$modules.Params.encryption_certificate`` (a typo):
    Backup-DbaDatabase gets -EncryptionAlgorithm alone and stops."""
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    args = dict(SA, database="AppDb", type="full", encryption_algorithm="AES256", encryption_certificate="BackupCert")
    for check in (True, False):
        result, after = run_module("lowlydba.sqlserver.backup", args, state=state, check_mode=check)
        assert result["failed"]
        assert result["msg"] == ("Error backing up database: EncryptionCertifcate and EncryptionKey are mutually "
                                 "exclusive, only provide on of them.")
        assert inst(after)["backup_history"] == []


@pytest.mark.parametrize("role", ["##MS_DatabaseConnector##", "##ms_serverstatereader##", "##MS_LoginManager##"])
def test_sql_2022_fixed_server_roles(run_module, sql_state, role):
    _, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app", password="An0ther!Passw0rd"),
                          state=sql_state)
    result, state = run_module("lowlydba.sqlserver.login_role", dict(SA, login="app", server_role=role), state=state)
    assert result["changed"], result
    assert role.lower() in [r.lower() for r in inst(state)["logins"]["app"]["server_roles"]]


def test_sql_2019_has_no_ms_server_roles(run_module, fresh_state):
    sql.ensure_instance(fresh_state, version="2019", sa_password=SA["sql_password"])
    _, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app", password="An0ther!Passw0rd"),
                          state=fresh_state)
    result, _ = run_module("lowlydba.sqlserver.login_role",
                           dict(SA, login="app", server_role="##MS_DatabaseConnector##"), state=state)
    assert result["failed"]
    assert result["msg"] == "Server role [##MS_DatabaseConnector##] does not exist."
