"""Helpers of the Molecule scenarios' testinfra verifiers (importable as
``mcms_verify``: ``pyproject.toml`` puts ``molecule/_shared`` on pytest's
``pythonpath``). The fixtures the tls scenarios share are in
``molecule/conftest.py``."""

from __future__ import annotations

import datetime as _dt
import json
import os
import pathlib
import re
import typing as t

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(host: t.Any, module: str, args: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """A read-only module result (check mode); fails the test on a module failure."""
    result = host.ansible(module, json.dumps(args) if args else None, check=True)
    assert not result.get("failed"), result
    return result


def role_defaults(role: str) -> dict[str, t.Any]:
    """``roles/<role>/defaults/main.yml``."""
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


def tls_scenario() -> dict[str, t.Any]:
    """The input every tls scenario shares (``molecule/tls/vars.yml``)."""
    return yaml.safe_load((ROOT / "molecule" / "tls" / "vars.yml").read_text(encoding="utf-8"))


def https_presented(host: t.Any, hostname: str, port: int = 443) -> dict[str, t.Any]:
    """What the host's own listener presents for ``hostname`` (the tls role's
    proof, ``mcms.infra.win_tls_probe``: a TLS handshake with 127.0.0.1
    sending the name as SNI, no DNS): thumbprint, chain_valid, name_matches."""
    return run(host, "mcms.infra.win_tls_probe", {"server_name": hostname, "port": port})


# -- the sql_backup_verify and sql_backup_retention scenarios (../_shared/sql_backup_lab) ----------------------

SQL_BACKUP_LAB = ROOT / "molecule" / "_shared" / "sql_backup_lab"
# Ola Hallengren's default @FileName: <Server>[$<Instance>]_<Database>_<TYPE>_<yyyyMMdd>_<HHmmss>.bak|.trn
_OLA_FILE = re.compile(r"_(?P<kind>FULL|DIFF|LOG)_(?P<stamp>\d{8}_\d{6})\.(?P<ext>bak|trn)$", re.IGNORECASE)


def ephemeral(name: str) -> pathlib.Path:
    """A file the scenario's playbooks wrote in its ephemeral directory."""
    return pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / name


def sql_backup_lab_input() -> dict[str, t.Any]:
    """The sql_backup input of the SQL host: the role's defaults with the
    scenario inventory's host_vars on top."""
    (host_vars,) = (SQL_BACKUP_LAB / "host_vars").glob("*.yml")
    return role_defaults("sql_backup") | yaml.safe_load(host_vars.read_text(encoding="utf-8"))


def lab_clock() -> tuple[_dt.datetime, _dt.datetime]:
    """(from, to) of the lab clock's last move (sql_backup_lab/clock.yml), from winsim's clock file in the
    scenario's state directory (UTC, naive: the simulated host's local time is UTC, as in Ola's file names)."""
    move = json.loads(ephemeral("winsim/_lab/clock.json").read_text(encoding="utf-8"))["history"][-1]
    return tuple(_dt.datetime.fromisoformat(move[k].replace("Z", "+00:00")).replace(tzinfo=None)  # type: ignore[return-value]
                 for k in ("from", "to"))


def ola_backup_time(path: str) -> tuple[str, _dt.datetime]:
    """(FULL|DIFF|LOG, backup start time) from an Ola Hallengren backup file name."""
    match = _OLA_FILE.search(path)
    assert match, f"{path} is not named like an Ola Hallengren backup file"
    return match["kind"].upper(), _dt.datetime.strptime(match["stamp"], "%Y%m%d_%H%M%S")


def backup_files(host: t.Any, directory: str, database: str) -> dict[str, dict[_dt.datetime, str]]:
    """The backup files of ``database`` on the host (``ansible.windows.win_find`` below ``directory``, Ola's
    ``<Server>\\<Database>\\<TYPE>`` folders), by kind, then by backup start time: {"FULL": {time: path}, ...}."""
    found = run(host, "ansible.windows.win_find", {"paths": directory, "recurse": True,
                                                   "patterns": [f"*_{database}_*.bak", f"*_{database}_*.trn"]})
    files: dict[str, dict[_dt.datetime, str]] = {"FULL": {}, "DIFF": {}, "LOG": {}}
    for item in found["files"]:
        kind, when = ola_backup_time(item["path"])
        assert f"\\{database}\\{kind}\\".lower() in item["path"].lower(), f"{item['path']} is not in Ola's layout"
        files[kind][when] = item["path"]
    return files


def agent_times(start: str, every_minutes: int, after: _dt.datetime, until: _dt.datetime) -> list[_dt.datetime]:
    """When a daily SQL Server Agent schedule starting at ``start`` (HH:MM) and recurring every
    ``every_minutes`` until the end of the day fires in ``(after, until]``."""
    hour, minute = (int(x) for x in start.split(":"))
    times = []
    day = after.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= until:
        when = day.replace(hour=hour, minute=minute)
        while when.date() == day.date():
            if after < when <= until:
                times.append(when)
            when += _dt.timedelta(minutes=every_minutes)
        day += _dt.timedelta(days=1)
    return times


def sql_backup_schedule(config: t.Mapping[str, t.Any], after: _dt.datetime, until: _dt.datetime
                        ) -> dict[str, list[_dt.datetime]]:
    """The backup times the role's schedule (``sql_backup_*_start_time`` and intervals) produces in
    ``(after, until]``, by kind."""
    return {"FULL": agent_times(config["sql_backup_full_start_time"], 1440, after, until),
            "DIFF": agent_times(config["sql_backup_diff_start_time"], config["sql_backup_diff_interval_hours"] * 60,
                                after, until),
            "LOG": agent_times(config["sql_backup_log_start_time"], config["sql_backup_log_interval_minutes"],
                               after, until)}


def newest_chain(schedule: t.Mapping[str, list[_dt.datetime]]) -> dict[str, t.Any]:
    """What a restore of the newest chain needs, by the schedule: the last full, the last differential
    after it (or None), every log backup after that."""
    full = schedule["FULL"][-1]
    diff = next((d for d in reversed(schedule["DIFF"]) if d > full), None)
    base = diff or full
    return {"full": full, "diff": diff, "logs": [log for log in schedule["LOG"] if log > base]}
