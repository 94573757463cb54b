"""Model of the project-owned ``mcms.infra.sql_principals``: Windows logins,
their database users and exactly their roles in one call; check mode, diff,
``mcms_drift``; 15401 before any change; a missing database leaves the user
pending; prune."""

from __future__ import annotations

import copy
import typing as t
from pathlib import Path

import pytest
from identity_support import dc_with_gmsas, member

from winsim.drift import DriftError, apply_drift
from winsim.models import sql
from winsim.state import iso
from winsim.store import HostStore

PRINCIPALS = "mcms.infra.sql_principals"
APP = "CORP\\gmsa_app$"
WRK = "CORP\\gmsa_wrk$"


@pytest.fixture
def host(host_store: HostStore) -> dict[str, t.Any]:
    dc_with_gmsas(Path(host_store.state_path.parent))
    h = member()
    inst = sql.ensure_instance(h, sa_password="Str0ng!Passw0rd")
    inst["databases"]["mcms"] = sql.new_database(inst, "MCMS", owner="sa", when="2026-03-02T14:30:15Z")
    inst["next_database_id"] += 1
    return h


def _args(**extra: t.Any) -> dict[str, t.Any]:
    return {"sql_instance": "localhost",
            "logins": [{"name": APP, "database": "MCMS"},
                       {"name": WRK, "database": "MCMS", "roles": ["db_datareader", "db_datawriter", "db_ddladmin"]}],
            **extra}


def _inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], state["sql"]["instances"]["mssqlserver"])


def test_logins_users_and_exact_roles_in_one_call(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, state = run_module(PRINCIPALS, _args(), state=host)
    assert result["changed"]
    assert result["pending"] == []
    inst = _inst(state)
    assert inst["logins"][APP.lower()]["type"] == "WindowsUser"
    users = inst["databases"]["mcms"]["users"]
    assert users[APP.lower()]["roles"] == ["db_datareader", "db_datawriter"]
    assert users[WRK.lower()]["roles"] == ["db_datareader", "db_datawriter", "db_ddladmin"]
    again, after = run_module(PRINCIPALS, _args(), state=state)
    assert not again["changed"]
    assert again["mcms_drift"] == []
    assert after == state


def test_extra_role_is_reported_in_check_mode_and_removed(run_module: t.Any, host: dict[str, t.Any]) -> None:
    _, state = run_module(PRINCIPALS, _args(), state=host)
    inst = _inst(state)
    inst["databases"]["mcms"]["users"][APP.lower()]["roles"].append("db_owner")
    inst["logins"][APP.lower()]["server_roles"].append("sysadmin")
    drifted = copy.deepcopy(state)
    check, untouched = run_module(PRINCIPALS, _args(), state=copy.deepcopy(drifted), check_mode=True, diff=True)
    assert untouched == drifted
    assert sorted((d["resource"], d["attribute"], d["wanted"], d["found"]) for d in check["mcms_drift"]) == [
        ("MCMS:db_owner", APP, "absent", "member"), ("server:sysadmin", APP, "absent", "member")]
    assert check["diff"]["before"][APP]["roles"] == ["db_datareader", "db_datawriter", "db_owner"]
    assert check["diff"]["after"][APP]["roles"] == ["db_datareader", "db_datawriter"]
    fixed, state = run_module(PRINCIPALS, _args(), state=drifted)
    assert fixed["changed"]
    assert _inst(state)["databases"]["mcms"]["users"][APP.lower()]["roles"] == ["db_datareader", "db_datawriter"]
    assert _inst(state)["logins"][APP.lower()]["server_roles"] == []


def test_unknown_windows_login_fails_15401_before_any_change(run_module: t.Any, host: dict[str, t.Any]) -> None:
    args = _args()
    args["logins"].append({"name": "CORP\\gmsa_wkr$", "database": "MCMS"})
    before = copy.deepcopy(host)
    result, state = run_module(PRINCIPALS, args, state=host)
    assert result["failed"]
    assert result["msg"] == "Windows NT user or group 'CORP\\gmsa_wkr$' not found. Check the name again."
    assert state == before


def test_missing_database_leaves_the_user_pending(run_module: t.Any, host: dict[str, t.Any]) -> None:
    del _inst(host)["databases"]["mcms"]
    result, state = run_module(PRINCIPALS, _args(), state=host)
    assert result["pending"] == [APP, WRK]
    assert any("database MCMS does not exist yet" in w for w in result["warnings"])
    assert APP.lower() in _inst(state)["logins"], "the login is created all the same"
    inst = _inst(state)
    inst["databases"]["mcms"] = sql.new_database(inst, "MCMS", owner="sa", when=iso(sql._dt.datetime(2026, 3, 3)))
    later, state = run_module(PRINCIPALS, _args(), state=state)
    assert later["changed"]
    assert later["pending"] == []
    assert APP.lower() in _inst(state)["databases"]["mcms"]["users"]


def test_prune_drops_users_then_login(run_module: t.Any, host: dict[str, t.Any]) -> None:
    _, state = run_module(PRINCIPALS, _args(), state=host)
    args = _args(remove=[WRK])
    args["logins"] = args["logins"][:1]
    pruned, state = run_module(PRINCIPALS, args, state=state)
    assert pruned["changed"]
    assert WRK.lower() not in _inst(state)["logins"]
    assert WRK.lower() not in _inst(state)["databases"]["mcms"]["users"]
    assert APP.lower() in _inst(state)["logins"]


def test_no_instance_fails_with_the_connection_error(run_module: t.Any) -> None:
    result, _ = run_module(PRINCIPALS, _args(), state=member())
    assert result["failed"]
    assert result["msg"].startswith("Error connecting to [localhost]: A network-related")


def test_add_db_role_member_drift_is_reported_and_removed(run_module: t.Any, host: dict[str, t.Any]) -> None:
    # `winsim drift HOST add-db-role-member MCMS db_owner <login>`: ALTER ROLE db_owner ADD MEMBER, by hand
    _, state = run_module(PRINCIPALS, _args(), state=host)
    assert "db_owner" in apply_drift(state, "add-db-role-member", database="mcms", role="DB_OWNER", user=APP)
    assert _inst(state)["databases"]["mcms"]["users"][APP.lower()]["roles"] == [
        "db_datareader", "db_datawriter", "db_owner"]
    with pytest.raises(DriftError, match="already a member"):
        apply_drift(copy.deepcopy(state), "add-db-role-member", database="mcms", role="db_owner", user=APP)
    with pytest.raises(DriftError, match=r"Role \[db_boss\] does not exist"):
        apply_drift(copy.deepcopy(state), "add-db-role-member", database="mcms", role="db_boss", user=APP)
    check, _ = run_module(PRINCIPALS, _args(), state=state, check_mode=True)
    assert check["mcms_drift"] == [{"resource_type": "sql_role_member", "resource": "MCMS:db_owner",
                                    "attribute": APP, "wanted": "absent", "found": "member"}]
    fixed, state = run_module(PRINCIPALS, _args(), state=state)
    again, _ = run_module(PRINCIPALS, _args(), state=state)
    assert fixed["changed"]
    assert not again["changed"]


def test_misspelt_role_fails_before_any_login_is_created(run_module: t.Any, host: dict[str, t.Any]) -> None:
    args = _args()
    args["logins"][1]["roles"] = ["db_datareader", "db_datareeder"]
    result, state = run_module(PRINCIPALS, args, state=copy.deepcopy(host))
    assert result["failed"]
    assert result["msg"] == "Role [db_datareeder] does not exist in database [MCMS]."
    assert state == host, "the first login was created before the failure"
