"""Controller-side filters of the ``service_accounts`` role.

The rules live in ``plugin_utils/_service_accounts.py`` (also called by the
preflight); these filters only expose them to the role:

* ``service_accounts_combine``       -- the three account layers, by name.
* ``service_accounts_input_errors``  -- every problem, naming the variable.
* ``service_accounts_host_plan``     -- identities, rights and local users of a host.
* ``service_accounts_directory_plan`` -- gMSAs (with their computers) and domain users.
* ``service_accounts_unmanaged``     -- recorded accounts the data no longer declares.
* ``service_accounts_record_matches`` -- the host's record needs no write.
* ``service_accounts_prune_rights``   -- rights to take back from removed accounts.
* ``service_accounts_sql_plan``       -- the Windows logins, databases and exact roles of a SQL server.
* ``service_accounts_unmanaged_logins`` -- the logins of accounts removed from the data.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mcms.infra.plugins.plugin_utils import _service_accounts as sa


def service_accounts_input_errors(config: dict[str, t.Any], inventory_hosts: list[str],
                                  groups: dict[str, list[str]]) -> list[str]:
    return sa.input_errors(config, inventory_hosts, groups)


class FilterModule:
    """mcms.infra filters for the service_accounts role."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "service_accounts_combine": sa.combine,
            "service_accounts_input_errors": service_accounts_input_errors,
            "service_accounts_host_plan": sa.host_plan,
            "service_accounts_directory_plan": sa.directory_plan,
            "service_accounts_unmanaged": sa.unmanaged,
            "service_accounts_record_matches": sa.record_matches,
            "service_accounts_prune_rights": sa.prune_rights,
            "service_accounts_sql_plan": sa.sql_plan,
            "service_accounts_unmanaged_logins": sa.unmanaged_logins,
        }
