"""Bad input to the ``sql_backup`` role fails before any host is touched, naming the variable.

Two ways in, one rule set (``plugin_utils/_sql_backup.py``):

* the preflight of ``site.yml`` on a private copy of ``inventories/sim``
  with one defect: the run stops before the data tier (the first tier), and
  no simulated host has a state file;
* the role alone against a fresh winsim host: its ``validate.yml`` fails on
  the controller, no module runs on the host.

The real inventories' placeholders are reported by the preflight too.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from .bad_input import run_role
from .conftest import run_playbook

pytestmark = pytest.mark.playbook

CASES = [
    pytest.param({"sql_backup_diff_interval_hours": 5},
                 ["sql_backup_diff_interval_hours: is 5, which does not divide the day"], id="diff-interval"),
    pytest.param({"sql_backup_log_interval_minutes": 7},
                 ["sql_backup_log_interval_minutes: is 7, which does not divide the day"], id="log-interval"),
    pytest.param({"sql_backup_full_cleanup_hours": 12},
                 ["sql_backup_full_cleanup_hours: is 12 hours, shorter than the full backup interval"],
                 id="retention-shorter-than-full-interval"),
    pytest.param({"sql_backup_dir": "SQLBackup"}, ["sql_backup_dir: is 'SQLBackup', not an absolute Windows path"],
                 id="relative-backup-dir"),
    pytest.param({"sql_backup_databases": [{"name": "MCMS"}, {"name": "MCMS"}]},
                 ["sql_backup_databases: lists database 'MCMS' twice"], id="database-twice"),
    pytest.param({"sql_backup_diff_interval_hours": "often"},
                 ["sql_backup_diff_interval_hours", "int"], id="wrong-type"),
]


def _state_files(root: pathlib.Path) -> list[pathlib.Path]:
    state = root / ".winsim"
    return sorted(p for p in state.rglob("*") if p.is_file()) if state.exists() else []


@pytest.mark.parametrize(("extra", "expected"), CASES)
def test_preflight_stops_site_before_the_first_tier(sim_copy: pathlib.Path, extra: dict,
                                                     expected: list[str]) -> None:
    # host_vars win over the group_vars of inventories/sim
    host_vars = sim_copy / "host_vars" / "sql01" / "bad.yml"
    host_vars.parent.mkdir(parents=True, exist_ok=True)
    host_vars.write_text("---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in extra.items()), encoding="utf-8")
    result = run_playbook("site.yml", "-i", str(sim_copy))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Preflight found" in output, output
    for words in expected:
        assert words in output, f"{words!r} missing from:\n{output}"
    assert "PLAY [Data tier" not in output
    assert _state_files(sim_copy.parent.parent) == [], "a simulated host was contacted"


@pytest.mark.parametrize(("extra", "expected"), CASES[:5])
def test_role_alone_fails_on_the_controller(tmp_path: pathlib.Path, extra: dict, expected: list[str]) -> None:
    variables = {"sql_backup_solution_file": "D:\\Install\\ola.zip", "sql_backup_databases": [{"name": "MCMS"}]}
    variables.update(extra)
    run = run_role(tmp_path, "sql_backup", variables, host="sql01")
    output = run.output
    assert run.returncode != 0, output
    assert "sql_backup role: invalid input, nothing was changed on sql01" in output, output
    for words in expected:
        assert words in output, f"{words!r} not in output:\n{output}"
    assert run.touched() == [], run.touched()


@pytest.mark.parametrize("env", ["lab", "stage", "prod"])
def test_real_inventories_list_the_data_tier_placeholders(env: str) -> None:
    result = run_playbook("site.yml", "-i", f"inventories/{env}", "--tags", "preflight-only-no-such-tag")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "sql_backup_solution_file: required for tier data and empty" in output, output
    assert "sql_backup_databases: is empty: nothing would be backed up" in output, output
