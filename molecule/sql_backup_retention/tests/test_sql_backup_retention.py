"""Verify the sql_backup_retention scenario after twenty days of lab clock: the host's backup files
(``ansible.windows.win_find`` in check mode, as every testinfra ``host.ansible`` run) against the role's
schedule and @CleanupTime (its defaults, ``roles/sql_backup/defaults/main.yml``, with the scenario's
input, ``../_shared/sql_backup_lab/host_vars``) over the lab clock's move."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from mcms_verify import backup_files, lab_clock, newest_chain, sql_backup_lab_input, sql_backup_schedule

INPUT = sql_backup_lab_input()
DATABASE = INPUT["sql_backup_databases"][0]["name"]
FULL_KEPT = dt.timedelta(hours=INPUT["sql_backup_full_cleanup_hours"])


@pytest.fixture(scope="module")
def schedule() -> dict[str, list[dt.datetime]]:
    """Every backup time of the role's schedule over the clock's move, by kind."""
    after, until = lab_clock()
    assert until - after >= dt.timedelta(days=20), (after, until)
    return sql_backup_schedule(INPUT, after, until)


@pytest.fixture(scope="module")
def on_disk(host: t.Any) -> dict[str, dict[dt.datetime, str]]:
    return backup_files(host, INPUT["sql_backup_dir"], DATABASE)


def test_every_backup_the_newest_chain_needs_is_on_disk(schedule: dict[str, list[dt.datetime]],
                                                        on_disk: dict[str, dict[dt.datetime, str]]) -> None:
    chain = newest_chain(schedule)
    assert chain["diff"], "the scenario's clock should stop after a differential"
    assert chain["logs"], "the scenario's clock should stop after a log backup"
    assert chain["full"] == max(on_disk["FULL"]), sorted(on_disk["FULL"])[-3:]
    assert chain["diff"] == max(on_disk["DIFF"]), sorted(on_disk["DIFF"])[-3:]
    missing = [log for log in chain["logs"] if log not in on_disk["LOG"]]
    assert not missing, missing
    assert max(on_disk["LOG"]) == chain["logs"][-1]


def test_fulls_older_than_the_cleanup_time_are_gone_and_newer_ones_kept(
        schedule: dict[str, list[dt.datetime]], on_disk: dict[str, dict[dt.datetime, str]]) -> None:
    last = schedule["FULL"][-1]
    # Ola deletes a full whose backup finished before @CleanupTime ago; the one taken exactly then is
    # kept or not by a few seconds, so it is left out of both lists.
    older = [full for full in schedule["FULL"] if full < last - FULL_KEPT]
    newer = [full for full in schedule["FULL"] if full > last - FULL_KEPT]
    assert older, "twenty days of daily fulls must outlast the cleanup time"
    assert not set(older) & set(on_disk["FULL"]), sorted(set(older) & set(on_disk["FULL"]))
    assert set(newer) <= set(on_disk["FULL"]), sorted(set(newer) - set(on_disk["FULL"]))
    assert min(on_disk["FULL"]) >= last - FULL_KEPT


def test_no_log_backup_newer_than_the_last_full_or_differential_was_deleted(
        schedule: dict[str, list[dt.datetime]], on_disk: dict[str, dict[dt.datetime, str]]) -> None:
    """Every log backup since the last full (so since the differential too) is still on disk."""
    last_full = schedule["FULL"][-1]
    since = [log for log in schedule["LOG"] if log > last_full]
    assert since
    missing = [log for log in since if log not in on_disk["LOG"]]
    assert not missing, missing
