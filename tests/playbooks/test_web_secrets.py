"""No secret of the web tier reaches any output, at any verbosity, in apply or check mode.

An app pool that runs as an account carries that account's password in the
``iis`` role's input (``app_pool.password``, from the vault). ``-v`` and above
print loop items whole (``loop_control.label`` hides them only at the default
verbosity), so every place the password could surface is searched after a
``-vvv`` run of ``playbooks/web.yml``: the run's stdout and stderr, the
``mcms.infra.recorder`` output, and every file winsim keeps for the hosts
(state documents, round-trip statistics, ``*.trace.jsonl`` traces).

The identity is a domain account string: winsim's app pool model stores it
without resolving it, and whether the run succeeds or not, the password must
not leak.
"""

from __future__ import annotations

import secrets

import pytest
import yaml

from .lab import Lab, Run, clone_golden

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

HOST = "web01"


@pytest.fixture(scope="module")
def secret_lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, str]:
    lab = clone_golden(tmp_path_factory, "web-secrets")
    password = "Pw-" + secrets.token_hex(12)
    lab.write_vaulted_host_var(HOST, "vault_mcms_pool_password", password)
    sites = yaml.safe_load((lab.inventory / "group_vars" / "webservers" / "iis.yml").read_text(encoding="utf-8"))
    site = dict(sites["iis_group_sites"][0])
    site["app_pool"] = dict(site["app_pool"], identity="CORP\\svc_mcms_pool",
                            password="{{ vault_mcms_pool_password }}")
    lab.write_host_vars(HOST, "iis", {"iis_host_sites": [site]})
    return lab, password


def _leaks(lab: Lab, run: Run, password: str) -> list[str]:
    """Every place the password appears in clear."""
    places = []
    if password in run.stdout:
        places.append("stdout")
    if password in run.stderr:
        places.append("stderr")
    for path in sorted(lab.records_dir.glob("*")) + sorted(lab.state_dir.glob("*")):
        if path.is_file() and password in path.read_text(encoding="utf-8", errors="replace"):
            places.append(str(path))
    return places


@pytest.mark.parametrize("mode", [pytest.param((), id="apply"), pytest.param(("--check", "--diff"), id="check")])
def test_app_pool_password_appears_nowhere_at_vvv(secret_lab: tuple[Lab, str], mode: tuple[str, ...]) -> None:
    lab, password = secret_lab
    run = lab.playbook("playbooks/web.yml", "-vvv", *mode, label=f"secret-{'-'.join(mode) or 'apply'}")
    # The run really handled the account (else the test proves nothing): the pool task ran for web01.
    assert any(r["host"] == HOST and "domain account" in r["task"] for r in run.tasks()), run.output
    assert _leaks(lab, run, password) == [], run.output
