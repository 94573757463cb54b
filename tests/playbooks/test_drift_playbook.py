"""playbooks/drift_check.yml checks what site.yml converges, in check mode, whatever the command line says."""

from __future__ import annotations

import pytest
import yaml

from .conftest import REPO

TIERS = yaml.safe_load((REPO / "playbooks" / "vars" / "tiers.yml").read_text(encoding="utf-8"))["mcms_tiers"]
PLAYS = yaml.safe_load((REPO / "playbooks" / "drift_check.yml").read_text(encoding="utf-8"))
ROLE_PLAYS = [p for p in PLAYS if "hosts" in p and p["hosts"] != "localhost"]


def _roles(play: dict) -> list[str]:
    found: list[str] = []

    def walk(tasks: list[dict]) -> None:
        for task in tasks:
            if "ansible.builtin.import_role" in task:
                found.append(task["ansible.builtin.import_role"]["name"])
            walk(task.get("block", []))

    walk(play.get("tasks", []))
    return found


def test_one_play_per_tier_with_the_same_hosts_and_roles_in_order() -> None:
    assert [(p["hosts"], _roles(p)) for p in ROLE_PLAYS] == [(t["hosts"], t["roles"]) for t in TIERS]


@pytest.mark.parametrize("play", PLAYS[:1] + ROLE_PLAYS, ids=lambda p: p["name"])
def test_every_play_forces_check_mode_and_diff(play: dict) -> None:
    assert play["check_mode"] is True
    assert play["diff"] is True
    assert play["gather_facts"] is False


def test_the_first_play_refuses_a_run_without_check() -> None:
    first = PLAYS[0]
    assert first["hosts"] == "localhost"
    assert "always" in first["tags"]
    assert first["tasks"][0]["ansible.builtin.assert"]["that"] == ["ansible_check_mode | bool"]


def test_the_preflight_runs_before_any_tier() -> None:
    assert PLAYS[1] == {"name": "Preflight", "ansible.builtin.import_playbook": "preflight.yml"}


def test_a_failing_tier_is_rescued_so_later_tiers_still_run() -> None:
    for play in ROLE_PLAYS:
        assert all("rescue" in task for task in play["tasks"]), play["name"]
