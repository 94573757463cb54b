"""``site.yml`` against the whole simulated lab: converge, idempotence, check mode, round trips.

The fresh converge happens once per session (``lab.golden``); this module
works on its own copy of the converged lab, and on a second, fresh lab for the
check-mode case.  Every assertion is read from what the run left behind: the
``mcms.infra.recorder`` JSON lines, ``winsim stats`` and the host state files.
"""

from __future__ import annotations

import pathlib

import pytest

from .lab import Lab, Run, clone_golden, describe, golden, repo_files, unexpected_repo_files

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

# Issue "Web tier: iis and tls roles": a no-op run of iis + tls on a web node
# makes at most 15 module round trips, facts included.
NOOP_ROUND_TRIP_BUDGET = 15
SITE = "MCMS"
SITE_HOSTNAME = "mcms.sim.mcms.internal"


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """This module's converged lab; the tests here only run no-op and check-mode plays on it."""
    return clone_golden(tmp_path_factory, "converge")


def test_fresh_lab_converges(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = golden(tmp_path_factory).run
    recap = run.recap
    web = golden(tmp_path_factory).lab.group("webservers")
    assert set(web) <= set(recap), f"web nodes missing from the recap {recap}:\n{run.output}"
    bad = {h: r for h, r in recap.items() if r["failures"] or r["unreachable"]}
    assert not bad, f"hosts failed or unreachable: {bad}\n{describe(run.failed())}"
    for host in web:
        assert recap[host]["changed"] > 0, f"{host}: a fresh host converged without any change: {recap[host]}"


def test_converged_web_nodes_serve_the_site_over_https(converged: Lab) -> None:
    for host in converged.group("webservers"):
        site = converged.site(host, SITE)
        assert site["state"] == "Started", f"{host}: site {SITE} is {site['state']}"
        binding = converged.https_binding(host, SITE)
        assert binding["hostname"] == SITE_HOSTNAME, binding
        assert binding["use_sni"] is True, binding
        assert converged.certificate(host, binding["certificate_hash"]) is not None, (
            f"{host}: bound certificate {binding['certificate_hash']} is not in LocalMachine\\My")
        probe = converged.https_probe(host, SITE_HOSTNAME)
        assert probe.returncode == 0, f"{host}: https://{SITE_HOSTNAME}/ does not answer:\n{probe.output}"


def test_second_run_changes_nothing(converged: Lab) -> None:
    run = converged.playbook("site.yml", label="second-run")
    assert run.returncode == 0, run.output
    recap = run.recap
    assert set(converged.group("webservers")) <= set(recap), recap
    assert {h: r["changed"] for h, r in recap.items() if r["changed"]} == {}, (
        f"not idempotent:\n{describe(r for r in run.tasks() if r['changed'])}")
    assert run.changed() == set(), describe(r for r in run.tasks() if r["changed"])


def test_noop_web_tier_stays_within_the_round_trip_budget(converged: Lab) -> None:
    """iis + tls, facts included, on a converged node: at most 15 module round trips (issue 4)."""
    run = converged.playbook("playbooks/web.yml", "--tags", "iis,tls", label="noop-web-tier")
    assert run.returncode == 0, run.output
    assert run.changed() == set(), f"the budget is for a no-op run:\n{describe(r for r in run.tasks() if r['changed'])}"
    measured = {}
    for host in converged.group("webservers"):
        stats = converged.stats(host, "last")
        measured[host] = stats
        print(f"{host}: no-op iis+tls: {stats['module_runs']} module runs, {stats['round_trips']} round trips, "
              f"{stats['put_file']} put_file, {stats['fetch_file']} fetch_file ({run.wall:.0f}s wall)")
    over = {h: s for h, s in measured.items() if s["module_runs"] > NOOP_ROUND_TRIP_BUDGET}
    assert not over, "no-op iis + tls exceeds {} module round trips per web node: {}".format(
        NOOP_ROUND_TRIP_BUDGET,
        "; ".join(f"{h}: {s['module_runs']} ({', '.join(f'{m} x{n}' for m, n in sorted(s['modules'].items()))})"
                  for h, s in over.items()))
    for host, stats in measured.items():
        assert (stats["put_file"], stats["fetch_file"]) == (0, 0), f"{host}: a no-op run copied files: {stats}"


def _assert_check_run_writes_nothing(lab: Lab) -> Run:
    """Run site.yml with --check --diff; prove no host state and no controller file changed."""
    states, tree, repo = lab.state_digests(), lab.tree_digests(), repo_files()
    run = lab.playbook("site.yml", "--check", "--diff", label="check-diff")
    assert run.returncode == 0, run.output
    bad = {h: r for h, r in run.recap.items() if r["failures"] or r["unreachable"]}
    assert not bad, f"check mode failed: {bad}\n{describe(run.failed())}"
    assert lab.state_digests() == states, "a --check --diff run changed host state files"
    after = lab.tree_digests()
    changed = sorted(p for p in set(tree) | set(after) if tree.get(p) != after.get(p))
    assert changed == [], f"a --check --diff run wrote on the controller (lab dir): {changed}"
    new_in_repo = unexpected_repo_files(repo, repo_files())
    assert new_in_repo == [], f"a --check --diff run wrote into the repository: {new_in_repo}"
    return run


def test_check_diff_on_converged_lab_writes_nothing(converged: Lab) -> None:
    run = _assert_check_run_writes_nothing(converged)
    predicted = describe(r for r in run.tasks() if r["changed"])
    assert run.changed() == set(), f"check mode on the converged lab predicts changes:\n{predicted}"


def test_check_diff_on_fresh_lab_writes_nothing(tmp_path: pathlib.Path) -> None:
    lab = Lab.fresh(tmp_path / "lab")
    assert None not in lab.state_digests().values(), "the declared lab's hosts exist before the first play"
    run = _assert_check_run_writes_nothing(lab)
    for host in lab.group("webservers"):
        assert run.changed(host), f"{host}: check mode on a fresh host predicts no change:\n{run.output}"
    assert not lab.pki_dir.exists(), "check mode created the lab CA on the controller"


def test_https_only_site_converges_started_in_one_run(tmp_path: pathlib.Path) -> None:
    # Without http bindings IIS cannot start a new site, so the iis role creates
    # it stopped; the tls role's first binding must start it, in the same run.
    lab = Lab.fresh(tmp_path / "lab")
    lab.write_host_vars("web01", "https_only", {"iis_host_sites": [{
        "name": SITE, "hostnames": ["mcms.{{ mcms_dns_domain }}"], "http_redirect": False,
        "app_pool": {"identity": "ApplicationPoolIdentity"}, "authentication": {"windows": True, "anonymous": True},
    }]})
    # The domain controller is in play: on a fresh domain it creates the gMSAs
    # the identity tier grants web01's rights to (a web node alone is refused).
    first = lab.playbook("site.yml", "--limit", "web01,domain_controllers", label="https-only")
    assert first.returncode == 0, describe(first.failed())
    site = lab.site("web01", SITE)
    assert site["state"] == "Started", f"the HTTPS-only site is {site['state']} after one run"
    assert [b["protocol"] for b in site["bindings"]] == ["https"], site["bindings"]
    second = lab.playbook("site.yml", "--limit", "web01,domain_controllers", label="https-only-again")
    assert second.returncode == 0, describe(second.failed())
    assert second.changed() == set(), describe(r for r in second.tasks() if r["changed"])
