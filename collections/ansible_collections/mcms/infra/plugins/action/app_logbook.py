"""Action ``mcms.infra.app_logbook``: append one deploy/rollback record to the controller logbook.

Runs on the controller only (no round trip to the host). Writes
``<dir>/<environment>.jsonl`` (one JSON object per line: UTC time, environment,
host, action, from/to version, strategy, result, duration, who ran it, message)
and drops lines older than ``retention_days``. In check mode it writes nothing
and reports the record it would have written. Only the known fields are
written (``_app.logbook_record``), so no variable, let alone a secret, can
slip into the file.

With ``notify_url`` (``app_notify_url``, an internal webhook) the same record
is POSTed as JSON after it is written (``notify_timeout`` seconds,
``notify_ca_path`` for https). A failed notification (timeout, refused,
non-2xx, TLS) is a warning, never a failure; check mode sends nothing.
``dir`` may be empty when only the notification is wanted (logbook disabled).
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mcms.infra.plugins.plugin_utils import _app


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dir", "environment", "action", "from_version", "to_version", "strategy", "result",
                             "started", "message", "retention_days", "notify_url", "notify_timeout",
                             "notify_ca_path", "write"))

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        write = args.get("write", True)
        write = write if isinstance(write, bool) else str(write).lower() in ("1", "true", "yes")
        for key in (("dir",) if write else ()) + ("environment", "action", "to_version", "result"):
            if args.get(key) in (None, ""):
                raise AnsibleActionFail(f"app_logbook: missing required argument: {key}")
        now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
        duration = None
        if args.get("started"):
            try:
                started = _dt.datetime.fromisoformat(str(args["started"]).replace("Z", "+00:00"))
                if started.tzinfo is None:
                    started = started.replace(tzinfo=_dt.UTC)
                duration = round((now - started).total_seconds(), 1)
            except ValueError:
                duration = None
        user = os.environ.get("MCMS_DEPLOY_USER") or getpass.getuser()
        try:
            record = _app.logbook_record(
                time=now.isoformat().replace("+00:00", "Z"), environment=args["environment"],
                host=(task_vars or {}).get("inventory_hostname"), action=args["action"],
                from_version=args.get("from_version") or None, to_version=args["to_version"],
                strategy=args.get("strategy") or "inplace", result=args["result"], duration_s=duration,
                user=user, message=args.get("message") or None)
            if self._task.check_mode:
                result.update(changed=False, record=record, msg="check mode: logbook not written, nothing sent")
                return result
            path = _app.logbook_append(str(args["dir"]), str(args["environment"]), record,
                                       int(args.get("retention_days") or 30), now) if write else None
        except (_app.AppError, OSError, ValueError) as exc:
            raise AnsibleActionFail(f"app_logbook: {exc}") from exc
        result.update(changed=False, record=record, path=path)
        url = args.get("notify_url")
        if url:
            try:
                timeout = float(args.get("notify_timeout") or 10)
            except (TypeError, ValueError):
                timeout = 10.0
            warning = _app.notify(str(url), record, timeout, args.get("notify_ca_path") or None)
            result["notified"] = warning is None
            if warning:
                result.setdefault("warnings", []).append(warning)
        return result
