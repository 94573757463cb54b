"""Model of the project-owned ``mcms.infra.sql_agent_jobs`` (its source:
``collections/ansible_collections/mcms/infra/plugins/modules/sql_agent_jobs.ps1``).

Reads and writes the ``agent`` section of an instance owned by :mod:`.sql`
(``jobs`` with their ``steps``, shared ``schedules``); nothing new in the
state, so the jobs it creates run on the lab clock exactly like any other
(:mod:`.sql_scheduler`).

Fidelity notes (from the module's source, T-SQL on msdb through ``SqlClient``):

* Connection: :func:`.sql.connect` (Windows authentication as the instance's
  setup admin); a missing or stopped instance fails with the connection error.
* An edition without SQL Server Agent (Express, ``SERVERPROPERTY('EngineEdition')
  = 4``) fails: jobs there would never run. A stopped Agent service only warns.
* Every job is validated before anything changes, with msdb's own messages:
  ``sp_add_jobstep``/``sp_update_jobstep`` (14262, ``The specified
  @database_name ('X') does not exist.``), ``sp_add_job`` (14262 for the owner,
  14234 for an unknown category), ``sp_verify_schedule`` (14278 with 14200 /
  14266 / 14288 as the reason).
* Exact for the jobs it lists: a missing job is one record (``present``) and is
  created with its step and schedule (``sp_add_job``, ``sp_add_jobstep``,
  ``sp_add_schedule`` + ``sp_attach_schedule``, ``sp_add_jobserver``); an
  existing job's attributes, its step 1 and its one schedule are compared one
  attribute at a time; extra steps are deleted (``sp_delete_jobstep``), extra
  schedules detached (``sp_detach_schedule @delete_unused_schedule = 1``).
  A schedule the job shares with another job is never edited: it is detached
  from this job and a new one created. Jobs not listed are never read or
  touched.
* Schedules hold msdb's codes (``freq_type`` 1/4/8/16/64/128,
  ``freq_subday_type`` 1/2/4/8); dates ``YYYY-MM-DD`` and times ``HH:MM:SS``
  as the ps1 formats msdb's integers.
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

from ..drift import Arg, DriftError, drift
from ..state import iso
from . import services, sql
from ._base import ModuleContext, model
from .sql_agent import add_schedule, get_job, new_job, new_step

UPSTREAM = "mcms.infra 0.1.0"

FREQ_TYPES = {"Once": 1, "Daily": 4, "Weekly": 8, "Monthly": 16, "AgentStart": 64, "IdleComputer": 128}
SUBDAY_TYPES = {"Once": 1, "Time": 1, "Seconds": 2, "Minutes": 4, "Hours": 8}
JOB_FIELDS = ("description", "category", "enabled", "owner_login")
STEP_FIELDS = ("name", "subsystem", "database_name", "command", "on_success_action", "on_fail_action")
SCHEDULE_FIELDS = ("enabled", "freq_type", "freq_interval", "freq_subday_type", "freq_subday_interval",
                   "freq_recurrence_factor", "active_start_date", "active_end_date", "active_start_time",
                   "active_end_time")
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^\d{6}$")


class Refused(Exception):
    """What msdb (or the module) refuses; ``str()`` is the message."""


def _invalid(reason: str) -> Refused:
    # 14278: The schedule for this job is invalid (reason: %s).
    return Refused(f"The schedule for this job is invalid (reason: {reason}).")


def _date(value: str, param: str) -> str:
    if not _DATE.match(value):
        raise _invalid(f"The specified '{param}' is invalid (valid values are: 19900101 to 99991231).")
    try:
        day = _dt.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise _invalid(f"The specified '{param}' is invalid (valid values are: 19900101 to 99991231).") from None
    if day < _dt.date(1990, 1, 1):
        raise _invalid(f"The specified '{param}' is invalid (valid values are: 19900101 to 99991231).")
    return day.isoformat()


def _time(value: str, param: str) -> str:
    if not _TIME.match(value) or int(value[0:2]) > 23 or int(value[2:4]) > 59 or int(value[4:6]) > 59:
        raise _invalid(f"The specified '{param}' is invalid (valid values are: 000000 to 235959).")
    return f"{value[0:2]}:{value[2:4]}:{value[4:6]}"


def wanted_schedule(s: dict[str, t.Any]) -> dict[str, t.Any]:
    """The msdb row ``sp_add_schedule`` would write, after ``sp_verify_schedule``."""
    ftype = FREQ_TYPES[s["frequency_type"]]
    interval = int(s["frequency_interval"] or 0)
    subday = SUBDAY_TYPES[s["frequency_subday_type"]]
    sub_interval = int(s["frequency_subday_interval"] or 0)
    recurrence = int(s["frequency_recurrence_factor"] or 0)
    if ftype == 4 and interval < 1:
        raise _invalid("The specified '@freq_interval' is invalid.")
    if ftype == 8 and not 1 <= interval <= 127:
        raise _invalid("The specified '@freq_interval' is invalid (valid values are: 1 to 127).")
    if ftype == 16 and not 1 <= interval <= 31:
        raise _invalid("The specified '@freq_interval' is invalid (valid values are: 1 to 31).")
    if ftype in (8, 16) and recurrence < 1:
        raise _invalid("The specified '@freq_recurrence_factor' is invalid.")
    if ftype in (1, 64, 128):
        interval, recurrence = 0, 0
    elif ftype == 4:
        recurrence = 0
    if subday == 1:
        sub_interval = 0
    elif sub_interval < 1 or (subday == 2 and sub_interval < 10):
        raise _invalid("The specified '@freq_subday_interval' is invalid.")
    start_date = _date(str(s["start_date"]), "@active_start_date")
    end_date = _date(str(s["end_date"]), "@active_end_date")
    if end_date < start_date:
        raise _invalid("@active_end_date cannot be before @active_start_date.")
    start_time = _time(str(s["start_time"]), "@active_start_time")
    end_time = _time(str(s["end_time"]), "@active_end_time")
    return {"enabled": bool(s["enabled"]), "freq_type": ftype, "freq_interval": interval,
            "freq_subday_type": subday, "freq_subday_interval": sub_interval, "freq_relative_interval": 0,
            "freq_recurrence_factor": recurrence, "active_start_date": start_date, "active_end_date": end_date,
            "active_start_time": start_time, "active_end_time": end_time}


def _wanted_step(step: dict[str, t.Any], inst: dict[str, t.Any]) -> dict[str, t.Any]:
    db = sql.find_database(inst, step["database"])
    if db is None:
        raise Refused(f"The specified @database_name ('{step['database']}') does not exist.")
    return {"name": step["name"], "subsystem": step["subsystem"], "database_name": db["name"],
            "command": step["command"], "on_success_action": step["on_success_action"],
            "on_fail_action": step["on_fail_action"]}


def _step_view(step: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    return None if step is None else {k: step.get(k) for k in ("id", *STEP_FIELDS)}


def _schedule_view(s: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"name": s["name"], **{k: s.get(k) for k in SCHEDULE_FIELDS}}


def _job_view(inst: dict[str, t.Any], job: dict[str, t.Any] | None) -> dict[str, t.Any]:
    if job is None:
        return {"present": False}
    return {"present": True, **{k: job.get(k) for k in JOB_FIELDS},
            "steps": [_step_view(s) for s in sorted(job["steps"], key=lambda s: s["id"])],
            "schedules": [_schedule_view(s) for s in _attached(inst, job["name"])]}


def _attached(inst: dict[str, t.Any], job_name: str) -> list[dict[str, t.Any]]:
    return [s for s in inst["agent"]["schedules"] if any(j.lower() == job_name.lower() for j in s["jobs"])]


def _detach(inst: dict[str, t.Any], sched: dict[str, t.Any], job_name: str, *, delete_unused: bool) -> None:
    sched["jobs"] = [j for j in sched["jobs"] if j.lower() != job_name.lower()]
    if delete_unused and not sched["jobs"]:
        inst["agent"]["schedules"] = [s for s in inst["agent"]["schedules"] if s is not sched]


@model("mcms.infra.sql_agent_jobs", upstream=UPSTREAM)
def sql_agent_jobs(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    try:
        conn = sql.connect(ctx)
    except sql.DbaError as exc:
        ctx.fail(str(exc))
    inst = conn.inst
    if not inst.get("agent_service"):
        ctx.fail(f"SQL Server Agent is not part of the {inst.get('edition', 'Express')} edition of "
                 f"{p['sql_instance']}: Agent jobs would never run.")
    agent_svc = services.get_service(ctx.state, inst["agent_service"])
    if agent_svc is not None and agent_svc.get("state") != "started":
        ctx.warn(f"the SQL Server Agent service {inst['agent_service']} is not running: the jobs are configured "
                 "but will not run until it starts")

    # 1. Validate every job before any change (what msdb would refuse).
    names = [j["name"].lower() for j in p["jobs"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        ctx.fail(f"jobs: the job names {', '.join(dupes)} are listed more than once")
    plans = []
    try:
        for entry in p["jobs"]:
            if entry["category"] not in inst["agent"]["categories"]:
                raise Refused("The specified '@category_name' is invalid (valid values are returned by "
                              "sp_help_category).")
            owner = None
            if entry.get("owner"):
                login = sql.find_login(inst, entry["owner"])
                if login is None:
                    raise Refused(f"The specified @owner_login_name ('{entry['owner']}') does not exist.")
                owner = login["name"]
            plans.append((entry, owner, _wanted_step(entry["step"], inst), wanted_schedule(entry["schedule"])))
    except Refused as exc:
        ctx.fail(f"job {entry['name']}: {exc}")

    drift: list[dict[str, t.Any]] = []
    checked: list[dict[str, t.Any]] = []
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    write = not ctx.check_mode
    when = iso(ctx.now())

    def record(rtype: str, resource: str, attribute: str, wanted: t.Any, found: t.Any) -> None:
        drift.append({"resource_type": rtype, "resource": resource, "attribute": attribute,
                      "wanted": wanted, "found": found})

    for entry, owner, step, sched in plans:
        name = entry["name"]
        sched_name = entry["schedule"]["name"]
        step_res = f"{name}/step 1"
        sched_res = f"{name}/{sched_name}"
        checked += [{"resource_type": "sql_agent_job", "resource": name},
                    {"resource_type": "sql_agent_job_step", "resource": step_res},
                    {"resource_type": "sql_agent_job_schedule", "resource": sched_res}]
        job = get_job(inst, name)
        before[name] = _job_view(inst, job)
        wanted_job = {"description": entry["description"], "category": entry["category"],
                      "enabled": entry["enabled"]}
        after[name] = {"present": True, **wanted_job,
                       "owner_login": owner or (job["owner_login"] if job else conn.login),
                       "steps": [{"id": 1, **step}],
                       "schedules": [{"name": sched_name, **{k: sched[k] for k in SCHEDULE_FIELDS}}]}
        if job is None:
            record("sql_agent_job", name, "present", True, False)
            if write:
                job = new_job(inst, name, owner=owner or conn.login, when=when, category=entry["category"],
                              description=entry["description"] or None, enabled=entry["enabled"])
                job["description"] = entry["description"]
                job["steps"].append(new_step(1, step["name"], subsystem=step["subsystem"],
                                             command=step["command"], database_name=step["database_name"],
                                             on_success_action=step["on_success_action"],
                                             on_fail_action=step["on_fail_action"]))
                inst["agent"]["jobs"][name.lower()] = job
                add_schedule(inst, sched_name, sched, [job["name"]], when)
            continue

        # the job
        if owner is not None:
            wanted_job["owner_login"] = owner
        job_changed = False
        for field, value in wanted_job.items():
            found = job.get(field)
            same = found.lower() == value.lower() if field == "owner_login" else found == value
            if not same:
                record("sql_agent_job", name, field, value, found)
                job_changed = True
                if write:
                    job[field] = value
        # its one step
        steps = sorted(job["steps"], key=lambda s: s["id"])
        first = steps[0] if steps and steps[0]["id"] == 1 else None
        if first is None:
            record("sql_agent_job_step", step_res, "present", True, False)
            if write:
                job["steps"].insert(0, new_step(1, step["name"], subsystem=step["subsystem"],
                                                command=step["command"], database_name=step["database_name"],
                                                on_success_action=step["on_success_action"],
                                                on_fail_action=step["on_fail_action"]))
            job_changed = True
        else:
            for field in STEP_FIELDS:
                if first.get(field) != step[field]:
                    record("sql_agent_job_step", step_res, field, step[field], first.get(field))
                    job_changed = True
                    if write:
                        first[field] = step[field]
        for extra in [s for s in steps if s is not first]:
            record("sql_agent_job_step", f"{name}/step {extra['id']}", "present", False, True)
            job_changed = True
            if write:
                job["steps"] = [s for s in job["steps"] if s is not extra]
        if (job.get("start_step_id") or 1) != 1:
            record("sql_agent_job", name, "start_step_id", 1, job.get("start_step_id"))
            job_changed = True
            if write:
                job["start_step_id"] = 1
        # its one schedule
        attached = _attached(inst, name)
        mine = next((s for s in attached if s["name"].lower() == sched_name.lower()), None)
        for extra in [s for s in attached if s is not mine]:
            record("sql_agent_job_schedule", f"{name}/{extra['name']}", "present", False, True)
            job_changed = True
            if write:
                _detach(inst, extra, name, delete_unused=True)
        if mine is None:
            record("sql_agent_job_schedule", sched_res, "present", True, False)
            job_changed = True
            if write:
                add_schedule(inst, sched_name, sched, [job["name"]], when)
        else:
            differs = [f for f in SCHEDULE_FIELDS if mine.get(f) != sched[f]]
            if mine["name"] != sched_name:
                differs.insert(0, "name")
            for field in differs:
                record("sql_agent_job_schedule", sched_res, field,
                       sched_name if field == "name" else sched[field], mine.get(field))
            if differs:
                job_changed = True
            if differs and write:
                if len(mine["jobs"]) > 1:
                    # shared with another job: never edited; this job gets its own
                    _detach(inst, mine, name, delete_unused=False)
                    add_schedule(inst, sched_name, sched, [job["name"]], when)
                else:
                    mine["name"] = sched_name
                    mine.update({k: sched[k] for k in SCHEDULE_FIELDS})
        if write and job_changed:
            job["modified"] = when

    ctx.changed(bool(drift))
    ctx.set_diff(before, after)
    return ctx.exit(mcms_drift=drift, mcms_drift_checked=checked)


# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

_SCHEDULE_DRIFT_FIELDS = ("enabled", "freq_type", "freq_interval", "freq_subday_type", "freq_subday_interval",
                          "freq_recurrence_factor", "active_start_date", "active_end_date", "active_start_time",
                          "active_end_time")


@drift("set-agent-schedule", section="sql",
       help="Change one msdb.dbo.sysschedules column of a SQL Server Agent job's schedule, as "
            "msdb.dbo.sp_update_schedule would (e.g. freq_subday_interval 4: every 4 hours instead of every hour).",
       args=[Arg("job", "job name"), Arg("attribute", "schedule column", choices=_SCHEDULE_DRIFT_FIELDS),
             Arg("value", "new value (integer codes as msdb stores them; dates YYYY-MM-DD, times HH:MM:SS, "
                          "enabled true/false)"),
             Arg("--schedule", "schedule name (default: the job's only schedule)", required=False),
             Arg("--instance", "instance name (default: the only one)", required=False)])
def set_agent_schedule(state: dict[str, t.Any], now: _dt.datetime, *, job: str, attribute: str, value: str,
                       schedule: str | None = None, instance: str | None = None) -> str:
    from .sql_agent import _agent_job, _sql_instance

    inst_name, inst = _sql_instance(state, instance)
    _jobs, found = _agent_job(inst_name, inst, job)
    mine = _attached(inst, str(found["name"]))
    if schedule is not None:
        mine = [s for s in mine if str(s.get("name")).lower() == schedule.lower()]
    if len(mine) != 1:
        names = ", ".join(sorted(str(s.get("name")) for s in _attached(inst, str(found["name"])))) or "none"
        raise DriftError(f"SQL Agent job {found['name']} on {inst_name} has {len(mine)} matching schedule(s) "
                         f"(its schedules: {names}); choose one with --schedule")
    sched = mine[0]
    new: t.Any
    if attribute == "enabled":
        if value.lower() not in ("true", "false", "1", "0"):
            raise DriftError(f"enabled takes true or false, not {value!r}")
        new = value.lower() in ("true", "1")
    elif attribute.startswith("freq_"):
        if not re.fullmatch(r"\d+", value):
            raise DriftError(f"{attribute} takes an integer, not {value!r}")
        new = int(value)
    elif attribute.endswith("_date"):
        try:
            new = _dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise DriftError(f"{attribute} takes a date YYYY-MM-DD, not {value!r}") from None
    else:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", value):
            raise DriftError(f"{attribute} takes a time HH:MM:SS, not {value!r}")
        new = value
    before = sched.get(attribute)
    sched[attribute] = new
    return (f"SQL Agent schedule {sched.get('name')} of job {found['name']} on {inst_name}: "
            f"{attribute} {before} -> {new}")
