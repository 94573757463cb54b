"""The preflight (first play of site.yml) stops a bad run before any host is touched.

Each case runs the real site.yml against a private copy of inventories/sim
with one defect, and proves three things: the run fails in the preflight, the
message names the variable, and no simulated host was contacted (winsim
writes a state file and round-trip statistics on the first module run, so the
state directory must stay empty). The real inventories are checked the same
way: on a controller without their vault and CA bundle the preflight lists
exactly what is missing and connects to nothing.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from .conftest import REPO, run_playbook

pytestmark = pytest.mark.playbook

# --tags with a tag no task has: the preflight (tagged always) runs, nothing else does.
ONLY_PREFLIGHT = ("--tags", "preflight-only-no-such-tag", "-v")


def _delete_key(path: pathlib.Path, key: str) -> None:
    """Remove a top-level YAML key and its indented block."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "-")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    assert out != lines, f"{key} not found in {path}"
    path.write_text("".join(out), encoding="utf-8")


def _state_files(inventory: pathlib.Path) -> list[pathlib.Path]:
    state = inventory.parent.parent / ".winsim"
    return sorted(p for p in state.rglob("*") if p.is_file()) if state.exists() else []


def test_intact_sim_inventory_passes_the_preflight(sim_copy: pathlib.Path) -> None:
    result = run_playbook("site.yml", "-i", str(sim_copy), *ONLY_PREFLIGHT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Preflight passed for 4 host(s)" in result.stdout
    assert "web01 [service_accounts, iis, tls, app]" in result.stdout
    assert _state_files(sim_copy) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(("group_vars/webservers/iis.yml", "iis_hosting_bundle_source"),
                     ["web01: iis_hosting_bundle_source: required for tier web",
                      "web02: iis_hosting_bundle_source: required for tier web"],
                     id="required-variable-deleted"),
        pytest.param(("group_vars/webservers/tls.yml", "tls_sites"),
                     ["web01: tls_sites: required for tier web", "web02: tls_sites: required for tier web"],
                     id="required-list-deleted"),
        pytest.param(("group_vars/all/vault.yml", None),
                     ["web01: vault_ansible_password: secret referenced by ansible_password is not defined",
                      "dc01: vault_ansible_password", "sql01: vault_ansible_password"],
                     id="vault-deleted"),
        pytest.param(("group_vars/webservers/iis.yml", "iis_default_site_state: gone"),
                     ["web01: iis_default_site_state: value of iis_default_site_state must be one of"],
                     id="invalid-choice"),
    ],
)
def test_defect_fails_in_preflight_naming_it(sim_copy: pathlib.Path, edit: tuple[str, str | None],
                                             expected: list[str]) -> None:
    path, key = sim_copy / edit[0], edit[1]
    if key is None:
        path.unlink()
    elif ":" in key:
        path.write_text(path.read_text(encoding="utf-8") + key + "\n", encoding="utf-8")
        _delete_key(path, key.split(":")[0])
        path.write_text(path.read_text(encoding="utf-8") + key + "\n", encoding="utf-8")
    else:
        _delete_key(path, key)

    result = run_playbook("site.yml", "-i", str(sim_copy))

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Preflight found" in output
    for text in expected:
        assert text in output, f"{text!r} missing from:\n{output}"
    # Nothing after the preflight ran, and no simulated host was contacted.
    assert "PLAY [Identity tier" not in output
    assert "PLAY [Web tier" not in output
    assert _state_files(sim_copy) == []


@pytest.mark.parametrize("env", ["lab", "stage", "prod"])
def test_real_inventory_without_secrets_lists_what_is_missing(env: str) -> None:
    result = run_playbook("site.yml", "-i", f"inventories/{env}", *ONLY_PREFLIGHT)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Preflight found" in output
    hosts = re.findall(r"^  - ([a-z0-9-]+): vault_ansible_password: ", output, flags=re.MULTILINE)
    inventory = (REPO / "inventories" / env / "hosts.yml").read_text(encoding="utf-8")
    assert sorted(hosts) == sorted(re.findall(r"^ {12}([a-z0-9-]+):$", inventory, flags=re.MULTILINE))
    assert re.search(r"-web01: iis_hosting_bundle_product_id: required for tier web and empty", output)
    assert re.search(r"-web01: ansible_psrp_ca_cert: CA bundle /etc/pki/mcms/internal-ca.pem does not exist", output)
    # The preflight connected to nothing: no psrp connection was attempted.
    assert "psrp" not in result.stderr.lower() or "ansible_psrp" in result.stderr
    assert "UNREACHABLE" not in output


@pytest.mark.parametrize(
    ("append", "expected"),
    [
        # A tls typo fails before the iis role (first in the tier) touches any host.
        pytest.param(("group_vars/webservers/tls.yml",
                      "tls_cipher_suites: [TLS_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA348]\n"),
                     ["web01: tls_cipher_suites: tls_cipher_suites[1] is 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA348'",
                      "did you mean TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384?"], id="tls-cipher-suite-typo"),
        pytest.param(("host_vars/web02/tls.yml",
                      "tls_sites: [{name: MCMSS, hostnames: [mcms.sim.mcms.internal]}]\n"),
                     ["web02: tls_sites: tls_sites[0] (MCMSS).name: 'MCMSS' is not a site of the iis role"],
                     id="tls-site-not-an-iis-site"),
        pytest.param(("group_vars/webservers/iis.yml", "iis_firewall_profiles: [domain, privte]\n"),
                     ["web01: iis_firewall_profiles: iis_firewall_profiles entry 'privte' is not a firewall profile"],
                     id="firewall-profile-typo"),
        pytest.param(("group_vars/webservers/iis.yml", "iis_firewall_remote_ip: 10.20.0.0/24,LocalSubnett\n"),
                     ["web01: iis_firewall_remote_ip: iis_firewall_remote_ip entry 'LocalSubnett' is neither"],
                     id="firewall-remote-ip-typo"),
        pytest.param(("group_vars/webservers/iis.yml", "iis_sites_root: inetpub\\sites\n"),
                     ["web01: iis_sites_root: iis_sites_root 'inetpub\\sites' must be an absolute path"],
                     id="relative-sites-root"),
        pytest.param(("group_vars/windows/connection.yml", "ansible_password: Passw0rd-in-clear\n"),
                     ["web01: ansible_password: password in plain text", "dc01: ansible_password"],
                     id="ansible-password-in-clear"),
        pytest.param(("group_vars/webservers/tls.yml",
                      "tls_sites: [{name: MCMS, hostnames: [mcms.sim.mcms.internal], pfx_b64: MIIKcQIBAzCCCjcGCSqG,"
                      " pfx_password: '{{ vault_ansible_password }}'}]\n"),
                     ["web01: tls_sites[0].pfx_b64: secret given in plain text"], id="pfx-in-clear"),
        pytest.param(("group_vars/windows/connection.yml", "ansible_psrp_negotiate_delegate: true\n"),
                     ["web01: ansible_psrp_negotiate_delegate: delegates the deployment account's Kerberos ticket",
                      "mcms_allow_kerberos_delegation"], id="kerberos-delegation"),
    ],
)
def test_bad_value_fails_in_preflight_before_any_host_is_contacted(sim_copy: pathlib.Path,
                                                                   append: tuple[str, str],
                                                                   expected: list[str]) -> None:
    path = sim_copy / append[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("---\n", encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8") + append[1], encoding="utf-8")

    result = run_playbook("site.yml", "-i", str(sim_copy))

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Preflight found" in output
    for text in expected:
        assert text in output, f"{text!r} missing from:\n{output}"
    assert "PLAY [Web tier" not in output
    assert _state_files(sim_copy) == [], "a simulated host was contacted (winsim counted a round trip)"


def test_delegation_allowed_with_a_reason_passes(sim_copy: pathlib.Path) -> None:
    path = sim_copy / "group_vars" / "windows" / "connection.yml"
    path.write_text(path.read_text(encoding="utf-8") + "ansible_psrp_negotiate_delegate: true\n"
                    "mcms_allow_kerberos_delegation:\n  reason: the lab copies artifacts from a share as the caller\n",
                    encoding="utf-8")
    result = run_playbook("site.yml", "-i", str(sim_copy), *ONLY_PREFLIGHT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tier_playbook_alone_runs_the_preflight(sim_copy: pathlib.Path) -> None:
    path = sim_copy / "group_vars" / "webservers" / "tls.yml"
    path.write_text(path.read_text(encoding="utf-8") + "tls_cipher_suites: [TLS_AES_256_GCM_SHA348]\n",
                    encoding="utf-8")
    result = run_playbook("playbooks/web.yml", "-i", str(sim_copy))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Preflight found" in output
    assert "web01: tls_cipher_suites" in output
    assert _state_files(sim_copy) == []


def test_site_runs_the_preflight_once(sim_copy: pathlib.Path) -> None:
    result = run_playbook("site.yml", "-i", str(sim_copy), *ONLY_PREFLIGHT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Preflight passed for") == 1, result.stdout
    assert _state_files(sim_copy) == []
