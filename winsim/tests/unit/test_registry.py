"""win_regedit, win_reg_stat and win_regmerge models."""

from __future__ import annotations

import pytest

from winsim import state as st
from winsim.models import registry

REGEDIT = "ansible.windows.win_regedit"
STAT = "ansible.windows.win_reg_stat"
MERGE = "community.windows.win_regmerge"
PROTOCOLS = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols"
TLS10 = PROTOCOLS + "\\TLS 1.0\\Server"


def test_fresh_schannel_protocols_hold_only_ssl2_client(fresh_state):
    assert registry.subkeys(fresh_state, PROTOCOLS) == ["SSL 2.0"]
    assert registry.get_value(fresh_state, PROTOCOLS + "\\SSL 2.0\\Client", "DisabledByDefault")["data"] == 1


@pytest.mark.parametrize(("vtype", "data", "stored", "diff_value"), [
    ("dword", 0, 0, "0x00000000"),
    ("dword", "0xffffffff", 0xFFFFFFFF, "0xffffffff"),
    ("dword", -1, 0xFFFFFFFF, "0xffffffff"),
    ("qword", 5, 5, "0x0000000000000005"),
    ("string", "abc", "abc", "abc"),
    ("expandstring", "%SystemRoot%\\x", "%SystemRoot%\\x", "%SystemRoot%\\x"),
    ("multistring", ["a", "b"], ["a", "b"], ["a", "b"]),
    ("binary", "hex:be,ef", [0xBE, 0xEF], ["0xbe", "0xef"]),
    ("binary", [1, 22], [1, 22], ["0x01", "0x16"]),
    ("none", "", [], []),
])
def test_check_apply_idempotent_per_type(run_module, fresh_state, vtype, data, stored, diff_value):
    args = {"path": TLS10, "name": "Enabled", "data": data, "type": vtype}
    result, untouched = run_module(REGEDIT, args, state=fresh_state, check_mode=True, diff=True)
    assert result["changed"]
    assert untouched == fresh_state
    assert result["diff"] == {"before": {}, "after": {TLS10: {}}}
    result, state = run_module(REGEDIT, args, state=fresh_state, diff=True)
    assert result["changed"]
    assert result["diff"]["after"][TLS10]["Enabled"] == {"type": registry.TYPE_NAMES[vtype], "value": diff_value}
    assert registry.get_value(state, TLS10, "Enabled")["data"] == stored
    again, _ = run_module(REGEDIT, args, state=state, diff=True)
    assert not again["changed"]
    assert not again["data_changed"]
    assert again["diff"]["before"] == again["diff"]["after"]


def test_type_change_is_reported(run_module):
    _, state = run_module(REGEDIT, {"path": TLS10, "name": "Enabled", "data": 1, "type": "dword"})
    result, state = run_module(REGEDIT, {"path": TLS10, "name": "Enabled", "data": "1", "type": "string"},
                               state=state)
    assert result["changed"]
    assert result["data_type_changed"]
    assert not result["data_changed"]
    assert registry.get_value(state, TLS10, "Enabled")["type"] == "string"


def test_string_comparison_is_case_sensitive(run_module):
    _, state = run_module(REGEDIT, {"path": TLS10, "name": "Note", "data": "abc"})
    result, _ = run_module(REGEDIT, {"path": TLS10, "name": "Note", "data": "ABC"}, state=state)
    assert result["changed"]
    assert result["data_changed"]


@pytest.mark.parametrize(("args", "msg"), [
    ({"path": "HKEY_LOCAL_MACHINE\\SOFTWARE\\x"},
     "path: HKEY_LOCAL_MACHINE\\SOFTWARE\\x is not a valid powershell path, see module documentation for examples."),
    ({"path": TLS10, "name": "x", "data": 0x100000000, "type": "dword"},
     "data cannot be larger than 0xffffffff when type is dword"),
    ({"path": TLS10, "name": "x", "data": 1.5, "type": "dword"},
     "data '1.5' cannot be a decimal or float value with a remainder when type is dword or qword"),
    ({"path": TLS10, "name": "x", "data": 256, "type": "binary"},
     "cannot convert binary data '256' to byte array, please specify this value as a yaml byte array or a comma "
     "separated hex value string"),
])
def test_regedit_failures(run_module, args, msg):
    result, _ = run_module(REGEDIT, args)
    assert result["failed"]
    assert result["msg"] == msg


def test_default_value_only_takes_strings(run_module):
    result, state = run_module(REGEDIT, {"path": TLS10, "data": "x", "type": "dword"})
    assert result["changed"]
    assert "the type has automatically been converted" in result["warnings"][0]
    assert registry.get_value(state, TLS10, "") == {"name": "", "type": "string", "data": "x"}


@pytest.mark.parametrize("check_mode", [True, False])
def test_delete_key_and_value(run_module, check_mode):
    _, state = run_module(REGEDIT, {"path": TLS10, "name": "Enabled", "data": 0, "type": "dword"})
    result, after = run_module(REGEDIT, {"path": TLS10, "name": "Enabled", "state": "absent"}, state=state,
                               check_mode=check_mode, diff=True)
    assert result["changed"]
    assert result["diff"] == {"before": {TLS10: {"Enabled": {"type": "DWord", "value": "0x00000000"}}},
                              "after": {TLS10: {}}}
    assert (registry.get_value(after, TLS10, "Enabled") is None) is not check_mode
    result, after = run_module(REGEDIT, {"path": PROTOCOLS + "\\TLS 1.0", "state": "absent"}, state=state)
    assert result["changed"]
    assert registry.get_key(after, TLS10) is None
    result, _ = run_module(REGEDIT, {"path": PROTOCOLS + "\\TLS 1.0", "state": "absent"}, state=after)
    assert not result["changed"]


def test_delete_key_false_keeps_the_key(run_module):
    _, state = run_module(REGEDIT, {"path": TLS10, "name": "Enabled", "data": 0, "type": "dword"})
    result, after = run_module(REGEDIT, {"path": TLS10, "state": "absent", "delete_key": False}, state=state)
    assert not result["changed"]
    assert registry.get_key(after, TLS10) is not None


def test_reg_stat_key_and_value(run_module):
    _, state = run_module(REGEDIT, {"path": TLS10, "name": "Path", "data": "%SystemRoot%\\x",
                                    "type": "expandstring"})
    result, _ = run_module(STAT, {"path": TLS10, "name": "Path"}, state=state)
    assert result == {"changed": False, "exists": True, "type": "REG_EXPAND_SZ", "value": "C:\\Windows\\x",
                      "raw_value": "%SystemRoot%\\x"}
    result, _ = run_module(STAT, {"path": PROTOCOLS}, state=state)
    assert result["sub_keys"] == ["SSL 2.0", "TLS 1.0"]
    assert result["properties"] == {}
    result, _ = run_module(STAT, {"path": PROTOCOLS + "\\TLS 1.3"}, state=state)
    assert result == {"changed": False, "exists": False}


def test_reg_stat_rejects_long_hive_names(run_module):
    result, _ = run_module(STAT, {"path": "HKEY_LOCAL_MACHINE\\SOFTWARE"})
    assert result["failed"]
    assert result["msg"] == ("path: HKEY_LOCAL_MACHINE\\SOFTWARE is not a valid registry path, see module "
                             "documentation for examples.")


def _export_with(state, extra_lines):
    return "\r\n".join(registry.reg_export(state, PROTOCOLS)[:-1] + extra_lines)


HARDENED = [
    "",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0]",
    "",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0"
    "\\Server]",
    '"Enabled"=dword:00000000',
    '"DisabledByDefault"=dword:00000001',
    "",
]


def test_regmerge_compare_apply_idempotent(run_module, fresh_state):
    content = _export_with(fresh_state, HARDENED)
    result, state = run_module(MERGE, {"content": content, "compare_to": PROTOCOLS}, state=fresh_state)
    assert result["changed"]
    assert result["compared"]
    assert result["difference_count"] == 6
    assert registry.get_value(state, TLS10, "Enabled") == {"name": "Enabled", "type": "dword", "data": 0}
    again, _ = run_module(MERGE, {"content": content, "compare_to": PROTOCOLS}, state=state)
    assert again == {"changed": False, "compared": True, "difference_count": 0}


def test_regmerge_single_difference_is_not_merged(run_module, fresh_state):
    """Faithful to the module: ``Get-Member count`` misses one difference."""
    content = "\r\n".join([*registry.reg_export(fresh_state, PROTOCOLS)[:-1], '"Enabled"=dword:00000000', ""])
    result, state = run_module(MERGE, {"content": content, "compare_to": PROTOCOLS}, state=fresh_state)
    assert not result["changed"]
    assert result["difference_count"] == 0
    assert registry.get_value(state, PROTOCOLS + "\\SSL 2.0\\Client", "Enabled") is None


def test_regmerge_is_skipped_in_check_mode(run_module, fresh_state):
    result, state = run_module(MERGE, {"content": _export_with(fresh_state, HARDENED)}, state=fresh_state,
                               check_mode=True)
    assert result["skipped"]
    assert state == fresh_state


def test_regmerge_from_file_without_compare_always_changes(run_module, fresh_state):
    text = _export_with(fresh_state, HARDENED).encode("utf-16-le")
    st.write_file(fresh_state, "C:\\Windows\\Temp\\tls.reg", b"\xff\xfe" + text, "2026-01-05T09:00:00Z")
    for _ in range(2):
        result, fresh_state = run_module(MERGE, {"path": "C:\\Windows\\Temp\\tls.reg"}, state=fresh_state)
        assert result == {"changed": True, "compared": False}


def test_regmerge_missing_compare_key(run_module, fresh_state):
    result, _ = run_module(MERGE, {"content": _export_with(fresh_state, HARDENED),
                                   "compare_to": "HKLM:\\SOFTWARE\\Nope"}, state=fresh_state)
    assert result["changed"]
    assert result["compare_to_key_found"] is False
    assert result["compared"] is False


@pytest.mark.parametrize(("args", "msg"), [
    ({}, "Missing required arguments: path or content. At lease one must be provided."),
    ({"path": "C:\\a.reg", "content": "x"}, "Extra arguments: path or content. Only one must be provided."),
    ({"path": "C:\\missing.reg"}, "error importing registry value from 'C:\\missing.reg'"),
    ({"content": "not a reg file"}, "error importing registry value from "),
])
def test_regmerge_failures(run_module, args, msg):
    result, _ = run_module(MERGE, args)
    assert result["failed"]
    assert result["msg"].startswith(msg)


@pytest.mark.parametrize(("line", "vtype", "data"), [
    ('"a"="x\\\\y"', "string", "x\\y"),
    ('"a"=dword:0000000a', "dword", 10),
    ('"a"=hex(b):01,00,00,00,00,00,00,00', "qword", 1),
    ('"a"=hex(7):61,00,00,00,62,00,00,00,00,00', "multistring", ["a", "b"]),
    ('"a"=hex(2):25,00,41,00,25,00,00,00', "expandstring", "%A%"),
    ('"a"=hex:01,\\\n  02', "binary", [1, 2]),
])
def test_reg_file_values_round_trip(fresh_state, line, vtype, data):
    text = "Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\T]\n" + line + "\n"
    registry.reg_import(fresh_state, registry.parse_reg(text))
    assert registry.get_value(fresh_state, "HKCU\\Software\\T", "a") == {"name": "a", "type": vtype, "data": data}
    exported = "\n".join(registry.reg_export(fresh_state, "HKCU:\\Software\\T"))
    clone = registry._fresh_registry()
    registry.reg_import({"registry": clone}, registry.parse_reg(exported))
    assert clone["hkcu\\software\\t"] == fresh_state["registry"]["hkcu\\software\\t"]


CIPHERS = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Ciphers"


@pytest.mark.parametrize("name", ["AES 128/128", "RC4 40/128", "Triple DES 168"])
def test_slash_is_part_of_a_key_name(run_module, name):
    """Only a backslash separates registry keys: ``Ciphers\\AES 128/128`` is one key."""
    _, state = run_module(REGEDIT, {"path": f"{CIPHERS}\\{name}", "name": "Enabled", "data": 0, "type": "dword"})
    assert registry.subkeys(state, CIPHERS) == [name]
    stat, _ = run_module(STAT, {"path": f"{CIPHERS}\\{name}", "name": "Enabled"}, state=state)
    assert stat["exists"]
    assert stat["value"] == 0
