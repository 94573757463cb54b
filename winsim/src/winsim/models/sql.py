"""SQL Server through ``lowlydba.sqlserver`` 2.8.1 (dbatools 2.x underneath):
``instance_info``, ``database``, ``login``, ``login_role``, ``user``,
``user_role`` and ``nonquery`` here; Agent jobs, steps, schedules and the
maintenance solution in ``sql_agent.py``; ``backup`` and ``restore`` in
``sql_backup.py``.  This file owns the ``sql`` state section and the
helpers the other two share.

A fresh host has no SQL Server: ``state["sql"] == {"instances": {}}``.
Labs seed one with :func:`ensure_instance` (system databases, ``sa`` and the
setup logins, the SQL Server / Agent / VSS Writer / CEIP services in
``state["services"]``, the default directories in ``state["files"]``).

Schema of ``state["sql"]["instances"][<lower-case instance name>]``::

    {"name": "MSSQLSERVER", "service": "MSSQLSERVER", "agent_service": "SQLSERVERAGENT" | None,
     "version": "16.0.4135.4", "version_major": 16, "version_minor": 0, "build": 4135, "product_level": "RTM",
     "edition": "Developer Edition (64-bit)", "collation": "SQL_Latin1_General_CP1_CI_AS",
     "language": "English (United States)", "is_clustered": false, "login_mode": "Mixed" | "Integrated",
     "port": 1433, "installed_at": ISO,
     "paths": {"root", "data", "log", "backup", "error_log"},
     "setup_admin": "<HOST>\\Administrator",   # the login Windows-authenticated connections run as
     "next_database_id": int, "next_schedule_id": int, "next_backup_set_id": int,
     "databases": {<lower name>: {
         "name", "id", "owner", "recovery_model": "Full" | "Simple" | "BulkLogged",
         "compatibility": "Version160", "status": "Normal" | "Restoring", "is_system", "collation",
         "created", "size_mb", "maxdop", "secondary_maxdop", "rcsi",
         "files": [{"logical_name", "physical_name", "type": "D" | "L"}],
         "schemas": [names], "roles": [database role names],
         "users": {<lower name>: {"name", "login", "login_type": "SqlLogin" | "WindowsUser" | "WindowsGroup" | None,
                                  "default_schema", "roles": [names], "created"}},
         "objects": [{"schema", "name", "type": "P" | "U"}],    # e.g. Ola Hallengren's procedures and tables
         "lsn": int,                       # the database's current log sequence number
         "last_checkpoint_lsn": int,
         "differential_base_lsn": int | null,   # checkpoint LSN of the last non-copy-only full backup
         "log_chain_lsn": int | null,      # where the next log backup starts; null: no log chain (SIMPLE,
                                           # or FULL without a full backup since the switch)
         "recovery_fork_guid"}},
     "logins": {<lower name>: {"name", "type": "SqlLogin" | "WindowsUser" | "WindowsGroup", "sid",
                               "password_digest" (masking.secret_digest, never clear text) | null,
                               "default_database", "language", "disabled", "deny_login", "is_system",
                               "password_policy_enforced", "password_expiration_enabled",
                               "must_change_password", "server_roles": [names], "created", "modified"}},
     "agent": {"jobs": {<lower name>: {"name", "job_id", "enabled", "owner_login", "category", "description",
                                        "start_step_id", "created", "modified",
                                        "steps": [{"id", "name", "subsystem", "command", "database_name",
                                                   "on_success_action", "on_success_step", "on_fail_action",
                                                   "on_fail_step", "retry_attempts", "retry_interval",
                                                   "output_file_name"}]}},
               "schedules": [{"id", "uid", "name", "enabled", "jobs": [job names],
                              "freq_type", "freq_interval", "freq_subday_type", "freq_subday_interval",
                              "freq_relative_interval", "freq_recurrence_factor",      # msdb.sysschedules codes
                              "active_start_date": "YYYY-MM-DD", "active_end_date", "active_start_time": "HH:MM:SS",
                              "active_end_time", "created"}],
               "categories": [names]},
     "backup_history": [{"backup_set_id", "backup_set_guid", "database", "type": "Full" | "Differential" | "Log",
                          "start", "end", "first_lsn", "last_lsn", "checkpoint_lsn", "database_backup_lsn",
                          "has_checksum", "is_copy_only", "is_compressed", "size_bytes", "paths": [files],
                          "position", "recovery_model", "user", "recovery_fork_guid", "verified"}],
     "maintenance_solution": null | {"database", "installed_at", "solution", "log_to_table", "install_jobs",
                                     "install_parallel", "backup_location", "cleanup_time", "output_file_dir",
                                     "source", "local_file"}}

Schedules are shared objects as in ``msdb.dbo.sysschedules``: a job's
schedules are the entries whose ``jobs`` name it.  LSNs are plain integers
with SQL Server's decimal LSN magnitude.

Every connection option (``sql_instance``, ``sql_username``,
``sql_password``) is resolved by :func:`connect`: an instance that is not
installed on this host, or a SQL login that cannot log in, fails with the
error text dbatools' ``Connect-DbaInstance`` reports.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import re
import typing as t
import uuid

from .. import identity, masking
from ..state import iso, make_dirs, section
from . import accounts, services
from ._base import ModuleContext, SimulatorError, model

UPSTREAM = "lowlydba.sqlserver 2.8.1"

# Builds the lab installs by default (the latest CU each major version had when winsim was written).
VERSIONS: dict[str, tuple[str, str]] = {
    "2016": ("13.0.7050.2", "SP3"),
    "2017": ("14.0.3480.1", "RTM"),
    "2019": ("15.0.4415.2", "RTM"),
    "2022": ("16.0.4175.1", "RTM"),
}
EDITIONS = {
    "developer": "Developer Edition (64-bit)",
    "enterprise": "Enterprise Edition: Core-based Licensing (64-bit)",
    "standard": "Standard Edition (64-bit)",
    "express": "Express Edition (64-bit)",
}
FIXED_SERVER_ROLES = ["bulkadmin", "dbcreator", "diskadmin", "processadmin", "public", "securityadmin",
                      "serveradmin", "setupadmin", "sysadmin"]
FIXED_DB_ROLES = ["db_accessadmin", "db_backupoperator", "db_datareader", "db_datawriter", "db_ddladmin",
                  "db_denydatareader", "db_denydatawriter", "db_owner", "db_securityadmin", "public"]
# SQL Server 2022 (16.x) adds ten fixed server-level roles (sys.server_principals, is_fixed_role = 1)
FIXED_SERVER_ROLES_2022 = ["##MS_DatabaseConnector##", "##MS_DatabaseManager##", "##MS_DefinitionReader##",
                           "##MS_LoginManager##", "##MS_PerformanceDefinitionReader##",
                           "##MS_SecurityDefinitionReader##", "##MS_ServerPerformanceStateReader##",
                           "##MS_ServerSecurityStateReader##", "##MS_ServerStateManager##", "##MS_ServerStateReader##"]
SYSTEM_SCHEMAS = ["dbo", "guest", "INFORMATION_SCHEMA", "sys"] + [r for r in FIXED_DB_ROLES if r != "public"]
SYSTEM_DATABASES = ["master", "tempdb", "model", "msdb"]
NEVER = "0001-01-01T00:00:00.0000000"
_LSN_START = 37_000_000_001_600_001
_LSN_ACTIVITY = 1_000_000_000
_LSN_BACKUP = 200_000


def sql_model(fqcn: str, *, partial_on_failure: bool = False
              ) -> t.Callable[[t.Callable[[ModuleContext], dict[str, t.Any]]],
                                         t.Callable[[ModuleContext], dict[str, t.Any]]]:
    """Register a lowlydba.sqlserver model.  Applies the part of
    ``Get-LowlyDbaSqlServerAuthSpec`` that the documented options cannot
    carry (``required_together`` of ``sql_username``/``sql_password``), the
    way ``Ansible.Basic`` does before the module body runs."""

    def deco(func: t.Callable[[ModuleContext], dict[str, t.Any]]) -> t.Callable[[ModuleContext], dict[str, t.Any]]:
        def wrapper(ctx: ModuleContext) -> dict[str, t.Any]:
            given = [k for k in ("sql_username", "sql_password") if ctx.params.get(k) is not None]
            if len(given) == 1:
                ctx.fail("parameters are required together: sql_username, sql_password")
            return func(ctx)

        wrapper.__doc__ = func.__doc__
        wrapper.__name__ = func.__name__
        model(fqcn, upstream=UPSTREAM, partial_on_failure=partial_on_failure)(wrapper)
        return wrapper

    return deco


class DbaError(Exception):
    """A terminating error of a dbatools command (``-EnableException``);
    ``str()`` is the exception message the module sees."""


@section("sql")
def _fresh_sql() -> dict[str, t.Any]:
    return {"instances": {}}


# -- time and value helpers ---------------------------------------------------

def dotnet_iso(value: str | _dt.datetime | None) -> str:
    """A ``[datetime]`` as ``ToString('o')`` renders it (what
    ``ConvertTo-SerializableObject`` returns): local time, 7 fractional digits."""
    if value is None:
        return NEVER
    when = value if isinstance(value, _dt.datetime) else _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when.astimezone(_dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def timespan(seconds: float) -> dict[str, t.Any]:
    """A ``[TimeSpan]`` as ``ConvertTo-Json`` (Ansible.Basic) renders it."""
    ticks = round(seconds * 10_000_000)
    total = ticks / 10_000_000
    whole = int(total)
    return {
        "Ticks": ticks, "Days": whole // 86400, "Hours": whole % 86400 // 3600, "Minutes": whole % 3600 // 60,
        "Seconds": whole % 60, "Milliseconds": round((total - whole) * 1000),
        "TotalDays": total / 86400, "TotalHours": total / 3600, "TotalMinutes": total / 60,
        "TotalSeconds": total, "TotalMilliseconds": total * 1000,
    }


def time_of_day(hms: str) -> dict[str, t.Any]:
    h, m, s = (int(x) for x in hms.split(":"))
    return timespan(h * 3600 + m * 60 + s)


def dbasize(size_bytes: int) -> dict[str, t.Any]:
    """dbatools' ``[DbaSize]`` as it serialises."""
    return {"Byte": size_bytes, "Kilobyte": size_bytes / 1024, "Megabyte": size_bytes / 1024 ** 2,
            "Gigabyte": size_bytes / 1024 ** 3, "Terabyte": size_bytes / 1024 ** 4, "Digits": 2, "Style": "Dynamic"}


def new_guid(*parts: t.Any) -> str:
    """A deterministic GUID from ``parts`` (reproducible states)."""
    return str(uuid.UUID(hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:32]))


# -- instances ------------------------------------------------------------------

def _service_names(name: str) -> tuple[str, str, str]:
    if name.upper() == "MSSQLSERVER":
        return "MSSQLSERVER", "SQLSERVERAGENT", "SQLTELEMETRY"
    return f"MSSQL${name}", f"SQLAgent${name}", f"SQLTELEMETRY${name}"


def ensure_instance(state: dict[str, t.Any], name: str = "MSSQLSERVER", version: str = "2022",
                    edition: str = "developer", *, login_mode: str = "Mixed", collation: str =
                    "SQL_Latin1_General_CP1_CI_AS", sa_password: str | None = None, port: int | None = None
                    ) -> dict[str, t.Any]:
    """Install a SQL Server instance on the host (lab seeding; what setup.exe
    leaves behind).  Idempotent: an existing instance is returned unchanged."""
    instances = state.setdefault("sql", _fresh_sql())["instances"]
    existing = instances.get(name.lower())
    if existing is not None:
        return existing
    if version not in VERSIONS:
        raise SimulatorError(f"winsim: unknown SQL Server version {version!r} (known: {', '.join(VERSIONS)})")
    if edition.lower() not in EDITIONS:
        raise SimulatorError(f"winsim: unknown SQL Server edition {edition!r} (known: {', '.join(EDITIONS)})")
    build, level = VERSIONS[version]
    major, minor, build_no = (int(x) for x in build.split(".")[:3])
    express = edition.lower() == "express"
    when = state.get("clock", {}).get("now") or state["host"]["installed_at"]
    host = state["host"]["hostname"]
    engine, agent, ceip = _service_names(name)
    root = f"C:\\Program Files\\Microsoft SQL Server\\MSSQL{major}.{name.upper()}\\MSSQL"
    paths = {"root": root, "data": root + "\\DATA", "log": root + "\\DATA", "backup": root + "\\Backup",
             "error_log": root + "\\Log"}
    for d in (paths["data"], paths["backup"], paths["error_log"], root + "\\Binn"):
        make_dirs(state, d, when)
    inst: dict[str, t.Any] = {
        "name": name.upper() if name.upper() == "MSSQLSERVER" else name, "service": engine,
        "agent_service": None if express else agent, "version": build, "version_major": major,
        "version_minor": minor, "build": build_no, "product_level": level, "edition": EDITIONS[edition.lower()],
        "collation": collation, "language": "English (United States)", "is_clustered": False,
        "login_mode": login_mode, "port": port or (1433 if name.upper() == "MSSQLSERVER" else 0),
        "installed_at": when, "paths": paths, "setup_admin": f"{host}\\Administrator",
        "next_database_id": 5, "next_schedule_id": 9, "next_backup_set_id": 1,
        "databases": {}, "logins": {}, "agent": {"jobs": {}, "schedules": [], "categories": [
            "[Uncategorized (Local)]", "[Uncategorized (Multi-Server)]", "[Uncategorized]", "Data Collector",
            "Database Engine Tuning Advisor", "Database Maintenance", "Full-Text", "Jobs from MSX",
            "Log Shipping", "REPL-Alert Response", "REPL-Checkup", "REPL-Distribution",
            "REPL-Distribution Cleanup", "REPL-History Cleanup", "REPL-LogReader", "REPL-Merge",
            "REPL-QueueReader", "REPL-Snapshot", "REPL-Subscription Cleanup"]},
        "backup_history": [], "maintenance_solution": None,
    }
    compat = f"Version{major}0"
    for i, db in enumerate(SYSTEM_DATABASES, start=1):
        rec = new_database(inst, db, owner="sa", when=when, recovery_model="Simple" if db in ("master", "tempdb")
                           else ("Full" if db == "model" and not express else "Simple"), compatibility=compat)
        rec["id"] = i
        rec["is_system"] = True
        rec["files"] = [{"logical_name": "master" if db == "master" else ("tempdev" if db == "tempdb" else
                         ("modeldev" if db == "model" else "MSDBData")), "type": "D",
                         "physical_name": paths["data"] + "\\" + {"master": "master.mdf", "tempdb": "tempdb.mdf",
                                                                  "model": "model.mdf", "msdb": "MSDBData.mdf"}[db]},
                        {"logical_name": {"master": "mastlog", "tempdb": "templog", "model": "modellog",
                                          "msdb": "MSDBLog"}[db], "type": "L",
                         "physical_name": paths["log"] + "\\" + {"master": "mastlog.ldf", "tempdb": "templog.ldf",
                                                                 "model": "modellog.ldf", "msdb": "MSDBLog.ldf"}[db]}]
        inst["databases"][db] = rec

    def login(lname: str, ltype: str, *, system: bool = False, disabled: bool = False, roles: list[str] | None = None,
              password: str | None = None) -> None:
        inst["logins"][lname.lower()] = {
            "name": lname, "type": ltype, "sid": _login_sid(state, lname, ltype),
            "password_digest": masking.secret_digest(password) if password else None,
            "default_database": "master", "language": "us_english", "disabled": disabled, "deny_login": False,
            "is_system": system, "password_policy_enforced": ltype == "SqlLogin",
            "password_expiration_enabled": False, "must_change_password": False,
            "server_roles": sorted(roles or []), "created": when, "modified": when}

    login("sa", "SqlLogin", system=True, disabled=login_mode != "Mixed" or not sa_password, roles=["sysadmin"],
          password=sa_password)
    login("##MS_PolicyEventProcessingLogin##", "SqlLogin", system=True, disabled=True)
    login("##MS_PolicyTsqlExecutionLogin##", "SqlLogin", system=True, disabled=True)
    login("NT AUTHORITY\\SYSTEM", "WindowsUser")
    login(f"NT SERVICE\\{engine}", "WindowsUser", roles=["sysadmin"])
    if not express:
        login(f"NT SERVICE\\{agent}", "WindowsUser", roles=["sysadmin"])
    login("NT SERVICE\\SQLWriter", "WindowsUser", roles=["sysadmin"])
    login("NT SERVICE\\Winmgmt", "WindowsUser", roles=["sysadmin"])
    login(inst["setup_admin"], "WindowsUser", roles=["sysadmin"])

    binn = root + "\\Binn"
    services.install_service(state, services.new_service(
        engine, f"SQL Server ({name.upper() if engine == 'MSSQLSERVER' else name})",
        f"\"{binn}\\sqlservr.exe\" -s{name.upper() if engine == 'MSSQLSERVER' else name}",
        start_mode="auto", state="started", username=f"NT Service\\{engine}",
        description="Provides storage, processing and controlled access of data, and rapid transaction processing.",
        can_pause_and_continue=True, sid_info="unrestricted"))
    if not express:
        services.install_service(state, services.new_service(
            agent, f"SQL Server Agent ({name.upper() if engine == 'MSSQLSERVER' else name})",
            f"\"{binn}\\SQLAGENT.EXE\" -i {name.upper() if engine == 'MSSQLSERVER' else name}",
            start_mode="auto", state="started", username=f"NT Service\\{agent}", dependencies=[engine],
            description="Executes jobs, monitors SQL Server, fires alerts, and allows automation of some "
                        "administrative tasks.", sid_info="unrestricted"))
    services.install_service(state, services.new_service(
        ceip, f"SQL Server CEIP service ({name.upper() if engine == 'MSSQLSERVER' else name})",
        f"\"{binn}\\sqlceip.exe\" -Service {name.upper() if engine == 'MSSQLSERVER' else name}",
        start_mode="auto", state="started", username=f"NT Service\\{ceip}",
        description="CEIP service for Sql server", sid_info="unrestricted"))
    if services.get_service(state, "SQLWriter") is None:
        services.install_service(state, services.new_service(
            "SQLWriter", "SQL Server VSS Writer",
            "\"C:\\Program Files\\Microsoft SQL Server\\90\\Shared\\sqlwriter.exe\"", start_mode="auto",
            state="started", username=services.SYSTEM,
            description="Provides the interface to backup/restore Microsoft SQL server through the Windows VSS "
                        "infrastructure."))
    if engine != "MSSQLSERVER" and services.get_service(state, "SQLBrowser") is None:
        services.install_service(state, services.new_service(
            "SQLBrowser", "SQL Server Browser",
            "\"C:\\Program Files (x86)\\Microsoft SQL Server\\90\\Shared\\sqlbrowser.exe\"", start_mode="auto",
            state="started", username=services.LOCAL_SERVICE,
            description="Provides SQL Server connection information to client computers."))
    instances[name.lower()] = inst
    return inst


def _login_sid(state: dict[str, t.Any], name: str, ltype: str) -> str:
    if ltype != "SqlLogin":
        res = accounts.resolve_account(state, name)
        if res is not None:
            return res[0]
    if name.lower() == "sa":
        return "0x01"
    return "0x" + hashlib.sha1(name.lower().encode()).hexdigest()[:32].upper()


def new_database(inst: dict[str, t.Any], name: str, *, owner: str, when: str, recovery_model: str | None = None,
                 compatibility: str | None = None, data_dir: str | None = None, log_dir: str | None = None
                 ) -> dict[str, t.Any]:
    """A database record as ``CREATE DATABASE`` leaves it (model's settings)."""
    model_db = inst["databases"].get("model")
    rec = {
        "name": name, "id": inst["next_database_id"], "owner": owner,
        "recovery_model": recovery_model or (model_db["recovery_model"] if model_db else "Full"),
        "compatibility": compatibility or (model_db["compatibility"] if model_db
                                           else f"Version{inst['version_major']}0"),
        "status": "Normal", "is_system": False, "collation": inst["collation"], "created": when, "size_mb": 16.0,
        "maxdop": 0, "secondary_maxdop": 0, "rcsi": False,
        "files": [{"logical_name": name, "type": "D",
                   "physical_name": (data_dir or inst["paths"]["data"]).rstrip("\\") + f"\\{name}.mdf"},
                  {"logical_name": f"{name}_log", "type": "L",
                   "physical_name": (log_dir or inst["paths"]["log"]).rstrip("\\") + f"\\{name}_log.ldf"}],
        "schemas": list(SYSTEM_SCHEMAS), "roles": list(FIXED_DB_ROLES),
        "users": {"dbo": {"name": "dbo", "login": owner, "login_type": None, "default_schema": "dbo",
                          "roles": ["db_owner"], "created": when}},
        "objects": [], "lsn": _LSN_START, "last_checkpoint_lsn": _LSN_START, "differential_base_lsn": None,
        "log_chain_lsn": None, "recovery_fork_guid": new_guid(inst["name"], name, when, "fork"),
    }
    return rec


def fixed_server_roles(inst: dict[str, t.Any]) -> list[str]:
    """The instance's fixed server roles (2022 adds the ``##MS_...##`` ones)."""
    extra = FIXED_SERVER_ROLES_2022 if inst.get("version_major", 0) >= 16 else []
    return FIXED_SERVER_ROLES + extra


def find_database(inst: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    return inst["databases"].get(name.lower())


def find_login(inst: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    return inst["logins"].get(name.lower())


class Connection(t.NamedTuple):
    inst: dict[str, t.Any]
    server: str          # what was asked for (SMO ``Server.Name``)
    computer: str        # ComputerName
    sql_instance: str    # DomainInstanceName ("HOST" or "HOST\\NAME")
    login: str           # the login the session runs as


def _local_names(ctx: ModuleContext) -> set[str]:
    host = ctx.state["host"]
    names = {"localhost", ".", "(local)", "127.0.0.1", "::1", "(localdb)", host["hostname"].lower(),
             ctx.hostname.lower()}
    names.update(str(ip).lower() for ip in host.get("ip_addresses") or [])
    dom = host.get("domain")
    if dom:
        names.add(f"{host['hostname']}.{dom}".lower())
    return names


def connect(ctx: ModuleContext) -> Connection:
    """``Connect-DbaInstance -SqlInstance $sql_instance -SqlCredential ...``:
    the instance the connection string names on this host, or the error."""
    target = str(ctx.params["sql_instance"])
    raw = target
    for prefix in ("tcp:", "np:", "lpc:"):
        if raw.lower().startswith(prefix):
            raw = raw[len(prefix):]
    port = None
    if "," in raw:
        raw, port_s = raw.split(",", 1)
        port = int(port_s) if port_s.strip().isdigit() else -1
    host_part, _, inst_part = raw.partition("\\")
    inst_name = inst_part or "MSSQLSERVER"
    local = host_part.lower() in _local_names(ctx) or host_part.split(".")[0].lower() in _local_names(ctx)
    instances = ctx.state.get("sql", {}).get("instances", {})
    inst = instances.get(inst_name.lower()) if local else None
    if inst is not None and port is not None and inst_part == "" and port != inst["port"]:
        # host,port names whichever instance listens there
        inst = next((i for i in instances.values() if i["port"] == port), None)
    if inst is None:
        error = ("26 - Error Locating Server/Instance Specified" if inst_part else
                 "40 - Could not open a connection to SQL Server")
        raise DbaError(f"Error connecting to [{target}]: A network-related or instance-specific error occurred "
                       "while establishing a connection to SQL Server. The server was not found or was not "
                       "accessible. Verify that the instance name is correct and that SQL Server is configured to "
                       f"allow remote connections. (provider: Named Pipes Provider, error: {error})")
    svc = services.get_service(ctx.state, inst["service"])
    if svc is not None and svc["state"] != "started":
        raise DbaError(f"Error connecting to [{target}]: A network-related or instance-specific error occurred "
                       "while establishing a connection to SQL Server. The server was not found or was not "
                       "accessible. Verify that the instance name is correct and that SQL Server is configured to "
                       "allow remote connections. (provider: Named Pipes Provider, error: 40 - Could not open a "
                       "connection to SQL Server)")
    user = ctx.params.get("sql_username")
    login_name = inst["setup_admin"]
    if user:
        lg = find_login(inst, user)
        ok = (lg is not None and lg["type"] == "SqlLogin" and inst["login_mode"] == "Mixed" and not lg["disabled"]
              and lg["password_digest"] and masking.secret_matches(str(ctx.params.get("sql_password") or ""),
                                                                   lg["password_digest"]))
        if not ok:
            raise DbaError(f"Error connecting to [{target}]: Login failed for user '{user}'.")
        login_name = lg["name"]
    host = ctx.state["host"]["hostname"]
    display = host if inst["name"].upper() == "MSSQLSERVER" else f"{host}\\{inst['name']}"
    return Connection(inst, target, host, display, login_name)


def is_sysadmin(conn: Connection) -> bool:
    lg = find_login(conn.inst, conn.login)
    return lg is not None and "sysadmin" in lg["server_roles"]


def base_props(conn: Connection) -> dict[str, t.Any]:
    return {"ComputerName": conn.computer, "InstanceName": conn.inst["name"], "SqlInstance": conn.sql_instance}


def unhandled(ctx: ModuleContext, exc: Exception) -> t.NoReturn:
    """An exception the module does not catch: Ansible.Basic's wrapper text."""
    ctx.fail(f"Unhandled exception while executing module: {exc}")


# -- backup history views (msdb) --------------------------------------------------

def last_backup(inst: dict[str, t.Any], database: str, kind: str) -> dict[str, t.Any] | None:
    rows = [r for r in inst["backup_history"] if r["database"].lower() == database.lower() and r["type"] == kind]
    return max(rows, key=lambda r: (r["end"], r["backup_set_id"])) if rows else None


def database_view(conn: Connection, db: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Get-DbaDatabase``'s default view."""
    inst = conn.inst
    full, diff, log = (last_backup(inst, db["name"], k) for k in ("Full", "Differential", "Log"))
    reuse = "Nothing"
    if db["recovery_model"] != "Simple" and db["log_chain_lsn"] is not None:
        reuse = "LogBackup"
    out = base_props(conn)
    out.update({
        "Name": db["name"], "Status": db["status"], "IsAccessible": db["status"] == "Normal",
        "RecoveryModel": db["recovery_model"], "LogReuseWaitStatus": reuse, "SizeMB": db["size_mb"],
        "Compatibility": db["compatibility"], "Collation": db["collation"], "Owner": db["owner"], "Encrypted": False,
        "LastFullBackup": dotnet_iso(full["end"]) if full else NEVER,
        "LastDiffBackup": dotnet_iso(diff["end"]) if diff else NEVER,
        "LastLogBackup": dotnet_iso(log["end"]) if log else NEVER,
    })
    return out


# -- instance_info -------------------------------------------------------------------

@sql_model("lowlydba.sqlserver.instance_info")
def instance_info(ctx: ModuleContext) -> dict[str, t.Any]:
    try:
        conn = connect(ctx)
    except DbaError as exc:
        ctx.fail(f"Error fetching instance information: {exc}")
    inst = conn.inst
    data = {"ComputerName": conn.computer, "SqlInstance": conn.sql_instance, "InstanceName": inst["name"],
            "BuildNumber": inst["build"], "Language": inst["language"], "VersionMajor": inst["version_major"],
            "VersionMinor": inst["version_minor"], "VersionString": inst["version"], "Collation": inst["collation"],
            "ProductLevel": inst["product_level"], "IsClustered": inst["is_clustered"],
            "LoginMode": inst["login_mode"]}
    return ctx.exit(changed=False, data=data)


# -- database ------------------------------------------------------------------------

_COMPAT = re.compile(r"^Version(\d+)0$")


@sql_model("lowlydba.sqlserver.database")
def database(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    name = p["database"]
    try:
        conn = connect(ctx)
    except DbaError:
        ctx.fail("Error checking database status.")
    inst = conn.inst
    existing = find_database(inst, name)
    if existing is not None and (existing["is_system"] or (p["only_accessible"] and existing["status"] != "Normal")):
        existing = None          # Get-DbaDatabase -ExcludeSystem -OnlyAccessible
    when = iso(ctx.now())
    changed = False

    if p["state"] == "absent":
        if existing is not None:
            if ctx.check_mode:
                # Remove-DbaDatabase -WhatIf returns nothing: the module reads that as a failed drop.
                ctx.fail(f"Database [{name}] was not dropped. ")
            del inst["databases"][existing["name"].lower()]
            return ctx.exit(changed=True)
        return ctx.exit(changed=False)

    db = existing
    if db is None:
        if find_database(inst, name) is not None:
            ctx.fail(f"Creating database [{name}] failed.",
                     exception=f"Database {name} already exists on {conn.sql_instance}")
        owner = p.get("owner")
        if owner is not None and find_login(inst, owner) is None:
            ctx.fail(f"Creating database [{name}] failed.",
                     exception=f"Invalid login: {owner} does not exist on {conn.sql_instance}")
        changed = True
        if ctx.check_mode:
            db = None
        else:
            db = new_database(inst, name, owner=owner or conn.login, when=when, data_dir=p.get("data_file_path"),
                              log_dir=p.get("log_file_path"))
            inst["next_database_id"] += 1
            inst["databases"][name.lower()] = db
    elif p.get("owner") is not None and db["owner"].lower() != p["owner"].lower():
        # database.ps1: ``$existingDatabase.Owner -ne $owner`` (PowerShell's -ne ignores case)
        if find_login(inst, p["owner"]) is None:
            ctx.fail(f"Setting database owner for [{name}] failed.",
                     exception=f"Invalid login: {p['owner']} does not exist on {conn.sql_instance}")
        if not ctx.check_mode:
            db["owner"] = find_login(inst, p["owner"])["name"]
        changed = True

    # In check mode a database that would be created does not exist: the
    # module compares against nothing and reports the remaining settings as changes.
    work = db if db is not None else {"recovery_model": None, "compatibility": None, "rcsi": None, "maxdop": None,
                                      "secondary_maxdop": None}
    if p.get("recovery_model") is not None and p["recovery_model"].lower() != str(work["recovery_model"]).lower():
        if not ctx.check_mode:
            if p["recovery_model"] == "Simple":
                work["log_chain_lsn"] = None
            work["recovery_model"] = p["recovery_model"]
        changed = True
    compat = p.get("compatibility")
    if compat is not None and compat != work["compatibility"]:
        m = _COMPAT.match(compat)
        if m is None or not 10 <= int(m.group(1)) <= inst["version_major"]:
            ctx.fail(f"Setting Compatibility for [{name}] failed.",
                     exception=f"Cannot convert value \"{compat}\" to type "
                               "\"Microsoft.SqlServer.Management.Smo.CompatibilityLevel\".")
        if not ctx.check_mode:
            work["compatibility"] = compat
        changed = True
    for opt, field in (("rcsi", "rcsi"), ("maxdop", "maxdop"), ("secondary_maxdop", "secondary_maxdop")):
        if p.get(opt) is not None and p[opt] != work[field]:
            if not ctx.check_mode:
                work[field] = p[opt]
            changed = True

    ctx.changed(changed)
    if db is not None:
        data = database_view(conn, db)
        data.update({"SecondaryMaxDop": db["secondary_maxdop"], "MaxDop": db["maxdop"], "RCSI": db["rcsi"]})
        ctx.exit(data=data)
    return ctx.result


# -- login ---------------------------------------------------------------------------

def _login_view(conn: Connection, lg: dict[str, t.Any]) -> dict[str, t.Any]:
    out = base_props(conn)
    out.update({"Name": lg["name"], "LoginType": lg["type"], "CreateDate": dotnet_iso(lg["created"]),
                "LastLogin": None, "HasAccess": not lg["deny_login"], "IsLocked": False, "IsDisabled": lg["disabled"],
                "MustChangePassword": lg["must_change_password"], "DefaultDatabase": lg["default_database"],
                "Language": lg["language"]})
    return out


@sql_model("lowlydba.sqlserver.login")
def login(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    name = p["login"]
    splat_text = ""
    try:
        conn = connect(ctx)
        inst = conn.inst
        existing = find_login(inst, name)
        if existing is not None and existing["is_system"]:
            existing = None          # Get-DbaLogin -ExcludeSystemLogin
        when = iso(ctx.now())
        splat_text = "System.Collections.Hashtable"
        if p["state"] == "absent":
            if existing is None:
                return ctx.exit(changed=False)
            if not ctx.check_mode:
                del inst["logins"][existing["name"].lower()]
                for db in inst["databases"].values():
                    if db["owner"].lower() == existing["name"].lower():
                        pass          # Remove-DbaLogin -Force leaves owned databases alone (SQL keeps the SID)
                for job in inst["agent"]["jobs"].values():
                    if job["owner_login"].lower() == existing["name"].lower():
                        job["owner_login"] = "sa"   # -Force reassigns jobs owned by the login to sa
                data = base_props(conn)
                data.update({"Login": existing["name"], "Status": "Dropped"})
                return ctx.exit(changed=True, data=data)
            return ctx.exit(changed=True)

        changed = False
        for opt, field in (("password_expiration_enabled", "password_expiration_enabled"),
                           ("password_policy_enforced", "password_policy_enforced")):
            if p.get(opt) is not None and (existing is None or existing[field] != p[opt]):
                changed = True
        if p.get("password_must_change") is True and (existing is None or not existing["must_change_password"]):
            changed = True
        if p.get("default_database") is not None and find_database(inst, p["default_database"]) is None:
            raise DbaError(f"Database {p['default_database']} does not exist on {conn.sql_instance}")

        if existing is not None:
            reset = p.get("password") is not None and not p["skip_password_reset"]
            if reset:
                changed = True
            disabled = p["enabled"] is False
            if not (changed or disabled != existing["disabled"] or reset):
                return ctx.exit(changed=False)
            if existing["type"] != "SqlLogin" and reset:
                raise DbaError(f"Cannot change password of a Windows login {name} on {conn.sql_instance}")
            work = existing if not ctx.check_mode else copy.deepcopy(existing)
            notes = []
            if reset:
                work["password_digest"] = masking.secret_digest(p["password"])
                notes.append("Password changed")
            work["disabled"] = disabled
            if p.get("default_database") is not None:
                work["default_database"] = find_database(inst, p["default_database"])["name"]
            if p.get("password_expiration_enabled") is True:
                work["password_expiration_enabled"] = True
            if p.get("password_policy_enforced") is True:
                work["password_policy_enforced"] = True
            if p.get("password_must_change") is True:
                work["must_change_password"] = True
            work["modified"] = when
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            data = base_props(conn)
            data.update({"LoginName": work["name"], "DenyLogin": work["deny_login"], "IsDisabled": work["disabled"],
                         "IsLocked": False, "PasswordPolicyEnforced": work["password_policy_enforced"],
                         "PasswordExpirationEnabled": work["password_expiration_enabled"],
                         "MustChangePassword": work["must_change_password"], "PasswordChanged": reset,
                         "ServerRole": ",".join(work["server_roles"]), "Notes": notes or None,
                         "DefaultDatabase": work["default_database"], "Language": work["language"]})
            return ctx.exit(data=data)

        # New-DbaLogin
        if find_login(inst, name) is not None:
            raise DbaError(f"Login {name} already exists on {conn.sql_instance} and -Force was not specified")
        win_sid = None
        if "\\" in name:
            # One resolver (identity.py): domain names through the lab's DC; a group is a WindowsGroup login.
            found = identity.resolve(ctx.state, name, identity.lab_of(ctx))
            if found is None:
                raise DbaError(f"Windows NT user or group '{name}' not found. Check the name again.")
            ltype = "WindowsGroup" if found.is_group else "WindowsUser"
            canonical, win_sid = found.name, found.sid
        else:
            if p.get("password") is None:
                raise DbaError("Password must be specified when creating a SQL login")
            ltype, canonical = "SqlLogin", name
        if p.get("default_database") is not None and find_database(inst, p["default_database"]) is None:
            raise DbaError(f"Database {p['default_database']} does not exist on {conn.sql_instance}")
        record = {
            "name": canonical, "type": ltype,
            "sid": p.get("sid") or win_sid or _login_sid(ctx.state, canonical, ltype),
            "password_digest": masking.secret_digest(p["password"]) if ltype == "SqlLogin" else None,
            "default_database": (find_database(inst, p["default_database"])["name"]
                                 if p.get("default_database") else "master"),
            "language": p.get("language") or "us_english", "disabled": p["enabled"] is False, "deny_login": False,
            "is_system": False, "password_policy_enforced": bool(p.get("password_policy_enforced")),
            "password_expiration_enabled": bool(p.get("password_expiration_enabled")),
            "must_change_password": bool(p.get("password_must_change")), "server_roles": [], "created": when,
            "modified": when}
        ctx.changed(True)
        if ctx.check_mode:
            return ctx.result
        inst["logins"][canonical.lower()] = record
        return ctx.exit(data=_login_view(conn, record))
    except DbaError as exc:
        ctx.fail(f"Configuring login failed: {exc} ; {splat_text}")


# -- login_role ----------------------------------------------------------------------

@sql_model("lowlydba.sqlserver.login_role")
def login_role(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    try:
        conn = connect(ctx)
    except DbaError as exc:
        unhandled(ctx, exc)
    lg = find_login(conn.inst, p["login"])
    if lg is None:
        ctx.fail(f"Login [{p['login']}] does not exist.")
    role = next((r for r in fixed_server_roles(conn.inst) if r.lower() == p["server_role"].lower()), None)
    if role is None:
        ctx.fail(f"Server role [{p['server_role']}] does not exist.")
    member = role == "public" or role in lg["server_roles"]
    if p["state"] == "absent":
        if member:
            if role == "public":
                ctx.fail(f"Removing login [{p['login']}] from server role [{p['server_role']}] failed: "
                         "Cannot use the special principal 'public'.")
            if not ctx.check_mode:
                lg["server_roles"].remove(role)
            ctx.changed(True)
    elif not member:
        if not ctx.check_mode:
            lg["server_roles"] = sorted(lg["server_roles"] + [role])
        ctx.changed(True)
    return ctx.result


# -- user ----------------------------------------------------------------------------

def _user_view(conn: Connection, db: dict[str, t.Any], user: dict[str, t.Any]) -> dict[str, t.Any]:
    out = base_props(conn)
    ltype = user.get("login_type")
    out.update({"Database": db["name"], "CreateDate": dotnet_iso(user["created"]),
                "DateLastModified": dotnet_iso(user.get("modified") or user["created"]), "Name": user["name"],
                "Login": user["login"], "LoginType": ltype or "SqlLogin",
                "AuthenticationType": "Windows" if ltype in ("WindowsUser", "WindowsGroup") else "Instance",
                "State": "Existing", "HasDbAccess": True, "DefaultSchema": user["default_schema"]})
    return out


@sql_model("lowlydba.sqlserver.user")
def user(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    try:
        conn = connect(ctx)
    except DbaError as exc:
        unhandled(ctx, exc)
    inst = conn.inst
    db = find_database(inst, p["database"])
    existing = None
    if db is not None:
        u = db["users"].get(p["username"].lower())
        if u is not None and str(u["login"]).lower() == p["login"].lower():
            existing = u
    when = iso(ctx.now())
    if p["state"] == "absent":
        if existing is not None:
            ctx.changed(True)
            if not ctx.check_mode:
                del db["users"][existing["name"].lower()]
                data = base_props(conn)
                data.update({"Database": db["name"], "User": existing["name"], "Status": "Dropped"})
                ctx.exit(data=data)
        return ctx.result
    if existing is not None:
        if p["default_schema"] != existing["default_schema"]:
            if p["default_schema"] not in db["schemas"]:
                ctx.fail(f"Schema '{p['default_schema']}' not found in [{p['database']}].")
            ctx.changed(True)
            if not ctx.check_mode:
                existing["default_schema"] = p["default_schema"]
                existing["modified"] = when
                ctx.exit(data=_user_view(conn, db, existing))
        return ctx.result
    # New-DbaDbUser -Force
    if db is None:
        ctx.fail(f"Creating user failed: Database {p['database']} does not exist on {conn.sql_instance}")
    lg = find_login(inst, p["login"])
    if lg is None:
        ctx.fail(f"Creating user failed: Invalid Login: {p['login']} is not found on {conn.sql_instance}")
    if p["default_schema"] not in db["schemas"]:
        ctx.fail(f"Creating user failed: Schema {p['default_schema']} does not exist in database {db['name']}")
    ctx.changed(True)
    if ctx.check_mode:
        return ctx.result
    db["users"].pop(p["username"].lower(), None)          # -Force drops a user of that name first
    record = {"name": p["username"], "login": lg["name"], "login_type": lg["type"],
              "default_schema": p["default_schema"], "roles": [], "created": when}
    db["users"][p["username"].lower()] = record
    return ctx.exit(data=_user_view(conn, db, record))


# -- user_role -----------------------------------------------------------------------

@sql_model("lowlydba.sqlserver.user_role")
def user_role(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    roles = p.get("roles")
    state = p.get("state")
    if roles is not None and state is not None:
        ctx.fail("The 'state' parameter is not supported when using the 'roles' parameter. "
                 "Use roles.add, roles.remove, or roles.set to control membership changes.")
    try:
        conn = connect(ctx)
    except DbaError as exc:
        unhandled(ctx, exc)
    db = find_database(conn.inst, p["database"])
    user_rec = db["users"].get(p["username"].lower()) if db is not None else None
    if user_rec is None:
        ctx.fail(f"User [{p['username']}] does not exist in database [{p['database']}].")

    def role_name(name: str) -> str | None:
        return next((r for r in db["roles"] if r.lower() == name.lower()), None)

    def add(role: str) -> None:
        if not ctx.check_mode:
            user_rec["roles"] = sorted(user_rec["roles"] + [role], key=str.lower)

    def remove(role: str) -> None:
        if not ctx.check_mode:
            user_rec["roles"] = [r for r in user_rec["roles"] if r.lower() != role.lower()]

    def membership() -> list[str]:
        return sorted(user_rec["roles"], key=str.lower)

    if p.get("role") is not None:
        state = state or "present"
        role = role_name(p["role"])
        if role is None:
            ctx.fail(f"Role [{p['role']}] does not exist in database [{p['database']}].")
        member = any(r.lower() == role.lower() for r in user_rec["roles"])
        if state == "absent" and member:
            remove(role)
            ctx.changed(True)
        elif state == "present" and not member:
            add(role)
            ctx.changed(True)
        return ctx.result

    has_set = roles.get("set") is not None
    add_spec = roles.get("add") is not None
    rem_spec = roles.get("remove") is not None
    if not (has_set or add_spec or rem_spec):
        ctx.fail("When using 'roles', at least one key (roles.set, roles.add, or roles.remove) must be present.")
    if has_set and (add_spec or rem_spec):
        ctx.fail("The 'roles.set' option cannot be combined with 'roles.add' or 'roles.remove'.")
    current = membership()
    cur_l = {r.lower() for r in current}
    added: list[str] = []
    removed: list[str] = []
    if has_set:
        desired = sorted(roles["set"], key=str.lower)
        des_l = {r.lower() for r in desired}
        to_add = [r for r in dict.fromkeys(desired) if r.lower() not in cur_l]
        to_remove = [r for r in current if r.lower() not in des_l]
    else:
        to_add = [r for r in dict.fromkeys(roles.get("add") or []) if r.lower() not in cur_l]
        to_remove = [r for r in (roles.get("remove") or []) if r.lower() in cur_l]
    for r in to_add:
        real = role_name(r)
        if real is None:
            ctx.fail(f"Role [{r}] does not exist in database [{p['database']}].")
        add(real)
        added.append(r)
    for r in to_remove:
        remove(r)
        removed.append(r)
    ctx.changed(bool(added or removed))
    data: dict[str, t.Any] = {"roleMembership": membership()}
    if added:
        data["added"] = added
    if removed:
        data["removed"] = removed
    return ctx.exit(data=data)


# -- nonquery ------------------------------------------------------------------------

_NAME = r"(?:\[(?P<{g}>[^\]]+)\]|(?P<{g}_bare>[A-Za-z_][\w$#@]*))"
_NONQUERY: list[tuple[str, re.Pattern[str]]] = [
    ("ALTER DATABASE <db> SET RECOVERY FULL | SIMPLE | BULK_LOGGED [WITH NO_WAIT]",
     re.compile(r"^ALTER\s+DATABASE\s+" + _NAME.format(g="db") +
                r"\s+SET\s+RECOVERY\s+(?P<model>FULL|SIMPLE|BULK_LOGGED)(?:\s+WITH\s+NO_WAIT)?$", re.I)),
    ("ALTER DATABASE <db> SET COMPATIBILITY_LEVEL = <n>",
     re.compile(r"^ALTER\s+DATABASE\s+" + _NAME.format(g="db") +
                r"\s+SET\s+COMPATIBILITY_LEVEL\s*=\s*(?P<level>\d{2,3})$", re.I)),
    ("ALTER DATABASE <db> SET READ_COMMITTED_SNAPSHOT ON | OFF [WITH ROLLBACK IMMEDIATE]",
     re.compile(r"^ALTER\s+DATABASE\s+" + _NAME.format(g="db") +
                r"\s+SET\s+READ_COMMITTED_SNAPSHOT\s+(?P<onoff>ON|OFF)(?:\s+WITH\s+ROLLBACK\s+IMMEDIATE)?$", re.I)),
    ("ALTER AUTHORIZATION ON DATABASE::<db> TO <login>",
     re.compile(r"^ALTER\s+AUTHORIZATION\s+ON\s+DATABASE::" + _NAME.format(g="db") + r"\s+TO\s+" +
                _NAME.format(g="login") + r"$", re.I)),
    ("CHECKPOINT", re.compile(r"^CHECKPOINT$", re.I)),
    ("DBCC CHECKDB (<db> | N'<db>') [WITH NO_INFOMSGS, ALL_ERRORMSGS, DATA_PURITY, PHYSICAL_ONLY]",
     re.compile(r"^DBCC\s+CHECKDB\s*\(\s*(?:N?'(?P<dbq>[^']+)'|" + _NAME.format(g="db") + r")\s*\)"
                r"(?:\s+WITH\s+(?P<opts>(?:NO_INFOMSGS|ALL_ERRORMSGS|DATA_PURITY|PHYSICAL_ONLY)"
                r"(?:\s*,\s*(?:NO_INFOMSGS|ALL_ERRORMSGS|DATA_PURITY|PHYSICAL_ONLY))*))?$", re.I)),
]
_CHECKDB = 5
_RECOVERY = {"full": "Full", "simple": "Simple", "bulk_logged": "BulkLogged"}


def _statements(sql: str) -> list[str]:
    text = re.sub(r"--[^\n]*", "", sql)
    out = []
    for batch in re.split(r"^\s*GO\s*$", text, flags=re.I | re.M):
        for stmt in batch.split(";"):
            stmt = " ".join(stmt.split())
            if stmt:
                out.append(stmt)
    return out


def _group(m: re.Match[str], g: str) -> str:
    return m.group(g) or m.group(g + "_bare")


def _checkdb(ctx: ModuleContext, inst: dict[str, t.Any], name: str) -> None:
    """``DBCC CHECKDB``: reads the database, writes nothing (check mode too:
    ``-NoExec`` only parses it).  winsim models no page damage inside a
    database, so a database that can be opened passes; one that cannot
    fails with SQL Server's message (docs: winsim/docs/backup-verify.md)."""
    db = find_database(inst, name)
    if db is None:
        ctx.fail("Executing nonquery failed.", exception=f"Could not find database '{name}'. The database either "
                 "does not exist, or was dropped before a statement tried to use it. Verify if the database exists "
                 "by querying the sys.databases catalog view.")
    if ctx.check_mode:
        return
    status = str(db.get("status") or "Normal")
    if status == "Restoring":
        ctx.fail("Executing nonquery failed.", exception=f"Database '{db['name']}' cannot be opened. It is in the "
                 "middle of a restore.")
    if status == "Offline":
        ctx.fail("Executing nonquery failed.", exception=f"Database '{db['name']}' cannot be opened because it is "
                 "offline.")
    db["last_known_good"] = iso(ctx.now())     # DBCC DBINFO's dbi_dbccLastKnownGood


@sql_model("lowlydba.sqlserver.nonquery")
def nonquery(ctx: ModuleContext) -> dict[str, t.Any]:
    """``Invoke-DbaQuery`` (``-NoExec`` in check mode).  winsim executes only
    the statements listed in ``_NONQUERY``; any other T-SQL stops the run
    with a :class:`SimulatorError`, since pretending to run it would lie."""
    p = ctx.params
    plan: list[tuple[int, re.Match[str]]] = []
    for stmt in _statements(p["nonquery"]):
        for i, (_, rx) in enumerate(_NONQUERY):
            m = rx.match(stmt)
            if m:
                plan.append((i, m))
                break
        else:
            raise SimulatorError(
                "winsim: lowlydba.sqlserver.nonquery cannot execute arbitrary T-SQL; it models only these "
                f"statements: {'; '.join(d for d, _ in _NONQUERY)}. Unsupported statement: {stmt[:200]!r}. "
                "Use the dedicated lowlydba.sqlserver module for it, or extend models/sql.py.")
    try:
        conn = connect(ctx)
    except DbaError as exc:
        ctx.fail("Executing nonquery failed.", exception=str(exc))
    inst = conn.inst
    if find_database(inst, p["database"]) is None:
        ctx.fail("Executing nonquery failed.", exception=f"Cannot open database \"{p['database']}\" requested "
                 f"by the login. The login failed.\nLogin failed for user '{conn.login}'.")
    for kind, m in plan:
        if kind == 4:
            continue
        if kind == _CHECKDB:
            _checkdb(ctx, inst, m.group("dbq") or _group(m, "db"))
            continue
        db = find_database(inst, _group(m, "db"))
        if db is None:
            ctx.fail("Executing nonquery failed.", exception=f"Database '{_group(m, 'db')}' does not exist. Make "
                     "sure that the name is entered correctly.")
        if kind == 1 and not 100 <= int(m.group("level")) <= inst["version_major"] * 10:
            ctx.fail("Executing nonquery failed.", exception="Valid values of the database compatibility level "
                     "are 100, 110, 120, 130, 140, 150, or 160.")
        if kind == 3 and find_login(inst, _group(m, "login")) is None:
            ctx.fail("Executing nonquery failed.", exception=f"Cannot find the principal '{_group(m, 'login')}', "
                     "because it does not exist or you do not have permission.")
        if ctx.check_mode:
            continue
        if kind == 0:
            model_name = _RECOVERY[m.group("model").lower()]
            if model_name == "Simple":
                db["log_chain_lsn"] = None
            db["recovery_model"] = model_name
        elif kind == 1:
            db["compatibility"] = f"Version{m.group('level')}"
        elif kind == 2:
            db["rcsi"] = m.group("onoff").upper() == "ON"
        elif kind == 3:
            db["owner"] = find_login(inst, _group(m, "login"))["name"]
    return ctx.exit(changed=True)
