"""Host profiles (``winsim/docs/profiles.md``): ``bare`` (the historical
fresh host), ``realistic`` (what a real fresh Windows Server 2022 carries
where the roles look) and ``lived-in``.  None of this existed before: every
test here fails on the old code (no ``profile`` argument, option or CLI
flag)."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import get_shell_plugin

from ansible_collections.mcms.winsim.plugins.connection import sim
from winsim import cli
from winsim import state as st
from winsim.models import certificates, firewall
from winsim.models._base import SimulatorError
from winsim.store import HostStore, canonical_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from winsim_core_support import module_payload

SCHANNEL = "hklm\\system\\currentcontrolset\\control\\securityproviders\\schannel"
RULE = "community.windows.win_firewall_rule"


def _values(doc: dict[str, t.Any], key: str) -> dict[str, t.Any]:
    return {v["name"]: v["data"] for v in doc["registry"][key.lower()]["values"].values()}


# -- mechanism ----------------------------------------------------------------------------

@pytest.mark.parametrize("profile", st.PROFILES)
def test_profile_is_recorded_and_reproducible(profile: str) -> None:
    doc = st.fresh_state("web01", profile=profile)
    assert doc["host"]["profile"] == profile
    assert canonical_json(doc) == canonical_json(st.fresh_state("web01", profile=profile))


def test_bare_is_the_default_and_has_no_profile_content() -> None:
    doc = st.fresh_state("web01")
    assert doc["host"]["profile"] == "bare"
    assert doc["certificates"]["LocalMachine"]["My"] == {}
    assert not any(r.get("id") or str(r["grouping"]).startswith("@") for r in doc["firewall"]["rules"])
    assert "winrm_https_thumbprint" not in doc["host"]


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(SimulatorError, match=r"unknown host profile 'fresh': choose one of bare, realistic, "
                                              r"lived-in"):
        st.fresh_state("web01", profile="fresh")


def test_cli_reset_with_profile_writes_the_fresh_host(tmp_path: Path) -> None:
    assert cli.main(["--state-dir", str(tmp_path), "reset", "web01", "--profile", "realistic"]) == 0
    doc = json.loads((tmp_path / "web01.json").read_text())
    assert doc["host"]["profile"] == "realistic"
    assert doc["host"]["hostname"] == "WEB01"


def test_cli_reset_with_unknown_profile_touches_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--state-dir", str(tmp_path), "set", "web01", "/host/reboot_pending", "true"]) == 0
    before = (tmp_path / "web01.json").read_bytes()
    assert cli.main(["--state-dir", str(tmp_path), "reset", "web01", "--profile", "nope"]) == 2
    assert "unknown host profile 'nope'" in capsys.readouterr().err
    assert (tmp_path / "web01.json").read_bytes() == before


def _connection(tmp_path: Path, **extra: str) -> sim.Connection:
    options = yaml.safe_load(sim.DOCUMENTATION)["options"]
    C.config.initialize_plugin_configuration_definitions("connection", "mcms.winsim.sim", options)
    conn = sim.Connection(PlayContext(), None, shell=get_shell_plugin(shell_type="powershell"))
    conn._load_name = "mcms.winsim.sim"
    conn.set_options(var_options={"inventory_hostname": "web1", "winsim_state_dir": str(tmp_path), **extra})
    return conn


def test_connection_option_picks_the_profile_of_a_new_host(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINSIM_RUN_ID", "profile-test")
    options = yaml.safe_load(sim.DOCUMENTATION)["options"]
    assert options["winsim_profile"]["default"] == "bare"
    assert options["winsim_profile"]["env"] == [{"name": "WINSIM_PROFILE"}]
    conn = _connection(tmp_path, winsim_profile="realistic")
    rc, out, _ = conn.exec_command(*module_payload("2.21", "ansible.windows.win_certificate_info",
                                                   {"store_location": "LocalMachine", "store_name": "My"}))
    assert rc == 0
    subjects = [c["subject"] for c in json.loads(out)["certificates"]]
    assert subjects == ["CN=WEB1"]


def test_connection_refuses_an_unknown_profile(tmp_path: Path) -> None:
    conn = _connection(tmp_path, winsim_profile="shiny")
    with pytest.raises(AnsibleError, match="unknown host profile 'shiny'"):
        conn.exec_command(*module_payload("2.21", "ansible.windows.win_ping", {}))
    assert list(tmp_path.iterdir()) == []


# -- realistic ------------------------------------------------------------------------------

def test_realistic_default_rules_have_real_ids_and_indirect_groups() -> None:
    rules = st.fresh_state("web01", profile="realistic")["firewall"]["rules"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["WINRM-HTTP-In-TCP"]["grouping"] == "@FirewallAPI.dll,-30267"
    assert by_id["WINRM-HTTP-In-TCP"]["remote_addresses"] == "LocalSubnet"
    assert by_id["WINRM-HTTP-In-TCP-NoScope"]["profiles"] == 3
    assert by_id["RemoteDesktop-UserMode-In-TCP"]["grouping"] == "@FirewallAPI.dll,-28752"
    assert by_id["FPS-SMB-In-TCP"]["grouping"] == "@FirewallAPI.dll,-28502"


def test_realistic_web_server_install_adds_the_real_iis_rules(run_module: t.Any) -> None:
    doc = st.fresh_state("web01", profile="realistic")
    result, doc = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]}, state=doc)
    assert result["changed"]
    iis = {r["id"]: r for r in doc["firewall"]["rules"] if r.get("id", "").startswith("IIS-")}
    assert set(iis) == {"IIS-WebServerRole-HTTP-In-TCP", "IIS-WebServerRole-HTTPS-In-TCP"}
    http = iis["IIS-WebServerRole-HTTP-In-TCP"]
    assert http["name"] == "World Wide Web Services (HTTP Traffic-In)"
    assert http["grouping"] == "@%windir%\\system32\\inetsrv\\iisres.dll,-30501"
    assert http["enabled"] is True
    assert http["local_ports"] == "80"
    # win_firewall_rule compares group with the stored Grouping exactly: the
    # display group matches nothing, the indirect string matches the rule.
    result, after = run_module(RULE, {"group": "World Wide Web Services (HTTP)", "enabled": False}, state=doc)
    assert result["changed"] is False
    assert canonical_json(after) == canonical_json(doc)
    result, after = run_module(RULE, {"group": firewall.GROUP_IIS_HTTP, "enabled": False}, state=doc)
    assert result["changed"] is True
    assert not next(r for r in after["firewall"]["rules"] if r.get("id") == "IIS-WebServerRole-HTTP-In-TCP")["enabled"]
    # removing the role removes its rules
    _, removed = run_module("ansible.windows.win_feature", {"name": ["Web-Server"], "state": "absent"}, state=doc)
    assert not any(r.get("id", "").startswith("IIS-") for r in removed["firewall"]["rules"])


def test_bare_web_server_install_adds_the_real_iis_rules_too(run_module: t.Any) -> None:
    # The profile is the host before IIS: installing Web-Server creates the
    # rules with their indirect group on any Windows Server (issue 8).
    _, doc = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]})
    rules = {r["id"]: r["grouping"] for r in doc["firewall"]["rules"] if "World Wide Web" in r["name"]}
    assert rules == {"IIS-WebServerRole-HTTP-In-TCP": firewall.GROUP_IIS_HTTP,
                     "IIS-WebServerRole-HTTPS-In-TCP": firewall.GROUP_IIS_HTTPS}


def test_rule_group_matches_case_insensitively_as_powershell_eq(run_module: t.Any) -> None:
    _, doc = run_module("ansible.windows.win_feature", {"name": ["Web-Server"]})
    result, after = run_module(RULE, {"group": firewall.GROUP_IIS_HTTPS.upper(), "enabled": False}, state=doc)
    assert result["changed"] is True
    assert "Firewall rule(s) changed 'World Wide Web Services (HTTPS Traffic-In)'" in result["msg"]
    assert not next(r for r in after["firewall"]["rules"] if r.get("id") == "IIS-WebServerRole-HTTPS-In-TCP")["enabled"]


def test_a_group_without_rules_reports_ok_and_no_msg(run_module: t.Any) -> None:
    # win_firewall_rule.ps1 only creates a rule when name is given: a group
    # that matches nothing is "ok" with no msg (the iis role fails on that).
    result, _ = run_module(RULE, {"group": firewall.GROUP_IIS_HTTP, "enabled": False})
    assert result["changed"] is False
    assert "msg" not in result


def test_realistic_schannel_defaults() -> None:
    doc = st.fresh_state("web01", profile="realistic")
    assert _values(doc, SCHANNEL + "\\protocols\\ssl 2.0\\client") == {"DisabledByDefault": 1}
    for sub in ("ciphers", "ciphersuites", "hashes", "keyexchangealgorithms"):
        assert _values(doc, f"{SCHANNEL}\\{sub}") == {}
    assert SCHANNEL + "\\protocols\\pct 1.0\\server" not in doc["registry"]


def test_realistic_winrm_https_certificate_and_facts(run_module: t.Any) -> None:
    doc = st.fresh_state("web01", profile="realistic")
    thumb = doc["host"]["winrm_https_thumbprint"]
    entry = certificates.find_certificate(doc, "LocalMachine", "My", thumb)
    assert entry is not None
    assert entry["subject"] == entry["issuer"] == "CN=WEB01"
    assert entry["has_private_key"] is True
    assert (entry["public_key_algorithm"], entry["key_length"]) == ("RSA", 2048)
    assert entry["not_after"] == "2027-01-05T09:00:00Z"
    result, _ = run_module("ansible.windows.setup", {"gather_subset": ["!all", "winrm"]}, state=doc)
    facts = result["ansible_facts"]
    assert facts["ansible_win_rm_certificate_thumbprint"] == thumb
    assert facts["ansible_win_rm_certificate_expires"] == "2027-01-05 09:00:00"


# -- lived-in ---------------------------------------------------------------------------

def test_lived_in_registry_leftovers() -> None:
    doc = st.fresh_state("web01", profile="lived-in")
    assert _values(doc, SCHANNEL + "\\protocols\\pct 1.0\\server") == {"Enabled": 0}
    assert _values(doc, SCHANNEL + "\\protocols\\multi-protocol unified hello\\server") == {
        "Enabled": 0, "DisabledByDefault": 1}
    order = _values(doc, "hklm\\software\\policies\\microsoft\\cryptography\\configuration\\ssl\\00010002")
    assert order["Functions"].split(",")[-1] == "TLS_RSA_WITH_3DES_EDE_CBC_SHA"


def test_lived_in_certificates_and_iis(run_module: t.Any) -> None:
    doc = st.fresh_state("web01", profile="lived-in")
    my = doc["certificates"]["LocalMachine"]["My"]
    assert len(my) == 3
    expired = [e for e in my.values() if e["not_after"] < doc["host"]["installed_at"]]
    assert [e["subject"] for e in expired] == ["CN=web01.corp.example.com"]
    assert any(e["issuer"].startswith("CN=Contoso Issuing CA 01") for e in my.values())
    assert doc["features"]["Web-Server"]["install_state"] == "Installed"
    assert set(doc["iis"]["sites"]) == {"Default Web Site", "LegacyIntranet"}
    assert doc["iis"]["app_pools"]["LegacyIntranet"]["attributes"]["managedRuntimeVersion"] == "v2.0"
    assert doc["iis"]["sites"]["LegacyIntranet"]["bindings"][0]["port"] == 8080
    assert doc["iis"]["sites"]["LegacyIntranet"]["state"] == "Started"
    result, _ = run_module("microsoft.iis.website_info", {"name": "LegacyIntranet"}, state=doc)
    assert not result.get("failed"), result


def test_profile_key_is_usable_and_never_stored(tmp_path: Path) -> None:
    """The profile certificates' key file holds a reference, not key material."""
    store = HostStore.for_host("web01", state_dir=str(tmp_path))
    store.profile = "realistic"
    doc = store.load_state()
    store.save_state(doc)
    entry = certificates.find_certificate(doc, "LocalMachine", "My", doc["host"]["winrm_https_thumbprint"])
    blob = st.read_file(doc, entry["key_file"])
    assert blob.startswith(certificates.BUILTIN_KEY_PREFIX)
    key = certificates.builtin_key("profile")
    assert key.public_key().public_numbers() == certificates.certificate_of(entry).public_key().public_numbers()


def test_builtin_primes_are_the_derived_ones() -> None:
    assert certificates.derive_builtin_primes("profile") == certificates._BUILTIN_PRIMES["profile"]
