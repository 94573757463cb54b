"""The weekly drift check (``bin/mcms-drift-check``, ``playbooks/drift_check.yml``) on the simulated lab.

Three copies of the session's converged (golden) lab:

* ``clean``: untouched; the check must find no drift and exit 0;
* ``drifted``: two drifts per role injected with ``winsim drift`` (table
  below); each must be reported with its host, resource, attribute, wanted
  and found, and the run must exit 3;
* ``down``: web02's every connection drops (the run limited to the web
  servers); the run must exit 4 naming it, and still check web01.

Every run must leave every host state file byte-identical and write nothing
into the repository; no report may hold a secret of the sim vault.  History:
the clean lab's report is written after the drifted one into the same report
directory, so it must list every drift as resolved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import subprocess
import typing as t
import xml.etree.ElementTree as ET

import pytest
import yaml

from .conftest import REPO
from .drift import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, SCHEMA, DriftRun, drift_check, find, summary
from .lab import Lab, clone_golden, repo_files, unexpected_repo_files

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

TLS10 = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0\\Server"
SITE_HOSTNAME = "mcms.sim.mcms.internal"
DOMAIN_SID = "S-1-5-21-2454604682-3762184245-3053509768"
# Gaps the drift check still lists by name on a converged lab (docs/drift-check.md,
# "Known gaps"). Empty since mcms.infra.sql_agent_jobs compares the backup jobs'
# steps and schedules in check mode (decision 21); it must stay empty.
KNOWN_GAPS: set[tuple[str, str, str]] = set()


@dataclasses.dataclass(frozen=True)
class Drift:
    id: str
    role: str
    host: str
    cli: tuple[str, ...]
    where: dict[str, t.Any]
    check: t.Callable[[dict[str, t.Any]], bool]


def _eq(wanted: t.Any, found: t.Any) -> t.Callable[[dict[str, t.Any]], bool]:
    return lambda d: d["wanted"] == wanted and d["found"] == found


def _right(account: str) -> t.Callable[[dict[str, t.Any]], bool]:
    # mcms.infra.win_account_grants: one record per account and right
    return lambda d: account.split("\\")[-1].lower() in d["attribute"].lower() and (d["wanted"], d["found"]) == (
        "granted", "absent")


DRIFTS = [
    Drift("site-stopped", "iis", "web01", ("stop-site", "MCMS"),
          {"resource_type": "iis_site", "resource": "MCMS", "attribute": "state"}, _eq("Started", "Stopped")),
    Drift("pool-start-mode", "iis", "web01", ("set-app-pool-attribute", "MCMS", "startMode", "OnDemand"),
          {"resource_type": "iis_app_pool", "resource": "MCMS", "attribute": "startMode"},
          _eq("AlwaysRunning", "OnDemand")),
    Drift("schannel-tls10", "tls", "web01", ("set-registry", "--type", "dword", TLS10, "Enabled", "1"),
          {"resource_type": "schannel", "resource": TLS10, "attribute": "Enabled"}, _eq(0, 1)),
    Drift("binding-moved", "tls", "web02",
          ("change-binding", "MCMS", "--binding", f"https/*:443:{SITE_HOSTNAME}", "--port", "8443"),
          {"resource_type": "iis_https_binding", "resource": f"MCMS https/*:8443:{SITE_HOSTNAME}",
           "attribute": "present"}, _eq(False, True)),
    Drift("service-logon-right", "service_accounts", "web01",
          ("revoke-user-right", "SeServiceLogonRight", f"{DOMAIN_SID}-1110"),
          {"resource_type": "user_right", "resource": "SeServiceLogonRight"}, _right("CORP\\svc_mcms_otel$")),
    Drift("batch-logon-right", "service_accounts", "web02",
          ("revoke-user-right", "SeBatchLogonRight", f"{DOMAIN_SID}-1107"),
          {"resource_type": "user_right", "resource": "SeBatchLogonRight"}, _right("CORP\\svc_mcms_app$")),
    Drift("recovery-simple", "sql_backup", "sql01", ("set-recovery-model", "mcms", "simple"),
          {"resource_type": "sql_database", "attribute": "recovery_model"}, _eq("Full", "Simple")),
    Drift("job-deleted", "sql_backup", "sql01", ("delete-agent-job", "DatabaseBackup - LOG"),
          {"resource_type": "sql_agent_job", "resource": "DatabaseBackup - LOG", "attribute": "present"},
          _eq(True, False)),
    # dc01's gMSA: the diff of microsoft.ad.service_account, compared as AD does (issue 11 follow-up):
    # exactly the description, none of the attributes that only differ in shape (list/scalar, case, order)
    Drift("gmsa-description", "service_accounts", "dc01", ("set-gmsa-description", "svc_mcms_cmd", "edited by hand"),
          {"resource_type": "microsoft.ad.service_account", "resource": "svc_mcms_cmd", "attribute": "description"},
          lambda d: d["found"] == "edited by hand" and isinstance(d["wanted"], str) and "MCMS" in d["wanted"]),
    # web02's IIS default HTTP rule re-enabled: win_firewall_rule's text diff, one record for the rule
    Drift("iis-default-rule-enabled", "iis", "web02", ("enable-firewall-rule", "IIS-WebServerRole-HTTP-In-TCP"),
          {"resource_type": "firewall_rule", "resource": "World Wide Web Services (HTTP Traffic-In)",
           "attribute": "enabled"}, _eq(False, True)),
    Drift("job-disabled", "sql_backup", "sql01", ("disable-agent-job", "DatabaseBackup - FULL"),
          {"resource_type": "sql_agent_job", "resource": "DatabaseBackup - FULL", "attribute": "enabled"},
          _eq(True, False)),
    # the DIFF job's schedule: every 4 hours instead of 12 (the LOG job is deleted above)
    Drift("job-schedule-changed", "sql_backup", "sql01",
          ("set-agent-schedule", "DatabaseBackup - DIFF", "freq_subday_interval", "4"),
          {"resource_type": "sql_agent_job_schedule", "resource": "DatabaseBackup - DIFF/DatabaseBackup - DIFF",
           "attribute": "freq_subday_interval"}, _eq(12, 4)),
    Drift("acl-widened", "service_accounts", "web01",
          ("grant-folder-access", "C:\\MCMS", f"{DOMAIN_SID}-1107", "Modify"),
          {"resource_type": "folder_acl", "resource": "C:\\MCMS", "attribute": "CORP\\svc_mcms_app$"},
          _eq(None, "Allow:Modify, Synchronize")),
    Drift("login-role-added", "service_accounts", "sql01",
          ("add-db-role-member", "MCMS", "db_owner", "CORP\\svc_mcms_app$"),
          {"resource_type": "sql_role_member", "resource": "MCMS:db_owner", "attribute": "CORP\\svc_mcms_app$"},
          _eq("absent", "member")),
    Drift("release-file-tampered", "app", "web02",
          ("write-file", "C:\\MCMS\\releases\\1.4.0\\Mcms.Api.dll", "tampered by hand"),
          {"resource_type": "app_release_file", "resource": "C:\\MCMS\\releases\\1.4.0\\Mcms.Api.dll",
           "attribute": "sha256"},
          lambda d: len(str(d["wanted"])) == 64 and d["found"] == hashlib.sha256(b"tampered by hand").hexdigest()),
    Drift("release-file-removed", "app", "web01", ("remove-file", "C:\\MCMS\\releases\\1.4.0\\appsettings.json"),
          {"resource_type": "app_release_file", "resource": "C:\\MCMS\\releases\\1.4.0\\appsettings.json",
           "attribute": "sha256"},
          lambda d: len(str(d["wanted"])) == 64 and d["found"] is None),
]
PARAMS = [pytest.param(d, id=d.id) for d in DRIFTS]


@dataclasses.dataclass
class Checked:
    lab: Lab
    run: DriftRun
    states_before: dict[str, str | None]
    states_after: dict[str, str | None]
    repo_writes: list[str]


def _checked(lab: Lab, report_dir: pathlib.Path, *extra: str) -> Checked:
    states, repo = lab.state_digests(), repo_files()
    run = drift_check(lab, report_dir, *extra)
    return Checked(lab=lab, run=run, states_before=states, states_after=lab.state_digests(),
                   repo_writes=unexpected_repo_files(repo, repo_files()))


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("drift-reports")


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory, report_dir: pathlib.Path) -> Checked:
    lab = clone_golden(tmp_path_factory, "drift-check-drifted")
    for drift in DRIFTS:
        lab.winsim("drift", drift.host, *drift.cli)
    return _checked(lab, report_dir)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, report_dir: pathlib.Path, drifted: Checked) -> Checked:
    # after `drifted`, into the same report directory: its history resolves every drift
    return _checked(clone_golden(tmp_path_factory, "drift-check-clean"), report_dir)


@pytest.fixture(scope="module")
def down(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    lab = clone_golden(tmp_path_factory, "drift-check-down")
    lab.winsim("fault", "web02", "add", "drop_connection", "--after", "0")
    return _checked(lab, tmp_path_factory.mktemp("drift-reports-down"), "--limit", "webservers")


# -- a converged lab ------------------------------------------------------------------------
def test_converged_lab_has_no_drift_and_exits_0(clean: Checked) -> None:
    assert clean.run.returncode == EXIT_CLEAN, clean.run.output
    assert clean.run.report["status"] == "clean"
    assert clean.run.report["drift"] == [], summary(clean.run.report)
    assert clean.run.report["errors"] == []


def test_converged_lab_leaves_nothing_unchecked_but_the_known_gaps(clean: Checked) -> None:
    found = {(c["host"], c["role"], c["task"]) for c in clean.run.report["could_not_check"]}
    assert found == KNOWN_GAPS, json.dumps(clean.run.report["could_not_check"], indent=1)


def test_every_host_is_checked(clean: Checked) -> None:
    hosts = {h["host"] for h in clean.run.report["hosts"]}
    assert set(clean.lab.hosts) <= hosts
    assert all(h["checked"] > 0 for h in clean.run.report["hosts"] if h["host"] in clean.lab.group("webservers"))


# -- injected drift ---------------------------------------------------------------------------
def test_drift_exits_with_the_drift_code(drifted: Checked) -> None:
    assert drifted.run.returncode == EXIT_DRIFT, drifted.run.output
    assert drifted.run.report["status"] == "drift"
    assert "DRIFT FOUND" in drifted.run.stdout


@pytest.mark.parametrize("drift", PARAMS)
def test_drift_is_reported_with_host_resource_wanted_found(drifted: Checked, drift: Drift) -> None:
    hits = find(drifted.run.report, host=drift.host, role=drift.role, **drift.where)
    assert len(hits) == 1, (f"{drift.id}: no single record for {drift.where} on {drift.host}:\n"
                            f"{summary(drifted.run.report)}")
    assert drift.check(hits[0]), f"{drift.id}: wrong wanted/found: {hits[0]}"
    assert hits[0]["coarse"] is False


def test_drift_is_reported_on_its_host_only(drifted: Checked) -> None:
    for drift in DRIFTS:
        others = [d for d in find(drifted.run.report, role=drift.role, **drift.where) if d["host"] != drift.host]
        assert others == [], f"{drift.id} reported on another host: {others}"


def test_nothing_but_the_injected_drift_is_reported(drifted: Checked) -> None:
    """Untouched resources stay quiet: one record per drift, and for the moved
    binding also the declared one it left (wanted bound, found missing)."""
    moved = find(drifted.run.report, host="web02", resource_type="iis_https_binding",
                 resource=f"MCMS https/*:443:{SITE_HOSTNAME}", attribute="certificate")
    assert len(moved) == 1, summary(drifted.run.report)
    assert moved[0]["found"] is None, summary(drifted.run.report)
    assert len(drifted.run.report["drift"]) == len(DRIFTS) + 1, summary(drifted.run.report)
    assert all(not d["coarse"] for d in drifted.run.report["drift"]), summary(drifted.run.report)


@pytest.mark.parametrize("name", ["clean", "drifted", "down"])
def test_check_run_leaves_hosts_and_repository_untouched(request: pytest.FixtureRequest, name: str) -> None:
    checked: Checked = request.getfixturevalue(name)
    assert checked.states_after == checked.states_before, "the drift check changed host state files"
    assert checked.repo_writes == [], f"the drift check wrote into the repository: {checked.repo_writes}"


# -- errors -------------------------------------------------------------------------------------
def test_unreachable_host_gives_the_error_code_and_is_named(down: Checked) -> None:
    assert down.run.returncode == EXIT_ERROR, down.run.output
    assert "web02" in down.run.stderr.split("unreachable:")[1].split(";")[0], down.run.stderr
    assert down.run.report["status"] == "error"
    assert [h["status"] for h in down.run.report["hosts"] if h["host"] == "web02"] == ["unreachable"]


def test_unreachable_host_does_not_hide_the_others(down: Checked) -> None:
    statuses = {h["host"]: h["status"] for h in down.run.report["hosts"]}
    assert statuses["web01"] == "clean", statuses


# -- reports ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["clean", "drifted", "down"])
def test_report_matches_the_schema(request: pytest.FixtureRequest, name: str) -> None:
    import jsonschema

    checked: Checked = request.getfixturevalue(name)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(checked.run.report, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_junit_has_a_case_per_host_and_resource_and_a_failure_per_drift(drifted: Checked) -> None:
    assert drifted.run.run_dir is not None
    root = ET.parse(drifted.run.run_dir / "drift.junit.xml").getroot()
    failures = root.findall(".//testcase/failure")
    assert len(failures) == len(drifted.run.report["drift"])
    names = {(s.get("name"), c.get("name")) for s in root.findall("testsuite") for c in s.findall("testcase")}
    assert ("web01", "iis: iis_site MCMS") in names, sorted(names)
    assert ("sql01", "sql_backup: sql_agent_job DatabaseBackup - LOG") in names, sorted(names)
    passing = [c for c in root.findall(".//testcase") if not list(c)]
    assert passing, "resources checked without drift must be passing test cases"


def _vault_secrets() -> list[str]:
    """Every plain-text value the sim inventory holds in the vault (inline ``!vault`` values)."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH  # noqa: F401  (ansible's vault needs its config)
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = (REPO / "inventories" / "sim" / ".vault-pass-DEMO-ONLY").read_bytes().strip()
    vault = VaultLib([("sim", VaultSecret(password))])

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!vault", lambda loader, node: vault.decrypt(loader.construct_scalar(node)).decode())
    secrets: list[str] = []
    for path in (REPO / "inventories" / "sim").rglob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if "!vault" in text:
            secrets.extend(str(v) for v in _leaves(yaml.load(text, Loader=Loader)) if "!vault" not in str(v))
    return [s for s in secrets if len(s) >= 6]


def _leaves(value: t.Any) -> t.Iterator[t.Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield value


def test_no_secret_in_any_report(drifted: Checked, clean: Checked, down: Checked) -> None:
    secrets = _vault_secrets()
    assert secrets, "the sim inventory holds no vaulted value to test against"
    for checked in (drifted, clean, down):
        for path in checked.run.report_dir.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                leaked = [s[:3] + "..." for s in secrets if s in text]
                assert leaked == [], f"{path} holds vaulted values {leaked}"


def test_history_lists_new_then_resolved_drift(drifted: Checked, clean: Checked) -> None:
    assert drifted.run.report["history"]["previous_run_id"] is None
    assert sorted(drifted.run.report["history"]["new"]) == sorted(d["id"] for d in drifted.run.report["drift"])
    history = clean.run.report["history"]
    assert history["previous_run_id"] == drifted.run.report["run_id"]
    assert sorted(r["id"] for r in history["resolved"]) == sorted(d["id"] for d in drifted.run.report["drift"])
    assert history["new"] == []
    assert history["persisting"] == []
    assert clean.run.run_dir is not None
    page = (clean.run.run_dir / "drift.html").read_text(encoding="utf-8")
    assert page.index('id="history"') < page.index('id="drift"')
    assert f"{len(drifted.run.report['drift'])} resolved" in page


def test_latest_points_at_the_newest_report(clean: Checked) -> None:
    latest = clean.run.report_dir / "sim" / "latest"
    assert latest.is_symlink()
    assert latest.resolve() == clean.run.run_dir


# -- round trips ---------------------------------------------------------------------------------
def test_drift_check_costs_no_more_round_trips_than_a_noop_converge(clean: Checked) -> None:
    lab = clean.lab
    check = {h: lab.stats(h, "last") for h in lab.hosts}
    converge = lab.playbook("site.yml", label="noop-converge")
    assert converge.returncode == 0, converge.output
    noop = {h: lab.stats(h, "last") for h in lab.hosts}
    over = {}
    for host in lab.hosts:
        print(f"{host}: drift check {check[host]['module_runs']} module runs, no-op converge "
              f"{noop[host]['module_runs']}; check: {dict(sorted(check[host]['modules'].items()))}")
        if check[host]["module_runs"] > noop[host]["module_runs"]:
            over[host] = (check[host]["module_runs"], noop[host]["module_runs"])
    assert over == {}, f"drift check costs more round trips than a no-op converge: {over}"


# -- the HTML page in a real browser ----------------------------------------------------------------
BROWSERS = ("chromium", "chromium-browser")


def _browser() -> str | None:
    import shutil

    return next((p for p in (shutil.which(b) for b in BROWSERS) if p), None)


def test_html_report_renders_offline_in_a_headless_browser(drifted: Checked,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    """Debian's chromium renders the page from disk with networking off; the summary and every
    drifted resource are in the rendered page; the screenshot is kept as a test artefact
    ($MCMS_TEST_ARTIFACTS, else pytest's temporary directory)."""
    import os

    browser = _browser()
    if browser is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no chromium: scripts/setup.sh installs it as root with apt (make setup)")
        pytest.skip("no headless browser here (Debian's chromium; scripts/setup.sh installs it when run as root "
                    "with apt, as in CI): the HTML report was not checked in a browser")
    assert drifted.run.run_dir is not None
    page = drifted.run.run_dir / "drift.html"
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text, "the page refers to a URL"
    assert "https://" not in text.replace("https/", ""), "the page refers to a URL"
    assert "<script" not in text
    assert "<link" not in text
    out = pathlib.Path(os.environ.get("MCMS_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artefacts"))
    out.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
             "--proxy-server=127.0.0.1:9", "--window-size=1280,2400"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = out / "drift-report.png"
    proc = subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.exists(), proc.stderr[-2000:]
    assert shot.stat().st_size > 10_000, proc.stderr[-2000:]
    print(f"screenshot kept: {shot}")
    rendered = dom.stdout
    assert 'id="summary-line"' in rendered
    assert "Environment sim: " in rendered
    for host in ("web01", "web02", "sql01"):
        assert f"<td>{host}</td>" in rendered, host
    for d in drifted.run.report["drift"]:
        assert f'id="drift-{d["id"]}"' in rendered, d
        assert d["resource"].replace("&", "&amp;") in rendered, d["resource"]
