"""App delivery from an internal https repository, notifications, logbook and release retention (issue 10),
and a Worker account without the logon right (issue 9). One converged lab for the module, in order.

The packages 1.5.0, 1.6.0 and 1.7.0 are served by a local https server (``webserve.Server``, certificate
from a throw-away test CA whose bundle is ``app_artifact_ca_path``); 1.6.0 and 1.7.0 are built here from
the 1.5.0 sample with another ``version.json``. The notifications go to a local HTTP receiver (or a dead
port). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import pathlib
import shutil
import typing as t

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _app

from .conftest import REPO
from .lab import Lab, clone_golden
from .webserve import LabCA, Server, dead_url, make_ca

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

WEB = ("web01", "web02")
SITE_HOST = "mcms.sim.mcms.internal"


@dataclasses.dataclass
class Repo:
    server: Server
    ca: LabCA
    cache: pathlib.Path

    def args(self, version: str, *extra: str) -> list[str]:
        return ["-e", json.dumps({"app_version": version, "app_artifact_source": self.server.url("/mcms/"),
                                  "app_artifact_ca_path": str(self.ca.ca_pem),
                                  "app_artifact_cache_dir": str(self.cache)}), *extra]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return clone_golden(tmp_path_factory, "app-delivery")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Repo]:
    """The internal artifact repository: https://localhost:<port>/mcms/ with SHA256SUMS."""
    root = tmp_path_factory.mktemp("artifact-repo")
    dist = root / "mcms"
    dist.mkdir()
    sums = []
    for version in ("1.5.0", "1.6.0", "1.7.0"):
        src = root / "src" / version
        shutil.copytree(REPO / "apps" / "mcms-sample" / "1.5.0", src)
        (src / "version.json").write_text(json.dumps({"version": version}, indent=2) + "\n", encoding="utf-8")
        data = _app.build_package(str(src))
        (dist / f"mcms-{version}.zip").write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  mcms-{version}.zip")
    (dist / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    ca = make_ca(tmp_path_factory.mktemp("repo-ca"))
    with Server(root, ca=ca) as server:
        yield Repo(server=server, ca=ca, cache=tmp_path_factory.mktemp("artifact-cache"))


def serving(lab: Lab, host: str) -> str | None:
    doc = json.loads((lab.state_dir / f"{host}.d" / "iis_workers.json").read_text(encoding="utf-8"))
    app = doc.get("MCMS", {}).get("apps", {}).get("mcms|/api")
    return app["version"] if app else None


def releases(lab: Lab, host: str) -> list[str]:
    prefix = "c:\\mcms\\releases\\"
    return sorted({k[len(prefix):].split("\\")[0] for k in lab.state(host)["files"] if k.startswith(prefix)})


def logbook_path(lab: Lab) -> pathlib.Path:
    return lab.root / "logs" / "deploy" / "sim.jsonl"


def logbook(lab: Lab) -> list[dict[str, t.Any]]:
    return [json.loads(x) for x in logbook_path(lab).read_text(encoding="utf-8").splitlines() if x.strip()]


def test_https_package_deploys_notifies_the_record_and_prunes_old_logbook_lines(lab: Lab, repo: Repo) -> None:
    old = _app.logbook_record(time=(dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat(), environment="sim",
                              host="web01", action="deploy", to_version="0.9.0", result="success")
    path = logbook_path(lab)
    path.write_text(json.dumps(old) + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with Server() as receiver:
        run = lab.playbook("playbooks/deploy.yml", *repo.args("1.5.0", "-e", f"app_notify_url={receiver.url('/hook')}"),
                           label="app-https-notify")
    assert run.returncode == 0, run.output
    for host in WEB:
        assert serving(lab, host) == "1.5.0"
        # a deploy of a new version to one node: 25 round trips at most (issue 10)
        assert lab.stats(host)["module_runs"] <= 25, lab.stats(host)
    assert ("GET", "/mcms/mcms-1.5.0.zip") in repo.server.requests
    assert list(repo.cache.rglob("mcms-1.5.0.zip")), "the verified package is cached on the controller"
    book = logbook(lab)
    assert "0.9.0" not in [r["to_version"] for r in book], "a line older than 30 days stays in the logbook"
    assert receiver.posts == book[-2:], "the webhook gets exactly the records the logbook got"
    assert [(p["host"], p["action"], p["from_version"], p["to_version"], p["result"]) for p in receiver.posts] == \
        [(h, "deploy", "1.4.0", "1.5.0", "success") for h in WEB]


def test_dead_webhook_only_warns_and_retention_keeps_exactly_keep_plus_current(lab: Lab, repo: Repo) -> None:
    # web01: a second application (its own pool) serves the old 1.4.0 release: its files are locked.
    pool = lab.adhoc("web01", "microsoft.iis.web_app_pool", {"name": "Legacy", "state": "started"})
    assert pool.returncode == 0, pool.output
    legacy = lab.adhoc("web01", "microsoft.iis.web_application", {
        "name": "legacy", "site": "MCMS", "physical_path": "C:\\MCMS\\releases\\1.4.0", "application_pool": "Legacy",
        "state": "present"})
    assert legacy.returncode == 0, legacy.output
    hit = lab.adhoc("web01", "ansible.windows.win_uri", {"url": "https://127.0.0.1/legacy/health",
                                                        "headers": {"Host": SITE_HOST}})
    assert hit.returncode == 0, hit.output

    book = len(logbook(lab))
    run = lab.playbook("playbooks/deploy.yml", *repo.args("1.6.0", "-e", "app_keep_releases=1",
                                                          "-e", f"app_notify_url={dead_url()}"),
                       label="app-dead-webhook")
    assert run.returncode == 0, run.output
    warnings = [line for line in run.output.splitlines() if "WARNING" in line and "app_notify_url" in line]
    assert warnings, run.output
    assert len(logbook(lab)) == book + 2, "the logbook is written even when the webhook is down"
    # keep 1: current 1.6.0 + the previous 1.5.0; 1.4.0 goes, except where a running process holds it
    assert releases(lab, "web02") == ["1.5.0", "1.6.0"]
    assert releases(lab, "web01") == ["1.4.0", "1.5.0", "1.6.0"]
    assert "kept release 1.4.0" in run.output, run.output
    for host in WEB:
        assert serving(lab, host) == "1.6.0"


def test_protected_releases_are_never_removed(lab: Lab, repo: Repo) -> None:
    protected = lab.playbook("playbooks/deploy.yml", *repo.args(
        "1.7.0", "-e", "app_keep_releases=1", "-e", '{"__app_protected_extra": ["1.5.0"]}', "--limit", "web02"),
        label="app-protected")
    assert protected.returncode == 0, protected.output
    assert releases(lab, "web02") == ["1.5.0", "1.6.0", "1.7.0"]
    # the same release again, nothing protected: only keep (1) + current stay
    again = lab.playbook("playbooks/deploy.yml", *repo.args("1.7.0", "-e", "app_keep_releases=1", "--limit", "web02"),
                         label="app-retention-again")
    assert again.returncode == 0, again.output
    assert releases(lab, "web02") == ["1.6.0", "1.7.0"]
    assert serving(lab, "web02") == "1.7.0"


def _sid(lab: Lab, account: str) -> str:
    """The SID of a domain account, from the domain controller's state (Get-ADObject)."""
    from winsim.models import ad

    found = ad.find_object(lab.state("dc01"), account)
    assert found is not None, f"{account} not found on dc01"
    return str(found["sid"])


def test_worker_account_without_logon_right_stops_the_deploy_and_says_why(lab: Lab) -> None:
    sid = _sid(lab, "svc_mcms_wrk$")
    lab.winsim("drift", "web01", "revoke-user-right", "SeServiceLogonRight", sid)
    before = lab.state("web01")
    run = lab.playbook("playbooks/deploy.yml", "-e", "app_version=1.5.0", label="app-no-logon-right")
    assert run.returncode != 0, run.output
    failed = run.failed("web01")
    assert failed, run.output
    msg = failed[-1].get("msg") or ""
    for part in ("svc_mcms_wrk$", "web01", "SeServiceLogonRight", "1069", "service_accounts_accounts",
                 "identity tier", "1.6.0 keeps serving", "web02 left on the old version"):
        assert part in msg, msg
    assert serving(lab, "web01") == "1.6.0"
    after = lab.state("web01")
    assert after["services"]["mcms.worker"]["state"] == "started"
    assert after["iis"]["sites"]["MCMS"]["applications"]["/api"]["physical_path"] == "C:\\MCMS\\releases\\1.6.0"
    assert sorted(after["files"]) == sorted(before["files"]), "nothing was written on web01"
    assert not run.tasks("web02")
    last = logbook(lab)[-1]
    assert (last["host"], last["action"], last["to_version"], last["result"]) == ("web01", "deploy", "1.5.0", "failed")
    assert "SeServiceLogonRight" in (last["message"] or "")
