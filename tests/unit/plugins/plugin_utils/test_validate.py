"""Unit tests of the shared validation helpers (``plugin_utils/_validate.py``) and the iis firewall rules."""

from __future__ import annotations

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _iis, _validate


@pytest.mark.parametrize("name", ["mcms.corp.example", "*.corp.example", "web01", "mcms.corp.example."])
def test_valid_host_name(name: str) -> None:
    assert _validate.hostname_problem(name) is None


@pytest.mark.parametrize(("name", "words"), [
    ("https://mcms.corp.example", "contains a scheme"),
    ("mcms.corp.example:443", "contains a port"),
    ("mcms.corp.example/app", "contains a path"),
    ("mcms corp", "contains whitespace"),
    ("*.example", "wildcard without a parent domain"),
    ("bad_host!.example", "is not a valid DNS name"),
    ("", "is empty"),
    (None, "is empty"),
])
def test_invalid_host_name(name: object, words: str) -> None:
    assert words in (_validate.hostname_problem(name) or "")


def test_one_host_name_check_serves_both_roles() -> None:
    from ansible_collections.mcms.infra.plugins.plugin_utils import _tls

    assert _iis.hostname_problem is _validate.hostname_problem
    assert _tls.hostname_problem is _validate.hostname_problem


@pytest.mark.parametrize("remote", ["any", "LocalSubnet", "localsubnet", "10.20.0.0/24", "10.20.0.0/255.255.255.0",
                                    "10.20.0.5", "10.20.0.1-10.20.0.9", "fe80::/64", "DNS,10.1.1.1",
                                    "DefaultGateway"])
def test_firewall_remote_addresses_windows_accepts(remote: str) -> None:
    assert _iis._firewall_errors({"iis_firewall_remote_ip": remote, "iis_firewall_profiles": ["Domain"]}) == []


@pytest.mark.parametrize(("remote", "words"), [
    ("10.20.0.0/33", "'10.20.0.0/33' is neither"),
    ("LocalSubnett", "'LocalSubnett' is neither"),
    ("10.0.0.9-10.0.0.1", "the first not above the last"),
    ("10.0.0.1-fe80::1", "one IP version"),
    ("10.0.0.1,,10.0.0.2", "has an empty entry"),
])
def test_firewall_remote_address_typos_name_the_variable(remote: str, words: str) -> None:
    errors = _iis._firewall_errors({"iis_firewall_remote_ip": remote})
    assert len(errors) == 1, errors
    assert errors[0].startswith("iis_firewall_remote_ip"), errors
    assert words in errors[0], errors


@pytest.mark.parametrize(("profiles", "words"), [
    (["domain", "privat"], "'privat' is not a firewall profile"),
    (["any"], "list domain, private and public for every profile"),
    ([], "non-empty list"),
])
def test_firewall_profile_typos_name_the_variable(profiles: list[str], words: str) -> None:
    errors = _iis._firewall_errors({"iis_firewall_profiles": profiles})
    assert len(errors) == 1, errors
    assert errors[0].startswith("iis_firewall_profiles"), errors
    assert words in errors[0], errors


def test_firewall_values_are_not_checked_when_the_firewall_is_not_managed() -> None:
    assert _iis._firewall_errors({"iis_firewall_enabled": False, "iis_firewall_profiles": ["nope"]}) == []


@pytest.mark.parametrize(("values", "expected"), [
    ({"iis_sites": [{"name": "A"}, {"name": "B", "state": "absent"}], "iis_host_sites": [{"name": "C"}]}, ["A", "C"]),
    ({"iis_sites": [{"name": "A"}], "iis_host_sites": [{"name": "a", "state": "absent"}]}, []),
    ({"iis_sites": [{"name": "A"}], "iis_site_defaults": {"state": "stopped"}}, ["A"]),
])
def test_managed_site_names(values: dict, expected: list[str]) -> None:
    assert _iis.managed_site_names(values) == expected
