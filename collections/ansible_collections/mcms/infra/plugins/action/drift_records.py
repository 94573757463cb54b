"""Action ``mcms.infra.drift_records``: publish a role's drift records.

Runs on the controller only (no module round trip, decision 20).  A role
passes what it wants and what its read-only modules already found, per
resource; the plugin compares them attribute by attribute and returns the
differences as ``mcms_drift`` records (the project's drift records
convention), which the ``mcms.infra.drift`` callback collects.  It never
reports ``changed``: the records are data, and a normal run keeps its
idempotence.  Secret attributes (named ``secret`` per resource, or named
like a password) are masked as ``********``.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mcms.infra.plugins.plugin_utils import _drift


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("resources", "records", "covers"))

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        resources = args.get("resources") or []
        records = args.get("records") or []
        covers = args.get("covers") or []
        for name, value in (("resources", resources), ("records", records), ("covers", covers)):
            if not isinstance(value, list):
                raise AnsibleActionFail(f"drift_records: {name} must be a list, got {type(value).__name__}")
        try:
            found, checked = _drift.compare(resources)
            found.extend(_drift.normalize_record(r) for r in records)
            for r in records:
                checked.append({"resource_type": str(r["resource_type"]), "resource": str(r["resource"])})
        except _drift.DriftError as exc:
            raise AnsibleActionFail(f"drift_records: {exc}") from exc
        result.update(changed=False, mcms_drift=found, mcms_drift_checked=checked,
                      mcms_drift_covers=[str(c) for c in covers],
                      msg=f"{len(found)} drifted attribute(s) in {len(checked)} resource(s)")
        return result
