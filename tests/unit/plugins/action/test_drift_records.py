"""Tests of the ``mcms.infra.drift_records`` action (controller-only, never changed)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.mcms.infra.plugins.action.drift_records import ActionModule


def run(**args: object) -> dict:
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = True
    task.diff = True
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "web01"})


def test_publishes_records_and_never_reports_a_change() -> None:
    result = run(resources=[{"resource_type": "iis_site", "resource": "MCMS", "wanted": {"state": "Started"},
                             "found": {"state": "Stopped"}}],
                 records=[{"resource_type": "sql_agent_job", "resource": "J", "attribute": "present", "wanted": True,
                           "found": False}], covers=["configure | x"])
    assert result["changed"] is False
    assert [(r["resource"], r["attribute"]) for r in result["mcms_drift"]] == [("MCMS", "state"), ("J", "present")]
    assert result["mcms_drift_checked"] == [{"resource_type": "iis_site", "resource": "MCMS"},
                                            {"resource_type": "sql_agent_job", "resource": "J"}]
    assert result["mcms_drift_covers"] == ["configure | x"]


def test_no_drift_when_found_matches() -> None:
    result = run(resources=[{"resource_type": "t", "resource": "r", "wanted": {"a": 1}, "found": {"a": 1}}])
    assert result["mcms_drift"] == []


@pytest.mark.parametrize(("args", "match"), [
    ({"resources": "x"}, "resources must be a list"),
    ({"resources": [{"resource": "r"}]}, "resource_type"),
    ({"records": [{"resource_type": "t", "resource": "r"}]}, "attribute"),
])
def test_bad_input_fails_clearly(args: dict, match: str) -> None:
    with pytest.raises(AnsibleActionFail, match=match):
        run(**args)
