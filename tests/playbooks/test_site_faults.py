"""Faults injected with the ``winsim fault``/``winsim drift`` CLI while ``site.yml`` runs.

Each test takes its own copy of the converged lab (``lab.clone_golden``),
injects one fault, runs ``site.yml`` and proves one behaviour: which host
fails, that the message names what broke, and what the other hosts and the
host's state look like afterwards.
"""

from __future__ import annotations

import re

import pytest

from .lab import Lab, Run, age_certificate, clone_golden, days_left, describe

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

SITE = "MCMS"
POOL = "MCMS"
SITE_HOSTNAME = "mcms.sim.mcms.internal"


def _failed_messages(run_records: list[dict], host: str) -> str:
    return "\n".join(r.get("msg", "") for r in run_records if r["host"] == host)


def test_dropped_connection_fails_that_host_only(lab: Lab) -> None:
    # web02 has something to repair, so "still converges" means real work.
    lab.winsim("drift", "web02", "stop-site", SITE)
    # Round trip 1 is the identity tier's first read (a plain task): a drop
    # inside a loop would still let the loop's remaining items try.
    lab.winsim("fault", "web01", "add", "drop_connection", "--at", "1")
    run = lab.playbook("site.yml", label="drop-connection")

    assert run.returncode != 0, run.output
    recap = run.recap
    assert recap["web01"]["unreachable"] + recap["web01"]["failures"] >= 1, recap
    assert run.failed("web01"), f"no failed/unreachable result for web01:\n{run.output}"
    assert re.search(r"connection to web01\S* dropped on round trip \d+", run.stdout), (
        f"the run does not say that web01's connection dropped:\n{run.output}")
    # web01 is out of the play after the drop: exactly 1 round trip reached it.
    assert lab.stats("web01")["round_trips"] == 1, lab.stats("web01")

    assert recap["web02"]["failures"] == 0, f"web02 failed:\n{describe(run.failed('web02'))}"
    assert recap["web02"]["unreachable"] == 0, recap
    assert lab.site("web02", SITE)["state"] == "Started", "web02 did not converge (its site stays stopped)"
    assert ("web02", "iis : configure | Create, configure and start or stop the sites") in run.changed("web02")


def test_app_pool_that_fails_to_start_fails_the_run_naming_the_pool(lab: Lab) -> None:
    lab.winsim("drift", "web01", "stop-app-pool", POOL)
    lab.winsim("fault", "web01", "add", "app_pool_start", POOL)
    run = lab.playbook("site.yml", label="app-pool-start")

    assert run.returncode != 0, run.output
    assert run.recap["web01"]["failures"] >= 1, run.recap
    failed = run.failed("web01")
    assert failed, run.output
    assert any(r["action"] == "microsoft.iis.web_app_pool" for r in failed), describe(failed)
    # A loop result: the per-item message (real module: "Failed to start Web App Pool <name>: ...")
    # is in the printed result, the recorder keeps the task's summary.
    section = run.stdout[run.stdout.find("Configure the app pools"):]
    assert re.search(r"fatal: \[web01\]|failed: \[web01\]", section), section[:3000]
    assert re.search(rf"Failed to (re)?start Web App Pool {POOL}\b", section), (
        f"the failure does not name the pool {POOL}:\n{section[:3000]}")
    assert lab.state("web01")["iis"]["app_pools"][POOL]["state"] == "Stopped"
    # The other web node is unaffected.
    assert run.recap["web02"]["failures"] == 0, describe(run.failed("web02"))


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, Run, str]:
    """C: (where the site and the host's temp dir live) is full when the certificate is due for renewal.

    The web tier writes no file of its own under the site's folder (winsim, like
    NTFS, still creates empty folders on a full volume); what it writes on a
    converged node is the renewal's PFX in transit, so that is where the full disk bites.
    """
    lab = clone_golden(tmp_path_factory, "disk-full")
    old = age_certificate(lab, "web01", SITE, 10)
    lab.winsim("fault", "web01", "add", "disk_full", "C:")
    return lab, lab.playbook("site.yml", "--limit", "web01", label="disk-full"), old


def test_full_disk_fails_the_run_naming_the_path(disk_full: tuple[Lab, Run, str]) -> None:
    _, run, _ = disk_full
    assert run.returncode != 0, run.output
    failed = run.failed("web01")
    assert failed, run.output
    messages = _failed_messages(failed, "web01")
    assert "not enough space on the disk" in messages, describe(failed)
    assert re.search(r"C:\\\S+", messages), f"the failure does not name the path on C::\n{describe(failed)}"


def test_full_disk_keeps_the_old_certificate_bound_and_the_site_answering(disk_full: tuple[Lab, Run, str]) -> None:
    lab, run, old = disk_full
    assert run.returncode != 0, run.output
    assert lab.https_binding("web01", SITE)["certificate_hash"] == old
    assert lab.certificate("web01", old) is not None
    probe = lab.https_probe("web01", SITE_HOSTNAME)
    assert probe.returncode == 0, f"the site stopped answering over https:\n{probe.output}"


def test_certificate_ten_days_from_expiry_is_renewed_and_site_keeps_answering(lab: Lab) -> None:
    old = age_certificate(lab, "web01", SITE, 10)
    cert = lab.certificate("web01", old)
    assert cert is not None
    assert 9 < days_left(lab, "web01", cert) <= 10
    before = lab.https_probe("web01", SITE_HOSTNAME)
    assert before.returncode == 0, f"precondition: the site answers before the renewal:\n{before.output}"

    run = lab.playbook("site.yml", "--limit", "web01", label="renew")

    assert run.returncode == 0, f"renewal failed:\n{describe(run.failed())}\n{run.output}"
    new = lab.https_binding("web01", SITE)["certificate_hash"]
    assert new != old, "the certificate 10 days from expiry is still bound"
    renewed = lab.certificate("web01", new)
    assert renewed is not None, f"the new bound certificate {new} is not in LocalMachine\\My"
    assert days_left(lab, "web01", renewed) > 300, renewed["not_after"]
    assert SITE_HOSTNAME in [n.lower() for n in renewed.get("dns_names", [])], renewed.get("dns_names")
    assert lab.certificate("web01", old) is None, "the replaced certificate was not removed"
    verified = [r for r in run.tasks("web01") if r["action"] == "mcms.infra.win_tls_probe"]
    assert verified, "the tls role did not prove the new binding on the node"
    assert all(r["status"] == "ok" for r in verified), describe(verified)
    after = lab.https_probe("web01", SITE_HOSTNAME)
    assert after.returncode == 0, f"the site does not answer over https after the renewal:\n{after.output}"


def test_certificate_below_hard_threshold_that_cannot_be_renewed_fails_naming_it(lab: Lab) -> None:
    # Source "store": certificates come from AD CS autoenrollment; the role cannot renew them itself.
    lab.write_host_vars("web01", "tls", {"tls_certificate_source": "store"})
    bound = lab.https_binding("web01", SITE)["certificate_hash"]
    lab.winsim("drift", "web01", "expire-cert", bound, "--days", "3")

    run = lab.playbook("site.yml", "--limit", "web01", label="hard-threshold")

    assert run.returncode != 0, run.output
    failed = run.failed("web01")
    assert failed, run.output
    messages = _failed_messages(failed, "web01")
    for needle in ("web01", SITE, bound):
        assert needle.lower() in messages.lower(), f"the failure does not name {needle}:\n{describe(failed)}"
    # Nothing was taken away: the expiring certificate stays bound and in the store.
    assert lab.https_binding("web01", SITE)["certificate_hash"] == bound
    assert lab.certificate("web01", bound) is not None
