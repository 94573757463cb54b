"""Tests of the ``mcms.infra.tls_pfx_put`` action."""

from __future__ import annotations

import base64
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.mcms.infra.plugins.action.tls_pfx_put import ActionModule

DATA = bytes(range(256)) * 4


def make(check_mode: bool = False, **args: object) -> tuple[ActionModule, MagicMock]:
    task = MagicMock()
    task.args = {"content_b64": base64.b64encode(DATA).decode(), "dest": r"C:\Windows\Temp\site.pfx", **args}
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    copied_task = MagicMock()
    copied_task.args = {}
    task.copy.return_value = copied_task
    loader_obj = MagicMock()
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=loader_obj)
    # ansible-core >= 2.20 ignores the argument and always uses the real plugin loaders.
    action._shared_loader_obj = loader_obj
    return action, loader_obj


def test_check_mode_writes_nothing_and_reports_change() -> None:
    action, loader_obj = make(check_mode=True)
    result = action.run(task_vars={})
    assert result["changed"] is True
    loader_obj.action_loader.get.assert_not_called()


def test_copies_the_decoded_bytes_with_win_copy_and_cleans_up() -> None:
    action, loader_obj = make()
    seen: dict[str, object] = {}

    def fake_run(task_vars: dict) -> dict:
        src = action._task.copy.return_value.args["src"]
        with open(src, "rb") as handle:
            seen["data"] = handle.read()
        seen["src"] = src
        seen["mode"] = os.stat(src).st_mode & 0o777
        return {"changed": True, "checksum": "abc", "dest": r"C:\Windows\Temp\site.pfx", "src": src}

    loader_obj.action_loader.get.return_value.run.side_effect = fake_run
    result = action.run(task_vars={})
    assert loader_obj.action_loader.get.call_args.args[0] == "ansible.windows.win_copy"
    assert seen["data"] == DATA
    assert seen["mode"] == 0o600
    assert not os.path.exists(str(seen["src"]))
    assert result["changed"] is True
    assert "src" not in result, "the controller temp path is not echoed"


def test_failure_of_the_copy_is_returned() -> None:
    action, loader_obj = make()
    loader_obj.action_loader.get.return_value.run.return_value = {"failed": True, "msg": "disk full"}
    result = action.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "disk full"


@pytest.mark.parametrize(("args", "message"), [({"content_b64": "%%%"}, "not valid base64"),
                                              ({"dest": ""}, "missing required arguments: dest")])
def test_bad_arguments(args: dict, message: str) -> None:
    action, _ = make(**args)
    with pytest.raises(AnsibleActionFail, match=message):
        action.run(task_vars={})
