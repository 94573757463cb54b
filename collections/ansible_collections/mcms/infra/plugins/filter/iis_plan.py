"""Filters of the ``iis`` role: thin wrappers over ``plugin_utils/_iis.py``.

The role reads the host once through read-only modules, then these filters
compare what was read with the desired state and return only the module
calls that would change something (the logic and its rationale live in
``_iis``).  Each filter is documented in the YAML sidecar beside this file
(``iis_<name>.yml``, ``ansible-doc -t filter mcms.infra.iis_<name>``).
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _iis


def iis_input_errors(values: dict[str, t.Any]) -> list[str]:
    """Every problem in the ``iis`` role's variables (empty when the input is good)."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("iis_input_errors: expects a dict of the role's variables")
    return _iis.input_errors(values)


def iis_sites_normalize(layers: list[t.Any], site_defaults: dict[str, t.Any], app_pool_defaults: dict[str, t.Any],
                        authentication_defaults: dict[str, t.Any], sites_root: str) -> list[dict[str, t.Any]]:
    """``[iis_sites, iis_group_sites, iis_host_sites]`` combined by name, every option filled."""
    return _iis.iis_sites_normalize(layers, site_defaults, app_pool_defaults, authentication_defaults, sites_root)


def iis_feature_plan(features: list[dict[str, t.Any]] | None, wanted: list[str],
                     unwanted: list[str]) -> dict[str, list[str]]:
    """Features to install and to remove, from ``win_feature_info``."""
    return _iis.iis_feature_plan(features, wanted, unwanted)


def iis_pool_plan(sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``microsoft.iis.web_app_pool`` arguments per site."""
    return _iis.iis_pool_plan(sites)


def iis_auth_plan(sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Name and authentication settings of every present site (nothing secret)."""
    return _iis.iis_auth_plan(sites)


def iis_site_plan(sites: list[dict[str, t.Any]], info_sites: list[dict[str, t.Any]] | None,
                  default_site_state: str = "absent") -> list[dict[str, t.Any]]:
    """``microsoft.iis.website`` calls from ``website_info``."""
    return _iis.iis_site_plan(sites, info_sites, default_site_state)


def iis_apphost_plan(content_b64: str | None, settings: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """``community.windows.win_xml`` calls on the slurped ``applicationHost.config``."""
    try:
        return _iis.iis_apphost_plan(content_b64, settings)
    except _iis.IisError as exc:
        raise AnsibleFilterError(f"iis_apphost_plan: {exc}") from exc


def iis_firewall_ports(sites: list[dict[str, t.Any]], extra_ports: list[int] | None = None) -> str:
    """The inbound TCP ports the sites need, as ``win_firewall_rule``'s ``localport``."""
    return _iis.iis_firewall_ports(sites, extra_ports)


def iis_trust_plan(pems: list[str] | None, root_certificates: list[dict[str, t.Any]] | None) -> list[dict[str, t.Any]]:
    """The CA certificates that ``LocalMachine\\Root`` does not hold yet."""
    try:
        return _iis.iis_trust_plan(pems, root_certificates)
    except _iis.IisError as exc:
        raise AnsibleFilterError(f"iis_trust_plan: iis_trusted_ca_certificates entry {exc}") from exc


def iis_shared_configuration(content_b64: str | None) -> dict[str, t.Any]:
    """Whether the slurped ``redirection.config`` enables IIS shared configuration."""
    try:
        return _iis.shared_configuration(content_b64)
    except _iis.IisError as exc:
        raise AnsibleFilterError(f"iis_shared_configuration: {exc}") from exc


def iis_firewall_groups_missing(results: list[dict[str, t.Any]] | None) -> list[str]:
    """The groups of a ``win_firewall_rule`` loop that matched no rule."""
    return _iis.iis_firewall_groups_missing(results)


class FilterModule:
    """mcms.infra filters for the iis role."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "iis_input_errors": iis_input_errors,
            "iis_sites_normalize": iis_sites_normalize,
            "iis_feature_plan": iis_feature_plan,
            "iis_pool_plan": iis_pool_plan,
            "iis_auth_plan": iis_auth_plan,
            "iis_site_plan": iis_site_plan,
            "iis_apphost_plan": iis_apphost_plan,
            "iis_firewall_ports": iis_firewall_ports,
            "iis_trust_plan": iis_trust_plan,
            "iis_shared_configuration": iis_shared_configuration,
            "iis_firewall_groups_missing": iis_firewall_groups_missing,
        }
