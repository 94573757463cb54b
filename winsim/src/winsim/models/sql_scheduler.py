"""SQL Server Agent running jobs as lab time passes, and what Ola
Hallengren's ``DatabaseBackup`` does when a job step calls it.

:func:`run_agents` is called by the lab clock (``clock.py``) for every host
when lab time moves from ``old`` to ``new``.  For each SQL Server instance
whose Agent service is running, every enabled job with an enabled schedule
runs at *every* occurrence of that schedule in ``(old, new]``, in time
order (three days of an hourly log backup are 72 runs).  Schedules use the
msdb codes the agent models store (``freq_type`` 1/4/8/16/32, subday
1/2/4/8, ``active_start_date``/``time`` ...) in the host's local time,
which is UTC on winsim hosts.  Start-up (64) and idle (128) schedules never
fire on a clock move.

A run follows the steps from ``start_step_id``: each step succeeds or fails
and the job goes on with the step's ``on_success_action`` /
``on_fail_action`` (``QuitWithSuccess``, ``QuitWithFailure``,
``GoToNextStep``, ``GoToStep``).  The job records ``last_run_date``,
``last_run_outcome`` (``Succeeded``/``Failed``), ``next_run_date`` and a
``history`` of runs (msdb.dbo.sysjobhistory: at most 100 rows per job, a
run being one row per step plus the job outcome row); each step records its
own ``last_run_date``/``last_run_outcome``.

What a step does:

* ``EXECUTE [dbo].[DatabaseBackup] ...`` is Ola Hallengren's procedure
  (MaintenanceSolution.sql, checked against its source): see
  :func:`ola_database_backup`;
* ``DatabaseIntegrityCheck``, ``IndexOptimize``, the ``CommandLog``
  cleanup and the output-file cleanup succeed without effect on the state;
* ``sp_delete_backuphistory`` / ``sp_purge_jobhistory`` with
  ``DATEADD(dd,-30,GETDATE())`` delete msdb backup history / job history
  older than 30 days;
* any other T-SQL or CmdExec step succeeds and its history message says
  that winsim did not execute it (winsim runs no arbitrary T-SQL).

A step fails as SQL Server fails it: the step's database missing or not
online, the procedure not installed there, an Ola parameter error (the
backup root directory does not exist), a write error (disk full through
the ``disk_full`` fault: the clock applies a host's disk faults while its
jobs run).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import typing as t

from ..state import DiskFull, children, exists, get_item, iso, make_dirs, normpath, parse_iso, read_file, remove
from . import services
from .sql import DbaError, find_database
from .sql_backup import parse_sets, write_backup

__all__ = ["job_next_run", "occurrences", "ola_database_backup", "run_agents", "run_job"]

HISTORY_ROWS_PER_JOB = 100
_LOOKAHEAD_DAYS = 400


# -- schedules ---------------------------------------------------------------------

def _date(value: str | None, default: _dt.date) -> _dt.date:
    if not value:
        return default
    try:
        return _dt.date.fromisoformat(value[:10])
    except ValueError:
        return default


def _secs(hms: str | None, default: int) -> int:
    if not hms:
        return default
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def _relative_days(year: int, month: int, interval: int, relative: int) -> list[int]:
    """The day of ``month`` a MonthlyRelative schedule picks (or [])."""
    last = calendar.monthrange(year, month)[1]
    days = list(range(1, last + 1))

    def weekday_code(d: int) -> int:           # 1 = Sunday ... 7 = Saturday
        return (_dt.date(year, month, d).weekday() + 1) % 7 + 1

    if 1 <= interval <= 7:
        pool = [d for d in days if weekday_code(d) == interval]
    elif interval == 8:
        pool = days
    elif interval == 9:
        pool = [d for d in days if weekday_code(d) not in (1, 7)]
    elif interval == 10:
        pool = [d for d in days if weekday_code(d) in (1, 7)]
    else:
        return []
    index = {1: 0, 2: 1, 4: 2, 8: 3, 16: -1}.get(relative)
    if index is None or not pool or (index >= 0 and index >= len(pool)):
        return []
    return [pool[index]]


def _day_matches(s: dict[str, t.Any], day: _dt.date, start: _dt.date) -> bool:
    ft = s["freq_type"]
    factor = max(int(s.get("freq_recurrence_factor") or 1), 1)
    if ft == 1:
        return day == start
    if ft == 4:
        return (day - start).days % max(int(s.get("freq_interval") or 1), 1) == 0
    if ft == 8:
        bit = 1 << ((day.weekday() + 1) % 7)       # Sunday = 1, Monday = 2, ... Saturday = 64
        if not int(s.get("freq_interval") or 0) & bit:
            return False
        week0 = start - _dt.timedelta(days=(start.weekday() + 1) % 7)
        week = day - _dt.timedelta(days=(day.weekday() + 1) % 7)
        return ((week - week0).days // 7) % factor == 0
    months = (day.year - start.year) * 12 + day.month - start.month
    if ft == 16:
        return day.day == int(s.get("freq_interval") or 0) and months % factor == 0
    if ft == 32:
        return months % factor == 0 and day.day in _relative_days(
            day.year, day.month, int(s.get("freq_interval") or 0), int(s.get("freq_relative_interval") or 0))
    return False


def _times_of_day(s: dict[str, t.Any]) -> list[int]:
    begin = _secs(s.get("active_start_time"), 0)
    if s["freq_type"] == 1:
        return [begin]
    end = _secs(s.get("active_end_time"), 86399)
    unit = {2: 1, 4: 60, 8: 3600}.get(int(s.get("freq_subday_type") or 1))
    if unit is None:
        return [begin]
    step = max(int(s.get("freq_subday_interval") or 1), 1) * unit
    return list(range(begin, end + 1, step))


def occurrences(s: dict[str, t.Any], after: _dt.datetime, until: _dt.datetime, *, limit: int | None = None
                ) -> list[_dt.datetime]:
    """The times in ``(after, until]`` at which schedule ``s`` fires."""
    if s["freq_type"] not in (1, 4, 8, 16, 32) or until <= after:
        return []
    start = _date(s.get("active_start_date"), _dt.date(1990, 1, 1))
    end = _date(s.get("active_end_date"), _dt.date(9999, 12, 31))
    day = max(after.astimezone(_dt.UTC).date(), start)
    last = min(until.astimezone(_dt.UTC).date(), end)
    times = _times_of_day(s)
    out: list[_dt.datetime] = []
    while day <= last:
        if _day_matches(s, day, start):
            base = _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC)
            for secs in times:
                when = base + _dt.timedelta(seconds=secs)
                if after < when <= until:
                    out.append(when)
                    if limit is not None and len(out) >= limit:
                        return out
        day += _dt.timedelta(days=1)
    return out


def job_next_run(inst: dict[str, t.Any], job: dict[str, t.Any], now: _dt.datetime) -> str | None:
    """msdb ``next_run_date``: the job's next scheduled start after ``now``."""
    best: _dt.datetime | None = None
    for s in _job_schedules(inst, job):
        if not s.get("enabled", True):
            continue
        found = occurrences(s, now, now + _dt.timedelta(days=_LOOKAHEAD_DAYS), limit=1)
        if found and (best is None or found[0] < best):
            best = found[0]
    return iso(best) if best else None


def _job_schedules(inst: dict[str, t.Any], job: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    name = job["name"].lower()
    return [s for s in inst["agent"]["schedules"] if any(j.lower() == name for j in s["jobs"])]


# -- the agent ---------------------------------------------------------------------------

def _agent_running(state: dict[str, t.Any], inst: dict[str, t.Any]) -> bool:
    if not inst.get("agent_service"):
        return False                      # Express has no SQL Server Agent
    for name in (inst["service"], inst["agent_service"]):
        svc = services.get_service(state, name)
        if svc is not None and svc.get("state") != "started":
            return False
    return True


def run_agents(state: dict[str, t.Any], old: _dt.datetime, new: _dt.datetime, *,
               faults: list[dict[str, t.Any]] | None = None) -> int:
    """Run every job occurrence due in ``(old, new]`` on every instance of
    the host; returns the number of job runs."""
    runs = 0
    for inst in state.get("sql", {}).get("instances", {}).values():
        if not _agent_running(state, inst):
            continue
        due: list[tuple[_dt.datetime, int, str, dict[str, t.Any]]] = []
        for job in inst["agent"]["jobs"].values():
            if not job.get("enabled", True):
                continue
            for s in _job_schedules(inst, job):
                if not s.get("enabled", True):
                    continue
                for when in occurrences(s, old, new):
                    due.append((when, int(s.get("id") or 0), job["name"].lower(), s))
        # one start per job and instant (two schedules firing together start the job once)
        seen: set[tuple[_dt.datetime, str]] = set()
        for when, _sid, jname, sched in sorted(due, key=lambda d: (d[0], d[2], d[1])):
            if (when, jname) in seen:
                continue
            seen.add((when, jname))
            job = inst["agent"]["jobs"].get(jname)
            if job is not None:
                run_job(state, inst, job, when, schedule=sched)
                runs += 1
        for job in inst["agent"]["jobs"].values():
            job["next_run_date"] = job_next_run(inst, job, new) if job.get("enabled", True) else None
    return runs


class StepFailed(Exception):
    """A job step failed; ``str()`` is the message sysjobhistory records."""


def run_job(state: dict[str, t.Any], inst: dict[str, t.Any], job: dict[str, t.Any], when: _dt.datetime, *,
            schedule: dict[str, t.Any] | None = None) -> str:
    """One run of ``job`` at ``when``; returns the outcome."""
    steps = {s["id"]: s for s in job["steps"]}
    agent_user = f"NT SERVICE\\{inst['agent_service']}"
    run_steps: list[dict[str, t.Any]] = []
    current = job.get("start_step_id") or 1
    outcome = "Failed"
    last_step: dict[str, t.Any] | None = None
    for _ in range(max(len(steps), 1) * 4):
        step = steps.get(current)
        if step is None:
            break
        last_step = step
        try:
            note = execute_step(state, inst, job, step, when)
            ok = True
            message = f"Executed as user: {agent_user}. {note}  The step succeeded."
        except StepFailed as exc:
            ok = False
            message = f"Executed as user: {agent_user}. {exc}  The step failed."
        run_steps.append({"step_id": step["id"], "step_name": step["name"],
                          "outcome": "Succeeded" if ok else "Failed", "message": message})
        step["last_run_date"] = iso(when)
        step["last_run_outcome"] = "Succeeded" if ok else "Failed"
        action = step.get("on_success_action" if ok else "on_fail_action") or (
            "QuitWithSuccess" if ok else "QuitWithFailure")
        if action == "QuitWithSuccess":
            outcome = "Succeeded"
            break
        if action == "QuitWithFailure":
            outcome = "Failed"
            break
        outcome = "Succeeded" if ok else "Failed"
        current = (step.get("on_success_step" if ok else "on_fail_step") or 0) if action == "GoToStep" \
            else step["id"] + 1
        if current not in steps:
            break
    invoked = (f"The Job was invoked by Schedule {schedule.get('id')} ({schedule.get('name')})."
               if schedule else "The Job was invoked by User sa.")
    last = (f"The last step to run was step {last_step['id']} ({last_step['name']})." if last_step
            else "The job has no steps.")
    job_message = f"The job {'succeeded' if outcome == 'Succeeded' else 'failed'}.  {invoked}  {last}"
    job["last_run_date"] = iso(when)
    job["last_run_outcome"] = outcome
    history = job.setdefault("history", [])
    history.append({"run_date": iso(when), "outcome": outcome, "run_duration": 0, "message": job_message,
                    "schedule": schedule.get("name") if schedule else None, "steps": run_steps})
    while history and sum(1 + len(h["steps"]) for h in history) > HISTORY_ROWS_PER_JOB:
        history.pop(0)
    return outcome


# -- steps ------------------------------------------------------------------------------

_EXEC = re.compile(r"^\s*EXEC(?:UTE)?\s+(?:(?:\[?\w+\]?\.)?\[?dbo\]?\.)?\[?(?P<proc>\w+)\]?(?P<args>.*)$", re.I | re.S)
_ARG = re.compile(r"@(?P<name>\w+)\s*=\s*(?:N?'(?P<str>(?:[^']|'')*)'|(?P<null>NULL)|(?P<num>-?\d+)|"
                  r"(?P<var>@\w+))", re.I)
_OLA_NOOP = {"databaseintegritycheck", "indexoptimize"}


def _sql_error(msg: str, number: int = 50000, sqlstate: str = "42000") -> StepFailed:
    return StepFailed(f"{msg} [SQLSTATE {sqlstate}] (Error {number}).")


def execute_step(state: dict[str, t.Any], inst: dict[str, t.Any], job: dict[str, t.Any],
                 step: dict[str, t.Any], when: _dt.datetime) -> str:
    """Run one step; returns its note or raises :class:`StepFailed`."""
    command = step.get("command") or ""
    if (step.get("subsystem") or "TransactSql") != "TransactSql":
        return "winsim: the step was not executed (winsim runs no CmdExec/PowerShell step commands); " \
               "Process Exit Code 0."
    db = find_database(inst, step.get("database_name") or "master")
    if db is None:
        raise _sql_error(f"Cannot open database \"{step.get('database_name')}\" requested by the login. The login "
                         "failed.", 4060, "42000")
    if db["status"] != "Normal":
        raise _sql_error(f"Database '{db['name']}' cannot be opened. It is in the middle of a restore.", 927) \
            if db["status"] == "Restoring" else _sql_error(
                f"Database '{db['name']}' cannot be opened because it is offline.", 942, "42000")
    body = re.sub(r"--[^\n]*", "", command)
    if "sp_delete_backuphistory" in body or "sp_purge_jobhistory" in body:
        cutoff = when - _dt.timedelta(days=30)
        if "sp_delete_backuphistory" in body:
            inst["backup_history"] = [r for r in inst["backup_history"] if parse_iso(r["start"]) >= cutoff]
        else:
            for other in inst["agent"]["jobs"].values():
                other["history"] = [h for h in other.get("history", []) if parse_iso(h["run_date"]) >= cutoff]
        return "winsim: msdb history older than 30 days deleted."
    if re.search(r"DELETE\s+FROM\s+\[?dbo\]?\.\[?CommandLog\]?", body, re.I):
        if not any(o["name"] == "CommandLog" for o in db["objects"]):
            raise _sql_error("Invalid object name 'dbo.CommandLog'.", 208, "42S02")
        return "(0 rows affected)"
    m = _EXEC.match(body)
    if m is None:
        return "winsim: the T-SQL was not executed (winsim runs no arbitrary T-SQL)."
    proc = m.group("proc")
    if proc.lower() in {"databasebackup"} | _OLA_NOOP:
        if not any(o["name"].lower() == proc.lower() and o["type"] == "P" for o in db["objects"]):
            raise _sql_error(f"Could not find stored procedure 'dbo.{proc}'.", 2812, "42000")
        args = {a.group("name").lower(): (None if a.group("null") else a.group("str").replace("''", "'")
                                          if a.group("str") is not None else a.group("num") or a.group("var"))
                for a in _ARG.finditer(m.group("args"))}
        if proc.lower() == "databasebackup":
            return ola_database_backup(state, inst, args, when)
        return f"winsim: {proc} checked nothing (no corruption or fragmentation is simulated)."
    return "winsim: the T-SQL was not executed (winsim runs no arbitrary T-SQL)."


# -- Ola Hallengren's DatabaseBackup --------------------------------------------------------

_EXT = {"FULL": "bak", "DIFF": "bak", "LOG": "trn"}
_KIND = {"FULL": "Full", "DIFF": "Differential", "LOG": "Log"}


def _ola_databases(inst: dict[str, t.Any], spec: str) -> list[dict[str, t.Any]]:
    """``@Databases``: USER_DATABASES, SYSTEM_DATABASES, ALL_DATABASES,
    names, ``%`` wildcards, ``-`` exclusions (tempdb is never backed up)."""
    dbs = [d for d in inst["databases"].values() if d["name"].lower() != "tempdb"]
    selected: list[dict[str, t.Any]] = []
    excluded: set[str] = set()
    for raw in (x.strip() for x in spec.split(",")):
        if not raw:
            continue
        neg = raw.startswith("-")
        item = raw[1:] if neg else raw
        upper = item.upper()
        if upper == "USER_DATABASES":
            found = [d for d in dbs if not d["is_system"]]
        elif upper == "SYSTEM_DATABASES":
            found = [d for d in dbs if d["is_system"]]
        elif upper == "ALL_DATABASES":
            found = list(dbs)
        else:
            rx = re.compile("^" + re.escape(item.strip("[]")).replace("%", ".*") + "$", re.I)
            found = [d for d in dbs if rx.match(d["name"])]
        if neg:
            excluded.update(d["name"].lower() for d in found)
        else:
            selected.extend(d for d in found if d not in selected)
    return sorted((d for d in selected if d["name"].lower() not in excluded), key=lambda d: d["name"].lower())


def _yes(args: dict[str, t.Any], name: str, default: str) -> bool:
    return str(args.get(name) if args.get(name) is not None else default).upper() == "Y"


def ola_database_backup(state: dict[str, t.Any], inst: dict[str, t.Any], args: dict[str, t.Any],
                        when: _dt.datetime) -> str:
    """``dbo.DatabaseBackup`` (MaintenanceSolution.sql): for each selected
    database that is online,

    * the backup type is skipped where it cannot be taken: LOG of a SIMPLE
      database or of one without a log chain (no full backup since it went
      FULL), DIFF without a full backup, DIFF/LOG of master; with
      ``@ChangeBackupType = 'Y'`` LOG becomes DIFF and DIFF becomes FULL
      instead;
    * the file goes to ``<Directory>\\<Server>[$<Instance>]\\<Database>\\<TYPE>``
      named ``<Server>[$<Instance>]_<Database>_<TYPE>_<yyyyMMdd>_<HHmmss>.bak|.trn``
      (the default ``@DirectoryStructure`` and ``@FileName``; the folders
      are created with xp_create_subdir);
    * ``@CheckSum``/``@Verify`` are recorded on the backup set;
    * cleanup (``@CleanupTime`` hours, ``@CleanupMode`` BEFORE_BACKUP or
      AFTER_BACKUP, the default) deletes, in that database's folder of the
      same type only, the backup files whose backup date is older than the
      cleanup date.  For LOG backups the cleanup date is never later than
      the start of the latest full or differential backup (Ola's
      ``@CurrentLatestBackup``: MAX(backup_start_date) of type D/I, or of a
      log whose last_lsn is below the differential base), so log backups a
      restore from the latest full/diff needs are kept.  AFTER_BACKUP
      cleanup runs only when the backup (and its verify) succeeded, and
      only when the backup type was not changed.

    Errors stop the step as Ola's RAISERROR does: a parameter error stops
    everything; a failed backup of one database lets the others go on and
    fails the step at the end."""
    backup_type = str(args.get("backuptype") or "").upper()
    if backup_type not in _EXT:
        raise _sql_error("The value for the parameter @BackupType is not supported. Supported values are FULL, "
                         "DIFF and LOG. See https://ola.hallengren.com/sql-server-backup.html#BackupType.")
    directory = args.get("directory") or inst["paths"]["backup"]
    cleanup_mode = str(args.get("cleanupmode") or "AFTER_BACKUP").upper()
    if cleanup_mode not in ("BEFORE_BACKUP", "AFTER_BACKUP"):
        raise _sql_error("The value for the parameter @CleanupMode is not supported. Supported values are "
                         "BEFORE_BACKUP and AFTER_BACKUP. See https://ola.hallengren.com/sql-server-backup.html"
                         "#CleanupMode.")
    cleanup_time = int(args["cleanuptime"]) if args.get("cleanuptime") not in (None, "") else None
    change_type = _yes(args, "changebackuptype", "N")
    checksum = _yes(args, "checksum", "N")
    verify = _yes(args, "verify", "N")
    copy_only = _yes(args, "copyonly", "N")
    roots = [normpath(d.strip()) for d in str(directory).split(",") if d.strip()]
    for root in roots:
        item = get_item(state, root)
        if item is None or item["type"] != "directory":
            raise _sql_error(f"The directory {root} does not exist. See https://ola.hallengren.com/"
                             "sql-server-backup.html.")
    server = state["host"]["hostname"]
    instance_name = None if inst["name"].upper() == "MSSQLSERVER" else inst["name"]
    server_part = f"{server}${instance_name}" if instance_name else server
    stamp = when.astimezone(_dt.UTC).strftime("%Y%m%d_%H%M%S")
    errors: list[str] = []
    done: list[str] = []
    for db in _ola_databases(inst, str(args.get("databases") or "")):
        if db["status"] != "Normal":
            continue
        kind = backup_type
        if change_type and kind == "LOG" and db["recovery_model"] != "Simple" and db["log_chain_lsn"] is None \
                and db["name"].lower() != "master":
            kind = "DIFF"
        if change_type and kind == "DIFF" and (db["name"].lower() == "master" or db["differential_base_lsn"] is None):
            kind = "FULL"
        if kind == "LOG" and (db["recovery_model"] == "Simple" or db["log_chain_lsn"] is None):
            continue
        if kind == "DIFF" and db["differential_base_lsn"] is None:
            continue
        if kind in ("DIFF", "LOG") and db["name"].lower() == "master":
            continue
        latest_backup = None
        if kind == "LOG" and cleanup_time is not None:
            rows = [r for r in inst["backup_history"] if r["database"].lower() == db["name"].lower()
                    and not r.get("is_damaged") and (r["type"] in ("Full", "Differential") or (
                        r["type"] == "Log" and r["last_lsn"] < (db["differential_base_lsn"] or 0)))]
            latest_backup = max((parse_iso(r["start"]) for r in rows), default=None)
        suffix = "COPY_ONLY" if copy_only else ""
        folders = [f"{root.rstrip(chr(92))}\\{server_part}\\{db['name']}\\{kind}{'_' + suffix if suffix else ''}"
                   for root in roots]
        file_name = (f"{server_part}_{db['name']}_{kind}{'_' + suffix if suffix else ''}_{stamp}.{_EXT[kind]}")
        targets = [f"{f}\\{file_name}" for f in folders]
        for folder in folders:
            if not exists(state, folder):
                make_dirs(state, folder, iso(when))
        cleanup_date = None          # Ola: no cleanup when any of its cleanup dates is NULL
        if cleanup_time is not None and kind == backup_type:
            cleanup_date = when - _dt.timedelta(hours=cleanup_time)
            if kind == "LOG":
                cleanup_date = min(cleanup_date, latest_backup) if latest_backup is not None else None
        if cleanup_mode == "BEFORE_BACKUP" and cleanup_date is not None:
            for folder in folders:
                _xp_delete_file(state, folder, _EXT[kind], cleanup_date)
        try:
            write_backup(state, inst, db, _KIND[kind], targets, when, checksum=checksum, copy_only=copy_only,
                         verified=verify, user=f"NT SERVICE\\{inst['agent_service']}", computer=server)
        except DbaError as exc:
            errors.append(f"Msg 3201, {exc}")
            continue
        done.append(targets[0])
        if cleanup_mode == "AFTER_BACKUP" and cleanup_date is not None:
            for folder in folders:
                _xp_delete_file(state, folder, _EXT[kind], cleanup_date)
    if errors:
        raise _sql_error(" ".join(errors))
    return f"DatabaseBackup: {len(done)} backup(s): {', '.join(done) or 'none'}."


def _xp_delete_file(state: dict[str, t.Any], folder: str, extension: str, before: _dt.datetime) -> int:
    """``xp_delete_file 0, folder, ext, date``: delete the backup files
    (files with a backup header) of ``folder`` (not its subfolders) with
    that extension whose backup finished before ``before``."""
    removed = 0
    if not exists(state, folder):
        return 0
    for item in children(state, folder):
        if item["type"] != "file" or not item["path"].lower().endswith("." + extension.lower()):
            continue
        try:
            sets = parse_sets(read_file(state, item["path"]))
        except (FileNotFoundError, IsADirectoryError, DiskFull):
            continue
        if not sets:
            continue
        finished = max(parse_iso(s["end"]) for s in sets)
        if finished < before:
            remove(state, item["path"])
            removed += 1
    return removed
