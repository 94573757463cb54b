"""Verify the service_accounts scenario through modules run in check mode
(testinfra's ``host.ansible``): a module that reports no change confirms the
state it would otherwise set. winsim has no model of microsoft.ad.object_info,
so the gMSAs are read this way too."""

from __future__ import annotations

import typing as t

import pytest
from mcms_verify import role_defaults, run

DEFAULTS = role_defaults("service_accounts")
ACCOUNTS = DEFAULTS["service_accounts_accounts"]


def _is_dc(host: t.Any) -> bool:
    return host.backend.host == "sa-dc1"


@pytest.mark.parametrize("account", ACCOUNTS, ids=[a["name"] for a in ACCOUNTS])
def test_gmsa_is_retrievable_by_exactly_the_web_node(host: t.Any, account: dict[str, t.Any]) -> None:
    if not _is_dc(host):
        pytest.skip("the domain is read on the domain controller")
    result = run(host, "microsoft.ad.service_account", {
        "name": account["name"], "allowed_to_retrieve_password": {"set": ["SA-WEB1$"]}, "state": "present"})
    assert result["changed"] is False, result
    assert result["sid"].startswith("S-1-5-21-"), result


@pytest.mark.parametrize("account", ACCOUNTS, ids=[a["name"] for a in ACCOUNTS])
def test_web_node_holds_the_rights(host: t.Any, account: dict[str, t.Any]) -> None:
    if _is_dc(host):
        pytest.skip("rights are granted on the member that uses the account")
    identity = f"CORP\\{account['name']}$"
    for right in [*account["rights"], *DEFAULTS["service_accounts_deny_rights"]]:
        result = run(host, "ansible.windows.win_user_right", {"name": right, "users": [identity], "action": "add"})
        assert result["changed"] is False, f"{identity} does not hold {right}: {result}"


def test_record_lists_what_the_role_manages(host: t.Any) -> None:
    result = run(host, "ansible.windows.win_reg_stat",
                 {"path": DEFAULTS["service_accounts_record_key"], "name": "Managed"})
    names = sorted(line.split("|")[0] for line in result["value"])
    assert names == sorted(a["name"] for a in ACCOUNTS)


@pytest.mark.parametrize("account", ACCOUNTS, ids=[a["name"] for a in ACCOUNTS])
def test_web_node_folders_give_the_declared_access(host: t.Any, account: dict[str, t.Any]) -> None:
    if _is_dc(host):
        pytest.skip("folders are on the member that uses the account")
    identity = f"CORP\\{account['name']}$"
    for folder in account.get("folders") or []:
        path = DEFAULTS["service_accounts_app_root"] + "\\" + folder["path"]
        result = run(host, "ansible.windows.win_acl", {"path": path, "user": identity, "rights": folder["rights"],
                                                       "type": "allow", "state": "present"})
        assert result["changed"] is False, f"{identity} lacks {folder['rights']} on {path}: {result}"


def test_web_node_access_is_exact_nothing_inherited_wider(host: t.Any) -> None:
    """The role's own module in check mode: no change and no drift record means every
    account holds exactly its rights and folder rules, and no rule of one on the app
    root (or above it) widens what the folders below inherit."""
    if _is_dc(host):
        pytest.skip("folders are on the member that uses the account")
    root = DEFAULTS["service_accounts_app_root"]
    accounts = [{"name": f"CORP\\{a['name']}$",
                 "rights": sorted({*a["rights"], *DEFAULTS["service_accounts_deny_rights"]}),
                 "folders": [{"path": f"{root}\\{f['path']}", "rights": f["rights"]} for f in a.get("folders") or []]}
                for a in ACCOUNTS]
    result = run(host, "mcms.infra.win_account_grants", {"accounts": accounts, "root": root})
    assert result["changed"] is False, result["mcms_drift"]
    assert result["mcms_drift"] == []
