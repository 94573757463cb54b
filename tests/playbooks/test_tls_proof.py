"""The tls role proves each binding on the node itself, undoes what it cannot
prove, never removes a certificate something else serves with, and sweeps the
key material an interrupted import left behind (issue 8, decision 16).

Each test takes its own copy of the converged lab and runs the tls role of
the web tier on web01 only (``playbooks/web.yml --limit web01 --tags tls``).
"""

from __future__ import annotations

import pytest
import yaml

from .lab import Lab, age_certificate, describe

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

SITE = "MCMS"
SITE_HOSTNAME = "mcms.sim.mcms.internal"
LEFTOVER = "C:\\Windows\\Temp\\mcms-tls-MCMS.pfx"


def _web(lab: Lab, label: str, *args: str):
    return lab.playbook("playbooks/web.yml", "--limit", "web01", "--tags", "tls", *args, label=label)


def _set_dns(lab: Lab, records: dict[str, str]) -> None:
    path = lab.inventory / "group_vars" / "windows" / "winsim.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["winsim_lab"]["dns"]["records"] = records
    doc["winsim_lab"]["dns"].pop("host_sites_resolve_locally", None)
    path.write_text("---\n" + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _https_bindings(lab: Lab, host: str) -> list[dict]:
    return [b for b in lab.site(host, SITE)["bindings"] if b["protocol"] == "https"]


def _messages(run, host: str) -> str:
    return "\n".join(str(r.get("msg", "")) for r in run.failed(host))


def test_renewal_behind_a_load_balanced_name_is_proven_on_the_node(lab: Lab) -> None:
    # The proof is the project's win_tls_probe.ps1 (an SslStream handshake to the
    # node's own listener with the site name as SNI); winsim's model presents the
    # certificate http.sys would: the SNI binding (name:port), else IP:port, else
    # 0.0.0.0:port, so DNS (here pointing at 10.20.0.200) plays no part.
    # The service name points at a load-balancer address outside the lab (no
    # node answers it), as in production; a renewal moves the binding.
    _set_dns(lab, {SITE_HOSTNAME: "10.20.0.200"})
    old = age_certificate(lab, "web01", SITE, 10)

    run = _web(lab, "renew-behind-lb")

    assert run.returncode == 0, f"the renewal failed:\n{describe(run.failed())}\n{run.output}"
    new = lab.https_binding("web01", SITE)["certificate_hash"]
    assert new != old, "the binding was not moved to the new certificate"
    proofs = [r for r in run.tasks("web01") if r["action"] == "mcms.infra.win_tls_probe"]
    assert proofs, "the tls role did not prove the moved binding"
    assert all(r["status"] == "ok" for r in proofs), describe(proofs)
    probe = lab.https_probe("web01", SITE_HOSTNAME)
    assert probe.returncode == 0, probe.output


def test_unproven_new_binding_is_removed_and_every_run_fails_until_fixed(lab: Lab) -> None:
    # The site has no https binding; the declared one is on an address this
    # node does not have (a typo), so nothing on the node can present it.
    lab.winsim("drift", "web01", "remove-binding", SITE, "--binding", f"https/*:443:{SITE_HOSTNAME}")
    assert _https_bindings(lab, "web01") == []
    tls = yaml.safe_load((lab.inventory / "group_vars" / "webservers" / "tls.yml").read_text(encoding="utf-8"))
    sites = [dict(s, ip="10.20.0.99") for s in tls["tls_sites"]]
    override = lab.write_host_vars("web01", "tls_ip_typo", {"tls_sites": sites})
    wanted = [c for c in lab.state("web01")["certificates"]["LocalMachine"]["My"].values()
              if SITE_HOSTNAME in c.get("dns_names", [])]

    for attempt in ("first", "second"):
        run = _web(lab, f"unproven-{attempt}")
        assert run.returncode != 0, f"{attempt} run reported green for an unproven binding:\n{run.output}"
        message = _messages(run, "web01")
        assert "web01" in message, message
        assert f"site {SITE}" in message, message
        assert any(f"wanted {c['thumbprint']}" in message for c in wanted), message
        assert "presented none" in message, message
        assert _https_bindings(lab, "web01") == [], (
            f"{attempt} run left an unproven https binding: {_https_bindings(lab, 'web01')}")

    override.unlink()
    fixed = _web(lab, "unproven-fixed")
    assert fixed.returncode == 0, f"the fixed input does not converge:\n{describe(fixed.failed())}"
    assert lab.https_binding("web01", SITE)["hostname"] == SITE_HOSTNAME


def test_certificate_of_the_winrm_listener_is_never_removed(lab: Lab) -> None:
    # The operator pointed the WinRM HTTPS listener at the site's certificate;
    # the renewal replaces it on the site, but WinRM still serves with it.
    old = lab.https_binding("web01", SITE)["certificate_hash"]
    lab.winsim("set", "web01", "host.winrm_https_thumbprint", old)
    age_certificate(lab, "web01", SITE, 10)

    run = _web(lab, "renew-winrm-cert")

    assert run.returncode == 0, f"the renewal failed:\n{describe(run.failed())}\n{run.output}"
    assert lab.https_binding("web01", SITE)["certificate_hash"] != old
    assert lab.certificate("web01", old) is not None, "the WinRM listener's certificate was removed"


def test_leftover_pfx_of_an_interrupted_import_is_swept_by_the_next_run(lab: Lab) -> None:
    lab.winsim("drift", "web01", "write-file", LEFTOVER, "not really a PFX")

    check = _web(lab, "leftover-check", "--check")
    assert _has_file(lab, LEFTOVER), "check mode removed the leftover"
    assert ("web01", "tls : gather | Read the certificates in use and the trusted CA, and sweep leftover PFX files") \
        in check.changed("web01"), describe(r for r in check.tasks("web01") if r["changed"])

    run = _web(lab, "leftover-sweep")

    assert run.returncode == 0, f"the run failed:\n{describe(run.failed())}"
    assert not _has_file(lab, LEFTOVER), "the leftover PFX is still on the host"


def _has_file(lab: Lab, path: str) -> bool:
    return any(item.get("path", "").lower() == path.lower() for item in lab.state("web01")["files"].values())
