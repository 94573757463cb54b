"""Action ``mcms.infra.tls_pfx_put``: put a vaulted, base64-encoded PFX on a Windows host.

The ``tls`` role keeps PFX files in Ansible Vault as base64 text.  Windows
modules import a PFX from a file on the host, and no upstream module writes
binary content given inline, so this action decodes the PFX into a private
temporary directory on the controller (mode 0700, removed before returning,
exactly what ``win_copy``'s own ``content`` option does with text) and hands
it to ``ansible.windows.win_copy``.  The PFX never appears in a result or a
log: the task must set ``no_log: true``; the action also drops the copy
result's keys that could echo a path or content.

In check mode nothing is written anywhere, not even on the controller: the
action reports ``changed`` (the file would be copied) without contacting the
host.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import tempfile
import typing as t

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(("content_b64", "dest"))

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        missing = [k for k in ("content_b64", "dest") if not args.get(k)]
        if missing:
            raise AnsibleActionFail(f"tls_pfx_put: missing required arguments: {', '.join(missing)}")
        try:
            data = base64.b64decode("".join(str(args["content_b64"]).split()), validate=True)
        except (binascii.Error, ValueError):
            raise AnsibleActionFail("tls_pfx_put: content_b64 is not valid base64") from None
        dest = str(args["dest"])
        if self._task.check_mode:
            result.update(changed=True, dest=dest, msg="check mode: the PFX would be copied")
            return result

        local_dir = tempfile.mkdtemp(prefix="mcms-tls-", dir=C.DEFAULT_LOCAL_TMP)
        try:
            os.chmod(local_dir, 0o700)
            local_file = os.path.join(local_dir, "certificate.pfx")
            fd = os.open(local_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            new_task = self._task.copy()
            new_task.args.clear()
            new_task.args.update({"src": local_file, "dest": dest})
            copy_action = self._shared_loader_obj.action_loader.get(
                "ansible.windows.win_copy", task=new_task, connection=self._connection,
                play_context=self._play_context, loader=self._loader, templar=self._templar,
                shared_loader_obj=self._shared_loader_obj)
            copied = copy_action.run(task_vars=task_vars)
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
        for key in ("changed", "failed", "msg", "checksum", "size", "dest"):
            if key in copied:
                result[key] = copied[key]
        if copied.get("failed") and "msg" not in result:
            result["msg"] = "tls_pfx_put: copying the PFX to the host failed"
        return result
