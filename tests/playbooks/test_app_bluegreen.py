"""Blue/green delivery (issue 10 item 7, decision 22) against the simulated lab, in order.

The golden lab serves 1.4.0 in place on both web nodes; this module switches web01 to
``app_deploy_strategy: bluegreen`` (host vars) and works on web01 alone: the first blue/green
converge (URL Rewrite + ARR installed offline, two slot sites, the front proxying to the blue
slot), a deploy of 1.5.0 to the idle green slot and the switch, the rollback playbook flipping
the front back, an unhealthy release that never gets the front, a stopped slot the front never
answers from, check mode, the idle re-run within budget and the drift check of a flipped front.
What the front answers is asked through the front itself (``win_uri`` to https://127.0.0.1
with the site's host name, on the node), so URL Rewrite, ARR and the slot all take part.
"""

from __future__ import annotations

import json
import pathlib
import typing as t

import pytest

from . import drift
from .lab import Lab, clone_golden, probe_result

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

HOST = "web01"
FRONT_HOST = "mcms.sim.mcms.internal"
LIMIT = ("--limit", HOST)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = clone_golden(tmp_path_factory, "app-bluegreen")
    lab.write_host_vars(HOST, "bluegreen", {"app_deploy_strategy": "bluegreen"})
    return lab


def front(lab: Lab, path: str = "/api/health") -> dict[str, t.Any]:
    """What the front (443) answers on the node: status and, for /health, the JSON."""
    run = lab.adhoc(HOST, "ansible.windows.win_uri", {
        "url": f"https://127.0.0.1{path}", "headers": {"Host": FRONT_HOST}, "return_content": True,
        "status_code": [200, 401, 404, 500, 502, 503]})
    result = probe_result(run)
    assert result.get("status_code"), run.output
    return result


def front_version(lab: Lab) -> str | None:
    result = front(lab)
    return (result.get("json") or {}).get("version") if result["status_code"] == 200 else None


def slot_path(lab: Lab, slot: str) -> str | None:
    site = lab.state(HOST)["iis"]["sites"].get(f"MCMS-{slot}")
    return site["applications"]["/api"]["physical_path"] if site else None


def releases(lab: Lab) -> list[str]:
    prefix = "c:\\mcms\\releases\\"
    return sorted({k[len(prefix):].split("\\")[0] for k in lab.state(HOST)["files"] if k.startswith(prefix)})


def logbook(lab: Lab) -> list[dict[str, t.Any]]:
    path = lab.root / "logs" / "deploy" / "sim.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_first_bluegreen_converge_puts_the_front_on_the_blue_slot(lab: Lab) -> None:
    run = lab.playbook("playbooks/app.yml", *LIMIT, label="bg-converge")
    assert run.returncode == 0, run.output
    assert slot_path(lab, "blue") == "C:\\MCMS\\releases\\1.4.0"
    sites = lab.state(HOST)["iis"]["sites"]
    assert [b["port"] for b in sites["MCMS-blue"]["bindings"]] == [8081]
    assert [b["port"] for b in sites["MCMS-green"]["bindings"]] == [8082]
    assert front_version(lab) == "1.4.0"
    last = logbook(lab)[-1]
    assert (last["host"], last["action"], last["to_version"], last["strategy"], last["result"]) == \
        (HOST, "deploy", "1.4.0", "bluegreen", "success")


def test_idle_rerun_changes_nothing_within_budget(lab: Lab) -> None:
    run = lab.playbook("playbooks/app.yml", *LIMIT, label="bg-noop")
    assert run.returncode == 0, run.output
    assert not run.changed(), run.changed()
    stats = lab.stats(HOST)
    assert stats["module_runs"] <= 5, stats


def test_check_mode_deploy_writes_nothing(lab: Lab) -> None:
    before = lab.state_digests()
    book = logbook(lab)
    run = lab.playbook("playbooks/deploy.yml", "--check", "-e", "app_version=1.5.0", *LIMIT, label="bg-check")
    assert run.returncode == 0, run.output
    assert run.changed(HOST), "check mode must report the deploy"
    assert lab.state_digests() == before
    assert logbook(lab) == book


def test_deploy_goes_to_the_idle_slot_and_switches_the_front(lab: Lab) -> None:
    run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", *LIMIT, label="bg-deploy")
    assert run.returncode == 0, run.output
    assert lab.stats(HOST)["module_runs"] <= 25, lab.stats(HOST)
    assert slot_path(lab, "green") == "C:\\MCMS\\releases\\1.5.0"
    assert slot_path(lab, "blue") == "C:\\MCMS\\releases\\1.4.0"  # the old slot stays warm
    state = lab.state(HOST)
    assert state["iis"]["sites"]["MCMS-blue"]["state"] == "Started"
    assert state["iis"]["app_pools"]["MCMS-blue"]["state"] == "Started"
    assert front_version(lab) == "1.5.0"
    last = logbook(lab)[-1]
    assert (last["from_version"], last["to_version"], last["strategy"]) == ("1.4.0", "1.5.0", "bluegreen")


def test_rollback_flips_the_front_back_instantly(lab: Lab) -> None:
    run = lab.playbook("playbooks/rollback.yml", *LIMIT, label="bg-rollback")
    assert run.returncode == 0, run.output
    assert front_version(lab) == "1.4.0"
    assert releases(lab) == ["1.4.0", "1.5.0"]  # nothing deleted
    assert slot_path(lab, "green") == "C:\\MCMS\\releases\\1.5.0"  # green stays as it was
    actions = {r["action"] for r in run.tasks(HOST)}
    assert not actions & {"community.windows.win_unzip", "ansible.windows.win_copy", "microsoft.iis.web_application"}
    last = logbook(lab)[-1]
    assert (last["action"], last["from_version"], last["to_version"], last["strategy"]) == \
        ("rollback", "1.5.0", "1.4.0", "bluegreen")


def test_unhealthy_release_never_gets_the_front(lab: Lab) -> None:
    lab.winsim("fault", HOST, "add", "unhealthy_release", "1.5.0")
    try:
        run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", *LIMIT, label="bg-unhealthy")
        assert run.returncode != 0, run.output
        msg = run.failed(HOST)[-1].get("msg") or ""
        assert "deploy of 1.5.0 on web01 FAILED in the green slot before the switch" in msg, msg
        assert "1.4.0 is still serving" in msg, msg
        assert not [r for r in run.tasks(HOST) if "rewrite rule" in r["task"] and r["changed"]]
        assert front_version(lab) == "1.4.0"
    finally:
        lab.winsim("fault", HOST, "clear")
    last = logbook(lab)[-1]
    assert (last["action"], last["to_version"], last["result"], last["strategy"]) == \
        ("deploy", "1.5.0", "failed", "bluegreen")


def test_front_never_answers_from_a_stopped_slot(lab: Lab) -> None:
    lab.winsim("drift", HOST, "stop-site", "MCMS-green")
    run = lab.playbook("playbooks/rollback.yml", *LIMIT, label="bg-rollback-to-stopped")
    assert run.returncode != 0, run.output
    assert "The front was not moved: 1.4.0 still serves" in (run.failed(HOST)[-1].get("msg") or ""), run.output
    assert front_version(lab) == "1.4.0"
    # Forced onto the stopped slot by hand, the front answers ARR's 502, never a version.
    lab.winsim("drift", HOST, "flip-front", "MCMS", "mcms-bluegreen", "8082")
    assert front(lab)["status_code"] == 502
    lab.winsim("drift", HOST, "flip-front", "MCMS", "mcms-bluegreen", "8081")
    lab.winsim("drift", HOST, "start-site", "MCMS-green")
    assert front_version(lab) == "1.4.0"


def test_drift_check_reports_a_flipped_front(lab: Lab, tmp_path: pathlib.Path) -> None:
    lab.winsim("drift", HOST, "flip-front", "MCMS", "mcms-bluegreen", "8082")
    result = drift.drift_check(lab, tmp_path / "reports", "--limit", HOST, "--tags", "app")
    found = drift.find(result.report, host=HOST, resource="MCMS/mcms-bluegreen", attribute="active_slot")
    assert found, drift.summary(result.report)
    assert (found[0]["wanted"], found[0]["found"]) == ("blue", "green"), found
    lab.winsim("drift", HOST, "flip-front", "MCMS", "mcms-bluegreen", "8081")



def test_slot_port_clashing_with_a_binding_fails_the_preflight(lab: Lab) -> None:
    before = lab.state_digests()
    run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", "-e", "app_bluegreen_green_port=443",
                       *LIMIT, label="bg-port-clash")
    assert run.returncode != 0
    assert "app_bluegreen_green_port: port 443 clashes with a binding of iis_group_sites[0] (MCMS)" in run.output, \
        run.output
    assert "nothing was run on any host" in run.output, run.output
    assert lab.state_digests() == before
