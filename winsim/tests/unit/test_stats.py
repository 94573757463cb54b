"""Tests of the round-trip accounting read side (``stats.py``)."""

from __future__ import annotations

import typing as t

import pytest

from winsim import stats
from winsim.store import HostStore


@pytest.fixture
def store(tmp_path: t.Any) -> HostStore:
    return HostStore.for_host("web01", state_dir=str(tmp_path))


def _run(store: HostStore, monkeypatch: pytest.MonkeyPatch, run: str, modules: list[str], puts: int = 0) -> None:
    monkeypatch.setenv("WINSIM_RUN_ID", run)
    for module in modules:
        store.count("module", module=module)
    for _ in range(puts):
        store.count("put_file", nbytes=100)


def test_host_without_sidecar_has_zero_round_trips(store: HostStore) -> None:
    s = stats.host_stats(store)
    assert (s.round_trips, s.modules, s.runs) == (0, {}, 0)


def test_total_counts_every_run(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(store, monkeypatch, "r1", ["ansible.windows.setup", "ansible.windows.win_feature"])
    _run(store, monkeypatch, "r2", ["ansible.windows.setup"], puts=2)
    s = stats.host_stats(store)
    assert (s.round_trips, s.module_runs, s.modules["ansible.windows.setup"], s.put_file, s.bytes_put, s.runs) == (
        5, 3, 2, 2, 200, 2)


def test_last_run_is_the_most_recent(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(store, monkeypatch, "r1", ["ansible.windows.setup", "ansible.windows.win_feature"])
    _run(store, monkeypatch, "r2", ["ansible.windows.win_ping"])
    s = stats.host_stats(store, run="last")
    assert (s.scope, s.round_trips, s.modules) == ("r2", 1, {"ansible.windows.win_ping": 1})


def test_named_run(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(store, monkeypatch, "r1", ["ansible.windows.setup", "ansible.windows.win_feature"])
    _run(store, monkeypatch, "r2", ["ansible.windows.win_ping"])
    assert stats.host_stats(store, run="r1").round_trips == 2


def test_unknown_run_reports_zero(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(store, monkeypatch, "r1", ["ansible.windows.setup"])
    assert stats.host_stats(store, run="nope").round_trips == 0


def test_internal_round_trips_are_listed_apart(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSIM_RUN_ID", "r1")
    store.count("mkdtemp")
    s = stats.host_stats(store)
    assert (s.round_trips, s.module_runs, s.internal) == (1, 0, {"mkdtemp": 1})


def test_to_json_summarises_hosts(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a = HostStore.for_host("web01", state_dir=str(tmp_path))
    b = HostStore.for_host("web02", state_dir=str(tmp_path))
    _run(a, monkeypatch, "r1", ["ansible.windows.setup"] * 3)
    _run(b, monkeypatch, "r1", ["ansible.windows.setup", "ansible.windows.win_ping"])
    doc = stats.to_json([stats.host_stats(a), stats.host_stats(b)])
    assert doc["summary"] == {"hosts": 2, "round_trips": 5, "round_trips_per_host_max": 3,
                              "round_trips_per_host_mean": 2.5, "put_file": 0, "fetch_file": 0,
                              "modules": {"ansible.windows.setup": 4, "ansible.windows.win_ping": 1}}


def test_format_table_lists_modules_by_count(store: HostStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(store, monkeypatch, "r1", ["ansible.windows.win_ping", "ansible.windows.setup", "ansible.windows.setup"])
    lines = stats.format_table([stats.host_stats(store)]).splitlines()
    assert lines[0].startswith("web01 (total): 3 round trips, 3 module runs")
    assert [line.split()[0] for line in lines[1:]] == ["ansible.windows.setup", "ansible.windows.win_ping"]


def test_format_table_adds_a_total_for_several_hosts(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a = HostStore.for_host("web01", state_dir=str(tmp_path))
    b = HostStore.for_host("web02", state_dir=str(tmp_path))
    _run(a, monkeypatch, "r1", ["ansible.windows.setup"])
    _run(b, monkeypatch, "r1", ["ansible.windows.setup", "ansible.windows.setup"])
    assert stats.format_table([stats.host_stats(a), stats.host_stats(b)]).splitlines()[-1] == (
        "total: 3 round trips over 2 hosts (max 2 per host)")
