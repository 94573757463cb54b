"""The payload decoder on real payloads of both ansible-core generations,
and its refusal of anything it does not recognise exactly."""

from __future__ import annotations

import base64
import json

import pytest
from winsim_core_support import GENERATIONS, SEP, captured, labels

from winsim import decoder as d
from winsim.models._base import SimulatorError

EXPECTED_KINDS = {
    "mkdtemp": d.MkdtempRequest,
    "cleanup": d.RemoveRequest,
    "reboot": d.RebootCommandRequest,
    "reboot_boot_time": d.RebootBootTimeRequest,
    "reboot_test": d.RebootTestRequest,
}


def _encode(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


@pytest.mark.parametrize("generation", GENERATIONS)
def test_every_captured_payload_decodes_to_its_label(generation: str) -> None:
    found = labels(generation)
    assert len(found) >= 15
    for label in found:
        request = d.decode(*captured(generation, label))
        if label in EXPECTED_KINDS:
            assert isinstance(request, EXPECTED_KINDS[label]), label
        else:
            assert isinstance(request, d.ModuleRequest), label
            assert request.fqcn == label.split(":")[0]
            assert request.generation == generation


@pytest.mark.parametrize("generation", GENERATIONS)
def test_module_request_carries_args_flags_and_real_source(generation: str) -> None:
    request = d.decode(*captured(generation, "ansible.windows.win_stat"))
    assert isinstance(request, d.ModuleRequest)
    assert request.script_name == "ansible_collections.ansible.windows.plugins.modules.win_stat.ps1"
    assert request.options == {"path": "C:\\data\\x.txt", "checksum_algorithm": "sha256"}
    assert request.module_name == "ansible.windows.win_stat"
    assert (request.check_mode, request.diff_mode, request.no_log) == (False, False, False)
    assert request.source.startswith("#!powershell")
    assert "Ansible.Basic.cs" in request.module_utils
    assert request.become is None
    assert request.async_ is None


@pytest.mark.parametrize("generation", GENERATIONS)
def test_check_mode_flag(generation: str) -> None:
    request = d.decode(*captured(generation, "ansible.windows.win_copy:query:check"))
    assert isinstance(request, d.ModuleRequest)
    assert request.check_mode
    assert request.args["_copy_mode"] == "query"


@pytest.mark.parametrize("generation", GENERATIONS)
def test_become_user_and_password(generation: str) -> None:
    request = d.decode(*captured(generation, "ansible.windows.win_stat:become"))
    assert isinstance(request, d.ModuleRequest)
    assert request.become is not None
    assert request.become.user == "svc_test"
    assert request.become.password == "BecomePw1!"
    assert "BecomePw1!" not in repr(request)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_async_wrapper_parameters(generation: str) -> None:
    request = d.decode(*captured(generation, "ansible.windows.win_stat:async"))
    assert isinstance(request, d.ModuleRequest)
    assert request.async_ is not None
    assert request.async_.timeout == 30
    assert request.async_.jid.startswith("j")
    assert request.async_.async_dir


@pytest.mark.parametrize("generation", GENERATIONS)
def test_stat_for_fetch_ignores_unknown_options(generation: str) -> None:
    request = d.decode(*captured(generation, "ansible.windows.win_stat:ignore_unknown"))
    assert isinstance(request, d.ModuleRequest)
    assert request.args["_ansible_ignore_unknown_opts"] is True
    assert request.options["get_size"] is False


@pytest.mark.parametrize("generation", GENERATIONS)
def test_mkdtemp_parameters(generation: str) -> None:
    request = d.decode(*captured(generation, "mkdtemp"))
    assert isinstance(request, d.MkdtempRequest)
    assert request.directory == "%TEMP%"
    assert request.name.startswith("ansible-tmp-")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_cleanup_path(generation: str) -> None:
    request = d.decode(*captured(generation, "cleanup"))
    assert isinstance(request, d.RemoveRequest)
    assert request.recurse
    assert "\\ansible-tmp-" in request.path


def _cmd_221(script: str) -> str:
    b64 = _encode(script)
    arg = b64 if d._PWSH_BARE.match(b64) else f"'{b64}'"
    return f"powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {arg}"


def _cmd_219(script: str) -> str:
    return f"PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {_encode(script)}"


@pytest.mark.parametrize(("cmd", "expected"), [
    (_cmd_221("Remove-Item C:\\Temp\\ansible-tmp-1 -Force -Recurse"), "C:\\Temp\\ansible-tmp-1"),
    (_cmd_221("Remove-Item 'C:\\Temp\\it''s here\\ansible-tmp-1' -Force -Recurse"),
     "C:\\Temp\\it's here\\ansible-tmp-1"),
    (_cmd_219("Set-StrictMode -Version Latest\nRemove-Item 'C:\\Temp\\it''s\\ansible-tmp-2' -Force -Recurse;\n"
              + d._RC_TRAILER), "C:\\Temp\\it's\\ansible-tmp-2"),
], ids=["2.21-bare", "2.21-quoted", "2.19"])
def test_cleanup_quoting_styles(cmd: str, expected: str) -> None:
    request = d.decode(cmd, None)
    assert isinstance(request, d.RemoveRequest)
    assert request.path == expected


def test_cleanup_with_input_is_rejected() -> None:
    with pytest.raises(SimulatorError, match=r"unexpected input data"):
        d.decode(_cmd_221("Remove-Item C:\\Temp\\ansible-tmp-1 -Force -Recurse"), b"{}")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_reboot_commands(generation: str) -> None:
    reboot = d.decode(*captured(generation, "reboot"))
    assert isinstance(reboot, d.RebootCommandRequest)
    assert (reboot.delay, reboot.message, reboot.remove_logon_key) == (2, "Reboot initiated by Ansible", True)
    test = d.decode(*captured(generation, "reboot_test"))
    assert isinstance(test, d.RebootTestRequest)
    assert test.expected.startswith("success-")


def test_shutdown_abort() -> None:
    cmd = _cmd_219("C:\\Windows\\System32\\shutdown.exe /a" + d._REBOOT_TRAILER)
    assert isinstance(d.decode(cmd, None), d.ShutdownAbortRequest)


def test_custom_reboot_test_command_fails_loudly() -> None:
    cmd = _cmd_219("Get-Service Netlogon" + d._REBOOT_TRAILER)
    with pytest.raises(SimulatorError, match=r"win_reboot.*Get-Service Netlogon"):
        d.decode(cmd, None)


# -- strictness --------------------------------------------------------------------------------

@pytest.mark.parametrize("generation", GENERATIONS)
def test_lenient_base64_is_rejected(generation: str) -> None:
    cmd, data = captured(generation, "ansible.windows.win_stat")
    prefix, arg = cmd.rsplit(" ", 1)
    quoted = arg.startswith("'")
    b64 = arg.strip("'")
    broken = b64[:40] + "*" + b64[41:]
    with pytest.raises(SimulatorError, match=rf"ansible-core {generation} payload.*not valid base64"):
        d.decode(f"{prefix} {broken!r}" if quoted else f"{prefix} {broken}", data)


def test_quoted_command_in_219_style_is_rejected() -> None:
    cmd, data = captured("2.19", "ansible.windows.win_stat")
    prefix, arg = cmd.rsplit(" ", 1)
    with pytest.raises(SimulatorError, match=r"2.19.*quoted"):
        d.decode(f"{prefix} '{arg}'", data)


def test_221_bare_base64_that_needed_quotes_is_rejected() -> None:
    cmd, data = captured("2.21", "ansible.windows.win_stat")
    prefix, arg = cmd.rsplit(" ", 1)
    assert arg.startswith("'")
    with pytest.raises(SimulatorError, match=r"2.21.*would have quoted"):
        d.decode(f"{prefix} {arg[1:-1]}", data)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_bootstrap_of_the_other_generation_is_rejected(generation: str) -> None:
    other = "2.19" if generation == "2.21" else "2.21"
    cmd, data = captured(generation, "ansible.windows.win_stat")
    other_cmd, _ = captured(other, "ansible.windows.win_stat")
    other_b64 = other_cmd.rsplit(" ", 1)[1].strip("'")
    prefix = cmd.rsplit(" ", 1)[0]
    arg = f"'{other_b64}'" if generation == "2.21" else other_b64
    with pytest.raises(SimulatorError, match=rf"ansible-core {generation} payload: unknown PowerShell script"):
        d.decode(f"{prefix} {arg}", data)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_unknown_script_names_generation_and_excerpt(generation: str) -> None:
    cmd = _cmd_221("Get-Process") if generation == "2.21" else _cmd_219("Get-Process")
    with pytest.raises(SimulatorError) as err:
        d.decode(cmd, None)
    assert f"ansible-core {generation} payload" in str(err.value)
    assert "Get-Process" in str(err.value)


def test_plain_command_is_rejected() -> None:
    with pytest.raises(SimulatorError, match=r"not an encoded PowerShell command line.*whoami"):
        d.decode("whoami /all", None)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_missing_input_is_rejected(generation: str) -> None:
    cmd, _ = captured(generation, "ansible.windows.win_stat")
    with pytest.raises(SimulatorError, match=r"without input data"):
        d.decode(cmd, None)


@pytest.mark.parametrize("generation", GENERATIONS)
def test_extra_document_is_rejected(generation: str) -> None:
    cmd, data = captured(generation, "ansible.windows.win_stat")
    assert data is not None
    with pytest.raises(SimulatorError, match=r"expected 2 documents"):
        d.decode(cmd, data + SEP + b"{}")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_unknown_action_is_rejected(generation: str) -> None:
    cmd, data = captured(generation, "ansible.windows.win_stat")
    assert data is not None
    boot, manifest = data.split(SEP)
    doc = json.loads(manifest)
    doc["actions"].insert(0, {"name": "coverage_wrapper.ps1", "params": {}, "secure_params": {}})
    with pytest.raises(SimulatorError, match=r"unknown action chain.*coverage_wrapper"):
        d.decode(cmd, boot + SEP + json.dumps(doc).encode())


@pytest.mark.parametrize("generation", GENERATIONS)
def test_undecodable_module_source_is_rejected(generation: str) -> None:
    cmd, data = captured(generation, "ansible.windows.win_stat")
    assert data is not None
    boot, manifest = data.split(SEP)
    doc = json.loads(manifest)
    doc["scripts"]["ansible_collections.ansible.windows.plugins.modules.win_stat.ps1"]["script"] = "#!powershell"
    with pytest.raises(SimulatorError, match=r"not valid base64"):
        d.decode(cmd, boot + SEP + json.dumps(doc).encode())


@pytest.mark.parametrize("generation", GENERATIONS)
def test_manifest_with_unexpected_keys_is_rejected(generation: str) -> None:
    cmd, data = captured(generation, "ansible.windows.win_stat")
    assert data is not None
    boot, manifest = data.split(SEP)
    doc = json.loads(manifest)
    doc["new_in_core_2_99"] = True
    with pytest.raises(SimulatorError, match=r"manifest keys"):
        d.decode(cmd, boot + SEP + json.dumps(doc).encode())
