"""Tests of fault injection (the ``<host>.faults.json`` sidecar)."""

from __future__ import annotations

import json
import typing as t

import pytest

from winsim import faults
from winsim.models._base import Faults, SimulatorError
from winsim.store import HostStore


@pytest.fixture
def store(tmp_path: t.Any) -> HostStore:
    return HostStore.for_host("web01", state_dir=str(tmp_path))


@pytest.mark.parametrize(("kind", "target", "kwargs", "expected"), [
    ("service_start", "MCMS.Worker", {}, {"kind": "service_start", "target": "MCMS.Worker"}),
    ("app_pool_start", "mcms", {}, {"kind": "app_pool_start", "target": "mcms"}),
    ("site_start", "MCMS", {"message": "boom"}, {"kind": "site_start", "target": "MCMS", "message": "boom"}),
    ("app_health", "MCMS", {}, {"kind": "app_health", "target": "MCMS", "status": 500}),
    ("app_health", "MCMS", {"status": 503}, {"kind": "app_health", "target": "MCMS", "status": 503}),
    ("disk_full", "d", {}, {"kind": "disk_full", "target": "D:"}),
    ("disk_full", "c:\\", {}, {"kind": "disk_full", "target": "C:"}),
    ("drop_connection", None, {"at": 3}, {"kind": "drop_connection", "at": 3, "base": 0}),
    ("drop_connection", None, {"after": 0, "base": 7}, {"kind": "drop_connection", "after": 0, "base": 7}),
])
def test_make_fault_builds_the_sidecar_record(kind: str, target: str | None, kwargs: dict[str, t.Any],
                                              expected: dict[str, t.Any]) -> None:
    assert faults.make_fault(kind, target, **kwargs) == expected


@pytest.mark.parametrize(("kind", "target", "kwargs", "message"), [
    ("no_such_kind", "x", {}, "unknown fault kind"),
    ("service_start", None, {}, "needs a target"),
    ("service_start", "  ", {}, "needs a target"),
    ("drop_connection", "web01", {"at": 1}, "takes no target"),
    ("drop_connection", None, {}, "exactly one of --at"),
    ("drop_connection", None, {"at": 1, "after": 2}, "exactly one of --at"),
    ("drop_connection", None, {"at": 0}, "--at must be 1 or more"),
    ("service_start", "x", {"at": 2}, "takes no --at"),
    ("disk_full", "CD", {}, "needs a drive"),
    ("app_health", "MCMS", {"status": 42}, "HTTP status code"),
    ("service_start", "x", {"status": 500}, "takes no --status"),
    ("disk_full", "C:", {"message": "x"}, "takes no --message"),
])
def test_make_fault_rejects_invalid_faults(kind: str, target: str | None, kwargs: dict[str, t.Any],
                                           message: str) -> None:
    with pytest.raises(SimulatorError, match=message):
        faults.make_fault(kind, target, **kwargs)


def test_add_fault_writes_a_json_list(store: HostStore) -> None:
    faults.add_fault(store, "service_start", "W3SVC")
    assert json.loads(store.faults_path.read_text()) == [{"kind": "service_start", "target": "W3SVC"}]


def test_add_fault_replaces_same_kind_and_target_case_insensitively(store: HostStore) -> None:
    faults.add_fault(store, "app_health", "MCMS", status=500)
    faults.add_fault(store, "app_health", "mcms", status=503)
    assert faults.list_faults(store) == [{"kind": "app_health", "target": "mcms", "status": 503}]


def test_add_fault_keeps_other_faults(store: HostStore) -> None:
    faults.add_fault(store, "service_start", "W3SVC")
    faults.add_fault(store, "disk_full", "C:")
    assert [f["kind"] for f in faults.list_faults(store)] == ["service_start", "disk_full"]


def test_drop_connection_counts_from_the_injection(store: HostStore) -> None:
    for _ in range(4):
        store.count("module", module="ansible.windows.win_ping")
    fault = faults.add_fault(store, "drop_connection", at=2)
    assert fault["base"] == 4


def test_remove_fault_by_kind_and_target(store: HostStore) -> None:
    faults.add_fault(store, "service_start", "W3SVC")
    faults.add_fault(store, "service_start", "WAS")
    assert faults.remove_fault(store, "service_start", "w3svc") == 1
    assert faults.list_faults(store) == [{"kind": "service_start", "target": "WAS"}]


def test_remove_fault_by_kind_only(store: HostStore) -> None:
    faults.add_fault(store, "service_start", "W3SVC")
    faults.add_fault(store, "service_start", "WAS")
    faults.add_fault(store, "disk_full", "C:")
    assert faults.remove_fault(store, "service_start") == 2


def test_clear_faults_removes_the_sidecar(store: HostStore) -> None:
    faults.add_fault(store, "disk_full", "C:")
    assert faults.clear_faults(store) == 1
    assert not store.faults_path.exists()


def test_clear_without_faults_is_harmless(store: HostStore) -> None:
    assert faults.clear_faults(store) == 0


def test_faults_never_touch_the_state_file(store: HostStore) -> None:
    faults.add_fault(store, "disk_full", "C:")
    faults.clear_faults(store)
    assert not store.state_path.exists()


def test_models_find_injected_faults(store: HostStore) -> None:
    faults.add_fault(store, "app_pool_start", "MCMS")
    assert Faults(store.load_faults()).find("app_pool_start", "mcms") == {"kind": "app_pool_start", "target": "MCMS"}
