"""SQL Server Agent and Ola Hallengren's Maintenance Solution through
``lowlydba.sqlserver`` 2.8.1: ``agent_job``, ``agent_job_step``,
``agent_job_schedule`` and ``maintenance_solution``.

The state lives in ``state["sql"]["instances"][...]["agent"]`` and
``["maintenance_solution"]`` (schema in ``sql.py``).  Schedules are stored
with msdb's codes (``freq_type`` 1/4/8/16/32/64/128, ``freq_subday_type``
1/2/4/8, ``freq_relative_interval`` 1/2/4/8/16, ...), exactly what
``New-DbaAgentSchedule``/``Set-DbaAgentSchedule`` compute from the module's
strings, so a drift check compares what SQL Server would hold.

Faithful quirks of 2.8.1 + dbatools (they are what real hosts do):

* ``Set-DbaAgentJob``/``Set-DbaAgentSchedule``/``Set-DbaAgentJobStep``
  return nothing under ``-WhatIf``, so in check mode an *existing* job,
  schedule or step reports ``changed: false`` even when it would change.
* ``frequency_interval`` arrives as a string: for ``Daily`` the interval is
  therefore always 1; ``Weekly`` takes one day name or one number.
* Updating a schedule without ``frequency_type`` resets it to ``Once``.
* The data of a job step does not include ``OutputFileName`` (a note
  property outside the default view).
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

from .. import state as st
from ..drift import Arg, DriftError, drift
from ..state import iso
from ._base import ModuleContext
from .sql import (
    Connection,
    DbaError,
    base_props,
    connect,
    dotnet_iso,
    find_database,
    find_login,
    new_guid,
    sql_model,
    time_of_day,
)

NEVER = "0001-01-01T00:00:00.0000000"

# -- helpers -------------------------------------------------------------------------


def get_job(inst: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    return inst["agent"]["jobs"].get(name.lower())


def job_schedules(inst: dict[str, t.Any], job_name: str) -> list[dict[str, t.Any]]:
    return [s for s in inst["agent"]["schedules"] if any(j.lower() == job_name.lower() for j in s["jobs"])]


def new_job(inst: dict[str, t.Any], name: str, *, owner: str, when: str, category: str = "[Uncategorized (Local)]",
            description: str | None = None, enabled: bool = True) -> dict[str, t.Any]:
    return {"name": name, "job_id": new_guid(inst["name"], "job", name, when), "enabled": enabled,
            "owner_login": owner, "category": category,
            "description": description if description else "No description available.", "start_step_id": 1,
            "created": when, "modified": when, "steps": []}


def new_step(step_id: int, name: str, *, subsystem: str = "TransactSql", command: str = "",
             database_name: str = "master", on_success_action: str = "QuitWithSuccess", on_success_step: int = 0,
             on_fail_action: str = "QuitWithFailure", on_fail_step: int = 0, retry_attempts: int = 0,
             retry_interval: int = 0, output_file_name: str = "") -> dict[str, t.Any]:
    return {"id": step_id, "name": name, "subsystem": subsystem, "command": command, "database_name": database_name,
            "on_success_action": on_success_action, "on_success_step": on_success_step,
            "on_fail_action": on_fail_action, "on_fail_step": on_fail_step, "retry_attempts": retry_attempts,
            "retry_interval": retry_interval, "output_file_name": output_file_name}


def job_view(conn: Connection, job: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Get-DbaAgentJob``'s default view."""
    out = base_props(conn)
    out.update({"Name": job["name"], "Category": job["category"], "OwnerLoginName": job["owner_login"],
                "CurrentRunStatus": "Idle", "CurrentRunRetryAttempt": 0, "Enabled": job["enabled"],
                "LastRunDate": dotnet_iso(job["last_run_date"]) if job.get("last_run_date") else NEVER,
                "LastRunOutcome": job.get("last_run_outcome") or "Unknown",
                "HasSchedule": bool(job_schedules(conn.inst, job["name"])), "OperatorToEmail": "",
                "CreateDate": dotnet_iso(job["created"])})
    return out


def step_view(conn: Connection, job: dict[str, t.Any], step: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Get-DbaAgentJobStep``'s default view."""
    out = base_props(conn)
    out.update({"AgentJob": job["name"], "Name": step["name"], "SubSystem": step["subsystem"],
                "LastRunDate": dotnet_iso(step["last_run_date"]) if step.get("last_run_date") else NEVER,
                "LastRunOutcome": step.get("last_run_outcome") or "Unknown", "State": "Existing"})
    return out


# -- agent_job ----------------------------------------------------------------------

@sql_model("lowlydba.sqlserver.agent_job")
def agent_job(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    try:
        conn = connect(ctx)
        inst = conn.inst
        when = iso(ctx.now())
        job = get_job(inst, p["job"])
        if p["state"] == "absent":
            if job is None:
                return ctx.exit(changed=False)
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            _remove_job(inst, job)
            data = base_props(conn)
            data.update({"Name": job["name"], "Status": "Dropped"})
            return ctx.exit(data=data)

        categories = inst["agent"]["categories"]
        category = p.get("category")
        owner = p.get("owner_login")
        schedule = p.get("schedule")
        if job is None:
            # New-DbaAgentJob: its checks run inside ShouldProcess (nothing is checked under -WhatIf); the
            # module reports its errors as "Failed creating new agent job: ..."
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            try:
                if category is not None and category not in categories and not p["force"]:
                    raise DbaError(f"Job category {category} doesn't exist on {conn.server}. Use -Force to "
                                   "create it.")
                if owner is not None and find_login(inst, owner) is None:
                    raise DbaError(f"The owner {owner} does not exist on instance {conn.server}")
            except DbaError as exc:
                ctx.result["changed"] = False
                ctx.fail(f"Failed creating new agent job: {exc}")
            job_category = category
            if category is not None and category not in categories:
                categories.append(category)     # -Force: New-DbaAgentJobCategory, but the job keeps the
                job_category = None             # default category (New-DbaAgentJob sets it only if it existed)
            job = new_job(inst, p["job"], owner=find_login(inst, owner)["name"] if owner else conn.login,
                          when=when, category=job_category or "[Uncategorized (Local)]",
                          description=p.get("description"), enabled=p["enabled"])
            if p.get("start_step_id") is not None and p["start_step_id"] >= 1:
                job["start_step_id"] = p["start_step_id"]
            inst["agent"]["jobs"][job["name"].lower()] = job
            # the schedule is attached by a nested Set-DbaAgentJob without -EnableException: a missing
            # schedule is only a warning and the job is created without it
            shared = next((s for s in inst["agent"]["schedules"] if s["name"] == schedule), None) \
                if schedule is not None else None
            if shared is not None and job["name"] not in shared["jobs"]:
                shared["jobs"].append(job["name"])
            return ctx.exit(data=job_view(conn, job))

        if category is not None and category not in categories and not p["force"]:
            raise DbaError(f"Job category {category} doesn't exist on {conn.server}. Use -Force to create it.")
        if owner is not None and find_login(inst, owner) is None:
            raise DbaError(f"The given owner log in name {owner} does not exist on instance {conn.server}")
        shared = None
        if schedule is not None:
            shared = next((s for s in inst["agent"]["schedules"] if s["name"] == schedule), None)
            if shared is None:
                raise DbaError(f"Schedule {schedule} cannot be found on instance {conn.server}")

        # Set-DbaAgentJob: computes the new values, applies them only outside -WhatIf
        if p.get("start_step_id") is not None and not job["steps"]:
            raise DbaError(f"There are no job steps present for job {p['job']} on instance {conn.server}")
        if ctx.check_mode:
            return ctx.result       # Set-DbaAgentJob -WhatIf outputs nothing: changed stays false
        before = _compare_job(conn, job)
        if shared is not None and not any(j.lower() == job["name"].lower() for j in shared["jobs"]):
            shared["jobs"].append(job["name"])
        job["enabled"] = p["enabled"]
        if p.get("description"):
            job["description"] = p["description"]
        if category:
            if category not in categories:
                categories.append(category)
            job["category"] = category
        if p.get("start_step_id") and any(s["id"] == p["start_step_id"] for s in job["steps"]):
            job["start_step_id"] = p["start_step_id"]
        if owner:
            job["owner_login"] = find_login(inst, owner)["name"]
        after = _compare_job(conn, job)
        if after != before:
            job["modified"] = when
            ctx.changed(True)
        return ctx.exit(data=job_view(conn, job))
    except DbaError as exc:
        ctx.fail(f"Error configuring SQL Agent job: {exc}")


def _compare_job(conn: Connection, job: dict[str, t.Any]) -> tuple[t.Any, ...]:
    return (job["category"], job["enabled"], job["name"], job["owner_login"],
            bool(job_schedules(conn.inst, job["name"])), job["description"], job["start_step_id"])


def _remove_job(inst: dict[str, t.Any], job: dict[str, t.Any]) -> None:
    """``Remove-DbaAgentJob``: ``sp_delete_job @delete_unused_schedule = 1``."""
    del inst["agent"]["jobs"][job["name"].lower()]
    keep = []
    for sched in inst["agent"]["schedules"]:
        was_used = bool(sched["jobs"])
        sched["jobs"] = [j for j in sched["jobs"] if j.lower() != job["name"].lower()]
        if was_used and not sched["jobs"]:
            continue
        keep.append(sched)
    inst["agent"]["schedules"] = keep


# -- agent_job_step -----------------------------------------------------------------

@sql_model("lowlydba.sqlserver.agent_job_step")
def agent_job_step(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    step_id = p.get("step_id")
    step_name = p.get("step_name")
    try:
        conn = connect(ctx)
        inst = conn.inst
        job = get_job(inst, p["job"])
        steps = job["steps"] if job is not None else []
        # ``Where-Object Name -eq $stepName``: PowerShell's -eq ignores case (so does msdb's collation)
        existing = next((s for s in steps if step_name is not None and s["name"].lower() == step_name.lower()),
                        None)
        if p["state"] == "absent":
            if existing is None:
                existing = next((s for s in steps if s["id"] == step_id), None)
            if existing is None:
                return ctx.exit(changed=False)
            ctx.changed(True)
            if not ctx.check_mode:
                job["steps"] = [s for s in steps if s is not existing]
                for i, s in enumerate(job["steps"], start=1):
                    s["id"] = i
            return ctx.result
        if not step_name or not step_id:
            ctx.fail("Step name and step_id must be specified when state=present.")
        if p.get("database") and find_database(inst, p["database"]) is None:
            raise DbaError(f"The database {p['database']} is not present on instance {conn.server}.")
        values = {"database_name": p["database"], "subsystem": p["subsystem"],
                  "on_success_action": p["on_success_action"], "on_success_step": p["on_success_step_id"],
                  "on_fail_action": p["on_fail_action"], "on_fail_step": p["on_fail_step_id"],
                  "retry_attempts": p["retry_attempts"], "retry_interval": p["retry_interval"]}
        if p.get("command") is not None:
            values["command"] = p["command"]
        if existing is None:
            if job is None:
                raise DbaError(f"Job {p['job']} doesn't exists on {conn.server}")
            if any(s["id"] == step_id for s in steps):
                raise DbaError(f"There is already a step with ID {step_id} for job {p['job']} on {conn.server}")
            if step_id > len(steps) + 1:
                raise DbaError(f"The step id {step_id} is not valid for job {p['job']}: the next step id is "
                               f"{len(steps) + 1}")
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            step = new_step(step_id, step_name, **values)
            if p.get("output_file"):
                step["output_file_name"] = p["output_file"]
            steps.append(step)
            steps.sort(key=lambda s: s["id"])
            return ctx.exit(data=step_view(conn, job, step))
        if existing["id"] != step_id:
            ctx.fail(f"There is already a step named '{step_name}' for this job with an ID of {existing['id']}.")
        if ctx.check_mode:
            # Set-DbaAgentJobStep -WhatIf outputs nothing, but the module sets changed when $checkMode
            return ctx.exit(changed=True)
        before = dict(existing)
        existing.update(values)
        if p.get("output_file") and existing["output_file_name"] != p["output_file"]:
            existing["output_file_name"] = p["output_file"]
        ctx.changed(existing != before)
        return ctx.exit(data=step_view(conn, job, existing))
    except DbaError as exc:
        ctx.fail("Error configuring SQL Agent job step.", exception=str(exc))


# -- agent_job_schedule -------------------------------------------------------------

FREQ_TYPES = {"Once": 1, "OneTime": 1, "Daily": 4, "Weekly": 8, "Monthly": 16, "MonthlyRelative": 32,
              "AgentStart": 64, "AutoStart": 64, "IdleComputer": 128, "OnIdle": 128}
FREQ_TYPE_NAMES = {1: "OneTime", 4: "Daily", 8: "Weekly", 16: "Monthly", 32: "MonthlyRelative", 64: "AutoStart",
                   128: "OnIdle"}
SUBDAY_TYPES = {"Once": 1, "Time": 1, "Seconds": 2, "Second": 2, "Minutes": 4, "Minute": 4, "Hours": 8, "Hour": 8}
SUBDAY_NAMES = {0: "Unknown", 1: "Once", 2: "Second", 4: "Minute", 8: "Hour"}
RELATIVE = {"First": 1, "Second": 2, "Third": 4, "Fourth": 8, "Last": 16, "Unused": 0}
RELATIVE_NAMES = {0: "0", 1: "First", 2: "Second", 4: "Third", 8: "Fourth", 16: "Last"}
_WEEKLY = {"sunday": 1, "monday": 2, "tuesday": 4, "wednesday": 8, "thursday": 16, "friday": 32, "saturday": 64}
_WEEKLY_SET = {"weekdays": 62, "weekend": 65, "everyday": 127}
_WEEKLY_NUM_ADD = {1, 2, 4, 8, 16, 32, 64}
_RELATIVE_DAYS = {"sunday": 1, "monday": 2, "tuesday": 3, "wednesday": 4, "thursday": 5, "friday": 6, "saturday": 7,
                  "day": 8, "weekdays": 9, "weekday": 9, "weekendday": 10}
REGEX_DATE = re.compile(
    r"(?<!\d)(?:(?:(?:1[6-9]|[2-9]\d)?\d{2})(?:(?:(?:0[13578]|1[02])31)|(?:(?:0[1,3-9]|1[0-2])(?:29|30)))|"
    r"(?:(?:(?:(?:1[6-9]|[2-9]\d)?(?:0[48]|[2468][048]|[13579][26])|(?:(?:16|[2468][048]|[3579][26])00)))0229)|"
    r"(?:(?:1[6-9]|[2-9]\d)?\d{2})(?:(?:0?[1-9])|(?:1[0-2]))(?:0?[1-9]|1\d|2[0-8]))(?!\d)")
REGEX_TIME = re.compile(r"^(?:(?:([01]?\d|2[0-3]))?([0-5]?\d))?([0-5]?\d)$")


def _ps_lt(left: str, right: t.Any) -> bool:
    """PowerShell ``"<string>" -lt <int>``: the right side becomes a string."""
    return left.lower() < str(right).lower()


def _interval(freq_type: int, raw: str | None, *, relative_weekday_name: str) -> int:
    """The ``$interval`` dbatools computes from the module's string."""
    if freq_type == 4:
        return 1     # a string is never Int32: dbatools keeps 1
    value = (raw or "").strip()
    low = value.lower()
    if freq_type == 8:
        if low in _WEEKLY:
            return _WEEKLY[low]
        if low in _WEEKLY_SET:
            return _WEEKLY_SET[low]
        if value.isdigit():
            n = int(value)
            if n in _WEEKLY_NUM_ADD or n in (62, 65) or 120 <= n <= 127:
                return n
        return 0
    if freq_type == 16:
        return int(value) if value.isdigit() and 1 <= int(value) <= 31 else 0
    if freq_type == 32:
        days = dict(_RELATIVE_DAYS)
        if relative_weekday_name != "Weekdays":
            days.pop("weekdays")
        else:
            days.pop("weekday")
        if low in days:
            return days[low]
        return int(value) if value.isdigit() and 1 <= int(value) <= 10 else 0
    return 0


def _verify_schedule(values: dict[str, t.Any]) -> dict[str, t.Any]:
    """``msdb.dbo.sp_verify_schedule``: one-time, Agent-start and idle
    schedules keep no interval, relative interval or recurrence factor."""
    if values["freq_type"] in (1, 64, 128):
        values.update(freq_interval=0, freq_relative_interval=0, freq_recurrence_factor=0)
    return values


def _hms(value: str) -> str:
    value = value.zfill(6)
    return f"{value[0:2]}:{value[2:4]}:{value[4:6]}"


def _ymd(value: str) -> str:
    return f"{value[0:4]}-{value[4:6]}-{value[6:8]}"


def _new_schedule_values(ctx: ModuleContext, name: str) -> dict[str, t.Any]:
    """``New-DbaAgentSchedule``'s begin block: validation and conversion."""
    p = ctx.params
    force = bool(p.get("force"))
    ftype = FREQ_TYPES.get(p.get("frequency_type") or "", 1)
    raw_interval = p.get("frequency_interval")
    if p.get("frequency_type") == "Daily" and not raw_interval:
        raw_interval = "1"
    subday = SUBDAY_TYPES.get(p.get("frequency_subday_type") or "", 1)
    relative = RELATIVE.get(p.get("frequency_relative_interval") or "", 0)
    recurrence = p.get("frequency_recurrence_factor") or 0
    if ftype == 4 and raw_interval is not None and not force and raw_interval != "EveryDay" and (
            _ps_lt(raw_interval, 1) or not _ps_lt(raw_interval, 365)):
        raise DbaError("The daily frequency type requires a frequency interval to be between 1 and 365 or 'EveryDay'.")
    if ftype in (8, 16) and recurrence < 1:
        if force:
            recurrence = 1
        else:
            raise DbaError(f"The recurrence factor {recurrence} (parameter FrequencyRecurrenceFactor) needs to be at "
                           "least one when using a weekly or monthly interval.")
    interval = _interval(ftype, raw_interval, relative_weekday_name="Weekdays")
    if ftype in (4, 8, 32) and interval < 1:
        if force:
            interval = 1
        else:
            raise DbaError("Parameter FrequencyInterval must be provided for a recurring schedule.")
    start_date, end_date = p.get("start_date"), p.get("end_date")
    start_time, end_time = p.get("start_time"), p.get("end_time")
    if not start_date and force:
        start_date = ctx.now().strftime("%Y%m%d")
    elif not start_date:
        raise DbaError("Please enter a start date or use -Force to use defaults.")
    elif not REGEX_DATE.search(start_date):
        raise DbaError(f"Start date {start_date} needs to be a valid date with format yyyyMMdd")
    if not end_date and force:
        end_date = "99991231"
    elif not end_date:
        raise DbaError("Please enter an end date or use -Force to use defaults.")
    elif not REGEX_DATE.search(end_date):
        raise DbaError(f"End date {end_date} needs to be a valid date with format yyyyMMdd")
    elif end_date.lower() < start_date.lower():
        raise DbaError(f"End date {end_date} cannot be before start date {start_date}")
    if not start_time and force:
        start_time = "000000"
    elif not start_time:
        raise DbaError("Please enter a start time or use -Force to use defaults.")
    elif not REGEX_TIME.match(start_time):
        raise DbaError(f"Start time {start_time} needs to match between '000000' and '235959'. Schedule {name} not "
                       "set.")
    if not end_time and force:
        end_time = "235959"
    elif not end_time:
        raise DbaError("Please enter an end time or use -Force to use defaults.")
    elif not REGEX_TIME.match(end_time):
        raise DbaError(f"End time {end_time} needs to match between '000000' and '235959'. Schedule {name} not set.")
    subday_interval = p.get("frequency_subday_interval") or 0
    return _verify_schedule({
        "enabled": p.get("enabled") is not False, "freq_type": ftype, "freq_interval": interval if interval >= 1 else 0,
        "freq_subday_type": subday, "freq_subday_interval": subday_interval if subday_interval >= 1 else 0,
        "freq_relative_interval": relative if relative >= 1 and ftype == 32 else 0,
        "freq_recurrence_factor": recurrence if recurrence >= 1 and ftype in (8, 16, 32) else 0,
        "active_start_date": _ymd(start_date), "active_end_date": _ymd(end_date),
        "active_start_time": _hms(start_time), "active_end_time": _hms(end_time),
    })


def _set_schedule_values(ctx: ModuleContext, sched: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Set-DbaAgentSchedule``: the values it writes onto ``sched``."""
    p = ctx.params
    force = bool(p.get("force"))
    ftype = FREQ_TYPES.get(p.get("frequency_type") or "", 1)        # not given: the switch's default, Once
    subday = SUBDAY_TYPES.get(p.get("frequency_subday_type") or "", 0)
    raw_interval = p.get("frequency_interval")
    recurrence = p.get("frequency_recurrence_factor")
    if ftype == 4 and raw_interval is not None and not force and raw_interval != "EveryDay" and (
            _ps_lt(raw_interval, 1) or not _ps_lt(raw_interval, 365)):
        raise DbaError("The daily frequency type requires a frequency interval to be between 1 and 365 or 'EveryDay'.")
    interval = _interval(ftype, raw_interval, relative_weekday_name="Weekday")
    if sched["freq_interval"] == 0 and interval < 1:
        interval = 1
    relative = RELATIVE.get(p.get("frequency_relative_interval") or "", 0)
    start_date, end_date = p.get("start_date"), p.get("end_date")
    start_time, end_time = p.get("start_time"), p.get("end_time")
    name = p["schedule"]
    if start_date and not REGEX_DATE.search(start_date):
        raise DbaError(f"Start date {start_date} needs to be a valid date with format yyyyMMdd")
    if end_date and not REGEX_DATE.search(end_date):
        raise DbaError(f"End date {end_date} needs to be a valid date with format yyyyMMdd")
    if (end_date or "").lower() < (start_date or "").lower():
        raise DbaError(f"End date {end_date or ''} cannot be before start date {start_date}")
    if start_time and not REGEX_TIME.match(start_time):
        raise DbaError(f"Start time {start_time} needs to match between '000000' and '235959'. Schedule {name} not "
                       "set.")
    if end_time and not REGEX_TIME.match(end_time):
        raise DbaError(f"End time {end_time} needs to match between '000000' and '235959'. Schedule {name} not set.")
    new = dict(sched)
    if p.get("enabled") is True:
        new["enabled"] = True
    if p.get("enabled") is False:
        new["enabled"] = False
    new["freq_type"] = ftype
    if interval >= 1:
        new["freq_interval"] = interval
    if subday >= 1:
        new["freq_subday_type"] = subday
    if (p.get("frequency_subday_interval") or 0) >= 1:
        new["freq_subday_interval"] = p["frequency_subday_interval"]
    if relative >= 1 and ftype == 32:
        new["freq_relative_interval"] = relative
    if recurrence is not None and recurrence >= 1 and ftype in (8, 16, 32):
        new["freq_recurrence_factor"] = recurrence
    if start_date:
        new["active_start_date"] = _ymd(start_date)
    if end_date:
        new["active_end_date"] = _ymd(end_date)
    if start_time:
        new["active_start_time"] = _hms(start_time)
    if end_time:
        new["active_end_time"] = _hms(end_time)
    return _verify_schedule(new)


def _clock12(hms: str) -> str:
    h, m, s = (int(x) for x in hms.split(":"))
    return f"{(h % 12) or 12}:{m:02d}:{s:02d} {'AM' if h < 12 else 'PM'}"


def _us_date(ymd: str) -> str:
    y, m, d = (int(x) for x in ymd.split("-"))
    return f"{m}/{d}/{y}"


def schedule_description(s: dict[str, t.Any]) -> str:
    """The English sentence ``Get-DbaAgentSchedule`` adds as ``Description``."""
    ft = s["freq_type"]
    if ft == 64:
        return "Start automatically when SQL Server Agent starts"
    if ft == 128:
        return "Start whenever the CPUs become idle"
    if ft == 1:
        text = f"Occurs on {_us_date(s['active_start_date'])} at {_clock12(s['active_start_time'])}."
        return text
    if ft == 4:
        text = "Occurs every day" if s["freq_interval"] == 1 else f"Occurs every {s['freq_interval']} day(s)"
    elif ft == 8:
        days = [n.capitalize() for n, bit in _WEEKLY.items() if s["freq_interval"] & bit]
        every = "week" if s["freq_recurrence_factor"] <= 1 else f"{s['freq_recurrence_factor']} week(s)"
        text = f"Occurs every {every} on {', '.join(days)}"
    elif ft == 16:
        text = f"Occurs every {s['freq_recurrence_factor']} month(s) on day {s['freq_interval']} of that month"
    else:
        day = next((n.capitalize() for n, v in _RELATIVE_DAYS.items() if v == s["freq_interval"]), "day")
        text = (f"Occurs every {s['freq_recurrence_factor']} month(s) on the "
                f"{RELATIVE_NAMES.get(s['freq_relative_interval'], 'first').lower()} {day} of that month")
    unit = {2: "second(s)", 4: "minute(s)", 8: "hour(s)"}.get(s["freq_subday_type"])
    if unit:
        text += (f" every {s['freq_subday_interval']} {unit} between {_clock12(s['active_start_time'])} and "
                 f"{_clock12(s['active_end_time'])}")
    else:
        text += f" at {_clock12(s['active_start_time'])}"
    text += f". Schedule will be used starting on {_us_date(s['active_start_date'])}."
    return text


def schedule_view(conn: Connection, s: dict[str, t.Any]) -> dict[str, t.Any]:
    """``Get-DbaAgentSchedule``'s default view."""
    out = base_props(conn)
    out.update({
        "ScheduleName": s["name"], "ActiveEndDate": s["active_end_date"] + "T00:00:00.0000000",
        "ActiveEndTimeOfDay": time_of_day(s["active_end_time"]),
        "ActiveStartDate": s["active_start_date"] + "T00:00:00.0000000",
        "ActiveStartTimeOfDay": time_of_day(s["active_start_time"]), "DateCreated": dotnet_iso(s["created"]),
        "FrequencyInterval": s["freq_interval"], "FrequencyRecurrenceFactor": s["freq_recurrence_factor"],
        "FrequencyRelativeIntervals": RELATIVE_NAMES.get(s["freq_relative_interval"], "0"),
        "FrequencySubDayInterval": s["freq_subday_interval"],
        "FrequencySubDayTypes": SUBDAY_NAMES.get(s["freq_subday_type"], "Unknown"),
        "FrequencyTypes": FREQ_TYPE_NAMES.get(s["freq_type"], "Unknown"), "IsEnabled": s["enabled"],
        "JobCount": len(s["jobs"]), "Description": schedule_description(s), "ScheduleUid": s["uid"]})
    return out


_SCHEDULE_FIELDS = ("enabled", "freq_type", "freq_interval", "freq_subday_type", "freq_subday_interval",
                    "freq_relative_interval", "freq_recurrence_factor", "active_start_date", "active_end_date",
                    "active_start_time", "active_end_time")


def add_schedule(inst: dict[str, t.Any], name: str, values: dict[str, t.Any], jobs: list[str], when: str
                 ) -> dict[str, t.Any]:
    sched = {"id": inst["next_schedule_id"], "uid": new_guid(inst["name"], "schedule", inst["next_schedule_id"]),
             "name": name, "jobs": jobs, "created": when}
    sched.update({k: values[k] for k in _SCHEDULE_FIELDS})
    inst["next_schedule_id"] += 1
    inst["agent"]["schedules"].append(sched)
    return sched


@sql_model("lowlydba.sqlserver.agent_job_schedule")
def agent_job_schedule(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    name = p["schedule"]
    try:
        conn = connect(ctx)
        inst = conn.inst
        when = iso(ctx.now())
        existing = next((s for s in inst["agent"]["schedules"] if s["name"] == name), None)
        if p["state"] == "absent":
            if existing is None:
                return ctx.exit(changed=False)
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            inst["agent"]["schedules"] = [s for s in inst["agent"]["schedules"] if s is not existing]
            data = base_props(conn)
            data.update({"Schedule": existing["name"], "ScheduleId": existing["id"], "ScheduleUid": existing["uid"],
                         "Status": "Dropped"})
            return ctx.exit(data=data)
        if existing is None:
            values = _new_schedule_values(ctx, name)
            ctx.changed(True)
            if ctx.check_mode:
                return ctx.result
            job = get_job(inst, p["job"])
            sched = add_schedule(inst, name, values, [job["name"]] if job is not None else [], when)
            return ctx.exit(data=schedule_view(conn, sched))
        # Set-DbaAgentSchedule works on the schedule as attached to the job
        if get_job(inst, p["job"]) is None:
            return ctx.exit(changed=False)     # "Job ... doesn't exists" is only a warning: no output
        if not any(j.lower() == p["job"].lower() for j in existing["jobs"]):
            raise DbaError(f"Schedule {name} doesn't exists for job {p['job']} on {conn.server}")
        new = _set_schedule_values(ctx, existing)
        if ctx.check_mode:
            return ctx.result                 # -WhatIf: no output, changed stays false
        changed = any(new[k] != existing[k] for k in _SCHEDULE_FIELDS)
        existing.update(new)
        ctx.changed(changed)
        return ctx.exit(data=schedule_view(conn, existing))
    except DbaError as exc:
        ctx.fail("Error configuring SQL Agent job schedule.", exception=str(exc))


# -- maintenance_solution -----------------------------------------------------------

OLA_PROCEDURES = ["CommandExecute", "DatabaseBackup", "DatabaseIntegrityCheck", "IndexOptimize"]
OLA_SOLUTION_FILES = {"Backup": "DatabaseBackup", "IntegrityCheck": "DatabaseIntegrityCheck",
                      "IndexOptimize": "IndexOptimize"}
OLA_DESCRIPTION = "Source: https://ola.hallengren.com"
OLA_CATEGORY = "Database Maintenance"
OLA_BUNDLED_SOURCE = "dbatools bin\\maintenancesolution (bundled copy; no Internet connectivity, -LocalFile not read)"
CRLF = "\r\n"


def ola_jobs(inst: dict[str, t.Any], database: str, backup_dir: str, cleanup_time: int | None, log_to_table: bool,
             output_dir: str | None) -> list[tuple[str, str, str, str, str]]:
    """The Agent jobs ``MaintenanceSolution.sql`` creates, in its order:
    ``(job name, subsystem, database, command, output file prefix)``."""
    ltt = "Y" if log_to_table else "N"
    cleanup = str(cleanup_time) if cleanup_time else "NULL"
    directory = "N'" + backup_dir.replace("'", "''") + "'" if backup_dir else "NULL"
    log_dir = output_dir or "$(ESCAPE_SQUOTE(SQLLOGDIR))"

    def backup(kind: str, dbs: str) -> str:
        return CRLF.join(["EXECUTE [dbo].[DatabaseBackup]", f"@Databases = '{dbs}',", f"@Directory = {directory},",
                          f"@BackupType = '{kind}',", "@Verify = 'Y',", f"@CleanupTime = {cleanup},",
                          "@CheckSum = 'Y',", f"@LogToTable = '{ltt}'"])

    def simple(proc: str, dbs: str) -> str:
        return CRLF.join([f"EXECUTE [dbo].[{proc}]", f"@Databases = '{dbs}',", f"@LogToTable = '{ltt}'"])

    purge = CRLF.join(["DECLARE @CleanupDate datetime", "SET @CleanupDate = DATEADD(dd,-30,GETDATE())",
                       "EXECUTE dbo.{} @oldest_date = @CleanupDate"])
    output_cleanup = (f"cmd /q /c \"For /F \"tokens=1 delims=\" %v In ('ForFiles /P \"{log_dir}\" /m *_*_*_*.txt "
                      f"/d -30 2^>^&1') do if EXIST \"{log_dir}\"\\%v echo del \"{log_dir}\"\\%v& "
                      f"del \"{log_dir}\"\\%v\"")
    return [
        ("DatabaseBackup - SYSTEM_DATABASES - FULL", "TransactSql", database, backup("FULL", "SYSTEM_DATABASES"),
         "DatabaseBackup"),
        ("DatabaseBackup - USER_DATABASES - DIFF", "TransactSql", database, backup("DIFF", "USER_DATABASES"),
         "DatabaseBackup"),
        ("DatabaseBackup - USER_DATABASES - FULL", "TransactSql", database, backup("FULL", "USER_DATABASES"),
         "DatabaseBackup"),
        ("DatabaseBackup - USER_DATABASES - LOG", "TransactSql", database, backup("LOG", "USER_DATABASES"),
         "DatabaseBackup"),
        ("DatabaseIntegrityCheck - SYSTEM_DATABASES", "TransactSql", database,
         simple("DatabaseIntegrityCheck", "SYSTEM_DATABASES"), "DatabaseIntegrityCheck"),
        ("DatabaseIntegrityCheck - USER_DATABASES", "TransactSql", database,
         simple("DatabaseIntegrityCheck", "USER_DATABASES"), "DatabaseIntegrityCheck"),
        ("IndexOptimize - USER_DATABASES", "TransactSql", database, simple("IndexOptimize", "USER_DATABASES"),
         "IndexOptimize"),
        ("sp_delete_backuphistory", "TransactSql", "msdb", purge.format("sp_delete_backuphistory"),
         "sp_delete_backuphistory"),
        ("sp_purge_jobhistory", "TransactSql", "msdb", purge.format("sp_purge_jobhistory"), "sp_purge_jobhistory"),
        ("CommandLog Cleanup", "TransactSql", database,
         CRLF.join(["DELETE FROM [dbo].[CommandLog]", "WHERE StartTime < DATEADD(dd,-30,GETDATE())"]),
         "CommandLogCleanup"),
        ("Output File Cleanup", "CmdExec", "master", output_cleanup, "OutputFileCleanup"),
    ]


def _objects(db: dict[str, t.Any], names: list[str], kind: str) -> list[dict[str, t.Any]]:
    return [o for o in db["objects"] if o["schema"] == "dbo" and o["name"] in names and o["type"] == kind]


@sql_model("lowlydba.sqlserver.maintenance_solution")
def maintenance_solution(ctx: ModuleContext) -> dict[str, t.Any]:
    """``Install-DbaMaintenanceSolution``: installs from dbatools' bundled
    copy (winsim hosts are offline), so ``local_file`` and ``force`` change
    nothing on the host.

    dbatools 2.0.0 to 2.8 (public/Install-DbaMaintenanceSolution.ps1): on a
    host whose connection profile has no Internet connectivity the bundled
    copy is taken and ``-LocalFile`` is never looked at; with Internet,
    ``Save-DbaCommunitySoftware -LocalFile`` checks first that the file
    exists ("<file> doesn't exist"), then that it ends in .zip ("<file> has
    to be a zip file"), and Install-DbaMaintenanceSolution catches either
    error and falls back to the bundled copy with a verbose message only.
    So a missing or non-zip ``local_file`` never fails the module; the
    state records which copy was installed (``source``) so tests can see it.
    The ``sql_backup`` role stages and checks the zip itself."""
    p = ctx.params
    try:
        conn = connect(ctx)
    except DbaError:
        ctx.fail("Installing Maintenance Solution failed.")
    inst = conn.inst
    solution = p["solution"]
    install_jobs = p["install_jobs"]
    if install_jobs and solution != "All":
        ctx.fail("Installing Maintenance Solution failed.",
                 exception="Jobs can only be created for all solutions. To create SQL Agent jobs you need to use "
                           "'-Solution All' (or not specify the Solution and let it default to All) and "
                           "'-InstallJobs'.")
    db = find_database(inst, p["database"])
    if db is None:
        ctx.fail("Installing Maintenance Solution failed.",
                 exception=f"Database {p['database']} not found on {conn.server}. Skipping.")
    replace = p.get("replace_existing") is True
    if not replace and (_objects(db, OLA_PROCEDURES, "P")
                        or _objects(db, ["CommandLog", "Queue", "QueueDatabase"], "U")):
        # "The Maintenance Solution already exists ...": the module reports success, unchanged
        data = base_props(conn)
        data["Results"] = "Success"
        return ctx.exit(changed=False, data=data)
    ctx.changed(True)
    if ctx.check_mode:
        return ctx.result
    when = iso(ctx.now())
    log_to_table = p["log_to_table"]
    if replace:
        drop = set(OLA_PROCEDURES)
        if log_to_table:
            drop.add("CommandLog")
        if p["install_parallel"]:
            drop.update({"Queue", "QueueDatabase"})
        db["objects"] = [o for o in db["objects"] if not (o["schema"] == "dbo" and o["name"] in drop)]
        if install_jobs:
            for job in [j for j in inst["agent"]["jobs"].values() if "hallengren" in j["description"].lower()]:
                _remove_job(inst, job)

    def create(name: str, kind: str) -> None:
        if not any(o["schema"] == "dbo" and o["name"] == name for o in db["objects"]):
            db["objects"].append({"schema": "dbo", "name": name, "type": kind, "created": when})

    procs = OLA_PROCEDURES if solution == "All" else ["CommandExecute", OLA_SOLUTION_FILES[solution]]
    for proc in procs:
        create(proc, "P")
    if install_jobs or log_to_table:
        create("CommandLog", "U")     # MaintenanceSolution.sql always creates it; CommandLog.sql on request
    if p["install_parallel"]:
        create("Queue", "U")
        create("QueueDatabase", "U")
    backup_dir = p.get("backup_location") or inst["paths"]["backup"]
    if install_jobs:
        if OLA_CATEGORY not in inst["agent"]["categories"]:
            inst["agent"]["categories"].append(OLA_CATEGORY)
        for name, subsystem, dbname, command, prefix in ola_jobs(
                inst, db["name"], backup_dir, p["cleanup_time"], log_to_table, p.get("output_file_dir")):
            if get_job(inst, name) is not None:
                continue                     # the script creates only missing jobs
            job = new_job(inst, name, owner="sa", when=when, category=OLA_CATEGORY, description=OLA_DESCRIPTION)
            out_dir = p.get("output_file_dir") or "$(ESCAPE_SQUOTE(SQLLOGDIR))"
            job["steps"].append(new_step(
                1, name, subsystem=subsystem, command=command, database_name=dbname,
                output_file_name=f"{out_dir}\\{prefix}_$(ESCAPE_SQUOTE(JOBID))_$(ESCAPE_SQUOTE(STEPID))_"
                                 "$(ESCAPE_SQUOTE(DATE))_$(ESCAPE_SQUOTE(TIME)).txt"))
            inst["agent"]["jobs"][name.lower()] = job
    inst["maintenance_solution"] = {
        "database": db["name"], "installed_at": when, "solution": solution, "log_to_table": log_to_table,
        "install_jobs": install_jobs, "install_parallel": p["install_parallel"], "backup_location": backup_dir,
        "cleanup_time": p["cleanup_time"] if install_jobs else None, "output_file_dir": p.get("output_file_dir"),
        "source": OLA_BUNDLED_SOURCE, "local_file": p.get("local_file")}
    data = base_props(conn)
    data["Results"] = "Success"
    return ctx.exit(data=data)

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

def _sql_instance(state: dict[str, t.Any], instance: str | None) -> tuple[str, dict[str, t.Any]]:
    """(display name, instance) from ``state["sql"]["instances"]`` (keyed by
    lower-case instance name, see ``models/sql.py``)."""
    sql = state.get("sql")
    instances = sql.get("instances") if isinstance(sql, dict) else None
    if not isinstance(instances, dict) or not instances:
        raise DriftError("SQL Server is not installed on this host (no instance in the sql section)")
    if instance is None:
        if len(instances) != 1:
            names = sorted(str(i.get("name", k)) for k, i in instances.items())
            raise DriftError(f"this host has {len(instances)} SQL Server instances; choose one with --instance "
                             f"({', '.join(names)})")
        inst = next(iter(instances.values()))
    else:
        inst = instances.get(instance.lower())
        if inst is None:
            names = sorted(str(i.get("name", k)) for k, i in instances.items())
            raise DriftError(f"no SQL Server instance {instance!r} (existing: {', '.join(names)})")
    return str(inst.get("name")), inst


def _agent_job(inst_name: str, inst: dict[str, t.Any], name: str) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    jobs = (inst.get("agent") or {}).get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise DriftError(f"instance {inst_name} has no SQL Agent jobs")
    job = jobs.get(name.lower())
    if job is None:
        raise DriftError(f"no SQL Agent job {name!r} on {inst_name} "
                         f"(existing: {', '.join(sorted(str(j.get('name')) for j in jobs.values()))})")
    return jobs, job


@drift("delete-agent-job", section="sql",
       help="Delete a SQL Server Agent job (e.g. a backup job) and the schedules no other job uses "
            "(msdb.dbo.sp_delete_job).",
       args=[Arg("name", "job name"), Arg("--instance", "instance name (default: the only one)", required=False)])
def delete_agent_job(state: dict[str, t.Any], now: _dt.datetime, *, name: str, instance: str | None = None) -> str:
    inst_name, inst = _sql_instance(state, instance)
    jobs, job = _agent_job(inst_name, inst, name)
    job_name = str(job.get("name"))
    del jobs[job_name.lower()]
    schedules = inst["agent"].get("schedules") or []
    dropped = []
    for schedule in list(schedules):
        users = [j for j in schedule.get("jobs") or [] if str(j).lower() != job_name.lower()]
        if len(users) != len(schedule.get("jobs") or []):
            schedule["jobs"] = users
            if not users:  # @delete_unused_schedule = 1, sp_delete_job's default
                schedules.remove(schedule)
                dropped.append(str(schedule.get("name")))
    extra = f" and its schedule(s) {', '.join(dropped)}" if dropped else ""
    return f"SQL Agent job {job_name} on {inst_name}: deleted{extra}"


@drift("disable-agent-job", section="sql", help="Disable a SQL Server Agent job (msdb.dbo.sp_update_job).",
       args=[Arg("name", "job name"), Arg("--instance", "instance name", required=False)])
def disable_agent_job(state: dict[str, t.Any], now: _dt.datetime, *, name: str, instance: str | None = None) -> str:
    inst_name, inst = _sql_instance(state, instance)
    _jobs, job = _agent_job(inst_name, inst, name)
    before = job.get("enabled")
    job["enabled"] = False
    job["modified"] = st.iso(now)
    return f"SQL Agent job {job.get('name')} on {inst_name}: enabled {before} -> False"


_RECOVERY = {"full": "Full", "simple": "Simple", "bulk_logged": "BulkLogged"}


@drift("set-recovery-model", section="sql",
       help="Change a database's recovery model (ALTER DATABASE ... SET RECOVERY); switching to SIMPLE "
            "breaks the log backup chain.",
       args=[Arg("database", "database name"), Arg("model", "recovery model", choices=tuple(_RECOVERY)),
             Arg("--instance", "instance name", required=False)])
def set_recovery_model(state: dict[str, t.Any], now: _dt.datetime, *, database: str, model: str,
                       instance: str | None = None) -> str:
    inst_name, inst = _sql_instance(state, instance)
    dbs = inst.get("databases") or {}
    db = dbs.get(database.lower())
    if db is None:
        raise DriftError(f"no database {database!r} on {inst_name} "
                         f"(existing: {', '.join(sorted(str(d.get('name')) for d in dbs.values()))})")
    wanted = _RECOVERY[model]
    before = db.get("recovery_model")
    db["recovery_model"] = wanted
    if wanted == "Simple" or before == "Simple":
        # SIMPLE truncates the log; back in FULL the chain starts again only after a full backup.
        db["log_chain_lsn"] = None
    return f"database {db.get('name')} on {inst_name}: recovery_model {before} -> {wanted}"
