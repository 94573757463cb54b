"""The host store: canonical, atomic state files; sidecars beside the state;
fcntl locking that serialises concurrent writers across processes."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from winsim.models._base import SimulatorError
from winsim.store import HostStore, canonical_json


def test_paths_of_a_host(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    assert store.state_path == tmp_path / "web1.json"
    assert store.stats_path == tmp_path / "web1.stats.json"
    assert store.faults_path == tmp_path / "web1.faults.json"
    assert store.trace_path == tmp_path / "web1.trace.jsonl"
    assert store.tmp_dir == tmp_path / "web1.d" / "tmp"
    assert store.lock_path == tmp_path / "web1.lock"


def test_explicit_state_file_wins(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path / "ignored"), state_file=str(tmp_path / "x.json"))
    assert store.state_path == tmp_path / "x.json"
    assert store.stats_path == tmp_path / "x.stats.json"


def test_missing_state_is_a_fresh_host_named_after_the_inventory_host(tmp_path: Path) -> None:
    store = HostStore.for_host("web1.lab.example", state_dir=str(tmp_path))
    state = store.load_state()
    assert state["host"]["hostname"] == "WEB1"
    assert state["host"]["os_name"] == "Microsoft Windows Server 2022 Datacenter"
    assert not store.state_path.exists()


def test_canonical_json_is_sorted_indented_and_newline_terminated() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1], "c": "é"}}) == (
        b'{\n  "a": {\n    "c": "\xc3\xa9",\n    "d": [\n      1\n    ]\n  },\n  "b": 1\n}\n')


def test_save_writes_only_when_bytes_change(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    state = store.load_state()
    assert store.save_state(state) is True
    mtime = store.state_path.stat().st_mtime_ns
    assert store.save_state(json.loads(store.state_path.read_text())) is False
    assert store.state_path.stat().st_mtime_ns == mtime


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    store.save_state(store.load_state())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web1.json"]


def test_invalid_state_file_fails_loudly(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    store.state_path.write_text("{not json")
    with pytest.raises(SimulatorError, match="not valid JSON"):
        store.load_state()


def test_foreign_json_is_not_a_state_document(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    store.state_path.write_text("{}")
    with pytest.raises(SimulatorError, match="not a winsim state document"):
        store.load_state()


def test_faults_file_is_a_list_of_kinds(tmp_path: Path) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    assert store.load_faults() == []
    store.save_faults([{"kind": "service_start", "target": "W3SVC"}])
    assert store.load_faults() == [{"kind": "service_start", "target": "W3SVC"}]
    store.faults_path.write_text('{"kind": "disk_full"}')
    with pytest.raises(SimulatorError, match="JSON list of objects"):
        store.load_faults()


def test_counts_by_kind_in_total_and_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    monkeypatch.setenv("WINSIM_RUN_ID", "run-a")
    store.count("module", module="ansible.windows.win_stat")
    store.count("module", module="ansible.windows.win_stat")
    store.count("put_file", nbytes=10)
    monkeypatch.setenv("WINSIM_RUN_ID", "run-b")
    assert store.count("mkdtemp") == 4
    stats = store.load_stats()
    assert stats["total"]["round_trips"] == 4
    assert stats["total"]["modules"] == {"ansible.windows.win_stat": 2}
    assert stats["total"]["put_file"] == 1
    assert stats["total"]["bytes_put"] == 10
    assert stats["total"]["internal"] == {"mkdtemp": 1}
    runs = {r["run"]: r for r in stats["runs"]}
    assert runs["run-a"]["round_trips"] == 3
    assert runs["run-b"]["round_trips"] == 1


def test_trace_appends_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSIM_RUN_ID", "r1")
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    store.trace({"kind": "module", "module": "m"})
    store.trace({"kind": "mkdtemp"})
    lines = [json.loads(line) for line in store.trace_path.read_text().splitlines()]
    assert [(line["kind"], line["run"]) for line in lines] == [("module", "r1"), ("mkdtemp", "r1")]
    assert all("time" in line for line in lines)


def test_lock_is_reentrant_across_store_objects_of_one_host(tmp_path: Path) -> None:
    one = HostStore.for_host("web1", state_dir=str(tmp_path))
    two = HostStore.for_host("web1", state_dir=str(tmp_path))
    with one.locked(), two.locked(), one.locked():
        two.count("module", module="m")
    assert one.load_stats()["total"]["round_trips"] == 1


def _increment(state_dir: str, rounds: int) -> None:
    store = HostStore.for_host("web1", state_dir=state_dir)
    for _ in range(rounds):
        with store.locked():
            state = store.load_state()
            counter = state.setdefault("test_counter", {"n": 0})
            counter["n"] += 1
            store.save_state(state)
        store.count("module", module="m")


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    procs, rounds = 4, 15
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_increment, args=(str(tmp_path), rounds)) for _ in range(procs)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = HostStore.for_host("web1", state_dir=str(tmp_path))
    assert store.load_state()["test_counter"]["n"] == procs * rounds
    assert store.load_stats()["total"]["round_trips"] == procs * rounds
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
