"""Operator drift on a converged lab: detected in check mode, repaired by a normal run.

One converged lab (a copy of the session's golden lab) receives four drifts
through the ``winsim drift`` CLI, two per web node, each hitting a different
resource managed by a different task:

==========================  =====  ===============================================================
drift                       host   task that must report it (and no other)
==========================  =====  ===============================================================
``stop-site MCMS``          web01  iis: create, configure and start or stop the sites
``set-registry`` TLS 1.0    web01  tls: set the SCHANNEL values and the cipher suite order
``change-binding`` :8443    web02  tls: report the https bindings that would move or go (check mode)
``remove-firewall-rule``    web02  iis: open the site ports in the firewall
==========================  =====  ===============================================================

A ``--check --diff`` run of ``site.yml`` with the recorder callback must report
changed on exactly these (host, task) pairs and leave every host state file
and every controller file byte-identical; a normal run must repair each
resource; the next check run must be clean.  Spreading the drifts over both
nodes proves "exactly that host": each drift's task must stay unchanged on
the other node.  The three runs are shared by the tests (module fixtures).
"""

from __future__ import annotations

import dataclasses
import typing as t

import pytest

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
    task: str
    repaired: t.Callable[[Lab, str], None]


DRIFTS = [
    Drift("stop-site", "web01", ("stop-site", SITE),
          "iis : configure | Create, configure and start or stop the sites", _check_site_started),
    Drift("schannel-tls10", "web01", ("set-registry", "--type", "dword", TLS10_SERVER, "Enabled", "1"),
          "tls : schannel | Set the SCHANNEL values and the cipher suite order", _check_tls10_disabled),
    Drift("change-binding", "web02", ("change-binding", SITE, "--binding", f"https/*:443:{SITE_HOSTNAME}",
                                      "--port", "8443"),
          "tls : bindings | Report the https bindings that would move or go (check mode)", _check_https_binding),
    Drift("remove-firewall-rule", "web02", ("remove-firewall-rule", FIREWALL_RULE),
          "iis : configure | Open the site ports in the firewall", _check_firewall_rule),
]
PARAMS = [pytest.param(d, id=d.id) for d in DRIFTS]


@dataclasses.dataclass
class CheckRun:
    run: Run
    states_before: dict[str, str | None]
    states_after: dict[str, str | None]
    tree_changes: list[str]
    repo_writes: list[str]


def _check(lab: Lab, label: str) -> CheckRun:
    states, tree, repo = lab.state_digests(), lab.tree_digests(), repo_files()
    run = lab.playbook("site.yml", "--check", "--diff", label=label)
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
def detected(lab: Lab) -> CheckRun:
    return _check(lab, "check-drifted")


@pytest.fixture(scope="module")
def repair(lab: Lab, detected: CheckRun) -> Run:
    return lab.playbook("site.yml", label="repair")


@pytest.fixture(scope="module")
def recheck(lab: Lab, repair: Run) -> CheckRun:
    return _check(lab, "check-repaired")


def _changed(check: CheckRun) -> str:
    return describe(r for r in check.run.tasks() if r["changed"])


def test_check_run_succeeds(detected: CheckRun) -> None:
    assert detected.run.returncode == 0, detected.run.output
    assert all(r["failures"] == 0 and r["unreachable"] == 0 for r in detected.run.recap.values()), detected.run.recap


@pytest.mark.parametrize("drift", PARAMS)
def test_check_reports_drift_on_its_host(detected: CheckRun, drift: Drift) -> None:
    assert (drift.host, drift.task) in detected.run.changed(), (
        f"{drift.id} on {drift.host} not reported by '{drift.task}'; changed:\n{_changed(detected)}")


@pytest.mark.parametrize("drift", PARAMS)
def test_check_does_not_report_drift_on_the_other_host(detected: CheckRun, drift: Drift) -> None:
    others = [h for h in WEB if h != drift.host and not any(d.host == h and d.task == drift.task for d in DRIFTS)]
    for host in others:
        assert (host, drift.task) not in detected.run.changed(), (
            f"'{drift.task}' reports a change on undrifted {host}:\n{_changed(detected)}")


def test_check_reports_nothing_but_the_drifts(detected: CheckRun) -> None:
    expected = {(d.host, d.task) for d in DRIFTS}
    changed = detected.run.changed()
    assert changed == expected, f"unexpected: {sorted(changed - expected)}\nmissing: {sorted(expected - changed)}"


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
    assert recheck.run.returncode == 0, recheck.run.output
    assert recheck.run.changed() == set(), f"drift left after the repair:\n{_changed(recheck)}"
    assert recheck.states_after == recheck.states_before
    assert recheck.tree_changes == []
