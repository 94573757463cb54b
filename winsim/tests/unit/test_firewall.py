"""win_firewall_rule (community.windows 3.3.0) and win_firewall models."""

from __future__ import annotations

import pytest

RULE = "community.windows.win_firewall_rule"
FIREWALL = "ansible.windows.win_firewall"


def _rules(state, name):
    return [r for r in state["firewall"]["rules"] if r["name"] == name]


def test_fresh_host_has_winrm_rules(fresh_state):
    winrm = _rules(fresh_state, "Windows Remote Management (HTTP-In)")
    assert len(winrm) == 2
    assert all(r["local_ports"] == "5985" and r["enabled"] for r in winrm)


def test_check_apply_idempotent(run_module, fresh_state):
    args = {"name": "MCMS HTTPS", "localport": "443", "protocol": "tcp", "action": "allow", "direction": "in",
            "profiles": ["domain", "private"], "remoteip": "10.0.0.0/8,192.0.2.1"}
    result, untouched = run_module(RULE, args, state=fresh_state, check_mode=True, diff=True)
    assert result["changed"]
    assert untouched == fresh_state
    assert result["diff"]["prepared"].startswith("+[MCMS HTTPS]\n")
    result, state = run_module(RULE, args, state=fresh_state)
    assert result["msg"] == "Firewall rule 'MCMS HTTPS' created."
    (rule,) = _rules(state, "MCMS HTTPS")
    assert rule["profiles"] == 3
    assert rule["remote_addresses"] == "10.0.0.0/255.0.0.0,192.0.2.1/255.255.255.255"
    again, _ = run_module(RULE, args, state=state, diff=True)
    assert not again["changed"]
    assert again["msg"] == "Firewall rule(s) changed '' - unchanged 'MCMS HTTPS'"
    assert again["diff"]["prepared"] == "[MCMS HTTPS]\n"


def test_change_only_passed_properties(run_module):
    _, state = run_module(RULE, {"name": "r", "localport": "8080", "protocol": "tcp"})
    result, state = run_module(RULE, {"name": "r", "localport": "8443", "protocol": "tcp"}, state=state, diff=True)
    assert result["changed"]
    assert "-LocalPorts='8080'\n+LocalPorts='8443'\n" in result["diff"]["prepared"]
    assert "Protocol" not in result["diff"]["prepared"]
    assert _rules(state, "r")[0]["local_ports"] == "8443"


def test_group_selects_all_its_rules(run_module):
    result, state = run_module(RULE, {"group": "Windows Remote Management", "enabled": False})
    assert result["changed"]
    assert not any(r["enabled"] for r in _rules(state, "Windows Remote Management (HTTP-In)"))


@pytest.mark.parametrize(("args", "msg"), [
    ({"name": "r", "localport": "80"},
     'Exception setting "LocalPorts": "The parameter is incorrect. (Exception from HRESULT: 0x80070057 '
     '(E_INVALIDARG))"'),
    ({"name": "r", "protocol": "bogus"}, "Unknown protocol 'bogus'."),
    ({"name": "r", "profiles": ["home"]}, "Unknown profile 'home'."),
    ({}, "Either name or group must be specified"),
])
def test_failures(run_module, args, msg):
    result, _ = run_module(RULE, args)
    assert result["failed"]
    assert result["msg"] == msg


def test_absent(run_module):
    _, state = run_module(RULE, {"name": "r", "localport": "80", "protocol": "tcp"})
    result, state = run_module(RULE, {"name": "r", "state": "absent"}, state=state)
    assert result["msg"] == "Firewall rule(s) 'r' removed."
    assert not _rules(state, "r")
    result, _ = run_module(RULE, {"name": "r", "state": "absent"}, state=state)
    assert not result["changed"]
    assert result["msg"] == "Firewall rule 'r' does not exist."


def test_firewall_profiles(run_module, fresh_state):
    args = {"state": "enabled", "profiles": ["Public"], "inbound_action": "block"}
    result, untouched = run_module(FIREWALL, args, state=fresh_state, check_mode=True)
    assert result["changed"]
    assert untouched == fresh_state
    result, state = run_module(FIREWALL, args, state=fresh_state)
    assert state["firewall"]["profiles"]["Public"]["default_inbound_action"] == "Block"
    assert result["Domain"]["considered"] is False
    again, _ = run_module(FIREWALL, args, state=state)
    assert not again["changed"]
