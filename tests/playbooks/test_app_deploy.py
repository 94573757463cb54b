"""App delivery against the simulated lab (issue 10): one converged lab per module, in order.

site.yml (the golden lab) deployed the pinned 1.4.0 to both web nodes; then a
no-op run, an upgrade to 1.5.0, the rollback playbook, an injected unhealthy
1.5.0 that rolls back automatically and stops the rollout at the first node,
a vaulted secret that reaches the host and nowhere else, and bad input that
fails before any host is touched. What /health answers is what the IIS worker
has loaded (winsim's runtime document), read per node.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from .lab import Lab, clone_golden

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

WEB = ("web01", "web02")
SECRET = "S3cr3t-Db-Pa55-app-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return clone_golden(tmp_path_factory, "app-deploy")


def serving(lab: Lab, host: str) -> str | None:
    """The version the node's MCMS pool has loaded (what /health reports)."""
    doc = json.loads((lab.state_dir / f"{host}.d" / "iis_workers.json").read_text(encoding="utf-8"))
    app = doc.get("MCMS", {}).get("apps", {}).get("mcms|/api")
    return app["version"] if app else None


def app_path(lab: Lab, host: str) -> str:
    return lab.state(host)["iis"]["sites"]["MCMS"]["applications"]["/api"]["physical_path"]


def releases(lab: Lab, host: str) -> list[str]:
    files = lab.state(host)["files"]
    prefix = "c:\\mcms\\releases\\"
    return sorted({k[len(prefix):].split("\\")[0] for k in files if k.startswith(prefix)})


def logbook(lab: Lab) -> list[dict[str, t.Any]]:
    path = lab.root / "logs" / "deploy" / "sim.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_site_deploys_the_pinned_release_to_both_web_nodes(lab: Lab) -> None:
    for host in WEB:
        assert serving(lab, host) == "1.4.0"
        assert app_path(lab, host) == "C:\\MCMS\\releases\\1.4.0"
        assert lab.state(host)["services"]["mcms.worker"]["state"] == "started"
    records = [(r["host"], r["action"], r["to_version"], r["result"]) for r in logbook(lab)]
    assert records == [("web01", "deploy", "1.4.0", "success"), ("web02", "deploy", "1.4.0", "success")]


def test_rerun_changes_nothing_within_the_round_trip_budget(lab: Lab) -> None:
    run = lab.playbook("playbooks/app.yml", label="app-noop")
    assert run.returncode == 0, run.output
    assert not run.changed(), run.changed()
    for host in WEB:
        assert lab.stats(host)["module_runs"] <= 4, lab.stats(host)
    assert len(logbook(lab)) == 2  # a no-op is not a deploy


def test_check_mode_deploy_writes_nothing(lab: Lab) -> None:
    before = lab.state_digests()
    book = logbook(lab)
    run = lab.playbook("playbooks/deploy.yml", "--check", "-e", "app_version=1.5.0", label="app-check")
    assert run.returncode == 0, run.output
    assert lab.state_digests() == before
    assert logbook(lab) == book


def test_upgrade_switches_both_nodes_and_keeps_the_old_release(lab: Lab) -> None:
    run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", label="app-upgrade")
    assert run.returncode == 0, run.output
    for host in WEB:
        assert serving(lab, host) == "1.5.0"
        assert releases(lab, host) == ["1.4.0", "1.5.0"]
        assert lab.stats(host)["module_runs"] <= 25, lab.stats(host)
        assert "releases\\1.5.0\\worker" in lab.state(host)["services"]["mcms.worker"]["path"].lower()
    assert [(r["from_version"], r["to_version"]) for r in logbook(lab)[-2:]] == [("1.4.0", "1.5.0")] * 2


def test_rollback_playbook_returns_to_the_previous_release(lab: Lab) -> None:
    run = lab.playbook("playbooks/rollback.yml", label="app-rollback")
    assert run.returncode == 0, run.output
    for host in WEB:
        assert serving(lab, host) == "1.4.0"
        assert releases(lab, host) == ["1.4.0", "1.5.0"]  # nothing deleted
    assert [(r["action"], r["from_version"], r["to_version"]) for r in logbook(lab)[-2:]] == \
        [("rollback", "1.5.0", "1.4.0")] * 2


def test_unhealthy_release_rolls_back_and_stops_the_rollout(lab: Lab) -> None:
    lab.winsim("fault", "web01", "add", "unhealthy_release", "1.5.0")
    run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", label="app-unhealthy")
    lab.winsim("fault", "web01", "clear")

    assert run.returncode != 0, run.output
    failed = run.failed("web01")
    assert failed, run.output
    msg = failed[-1].get("msg") or ""
    assert "deploy of 1.5.0 on web01 FAILED" in msg, msg
    assert "/health" in msg, msg
    assert "1.4.0 is serving again" in msg, msg
    assert "web02 left on the old version" in msg, msg
    assert serving(lab, "web01") == "1.4.0"
    assert app_path(lab, "web01") == "C:\\MCMS\\releases\\1.4.0"
    assert serving(lab, "web02") == "1.4.0"  # never reached
    assert not run.tasks("web02")
    last = logbook(lab)[-1]
    assert (last["host"], last["action"], last["to_version"], last["result"]) == \
        ("web01", "automatic-rollback", "1.4.0", "success")


def test_dropped_connection_mid_switch_then_rerun_converges(lab: Lab) -> None:
    # web01 serves 1.4.0; the connection drops in the middle of the switch to 1.5.0.
    lab.winsim("fault", "web01", "add", "drop_connection", "--at", "9")
    first = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", "--limit", "web01", label="app-drop")
    lab.winsim("fault", "web01", "clear")
    assert first.returncode != 0, first.output
    assert "UNREACHABLE" in first.output, first.output

    rerun = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", "--limit", "web01", label="app-rerun")
    assert rerun.returncode == 0, rerun.output
    assert serving(lab, "web01") == "1.5.0"
    assert "releases\\1.5.0\\worker" in lab.state("web01")["services"]["mcms.worker"]["path"].lower()
    assert "c:\\mcms\\releases\\1.5.0\\app_offline.htm" not in lab.state("web01")["files"]
    last = logbook(lab)[-1]
    assert (last["host"], last["action"], last["to_version"], last["result"]) == ("web01", "deploy", "1.5.0", "success")
    if last["from_version"] == "1.5.0":  # the first run had switched the application before the drop
        assert "resumed" in (last["message"] or "")
    # The interrupted run may have left the old release marked offline: a rollback to it still works.
    back = lab.playbook("playbooks/rollback.yml", "--limit", "web01", label="app-rollback-after-drop")
    assert back.returncode == 0, back.output
    assert serving(lab, "web01") == "1.4.0"


def test_secret_reaches_the_host_and_nothing_else(lab: Lab) -> None:
    lab.write_vaulted_host_var("web01", "vault_app_db_password", SECRET)
    lab.write_host_vars("web01", "app_secrets", {"app_secrets": [
        {"path": "ConnectionStrings:Mcms", "value": "{{ vault_app_db_password }}"}]})
    run = lab.playbook("playbooks/app.yml", "-vvv", "--diff", label="app-secret")
    assert run.returncode == 0, run.output
    settings = lab.state("web01")["files"].get("c:\\mcms\\releases\\1.4.0\\appsettings.development.json")
    assert settings is not None
    assert SECRET not in run.output
    assert SECRET not in (lab.root / "logs" / "deploy" / "sim.jsonl").read_text(encoding="utf-8")
    for trace in lab.state_dir.glob("*.trace.jsonl"):
        assert SECRET not in trace.read_text(encoding="utf-8"), trace


@pytest.mark.parametrize(("extra", "expected"), [
    (["-e", "app_version=9.9.9"], "version 9.9.9 is not in the artifact source"),
    (["-e", "app_keep_releases=0"], "app_keep_releases"),
    (["-e", '{"app_artifact_checksums": {"1.4.0": "' + "0" * 64 + '"}}'], "checksum mismatch"),
    (["-e", '{"app_settings": {"Db": {"Password": "plain"}}}'], "looks like a secret"),
])
def test_bad_input_fails_before_any_host_is_touched(lab: Lab, extra: list[str], expected: str) -> None:
    before = lab.state_digests()
    run = lab.playbook("playbooks/app.yml", *extra, label="app-bad-input")
    assert run.returncode != 0
    assert expected in run.output, run.output
    assert "nothing was run on any host" in run.output, run.output
    assert lab.state_digests() == before

