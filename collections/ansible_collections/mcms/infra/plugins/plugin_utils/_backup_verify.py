# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side logic of ``playbooks/backup_verify.yml`` (role ``sql_backup``, entry point ``verify``).

* :func:`report` -- one SQL host's verdict per database from what the verify
  tasks registered: the msdb backup dates (``lowlydba.sqlserver.database`` in
  check mode: ``LastFullBackup``, ``LastDiffBackup``, ``LastLogBackup``)
  against the thresholds, the test restore into the scratch database
  (``lowlydba.sqlserver.restore``: ``DatabaseRestoreTime`` of its last
  restored file is the RTO figure), ``DBCC CHECKDB`` on the scratch database
  and its drop;
* :func:`summary` -- the human-readable lines of every host's report;
* :func:`failures` -- one line per failed database naming host, database and
  the break.

No I/O here: the playbook writes the JSON and prints the summary.
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

NEVER = "0001-01-01T00:00:00"
KINDS = (("full", "LastFullBackup", "Full"), ("diff", "LastDiffBackup", "Differential"),
         ("log", "LastLogBackup", "Log"))


class BackupVerifyError(ValueError):
    """Input the verification cannot interpret (a bug in the playbook, not a failed database)."""


def parse_time(value: t.Any) -> _dt.datetime | None:
    """A ``[datetime]`` as the lowlydba modules return it (``ToString('o')``,
    host local time, 7 fractional digits, maybe a zone) as a naive datetime;
    ``None`` for ``0001-01-01...`` (never) or nothing."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.startswith(NEVER[:10]):
        return None
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$", text)
    if not m:
        raise BackupVerifyError(f"cannot read the date {text!r}")
    frac = (m.group(3) or "0")[:6].ljust(6, "0")
    return _dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{frac}")


def _seconds(span: t.Any) -> float | None:
    """A serialised ``[TimeSpan]`` (``TotalSeconds``), or ``hh:mm:ss``."""
    if isinstance(span, dict):
        value = span.get("TotalSeconds")
        return float(value) if value is not None else None
    if isinstance(span, str):
        m = re.match(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$", span.strip())
        if m:
            return int(m.group(1) or 0) * 86400 + int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
    if isinstance(span, (int, float)):
        return float(span)
    return None


def _by_name(results: t.Iterable[t.Mapping[str, t.Any]], loop_var: str) -> dict[str, t.Mapping[str, t.Any]]:
    out: dict[str, t.Mapping[str, t.Any]] = {}
    for r in results or []:
        item = r.get(loop_var)
        name = item.get("name") if isinstance(item, t.Mapping) else item
        if name is not None:
            out[str(name).lower()] = r
    return out


def _error(result: t.Mapping[str, t.Any]) -> str:
    """The failure text of a module result (``msg`` plus the exception's first line when it adds something)."""
    msg = str(result.get("msg") or "").strip()
    exc = str(result.get("exception") or "").strip().splitlines()
    if exc and exc[0] not in msg:
        msg = f"{msg} {exc[0]}".strip()
    return msg or "failed without a message"


def _failed(result: t.Mapping[str, t.Any] | None) -> bool:
    return bool(result) and bool(result.get("failed") or result.get("__failed"))


def _ran(result: t.Mapping[str, t.Any] | None) -> bool:
    return bool(result) and not result.get("skipped")


def _restore_items(result: t.Mapping[str, t.Any]) -> list[t.Mapping[str, t.Any]]:
    data = result.get("data")
    if isinstance(data, t.Mapping):
        return [data]
    if isinstance(data, list):
        return [d for d in data if isinstance(d, t.Mapping)]
    return []


def report(host: str, now: t.Any, databases: list[t.Any], reads: list[t.Mapping[str, t.Any]],
           restores: list[t.Mapping[str, t.Any]], checks: list[t.Mapping[str, t.Any]],
           drops: list[t.Mapping[str, t.Any]], thresholds: t.Mapping[str, t.Any], *,
           loop_var: str = "__sql_backup_item", scratch_suffix: str = "_verify") -> dict[str, t.Any]:
    """One host's verification report (see the module docstring).  ``now`` is
    the host's local time (the msdb dates are host local time too)."""
    when = parse_time(now)
    if when is None:
        raise BackupVerifyError(f"no current time of {host} (got {now!r})")
    limits = {"full": float(thresholds["full_hours"]) * 60, "diff": float(thresholds["diff_hours"]) * 60,
              "log": float(thresholds["log_minutes"])}
    read_by, restore_by, check_by, drop_by = (_by_name(x, loop_var) for x in (reads, restores, checks, drops))
    rows = []
    for entry in databases:
        name = str(entry["name"] if isinstance(entry, t.Mapping) else entry)
        log_backups = bool(entry.get("log_backups", True)) if isinstance(entry, t.Mapping) else True
        problems: list[str] = []
        row: dict[str, t.Any] = {"database": name, "scratch_database": name + scratch_suffix, "ages": {},
                                 "restore": None, "integrity": None, "scratch_dropped": None}
        read = read_by.get(name.lower())
        data = (read or {}).get("data") if read else None
        if read is None or not _ran(read):
            problems.append("its backup history was not read")
        elif _failed(read) or not isinstance(data, t.Mapping) or not data:
            why = _error(read) if _failed(read) else "the database does not exist"
            problems.append(f"its backup history could not be read: {why}")
        else:
            for kind, prop, _msdb in KINDS:
                if kind == "log" and not log_backups:
                    continue
                last = parse_time(data.get(prop))
                age = round((when - last).total_seconds() / 60, 1) if last else None
                ok = age is not None and age <= limits[kind]
                row["ages"][kind] = {"last": last.isoformat() if last else None, "age_minutes": age,
                                     "max_minutes": limits[kind], "ok": ok}
                if last is None:
                    problems.append(f"no {kind} backup in msdb history")
                elif not ok:
                    problems.append(f"last {kind} backup {_age_text(age)} old (threshold {_age_text(limits[kind])})")
        restore = restore_by.get(name.lower())
        if restore is None or not _ran(restore):
            problems.append("no test restore ran")
        elif _failed(restore):
            row["restore"] = {"ok": False, "error": _error(restore)}
            problems.append(f"test restore failed: {_error(restore)}")
        else:
            items = _restore_items(restore)
            if not items:
                row["restore"] = {"ok": False, "error": "no backup files found to restore"}
                problems.append("test restore found no backup files")
            else:
                seconds = max((_seconds(i.get("DatabaseRestoreTime")) or 0.0) for i in items)
                incomplete = [i.get("BackupFile") for i in items if i.get("RestoreComplete") is False]
                row["restore"] = {"ok": not incomplete, "seconds": seconds,
                                  "files": [i.get("BackupFile") for i in items], "file_count": len(items)}
                if incomplete:
                    problems.append(f"test restore incomplete at {incomplete[0]}")
        check = check_by.get(name.lower())
        if _ran(check):
            ok = not _failed(check)
            row["integrity"] = {"ok": ok, "error": None if ok else _error(check)}
            if not ok:
                problems.append(f"DBCC CHECKDB failed on {row['scratch_database']}: {_error(check)}")
        elif row["restore"] and row["restore"].get("ok"):
            problems.append("no integrity check ran")
        drop = drop_by.get(name.lower())
        if _ran(drop):
            row["scratch_dropped"] = not _failed(drop)
            if _failed(drop):
                problems.append(f"the scratch database {row['scratch_database']} was not dropped: {_error(drop)}")
        row["problems"] = problems
        row["status"] = "failed" if problems else "passed"
        rows.append(row)
    return {"host": host, "checked_at": when.isoformat(), "thresholds": dict(thresholds), "databases": rows,
            "passed": all(r["status"] == "passed" for r in rows)}


def _age_text(minutes: float | None) -> str:
    if minutes is None:
        return "never"
    if minutes < 120:
        return f"{minutes:g} min"
    return f"{minutes / 60:.1f} h"


def summary(reports: list[t.Mapping[str, t.Any]]) -> list[str]:
    """Human-readable lines, one block per host, one line per database."""
    lines = []
    for rep in reports:
        lines.append(f"{rep['host']} (host time {rep['checked_at']}): "
                     f"{'PASSED' if rep['passed'] else 'FAILED'}")
        for row in rep["databases"]:
            ages = ", ".join(f"{k} {_age_text(v['age_minutes'])}{'' if v['ok'] else ' (!)'}"
                             for k, v in row["ages"].items()) or "ages unknown"
            restore = row["restore"] or {}
            rto = f"restore {restore['seconds']:g} s ({restore['file_count']} files)" if restore.get("ok") \
                else "restore FAILED" if restore else "no restore"
            check = {None: "no CHECKDB", True: "CHECKDB ok", False: "CHECKDB FAILED"}[
                (row["integrity"] or {}).get("ok") if row["integrity"] else None]
            lines.append(f"  {row['database']}: {row['status'].upper()}; RPO ages: {ages}; {rto}; {check}")
            lines.extend(f"    - {p}" for p in row["problems"])
    return lines


def failures(reports: list[t.Mapping[str, t.Any]]) -> list[str]:
    """One line per failed database: host, database, what broke."""
    return [f"{rep['host']}: database {row['database']}: {'; '.join(row['problems'])}"
            for rep in reports for row in rep["databases"] if row["status"] != "passed"]
