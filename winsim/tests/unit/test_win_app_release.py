"""Model of the project-owned ``mcms.infra.win_app_release`` (``models/app_release.py``): one read of the
application's physical path and loaded-from version, the releases, file hashes, shared folders and Worker."""

from __future__ import annotations

import hashlib
import typing as t

import pytest
from conftest import make_run_module
from test_app_release import RELEASES, _ok, release  # the ANCM release fixtures

from winsim import state as st
from winsim.models import load_all
from winsim.runtime import HostRuntime
from winsim.store import HostStore

load_all()

ARGS = {"app_root": "D:\\mcms\\app", "site": "mcms", "application": "api", "version": "1.5.0",
        "worker_service": "MCMS.Worker", "shared_dirs": ["D:\\mcms\\app\\shared\\logs"]}


@pytest.fixture
def run(tmp_path):
    return make_run_module(HostRuntime(HostStore.for_host("web01", state_dir=str(tmp_path / "state"))))


@pytest.fixture
def web(run) -> dict[str, t.Any]:
    """IIS, site ``mcms`` with application ``/api`` on release 1.4.0; 1.5.0 on disk too."""
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server", "Web-Scripting-Tools"]}, hostname="web01")
    _, s = run("ansible.windows.win_package", {"path": "https://artifacts.mcms.internal/dotnet/"
                                               "dotnet-hosting-8.0.11-win.exe", "state": "present"}, state=s)
    _, s = run("microsoft.iis.website", {"name": "Default Web Site", "state": "absent"}, state=s)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "started"}, state=s)
    root = release(s, "1.4.0")
    release(s, "1.5.0")
    result, s = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": root, "application_pool": "mcms",
        "bindings": {"set": [{"ip": "*", "port": 80, "hostname": ""}]}}, state=s)
    _ok(result)
    result, s = run("microsoft.iis.web_application", {"name": "api", "site": "mcms", "physical_path": root,
                                                      "state": "present"}, state=s)
    _ok(result)
    return s


def test_reads_current_release_version_and_releases(run, web):
    result, after = run("mcms.infra.win_app_release", ARGS, state=web)
    _ok(result)
    assert result["changed"] is False
    assert after == web
    assert result["current_path"] == f"{RELEASES}\\1.4.0"
    assert result["current_version"] == "1.4.0"
    assert result["releases"] == ["1.4.0", "1.5.0"]
    assert result["release"]["exists"] is True
    assert result["shared_missing"] == ["D:\\mcms\\app\\shared\\logs"]
    assert result["worker"]["exists"] is False
    assert "mcms_drift" not in result  # the role publishes the records controller-side (tasks/drift.yml)


def test_reports_missing_and_mismatched_files_with_the_hash_found(run, web):
    good = hashlib.sha256(st.read_file(web, f"{RELEASES}\\1.5.0\\version.json")).hexdigest()
    args = dict(ARGS, files={"version.json": good, "Mcms.Api.dll": "0" * 64, "appsettings.Staging.json": "1" * 64})
    result, _ = run("mcms.infra.win_app_release", args, state=web)
    _ok(result)
    assert result["release"]["missing"] == ["appsettings.Staging.json"]
    assert result["release"]["mismatched"] == ["Mcms.Api.dll"]
    dll = hashlib.sha256(st.read_file(web, f"{RELEASES}\\1.5.0\\Mcms.Api.dll")).hexdigest()
    assert result["release"]["found"] == {"Mcms.Api.dll": dll}


def _worker(run, state, account: str, right: bool) -> dict[str, t.Any]:
    result, s = run("ansible.windows.win_user", {"name": "svc_worker", "password": "Pa55-w0rd-Lab!",
                                                 "state": "present"}, state=state)
    _ok(result)
    if right:
        result, s = run("ansible.windows.win_user_right", {"name": "SeServiceLogonRight", "users": ["svc_worker"],
                                                           "action": "add"}, state=s)
        _ok(result)
    result, _ = run("mcms.infra.win_app_release", dict(ARGS, worker_account=account), state=s)
    _ok(result)
    return result["worker"]


@pytest.mark.parametrize(("account", "right", "expected"), [
    ("svc_worker", True, True),
    ("svc_worker", False, False),  # the SCM would answer 1069 (services.start_failure)
    ("NT AUTHORITY\\NETWORK SERVICE", False, True),
    ("nobody_here", False, None),
])
def test_says_whether_the_worker_account_may_log_on_as_a_service(run, web, account, right, expected):
    worker = _worker(run, web, account, right)
    assert worker["account"] == account
    assert worker["logon_right"] is expected


def test_check_mode_reads_the_same_and_no_application_is_none(run, web):
    result, after = run("mcms.infra.win_app_release", dict(ARGS, application="other"), state=web, check_mode=True)
    _ok(result)
    assert result["application"]["exists"] is False
    assert result["current_version"] is None
    assert after == web


def test_unknown_option_fails_like_ansible_basic(run, web):
    result, _ = run("mcms.infra.win_app_release", dict(ARGS, bogus=1), state=web)
    assert result.get("failed")
    assert "bogus" in result["msg"]


def test_win_uri_host_header_selects_the_binding_independent_of_dns(run, web):
    result, s = run("microsoft.iis.website", {"name": "mcms", "state": "started",
                                              "bindings": {"set": [{"ip": "*", "port": 80,
                                                                    "hostname": "mcms.example"}]}}, state=web)
    _ok(result)
    args = {"url": "http://127.0.0.1/health", "return_content": True, "status_code": [200, 400]}
    plain, _ = run("ansible.windows.win_uri", args, state=s)
    assert plain["status_code"] == 400  # Bad Request - Invalid Hostname: no binding for 127.0.0.1
    named, _ = run("ansible.windows.win_uri", dict(args, headers={"Host": "mcms.example"}), state=s)
    assert named["status_code"] == 200
    assert named["json"]["version"] == "1.4.0"



def test_a_host_without_iis_reports_it_instead_of_failing(run):
    # Get-Module -ListAvailable WebAdministration finds nothing before IIS is
    # installed (a check-mode run on a fresh host): no exception, iis_installed false.
    result, _ = run("mcms.infra.win_app_release", ARGS, hostname="web01")
    assert result.get("failed") is not True, result
    assert result["iis_installed"] is False
