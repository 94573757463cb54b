"""The identity tier (``service_accounts``) against the simulated lab.

On the session's converged lab (``lab.golden``): the gMSAs exist on the DC
with exactly the web nodes' computer accounts allowed to retrieve their
passwords, the web nodes hold the rights and exactly the declared folder
access, sql01 has a login, a user and exactly the roles per account, a no-op
``site.yml`` stays within the round-trip budgets (identity: 2 per web node, 2
per SQL node), an account removed from the data is reported and removed only
with ``service_accounts_prune``, drift (an extra database role, a rule widened
on the app root) is a drift record in check mode and repaired, a widening rule
above the app root fails the run naming it, switching kind is one variable.
Bad input fails in the preflight, naming the variable, before any host is
contacted.
"""

from __future__ import annotations

import pathlib
import re
import typing as t

import pytest
import yaml

from .conftest import REPO, run_playbook
from .drift import EXIT_DRIFT, drift_check, find, summary
from .lab import Lab, clone_golden, describe

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

# Issue 9: a no-op run costs at most 8 round trips per domain controller, and a
# web node's identity + web tiers at most 20 (the web tier alone: 15).
DC_BUDGET = 8
WEB_BUDGET = 20
SQL_BUDGET = 12        # issue 9: a no-op site.yml on a SQL node (sql_backup's share: test_data_tier.py)
# Decision 18: the identity tier's share of a no-op run (the record read and one
# project-owned module call) on a web node and on a SQL node.
IDENTITY_BUDGET = 2
IDENTITY_MODULES = ("ansible.windows.win_reg_stat", "mcms.infra.win_account_grants", "mcms.infra.sql_principals")
APP = "CORP\\svc_mcms_app$"
WRK = "CORP\\svc_mcms_wrk$"
DEFAULTS = yaml.safe_load((REPO / "roles" / "service_accounts" / "defaults" / "main.yml").read_text(encoding="utf-8"))
ACCOUNTS = [a["name"] for a in DEFAULTS["service_accounts_accounts"]]


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return clone_golden(tmp_path_factory, "service_accounts")


def _ad_object(lab: Lab, sam: str) -> dict[str, t.Any] | None:
    for obj in lab.state("dc01")["ad"]["objects"].values():
        if str(obj["attrs"].get("samaccountname", "")).lower() == sam.lower():
            return obj
    return None


def _sid(lab: Lab, sam: str) -> str:
    obj = _ad_object(lab, sam)
    assert obj is not None, f"{sam} is not in the domain"
    return obj["sid"]


def test_gmsas_are_retrievable_by_exactly_the_web_nodes(converged: Lab) -> None:
    for name in ACCOUNTS:
        obj = _ad_object(converged, f"{name}$")
        assert obj is not None, f"gMSA {name}$ was not created"
        assert obj["class"] == "msDS-GroupManagedServiceAccount"
        allowed = sorted(dn.split(",")[0] for dn in obj["attrs"]["principalsallowedtoretrievemanagedpassword"])
        assert allowed == ["CN=WEB01", "CN=WEB02"], f"{name}: {allowed}"


def test_web_nodes_hold_exactly_the_declared_rights(converged: Lab) -> None:
    sids = {name: _sid(converged, f"{name}$") for name in ACCOUNTS}
    for host in converged.group("webservers"):
        rights = converged.state(host)["user_rights"]
        assert sids["svc_mcms_app"] in rights["SeBatchLogonRight"]
        assert sids["svc_mcms_app"] not in rights.get("SeServiceLogonRight", [])
        for name in ("svc_mcms_wrk", "svc_mcms_cmd", "svc_mcms_otel"):
            assert sids[name] in rights["SeServiceLogonRight"], f"{host}: {name} cannot log on as a service"
        for deny in ("SeDenyInteractiveLogonRight", "SeDenyRemoteInteractiveLogonRight"):
            assert set(sids.values()) <= set(rights[deny]), f"{host}: {deny} misses an account"
    sql_rights = converged.state("sql01")["user_rights"]
    assert not set(sids.values()) & {s for v in sql_rights.values() for s in v}, "sql01 uses no account"


def _acl(lab: Lab, host: str, path: str) -> list[dict[str, t.Any]]:
    item = lab.state(host)["files"].get(path.lower())
    assert item is not None, f"{host}: {path} does not exist"
    return list(item.get("acl", []))


def test_app_folders_get_exactly_the_declared_access(converged: Lab) -> None:
    app, wrk = _sid(converged, "svc_mcms_app$"), _sid(converged, "svc_mcms_wrk$")
    for host in converged.group("webservers"):
        def rights(path: str, sid: str) -> list[str]:
            return [a["rights"] for a in _acl(converged, host, path) if a.get("sid") == sid]  # noqa: B023

        assert rights("C:\\MCMS\\releases", app) == ["ReadAndExecute, Synchronize"]
        assert rights("C:\\MCMS\\releases", wrk) == ["ReadAndExecute, Synchronize"]
        for folder in ("logs", "uploads", "data"):
            assert rights(f"C:\\MCMS\\shared\\{folder}", app) == ["Modify, Synchronize"], folder
        assert rights("C:\\MCMS\\shared\\uploads", wrk) == [], "the Worker has no access to uploads"
        # nothing wider inherited: no rule of a managed account on the parents
        for parent in ("C:\\MCMS", "C:\\MCMS\\shared"):
            assert not [a for a in _acl(converged, host, parent) if a.get("sid") in (app, wrk)], parent


def test_sql_server_has_a_login_user_and_exact_roles_per_account(converged: Lab) -> None:
    inst = converged.state("sql01")["sql"]["instances"]["mssqlserver"]
    users = inst["databases"]["mcms"]["users"]
    for name in (APP, WRK):
        assert inst["logins"][name.lower()]["sid"] == _sid(converged, name.split("\\")[1])
        assert inst["logins"][name.lower()]["server_roles"] == []
    # the sim lab runs migrations: the web component (sql.migrations) gets db_ddladmin, the Worker does not
    assert users[APP.lower()]["roles"] == ["db_datareader", "db_datawriter", "db_ddladmin"]
    assert users[WRK.lower()]["roles"] == ["db_datareader", "db_datawriter"]
    assert "corp\\svc_mcms_otel$" not in inst["logins"], "an account without sql gets no login"


def test_noop_site_stays_within_the_round_trip_budgets(converged: Lab) -> None:
    run = converged.playbook("site.yml", label="noop-identity-web")
    assert run.returncode == 0, run.output
    assert run.changed() == set(), describe(r for r in run.tasks() if r["changed"])
    dc = converged.stats("dc01", "last")
    print(f"dc01: no-op identity: {dc['module_runs']} module runs {dict(sorted(dc['modules'].items()))}")
    assert dc["module_runs"] <= DC_BUDGET, dc["modules"]
    for host in [*converged.group("webservers"), "sql01"]:
        stats = converged.stats(host, "last")
        identity = sum(stats["modules"].get(m, 0) for m in IDENTITY_MODULES)
        print(f"{host}: no-op site: {stats['module_runs']} module runs, identity {identity} "
              f"{dict(sorted(stats['modules'].items()))}")
        assert identity <= IDENTITY_BUDGET, dict(sorted(stats["modules"].items()))
        budget = SQL_BUDGET if host == "sql01" else WEB_BUDGET
        assert stats["module_runs"] <= budget, dict(sorted(stats["modules"].items()))


def test_role_added_and_parent_folder_widened_are_drift_records_then_repaired(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 9 "nothing inherited wider than declared": win_acl giving the app
    pool gMSA Modify on the app root (inherited by releases and every other
    folder below it) is one drift record on that folder; the role removes the
    rule there. On the same run the gMSA itself drifted on the DC (a computer
    added to its principals): it still exists, so the members check it too
    (before decision 24 the check-mode run left it out as "to be created")."""
    lab = clone_golden(tmp_path_factory, "service_accounts_drift")
    app = _sid(lab, "svc_mcms_app$")
    lab.winsim("drift", "sql01", "add-db-role-member", "MCMS", "db_owner", APP)
    lab.winsim("drift", "web01", "grant-folder-access", "C:\\MCMS", app, "Modify")
    assert [a["rights"] for a in _acl(lab, "web01", "C:\\MCMS") if a.get("sid") == app] == ["Modify, Synchronize"]
    principals = lab.adhoc("dc01", "microsoft.ad.service_account", {
        "name": "svc_mcms_app", "allowed_to_retrieve_password": {"add": ["DC01$"]}})
    assert principals.returncode == 0, principals.output
    before = lab.state_digests()
    check = drift_check(lab, tmp_path_factory.mktemp("sa-drift-reports"), "--limit", "dc01,web01,sql01")
    assert check.returncode == EXIT_DRIFT, check.output
    assert lab.state_digests() == before, "the drift check wrote to a host"
    [acl] = find(check.report, host="web01", role="service_accounts", resource_type="folder_acl")
    assert (acl["resource"], acl["attribute"], acl["wanted"], acl["found"]) == (
        "C:\\MCMS", APP, None, "Allow:Modify, Synchronize"), summary(check.report)
    [role] = find(check.report, host="sql01", role="service_accounts", resource_type="sql_role_member")
    assert (role["resource"], role["attribute"], role["wanted"], role["found"]) == (
        "MCMS:db_owner", APP, "absent", "member"), summary(check.report)
    assert find(check.report, host="dc01", role="service_accounts"), summary(check.report)
    assert [d for d in check.report["drift"] if d["coarse"]] == [], summary(check.report)
    # (the data tier's include_role does not pass --tags on to the role's sql tasks: run the tiers instead)
    fix = lab.playbook("playbooks/identity.yml", "--limit", "dc01,web01", label="drift-fix")
    assert fix.returncode == 0, fix.output
    fix_sql = lab.playbook("playbooks/data.yml", "--limit", "sql01", label="drift-fix-sql")
    assert fix_sql.returncode == 0, fix_sql.output
    users = lab.state("sql01")["sql"]["instances"]["mssqlserver"]["databases"]["mcms"]["users"]
    assert users[APP.lower()]["roles"] == ["db_datareader", "db_datawriter", "db_ddladmin"]
    assert [a for a in _acl(lab, "web01", "C:\\MCMS") if a.get("sid") == app] == []
    assert [a["rights"] for a in _acl(lab, "web01", "C:\\MCMS\\releases") if a.get("sid") == app] == [
        "ReadAndExecute, Synchronize"]
    for playbook, limit in (("playbooks/identity.yml", "dc01,web01"), ("playbooks/data.yml", "sql01")):
        again = lab.playbook(playbook, "--limit", limit, label=f"drift-again-{limit}")
        assert again.returncode == 0, again.output
        assert again.changed() == set(), describe(r for r in again.tasks() if r["changed"])


def test_rule_above_the_app_root_fails_naming_it_before_any_change(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A widening rule above service_accounts_app_root is not the role's to edit: the run fails naming it."""
    lab = clone_golden(tmp_path_factory, "service_accounts_above_root")
    app = _sid(lab, "svc_mcms_app$")
    lab.winsim("drift", "web01", "grant-folder-access", "C:\\", app, "Modify")
    lab.winsim("drift", "web01", "revoke-user-right", "SeBatchLogonRight", app)
    run = lab.playbook("playbooks/identity.yml", "--limit", "dc01,web01", label="above-root")
    assert run.returncode != 0
    flat = " ".join(run.output.split())
    assert ("folder access wider than declared, set above the managed tree C:\\MCMS (remove it there): C: gives "
            f"{APP} Allow:Modify, Synchronize, inherited by C:\\MCMS\\releases") in flat, run.output
    assert app not in lab.state("web01")["user_rights"]["SeBatchLogonRight"], "a right was granted before the failure"
    assert [a["rights"] for a in _acl(lab, "web01", "C:\\") if a.get("sid") == app] == ["Modify, Synchronize"]


def test_switching_to_domain_accounts_is_one_variable(tmp_path_factory: pytest.TempPathFactory) -> None:
    lab = clone_golden(tmp_path_factory, "service_accounts_switch")
    secret = "Domain-Demo-Only-Pw-4512!"  # a test value, never a real secret
    for host in lab.hosts:
        lab.write_vaulted_host_var(host, "vault_svc_password", secret)
        lab.write_host_vars(host, "service_accounts_passwords", {
            "service_accounts_passwords": {name: "{{ vault_svc_password }}" for name in ACCOUNTS}})
    for host in lab.hosts:
        lab.write_host_vars(host, "service_accounts", {"service_accounts_kind": "domain"})
    domain = lab.playbook("playbooks/identity.yml", label="to-domain")
    assert domain.returncode == 0, domain.output
    assert secret not in domain.output
    user = _ad_object(lab, "svc_mcms_wrk")
    assert user is not None
    assert user["class"] == "user"
    rights = lab.state("web01")["user_rights"]
    assert user["sid"] in rights["SeServiceLogonRight"]
    assert _sid(lab, "svc_mcms_wrk$") in rights["SeServiceLogonRight"], "the gMSA is unmanaged, not pruned"
    assert "web01 still has" in " ".join(domain.output.split())
    for host in lab.hosts:
        lab.write_host_vars(host, "service_accounts", {"service_accounts_kind": "gmsa"})
    back = lab.playbook("playbooks/identity.yml", label="to-gmsa")
    assert back.returncode == 0, back.output
    # back to the gMSAs: they hold their rights, the domain users are the unmanaged ones now
    assert "web01 still has" in " ".join(back.output.split())
    assert _sid(lab, "svc_mcms_wrk$") in lab.state("web01")["user_rights"]["SeServiceLogonRight"]
    assert lab.state("web01")["user_rights"]["SeServiceLogonRight"].count(user["sid"]) == 1


def _without_otel(lab: Lab, **extra: t.Any) -> None:
    kept = [a for a in DEFAULTS["service_accounts_accounts"] if a["name"] != "svc_mcms_otel"]
    for host in lab.hosts:
        lab.write_host_vars(host, "service_accounts", {"service_accounts_accounts": kept, **extra})


def test_removed_account_is_reported_then_pruned_only_when_asked(tmp_path_factory: pytest.TempPathFactory) -> None:
    lab = clone_golden(tmp_path_factory, "service_accounts_prune")
    otel = _sid(lab, "svc_mcms_otel$")
    _without_otel(lab)
    kept = lab.playbook("playbooks/identity.yml", label="otel-removed")
    assert kept.returncode == 0, kept.output
    assert kept.changed() == set(), describe(r for r in kept.tasks() if r["changed"])
    flat = " ".join(kept.output.split())
    assert "web01 still has svc_mcms_otel from an earlier run" in flat
    assert "dc01 still has svc_mcms_otel from an earlier run" in flat
    assert otel in lab.state("web01")["user_rights"]["SeServiceLogonRight"]
    assert _ad_object(lab, "svc_mcms_otel$") is not None

    _without_otel(lab, service_accounts_prune=True)
    pruned = lab.playbook("playbooks/identity.yml", label="otel-pruned")
    assert pruned.returncode == 0, pruned.output
    assert _ad_object(lab, "svc_mcms_otel$") is None, "the pruned gMSA is still in the domain"
    for host in lab.group("webservers"):
        rights = lab.state(host)["user_rights"]
        assert not [r for r, holders in rights.items() if otel in holders], f"{host}: rights left to the pruned gMSA"
    assert _ad_object(lab, "svc_mcms_wrk$") is not None
    again = lab.playbook("playbooks/identity.yml", label="otel-pruned-again")
    assert again.returncode == 0, again.output
    assert again.changed() == set(), describe(r for r in again.tasks() if r["changed"])
    assert "still has" not in again.output


def test_switching_web01_to_local_accounts_keeps_the_secret_out_of_the_output(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    lab = clone_golden(tmp_path_factory, "service_accounts_local")
    secret = "Local-Demo-Only-Pw-7319!"  # a test value, never a real secret
    lab.write_host_vars("web01", "service_accounts", {
        "service_accounts_kind": "local",
        "service_accounts_host_accounts": [{**a, "password": "{{ vault_svc_local_password }}"}
                                           for a in DEFAULTS["service_accounts_accounts"]],
    })
    lab.write_vaulted_host_var("web01", "vault_svc_local_password", secret)
    first = lab.playbook("playbooks/identity.yml", "--limit", "web01", "-vvv", label="local")
    assert first.returncode == 0, first.output
    assert secret not in first.output, "a password reached the output"
    users = {u["name"].lower(): u for u in _local_users(lab.state("web01"))}
    assert set(ACCOUNTS) <= set(users), sorted(users)
    # The gMSAs it replaced are reported, with their rights still in place.
    reported = re.search(r"web01 still has ([a-z_, ]+) from an earlier", " ".join(first.output.split()))
    assert reported, first.output
    assert sorted(reported.group(1).split(", ")) == sorted(ACCOUNTS)
    again = lab.playbook("playbooks/identity.yml", "--limit", "web01", label="local-again")
    assert again.returncode == 0, again.output
    assert again.changed() == set(), describe(r for r in again.tasks() if r["changed"])


def test_web_node_alone_on_a_fresh_domain_fails_before_granting_anything(tmp_path: pathlib.Path) -> None:
    """Without a domain controller in play no gMSA exists yet: Windows cannot translate the names."""
    lab = Lab.fresh(tmp_path / "lab")
    run = lab.playbook("playbooks/identity.yml", "--limit", "web01", label="fresh-web-alone")
    assert run.returncode != 0
    flat = " ".join(run.output.split())
    assert "Failed to translate the account" in flat, run.output
    assert "svc_mcms_" in flat
    assert not [r for r, holders in lab.state("web01")["user_rights"].items()
                if any(h.startswith("S-1-5-21-") for h in holders)], "a right was granted anyway"


def _local_users(state: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    users = state["users"]
    return list(users.values()) if isinstance(users, dict) else list(users)


def _state_files(inventory: pathlib.Path) -> list[pathlib.Path]:
    state = inventory.parent.parent / ".winsim"
    return sorted(p for p in state.rglob("*") if p.is_file()) if state.exists() else []


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        pytest.param([{"name": "svc_mcms_telemetry", "component": "x", "hosts": ["webservers"]}],
                     "service_accounts_host_accounts[0].name: gMSA name 'svc_mcms_telemetry' has 18 characters",
                     id="gmsa-name-over-15"),
        pytest.param([{"name": "svc_mcms_x", "kind": "domain", "component": "x", "hosts": ["webservers"]}],
                     "service_accounts_host_accounts[0].password: a domain account needs a password from the vault",
                     id="domain-without-password"),
        pytest.param([{"name": "svc_mcms_x", "component": "x", "hosts": ["webservers"],
                       "rights": ["SeServicesLogonRight"]}],
                     "service_accounts_host_accounts[0].rights: 'SeServicesLogonRight' is not a user right Windows",
                     id="misspelt-right"),
        pytest.param([{"name": "svc_mcms_x", "component": "x", "hosts": ["web03"]}],
                     "service_accounts_host_accounts[0].hosts: 'web03' is neither a host nor a group",
                     id="host-not-in-inventory"),
    ],
)
def test_bad_accounts_fail_in_the_preflight_naming_the_variable(sim_copy: pathlib.Path,
                                                                accounts: list[dict[str, t.Any]],
                                                                expected: str) -> None:
    path = sim_copy / "host_vars" / "web01" / "service_accounts.yml"
    path.write_text("---\n" + yaml.safe_dump({"service_accounts_host_accounts": accounts}), encoding="utf-8")
    result = run_playbook("site.yml", "-i", str(sim_copy))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Preflight found" in output
    # host: variable: the role's message (which names the element) -> fix
    assert f"web01: service_accounts_host_accounts: {expected}" in output, output
    assert "PLAY [Identity tier" not in output
    assert _state_files(sim_copy) == [], "a host was contacted"


def test_a_pool_without_identity_runs_as_the_web_gmsa(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The iis role takes service_accounts_identities.web for a pool whose identity the inventory leaves out."""
    lab = clone_golden(tmp_path_factory, "service_accounts_pool")
    sites = yaml.safe_load((REPO / "inventories" / "sim" / "group_vars" / "webservers" / "iis.yml")
                           .read_text(encoding="utf-8"))["iis_group_sites"]
    for site in sites:
        site["app_pool"].pop("identity", None)
    lab.write_host_vars("web01", "iis_pool", {"iis_group_sites": sites})
    run = lab.playbook("site.yml", "--limit", "dc01,web01", "--tags", "service_accounts,iis", label="pool-identity")
    assert run.returncode == 0, run.output
    pools = lab.state("web01")["iis"]["app_pools"]
    pool = next(p for p in pools.values() if p["name"] == "MCMS")
    assert pool["attributes"]["processModel.userName"] == APP, pool["attributes"]
    assert pool["attributes"]["processModel.identityType"] == "SpecificUser"
