"""The declared lab (``winsim/lab.py``): validation before anything is
written, and the hosts it builds (DC with its domain, joined members with
their computer objects, SQL Server instances)."""

from __future__ import annotations

import copy
import json
import typing as t
from pathlib import Path

import pytest

from winsim import lab
from winsim.cli import main as cli_main
from winsim.models import ad
from winsim.runtime import Lab

DECL: dict[str, t.Any] = {
    "name": "t",
    "domain": {"dns_name": "corp.mcms.internal", "netbios": "CORP", "dc": "dc01"},
    "dns": {"records": {"mcms.t.mcms.internal": "web01", "lb.t.mcms.internal": "10.20.0.100"}},
    "hosts": {
        "dc01": {"roles": ["domain_controller"], "address": "10.20.0.5"},
        "web01": {"roles": ["member"], "address": "10.20.0.11"},
        "sql01": {"roles": ["member", "sql_server"], "address": "10.20.0.21",
                  "sql": {"backup_dir": "D:\\SQLBackup", "version": "2022"}},
    },
}


def _decl(**changes: t.Any) -> dict[str, t.Any]:
    decl = copy.deepcopy(DECL)
    for path, value in changes.items():
        node = decl
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return decl


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


@pytest.mark.parametrize(("changes", "where", "words"), [
    ({"hosts__web01__profile": "windows-xp"}, "winsim_lab.hosts.web01.profile", "unknown profile"),
    ({"profile": "shiny"}, "winsim_lab.profile", "unknown profile"),
    ({"dns__records": {"app.t.mcms.internal": "web99"}}, "winsim_lab.dns.records.app.t.mcms.internal",
     "neither a host of the lab nor an IPv4 address"),
    ({"dns__records": {"bad_name!": "web01"}}, "winsim_lab.dns.records", "is not a DNS name"),
    ({"hosts__dc01__roles": ["domain_controller", "member"]}, "winsim_lab.hosts.dc01.roles",
     "cannot also be a member"),
    ({"hosts__web01__roles": ["webserver"]}, "winsim_lab.hosts.web01.roles", "unknown role"),
    ({"domain": None}, "winsim_lab.hosts", "without a declared domain"),
    ({"domain__dc": "web01"}, "winsim_lab.domain.dc", "does not have the domain_controller role"),
    ({"domain__dc": "dc99"}, "winsim_lab.domain.dc", "is not a declared host"),
    ({"domain__dns_name": "corp"}, "winsim_lab.domain.dns_name", "single-label"),
    ({"hosts__web01__address": "10.20.0.5"}, "winsim_lab.hosts.web01.address", "already the address of dc01"),
    ({"hosts__web01__address": "10.20.0"}, "winsim_lab.hosts.web01.address", "not an IPv4 address"),
    ({"hosts__web01__sql": {"version": "2022"}}, "winsim_lab.hosts.web01.sql", "without the sql_server role"),
    ({"hosts__sql01__sql": {"version": "2005"}}, "winsim_lab.hosts.sql01.sql.version", "unknown SQL Server"),
    ({"hosts__sql01__sql": {"backup_dir": "SQLBackup"}}, "winsim_lab.hosts.sql01.sql.backup_dir",
     "not an absolute Windows path"),
    ({"hosts__averyveryverylongname": {"roles": []}}, "winsim_lab.hosts.averyveryverylongname",
     "cannot be a Windows computer name"),
    ({"hosts__web01__colour": "blue"}, "winsim_lab.hosts.web01", "unknown key(s) colour"),
])
def test_bad_declaration_fails_naming_the_key_and_writes_nothing(
        tmp_path: Path, changes: dict[str, t.Any], where: str, words: str) -> None:
    state_dir = tmp_path / "state"
    with pytest.raises(lab.LabError) as exc:
        lab.ensure(state_dir, _decl(**changes))
    assert where in str(exc.value)
    assert words in str(exc.value)
    assert "Fix:" in str(exc.value)
    assert not state_dir.exists() or _files(state_dir) == {}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, t.Any]]:
    state_dir = tmp_path_factory.mktemp("lab")
    spec = lab.ensure(state_dir, DECL)
    return state_dir, spec


def _state(state_dir: Path, host: str) -> dict[str, t.Any]:
    return json.loads((state_dir / f"{host}.json").read_text(encoding="utf-8"))


def test_every_declared_host_is_built_and_the_spec_is_saved(built: tuple[Path, dict[str, t.Any]]) -> None:
    state_dir, spec = built
    assert sorted(p.name for p in state_dir.glob("*.json")) == ["dc01.json", "sql01.json", "web01.json"]
    assert json.loads((state_dir / "_lab" / "lab.json").read_text()) == spec
    assert Lab(state_dir).spec == spec
    assert Lab(state_dir).hosts() == ["dc01", "sql01", "web01"]  # _lab/ is not a host


def test_the_dc_holds_the_domain_and_its_dns_zone(built: tuple[Path, dict[str, t.Any]]) -> None:
    dc = _state(built[0], "dc01")
    assert ad.is_dc(dc)
    assert dc["ad"]["domain"]["dns_root"] == "corp.mcms.internal"
    assert dc["ad"]["domain"]["netbios"] == "CORP"
    assert dc["ad"]["dns_zone"]["records"]["web01.corp.mcms.internal"] == "web01"


@pytest.mark.parametrize("member", ["web01", "sql01"])
def test_a_member_is_joined_and_its_computer_object_exists(built: tuple[Path, dict[str, t.Any]],
                                                           member: str) -> None:
    state_dir, _ = built
    host = _state(state_dir, member)["host"]
    assert (host["domain"], host["domain_role"], host["workgroup"]) == ("corp.mcms.internal", "Member server", None)
    dc = _state(state_dir, "dc01")
    computer = ad.find_object(dc, f"CORP\\{member.upper()}$", "ADComputer")
    assert computer is not None
    assert computer["dn"] == f"CN={member.upper()},CN=Computers,DC=corp,DC=mcms,DC=internal"
    assert computer["sid"].startswith(dc["ad"]["domain"]["sid"] + "-")


def test_computer_sids_are_unique(built: tuple[Path, dict[str, t.Any]]) -> None:
    dc = _state(built[0], "dc01")
    sids = [o["sid"] for o in dc["ad"]["objects"].values() if o.get("sid")]
    assert len(sids) == len(set(sids))


def test_the_sql_host_has_its_instance_and_declared_backup_folder(built: tuple[Path, dict[str, t.Any]]) -> None:
    sql = _state(built[0], "sql01")
    inst = sql["sql"]["instances"]["mssqlserver"]
    assert inst["version_major"] == 16
    assert inst["paths"]["backup"] == "D:\\SQLBackup"
    assert "d:\\sqlbackup" in sql["files"]
    assert "sql" not in _state(built[0], "web01") or not _state(built[0], "web01")["sql"]["instances"]


def test_dns_records_include_the_declared_names_and_every_host(built: tuple[Path, dict[str, t.Any]]) -> None:
    records = built[1]["dns"]["records"]
    assert records["mcms.t.mcms.internal"] == "web01"
    assert records["lb.t.mcms.internal"] == "10.20.0.100"
    assert records["sql01.corp.mcms.internal"] == "sql01"


def test_ensure_again_changes_nothing(tmp_path: Path) -> None:
    lab.ensure(tmp_path, DECL)
    before = _files(tmp_path)
    lab._SEEN.clear()  # as in a new ansible-playbook process
    lab.ensure(tmp_path, DECL)
    assert _files(tmp_path) == before


def test_an_existing_host_keeps_its_roles(tmp_path: Path) -> None:
    lab.ensure(tmp_path, DECL)
    before = _files(tmp_path)
    with pytest.raises(lab.LabError, match=r"winsim_lab\.hosts\.web01\.roles: changed .* winsim reset web01"):
        lab.ensure(tmp_path, _decl(hosts__web01__roles=["member", "sql_server"],
                                   hosts__web01__sql={"version": "2022"}))
    assert _files(tmp_path) == before


def test_lab_settings_may_change_and_a_new_host_is_added(tmp_path: Path) -> None:
    lab.ensure(tmp_path, DECL)
    web01 = (tmp_path / "web01.json").read_bytes()
    decl = _decl(dns__records={"mcms.t.mcms.internal": "10.20.0.100"})
    decl["hosts"]["web02"] = {"roles": ["member"], "address": "10.20.0.12"}
    spec = lab.ensure(tmp_path, decl)
    assert spec["dns"]["records"]["mcms.t.mcms.internal"] == "10.20.0.100"
    assert _state(tmp_path, "web02")["host"]["domain"] == "corp.mcms.internal"
    assert (tmp_path / "web01.json").read_bytes() == web01


def test_the_cli_builds_the_lab_declared_in_an_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"dc01": {}, "web01": {}, "sql01": {}}}}))
    (inv / "group_vars" / "all.yml").write_text(json.dumps({
        "ansible_connection": "mcms.winsim.sim", "winsim_state_dir": "{{ inventory_dir }}/state",
        "winsim_lab": DECL}))
    assert cli_main(["-i", str(inv), "lab", "build"]) == 0
    assert "dc01       domain_controller" in capsys.readouterr().out
    assert (inv / "state" / "web01.json").exists()
    assert cli_main(["--state-dir", str(inv / "state"), "lab", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["domain"]["dc"] == "dc01"
