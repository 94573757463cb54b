"""The lab clock: a lab time that tests and operators move forward.

Without a clock file every simulated host lives in real UTC time (what
``ModuleContext.now`` gives).  ``winsim clock set|advance`` creates
``<state_dir>/_lab/clock.json``::

    {"format": 1,
     "now": "2026-03-02T01:00:00Z",          # the lab's current time (UTC); frozen between moves
     "history": [{"at": "<real UTC time of the move>", "from": ISO | null, "to": ISO,
                  "command": "advance 26h" | "set 2026-03-02T01:00:00Z", "jobs_run": N}]}

The lab time is *absolute and frozen*: it does not tick with the real clock,
so a run is reproducible and two tasks of one play see the same ``now``.
Every module run of every host of the state directory then uses it
(``Runner`` passes it as ``now``); certificate expiry, backup timestamps
and Agent job history all follow it.

Time only moves forward: ``set`` to an earlier time, or a zero or negative
``advance``, is refused with :class:`ClockError` and no file is touched.
``advance`` (and ``set`` to a later time) walks every host of the lab, each
under its own lock, and lets SQL Server Agent run every job occurrence that
falls due in ``(old, new]`` (``models/sql_scheduler.py``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import typing as t
from pathlib import Path

__all__ = ["ClockError", "advance", "clock_path", "lab_now", "lab_now_for_state_file", "load", "parse_duration",
           "set_time"]

FORMAT = 1
HISTORY_KEPT = 200
_SIDECARS = (".stats.json", ".faults.json")


class ClockError(Exception):
    """A clock request winsim refuses (time going backwards, bad input)."""


def clock_path(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / "_lab" / "clock.json"


def _iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> _dt.datetime:
    """An ISO 8601 time; a time without zone is UTC."""
    try:
        when = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ClockError(f"not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.I)
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: str) -> _dt.timedelta:
    """``26h``, ``3d``, ``1d12h``, ``90m``, ``45s``, ``2w`` (no sign: the
    clock only moves forward)."""
    text = value.strip().replace(" ", "")
    pos = 0
    seconds = 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if not text or pos != len(text):
        raise ClockError(f"not a duration: {value!r} (use e.g. 26h, 3d, 1d12h, 90m, 45s)")
    return _dt.timedelta(seconds=seconds)


def load(state_dir: str | os.PathLike[str]) -> dict[str, t.Any] | None:
    """The clock document, or None when the lab has no clock."""
    path = clock_path(state_dir)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ClockError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not doc.get("now"):
        raise ClockError(f"{path} is not a winsim lab clock (format {FORMAT} with 'now')")
    return doc


def lab_now(state_dir: str | os.PathLike[str]) -> _dt.datetime | None:
    """The lab's time, or None (real time) when there is no clock file."""
    doc = load(state_dir)
    return parse_time(doc["now"]) if doc else None


def lab_now_for_state_file(state_path: str | os.PathLike[str]) -> _dt.datetime | None:
    """The lab time for the host whose state file is ``state_path``."""
    try:
        return lab_now(Path(state_path).parent)
    except ClockError:
        return None


def _locked(state_dir: Path) -> t.ContextManager[None]:
    from .lab import lab_lock

    return lab_lock(state_dir, "clock")


def _write(state_dir: Path, doc: dict[str, t.Any]) -> None:
    from .store import _atomic_write, canonical_json

    _atomic_write(clock_path(state_dir), canonical_json(doc))


def host_state_files(state_dir: Path) -> list[Path]:
    """The host state documents of the lab (``<state_dir>/<host>.json``)."""
    if not state_dir.is_dir():
        return []
    return sorted(p for p in state_dir.glob("*.json")
                  if not p.name.startswith(".") and not p.name.endswith(_SIDECARS))


def _run_hosts(state_dir: Path, old: _dt.datetime, new: _dt.datetime) -> int:
    """Let every host live through ``(old, new]``; returns the job runs."""
    from .models import sql_scheduler
    from .runner import _apply_disk_faults, _restore_disk_faults
    from .store import HostStore

    runs = 0
    for path in host_state_files(state_dir):
        store = HostStore(path.absolute(), path.name[:-5])
        with store.locked():
            state = store.load_state()
            faults = store.load_faults()
            full = _apply_disk_faults(state, faults)
            runs += sql_scheduler.run_agents(state, old, new, faults=faults)
            _restore_disk_faults(state, state, full)
            store.save_state(state)
    return runs


def _move(state_dir: Path, target: _dt.datetime | None, delta: _dt.timedelta | None, command: str
          ) -> dict[str, t.Any]:
    if delta is not None and delta <= _dt.timedelta(0):
        raise ClockError(f"cannot advance the lab clock by {command.split(' ', 1)[1]!r}: "
                         "the clock only moves forward")
    with _locked(state_dir):
        doc = load(state_dir)
        old = parse_time(doc["now"]) if doc else None
        if delta is not None:
            base = old or _dt.datetime.now(_dt.UTC).replace(microsecond=0)
            target = base + delta
            old = base
        assert target is not None
        if old is not None and target < old:
            raise ClockError(f"refusing to move the lab clock backwards from {_iso(old)} to {_iso(target)} "
                             "(time only moves forward; reset the lab to start again)")
        runs = _run_hosts(state_dir, old, target) if old is not None and target > old else 0
        doc = doc or {"format": FORMAT, "history": []}
        doc["history"] = (doc.get("history") or []) + [{
            "at": _iso(_dt.datetime.now(_dt.UTC)), "from": _iso(old) if old else None, "to": _iso(target),
            "command": command, "jobs_run": runs}]
        del doc["history"][:-HISTORY_KEPT]
        doc["now"] = _iso(target)
        _write(state_dir, doc)
        return doc


def set_time(state_dir: str | os.PathLike[str], when: str | _dt.datetime) -> dict[str, t.Any]:
    """Set the lab time (creating the clock); later than now runs the jobs
    that fall due in between, earlier is refused."""
    target = parse_time(when) if isinstance(when, str) else when.astimezone(_dt.UTC)
    return _move(Path(state_dir), target, None, f"set {_iso(target)}")


def advance(state_dir: str | os.PathLike[str], duration: str | _dt.timedelta) -> dict[str, t.Any]:
    """Move the lab time forward by ``duration`` (from real now if the lab
    had no clock yet)."""
    delta = parse_duration(duration) if isinstance(duration, str) else duration
    label = duration if isinstance(duration, str) else f"{int(delta.total_seconds())}s"
    return _move(Path(state_dir), None, delta, f"advance {label}")
