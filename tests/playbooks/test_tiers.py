"""site.yml, the tier playbooks and playbooks/vars/tiers.yml tell the same story.

The preflight validates each host for the roles tiers.yml assigns to its
group; the tier playbooks must therefore target the same group with the same
roles in the same order, and site.yml must import the preflight first and then
the tiers in dependency order (identity -> data -> web -> app).
"""

from __future__ import annotations

import pytest
import yaml

from .conftest import REPO

TIERS = yaml.safe_load((REPO / "playbooks" / "vars" / "tiers.yml").read_text(encoding="utf-8"))["mcms_tiers"]
SITE = yaml.safe_load((REPO / "site.yml").read_text(encoding="utf-8"))
ORDER = ["identity", "data", "web", "app"]


def _roles(play: dict) -> list[str]:
    return [r if isinstance(r, str) else r["role"] for r in play.get("roles", [])]


@pytest.mark.parametrize("tier", TIERS, ids=[t["name"] for t in TIERS])
def test_tier_playbook_matches_tiers_file(tier: dict) -> None:
    plays = yaml.safe_load((REPO / "playbooks" / f"{tier['name']}.yml").read_text(encoding="utf-8"))
    role_plays = [p for p in plays if p.get("roles")]
    assert [p["hosts"] for p in role_plays] == [tier["hosts"]] * len(role_plays)
    assert [r for p in role_plays for r in _roles(p)] == tier["roles"]


def test_site_imports_preflight_first_then_tiers_in_dependency_order() -> None:
    imports = [entry["ansible.builtin.import_playbook"] for entry in SITE]
    assert imports[0] == "playbooks/preflight.yml"
    tiers = [name.removeprefix("playbooks/").removesuffix(".yml") for name in imports[1:]]
    assert tiers == [t["name"] for t in TIERS]
    assert tiers == sorted(tiers, key=ORDER.index)


def test_preflight_play_runs_always_and_touches_no_host() -> None:
    play = yaml.safe_load((REPO / "playbooks" / "preflight.yml").read_text(encoding="utf-8"))[0]
    assert play["gather_facts"] is False
    assert "always" in play["tags"]
    assert play["any_errors_fatal"] is True
    task = play["tasks"][0]
    assert task["run_once"] is True
    assert task["delegate_to"] == "localhost"


@pytest.mark.parametrize("tier", TIERS, ids=[t["name"] for t in TIERS])
def test_tier_playbook_runs_the_preflight_first(tier: dict) -> None:
    plays = yaml.safe_load((REPO / "playbooks" / f"{tier['name']}.yml").read_text(encoding="utf-8"))
    assert plays[0].get("ansible.builtin.import_playbook") == "preflight.yml"


def test_preflight_runs_once_per_run() -> None:
    tasks = yaml.safe_load((REPO / "playbooks" / "preflight.yml").read_text(encoding="utf-8"))[0]["tasks"]
    assert tasks[0]["when"] == "not (mcms_preflight_passed | default(false) | bool)"
    assert tasks[-1]["ansible.builtin.set_fact"] == {"mcms_preflight_passed": True}
    assert tasks[-1]["run_once"] is True
