"""One harness for the roles' bad-input tests (``test_<role>_bad_input.py``).

A case runs one role with ``ansible-playbook`` against a simulated host
(winsim) whose state file does not exist, i.e. a fresh host, with the case's
variables as extra vars. A bad case must fail, name the variable (and the
fix) in its output, and leave the host untouched: winsim writes the state
file and its sidecars (round-trip statistics, trace) on the first module run,
so no file of the host may exist afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import textwrap
import typing as t

from .conftest import REPO, ansible_bin


@dataclasses.dataclass
class RoleRun:
    returncode: int
    output: str
    state_dir: pathlib.Path
    host: str = "web01"

    def touched(self) -> list[str]:
        """The files winsim wrote for the host (state, statistics, trace): none when it was never contacted."""
        return sorted(p.name for p in self.state_dir.glob(f"{self.host}*")) if self.state_dir.exists() else []


def run_role(tmp_path: pathlib.Path, role: str, extra_vars: dict[str, t.Any], *args: str,
             host: str = "web01") -> RoleRun:
    """Run ``role`` alone on the fresh simulated host ``host`` with ``extra_vars``."""
    state_dir = tmp_path / "state"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent(f"""\
        all:
          hosts:
            {host}:
              ansible_connection: mcms.winsim.sim
              ansible_shell_type: powershell
              winsim_state_dir: {state_dir}
        """), encoding="utf-8")
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(f"""\
        - name: Run the {role} role
          hosts: all
          gather_facts: false
          roles:
            - role: {role}
        """), encoding="utf-8")
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    config = tmp_path / "ansible.cfg"
    config.write_text(textwrap.dedent(f"""\
        [defaults]
        roles_path = {REPO / "roles"}
        collections_path = {REPO / "collections"}
        stdout_callback = ansible.builtin.default
        retry_files_enabled = false
        """), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([ansible_bin("ansible-playbook"), "-i", str(inventory), str(playbook),
                           "-e", f"@{vars_file}", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    return RoleRun(proc.returncode, proc.stdout + proc.stderr, state_dir, host)


def assert_refused_untouched(run: RoleRun, expected: list[str]) -> None:
    """The run failed, its output holds every expected text, and the host was never contacted."""
    assert run.returncode != 0, run.output
    for words in expected:
        assert words in run.output, f"{words!r} not in output:\n{run.output}"
    assert run.touched() == [], f"a module ran on the host:\n{run.output}"
