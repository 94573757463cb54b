"""Real ``ansible-playbook`` runs through the ``mcms.winsim.sim`` connection
plugin, on every ansible-core the project supports.

The interpreters to test are the directories in ``MCMS_ANSIBLE_BIN_DIRS``
(``os.pathsep``-separated, e.g. ``.venv/bin:.venv-oldest/bin``), defaulting to
the directory of the Python running pytest.  Each run uses an isolated
working directory and state directory, the project's in-repo collections and
the upstream collections installed in that interpreter's environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / "collections"


def _bin_dirs() -> list[Path]:
    raw = os.environ.get("MCMS_ANSIBLE_BIN_DIRS") or str(Path(sys.executable).parent)
    return [Path(p) for p in raw.split(os.pathsep) if p]


def _core_version(bin_dir: Path) -> str:
    out = subprocess.run([str(bin_dir / "python"), "-c", "import ansible.release as r; print(r.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


BIN_DIRS = [d for d in _bin_dirs() if (d / "ansible-playbook").exists()]

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

INVENTORY = """\
all:
  hosts:
    web1:
  vars:
    ansible_connection: mcms.winsim.sim
    ansible_shell_type: powershell
"""


class Lab:
    def __init__(self, bin_dir: Path, workdir: Path) -> None:
        self.bin_dir = bin_dir
        self.workdir = workdir
        self.state_dir = workdir / "state"
        (workdir / "inventory.yml").write_text(INVENTORY)

    @property
    def state_file(self) -> Path:
        return self.state_dir / "web1.json"

    def play(self, name: str, body: str, *extra: str, run_id: str = "run") -> subprocess.CompletedProcess[str]:
        playbook = self.workdir / f"{name}.yml"
        playbook.write_text(textwrap.dedent(body))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(COLLECTIONS), os.environ.get("ANSIBLE_COLLECTIONS_PATH",
                                                                                          "")]).rstrip(os.pathsep),
            "WINSIM_STATE_DIR": str(self.state_dir),
            "WINSIM_RUN_ID": run_id,
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
        })
        return subprocess.run([str(self.bin_dir / "ansible-playbook"), "-i", "inventory.yml", playbook.name, *extra],
                              cwd=self.workdir, env=env, capture_output=True, text=True, timeout=600, check=False)

    @staticmethod
    def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, t.Any]]:
        """Task name -> result for host web1 (json callback)."""
        doc = json.loads(proc.stdout)
        out = {}
        for play in doc["plays"]:
            for task in play["tasks"]:
                out[task["task"]["name"]] = task["hosts"]["web1"]
        return out


@pytest.fixture(params=BIN_DIRS, ids=lambda d: f"core-{_core_version(d)}")
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Lab:
    return Lab(request.param, tmp_path)


COPY_AND_STAT = """\
- name: Copy and inspect a file
  hosts: all
  gather_facts: false
  tasks:
    - name: Copy content
      ansible.windows.win_copy:
        content: "{content}"
        dest: C:\\Windows\\Temp\\hello.txt
    - name: Stat the copy
      ansible.windows.win_stat:
        path: C:\\Windows\\Temp\\hello.txt
        checksum_algorithm: sha256
    - name: Fetch the copy
      ansible.builtin.fetch:
        src: C:\\Windows\\Temp\\hello.txt
        dest: "{{{{ playbook_dir }}}}/fetched/hello.txt"
        flat: true
"""


def test_copy_stat_fetch_round_trip_is_idempotent(lab: Lab) -> None:
    first = lab.play("site", COPY_AND_STAT.format(content="hello winsim"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    results = Lab.results(first)
    assert results["Copy content"]["changed"] is True
    stat = results["Stat the copy"]["stat"]
    assert stat["exists"] is True
    assert stat["size"] == len("hello winsim")
    assert stat["checksum"] == hashlib.sha256(b"hello winsim").hexdigest()
    assert (lab.workdir / "fetched" / "hello.txt").read_bytes() == b"hello winsim"

    second = lab.play("site", COPY_AND_STAT.format(content="hello winsim"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert Lab.results(second)["Copy content"]["changed"] is False
    assert Lab.results(second)["Fetch the copy"]["changed"] is False


def test_check_mode_leaves_the_state_file_byte_identical(lab: Lab) -> None:
    applied = lab.play("site", COPY_AND_STAT.format(content="v1"))
    assert applied.returncode == 0, applied.stderr[-3000:]
    before = lab.state_file.read_bytes()
    checked = lab.play("site", COPY_AND_STAT.format(content="v2"), "--check", "--diff")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert Lab.results(checked)["Copy content"]["changed"] is True
    assert lab.state_file.read_bytes() == before


def test_check_mode_on_a_fresh_host_writes_no_state(lab: Lab) -> None:
    checked = lab.play("site", COPY_AND_STAT.format(content="v1").split("    - name: Fetch")[0], "--check")
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert not lab.state_file.exists()
    assert (lab.state_dir / "web1.stats.json").exists()


def test_stats_count_round_trips(lab: Lab) -> None:
    proc = lab.play("site", COPY_AND_STAT.format(content="count me"), run_id="counted")
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads((lab.state_dir / "web1.stats.json").read_text())
    run = next(r for r in stats["runs"] if r["run"] == "counted")
    # win_copy: query + single; fetch: win_stat (remote checksum); plus the task's win_stat.
    assert run["modules"] == {"ansible.windows.win_copy": 2, "ansible.windows.win_stat": 2}
    assert run["put_file"] == 1
    assert run["fetch_file"] == 1
    assert run["internal"] == {"mkdtemp": 1, "cleanup": 1}
    assert run["round_trips"] == 8
    assert stats["total"]["round_trips"] == 8


def test_unsimulated_module_fails_loudly(lab: Lab) -> None:
    proc = lab.play("unknown", """\
        - name: Use a module winsim does not model
          hosts: all
          gather_facts: false
          tasks:
            - name: Ask who we are
              ansible.windows.win_whoami:
        """)
    assert proc.returncode == 2
    result = Lab.results(proc)["Ask who we are"]
    assert result["failed"] is True
    assert "winsim has no model for module ansible.windows.win_whoami" in result["msg"]


def test_shell_type_must_be_powershell(lab: Lab) -> None:
    (lab.workdir / "inventory.yml").write_text(INVENTORY.replace("ansible_shell_type: powershell",
                                                                 "ansible_shell_type: sh"))
    proc = lab.play("wrong_shell", """\
        - name: Use the wrong shell
          hosts: all
          gather_facts: false
          tasks:
            - name: Stat
              ansible.windows.win_stat:
                path: C:\\
        """)
    assert proc.returncode != 0
    assert "ansible_shell_type=powershell" in proc.stdout + proc.stderr
