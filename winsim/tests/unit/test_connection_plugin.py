"""The ``mcms.winsim.sim`` connection plugin: what ansible-core needs from it
(pipelining flags, documented options) and how it maps winsim outcomes onto
Ansible's errors."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import get_shell_plugin

from ansible_collections.mcms.winsim.plugins.connection import sim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from winsim_core_support import captured, module_payload


def _load(shell_type: str = "powershell", **shell_args: t.Any) -> sim.Connection:
    """The plugin with its documented options registered, as the plugin
    loader does (loading through the loader itself is covered by the
    playbook tests in winsim/tests/integration)."""
    options = yaml.safe_load(sim.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("connection", "mcms.winsim.sim", options)
    conn = sim.Connection(PlayContext(), None, shell=get_shell_plugin(shell_type=shell_type, **shell_args))
    conn._load_name = "mcms.winsim.sim"
    return conn


@pytest.fixture
def connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sim.Connection:
    monkeypatch.setenv("WINSIM_RUN_ID", "conn-test")
    conn = _load()
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_dir": str(tmp_path)})
    return conn


def test_pipelining_contract() -> None:
    assert sim.Connection.has_pipelining is True
    assert sim.Connection.always_pipeline_modules is True
    assert sim.Connection.module_implementation_preferences == (".ps1", ".exe", "")
    assert sim.Connection.allow_executable is False
    assert sim.Connection.transport == "mcms.winsim.sim"


def test_documentation_declares_the_state_options() -> None:
    doc = yaml.safe_load(sim.DOCUMENTATION)
    assert doc["name"] == "sim"
    options = doc["options"]
    assert options["winsim_state_dir"]["env"] == [{"name": "WINSIM_STATE_DIR"}]
    assert {"name": "winsim_state_dir"} in options["winsim_state_dir"]["vars"]
    assert options["winsim_state_file"]["vars"] == [{"name": "winsim_state_file"}]
    assert {"name": "inventory_hostname"} in options["remote_addr"]["vars"]
    assert {"name": "ansible_host"} in options["remote_addr"]["vars"]


def test_pipelining_is_always_enabled(connection: sim.Connection) -> None:
    assert connection.is_pipelining_enabled() is True
    assert connection.is_pipelining_enabled(wrap_async=True) is True


def test_state_file_per_inventory_host(connection: sim.Connection, tmp_path: Path) -> None:
    rc, out, _ = connection.exec_command(*module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\"}))
    assert rc == 0
    assert json.loads(out)["stat"]["isdir"] is True
    stats = json.loads((tmp_path / "web1.stats.json").read_text())
    assert stats["total"]["modules"] == {"ansible.windows.win_stat": 1}


def test_explicit_state_file(tmp_path: Path) -> None:
    conn = _load()
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_file": str(tmp_path / "h" / "w.json")})
    conn.exec_command(*captured("2.19", "mkdtemp"))
    assert (tmp_path / "h" / "w.stats.json").exists()


def test_undecodable_payload_is_an_ansible_error(connection: sim.Connection) -> None:
    with pytest.raises(AnsibleError, match=r"winsim: cannot decode .*not an encoded PowerShell command line"):
        connection.exec_command("whoami", None)


def test_dropped_connection_is_a_connection_failure(connection: sim.Connection, tmp_path: Path) -> None:
    (tmp_path / "web1.faults.json").write_text('[{"kind": "drop_connection", "at": 1}]')
    with pytest.raises(AnsibleConnectionFailure, match="dropped on round trip 1"):
        connection.exec_command(*captured("2.21", "mkdtemp"))


def test_put_and_fetch_file(connection: sim.Connection, tmp_path: Path) -> None:
    _, out, _ = connection.exec_command(*captured("2.21", "mkdtemp"))
    tmpdir = out.decode().strip()
    local = tmp_path / "in.bin"
    local.write_bytes(b"\x00\x01data")
    connection.put_file(str(local), tmpdir + "\\source")
    connection.fetch_file(tmpdir + "\\source", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"\x00\x01data"
    with pytest.raises(AnsibleError, match="not inside an Ansible temporary directory"):
        connection.put_file(str(local), "C:\\Windows\\evil.exe")


def test_wrong_shell_is_refused(tmp_path: Path) -> None:
    conn = _load("sh", executable="/bin/sh")
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_dir": str(tmp_path)})
    with pytest.raises(AnsibleError, match="ansible_shell_type=powershell"):
        conn.exec_command(*captured("2.21", "mkdtemp"))


def test_reset_keeps_working(connection: sim.Connection) -> None:
    connection.exec_command(*captured("2.21", "mkdtemp"))
    connection.reset()
    rc, _, _ = connection.exec_command(*captured("2.21", "reboot_boot_time"))
    assert rc == 0
    connection.close()
    assert not connection.connected



_LAB = {"hosts": {"web1": {"roles": []}, "web2": {"roles": []}}}


def test_a_declared_lab_is_built_on_first_connect(tmp_path: Path) -> None:
    conn = _load()
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_dir": str(tmp_path),
                                  "winsim_lab": _LAB})
    conn._connect()
    assert (tmp_path / "_lab" / "lab.json").is_file()
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["web1.json", "web2.json"]


@pytest.mark.parametrize(("lab", "words"), [
    ({"hosts": {"web2": {"roles": []}}}, "host web1 is not declared in winsim_lab.hosts"),
    ({"hosts": {"web1": {"roles": [], "profile": "nt4"}}}, "winsim_lab.hosts.web1.profile: unknown profile"),
])
def test_a_bad_lab_fails_the_connection_and_writes_nothing(tmp_path: Path, lab: dict[str, t.Any],
                                                           words: str) -> None:
    conn = _load()
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_dir": str(tmp_path / "s"),
                                  "winsim_lab": lab})
    with pytest.raises(AnsibleError, match=words):
        conn._connect()
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").rglob("*.json"))


@pytest.mark.parametrize(("accounting", "counted"), [("1", True), (None, False)])
def test_cpu_inside_winsim_is_counted_only_when_asked(connection: sim.Connection, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, accounting: str | None,
                                                      counted: bool) -> None:
    if accounting is None:
        monkeypatch.delenv("WINSIM_CPU_ACCOUNTING", raising=False)
    else:
        monkeypatch.setenv("WINSIM_CPU_ACCOUNTING", accounting)
    connection.exec_command(*module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\"}))
    stats = json.loads((tmp_path / "web1.stats.json").read_text())
    assert ("cpu_seconds" in stats["total"]) is counted
    if counted:
        assert stats["total"]["cpu_seconds"] > 0
        assert stats["runs"][-1]["cpu_seconds"] == stats["total"]["cpu_seconds"]
