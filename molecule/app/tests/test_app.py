"""Verify the app scenario's host through read-only modules (testinfra's ``host.ansible`` runs them in
check mode): the sample release serves, the Worker runs from it, and the layout is the agreed one."""

from __future__ import annotations

import pathlib
import typing as t

import yaml
from mcms_verify import role_defaults, run

DEFAULTS = role_defaults("app")
SCENARIO = yaml.safe_load((pathlib.Path(__file__).resolve().parents[1] / "vars.yml").read_text(encoding="utf-8"))
VERSION = SCENARIO["app_version"]


def _release(host: t.Any) -> dict[str, t.Any]:
    return run(host, "mcms.infra.win_app_release", {
        "app_root": DEFAULTS["app_root"], "site": DEFAULTS["app_iis_site"],
        "application": DEFAULTS["app_iis_application"], "version": VERSION,
        "shared_dirs": [f"{DEFAULTS['app_root']}\\shared\\{d}" for d in DEFAULTS["app_shared_dirs"]],
        "worker_service": DEFAULTS["app_worker_service_name"]})


def test_application_points_at_the_release_and_layout_is_complete(host: t.Any) -> None:
    release = _release(host)
    assert release["current_path"] == f"{DEFAULTS['app_root']}\\releases\\{VERSION}"
    assert release["current_version"] == VERSION
    assert release["shared_missing"] == []


def test_worker_runs_from_the_release(host: t.Any) -> None:
    worker = _release(host)["worker"]
    assert worker["state"] == "running"
    assert f"\\releases\\{VERSION}\\" in worker["path"]


def test_health_reports_the_release_from_the_node(host: t.Any) -> None:
    result = run(host, "ansible.windows.win_uri", {
        "url": f"http://127.0.0.1/{DEFAULTS['app_iis_application']}/health",
        "headers": {"Host": SCENARIO["app_scenario_hostname"]}, "return_content": True})
    assert result["status_code"] == 200
    assert result["json"]["version"] == VERSION
