"""Tests of the ``mcms.infra.tls_expiry_report`` action (controller-only)."""

from __future__ import annotations

import datetime as dt
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.mcms.infra.plugins.action.tls_expiry_report import ActionModule

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
A, B = "A" * 40, "B" * 40


def cert(thumb: str, days: float) -> dict:
    end = NOW + dt.timedelta(days=days)
    return {"thumbprint": thumb, "subject": "CN=mcms.lab.example", "valid_from": (NOW - dt.timedelta(days=300)
            ).timestamp(), "valid_to": end.timestamp(), "valid_to_iso8601": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


def site(thumb: str | None, name: str = "MCMS", protocol: str = "https") -> dict:
    return {"name": name, "bindings": [{"protocol": protocol, "ip": "*", "port": 443,
                                        "hostname": "mcms.lab.example", "certificate_hash": thumb}]}


def run(**args: object) -> dict:
    task = MagicMock()
    task.args = {"now": NOW.isoformat(), "warn_days": 21, "fail_days": 7, **args}
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "web01"})


def test_reports_days_left_for_each_binding() -> None:
    result = run(sites=[site(A)], certificates=[cert(A, 200)])
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["report"][0]["days_left"] == 200
    assert result["report"][0]["status"] == "ok"
    assert result["msg"] == [f"MCMS mcms.lab.example:443 -> {A}: 200 days left (ok)"]
    assert "warnings" not in result


def test_warns_below_warning_threshold() -> None:
    result = run(sites=[site(A)], certificates=[cert(A, 15)])
    assert not result.get("failed")
    assert any("web01: site MCMS" in w and A in w and "15 days" in w for w in result["warnings"])


@pytest.mark.parametrize(("days", "words"), [(7, "expires in 7 days"), (3, "expires in 3 days"),
                                             (-2, "expired 2 days ago")])
def test_fails_at_hard_threshold_naming_host_site_certificate(days: int, words: str) -> None:
    result = run(sites=[site(A)], certificates=[cert(A, days)])
    assert result["failed"] is True
    assert "web01" in result["msg"]
    assert "site MCMS" in result["msg"]
    assert A in result["msg"]
    assert words in result["msg"]


def test_fails_when_bound_certificate_is_missing_from_store() -> None:
    result = run(sites=[site(B)], certificates=[cert(A, 200)])
    assert result["failed"] is True
    assert f"{B}, which is not in the store" in result["msg"]


def test_ignores_http_bindings_and_reports_when_none() -> None:
    result = run(sites=[site(None, protocol="http")], certificates=[])
    assert result["report"] == []
    assert result["msg"] == ["no https binding on this host"]


def test_reboot_pending_is_reported_and_warned() -> None:
    result = run(sites=[site(A)], certificates=[cert(A, 200)], reboot_pending=True)
    assert result["reboot_pending"] is True
    assert any("REBOOT PENDING" in line for line in result["msg"])
    assert any("REBOOT PENDING" in w for w in result["warnings"])


def test_missing_argument_fails() -> None:
    task_args = {"sites": [], "certificates": [], "warn_days": 1, "fail_days": 0, "now": None}
    with pytest.raises(AnsibleActionFail, match="missing required argument: now"):
        run(**task_args)
