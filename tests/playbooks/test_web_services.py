"""A lost handler is not a silent outage: every run re-derives that IIS runs (style §11c).

The ``iis`` role restarts WAS and starts W3SVC from a handler after a Hosting
Bundle change. When that run fails (W3SVC will not start), the handler is
lost, and before this rule every later run reported ok with W3SVC stopped.
Now each run asks the host: W3SVC (and WAS, which it depends on) is started
by a normal task when it is not running, within the no-op round-trip budget.
"""

from __future__ import annotations

import pytest

from .lab import Lab

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

HOST = "web01"
SERVICE_TASK = "Make sure the World Wide Web Publishing Service (W3SVC) and WAS run"


def _running(lab: Lab, host: str) -> dict[str, str]:
    services = lab.state(host)["services"]
    return {name: services[name.lower()]["state"] for name in ("W3SVC", "WAS")}


def test_stopped_iis_services_are_started_by_the_next_run(lab: Lab) -> None:
    # As after a WAS restart whose W3SVC start failed: both stopped.
    lab.winsim("drift", HOST, "stop-service", "WAS")
    assert _running(lab, HOST) == {"W3SVC": "stopped", "WAS": "stopped"}

    run = lab.playbook("playbooks/web.yml", label="services-stopped")

    assert run.returncode == 0, run.output
    assert (HOST, f"iis : configure | {SERVICE_TASK}") in run.changed(HOST), run.output
    assert _running(lab, HOST) == {"W3SVC": "started", "WAS": "started"}


def test_service_that_will_not_start_fails_every_run_naming_it(lab: Lab) -> None:
    lab.winsim("drift", HOST, "stop-service", "WAS")
    lab.winsim("fault", HOST, "add", "service_start", "W3SVC")

    for attempt in ("first", "second"):
        run = lab.playbook("playbooks/web.yml", label=f"w3svc-will-not-start-{attempt}")
        assert run.returncode != 0, f"{attempt} run hid a stopped W3SVC:\n{run.output}"
        failed = run.failed(HOST)
        assert [r["task"] for r in failed] == [f"iis : configure | {SERVICE_TASK}"], run.output
        assert "W3SVC" in (failed[0].get("msg") or ""), failed[0]

    lab.winsim("fault", HOST, "clear")
    run = lab.playbook("playbooks/web.yml", label="w3svc-repaired")
    assert run.returncode == 0, run.output
    assert _running(lab, HOST)["W3SVC"] == "started"
