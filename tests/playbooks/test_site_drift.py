"""Operator drift on a converged lab: detected in check mode, repaired by a normal run.

One converged lab (a copy of the session's golden lab) receives four drifts
through the ``winsim drift`` CLI, two per web node, each hitting a different
resource managed by a different task:

==========================  =====  ===============================================================
drift                       host   drift record that must report it (and no other)
==========================  =====  ===============================================================
``stop-site MCMS``          web01  iis_site MCMS: state
``set-registry`` TLS 1.0    web01  schannel ...\\TLS 1.0\\Server: Enabled
``change-binding`` :8443    web02  iis_https_binding MCMS https/*:8443:...: present (and the
                                   declared :443 binding: certificate, found missing)
``remove-firewall-rule``    web02  firewall_rule MCMS IIS (TCP-In): present (read from the
                                   module's own diff text, decision 25)
==========================  =====  ===============================================================

The drift check (``bin/mcms-drift-check``: ``playbooks/drift_check.yml`` with
the ``mcms.infra.drift`` collector) must report a drift record for exactly
these (host, resource) pairs, read through the shared helper
``tests/playbooks/drift.py`` (no task names), and leave every host state file
and every controller file byte-identical; a normal run must repair each
resource; the next check must be clean.  Spreading the drifts over both nodes
proves "exactly that host": each drift's resource must stay quiet on the other
node.  The three runs are shared by the tests (module fixtures).
"""

from __future__ import annotations

import dataclasses
import pathlib
import typing as t

import pytest

from .drift import EXIT_CLEAN, EXIT_DRIFT, DriftRun, drift_check, find, keys, summary
from .lab import Lab, Run, clone_golden, describe, repo_files, unexpected_repo_files

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

SITE = "MCMS"
SITE_HOSTNAME = "mcms.sim.mcms.internal"
TLS10_SERVER = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0\\Server"
FIREWALL_RULE = "MCMS IIS (TCP-In)"
WEB = ("web01", "web02")


def _registry_value(lab: Lab, host: str, key: str, name: str) -> t.Any:
    entry = lab.state(host)["registry"].get(key.replace("HKLM:", "HKLM").lower(), {})
    value = entry.get("values", {}).get(name.lower())
    return None if value is None else value["data"]


def _firewall_rules(lab: Lab, host: str, name: str) -> list[dict[str, t.Any]]:
    return [r for r in lab.state(host)["firewall"]["rules"] if r["name"] == name]


def _check_site_started(lab: Lab, host: str) -> None:
    assert lab.site(host, SITE)["state"] == "Started"


def _check_tls10_disabled(lab: Lab, host: str) -> None:
    assert _registry_value(lab, host, TLS10_SERVER, "Enabled") == 0
    assert _registry_value(lab, host, TLS10_SERVER, "DisabledByDefault") == 1


def _https_bindings(lab: Lab, host: str) -> list[dict[str, t.Any]]:
    return [b for b in lab.site(host, SITE)["bindings"] if b["protocol"] == "https"]


def _check_https_binding(lab: Lab, host: str) -> None:
    declared = [b for b in _https_bindings(lab, host) if (b["port"], b["hostname"]) == (443, SITE_HOSTNAME)]
    assert len(declared) == 1, _https_bindings(lab, host)
    assert declared[0]["use_sni"] is True
    assert lab.certificate(host, declared[0]["certificate_hash"]) is not None


def _check_firewall_rule(lab: Lab, host: str) -> None:
    rules = _firewall_rules(lab, host, FIREWALL_RULE)
    assert len(rules) == 1, rules
    assert rules[0]["enabled"] is True
    assert sorted(rules[0]["local_ports"].split(",")) == ["443", "80"], rules[0]


@dataclasses.dataclass(frozen=True)
class Drift:
    id: str
    host: str
    cli: tuple[str, ...]
    where: dict[str, str]
    repaired: t.Callable[[Lab, str], None]


DRIFTS = [
    Drift("stop-site", "web01", ("stop-site", SITE),
          {"resource_type": "iis_site", "resource": SITE, "attribute": "state"}, _check_site_started),
    Drift("schannel-tls10", "web01", ("set-registry", "--type", "dword", TLS10_SERVER, "Enabled", "1"),
          {"resource_type": "schannel", "resource": TLS10_SERVER, "attribute": "Enabled"}, _check_tls10_disabled),
    Drift("change-binding", "web02", ("change-binding", SITE, "--binding", f"https/*:443:{SITE_HOSTNAME}",
                                      "--port", "8443"),
          {"resource_type": "iis_https_binding", "resource": f"{SITE} https/*:8443:{SITE_HOSTNAME}",
           "attribute": "present"}, _check_https_binding),
    Drift("remove-firewall-rule", "web02", ("remove-firewall-rule", FIREWALL_RULE),
          {"resource_type": "firewall_rule", "resource": FIREWALL_RULE, "attribute": "present"}, _check_firewall_rule),
]
PARAMS = [pytest.param(d, id=d.id) for d in DRIFTS]


# The moved binding also leaves its declared binding missing: one more record.
MOVED_FROM = ("web02", "iis_https_binding", f"{SITE} https/*:443:{SITE_HOSTNAME}", "certificate")


@dataclasses.dataclass
class CheckRun:
    run: DriftRun
    states_before: dict[str, str | None]
    states_after: dict[str, str | None]
    tree_changes: list[str]
    repo_writes: list[str]


def _check(lab: Lab, report_dir: pathlib.Path) -> CheckRun:
    states, tree, repo = lab.state_digests(), lab.tree_digests(), repo_files()
    run = drift_check(lab, report_dir)
    after = lab.tree_digests()
    return CheckRun(run=run, states_before=states, states_after=lab.state_digests(),
                    tree_changes=sorted(p for p in set(tree) | set(after) if tree.get(p) != after.get(p)),
                    repo_writes=unexpected_repo_files(repo, repo_files()))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = clone_golden(tmp_path_factory, "drift")
    for drift in DRIFTS:
        lab.winsim("drift", drift.host, *drift.cli)
    return lab


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("site-drift-reports")


@pytest.fixture(scope="module")
def detected(lab: Lab, reports: pathlib.Path) -> CheckRun:
    return _check(lab, reports)


@pytest.fixture(scope="module")
def repair(lab: Lab, detected: CheckRun) -> Run:
    return lab.playbook("site.yml", label="repair")


@pytest.fixture(scope="module")
def recheck(lab: Lab, repair: Run, reports: pathlib.Path) -> CheckRun:
    return _check(lab, reports)


def test_check_run_succeeds(detected: CheckRun) -> None:
    assert detected.run.returncode == EXIT_DRIFT, detected.run.output
    assert detected.run.report["errors"] == [], detected.run.report["errors"]


@pytest.mark.parametrize("drift", PARAMS)
def test_check_reports_drift_on_its_host(detected: CheckRun, drift: Drift) -> None:
    assert find(detected.run.report, host=drift.host, **drift.where), (
        f"{drift.id} on {drift.host} not reported as {drift.where}; drift:\n{summary(detected.run.report)}")


@pytest.mark.parametrize("drift", PARAMS)
def test_check_does_not_report_drift_on_the_other_host(detected: CheckRun, drift: Drift) -> None:
    others = [h for h in WEB if h != drift.host and not any(d.host == h and d.where == drift.where for d in DRIFTS)]
    for host in others:
        assert not find(detected.run.report, host=host, **drift.where), (
            f"{drift.where} reported on undrifted {host}:\n{summary(detected.run.report)}")


def test_check_reports_nothing_but_the_drifts(detected: CheckRun) -> None:
    found = keys(detected.run.report)
    assert MOVED_FROM in found, summary(detected.run.report)
    rest = [k for k in found if k != MOVED_FROM]
    assert len(rest) == len(DRIFTS), summary(detected.run.report)
    for drift in DRIFTS:
        assert len(find(detected.run.report, host=drift.host, **drift.where)) == 1, summary(detected.run.report)


def test_check_run_leaves_state_and_controller_untouched(detected: CheckRun) -> None:
    assert detected.states_after == detected.states_before, "the check run changed host state files"
    assert detected.tree_changes == [], f"the check run wrote in the lab: {detected.tree_changes}"
    assert detected.repo_writes == [], f"the check run wrote into the repository: {detected.repo_writes}"


def test_normal_run_succeeds(repair: Run) -> None:
    assert repair.returncode == 0, f"{describe(repair.failed())}\n{repair.output}"


@pytest.mark.parametrize("drift", PARAMS)
def test_normal_run_repairs_the_drift(lab: Lab, repair: Run, drift: Drift) -> None:
    assert repair.returncode == 0, describe(repair.failed())
    drift.repaired(lab, drift.host)


def test_normal_run_leaves_no_moved_https_binding(lab: Lab, repair: Run) -> None:
    assert repair.returncode == 0, describe(repair.failed())
    stray = [b for b in _https_bindings(lab, "web02") if (b["port"], b["hostname"]) != (443, SITE_HOSTNAME)]
    assert stray == [], f"https bindings nobody declared are left on web02: {stray}"


def test_next_check_run_is_clean(recheck: CheckRun) -> None:
    assert recheck.run.returncode == EXIT_CLEAN, f"drift left after the repair:\n{summary(recheck.run.report)}"
    assert recheck.run.report["drift"] == []
    assert recheck.states_after == recheck.states_before
    assert recheck.tree_changes == []
