"""Controller-side logic of the ``sql_backup`` role, shared by its filters and the preflight.

One validation function (:func:`problems`) serves both the role's
``validate.yml`` (through the ``mcms.infra.sql_backup_input_errors`` filter)
and the preflight (``plugin_utils/_preflight.py``), so every rule is written
once and bad input for the data tier fails before the first tier touches a
host (docs/style.md §4).

:func:`jobs` computes the three SQL Server Agent jobs the role owns (FULL,
DIFF and LOG backups through Ola Hallengren's ``DatabaseBackup``): names,
the step's T-SQL command and the schedule, as the ``jobs`` option of
``mcms.infra.sql_agent_jobs`` takes them (decision 21).  :func:`recovery_plan`
decides, from what ``lowlydba.sqlserver.database`` read in check mode,
which databases are missing, which must be switched to FULL recovery and
which make the run fail.
"""

from __future__ import annotations

import os
import re
import typing as t

__all__ = ["SqlBackupError", "databases", "input_errors", "jobs", "problems", "recovery_plan"]

DAY_MINUTES = 24 * 60
FULL_INTERVAL_HOURS = 24
TIME_RE = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")
ABSOLUTE_PATH_RE = re.compile(r"^(?:[A-Za-z]:\\|\\\\[^\\/:*?\"<>|]+\\[^\\/:*?\"<>|]+)")
DATABASE_NAME_RE = re.compile(r"^[^\[\]',%]+$")
SYSTEM_DATABASES = frozenset({"master", "model", "msdb", "tempdb"})
KINDS = ("FULL", "DIFF", "LOG")
JOB_CATEGORY = "Database Maintenance"
# Layered like iis_sites: all hosts, group_vars, host_vars; a later layer replaces an entry of the same name.
DATABASE_LAYERS = ("sql_backup_databases", "sql_backup_group_databases", "sql_backup_host_databases")


class SqlBackupError(Exception):
    """Input the role cannot work with (raised by the filters, never by :func:`problems`)."""


def _int(value: t.Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_absolute(path: t.Any) -> bool:
    return isinstance(path, str) and bool(ABSOLUTE_PATH_RE.match(path)) and "/" not in path


def problems(config: t.Mapping[str, t.Any]) -> list[tuple[str, str, str]]:
    """Every problem in the role's input as ``(variable, problem, fix)``.

    ``config`` holds the role's public variables (``sql_backup_*``), role
    defaults filled in.  Types and choices are already checked by
    ``meta/argument_specs.yml``; this checks what a spec cannot express.
    """
    found: list[tuple[str, str, str]] = []
    add = found.append

    directory = config.get("sql_backup_dir")
    if not _is_absolute(directory):
        add(("sql_backup_dir", f"is {directory!r}, not an absolute Windows path",
             "give a path such as 'D:\\SQLBackup' or '\\\\fileserver\\sqlbackup' (backslashes, drive or UNC)"))
    solution_file = config.get("sql_backup_solution_file")
    if solution_file and not _is_absolute(solution_file):
        add(("sql_backup_solution_file", f"is {solution_file!r}, not an absolute Windows path on the SQL host",
             "give the path of the Maintenance Solution zip on the host or a UNC share, e.g. "
             "'D:\\Install\\sql-server-maintenance-solution-main.zip'"))

    if isinstance(solution_file, str) and solution_file and not solution_file.lower().endswith(".zip"):
        add(("sql_backup_solution_file", f"is {solution_file!r}, not a .zip: dbatools would ignore it and install "
             "its own bundled copy without saying so", "point it at sql-server-maintenance-solution-main.zip"))
    source = config.get("sql_backup_solution_src")
    if source:
        if not isinstance(source, str) or not os.path.isabs(source):
            add(("sql_backup_solution_src", f"is {source!r}, not an absolute path on the controller",
                 "give the full path of the zip, e.g. '/srv/artifacts/sql-server-maintenance-solution-main.zip'"))
        elif not os.path.isfile(source):
            add(("sql_backup_solution_src", f"{source} doesn't exist on the controller",
                 "fetch the zip from the artifact store or correct the path"))
        elif not source.lower().endswith(".zip"):
            add(("sql_backup_solution_src", f"{source} has to be a zip file",
                 "give the Maintenance Solution's zip (sql-server-maintenance-solution-main.zip)"))
        if isinstance(source, str) and isinstance(solution_file, str) and solution_file and (
                os.path.basename(source).lower() != solution_file.rsplit("\\", 1)[-1].lower()):
            add(("sql_backup_solution_src", f"file name {os.path.basename(source)!r} differs from the one of "
                 f"sql_backup_solution_file ({solution_file!r}): the role copies the zip into that folder under its "
                 "own name", "give both the same file name"))
        if not solution_file:
            add(("sql_backup_solution_file", "is empty but sql_backup_solution_src is set: the zip has nowhere to go",
                 "give the path on the SQL host, e.g. 'D:\\Install\\sql-server-maintenance-solution-main.zip'"))

    for var in ("sql_backup_full_start_time", "sql_backup_diff_start_time", "sql_backup_log_start_time"):
        value = config.get(var)
        if not isinstance(value, str) or not TIME_RE.match(value):
            add((var, f"is {value!r}, not a time of day HH:MM", "give a 24-hour time such as '00:00' or '18:30'"))

    diff_hours = _int(config.get("sql_backup_diff_interval_hours"))
    if diff_hours is None or diff_hours < 1 or diff_hours > 24 or 24 % diff_hours:
        add(("sql_backup_diff_interval_hours", f"is {config.get('sql_backup_diff_interval_hours')!r}, which does "
             "not divide the day: the backups would drift against the daily full backup",
             "use 1, 2, 3, 4, 6, 8, 12 or 24 hours (default 12)"))
    log_minutes = _int(config.get("sql_backup_log_interval_minutes"))
    if log_minutes is None or log_minutes < 1 or log_minutes > DAY_MINUTES or DAY_MINUTES % log_minutes:
        add(("sql_backup_log_interval_minutes", f"is {config.get('sql_backup_log_interval_minutes')!r}, which "
             "does not divide the day", "use a divisor of 1440 minutes such as 15, 30 or 60 (default 60)"))
    elif log_minutes >= 60 and log_minutes % 60:
        add(("sql_backup_log_interval_minutes", f"is {log_minutes}: SQL Server Agent schedules intervals of an "
             "hour or more in whole hours", "use 15, 20, 30, 60, 120, ... minutes"))

    for kind in ("full", "diff", "log"):
        var = f"sql_backup_{kind}_cleanup_hours"
        hours = _int(config.get(var))
        if hours is None or hours < FULL_INTERVAL_HOURS:
            add((var, f"is {config.get(var)!r} hours, shorter than the full backup interval "
                 f"({FULL_INTERVAL_HOURS} h): a restore chain would lose its full backup",
                 "keep backups at least 24 hours; the policy asks for 14 days (336 hours)"))

    for var, interval, unit in (("sql_backup_verify_full_max_age_hours", FULL_INTERVAL_HOURS, "h"),
                                ("sql_backup_verify_diff_max_age_hours", diff_hours, "h"),
                                ("sql_backup_verify_log_max_age_minutes", log_minutes, "min")):
        if var not in config:
            continue
        limit = _int(config.get(var))
        reported = any(v == var.replace("verify_", "").replace("_max_age_hours", "_interval_hours")
                       .replace("_max_age_minutes", "_interval_minutes") for v, _p, _f in found)
        if limit is None or (interval is not None and not reported and limit <= interval):
            add((var, f"is {config.get(var)!r} {unit}, not above the backup interval ({interval} {unit}): every "
                 "backup verification would report a healthy database as failed",
                 "leave room for one interval plus the backup's run time (defaults: 26 h, 13 h, 75 min)"))
    suffix = config.get("sql_backup_verify_scratch_suffix")
    if "sql_backup_verify_scratch_suffix" in config and (
            not isinstance(suffix, str) or not suffix.strip() or not DATABASE_NAME_RE.match(suffix)
            or not re.match(r"^[\w$#@-]+$", suffix)):
        add(("sql_backup_verify_scratch_suffix", f"is {suffix!r}: the test restore would overwrite the database "
             "itself or get a name T-SQL cannot quote", "use letters, digits or _ such as '_verify'"))

    present = [layer for layer in DATABASE_LAYERS if isinstance(config.get(layer), list) and config.get(layer)]
    for layer in DATABASE_LAYERS:
        value = config.get(layer)
        if value is not None and not isinstance(value, list):
            add((layer, f"is {type(value).__name__}, not a list", "give a list such as [{name: MCMS}]"))
    if not present:
        add(("sql_backup_databases", "is empty: nothing would be backed up (sql_backup_group_databases and "
             "sql_backup_host_databases are empty too)",
             "list the databases to back up, e.g. [{name: MCMS}]"))
    for layer in present:
        seen: dict[str, int] = {}
        for index, entry in enumerate(config[layer]):
            name = entry.get("name") if isinstance(entry, t.Mapping) else entry
            where = f"{layer}[{index}]"
            if not isinstance(name, str) or not name.strip():
                add((where, "has no name", "give each entry a name"))
                continue
            if not DATABASE_NAME_RE.match(name):
                add((where, f"name {name!r} holds a character DatabaseBackup's @Databases list cannot carry "
                     "([ ] ' , %)", "rename the database or leave it out"))
            if name.lower() in SYSTEM_DATABASES:
                add((where, f"is the system database {name}", "list user databases only (system databases are "
                     "backed up by the instance's own maintenance)"))
            key = name.lower()
            if key in seen:
                add((layer, f"lists database {name!r} twice (entries {seen[key]} and {index})",
                     "keep one entry per database (a later layer replaces an entry of the same name: "
                     "sql_backup_databases < sql_backup_group_databases < sql_backup_host_databases)"))
            else:
                seen[key] = index
    return found


def databases(config: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """The combined database list: ``sql_backup_databases``, then
    ``sql_backup_group_databases``, then ``sql_backup_host_databases``; an
    entry of a later layer replaces the entry of the same name (compared
    case-insensitively, like SQL Server's default collation) as a whole, in
    its place; new names are appended.  ``log_backups`` defaults to true."""
    out: list[dict[str, t.Any]] = []
    index: dict[str, int] = {}
    for layer in DATABASE_LAYERS:
        for entry in config.get(layer) or []:
            item = dict(entry) if isinstance(entry, t.Mapping) else {"name": entry}
            if not isinstance(item.get("name"), str):
                raise SqlBackupError(f"{layer}: an entry has no name")
            item.setdefault("log_backups", True)
            key = item["name"].lower()
            if key in index:
                out[index[key]] = item
            else:
                index[key] = len(out)
                out.append(item)
    return out


def input_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """:func:`problems` as one message each: ``variable: problem → fix``."""
    return [f"{var}: {problem} → {fix}" for var, problem, fix in problems(config)]


def _hhmmss(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}{int(minutes):02d}00"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def command(kind: str, databases: list[str], directory: str, cleanup_hours: int, compress: bool,
            log_to_table: bool) -> str:
    """The T-SQL of one backup job step: Ola's ``DatabaseBackup`` with checksum and verify on."""
    lines = [
        "EXECUTE [dbo].[DatabaseBackup]",
        f"@Databases = '{_quote(','.join(databases))}',",
        f"@Directory = N'{_quote(directory)}',",
        f"@BackupType = '{kind}',",
        "@Verify = 'Y',",
        "@CheckSum = 'Y',",
        f"@Compress = '{'Y' if compress else 'N'}',",
        f"@CleanupTime = {int(cleanup_hours)},",
        "@CleanupMode = 'AFTER_BACKUP',",
        f"@LogToTable = '{'Y' if log_to_table else 'N'}'",
    ]
    return "\r\n".join(lines)


def jobs(config: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """The Agent jobs of the role (FULL, DIFF, LOG), each with its one step and one
    schedule, in the shape ``mcms.infra.sql_agent_jobs`` takes (its ``jobs`` option).
    A job with no database to back up (LOG when no database wants log backups) is disabled.

    Raises :class:`SqlBackupError` when the input is invalid (the role's
    validate step runs :func:`problems` first, so this only guards direct use).
    """
    errors = [f"{var}: {problem} → {fix}" for var, problem, fix in problems(config)
              if not var.startswith("sql_backup_verify_")]        # the verification's own input: not the jobs'
    if errors:
        raise SqlBackupError("; ".join(errors))
    prefix = str(config.get("sql_backup_job_prefix") or "DatabaseBackup")
    entries = databases(config)
    names = [e["name"] for e in entries]
    log_names = [e["name"] for e in entries if e.get("log_backups", True)]
    directory = config["sql_backup_dir"]
    compress = bool(config.get("sql_backup_compress", True))
    log_to_table = bool(config.get("sql_backup_log_to_table", True))
    diff_hours = int(config["sql_backup_diff_interval_hours"])
    log_minutes = int(config["sql_backup_log_interval_minutes"])
    once = {"frequency_subday_type": "Time", "frequency_subday_interval": 0}

    def every(minutes: int) -> dict[str, t.Any]:
        if minutes >= DAY_MINUTES:
            return once
        if minutes % 60 == 0:
            return {"frequency_subday_type": "Hours", "frequency_subday_interval": minutes // 60}
        return {"frequency_subday_type": "Minutes", "frequency_subday_interval": minutes}

    plan = [
        ("FULL", names, once, config["sql_backup_full_start_time"], int(config["sql_backup_full_cleanup_hours"])),
        ("DIFF", names, every(diff_hours * 60), config["sql_backup_diff_start_time"],
         int(config["sql_backup_diff_cleanup_hours"])),
        ("LOG", log_names, every(log_minutes), config["sql_backup_log_start_time"],
         int(config["sql_backup_log_cleanup_hours"])),
    ]
    result = []
    for kind, dbs, subday, start, cleanup in plan:
        name = f"{prefix} - {kind}"
        result.append({
            "name": name,
            "description": f"{kind} backups by Ola Hallengren's DatabaseBackup (managed by the mcms-infra "
                           "sql_backup role)",
            "category": JOB_CATEGORY,
            "enabled": bool(dbs),
            "step": {
                "name": name,
                "database": str(config.get("sql_backup_solution_database") or "master"),
                "subsystem": "TransactSql",
                "command": command(kind, dbs or names, directory, cleanup, compress, log_to_table),
                "on_success_action": "QuitWithSuccess",
                "on_fail_action": "QuitWithFailure",
            },
            "schedule": {
                "name": name,
                "enabled": True,
                "frequency_type": "Daily",
                "frequency_interval": 1,
                "start_date": str(config.get("sql_backup_schedule_start_date") or "20260101"),
                "end_date": "99991231",
                "start_time": _hhmmss(start),
                "end_time": "235959",
                **subday,
            },
        })
    return result


def recovery_plan(reads: list[t.Mapping[str, t.Any]], databases: list[t.Any], fix: bool) -> dict[str, t.Any]:
    """Decide from the check-mode reads of ``lowlydba.sqlserver.database`` what to do.

    ``reads`` are the loop results (``item`` the database entry; ``changed``
    true and no ``data`` when the database does not exist, since the module
    would create it).  Returns ``missing`` (names), ``to_full`` (log-backup
    databases in SIMPLE that the role switches when ``fix``) and ``errors``.
    """
    wanted = {}
    for entry in databases:
        name = entry["name"] if isinstance(entry, t.Mapping) else entry
        log = entry.get("log_backups", True) if isinstance(entry, t.Mapping) else True
        wanted[name.lower()] = (name, log)
    missing, to_full, errors = [], [], []
    for read in reads:
        entry = read.get("__sql_backup_item") or read.get("item") or {}
        name = entry["name"] if isinstance(entry, t.Mapping) else entry
        data = read.get("data") or {}
        if not data:
            missing.append(name)
            continue
        _, log = wanted.get(str(name).lower(), (name, True))
        model = str(data.get("RecoveryModel") or "")
        if log and model.lower() == "simple":
            to_full.append(name)
    for name in missing:
        errors.append(f"sql_backup_databases: database {name!r} does not exist on the instance → create it first "
                      "(the application's migrations own it) or remove it from the list")
    if to_full and not fix:
        errors.append("sql_backup_databases: " + ", ".join(repr(n) for n in to_full) + " expect(s) log backups "
                      "but use the SIMPLE recovery model → switch to FULL, set sql_backup_fix_recovery_model: true, "
                      "or set log_backups: false for it")
    return {"missing": missing, "to_full": to_full if fix else [], "errors": errors}
