"""Tests of the named drifts (operator edits) in ``drift.py``."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import typing as t

import pytest

from winsim import drift
from winsim import state as st
from winsim.drift import DriftError, apply_drift

NOW = "2026-03-01T12:00:00Z"


def _fresh() -> dict[str, t.Any]:
    state = st.fresh_state("web01")
    state["clock"] = {"now": NOW}
    return state


@functools.cache
def _iis_host() -> dict[str, t.Any]:
    state = _fresh()
    drift.run_upstream(state, st.parse_iso(NOW), "ansible.windows.win_feature", {"name": ["Web-Server"]})
    return state


@pytest.fixture
def fresh() -> dict[str, t.Any]:
    return _fresh()


@pytest.fixture
def iis() -> dict[str, t.Any]:
    return copy.deepcopy(_iis_host())


def _two_bindings(state: dict[str, t.Any]) -> dict[str, t.Any]:
    site = state["iis"]["sites"]["Default Web Site"]
    site["bindings"] = [
        {"protocol": "http", "ip": "*", "port": 80, "hostname": "", "use_sni": False, "use_ccs": False,
         "certificate_hash": "", "certificate_store_name": ""},
        {"protocol": "https", "ip": "*", "port": 443, "hostname": "mcms.lab", "use_sni": True, "use_ccs": False,
         "certificate_hash": "A" * 40, "certificate_store_name": "My"},
    ]
    return site


def test_every_drift_is_documented() -> None:
    assert all(spec.help and spec.section for spec in drift.DRIFTS.values())


@pytest.mark.parametrize(("name", "module"), [
    ("stop-site", "winsim.models.iis_sites"), ("change-binding", "winsim.models.iis_sites"),
    ("stop-app-pool", "winsim.models.iis_pools"), ("set-app-pool-attribute", "winsim.models.iis_pools"),
    ("remove-file", "winsim.models.files"), ("write-file", "winsim.models.files"),
    ("stop-service", "winsim.models.services"), ("set-service-start-mode", "winsim.models.services"),
    ("delete-agent-job", "winsim.models.sql_agent"), ("set-recovery-model", "winsim.models.sql_agent"),
    ("remove-group-member", "winsim.models.accounts"), ("revoke-user-right", "winsim.models.accounts"),
    ("set-registry", "winsim.models.registry"), ("remove-feature", "winsim.models.features"),
    ("disable-firewall-rule", "winsim.models.firewall"), ("expire-cert", "winsim.models.certificates"),
    ("add-cert", "winsim.models.certificates"), ("enable-firewall-rule", "winsim.models.firewall"),
    ("set-gmsa-description", "winsim.models.ad"), ("set-gmsa-principals", "winsim.models.ad"),
])

def test_drifts_are_registered_beside_the_models_they_mirror(name: str, module: str) -> None:
    assert drift.all_drifts()[name].func.__module__ == module


def test_no_drift_is_left_in_the_central_module() -> None:
    assert [n for n, spec in drift.all_drifts().items() if spec.func.__module__ == "winsim.drift"] == []


def test_unknown_drift_fails() -> None:
    with pytest.raises(DriftError, match="unknown drift 'nope'"):
        apply_drift(_fresh(), "nope")


def test_host_now_uses_the_pinned_clock(fresh: dict[str, t.Any]) -> None:
    assert drift.host_now(fresh) == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


# -- IIS ---------------------------------------------------------------------------

def test_stop_site(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "stop-site", name="default web site")
    assert iis["iis"]["sites"]["Default Web Site"]["state"] == "Stopped"


def test_start_site(iis: dict[str, t.Any]) -> None:
    iis["iis"]["sites"]["Default Web Site"]["state"] = "Stopped"
    apply_drift(iis, "start-site", name="Default Web Site")
    assert iis["iis"]["sites"]["Default Web Site"]["state"] == "Started"


def test_unknown_site_names_the_existing_ones(iis: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match=r"no IIS site named 'MCMS' \(existing: Default Web Site\)"):
        apply_drift(iis, "stop-site", name="MCMS")


def test_iis_drift_without_iis_fails(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="IIS is not installed"):
        apply_drift(fresh, "stop-site", name="Default Web Site")


def test_remove_site(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "remove-site", name="Default Web Site")
    assert iis["iis"]["sites"] == {}


def test_set_physical_path_normalises(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "set-physical-path", name="Default Web Site", path="d:/other/")
    assert iis["iis"]["sites"]["Default Web Site"]["physical_path"] == "D:\\other"


def test_change_binding_of_the_only_binding(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "change-binding", site="Default Web Site", port=8080)
    assert iis["iis"]["sites"]["Default Web Site"]["bindings"][0]["port"] == 8080


def test_change_binding_needs_a_selector_with_several_bindings(iis: dict[str, t.Any]) -> None:
    _two_bindings(iis)
    with pytest.raises(DriftError, match="has 2 bindings; choose one with --binding"):
        apply_drift(iis, "change-binding", site="Default Web Site", port=8443)


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"certificate_hash": "b" * 40}, "certificate_hash", "B" * 40),
    ({"hostname": "other.lab"}, "hostname", "other.lab"),
    ({"sni": "false"}, "use_sni", False),
    ({"certificate_store": "WebHosting"}, "certificate_store_name", "WebHosting"),
    ({"ip": "192.0.2.10"}, "ip", "192.0.2.10"),
])
def test_change_binding_selected_by_label(iis: dict[str, t.Any], changes: dict[str, t.Any], field: str,
                                          expected: t.Any) -> None:
    site = _two_bindings(iis)
    apply_drift(iis, "change-binding", site="Default Web Site", binding="https/*:443:MCMS.lab", **changes)
    assert site["bindings"][1][field] == expected


def test_change_binding_leaves_other_bindings(iis: dict[str, t.Any]) -> None:
    site = _two_bindings(iis)
    before = copy.deepcopy(site["bindings"][0])
    apply_drift(iis, "change-binding", site="Default Web Site", binding="*:443:mcms.lab", port=8443)
    assert site["bindings"][0] == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"binding": "*:444:mcms.lab", "port": 1}, "has no binding"),
    ({"binding": "garbage", "port": 1}, "must look like"),
    ({"binding": "*:443:mcms.lab", "port": 70000}, "port must be 1-65535"),
    ({"binding": "*:443:mcms.lab", "certificate_hash": "xyz"}, "40 hexadecimal"),
    ({"binding": "*:443:mcms.lab"}, "needs at least one"),
])
def test_change_binding_rejects_bad_input(iis: dict[str, t.Any], kwargs: dict[str, t.Any], message: str) -> None:
    _two_bindings(iis)
    with pytest.raises(DriftError, match=message):
        apply_drift(iis, "change-binding", site="Default Web Site", **kwargs)


def test_remove_binding(iis: dict[str, t.Any]) -> None:
    site = _two_bindings(iis)
    apply_drift(iis, "remove-binding", site="Default Web Site", binding="http/*:80:")
    assert [b["port"] for b in site["bindings"]] == [443]


def test_stop_app_pool(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "stop-app-pool", name="defaultapppool")
    assert iis["iis"]["app_pools"]["DefaultAppPool"]["state"] == "Stopped"


@pytest.mark.parametrize(("value", "expected"), [("00:10:00", "00:10:00"), ("5", 5), ("false", False),
                                                 ("NetworkService", "NetworkService")])
def test_set_app_pool_attribute_parses_values(iis: dict[str, t.Any], value: str, expected: t.Any) -> None:
    apply_drift(iis, "set-app-pool-attribute", name="DefaultAppPool", attribute="x.y", value=value)
    assert iis["iis"]["app_pools"]["DefaultAppPool"]["attributes"]["x.y"] == expected


# -- files ---------------------------------------------------------------------------

def test_remove_file_removes_the_subtree(fresh: dict[str, t.Any]) -> None:
    apply_drift(fresh, "write-file", path="D:\\mcms\\current\\web.config", content="<configuration/>")
    apply_drift(fresh, "remove-file", path="d:\\MCMS")
    assert not st.exists(fresh, "D:\\mcms\\current\\web.config")
    assert not st.exists(fresh, "D:\\mcms")


def test_remove_missing_file_fails(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match=r"no file or folder D:\\nope"):
        apply_drift(fresh, "remove-file", path="D:\\nope")


def test_write_file_creates_parents(fresh: dict[str, t.Any]) -> None:
    apply_drift(fresh, "write-file", path="D:\\mcms\\app_offline.htm", content="offline")
    assert st.read_file(fresh, "D:\\mcms\\app_offline.htm") == b"offline"


# -- services, features, firewall, accounts (through the upstream models) -----------------

def test_stop_service(fresh: dict[str, t.Any]) -> None:
    apply_drift(fresh, "stop-service", name="schedule")
    assert fresh["services"]["schedule"]["state"] == "stopped"


def test_stop_unknown_service(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="no service named 'MCMS'"):
        apply_drift(fresh, "stop-service", name="MCMS")


def test_set_service_start_mode(fresh: dict[str, t.Any]) -> None:
    apply_drift(fresh, "set-service-start-mode", name="Schedule", start_mode="disabled")
    assert fresh["services"]["schedule"]["start_mode"] == "disabled"


def test_remove_feature_uninstalls_like_the_module(iis: dict[str, t.Any]) -> None:
    apply_drift(iis, "remove-feature", name="web-server")
    assert iis["features"]["Web-Server"]["install_state"] == "Available"
    assert iis["iis"]["sites"] == {}


def test_remove_feature_that_is_not_installed(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="not installed"):
        apply_drift(fresh, "remove-feature", name="Web-Server")


def test_remove_firewall_rule(iis: dict[str, t.Any]) -> None:
    name = iis["firewall"]["rules"][0]["name"]
    apply_drift(iis, "remove-firewall-rule", name=name.upper())
    assert all(r["name"] != name for r in iis["firewall"]["rules"])


def test_disable_firewall_rule(iis: dict[str, t.Any]) -> None:
    name = iis["firewall"]["rules"][0]["name"]
    apply_drift(iis, "disable-firewall-rule", name=name)
    states = [r["enabled"] for r in iis["firewall"]["rules"] if r["name"] == name]
    assert states
    assert not any(states)


def test_enable_firewall_rule_by_its_name_or_id(iis: dict[str, t.Any]) -> None:
    rule = next(r for r in iis["firewall"]["rules"] if r.get("id") == "IIS-WebServerRole-HTTP-In-TCP")
    rule["enabled"] = False
    apply_drift(iis, "enable-firewall-rule", name="iis-webserverrole-http-in-tcp")
    assert rule["enabled"] is True
    assert [r["name"] for r in iis["firewall"]["rules"] if r.get("id") == "IIS-WebServerRole-HTTP-In-TCP"] == [
        "World Wide Web Services (HTTP Traffic-In)"]


def test_unknown_firewall_rule(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="no firewall rule named 'MCMS HTTPS'"):
        apply_drift(fresh, "remove-firewall-rule", name="MCMS HTTPS")


def test_remove_group_member(fresh: dict[str, t.Any]) -> None:
    admin_sid = fresh["users"]["administrator"]["sid"]
    apply_drift(fresh, "remove-group-member", group="Administrators", member="Administrator")
    assert admin_sid not in fresh["groups"]["administrators"]["members"]


def test_remove_group_member_that_is_not_a_member(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="is not a member"):
        apply_drift(fresh, "remove-group-member", group="Users", member="Guest")


def test_revoke_user_right(fresh: dict[str, t.Any]) -> None:
    holders = fresh["user_rights"]["SeServiceLogonRight"]
    apply_drift(fresh, "revoke-user-right", right="SeServiceLogonRight", account="NT SERVICE\\ALL SERVICES")
    assert len(fresh["user_rights"]["SeServiceLogonRight"]) == len(holders) - 1


# -- registry ---------------------------------------------------------------------------

def test_set_registry_then_remove_it(fresh: dict[str, t.Any]) -> None:
    before = copy.deepcopy(fresh["registry"])
    apply_drift(fresh, "set-registry", key="HKLM:\\SOFTWARE\\MCMS", name="Version", value="7", type="dword")
    assert fresh["registry"] != before
    apply_drift(fresh, "remove-registry", key="HKLM:\\SOFTWARE\\MCMS")
    assert fresh["registry"] == before


def test_remove_missing_registry_value_fails(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="nothing to remove"):
        apply_drift(fresh, "remove-registry", key="HKLM:\\SOFTWARE\\MCMS", name="Version")


# -- certificates -----------------------------------------------------------------------

def _add_cert(state: dict[str, t.Any], days: int, **kw: t.Any) -> dict[str, t.Any]:
    apply_drift(state, "add-cert", subject="CN=mcms.lab", days=days, **kw)
    (entry,) = state["certificates"]["LocalMachine"]["My"].values()
    return entry


def test_add_cert_imports_with_private_key(fresh: dict[str, t.Any]) -> None:
    entry = _add_cert(fresh, 10)
    assert (entry["subject"], entry["dns_names"], entry["has_private_key"], entry["key_exportable"],
            entry["not_after"]) == ("CN=mcms.lab", ["mcms.lab"], True, False, "2026-03-11T12:00:00Z")


def test_add_cert_leaves_no_pfx_behind(fresh: dict[str, t.Any]) -> None:
    _add_cert(fresh, 10)
    assert not [i for i in st.children(fresh, "C:\\Windows\\Temp") if i["path"].endswith(".pfx")]


def test_add_expired_cert(fresh: dict[str, t.Any]) -> None:
    assert _add_cert(fresh, -2)["not_after"] == "2026-02-27T12:00:00Z"


def test_add_cert_with_san_names(fresh: dict[str, t.Any]) -> None:
    assert _add_cert(fresh, 30, dns_name=["a.lab", "b.lab"])["dns_names"] == ["a.lab", "b.lab"]


def test_expire_cert_keeps_thumbprint(fresh: dict[str, t.Any]) -> None:
    entry = _add_cert(fresh, 300)
    apply_drift(fresh, "expire-cert", thumbprint=entry["thumbprint"].lower(), days=10)
    assert fresh["certificates"]["LocalMachine"]["My"][entry["thumbprint"]]["not_after"] == "2026-03-11T12:00:00Z"


def test_expire_cert_in_the_past_moves_not_before(fresh: dict[str, t.Any]) -> None:
    entry = _add_cert(fresh, 300)
    apply_drift(fresh, "expire-cert", thumbprint=entry["thumbprint"], days=-400)
    assert st.parse_iso(entry["not_before"]) < st.parse_iso(entry["not_after"])


def test_expire_unknown_cert(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="no certificate"):
        apply_drift(fresh, "expire-cert", thumbprint="A" * 40, days=1, store="LocalMachine\\My")


def test_remove_cert(fresh: dict[str, t.Any]) -> None:
    entry = _add_cert(fresh, 10)
    apply_drift(fresh, "remove-cert", thumbprint=entry["thumbprint"])
    assert fresh["certificates"]["LocalMachine"]["My"] == {}


# -- SQL Server -----------------------------------------------------------------------------

@pytest.fixture
def sql_host(fresh: dict[str, t.Any]) -> dict[str, t.Any]:
    from winsim.models import sql

    inst = sql.ensure_instance(fresh)
    agent = inst["agent"]
    for name in ("Backup FULL", "Backup LOG"):
        agent["jobs"][name.lower()] = {"name": name, "job_id": name, "enabled": True, "steps": []}
    agent["schedules"] = [
        {"id": 1, "name": "Daily", "enabled": True, "jobs": ["Backup FULL"]},
        {"id": 2, "name": "Hourly", "enabled": True, "jobs": ["Backup FULL", "Backup LOG"]},
    ]
    inst["databases"]["mcms"] = {"name": "MCMS", "recovery_model": "Full", "log_chain_lsn": 42}
    return fresh


def _inst(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return state["sql"]["instances"]["mssqlserver"]


def test_sql_drift_without_sql_server_fails(fresh: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="SQL Server is not installed"):
        apply_drift(fresh, "delete-agent-job", name="Backup FULL")


def test_delete_agent_job(sql_host: dict[str, t.Any]) -> None:
    apply_drift(sql_host, "delete-agent-job", name="backup full")
    assert sorted(_inst(sql_host)["agent"]["jobs"]) == ["backup log"]


def test_delete_agent_job_drops_its_unused_schedules_only(sql_host: dict[str, t.Any]) -> None:
    apply_drift(sql_host, "delete-agent-job", name="Backup FULL")
    assert _inst(sql_host)["agent"]["schedules"] == [
        {"id": 2, "name": "Hourly", "enabled": True, "jobs": ["Backup LOG"]}]


def test_delete_unknown_agent_job_names_the_existing_ones(sql_host: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match=r"no SQL Agent job 'Nope' on MSSQLSERVER \(existing: Backup FULL, Backup LOG"):
        apply_drift(sql_host, "delete-agent-job", name="Nope")


def test_unknown_instance(sql_host: dict[str, t.Any]) -> None:
    with pytest.raises(DriftError, match="no SQL Server instance 'SQLEXPRESS'"):
        apply_drift(sql_host, "delete-agent-job", name="Backup FULL", instance="SQLEXPRESS")


def test_disable_agent_job(sql_host: dict[str, t.Any]) -> None:
    apply_drift(sql_host, "disable-agent-job", name="Backup LOG", instance="mssqlserver")
    assert _inst(sql_host)["agent"]["jobs"]["backup log"]["enabled"] is False


@pytest.mark.parametrize(("model", "expected", "chain"), [
    ("simple", "Simple", None), ("bulk_logged", "BulkLogged", 42), ("full", "Full", 42),
])
def test_set_recovery_model(sql_host: dict[str, t.Any], model: str, expected: str, chain: int | None) -> None:
    apply_drift(sql_host, "set-recovery-model", database="mcms", model=model)
    db = _inst(sql_host)["databases"]["mcms"]
    assert (db["recovery_model"], db["log_chain_lsn"]) == (expected, chain)
