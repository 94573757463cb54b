"""Action ``mcms.infra.tls_expiry_report``: state each bound certificate's days left.

Runs on the controller only (no module round trip) from what the ``tls`` role
already read with ``ansible.windows.win_certificate_info`` and
``microsoft.iis.website_info``.  Every run prints one line per https binding
(site, host name, thumbprint, days left); certificates at or below
``warn_days`` raise Ansible warnings, and any at or below ``fail_days``, expired,
or missing from the store fail the task with host, site and certificate named.
A deferred SCHANNEL reboot is reported here too, so it cannot be missed.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mcms.infra.plugins.plugin_utils import _tls


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("sites", "certificates", "now", "warn_days", "fail_days", "reboot_pending"))

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        for key in ("sites", "certificates", "now", "warn_days", "fail_days"):
            if args.get(key) is None:
                raise AnsibleActionFail(f"tls_expiry_report: missing required argument: {key}")
        host = str((task_vars or {}).get("inventory_hostname", "?"))
        try:
            report = _tls.expiry_report(host, list(args["sites"]), list(args["certificates"]), args["now"],
                                        warn_days=int(args["warn_days"]), fail_days=int(args["fail_days"]))
        except (_tls.TlsError, ValueError, TypeError) as exc:
            raise AnsibleActionFail(f"tls_expiry_report: {exc}") from exc
        lines = [f"{row['site']} {row['hostname'] or '*'}:{row['port']} -> {row['thumbprint']}: "
                 + (f"{row['days_left']} days left ({row['status']})" if row["days_left"] is not None
                    else "certificate missing from the store")
                 for row in report["rows"]]
        if not lines:
            lines = ["no https binding on this host"]
        reboot_pending = bool(args.get("reboot_pending"))
        if reboot_pending:
            msg = (f"{host}: REBOOT PENDING: SCHANNEL settings changed and tls_reboot_allowed is false; "
                   "they take effect at the next reboot")
            lines.append(msg)
            result.setdefault("warnings", []).append(msg)
        result.update(changed=False, report=report["rows"], reboot_pending=reboot_pending, msg=lines)
        if report["warnings"]:
            result.setdefault("warnings", []).extend(report["warnings"])
        if report["failures"]:
            result["failed"] = True
            result["msg"] = "; ".join(report["failures"])
        return result
