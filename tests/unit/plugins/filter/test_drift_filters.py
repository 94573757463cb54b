"""Tests of the ``mcms.infra.drift_*`` filters: what a role read, turned into drift resources."""

from __future__ import annotations

import pytest

from ansible_collections.mcms.infra.plugins.filter import drift
from ansible_collections.mcms.infra.plugins.plugin_utils import _drift

INFO = [{"name": "MCMS", "state": "Stopped", "physical_path": "C:\\MCMS", "application_pool": "MCMS",
         "bindings": [{"protocol": "http", "ip": "*", "port": 8080, "hostname": "a"}]}]


@pytest.mark.parametrize(("plan", "expected"), [
    ([{"name": "MCMS", "args": {"name": "MCMS", "state": "started"}}], [("state", "Started", "Stopped")]),
    ([{"name": "MCMS", "args": {"name": "MCMS", "state": "stopped", "application_pool": "P"}}],
     [("application_pool", "P", "MCMS")]),
    ([{"name": "MCMS", "args": {"name": "MCMS", "state": "stopped", "bindings": {
        "add": [{"protocol": "http", "ip": "*", "port": 80, "hostname": "a"}],
        "remove": [{"ip": "*", "port": 8080, "hostname": "a"}]}}}],
     [("http_bindings", ["http/*:80:a"], ["http/*:8080:a"])]),
    ([{"name": "New", "args": {"name": "New", "state": "started"}}], [("present", True, False)]),
    ([{"name": "MCMS", "args": {"name": "MCMS", "state": "absent"}}], [("present", False, True)]),
    ([], []),
])
def test_drift_iis_sites(plan: list, expected: list) -> None:
    out = drift.drift_iis_sites(plan, INFO)
    assert [(r["attribute"], r["wanted"], r["found"]) for r in out] == expected


def test_drift_iis_pools_compares_flat_attributes_without_passwords() -> None:
    plan = [{"name": "MCMS", "state": "started", "secret": True, "attributes": {
        "startMode": "AlwaysRunning", "autoStart": True, "processModel.identityType": "SpecificUser",
        "processModel.password": "hunter22", "recycling.periodicRestart.schedule": ["03:00:00"]}}]
    info = [{"name": "MCMS", "attributes": {"startMode": "OnDemand", "autoStart": "True", "state": "Started",
                                            "processModel": {"identityType": "SpecificUser"}}}]
    records, _ = _drift.compare(drift.drift_iis_pools(plan, info))
    assert [(r["attribute"], r["wanted"], r["found"]) for r in records] == [
        ("startMode", "AlwaysRunning", "OnDemand")]
    assert "hunter22" not in repr(drift.drift_iis_pools(plan, info))


def test_drift_iis_pools_missing_pool() -> None:
    resources = drift.drift_iis_pools([{"name": "P", "state": "present", "attributes": {"startMode": "OnDemand"}}], [])
    assert resources[0]["found"] is None


def test_drift_tls_bindings_moved_binding() -> None:
    want = {"protocol": "https", "ip": "*", "port": 443, "hostname": "h", "use_sni": True,
            "certificate_hash": "AB", "certificate_store_name": "My"}
    out = drift.drift_tls_bindings([{"name": "MCMS", "rebind": [want], "previous": [], "stray_labels": ["*:8443:h"]}])
    assert [(r["resource"], r["attribute"], r["found"]) for r in out] == [
        ("MCMS https/*:443:h", "certificate", None), ("MCMS https/*:8443:h", "present", True)]


def test_drift_sql_recovery() -> None:
    reads = [{"__sql_backup_item": {"name": "MCMS"}, "data": {"RecoveryModel": "Simple"}},
             {"__sql_backup_item": {"name": "Gone"}, "changed": True}]
    records, _ = _drift.compare(drift.drift_sql_recovery(reads, [{"name": "MCMS"}, "Gone"], "SQL01"))
    assert sorted((r["resource"], r["attribute"], r["found"]) for r in records) == [
        ("SQL01/Gone", "present", False), ("SQL01/MCMS", "recovery_model", "Simple")]


def test_drift_missing() -> None:
    assert drift.drift_missing(["J"], "sql_agent_job") == [
        {"resource_type": "sql_agent_job", "resource": "J", "attribute": "present", "wanted": True, "found": False}]
