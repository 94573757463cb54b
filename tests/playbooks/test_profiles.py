"""``site.yml`` on the realistic and lived-in host profiles (winsim/docs/profiles.md).

Each profile gets one fresh lab (module-scoped, converged once, web01 only,
to keep the suite's runtime modest) whose hosts are built with the
profile set in the lab's declaration (``winsim_lab.profile``).  The roles do not converge
idempotently on these profiles yet (issue 8): the tests that prove those
defects are strict xfails, so the day a role is fixed the suite says so.
"""

from __future__ import annotations

import pathlib

import pytest

from .lab import PROFILE_LIMIT, Lab, Run, describe, profile_golden

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

HOST = "web01"
# The identity tier creates web01's gMSAs on the domain controller first.
LIMIT = PROFILE_LIMIT
IIS_RULE_IDS = ("IIS-WebServerRole-HTTP-In-TCP", "IIS-WebServerRole-HTTPS-In-TCP")
# CN=MCMS Lab Artifacts CA (winsim models/packages.py ARTIFACT_CA_DER).
ARTIFACT_CA_THUMBPRINT = "7A5FC098A29F64E2270CEB84EF2F888FA6AF65CE"


def _profile_lab(tmp_path_factory: pytest.TempPathFactory, profile: str) -> tuple[Lab, Run]:
    """A private copy of the session's converged ``profile`` lab, and its converge run."""
    golden = profile_golden(tmp_path_factory, profile)
    return golden.lab.clone(tmp_path_factory.mktemp(f"profile-{profile}") / "lab"), golden.run


class Converged:
    def __init__(self, lab: Lab, first: Run, second: Run | None = None) -> None:
        self.lab, self.first, self.second = lab, first, second


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Converged:
    lab, first = _profile_lab(tmp_path_factory, "realistic")
    return Converged(lab, first)


@pytest.fixture(scope="module")
def lived_in(tmp_path_factory: pytest.TempPathFactory) -> Converged:
    lab, first = _profile_lab(tmp_path_factory, "lived-in")
    second = lab.playbook("site.yml", "--limit", LIMIT, label="lived-in-second")
    return Converged(lab, first, second)


def _assert_converged(run: Run) -> None:
    assert run.returncode == 0, f"{describe(run.failed())}\n{run.output}"


def test_realistic_host_is_created_with_its_profile(realistic: Converged) -> None:
    _assert_converged(realistic.first)
    state = realistic.lab.state(HOST)
    assert state["host"]["profile"] == "realistic"
    assert {r.get("id") for r in state["firewall"]["rules"]} >= set(IIS_RULE_IDS)


def test_realistic_converge_disables_the_iis_default_rules(realistic: Converged) -> None:
    _assert_converged(realistic.first)
    rules = [r for r in realistic.lab.state(HOST)["firewall"]["rules"] if r.get("id") in IIS_RULE_IDS]
    assert len(rules) == 2
    assert not any(r["enabled"] for r in rules), [(r["id"], r["enabled"]) for r in rules]


def test_realistic_host_trusts_the_artifact_ca_before_the_bundle_download(realistic: Converged) -> None:
    """A fresh realistic host does not trust the artifact server's CA; the lab requires trust (the
    declaration's default), so the Hosting Bundle installs in one run only if iis imports the CA first."""
    _assert_converged(realistic.first)
    state = realistic.lab.state(HOST)
    assert ARTIFACT_CA_THUMBPRINT in {t.upper() for t in state["certificates"]["LocalMachine"]["Root"]}
    tasks = [r["task"] for r in realistic.first.tasks(HOST) if r["changed"]]
    trust = next(i for i, t in enumerate(tasks) if "Import the CA certificate into LocalMachine" in t)
    bundle = next(i for i, t in enumerate(tasks) if "Install the ASP.NET Core Hosting Bundle" in t)
    assert trust < bundle, tasks


def test_realistic_preload_installs_application_initialization(realistic: Converged) -> None:
    _assert_converged(realistic.first)
    assert realistic.lab.state(HOST)["features"]["Web-AppInit"]["install_state"] == "Installed"


def test_lived_in_converges(lived_in: Converged) -> None:
    _assert_converged(lived_in.first)
    state = lived_in.lab.state(HOST)
    assert state["host"]["profile"] == "lived-in"
    assert "LegacyIntranet" in state["iis"]["sites"]


def test_lived_in_second_run_leaves_schannel_alone(lived_in: Converged) -> None:
    _assert_converged(lived_in.first)
    assert lived_in.second is not None
    _assert_converged(lived_in.second)
    changed = sorted(task for _host, task in lived_in.second.changed(HOST))
    assert not [t for t in changed if "schannel" in t.lower()], changed


def test_profile_labs_stay_out_of_the_repository(realistic: Converged) -> None:
    assert pathlib.Path(realistic.lab.state_dir).is_relative_to(realistic.lab.root)
