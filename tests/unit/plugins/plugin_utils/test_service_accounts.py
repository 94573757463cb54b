"""Unit tests of the service_accounts rules (``plugin_utils/_service_accounts.py``).

The same :func:`input_errors` runs in the role's ``validate.yml`` and in the
preflight (through ``_preflight.check_role_semantics``), so both are tested here.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml

from ansible_collections.mcms.infra.plugins.plugin_utils import _preflight as pf
from ansible_collections.mcms.infra.plugins.plugin_utils import _service_accounts as sa

REPO = pathlib.Path(__file__).resolve().parents[4]
ROLE = REPO / "roles" / "service_accounts"
HOSTS = ["dc01", "sql01", "web01", "web02"]
GROUPS = {"all": HOSTS, "webservers": ["web01", "web02"], "sqlservers": ["sql01"],
          "domain_controllers": ["dc01"], "windows": HOSTS}


def account(**over: t.Any) -> dict[str, t.Any]:
    return {"name": "svc_mcms_app", "component": "web", "hosts": ["webservers"],
            "rights": ["SeBatchLogonRight"], **over}


def config(*accounts: dict[str, t.Any], **over: t.Any) -> dict[str, t.Any]:
    return {"service_accounts_kind": "gmsa", "service_accounts_domain_netbios": "CORP",
            "service_accounts_domain_dns": "corp.mcms.internal",
            "service_accounts_accounts": list(accounts), **over}


def test_role_defaults_are_valid_for_the_sim_lab() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    defaults.update(service_accounts_domain_netbios="CORP", service_accounts_domain_dns="corp.mcms.internal")
    assert sa.input_errors(defaults, HOSTS, GROUPS) == []
    components = {a["component"] for a in defaults["service_accounts_accounts"]}
    assert components == {"web", "worker", "command", "telemetry"}


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        pytest.param(config(account(name="svc_mcms_application")),
                     "service_accounts_accounts[0].name: gMSA name 'svc_mcms_application' has 20 characters "
                     "before '$', at most 15", id="gmsa-name-too-long"),
        pytest.param(config(account(name="svc_mcms_app", kind="domain")),
                     "service_accounts_accounts[0].password: a domain account needs a password from the vault",
                     id="domain-without-password"),
        pytest.param(config(account(kind="local", password="")),
                     "service_accounts_accounts[0].password: a local account needs a password",
                     id="local-with-empty-password"),
        pytest.param(config(account(hosts=["web03"])),
                     "service_accounts_accounts[0].hosts: 'web03' is neither a host nor a group of the inventory",
                     id="unknown-host"),
        pytest.param(config(account(hosts=[])), "service_accounts_accounts[0].hosts: account svc_mcms_app is used "
                     "by no host", id="no-host"),
        pytest.param(config(account(password="{{ vault_x }}")),
                     "service_accounts_accounts[0].password: a gMSA has no password", id="gmsa-with-password"),
        pytest.param(config(account(rights=["SeInteractiveLogonRight"])),
                     "service_accounts_accounts[0].rights: SeInteractiveLogonRight is an interactive logon right",
                     id="interactive-right"),
        pytest.param(config(account(rights=["LogonAsService"])),
                     "service_accounts_accounts[0].rights: 'LogonAsService' is not a user right name",
                     id="misspelt-right"),
        pytest.param(config(account(rights=["SeServicesLogonRight"])),
                     "service_accounts_accounts[0].rights: 'SeServicesLogonRight' is not a user right Windows knows",
                     id="misspelt-known-right"),
        pytest.param(config(account(folders=[{"path": "releases", "rights": "FullControl"}])),
                     "service_accounts_accounts[0].folders[0].rights: 'FullControl' is not one of",
                     id="folder-full-control"),
        pytest.param(config(account(folders=[{"path": "..\\Windows", "rights": "Read"}])),
                     "service_accounts_accounts[0].folders[0].path: '..\\\\Windows' is not a local folder path",
                     id="folder-parent-path"),
        pytest.param(config(account(sql={"database": "MCMS", "roles": ["db_owner"]})),
                     "service_accounts_accounts[0].sql.roles: db_owner would make the account an owner",
                     id="sql-db-owner"),
        pytest.param(config(account(sql={"database": "MCMS", "roles": ["db_ddladmin"]})),
                     "service_accounts_accounts[0].sql.roles: db_ddladmin is granted only where migrations run",
                     id="sql-ddladmin-by-hand"),
        pytest.param(config(account(sql={"roles": ["db_datareader"]})),
                     "service_accounts_accounts[0].sql.database: the database the account uses is not set",
                     id="sql-no-database"),
        pytest.param(config(account(), account(name="svc_mcms_wrk")),
                     "service_accounts_accounts[1].component: 'web' is already the component of svc_mcms_app",
                     id="duplicate-component"),
        pytest.param(config(account(kind="domain", password="{{ vault_x }}", name="svc_x$")),
                     "service_accounts_accounts[0].name: only a gMSA name may end with '$'", id="user-with-dollar"),
        pytest.param(config(account(), service_accounts_domain_netbios="CHANGE-ME"),
                     "service_accounts_domain_netbios: the domain's name is not set", id="netbios-placeholder"),
        pytest.param(config(account(), service_accounts_kind="msa"),
                     "service_accounts_kind: 'msa' is not one of gmsa, domain, local", id="bad-kind"),
        pytest.param({**config(), "service_accounts_host_accounts": [account(name="svc_mcms_application")]},
                     "service_accounts_host_accounts[0].name: gMSA name", id="names-the-layer"),
    ],
)
def test_input_errors_name_the_variable(cfg: dict[str, t.Any], expected: str) -> None:
    errors = sa.input_errors(cfg, HOSTS, GROUPS)
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(config(account()), id="gmsa"),
        pytest.param(config(account(name="svc_mcms_app_user", kind="domain", password="secret")), id="domain"),
        pytest.param(config(account(kind="local", password="secret"), service_accounts_domain_netbios="CHANGE-ME",
                            service_accounts_domain_dns="CHANGE-ME"), id="local-needs-no-domain"),
        pytest.param(config(account(name="svc_fifteen_chr")), id="gmsa-15-characters"),
        pytest.param(config(account(hosts=["web01", "sqlservers"])), id="hosts-and-groups"),
    ],
)
def test_good_input_has_no_errors(cfg: dict[str, t.Any]) -> None:
    assert sa.input_errors(cfg, HOSTS, GROUPS) == []


def test_later_layer_replaces_an_account_of_the_same_name() -> None:
    merged = sa.combine({
        "service_accounts_accounts": [account(), account(name="svc_mcms_wrk", component="worker")],
        "service_accounts_group_accounts": [account(name="SVC_MCMS_APP", hosts=["web01"])],
        "service_accounts_host_accounts": [],
    })
    assert [(a["name"], a["hosts"]) for a in merged] == [("SVC_MCMS_APP", ["web01"]),
                                                          ("svc_mcms_wrk", ["webservers"])]


@pytest.mark.parametrize(
    ("kind", "identity"),
    [("gmsa", "CORP\\svc_mcms_app$"), ("domain", "CORP\\svc_mcms_app"), ("local", ".\\svc_mcms_app")],
)
def test_host_plan_publishes_identities_and_groups_users_per_right(kind: str, identity: str) -> None:
    accounts = [account(kind=kind), account(name="svc_mcms_wrk", component="worker", rights=["SeServiceLogonRight"])]
    plan = sa.host_plan(accounts, "web01", GROUPS, "gmsa", "CORP", ["SeDenyInteractiveLogonRight"])
    assert plan["identities"] == {"web": identity, "worker": "CORP\\svc_mcms_wrk$"}
    assert plan["rights"] == [
        {"name": "SeBatchLogonRight", "users": [identity]},
        {"name": "SeDenyInteractiveLogonRight", "users": [identity, "CORP\\svc_mcms_wrk$"]},
        {"name": "SeServiceLogonRight", "users": ["CORP\\svc_mcms_wrk$"]},
    ]
    assert [u["name"] for u in plan["local_users"]] == (["svc_mcms_app"] if kind == "local" else [])
    # A host that uses no account gets nothing.
    assert sa.host_plan(accounts, "sql01", GROUPS, "gmsa", "CORP", ["SeDenyInteractiveLogonRight"])["rights"] == []


def test_host_plan_grants_rights_and_folders_in_one_list_per_account() -> None:
    accounts = [account(folders=[{"path": "releases", "rights": "ReadAndExecute"},
                                 {"path": "D:\\data\\", "rights": "Modify"}])]
    plan = sa.host_plan(accounts, "web01", GROUPS, "gmsa", "CORP", ["SeDenyInteractiveLogonRight"], [], "C:\\MCMS")
    assert plan["grants"] == [{"name": "CORP\\svc_mcms_app$",
                               "rights": ["SeBatchLogonRight", "SeDenyInteractiveLogonRight"],
                               "folders": [{"path": "C:\\MCMS\\releases", "rights": "ReadAndExecute"},
                                           {"path": "D:\\data", "rights": "Modify"}]}]


def test_sql_plan_logins_with_exact_roles_and_ddladmin_only_where_migrations_run() -> None:
    accounts = [account(sql={"database": "MCMS", "migrations": True}),
                account(name="svc_mcms_wrk", component="worker", sql={"database": "MCMS", "roles": ["db_datareader"]}),
                account(name="svc_l", component="l", kind="local", password="p", sql={"database": "MCMS"}),
                account(name="svc_n", component="n")]
    assert sa.sql_plan(accounts, "gmsa", "CORP", False) == [
        {"name": "CORP\\svc_mcms_app$", "database": "MCMS", "roles": ["db_datareader", "db_datawriter"]},
        {"name": "CORP\\svc_mcms_wrk$", "database": "MCMS", "roles": ["db_datareader"]}]
    assert sa.sql_plan(accounts, "gmsa", "CORP", True)[0]["roles"] == ["db_datareader", "db_datawriter",
                                                                          "db_ddladmin"]
    assert [lg["name"] for lg in sa.sql_plan(accounts, "gmsa", "CORP", True, ["svc_mcms_app"])] == [
        "CORP\\svc_mcms_wrk$"]
    # The SQL server records the accounts with a login there; removed ones are its logins to prune.
    managed = sa.host_plan(accounts, "sql01", GROUPS, "gmsa", "CORP", [], [], "C:\\MCMS", ["sql01"])["managed"]
    assert managed == ["svc_mcms_app|gmsa|sqllogin", "svc_mcms_wrk|gmsa|sqllogin"]
    gone = sa.unmanaged(managed, managed[1:], "CORP")
    assert sa.unmanaged_logins(gone) == ["CORP\\svc_mcms_app$"]


def test_host_plan_leaves_pending_accounts_out_of_the_rights() -> None:
    plan = sa.host_plan([account()], "web01", GROUPS, "gmsa", "CORP", [], pending=["svc_mcms_app"])
    assert plan["rights"] == []
    assert plan["grants"] == []
    assert plan["pending"] == ["CORP\\svc_mcms_app$"]
    assert plan["identities"] == {"web": "CORP\\svc_mcms_app$"}


def test_directory_plan_lists_exactly_the_computers_that_use_a_gmsa() -> None:
    plan = sa.directory_plan([account(hosts=["webservers", "sql01"]),
                              account(name="svc_u", component="u", kind="domain", password="p", hosts=["web01"]),
                              account(name="svc_l", component="l", kind="local", password="p")],
                             GROUPS, "gmsa", "corp.mcms.internal")
    assert plan["gmsas"] == [{"name": "svc_mcms_app", "dns_hostname": "svc_mcms_app.corp.mcms.internal",
                              "description": "", "computers": ["SQL01$", "WEB01$", "WEB02$"]}]
    assert [u["name"] for u in plan["users"]] == ["svc_u"]
    assert plan["managed"] == ["svc_mcms_app|gmsa|", "svc_u|domain|"]


def test_an_account_removed_from_the_data_is_unmanaged_with_what_it_was_granted() -> None:
    before = sa.host_plan([account(), account(name="svc_old", component="old", rights=["SeServiceLogonRight"])],
                          "web01", GROUPS, "gmsa", "CORP", ["SeDenyInteractiveLogonRight"])["managed"]
    now = sa.host_plan([account()], "web01", GROUPS, "gmsa", "CORP", ["SeDenyInteractiveLogonRight"])["managed"]
    gone = sa.unmanaged(before, now, "CORP")
    assert [(g["name"], g["identity"]) for g in gone] == [("svc_old", "CORP\\svc_old$")]
    assert sa.prune_rights(gone) == [{"name": "SeDenyInteractiveLogonRight", "users": ["CORP\\svc_old$"]},
                                     {"name": "SeServiceLogonRight", "users": ["CORP\\svc_old$"]}]
    assert sa.unmanaged(now, now, "CORP") == []
    assert sa.record_matches(list(reversed(before)), before)
    assert not sa.record_matches(before, now)
    assert sa.unmanaged(None, now) == []
    # A kind switch leaves the old account unmanaged, with the rights it was granted.
    local = sa.host_plan([account(kind="local", password="p")], "web01", GROUPS, "gmsa", "CORP", [])["managed"]
    assert [(g["name"], g["kind"], g["identity"], g["rights"]) for g in sa.unmanaged(now, local, "CORP")] == [
        ("svc_mcms_app", "gmsa", "CORP\\svc_mcms_app$", ["SeBatchLogonRight", "SeDenyInteractiveLogonRight"])]


def test_preflight_runs_the_same_rules_with_role_defaults() -> None:
    role = pf.RoleSpec(name="service_accounts", path=str(ROLE),
                       options=yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
                       ["argument_specs"]["main"]["options"],
                       defaults=yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8")))
    inventory = {"service_accounts_domain_netbios": "CORP", "service_accounts_domain_dns": "corp.mcms.internal",
                 "service_accounts_host_accounts": [
                     account(name="svc_mcms_application", component="x", hosts=["web09"])]}
    def semantics(defined: dict[str, t.Any]) -> list[pf.Problem]:
        values = pf.role_values(role, defined, defined.__getitem__)
        return pf.check_role_semantics("web01", {"service_accounts": values}, HOSTS, GROUPS)

    problems = semantics(inventory)
    texts = sorted(p.problem for p in problems)
    assert len(texts) == 2, texts
    assert texts[0].startswith("service_accounts_host_accounts[0].hosts: 'web09' is neither a host")
    assert texts[1].startswith("service_accounts_host_accounts[0].name: gMSA name 'svc_mcms_application'")
    assert {p.variable for p in problems} == {"service_accounts_host_accounts"}
    # The role's defaults alone (placeholders for the domain) are flagged, naming the variable.
    assert {p.variable for p in semantics({})} == {"service_accounts_domain_netbios", "service_accounts_domain_dns"}


def test_preflight_ignores_roles_without_a_validator() -> None:
    assert pf.check_role_semantics("web01", {"no_such_role": {"no_such_role_x": "x"}}, HOSTS, GROUPS) == []


def test_shared_passwords_make_the_kind_switch_one_variable() -> None:
    shared = {"service_accounts_passwords": {"svc_mcms_app": "{{ vault_svc_mcms_app_password }}"}}
    assert sa.input_errors(config(account(), **shared), HOSTS, GROUPS) == []
    assert sa.input_errors(config(account(), service_accounts_kind="domain", **shared), HOSTS, GROUPS) == []
    [merged] = sa.combine({**config(account()), **shared})
    assert merged["password"] == "{{ vault_svc_mcms_app_password }}"
    assert sa.input_errors(config(account(), service_accounts_kind="domain"), HOSTS, GROUPS) != []
