"""Model of the project-owned ``mcms.infra.sql_principals`` (its source:
``collections/ansible_collections/mcms/infra/plugins/modules/sql_principals.ps1``).

Reads and writes the ``sql`` section owned by :mod:`.sql` (``logins`` of an
instance, ``users`` of its databases with their ``roles``); nothing new in
the state.

Fidelity notes (from the module's source, T-SQL through ``SqlClient``):

* Connection: :func:`.sql.connect` (Windows authentication as the instance's
  setup admin); a missing or stopped instance fails with the connection error.
* Before any change, every login to create is looked up with ``SUSER_SID()``
  (here the one resolver, :mod:`winsim.identity`): a name Windows cannot
  translate fails with SQL Server's message 15401, ``Windows NT user or group
  '<name>' not found. Check the name again.``, and nothing changed.
* ``CREATE LOGIN ... FROM WINDOWS``: a group is a ``WindowsGroup`` login,
  anything else ``WindowsUser``; the SID is the account's.
* A login must be enabled and hold no server role (``ALTER SERVER ROLE ...
  DROP MEMBER``); ``public`` is implicit and never listed.
* A database missing (or not ``Normal``) leaves the user pending: a warning,
  ``pending``, no change for it.
* The user is named like the login and mapped to it; a user of that name
  mapped to another login is dropped and re-created (``CREATE USER ... FOR
  LOGIN``). Roles are exact: missing ones added, others dropped.  Every
  listed role is looked up first: an unknown (misspelt) one fails with
  ``Role [<r>] does not exist in database [<db>].`` before any login, user
  or role changes.
* ``remove``: the login's users in every user database, then the login.
* Not atomic (one T-SQL statement after another, no transaction): a
  failure after a change keeps what was done (``partial_on_failure``); the
  look-ups above run first so bad input changes nothing.
"""

from __future__ import annotations

import datetime as _dt
import typing as t

from .. import identity
from ..drift import Arg, DriftError, drift
from ..state import iso
from . import sql
from ._base import ModuleContext, model

UPSTREAM = "mcms.infra 0.1.0"


def _roles(db: dict[str, t.Any], user: dict[str, t.Any] | None) -> list[str]:
    return sorted((user or {}).get("roles", []), key=str.lower)


@model("mcms.infra.sql_principals", upstream=UPSTREAM, partial_on_failure=True)
def sql_principals(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    try:
        conn = sql.connect(ctx)
    except sql.DbaError as exc:
        ctx.fail(str(exc))
    inst = conn.inst
    lab = identity.lab_of(ctx)
    when = iso(ctx.now())

    # 1. SUSER_SID() of every login to create, before any change.
    resolved: dict[str, t.Any] = {}
    for entry in p["logins"]:
        if sql.find_login(inst, entry["name"]) is None:
            found = identity.resolve(ctx.state, entry["name"], lab)
            if found is None:
                ctx.fail(f"Windows NT user or group '{entry['name']}' not found. Check the name again.")
            resolved[entry["name"].lower()] = found

    # ... and every listed role in its database (a misspelt role fails before any login is created).
    for entry in p["logins"]:
        db = sql.find_database(inst, entry["database"])
        if db is None or db.get("status", "Normal") != "Normal":
            continue
        for role in entry["roles"]:
            if not any(r.lower() == role.lower() for r in db["roles"]):
                ctx.fail(f"Role [{role}] does not exist in database [{db['name']}].")

    drift: list[dict[str, t.Any]] = []
    pending: list[str] = []
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    write = not ctx.check_mode

    def record(rtype: str, resource: str, attribute: str, wanted: t.Any, found: t.Any) -> None:
        drift.append({"resource_type": rtype, "resource": resource, "attribute": attribute,
                      "wanted": wanted, "found": found})

    for entry in p["logins"]:
        name = entry["name"]
        wanted_roles = sorted(dict.fromkeys(entry["roles"]), key=str.lower)
        login = sql.find_login(inst, name)
        before[name] = {"login": login is not None, "server_roles": list(login["server_roles"]) if login else [],
                        "database": entry["database"], "roles": []}
        after[name] = {"login": True, "server_roles": [], "database": entry["database"], "roles": wanted_roles}
        if login is None:
            record("sql_login", name, "exists", True, False)
            found = resolved[name.lower()]
            login = {"name": found.name, "type": "WindowsGroup" if found.is_group else "WindowsUser",
                     "sid": found.sid, "password_digest": None, "default_database": "master",
                     "language": "us_english", "disabled": False, "deny_login": False, "is_system": False,
                     "password_policy_enforced": False, "password_expiration_enabled": False,
                     "must_change_password": False, "server_roles": [], "created": when, "modified": when}
            if write:
                inst["logins"][found.name.lower()] = login
        else:
            if login["disabled"]:
                record("sql_login", name, "enabled", True, False)
                if write:
                    login["disabled"] = False
                    login["modified"] = when
            for role in list(login["server_roles"]):
                record("sql_role_member", f"server:{role}", name, "absent", "member")
                if write:
                    login["server_roles"].remove(role)
        db = sql.find_database(inst, entry["database"])
        if db is None or db.get("status", "Normal") != "Normal":
            pending.append(name)
            ctx.warn(f"database {entry['database']} does not exist yet on {p['sql_instance']}: user {name} is "
                     "pending (created by the next run)")
            continue
        user = db["users"].get(name.lower())
        if user is not None and str(user.get("login") or "").lower() != login["name"].lower():
            user = None          # a user of that name mapped to another login: re-created
        held = _roles(db, user)
        before[name]["roles"] = held
        if user is None:
            record("sql_user", f"{db['name']}:{name}", "exists", True, False)
            user = {"name": login["name"], "login": login["name"], "login_type": login["type"],
                    "default_schema": "dbo", "roles": [], "created": when}
            if write:
                db["users"][name.lower()] = user
        held_l = {r.lower() for r in held}
        wanted_l = {r.lower() for r in wanted_roles}
        new_roles = [r for r in held if r.lower() in wanted_l]
        for role in wanted_roles:
            if role.lower() in held_l:
                continue
            real = next(r for r in db["roles"] if r.lower() == role.lower())
            record("sql_role_member", f"{db['name']}:{real}", name, "member", "absent")
            new_roles.append(real)
        for role in held:
            if role.lower() not in wanted_l:
                record("sql_role_member", f"{db['name']}:{role}", name, "absent", "member")
        if write:
            user["roles"] = sorted(new_roles, key=str.lower)

    for name in p["remove"]:
        login = sql.find_login(inst, name)
        if login is None or login["is_system"]:
            continue
        for db in inst["databases"].values():
            if db["is_system"]:
                continue
            user = db["users"].get(name.lower())
            if user is not None:
                record("sql_user", f"{db['name']}:{user['name']}", "exists", False, True)
                if write:
                    del db["users"][name.lower()]
        record("sql_login", login["name"], "exists", False, True)
        if write:
            del inst["logins"][login["name"].lower()]

    ctx.changed(bool(drift))
    ctx.set_diff(before, after)
    return ctx.exit(pending=pending, mcms_drift=drift)


# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("add-db-role-member", section="sql",
       help="Add a database user to a database role (ALTER ROLE <role> ADD MEMBER <user>), e.g. db_owner for an "
            "application login.",
       args=[Arg("database", "database name"), Arg("role", "database role, e.g. db_owner"),
             Arg("user", "database user (the login's name, e.g. CORP\\svc_mcms_app$)"),
             Arg("--instance", "instance name", required=False)])
def add_db_role_member(state: dict[str, t.Any], now: _dt.datetime, *, database: str, role: str, user: str,
                       instance: str | None = None) -> str:
    from .sql_agent import _sql_instance

    inst_name, inst = _sql_instance(state, instance)
    db = sql.find_database(inst, database)
    if db is None:
        raise DriftError(f"no database {database!r} on {inst_name} "
                         f"(existing: {', '.join(sorted(str(d.get('name')) for d in inst['databases'].values()))})")
    real = next((r for r in db["roles"] if r.lower() == role.lower()), None)
    if real is None:
        raise DriftError(f"Role [{role}] does not exist in database [{db['name']}].")
    found = db["users"].get(user.lower())
    if found is None:
        raise DriftError(f"no user {user!r} in database {db['name']} "
                         f"(existing: {', '.join(sorted(str(u.get('name')) for u in db['users'].values()))})")
    if any(r.lower() == real.lower() for r in found.get("roles", [])):
        raise DriftError(f"{found['name']} is already a member of {real} in {db['name']}")
    found["roles"] = sorted([*found.get("roles", []), real], key=str.lower)
    return f"database {db['name']} on {inst_name}: {found['name']} added to {real}"
