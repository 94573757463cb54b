# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``mcms.infra.preflight``: check every host in play before any host is touched.

Controller-side only: the action reads the inventory (raw and templated host
variables), the tiers file and the roles' ``meta/argument_specs.yml``, and
never opens a connection. Documentation: ``plugins/modules/preflight.yml``;
the checks themselves: ``plugin_utils/_preflight.py``.
"""

from __future__ import annotations

import typing as t

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.mcms.infra.plugins.plugin_utils import _preflight as pf


class ActionModule(ActionBase):
    """Validate role input, secrets and connection settings of all hosts in play at once."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset({"tiers", "roles_path", "hosts"})

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self._task.args
        try:
            tiers = pf.parse_tiers(args.get("tiers"))
            roles_path = args.get("roles_path") or list(C.DEFAULT_ROLES_PATH)
            if isinstance(roles_path, str):
                roles_path = [roles_path]
            names = sorted({role for tier in tiers for role in tier.roles})
            roles = {name: pf.load_role(name, roles_path, self._load_yaml) for name in names}
        except pf.PreflightError as exc:
            result.update(failed=True, msg=f"Preflight cannot run: {exc}")
            return result

        hosts = list(args.get("hosts") or task_vars.get("ansible_play_hosts_all") or [])
        groups = task_vars.get("groups") or {}
        hostvars = task_vars["hostvars"]
        all_options = {opt for role in roles.values() for opt in role.options}

        problems: list[pf.Problem] = []
        checked: dict[str, list[str]] = {}
        for host in hosts:
            raw_vars = hostvars.raw_get(host)
            host_view = hostvars[host]
            resolve = self._resolver(host_view)
            defined = set(raw_vars)
            host_tiers = [tier for tier in tiers if host in groups.get(tier.hosts, ())]
            host_roles: list[str] = []
            for tier in host_tiers:
                host_roles.extend(r for r in tier.roles if r not in host_roles)
            checked[host] = host_roles
            values_by_role: dict[str, dict[str, t.Any]] = {}
            for name in host_roles:
                role = roles[name]
                input_problems = pf.check_role_input(host, role, defined, resolve, other_options=all_options)
                problems.extend(input_problems)
                problems.extend(pf.check_plaintext_secrets(host, role, raw_vars))
                if not any(p.variable in role.options for p in input_problems):
                    # Semantic checks only on input of the right types (else the type problem is the report).
                    values_by_role[name] = pf.role_values(role, defined, resolve)
            problems.extend(pf.check_role_semantics(host, values_by_role, groups.get("all", hosts), groups))
            for tier in host_tiers:
                problems.extend(pf.check_requirements(host, tier, roles, defined, resolve))
            problems.extend(pf.check_secrets(host, raw_vars, resolve))
            problems.extend(pf.check_connection_secrets(host, raw_vars))

            def optional(name: str, _defined: set[str] = defined, _resolve: pf.Resolver = resolve) -> t.Any:
                return _resolve(name) if name in _defined else None

            connection = optional("ansible_connection")
            problems.extend(pf.check_connection(host, to_text(connection) if connection else None, optional))
            problems.extend(pf.check_delegation(host, optional))

        result["checked"] = checked
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = pf.format_report(problems, len(hosts))
            result["problems"] = [
                {"host": p.host, "variable": p.variable, "problem": p.problem, "fix": p.fix}
                for p in sorted(set(problems))
            ]
        else:
            result["msg"] = f"Preflight passed for {len(hosts)} host(s): " + "; ".join(
                f"{host} [{', '.join(r) or 'no role'}]" for host, r in sorted(checked.items()))
        return result

    def _load_yaml(self, path: str) -> t.Any:
        return self._loader.load_from_file(path)

    @staticmethod
    def _resolver(host_view: t.Any) -> pf.Resolver:
        def resolve(name: str) -> t.Any:
            try:
                return host_view[name]
            except AnsibleError as exc:
                first = to_text(exc.message if hasattr(exc, "message") else exc).strip().splitlines()
                raise pf.Unresolvable(first[0] if first else to_text(exc)) from None

        return resolve
