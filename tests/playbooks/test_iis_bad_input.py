"""Bad input to the ``iis`` role fails before any host is touched, naming the variable.

Each case runs the role with ``ansible-playbook`` against a simulated host
(winsim) whose state file does not exist, i.e. a fresh host.  The run must
fail, its output must name the variable and say how to fix it, and the host
must have received no module run at all: no state file and no sidecar
(round-trip statistics, trace) was written.  A control case runs the same
harness with good input in check mode and must succeed, so the bad cases
cannot pass because the harness itself is broken.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import typing as t

import pytest

pytestmark = pytest.mark.playbook

REPO = pathlib.Path(__file__).resolve().parents[2]
GOOD: dict[str, t.Any] = {
    "iis_hosting_bundle_source": "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe",
    "iis_hosting_bundle_product_id": "{26839EEE-DB8F-52EA-8A81-B752A6602FA0}",
    "iis_sites": [{"name": "MCMS", "hostnames": ["mcms.lab.example"]}],
}


def site(**options: t.Any) -> list[dict[str, t.Any]]:
    return [{"name": "MCMS", "hostnames": ["mcms.lab.example"], **options}]


CASES = [
    pytest.param({"iis_sites": site(https_port=70000)},
                 ["iis_sites[0] (MCMS): https_port '70000' is not a TCP port"], id="invalid-port"),
    pytest.param({"iis_host_sites": site(http_redirect=True, http_port=0)},
                 ["iis_host_sites[0] (MCMS): http_port '0' is not a TCP port"], id="invalid-http-port"),
    pytest.param({"iis_sites": site(hostnames=["https://mcms.lab.example"])},
                 ["iis_sites[0] (MCMS): hostnames entry 'https://mcms.lab.example' contains a scheme",
                  "write the bare DNS name"], id="hostname-with-scheme"),
    pytest.param({"iis_sites": site() + site(hostnames=["other.lab.example"])},
                 ["iis_sites[1]: duplicate site name 'MCMS' (also iis_sites[0])"], id="duplicate-site"),
    pytest.param({"iis_sites": [*site(http_redirect=True),
                                {"name": "Other", "hostnames": ["MCMS.lab.example"], "http_redirect": True}]},
                 ["iis_sites[1] (Other): hostname 'MCMS.lab.example' is also used by site 'MCMS'"],
                 id="duplicate-binding"),
    pytest.param({"iis_sites": site(app_pool={"identity": "LAB\\svc_mcms"})},
                 ["iis_sites[0] (MCMS): app_pool.identity 'LAB\\\\svc_mcms' is an account and needs "
                  "app_pool.password"], id="account-without-password"),
    pytest.param({"iis_group_sites": site(app_pool={"identity": "LAB\\gmsa_mcms$", "password": "x"})},
                 ["iis_group_sites[0] (MCMS): app_pool.identity 'LAB\\\\gmsa_mcms$' is a gMSA"],
                 id="gmsa-with-password"),
    pytest.param({"iis_sites": site(physical_path="C:\\sites\\MCMS"), "iis_require_non_system_drive": True},
                 ["physical_path 'C:\\\\sites\\\\MCMS' is on the system drive C:"], id="system-drive"),
    pytest.param({"iis_hosting_bundle_source": ""}, ["iis_hosting_bundle_source is empty"], id="no-bundle-source"),
    pytest.param({"iis_hosting_bundle_product_id": "8.0.11"},
                 ["iis_hosting_bundle_product_id '8.0.11' must be the bundle's product GUID"], id="bad-product-id"),
    # Types and choices fail even earlier, in the role's argument spec validation.
    pytest.param({"iis_sites": site(https_port="https")}, ["iis_sites", "https_port", "int"], id="spec-type"),
    pytest.param({"iis_sites": site(state="running")}, ["iis_sites", "state", "running"], id="spec-choice"),
    pytest.param({"iis_sites": site(hostname="mcms.lab.example")}, ["iis_sites", "hostname"], id="spec-unknown"),
    pytest.param({"iis_default_site_state": "deleted"}, ["iis_default_site_state", "deleted"], id="spec-default-site"),
]


def _ansible_bin(name: str) -> str:
    for candidate in (REPO / ".venv" / "bin" / name, pathlib.Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    return name


def _run(tmp_path: pathlib.Path, extra_vars: dict[str, t.Any], *args: str) -> tuple[int, str, pathlib.Path]:
    state_dir = tmp_path / "state"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent(f"""\
        all:
          hosts:
            web01:
              ansible_connection: mcms.winsim.sim
              ansible_shell_type: powershell
              winsim_state_dir: {state_dir}
        """), encoding="utf-8")
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Run the iis role
          hosts: all
          gather_facts: false
          roles:
            - role: iis
        """), encoding="utf-8")
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({**GOOD, **extra_vars}), encoding="utf-8")
    config = tmp_path / "ansible.cfg"
    config.write_text(textwrap.dedent(f"""\
        [defaults]
        roles_path = {REPO / "roles"}
        collections_path = {REPO / "collections"}
        stdout_callback = ansible.builtin.default
        retry_files_enabled = false
        """), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([_ansible_bin("ansible-playbook"), "-i", str(inventory), str(playbook),
                           "-e", f"@{vars_file}", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr, state_dir


def _touched(state_dir: pathlib.Path) -> list[str]:
    return sorted(p.name for p in state_dir.glob("web01*")) if state_dir.exists() else []


@pytest.mark.parametrize(("extra_vars", "expected"), CASES)
def test_bad_input_fails_before_the_host_is_touched(tmp_path: pathlib.Path, extra_vars: dict[str, t.Any],
                                                    expected: list[str]) -> None:
    rc, output, state_dir = _run(tmp_path, extra_vars)
    assert rc != 0, output
    for words in expected:
        assert words in output, f"{words!r} not in output:\n{output}"
    assert _touched(state_dir) == [], f"a module ran on the host:\n{output}"


def test_good_input_passes_the_same_harness(tmp_path: pathlib.Path) -> None:
    rc, output, state_dir = _run(tmp_path, {}, "--check")
    assert rc == 0, output
    assert "web01                      : ok=" in output
    assert "web01.json" not in _touched(state_dir), "check mode wrote the host's state"
