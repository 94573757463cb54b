"""lowlydba.sqlserver 2.8.1 models: instance, connection, database, login,
login_role, user, user_role and nonquery (models/sql.py)."""

from __future__ import annotations

import copy
import typing as t

import pytest

from winsim.models import sql
from winsim.models._base import SimulatorError

SA = {"sql_instance": "localhost", "sql_username": "sa", "sql_password": "Str0ng!Passw0rd"}
WIN = {"sql_instance": "localhost"}


@pytest.fixture
def sql_state(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    """A host with a default SQL Server 2022 Developer instance, mixed mode."""
    sql.ensure_instance(fresh_state, sa_password=SA["sql_password"])
    return fresh_state


def inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]


def test_fresh_host_has_no_sql_server(fresh_state):
    assert fresh_state["sql"] == {"instances": {}}


def test_ensure_instance_seeds_system_databases_logins_and_services(sql_state):
    i = inst(sql_state)
    assert sorted(i["databases"]) == ["master", "model", "msdb", "tempdb"]
    assert i["logins"]["sa"]["server_roles"] == ["sysadmin"]
    assert not i["logins"]["sa"]["disabled"]
    assert "Str0ng" not in str(i["logins"]["sa"])
    assert sql_state["services"]["mssqlserver"]["state"] == "started"
    assert sql_state["services"]["sqlserveragent"]["dependencies"] == ["MSSQLSERVER"]


def test_ensure_instance_is_idempotent(sql_state):
    before = copy.deepcopy(sql_state)
    sql.ensure_instance(sql_state)
    assert sql_state == before


@pytest.mark.parametrize("instance", ["localhost", ".", "WINSIM", "winsim,1433", "tcp:localhost"])
def test_instance_info_reports_instance(run_module, sql_state, instance):
    result, _ = run_module("lowlydba.sqlserver.instance_info", {"sql_instance": instance}, state=sql_state)
    assert not result["changed"]
    assert result["data"]["InstanceName"] == "MSSQLSERVER"
    assert result["data"]["VersionMajor"] == 16
    assert result["data"]["LoginMode"] == "Mixed"


@pytest.mark.parametrize(("instance", "error"), [
    ("localhost\\NOPE", "error: 26 - Error Locating Server/Instance Specified"),
    ("otherhost", "error: 40 - Could not open a connection to SQL Server"),
])
def test_unknown_instance_fails_with_connection_error(run_module, sql_state, instance, error):
    result, _ = run_module("lowlydba.sqlserver.instance_info", {"sql_instance": instance}, state=sql_state)
    assert result["failed"]
    assert result["msg"].startswith(f"Error fetching instance information: Error connecting to [{instance}]: "
                                    "A network-related or instance-specific error")
    assert error in result["msg"]


def test_fresh_host_has_no_instance_to_connect_to(run_module):
    result, _ = run_module("lowlydba.sqlserver.instance_info", WIN)
    assert result["failed"]
    assert "Error connecting to [localhost]" in result["msg"]


def test_wrong_sql_password_fails_login(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.instance_info", dict(SA, sql_password="wrong"), state=sql_state)
    assert result["failed"]
    assert result["msg"].endswith("Error connecting to [localhost]: Login failed for user 'sa'.")


def test_sql_username_requires_password(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.instance_info", {"sql_instance": "localhost", "sql_username": "sa"},
                           state=sql_state)
    assert result["failed"]
    assert "sql_username, sql_password" in result["msg"]


def test_stopped_engine_refuses_connections(run_module, sql_state):
    sql_state["services"]["mssqlserver"]["state"] = "stopped"
    result, _ = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    assert result["failed"]
    assert result["msg"] == "Error checking database status."


# -- database ------------------------------------------------------------------------

def test_database_check_apply_idempotent(run_module, sql_state):
    args = dict(SA, database="AppDb", recovery_model="Simple", owner="sa")
    result, after_check = run_module("lowlydba.sqlserver.database", args, state=sql_state, check_mode=True)
    assert result["changed"]
    assert "data" not in result
    assert after_check == sql_state
    result, state = run_module("lowlydba.sqlserver.database", args, state=sql_state)
    assert result["changed"]
    assert result["data"]["Name"] == "AppDb"
    assert result["data"]["RecoveryModel"] == "Simple"
    assert result["data"]["Owner"] == "sa"
    assert result["data"]["LastFullBackup"] == "0001-01-01T00:00:00.0000000"
    db = inst(state)["databases"]["appdb"]
    assert db["files"][0]["physical_name"].endswith("MSSQL16.MSSQLSERVER\\MSSQL\\DATA\\AppDb.mdf")
    result, state2 = run_module("lowlydba.sqlserver.database", args, state=state)
    assert not result["changed"]
    assert state2 == state


def test_database_new_takes_model_recovery_and_connecting_login(run_module, sql_state):
    result, state = run_module("lowlydba.sqlserver.database", dict(WIN, database="AppDb"), state=sql_state)
    db = inst(state)["databases"]["appdb"]
    assert db["recovery_model"] == "Full"
    assert db["owner"] == "WINSIM\\Administrator"
    assert result["data"]["Compatibility"] == "Version160"


@pytest.mark.parametrize(("option", "value", "field"), [
    ("recovery_model", "BulkLogged", "recovery_model"),
    ("compatibility", "Version150", "compatibility"),
    ("rcsi", True, "rcsi"),
    ("maxdop", 4, "maxdop"),
    ("secondary_maxdop", 2, "secondary_maxdop"),
])
def test_database_settings_change_once(run_module, sql_state, option, value, field):
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    args = dict(SA, database="AppDb", **{option: value})
    result, checked = run_module("lowlydba.sqlserver.database", args, state=state, check_mode=True)
    assert result["changed"]
    assert checked == state
    result, state = run_module("lowlydba.sqlserver.database", args, state=state)
    assert result["changed"]
    assert inst(state)["databases"]["appdb"][field] == value
    result, _ = run_module("lowlydba.sqlserver.database", args, state=state)
    assert not result["changed"]


def test_database_bad_compatibility_fails(run_module, sql_state):
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    result, _ = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", compatibility="Version170"),
                           state=state)
    assert result["failed"]
    assert result["msg"] == "Setting Compatibility for [AppDb] failed."


def test_database_unknown_owner_fails(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", owner="nobody"),
                           state=sql_state)
    assert result["failed"]
    assert result["msg"] == "Creating database [AppDb] failed."


def test_database_absent_drops_and_is_idempotent(run_module, sql_state):
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    result, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", state="absent"),
                               state=state)
    assert result["changed"]
    assert "appdb" not in inst(state)["databases"]
    result, _ = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", state="absent"), state=state)
    assert not result["changed"]


def test_database_absent_in_check_mode_fails_like_the_module(run_module, sql_state):
    """Remove-DbaDatabase -WhatIf returns nothing, which 2.8.1 reads as a failed drop."""
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    result, after = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb", state="absent"),
                               state=state, check_mode=True)
    assert result["failed"]
    assert result["msg"] == "Database [AppDb] was not dropped. "
    assert after == state


def test_system_database_is_not_managed(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.database", dict(SA, database="msdb"), state=sql_state)
    assert result["failed"]
    assert result["msg"] == "Creating database [msdb] failed."


# -- login ---------------------------------------------------------------------------

def test_sql_login_check_apply_idempotent(run_module, sql_state):
    args = dict(SA, login="app_user", password="An0ther!Passw0rd", skip_password_reset=True,
                default_database="master")
    result, checked = run_module("lowlydba.sqlserver.login", args, state=sql_state, check_mode=True)
    assert result["changed"]
    assert checked == sql_state
    result, state = run_module("lowlydba.sqlserver.login", args, state=sql_state)
    assert result["changed"]
    assert result["data"]["Name"] == "app_user"
    assert result["data"]["LoginType"] == "SqlLogin"
    assert result["data"]["DefaultDatabase"] == "master"
    lg = inst(state)["logins"]["app_user"]
    assert lg["password_digest"].startswith("pbkdf2_sha256$")
    assert "An0ther" not in str(state)
    result, _ = run_module("lowlydba.sqlserver.login", args, state=state)
    assert not result["changed"]


def test_login_password_resets_every_run_without_skip(run_module, sql_state):
    args = dict(SA, login="app_user", password="An0ther!Passw0rd")
    _, state = run_module("lowlydba.sqlserver.login", args, state=sql_state)
    result, _ = run_module("lowlydba.sqlserver.login", args, state=state)
    assert result["changed"]
    assert result["data"]["PasswordChanged"] is True


def test_login_new_sql_login_can_connect(run_module, sql_state):
    _, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", password="An0ther!Passw0rd"),
                          state=sql_state)
    result, _ = run_module("lowlydba.sqlserver.instance_info",
                           {"sql_instance": "localhost", "sql_username": "app_user",
                            "sql_password": "An0ther!Passw0rd"}, state=state)
    assert not result.get("failed")


def test_windows_login_resolves_account(run_module, sql_state):
    result, state = run_module("lowlydba.sqlserver.login", dict(WIN, login="BUILTIN\\Administrators"),
                               state=sql_state)
    assert result["changed"]
    assert inst(state)["logins"]["builtin\\administrators"]["type"] == "WindowsGroup"


def test_windows_login_unknown_account_fails(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.login", dict(WIN, login="WINSIM\\ghost"), state=sql_state)
    assert result["failed"]
    assert result["msg"].startswith("Configuring login failed: Windows NT user or group 'WINSIM\\ghost' not found.")


def test_login_disable_then_absent(run_module, sql_state):
    args = dict(SA, login="app_user", password="An0ther!Passw0rd", skip_password_reset=True)
    _, state = run_module("lowlydba.sqlserver.login", args, state=sql_state)
    result, state = run_module("lowlydba.sqlserver.login", dict(args, enabled=False), state=state)
    assert result["changed"]
    assert inst(state)["logins"]["app_user"]["disabled"]
    result, checked = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", state="absent"),
                                 state=state, check_mode=True)
    assert result["changed"]
    assert checked == state
    result, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", state="absent"), state=state)
    assert result["data"]["Status"] == "Dropped"
    assert "app_user" not in inst(state)["logins"]


def test_login_password_is_masked_in_invocation(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", password="An0ther!Passw0rd"),
                           state=sql_state)
    assert "An0ther!Passw0rd" not in str(result)


# -- login_role ----------------------------------------------------------------------

def test_login_role_check_apply_idempotent_absent(run_module, sql_state):
    _, state = run_module("lowlydba.sqlserver.login", dict(WIN, login="BUILTIN\\Administrators"), state=sql_state)
    args = dict(WIN, login="BUILTIN\\Administrators", server_role="dbcreator")
    result, checked = run_module("lowlydba.sqlserver.login_role", args, state=state, check_mode=True)
    assert result["changed"]
    assert checked == state
    result, state = run_module("lowlydba.sqlserver.login_role", args, state=state)
    assert result["changed"]
    assert inst(state)["logins"]["builtin\\administrators"]["server_roles"] == ["dbcreator"]
    result, _ = run_module("lowlydba.sqlserver.login_role", args, state=state)
    assert not result["changed"]
    result, state = run_module("lowlydba.sqlserver.login_role", dict(args, state="absent"), state=state)
    assert result["changed"]
    assert inst(state)["logins"]["builtin\\administrators"]["server_roles"] == []


@pytest.mark.parametrize(("login", "role", "msg"), [
    ("nobody", "sysadmin", "Login [nobody] does not exist."),
    ("sa", "superuser", "Server role [superuser] does not exist."),
])
def test_login_role_missing_objects_fail(run_module, sql_state, login, role, msg):
    result, _ = run_module("lowlydba.sqlserver.login_role", dict(WIN, login=login, server_role=role),
                           state=sql_state)
    assert result["failed"]
    assert result["msg"] == msg


def test_login_role_unknown_instance_is_unhandled(run_module, sql_state):
    result, _ = run_module("lowlydba.sqlserver.login_role",
                           {"sql_instance": "localhost\\X", "login": "sa", "server_role": "sysadmin"},
                           state=sql_state)
    assert result["msg"].startswith("Unhandled exception while executing module: Error connecting to [localhost\\X]")


# -- user / user_role ----------------------------------------------------------------

@pytest.fixture
def app_state(run_module, sql_state) -> dict[str, t.Any]:
    _, state = run_module("lowlydba.sqlserver.database", dict(SA, database="AppDb"), state=sql_state)
    _, state = run_module("lowlydba.sqlserver.login", dict(SA, login="app_user", password="An0ther!Passw0rd"),
                          state=state)
    return state


def test_user_check_apply_idempotent(run_module, app_state):
    args = dict(SA, database="AppDb", login="app_user", username="app_user")
    result, checked = run_module("lowlydba.sqlserver.user", args, state=app_state, check_mode=True)
    assert result["changed"]
    assert checked == app_state
    result, state = run_module("lowlydba.sqlserver.user", args, state=app_state)
    assert result["changed"]
    assert result["data"]["Login"] == "app_user"
    assert result["data"]["DefaultSchema"] == "dbo"
    result, _ = run_module("lowlydba.sqlserver.user", args, state=state)
    assert not result["changed"]
    assert "data" not in result


def test_user_default_schema_must_exist(run_module, app_state):
    args = dict(SA, database="AppDb", login="app_user", username="app_user")
    _, state = run_module("lowlydba.sqlserver.user", args, state=app_state)
    result, _ = run_module("lowlydba.sqlserver.user", dict(args, default_schema="nope"), state=state)
    assert result["failed"]
    assert result["msg"] == "Schema 'nope' not found in [AppDb]."
    result, state = run_module("lowlydba.sqlserver.user", dict(args, default_schema="guest"), state=state)
    assert result["changed"]
    assert inst(state)["databases"]["appdb"]["users"]["app_user"]["default_schema"] == "guest"


def test_user_absent(run_module, app_state):
    args = dict(SA, database="AppDb", login="app_user", username="app_user")
    _, state = run_module("lowlydba.sqlserver.user", args, state=app_state)
    result, state = run_module("lowlydba.sqlserver.user", dict(args, state="absent"), state=state)
    assert result["changed"]
    assert result["data"]["Status"] == "Dropped"
    assert "app_user" not in inst(state)["databases"]["appdb"]["users"]


def test_user_unknown_login_fails(run_module, app_state):
    result, _ = run_module("lowlydba.sqlserver.user", dict(SA, database="AppDb", login="ghost", username="ghost"),
                           state=app_state)
    assert result["failed"]
    assert result["msg"].startswith("Creating user failed: Invalid Login: ghost")


@pytest.fixture
def user_state(run_module, app_state) -> dict[str, t.Any]:
    _, state = run_module("lowlydba.sqlserver.user", dict(SA, database="AppDb", login="app_user",
                                                          username="app_user"), state=app_state)
    return state


@pytest.mark.parametrize(("roles", "membership", "added", "removed"), [
    ({"add": ["db_datareader", "db_datawriter"]}, ["db_datareader", "db_datawriter"],
     ["db_datareader", "db_datawriter"], None),
    ({"set": ["db_owner"]}, ["db_owner"], ["db_owner"], None),
    ({"add": []}, [], None, None),
])
def test_user_role_roles_dict(run_module, user_state, roles, membership, added, removed):
    args = dict(SA, database="AppDb", username="app_user", roles=roles)
    result, checked = run_module("lowlydba.sqlserver.user_role", args, state=user_state, check_mode=True)
    assert checked == user_state
    assert result["data"]["roleMembership"] == []
    result, state = run_module("lowlydba.sqlserver.user_role", args, state=user_state)
    assert result["changed"] is bool(added or removed)
    assert result["data"]["roleMembership"] == membership
    assert result["data"].get("added") == added
    assert result["data"].get("removed") == removed
    result, _ = run_module("lowlydba.sqlserver.user_role", args, state=state)
    assert not result["changed"]


def test_user_role_set_replaces_membership(run_module, user_state):
    base = dict(SA, database="AppDb", username="app_user")
    _, state = run_module("lowlydba.sqlserver.user_role", dict(base, roles={"add": ["db_datareader"]}),
                          state=user_state)
    result, state = run_module("lowlydba.sqlserver.user_role", dict(base, roles={"set": ["db_datawriter"]}),
                               state=state)
    assert result["data"] == {"roleMembership": ["db_datawriter"], "added": ["db_datawriter"],
                              "removed": ["db_datareader"]}
    result, state = run_module("lowlydba.sqlserver.user_role", dict(base, roles={"set": []}), state=state)
    assert result["data"] == {"roleMembership": [], "removed": ["db_datawriter"]}


@pytest.mark.parametrize(("args", "msg"), [
    ({"roles": {"set": ["db_owner"], "add": ["x"]}},
     "The 'roles.set' option cannot be combined with 'roles.add' or 'roles.remove'."),
    ({"roles": {}}, "When using 'roles', at least one key (roles.set, roles.add, or roles.remove) must be present."),
    ({"roles": {"add": ["db_owner"]}, "state": "present"},
     "The 'state' parameter is not supported when using the 'roles' parameter. "
     "Use roles.add, roles.remove, or roles.set to control membership changes."),
    ({"roles": {"add": ["nope"]}}, "Role [nope] does not exist in database [AppDb]."),
    ({"role": "nope"}, "Role [nope] does not exist in database [AppDb]."),
])
def test_user_role_failures(run_module, user_state, args, msg):
    result, _ = run_module("lowlydba.sqlserver.user_role", dict(SA, database="AppDb", username="app_user", **args),
                           state=user_state)
    assert result["failed"]
    assert result["msg"] == msg


def test_user_role_unknown_user(run_module, user_state):
    result, _ = run_module("lowlydba.sqlserver.user_role", dict(SA, database="AppDb", username="ghost",
                                                                role="db_owner"), state=user_state)
    assert result["msg"] == "User [ghost] does not exist in database [AppDb]."


def test_user_role_legacy_role(run_module, user_state):
    args = dict(SA, database="AppDb", username="app_user", role="db_datareader")
    result, state = run_module("lowlydba.sqlserver.user_role", args, state=user_state)
    assert result["changed"]
    assert "data" not in result
    result, _ = run_module("lowlydba.sqlserver.user_role", args, state=state)
    assert not result["changed"]
    result, state = run_module("lowlydba.sqlserver.user_role", dict(args, state="absent"), state=state)
    assert result["changed"]
    assert inst(state)["databases"]["appdb"]["users"]["app_user"]["roles"] == []


# -- nonquery ------------------------------------------------------------------------

@pytest.mark.parametrize(("statement", "field", "value"), [
    ("ALTER DATABASE [AppDb] SET RECOVERY SIMPLE WITH NO_WAIT;", "recovery_model", "Simple"),
    ("alter database AppDb set recovery bulk_logged", "recovery_model", "BulkLogged"),
    ("ALTER DATABASE [AppDb] SET COMPATIBILITY_LEVEL = 150", "compatibility", "Version150"),
    ("ALTER DATABASE [AppDb] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE", "rcsi", True),
    ("ALTER AUTHORIZATION ON DATABASE::[AppDb] TO [sa]", "owner", "sa"),
])
def test_nonquery_supported_statements(run_module, app_state, statement, field, value):
    args = dict(SA, database="master", nonquery=statement)
    result, checked = run_module("lowlydba.sqlserver.nonquery", args, state=app_state, check_mode=True)
    assert result["changed"]
    assert checked == app_state
    result, state = run_module("lowlydba.sqlserver.nonquery", args, state=app_state)
    assert result["changed"]
    assert inst(state)["databases"]["appdb"][field] == value


def test_nonquery_setting_simple_breaks_the_log_chain(run_module, app_state):
    inst(app_state)["databases"]["appdb"]["log_chain_lsn"] = 42
    _, state = run_module("lowlydba.sqlserver.nonquery",
                          dict(SA, database="master", nonquery="ALTER DATABASE [AppDb] SET RECOVERY SIMPLE"),
                          state=app_state)
    assert inst(state)["databases"]["appdb"]["log_chain_lsn"] is None


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("statement", ["SELECT 1", "DROP TABLE dbo.Orders", "CREATE LOGIN x WITH PASSWORD='y'",
                                       "ALTER DATABASE [AppDb] SET RECOVERY FULL; DELETE FROM t"])
def test_nonquery_arbitrary_sql_fails_loudly(run_module, app_state, statement, check_mode):
    with pytest.raises(SimulatorError, match="cannot execute arbitrary T-SQL"):
        run_module("lowlydba.sqlserver.nonquery", dict(SA, database="master", nonquery=statement),
                   state=app_state, check_mode=check_mode)


def test_nonquery_unknown_database_fails(run_module, app_state):
    result, _ = run_module("lowlydba.sqlserver.nonquery",
                           dict(SA, database="master", nonquery="ALTER DATABASE [Nope] SET RECOVERY FULL"),
                           state=app_state)
    assert result["failed"]
    assert result["msg"] == "Executing nonquery failed."
