"""The ``mcms.infra.win_schannel`` model (project-owned module, winsim/src/winsim/models/schannel.py)."""

from __future__ import annotations

import copy
import datetime as _dt

import pytest

from winsim import state as st
from winsim.drift import apply_drift
from winsim.models import registry, schannel

FQCN = "mcms.infra.win_schannel"
SCH = registry.SCHANNEL
SCH_PS = SCH.replace("HKLM\\", "HKLM:\\")
TLS10 = SCH + "\\Protocols\\TLS 1.0\\Server"
AES = SCH + "\\Ciphers\\AES 128/128"
VALUES = {
    "": {"EventLogging": 1},
    "Protocols": {},
    "Protocols\\TLS 1.0\\Server": {"Enabled": 0, "DisabledByDefault": 1},
    "Ciphers\\AES 128/128": {"Enabled": 4294967295},
}
ORDER = ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
ARGS = {"values": VALUES, "cipher_suite_order": ORDER}


def _data(state, path, name):
    val = registry.get_value(state, path, name)
    return None if val is None else val["data"]


@pytest.fixture
def converged(run_module):
    result, state = run_module(FQCN, ARGS)
    assert result["changed"], result
    return state


def _rebooted(state, at="2026-03-02T14:40:00Z"):
    state = copy.deepcopy(state)
    state["host"]["last_boot"] = at
    return state


def test_fresh_host_gets_only_the_managed_values_and_the_marker(run_module, fresh_state):
    result, state = run_module(FQCN, ARGS, state=fresh_state)
    assert result["changed"]
    assert result["reboot_required"]
    assert result["reboot_pending"]
    assert _data(state, TLS10, "Enabled") == 0
    assert _data(state, AES, "Enabled") == 0xFFFFFFFF
    assert _data(state, schannel.ORDER_KEY, "Functions") == ",".join(ORDER)
    assert result["pending_since"] == _data(state, schannel.MARKER_KEY, schannel.MARKER_NAME)
    # EventLogging=1 was already right: no record; every other managed value has one.
    records = {(r["resource"], r["attribute"]): r for r in result["mcms_drift"]}
    assert (SCH_PS, "EventLogging") not in records
    assert records[(SCH_PS + "\\Protocols\\TLS 1.0\\Server", "Enabled")] == {
        "resource_type": "schannel", "resource": SCH_PS + "\\Protocols\\TLS 1.0\\Server", "attribute": "Enabled",
        "wanted": 0, "found": None}
    assert len(records) == 4
    changed_keys = {k for k in state["registry"] if state["registry"][k] != fresh_state["registry"].get(k)}
    assert changed_keys == {k.lower() for k in (
        TLS10, AES, schannel.ORDER_KEY, schannel.MARKER_KEY, SCH + "\\Protocols\\TLS 1.0",
        "HKLM\\SOFTWARE\\MCMS", "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL")}


def test_converged_host_is_a_no_op(run_module, converged):
    result, _state = run_module(FQCN, ARGS, state=_rebooted(converged))
    assert not result["changed"]
    assert not result["reboot_required"]
    assert not result["reboot_pending"]
    assert result["mcms_drift"] == []
    assert result["pending_since"] is None


def test_unmanaged_keys_and_values_change_nothing(run_module, converged):
    lived = _rebooted(converged)
    registry.set_value(lived, SCH + "\\Protocols\\PCT 1.0\\Server", "Enabled", "dword", 1)
    registry.set_value(lived, TLS10, "SomethingElse", "string", "by another tool")
    result, state = run_module(FQCN, ARGS, state=lived, diff=True)
    assert not result["changed"], result["mcms_drift"]
    assert state == lived
    assert "PCT 1.0" not in str(result["diff"])


def test_drifted_value_is_written_and_recorded(run_module, converged):
    drifted = _rebooted(converged)
    registry.set_value(drifted, TLS10, "Enabled", "dword", 1)
    result, state = run_module(FQCN, ARGS, state=drifted)
    assert result["changed"]
    assert result["reboot_required"]
    assert result["reboot_pending"]
    assert result["mcms_drift"] == [{"resource_type": "schannel", "resource": SCH_PS + "\\Protocols\\TLS 1.0\\Server",
                                     "attribute": "Enabled", "wanted": 0, "found": 1}]
    assert _data(state, TLS10, "Enabled") == 0


def test_value_of_another_type_is_rewritten_as_a_dword(run_module, converged):
    drifted = _rebooted(converged)
    registry.set_value(drifted, TLS10, "Enabled", "string", "0")
    result, state = run_module(FQCN, ARGS, state=drifted)
    assert result["mcms_drift"][0]["found"] == "0"
    assert registry.get_value(state, TLS10, "Enabled") == {"name": "Enabled", "type": "dword", "data": 0}


def test_check_mode_reports_and_writes_nothing(run_module, converged):
    drifted = _rebooted(converged)
    registry.set_value(drifted, TLS10, "Enabled", "dword", 1)
    result, state = run_module(FQCN, ARGS, state=drifted, check_mode=True)
    assert result["changed"]
    assert result["reboot_required"]
    assert not result["reboot_pending"]  # no marker written in check mode
    assert [r["attribute"] for r in result["mcms_drift"]] == ["Enabled"]
    assert state == drifted


def test_diff_holds_only_the_managed_values(run_module, converged):
    drifted = _rebooted(converged)
    registry.set_value(drifted, TLS10, "Enabled", "dword", 1)
    result, _ = run_module(FQCN, ARGS, state=drifted, check_mode=True, diff=True)
    label = SCH_PS + "\\Protocols\\TLS 1.0\\Server"
    assert result["diff"]["before"][label] == {"DisabledByDefault": 1, "Enabled": 1}
    assert result["diff"]["after"][label] == {"DisabledByDefault": 1, "Enabled": 0}
    assert set(result["diff"]["before"]) == {SCH_PS, label, SCH_PS + "\\Ciphers\\AES 128/128",
                                             schannel.ORDER_KEY.replace("HKLM\\", "HKLM:\\")}


def test_cipher_order_is_compared_case_sensitively_and_optional(run_module, converged):
    state = _rebooted(converged)
    result, _ = run_module(FQCN, {"values": VALUES, "cipher_suite_order": [s.lower() for s in ORDER]},
                           state=state, check_mode=True)
    assert [r["attribute"] for r in result["mcms_drift"]] == ["Functions"]
    registry.set_value(state, schannel.ORDER_KEY, "Functions", "string", "whatever a policy says")
    result, after = run_module(FQCN, {"values": VALUES}, state=state)
    assert not result["changed"]
    assert _data(after, schannel.ORDER_KEY, "Functions") == "whatever a policy says"


def test_lost_reboot_stays_pending_until_the_host_reboots(run_module, tmp_path, converged):
    # A change whose reboot never came (deferred, or the handler failed):
    # every later run finds it on the host, check mode included.
    drifted = _rebooted(converged)
    registry.set_value(drifted, TLS10, "Enabled", "dword", 1)
    _, changed = run_module(FQCN, ARGS, state=drifted)
    for check in (False, True):
        result, _ = run_module(FQCN, ARGS, state=changed, check_mode=check)
        assert not result["changed"]
        assert result["reboot_pending"], check
        assert result["pending_since"]
    # win_reboot moves the boot time on: the marker is stale.
    result, _ = run_module(FQCN, ARGS, state=_rebooted(changed, "2026-03-02T15:00:00Z"))
    assert not result["reboot_pending"]


def test_marker_is_newer_than_a_boot_ahead_of_the_lab_clock(run_module, converged):
    # winsim's reboot may move last_boot past a pinned lab clock; the host's
    # clock never runs before its boot, so the marker still counts.
    ahead = _rebooted(converged, "2026-03-02T18:00:00Z")  # later than the runner's NOW (14:30)
    registry.set_value(ahead, TLS10, "Enabled", "dword", 1)
    result, _ = run_module(FQCN, ARGS, state=ahead)
    assert result["reboot_pending"]


def test_reboot_through_the_transport_clears_pending(run_module, converged, tmp_path):
    # The same path ansible.windows.win_reboot takes: transport._reboot.
    state = copy.deepcopy(converged)
    before = st.parse_iso(state["host"]["last_boot"])
    from winsim.store import HostStore

    store = HostStore.for_host("winsim", state_dir=str(tmp_path / "s"))
    store.save_state(state)

    class _Runner:
        pass

    runner = _Runner()
    runner.store = store
    from winsim import decoder as d
    from winsim import transport

    transport._reboot(runner, d.RebootCommandRequest(delay=2, message="test", remove_logon_key=False))
    rebooted = store.load_state()
    assert st.parse_iso(rebooted["host"]["last_boot"]) > before
    result, _ = run_module(FQCN, ARGS, state=rebooted)
    assert not result["reboot_pending"]


@pytest.mark.parametrize(("values", "message"), [
    ({"Protocols\\TLS 1.0\\Server": {"Enabled": "yes"}},
     "values: 'Protocols\\TLS 1.0\\Server' Enabled is 'yes', not a DWORD; give an integer from 0 to 4294967295"),
    ({"Protocols\\TLS 1.0\\Server": {"Enabled": 4294967296}}, "not a DWORD"),
    ({"Protocols\\TLS 1.0\\Server": 1}, "values: 'Protocols\\TLS 1.0\\Server' must map value names to DWORDs"),
    ({"\\Protocols": {"Enabled": 1}}, "is not a key path relative to the SCHANNEL key"),
])
def test_bad_values_fail_before_any_write(run_module, fresh_state, values, message):
    result, state = run_module(FQCN, {"values": values}, state=fresh_state)
    assert result["failed"]
    assert message in result["msg"]
    assert state == fresh_state


def test_empty_cipher_order_is_refused(run_module, fresh_state):
    result, _ = run_module(FQCN, {"values": {}, "cipher_suite_order": []}, state=fresh_state)
    assert result["failed"]
    assert "an empty list would disable every cipher suite" in result["msg"]


def test_values_is_required(run_module, fresh_state):
    result, _ = run_module(FQCN, {}, state=fresh_state)
    assert result["failed"]
    assert "values" in result["msg"]


def test_operator_drift_on_a_managed_value_is_seen(run_module, converged):
    # ``winsim drift set-registry`` goes through win_regedit's model on the same registry.
    state = _rebooted(converged)
    apply_drift(state, "set-registry", key=TLS10.replace("HKLM\\", "HKLM:\\"), name="Enabled", value="1",
              type="dword")
    result, _ = run_module(FQCN, ARGS, state=state, check_mode=True)
    assert [(r["attribute"], r["found"]) for r in result["mcms_drift"]] == [("Enabled", 1)]


def test_a_marker_written_in_the_second_before_a_transport_reboot_is_stale_after_it(tmp_path):
    # A converge writes the marker, then its handler reboots within the same
    # second: the boot time (kept to the second) must still be later than it.
    from winsim import decoder as d
    from winsim import transport
    from winsim.store import HostStore

    store = HostStore.for_host("winsim", state_dir=str(tmp_path / "s"))
    state = store.load_state()
    marker = _dt.datetime.now(_dt.UTC)
    store.save_state(state)

    class _Runner:
        pass

    runner = _Runner()
    runner.store = store
    transport._reboot(runner, d.RebootCommandRequest(delay=0, message="test", remove_logon_key=False))
    assert st.parse_iso(store.load_state()["host"]["last_boot"]) > marker
