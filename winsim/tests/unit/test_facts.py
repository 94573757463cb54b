"""Tests of the ``ansible.windows.setup`` and ``ansible.windows.win_ping`` models."""

from __future__ import annotations

import copy
import datetime as dt
import json
import typing as t

import pytest

from winsim import state as st
from winsim.models import facts
from winsim.models._base import (
    MODELS,
    ModuleContext,
    ModuleFailed,
    SimulatorError,
)

NOW = dt.datetime(2026, 3, 2, 14, 30, 15, 250000, tzinfo=dt.UTC)


def _state(hostname: str = "web01") -> dict[str, t.Any]:
    return st.fresh_state(hostname)


def _setup(state: dict[str, t.Any], *, check_mode: bool = False,
           **params: t.Any) -> tuple[dict[str, t.Any], ModuleContext]:
    full = {"gather_subset": ["all"], "gather_timeout": 10, "fact_path": None, "_measure_subset": False}
    full.update(params)
    ctx = ModuleContext(fqcn="ansible.windows.setup", params=full, state=state, check_mode=check_mode,
                        hostname="web01", now=NOW)
    return facts.setup(ctx), ctx


def test_models_registered_with_upstream_version() -> None:
    assert MODELS["ansible.windows.setup"].upstream == "ansible.windows 3.8.0"
    assert MODELS["ansible.windows.win_ping"].upstream == "ansible.windows 3.8.0"


@pytest.mark.parametrize(("fact", "expected"), [
    ("ansible_os_family", "Windows"),
    ("ansible_distribution", "Microsoft Windows Server 2022 Datacenter"),
    ("ansible_distribution_version", "10.0.20348.0"),
    ("ansible_distribution_major_version", "10"),
    ("ansible_os_product_type", "server"),
    ("ansible_hostname", "WEB01"),
    ("ansible_netbios_name", "WEB01"),
    ("ansible_fqdn", "WEB01"),
    ("ansible_domain", ""),
    ("ansible_windows_domain", "WORKGROUP"),
    ("ansible_windows_domain_member", False),
    ("ansible_windows_domain_role", "Stand-alone server"),
    ("ansible_powershell_version", 5),
    ("ansible_processor_vcpus", 2),
    ("ansible_processor_count", 1),
    ("ansible_memtotal_mb", 8192),
    ("ansible_lastboot", "2026-01-05 09:00:00Z"),
    ("ansible_reboot_pending", False),
    ("ansible_system", "Win32NT"),
    ("ansible_architecture2", "x86_64"),
    ("module_setup", True),
    ("gather_subset", ["all"]),
])
def test_fresh_host_facts(fact: str, expected: t.Any) -> None:
    result, _ = _setup(_state())
    assert result["ansible_facts"][fact] == expected


def test_setup_never_changes() -> None:
    result, _ = _setup(_state())
    assert result["changed"] is False


def test_setup_leaves_state_untouched() -> None:
    state = _state()
    before = copy.deepcopy(state)
    _setup(state, check_mode=True)
    assert state == before


def test_domain_member_facts() -> None:
    state = _state()
    state["host"].update(domain="corp.example", domain_role="Member server")
    f = _setup(state)[0]["ansible_facts"]
    assert (f["ansible_windows_domain"], f["ansible_windows_domain_member"], f["ansible_windows_domain_role"],
            f["ansible_domain"], f["ansible_fqdn"]) == ("corp.example", True, "Member server", "corp.example",
                                                        "WEB01.corp.example")


@pytest.mark.parametrize(("role", "product_type", "fact_role"), [
    ("Primary domain controller", "domain_controller", "Primary domain controller"),
    ("Domain controller", "domain_controller", "Primary domain controller"),
    ("Backup domain controller", "domain_controller", "Backup domain controller"),
    ("Member server", "server", "Member server"),
])
def test_domain_role_maps_to_product_type(role: str, product_type: str, fact_role: str) -> None:
    state = _state()
    state["host"].update(domain="corp.example", domain_role=role)
    f = _setup(state)[0]["ansible_facts"]
    assert (f["ansible_os_product_type"], f["ansible_windows_domain_role"]) == (product_type, fact_role)


def test_uptime_follows_host_clock() -> None:
    f = _setup(_state())[0]["ansible_facts"]
    assert f["ansible_uptime_seconds"] == round((NOW - st.parse_iso(st.INSTALLED_AT)).total_seconds())


def test_reboot_pending_follows_host() -> None:
    state = _state()
    state["host"]["reboot_pending"] = True
    assert _setup(state)[0]["ansible_facts"]["ansible_reboot_pending"] is True


def test_env_values_lose_trailing_backslash() -> None:
    state = _state()
    state["env"]["MCMS_HOME"] = "D:\\mcms\\"
    assert _setup(state)[0]["ansible_facts"]["ansible_env"]["MCMS_HOME"] == "D:\\mcms"


def test_env_derives_username_from_profile() -> None:
    assert _setup(_state())[0]["ansible_facts"]["ansible_env"]["USERNAME"] == "Administrator"


def test_single_ipv4_address_is_a_dictionary_like_convertto_json() -> None:
    iface = _setup(_state())[0]["ansible_facts"]["ansible_interfaces"][0]
    assert iface["ipv4"] == {"address": "192.0.2.10", "prefix": "24"}


def test_several_ipv4_addresses_are_a_list() -> None:
    state = _state()
    state["host"]["ip_addresses"] = ["192.0.2.10", "192.0.2.11"]
    iface = _setup(state)[0]["ansible_facts"]["ansible_interfaces"][0]
    assert [a["address"] for a in iface["ipv4"]] == ["192.0.2.10", "192.0.2.11"]


def test_ip_addresses_include_ipv6_link_local() -> None:
    ips = _setup(_state())[0]["ansible_facts"]["ansible_ip_addresses"]
    assert ips[0] == "192.0.2.10"
    assert ips[1].startswith("fe80::")


def test_facts_are_reproducible_for_one_host() -> None:
    assert _setup(_state())[0] == _setup(_state())[0]


def test_machine_sid_differs_between_hosts() -> None:
    a = _setup(_state("web01"))[0]["ansible_facts"]["ansible_machine_id"]
    b = _setup(_state("web02"))[0]["ansible_facts"]["ansible_machine_id"]
    assert a != b


def test_date_time_uses_host_clock() -> None:
    dtf = _setup(_state())[0]["ansible_facts"]["ansible_date_time"]
    assert (dtf["iso8601"], dtf["weekday"], dtf["weekday_number"], dtf["tz_offset"], dtf["epoch_int"]) == (
        "2026-03-02T14:30:15Z", "Monday", "1", "+00:00", int(NOW.timestamp()))


def test_date_time_honours_modelled_time_zone() -> None:
    state = _state()
    state["host"]["timezone"] = "W. Europe Standard Time"
    dtf = _setup(state)[0]["ansible_facts"]["ansible_date_time"]
    assert (dtf["hour"], dtf["tz_offset"], dtf["tz"]) == ("15", "+01:00", "W. Europe Standard Time")


def test_unknown_time_zone_fails_loudly() -> None:
    state = _state()
    state["host"]["timezone"] = "Mars Standard Time"
    with pytest.raises(SimulatorError, match="Mars Standard Time"):
        _setup(state)


@pytest.mark.parametrize(("subset", "present", "absent"), [
    (["!all", "min"], "ansible_distribution", "ansible_interfaces"),
    (["!all"], "ansible_env", "ansible_memtotal_mb"),
    (["!all", "!min"], "module_setup", "ansible_env"),
    (["!all", "!min", "memory"], "ansible_memtotal_mb", "ansible_distribution"),
    (["!all", "!min", "network"], "ansible_windows_domain", "ansible_distribution"),
    (["!all", "!min", "HARDWARE"], "ansible_processor", "ansible_env"),
    (["!hardware"], "ansible_env", "ansible_bios_version"),
    (["!virtual"], "ansible_memtotal_mb", "ansible_virtualization_type"),
])
def test_gather_subset_selects_collectors(subset: list[str], present: str, absent: str) -> None:
    f = _setup(_state(), gather_subset=subset)[0]["ansible_facts"]
    assert present in f
    assert absent not in f


def test_explicit_include_wins_over_exclude_like_setup_ps1() -> None:
    f = _setup(_state(), gather_subset=["all", "!hardware"])[0]["ansible_facts"]
    assert "ansible_bios_version" in f


def test_gather_subset_is_echoed() -> None:
    f = _setup(_state(), gather_subset=["!all", "min"])[0]["ansible_facts"]
    assert f["gather_subset"] == ["!all", "min"]


@pytest.mark.parametrize("item", ["bogus", "BIOS"])
def test_unknown_subset_warns_like_setup_ps1(item: str) -> None:
    _, ctx = _setup(_state(), gather_subset=["!all", "!min", item])
    assert ctx.warnings == [f"invalid value {item} specified in gather_subset"]


def test_unknown_exclude_is_ignored() -> None:
    _, ctx = _setup(_state(), gather_subset=["all", "!bogus"])
    assert ctx.warnings == []


def test_measure_subset_reports_each_collector() -> None:
    f = _setup(_state(), gather_subset=["!all", "!min", "bios"], _measure_subset=True)[0]["ansible_facts"]
    assert f["measure_info"] == {"bios": 0.0}


def test_local_json_fact_is_read_from_fact_path() -> None:
    state = _state()
    st.make_dirs(state, "C:\\facts", st.INSTALLED_AT)
    st.write_file(state, "C:\\facts\\mcms.json", json.dumps({"version": "1.2.3"}).encode(), st.INSTALLED_AT)
    f = _setup(state, fact_path="C:\\facts")[0]["ansible_facts"]
    assert f["ansible_mcms"] == {"version": "1.2.3"}


def test_local_fact_with_other_extension_is_ignored() -> None:
    state = _state()
    st.make_dirs(state, "C:\\facts", st.INSTALLED_AT)
    st.write_file(state, "C:\\facts\\notes.txt", b"x", st.INSTALLED_AT)
    f = _setup(state, fact_path="C:\\facts")[0]["ansible_facts"]
    assert "ansible_notes" not in f


def test_local_fact_script_fails_loudly() -> None:
    state = _state()
    st.make_dirs(state, "C:\\facts", st.INSTALLED_AT)
    st.write_file(state, "C:\\facts\\custom.ps1", b"@{a=1}", st.INSTALLED_AT)
    with pytest.raises(SimulatorError, match=r"custom\.ps1"):
        _setup(state, fact_path="C:\\facts")


def test_missing_fact_path_warns() -> None:
    _, ctx = _setup(_state(), fact_path="C:\\nowhere")
    assert ctx.warnings == ["Non existing path was set for local facts - C:\\nowhere"]


def test_facter_on_path_fails_loudly() -> None:
    state = _state()
    st.write_file(state, "C:\\Windows\\facter.exe", b"MZ", st.INSTALLED_AT)
    with pytest.raises(SimulatorError, match="facter"):
        _setup(state)


def _ping(data: str = "pong") -> dict[str, t.Any]:
    ctx = ModuleContext(fqcn="ansible.windows.win_ping", params={"data": data}, state=_state())
    return facts.win_ping(ctx)


@pytest.mark.parametrize("data", ["pong", "hello"])
def test_win_ping_echoes_data(data: str) -> None:
    assert _ping(data) == {"changed": False, "ping": data}


def test_win_ping_crash_raises_unhandled_exception() -> None:
    with pytest.raises(ModuleFailed, match=r"^Unhandled exception while executing module: boom$") as err:
        _ping("crash")
    assert err.value.extra["exception"].startswith("boom")


def test_winrm_listener_certificate_facts() -> None:
    from winsim import drift

    state = _state()
    state["clock"] = {"now": "2026-03-02T14:30:15Z"}
    drift.apply_drift(state, "add-cert", subject="CN=web01", days=90)
    (thumbprint,) = state["certificates"]["LocalMachine"]["My"]
    state["host"]["winrm_https_thumbprint"] = thumbprint.lower()
    f = _setup(state, gather_subset=["!all", "!min", "winrm"])[0]["ansible_facts"]
    assert (f["ansible_win_rm_certificate_thumbprint"], f["ansible_win_rm_certificate_expires"]) == (
        thumbprint, "2026-05-31 14:30:15")


def test_winrm_listener_with_missing_certificate_warns() -> None:
    state = _state()
    state["host"]["winrm_https_thumbprint"] = "A" * 40
    f, ctx = _setup(state, gather_subset=["!all", "!min", "winrm"])
    assert "ansible_win_rm_certificate_thumbprint" not in f["ansible_facts"]
    assert ctx.warnings[0].startswith("Error during certificate expiration retrieval")
