"""Tests of the ``winsim`` command line (``cli.py``)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

from winsim import cli
from winsim.store import HostStore


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def run(state_dir: Path, *argv: str) -> int:
    return cli.main(["--state-dir", str(state_dir), *argv])


def _state(state_dir: Path, host: str = "web01") -> dict[str, t.Any]:
    return json.loads((state_dir / f"{host}.json").read_text())


# -- paths -------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "parts"), [
    ("/iis/sites/MCMS/state", ["iis", "sites", "MCMS", "state"]),
    ("iis.sites.MCMS.state", ["iis", "sites", "MCMS", "state"]),
    ("/files/c:~1x", ["files", "c:/x"]),
    ("/a~0b", ["a~b"]),
    ("/", []),
])
def test_split_path(path: str, parts: list[str]) -> None:
    assert cli.split_path(path) == parts


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("5", 5), ('"5"', "5"), ("Stopped", "Stopped"), ("[a, b]", ["a", "b"]),
    ('{"k": 1}', {"k": 1}), ("null", None), ("", ""), ("00:20:00", "00:20:00"), ("2026-01-01", "2026-01-01"),
])
def test_parse_value(text: str, value: t.Any) -> None:
    assert cli.parse_value(text) == value


def test_set_path_creates_missing_levels() -> None:
    doc: dict[str, t.Any] = {"a": {}}
    cli.set_path(doc, "/a/b/c", 1)
    assert doc == {"a": {"b": {"c": 1}}}


def test_set_path_matches_keys_case_insensitively() -> None:
    doc: dict[str, t.Any] = {"iis": {"sites": {"MCMS": {"state": "Started"}}}}
    cli.set_path(doc, "iis.sites.mcms.state", "Stopped")
    assert doc["iis"]["sites"] == {"MCMS": {"state": "Stopped"}}


def test_set_path_appends_to_a_list() -> None:
    doc: dict[str, t.Any] = {"l": [1]}
    cli.set_path(doc, "/l/-", 2)
    assert doc["l"] == [1, 2]


def test_set_path_deletes_a_list_item() -> None:
    doc: dict[str, t.Any] = {"l": [1, 2, 3]}
    cli.set_path(doc, "l.1", None, delete=True)
    assert doc["l"] == [1, 3]


@pytest.mark.parametrize(("path", "message"), [
    ("/", "refusing to replace the whole state"),
    ("/l/9", "not an index"),
    ("/s/x", "cannot set a key inside a str"),
])
def test_set_path_errors(path: str, message: str) -> None:
    with pytest.raises(cli.CliError, match=message):
        cli.set_path({"l": [1], "s": "text"}, path, 1)


# -- show -----------------------------------------------------------------------------

def test_show_fresh_host_as_yaml(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "show", "web01") == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["host"]["hostname"] == "WEB01"


def test_show_does_not_create_a_state_file(state_dir: Path) -> None:
    run(state_dir, "show", "web01")
    assert not (state_dir / "web01.json").exists()


def test_show_section_as_json(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "show", "web01", "--section", "/host/os_name", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == "Microsoft Windows Server 2022 Datacenter"


def test_show_unknown_section_fails(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "show", "web01", "--section", "nope") == 2
    assert "no key 'nope'" in capsys.readouterr().err


# -- set, reset ---------------------------------------------------------------------------

def test_set_writes_the_state(state_dir: Path) -> None:
    assert run(state_dir, "set", "web01", "host.reboot_pending", "true") == 0
    assert _state(state_dir)["host"]["reboot_pending"] is True


def test_set_delete(state_dir: Path) -> None:
    run(state_dir, "set", "web01", "/env/MCMS", "x")
    assert run(state_dir, "set", "web01", "/env/MCMS", "--delete") == 0
    assert "MCMS" not in _state(state_dir)["env"]


@pytest.mark.parametrize("argv", [["set", "web01", "/env/X"], ["set", "web01", "/env/X", "1", "--delete"]])
def test_set_needs_value_or_delete(state_dir: Path, argv: list[str]) -> None:
    assert run(state_dir, *argv) == 2


def test_reset_removes_state_and_sidecars(state_dir: Path) -> None:
    run(state_dir, "set", "web01", "/host/reboot_pending", "true")
    run(state_dir, "fault", "web01", "add", "disk_full", "C:")
    store = HostStore.for_host("web01", state_dir=str(state_dir))
    store.count("module", module="ansible.windows.win_ping")
    store.tmp_dir.mkdir(parents=True)
    assert run(state_dir, "reset", "web01") == 0
    assert [p.exists() for p in (store.state_path, store.faults_path, store.stats_path, store.data_dir)] == [
        False, False, False, False]


def test_reset_without_hosts_resets_every_host(state_dir: Path) -> None:
    run(state_dir, "set", "web01", "/host/reboot_pending", "true")
    run(state_dir, "fault", "web02", "add", "disk_full", "C:")
    assert run(state_dir, "reset") == 0
    assert sorted(p.name for p in state_dir.iterdir() if not p.name.endswith(".lock")) == []


def test_reset_keeps_other_hosts(state_dir: Path) -> None:
    run(state_dir, "set", "web01", "/host/reboot_pending", "true")
    run(state_dir, "set", "web02", "/host/reboot_pending", "true")
    run(state_dir, "reset", "web01")
    assert (state_dir / "web02.json").exists()


# -- drift, fault, stats -------------------------------------------------------------------

def test_drift_edits_the_state(state_dir: Path) -> None:
    assert run(state_dir, "drift", "web01", "write-file", "D:\\mcms\\app_offline.htm", "offline") == 0
    assert "d:\\mcms\\app_offline.htm" in _state(state_dir)["files"]


def test_drift_error_exits_2_and_leaves_no_state(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "drift", "web01", "stop-site", "MCMS") == 2
    assert "IIS is not installed" in capsys.readouterr().err
    assert not (state_dir / "web01.json").exists()


def test_drift_options_reach_the_drift(state_dir: Path) -> None:
    run(state_dir, "set", "web01", "/iis", json.dumps({"installed": True, "app_pools": {}, "sites": {"MCMS": {
        "name": "MCMS", "state": "Started", "bindings": [{"protocol": "https", "ip": "*", "port": 443,
                                                         "hostname": "mcms.lab"}]}}}))
    assert run(state_dir, "drift", "web01", "change-binding", "MCMS", "--port", "8443", "--sni", "true") == 0
    assert _state(state_dir)["iis"]["sites"]["MCMS"]["bindings"][0] == {
        "protocol": "https", "ip": "*", "port": 8443, "hostname": "mcms.lab", "use_sni": True}


def test_fault_add_list_remove_clear(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "fault", "web01", "add", "service_start", "W3SVC") == 0
    assert run(state_dir, "fault", "web01", "add", "drop_connection", "--at", "2") == 0
    capsys.readouterr()
    run(state_dir, "fault", "web01", "list", "--json")
    assert [f["kind"] for f in json.loads(capsys.readouterr().out)] == ["service_start", "drop_connection"]
    run(state_dir, "fault", "web01", "remove", "service_start")
    run(state_dir, "fault", "web01", "clear")
    capsys.readouterr()
    run(state_dir, "fault", "web01", "list")
    assert capsys.readouterr().out.strip() == "web01: no faults"


def test_fault_invalid_exits_2(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state_dir, "fault", "web01", "add", "service_start") == 2
    assert capsys.readouterr().err.startswith("winsim: error: fault service_start needs a target")


def test_stats_json(state_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSIM_RUN_ID", "r1")
    for host, n in (("web01", 2), ("web02", 1)):
        store = HostStore.for_host(host, state_dir=str(state_dir))
        for _ in range(n):
            store.count("module", module="ansible.windows.setup")
    assert run(state_dir, "stats", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(h["host"], h["round_trips"]) for h in doc["hosts"]] == [("web01", 2), ("web02", 1)]


def test_stats_of_one_host_and_last_run(state_dir: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = HostStore.for_host("web01", state_dir=str(state_dir))
    for run_id in ("r1", "r2", "r2"):
        monkeypatch.setenv("WINSIM_RUN_ID", run_id)
        store.count("module", module="ansible.windows.setup")
    run(state_dir, "stats", "web01", "--run", "last")
    assert capsys.readouterr().out.startswith("web01 (r2): 2 round trips")


# -- where hosts live -----------------------------------------------------------------------

def test_state_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSIM_STATE_DIR", str(tmp_path / "env"))
    assert cli.main(["set", "web01", "/host/reboot_pending", "true"]) == 0
    assert (tmp_path / "env" / "web01.json").exists()


def test_default_state_dir_is_the_plugins_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WINSIM_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    cli.main(["set", "web01", "/host/reboot_pending", "true"])
    assert (tmp_path / ".winsim" / "state" / "web01.json").exists()


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "webservers": {"hosts": {"web1": {}, "web2": {"winsim_state_file": str(tmp_path / "custom" / "w2.json")}}},
        "linux": {"hosts": {"helper": {"ansible_connection": "local"}}}}}}))
    (inv / "group_vars" / "webservers.yml").write_text(yaml.safe_dump({
        "ansible_connection": "mcms.winsim.sim", "ansible_shell_type": "powershell",
        "winsim_state_dir": "{{ inventory_dir }}/../labstate"}))
    return inv


def test_inventory_resolves_templated_state_dir(inventory: Path) -> None:
    stores = cli.inventory_stores(str(inventory))
    assert stores["web1"].state_path.resolve() == (inventory.parent / "labstate" / "web1.json").resolve()


def test_inventory_state_file_wins(inventory: Path) -> None:
    stores = cli.inventory_stores(str(inventory))
    assert stores["web2"].state_path == inventory.parent / "custom" / "w2.json"


def test_inventory_lists_only_winsim_hosts(inventory: Path) -> None:
    assert sorted(cli.inventory_stores(str(inventory))) == ["web1", "web2"]


def test_inventory_unknown_host_fails(inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--inventory", str(inventory), "show", "helper"]) == 2
    assert "not a winsim host" in capsys.readouterr().err


def test_inventory_set(inventory: Path) -> None:
    assert cli.main(["-i", str(inventory), "set", "web1", "/host/reboot_pending", "true"]) == 0
    assert (inventory.parent / "labstate" / "web1.json").exists()


# -- fidelity -----------------------------------------------------------------------------

def _recording(path: Path, changed: bool) -> Path:
    lines = [{"type": "start", "format": 1, "ansible_version": "2.21.5", "check_mode": False, "diff_mode": False},
             {"type": "task", "format": 1, "play": "Web", "task": "Install IIS", "host": "web1", "status": "ok",
              "action": "ansible.windows.win_feature", "changed": changed, "failed": False, "skipped": False,
              "unreachable": False, "diff": False, "keys": ["changed", "exitcode"]}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_fidelity_identical_exits_0(tmp_path: Path) -> None:
    a, b = _recording(tmp_path / "a", True), _recording(tmp_path / "b", True)
    assert cli.main(["fidelity", "compare", str(a), str(b)]) == 0


def test_fidelity_difference_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _recording(tmp_path / "a", True), _recording(tmp_path / "b", False)
    assert cli.main(["fidelity", "compare", str(a), str(b)]) == 1
    assert "[web1] Web / Install IIS: changed: real=true sim=false" in capsys.readouterr().out


def test_fidelity_host_map(tmp_path: Path) -> None:
    a = _recording(tmp_path / "a", True)
    b = _recording(tmp_path / "b", True)
    b.write_text(b.read_text().replace('"web1"', '"sim1"'))
    assert cli.main(["fidelity", "compare", str(a), str(b), "--map-host", "web1=sim1"]) == 0


def test_fidelity_unreadable_recording_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("not json\n")
    a = _recording(tmp_path / "a", True)
    assert cli.main(["fidelity", "compare", str(a), str(tmp_path / "bad")]) == 2


def test_drift_repeatable_option(state_dir: Path) -> None:
    assert run(state_dir, "drift", "web01", "add-cert", "--subject", "CN=mcms.lab", "--days", "10",
               "--dns-name", "a.lab", "--dns-name", "b.lab") == 0
    (entry,) = _state(state_dir)["certificates"]["LocalMachine"]["My"].values()
    assert entry["dns_names"] == ["a.lab", "b.lab"]


def test_hosts_with_only_sidecars_are_listed(state_dir: Path) -> None:
    run(state_dir, "fault", "web03", "add", "disk_full", "C:")
    assert cli.HostResolver(state_dir=str(state_dir)).all_hosts() == ["web03"]
