"""The ASP.NET Core app under the ASP.NET Core Module (``models/http.py``,
``models/iis_worker.py``): releases, the worker's loaded snapshot, file
locks, per-version faults and the pool identity's read access.

Every test here fails on the code before ``iis_worker.py`` existed: there
the app was read afresh from disk on every request, nothing was locked,
the only app fault was one site-wide 500 and nobody checked ACLs.
"""

from __future__ import annotations

import io
import json
import typing as t
import zipfile

import pytest
from conftest import make_run_module

from winsim import state as st
from winsim.models import iis_worker, load_all
from winsim.runtime import HostRuntime
from winsim.store import HostStore

load_all()

RELEASES = "D:\\mcms\\app\\releases"
DLL = "Mcms.Api.dll"
WHEN = "2026-02-01T00:00:00Z"
WEB_CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <location path="." inheritInChildApplications="false">
    <system.webServer>
      <handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" />
      </handlers>
      <aspNetCore processPath="dotnet" arguments=".\\Mcms.Api.dll" stdoutLogEnabled="false"
                  stdoutLogFile=".\\logs\\stdout" hostingModel="{hosting}">
        <environmentVariables>
          <environmentVariable name="ASPNETCORE_ENVIRONMENT" value="{env}" />
        </environmentVariables>
      </aspNetCore>
    </system.webServer>
  </location>
</configuration>
"""


@pytest.fixture
def runtime(tmp_path) -> HostRuntime:
    return HostRuntime(HostStore.for_host("web01", state_dir=str(tmp_path / "state")))


@pytest.fixture
def run(runtime):
    return make_run_module(runtime)


def _ok(result: dict[str, t.Any]) -> dict[str, t.Any]:
    assert not result.get("failed"), result.get("msg")
    return result


def release(state: dict[str, t.Any], version: str, env: str = "Production", hosting: str = "inprocess") -> str:
    root = f"{RELEASES}\\{version}"
    files = {"web.config": WEB_CONFIG.format(env=env, hosting=hosting).encode(), DLL: b"MZ\x90\x00" + version.encode(),
             "Mcms.Domain.dll": b"MZ\x90\x00dom", "version.json": json.dumps({"version": version}).encode(),
             "appsettings.json": b"{}", "appsettings.Production.json": b"{}"}
    st.make_dirs(state, root, WHEN)
    for name, data in files.items():
        st.write_file(state, f"{root}\\{name}", data, WHEN)
    return root


@pytest.fixture
def web(run) -> dict[str, t.Any]:
    """IIS, the Hosting Bundle, pool ``mcms`` and site ``mcms`` on port 80
    pointing at release 1.4.0."""
    _, s = run("ansible.windows.win_feature", {"name": ["Web-Server", "Web-Scripting-Tools"]}, hostname="web01")
    _, s = run("ansible.windows.win_package", {"path": "https://artifacts.mcms.internal/dotnet/"
                                               "dotnet-hosting-8.0.11-win.exe", "state": "present"}, state=s)
    _, s = run("microsoft.iis.website", {"name": "Default Web Site", "state": "absent"}, state=s)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "started"}, state=s)
    root = release(s, "1.4.0")
    result, s = run("microsoft.iis.website", {
        "name": "mcms", "state": "started", "physical_path": root, "application_pool": "mcms",
        "bindings": {"set": [{"ip": "*", "port": 80, "hostname": ""}]}}, state=s)
    _ok(result)
    return s


def get(run, state, path="/health", **args):
    result, new_state = run("ansible.windows.win_uri", {"url": f"http://localhost{path}", "return_content": True,
                                                        "status_code": [200, 401, 500, 502, 503], **args},
                            state=state)
    _ok(result)
    state.clear()
    state.update(new_state)
    return result


def copy(run, state, dest: str, content: bytes, runtime: HostRuntime):
    """win_copy (single mode): the controller's file arrives in a temp dir first."""
    tmp = runtime.make_tmp_dir("C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-tmp-1")
    runtime.write_tmp(tmp + "\\source", content)
    result, new_state = run("ansible.windows.win_copy", {"src": tmp + "\\source", "dest": dest,
                                                         "_original_basename": dest.rsplit("\\", 1)[-1],
                                                         "_copy_mode": "single"}, state=state)
    runtime.remove_tmp(tmp)
    if not result.get("failed"):
        state.clear()
        state.update(new_state)
    return result


def set_root(run, state, root: str) -> None:
    result, new_state = run("microsoft.iis.website", {"name": "mcms", "state": "started", "physical_path": root,
                                                      "application_pool": "mcms"}, state=state)
    _ok(result)
    state.clear()
    state.update(new_state)


# -- health and the version convention ------------------------------------------------

def test_health_reports_the_loaded_release_and_records_the_worker(run, web, runtime):
    res = get(run, web)
    assert res["status_code"] == 200
    assert res["json"] == {"status": "Healthy", "version": "1.4.0"}
    assert res["changed"] is False
    loaded = runtime.load_doc("iis_workers")["mcms"]["apps"]["mcms|/"]
    assert loaded["physical_path"] == f"{RELEASES}\\1.4.0"
    assert loaded["version"] == "1.4.0"
    assert "workers" not in web["iis"]  # runtime, not configuration


def test_new_files_take_effect_only_after_a_recycle(run, web, runtime):
    assert get(run, web)["json"]["version"] == "1.4.0"
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\version.json", b'{"version": "1.4.1"}', runtime))
    assert get(run, web)["json"]["version"] == "1.4.0"  # still the loaded snapshot
    _ok(run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "restarted"}, state=web)[0])
    assert get(run, web)["json"]["version"] == "1.4.1"


def test_physical_path_change_restarts_the_app_from_the_new_release(run, web):
    assert get(run, web)["json"]["version"] == "1.4.0"
    set_root(run, web, release(web, "1.5.0"))
    assert get(run, web)["json"]["version"] == "1.5.0"


def test_one_unhealthy_version_answers_503_only_for_that_version(run, web):
    faults = [{"kind": "unhealthy_release", "target": "1.5.0"}]
    assert get(run, web)["status_code"] == 200
    res, _ = run("ansible.windows.win_uri", {"url": "http://localhost/health", "return_content": True,
                                             "status_code": [200, 503]}, state=web, faults=faults)
    assert res["status_code"] == 200
    assert res["json"]["status"] == "Healthy"
    set_root(run, web, release(web, "1.5.0"))
    res, _ = run("ansible.windows.win_uri", {"url": "http://localhost/health", "return_content": True,
                                             "status_code": [200, 503]}, state=web, faults=faults)
    assert res["status_code"] == 503
    assert res["json"] == {"status": "Unhealthy", "version": "1.5.0"}
    res, _ = run("ansible.windows.win_uri", {"url": "http://localhost/health"}, state=web, faults=faults)
    assert res["failed"] is True
    assert res["msg"] == ("Status code of request '503' is not in list of valid status codes 200 : "
                          "ServiceUnavailable'.")


@pytest.mark.parametrize(("hosting", "status", "title"), [
    ("inprocess", 500, "HTTP Error 500.30 - ASP.NET Core app failed to start"),
    ("outofprocess", 502, "HTTP Error 502.5 - ANCM Out-Of-Process Startup Failure"),
])
def test_app_start_failure_of_one_version(run, web, runtime, hosting, status, title):
    set_root(run, web, release(web, "1.5.0", hosting=hosting))
    res, _ = run("ansible.windows.win_uri", {"url": "http://localhost/health", "return_content": True,
                                             "status_code": [200, 500, 502]}, state=web,
                 faults=[{"kind": "app_start_failure", "target": "1.5.0"}])
    assert res["status_code"] == status
    assert title in res["content"]
    assert runtime.load_doc("iis_workers") == {}  # nothing loaded, nothing locked


def test_swagger_follows_the_loaded_environment(run, web):
    res = get(run, web, "/swagger/index.html", status_code=[404])
    assert res["status_code"] == 404
    set_root(run, web, release(web, "1.5.0", env="Staging"))
    assert get(run, web, "/swagger/index.html")["status_code"] == 200


# -- locks -------------------------------------------------------------------------------

LOCKED = ("The process cannot access the file 'D:\\mcms\\app\\releases\\1.4.0\\Mcms.Api.dll' because it is being "
          "used by another process.")


def test_overwriting_a_loaded_dll_fails_with_the_real_text(run, web, runtime):
    get(run, web)
    res = copy(run, web, f"{RELEASES}\\1.4.0\\{DLL}", b"MZ new build", runtime)
    assert res["failed"] is True
    assert res["msg"] == f"Unhandled exception while executing module: {LOCKED}"
    assert st.read_file(web, f"{RELEASES}\\1.4.0\\{DLL}") == b"MZ\x90\x001.4.0"


def test_a_dll_is_not_locked_before_the_first_request(run, web, runtime):
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\{DLL}", b"MZ new build", runtime))


def test_config_files_stay_writable_while_the_app_runs(run, web, runtime):
    get(run, web)
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\appsettings.json", b'{"Logging": {}}', runtime))


def test_overwrite_succeeds_after_app_offline(run, web, runtime):
    get(run, web)
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\app_offline.htm", b"<html>deploying</html>", runtime))
    res = get(run, web)
    assert res["status_code"] == 503
    assert res["content"] == "<html>deploying</html>"
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\{DLL}", b"MZ new build", runtime))
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\version.json", b'{"version": "1.4.1"}', runtime))
    web_after = run("ansible.windows.win_file", {"path": f"{RELEASES}\\1.4.0\\app_offline.htm", "state": "absent"},
                    state=web)[1]
    web.clear()
    web.update(web_after)
    assert get(run, web)["json"]["version"] == "1.4.1"  # the next request starts the app from the new files


def test_app_offline_then_removed_without_a_request_still_restarts(run, web, runtime):
    """ANCM's file watcher shuts the app down when app_offline.htm appears,
    even when no request comes before it is removed again."""
    get(run, web)
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\app_offline.htm", b"offline", runtime))
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\{DLL}", b"MZ new build", runtime))
    _, s = run("ansible.windows.win_file", {"path": f"{RELEASES}\\1.4.0\\app_offline.htm", "state": "absent"},
               state=web)
    web.clear()
    web.update(s)
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\version.json", b'{"version": "1.4.2"}', runtime))
    assert get(run, web)["json"]["version"] == "1.4.2"


def test_stopped_pool_releases_the_locks(run, web, runtime):
    get(run, web)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "stopped"}, state=web)
    web.clear()
    web.update(s)
    _ok(copy(run, web, f"{RELEASES}\\1.4.0\\{DLL}", b"MZ new build", runtime))


def test_win_file_absent_on_a_loaded_release_fails(run, web):
    get(run, web)
    res, _ = run("ansible.windows.win_file", {"path": f"{RELEASES}\\1.4.0", "state": "absent"}, state=web)
    assert res["failed"] is True
    assert res["msg"].startswith("Failed to delete D:\\mcms\\app\\releases\\1.4.0\\Mcms.")
    assert res["msg"].endswith("because it is being used by another process.")
    # the previous release, not loaded, can go
    release(web, "1.3.0")
    _ok(run("ansible.windows.win_file", {"path": f"{RELEASES}\\1.3.0", "state": "absent"}, state=web)[0])


def test_robocopy_into_a_loaded_release_reports_the_sharing_violation(run, web):
    get(run, web)
    st.make_dirs(web, "D:\\staging\\1.4.0", WHEN)
    st.write_file(web, f"D:\\staging\\1.4.0\\{DLL}", b"MZ rebuilt", "2026-02-02T00:00:00Z")
    res, _ = run("community.windows.win_robocopy", {"src": "D:\\staging\\1.4.0", "dest": f"{RELEASES}\\1.4.0"},
                 state=web)
    assert res["failed"] is True
    assert res["rc"] & 8
    assert any("ERROR 32 (0x00000020) Copying File D:\\staging\\1.4.0\\Mcms.Api.dll" in line
               for line in res["output"])


def test_unzip_over_a_loaded_release_fails(run, web):
    get(run, web)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(DLL, b"MZ rebuilt")
    st.make_dirs(web, "D:\\staging", WHEN)
    st.write_file(web, "D:\\staging\\app.zip", buf.getvalue(), WHEN)
    res, _ = run("community.windows.win_unzip", {"src": "D:\\staging\\app.zip", "dest": f"{RELEASES}\\1.4.0"},
                 state=web)
    assert res["failed"] is True
    assert res["msg"] == ("Error unzipping 'D:\\staging\\app.zip' to 'D:\\mcms\\app\\releases\\1.4.0'!. Method: "
                          "System.IO.Compression.ZipFile, Exception: Exception calling \"ExtractToFile\" with \"3\" "
                          f"argument(s): \"{LOCKED}\"")


# -- the pool identity must read the app folder ------------------------------------------

def test_pool_identity_without_read_access_gets_500_19(run, web):
    root = f"{RELEASES}\\1.4.0"
    _, s = run("ansible.windows.win_acl_inheritance", {"path": root, "state": "absent", "reorganize": False},
               state=web)
    web.clear()
    web.update(s)
    for who in ("BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM"):
        _, s = run("ansible.windows.win_acl", {"path": root, "user": who, "rights": "FullControl",
                                               "type": "allow"}, state=web)
        web.clear()
        web.update(s)
    res = get(run, web)
    assert res["status_code"] == 500
    assert "HTTP Error 500.19" in res["content"]
    assert "Cannot read configuration file due to insufficient permissions" in res["content"]
    _, s = run("ansible.windows.win_acl", {"path": root, "user": "IIS AppPool\\mcms", "rights": "ReadAndExecute",
                                           "type": "allow"}, state=web)
    web.clear()
    web.update(s)
    assert get(run, web)["status_code"] == 200


@pytest.mark.parametrize(("identity", "ace", "expected"), [
    ("IIS AppPool\\mcms", "BUILTIN\\Users", True),
    ("IIS AppPool\\mcms", "BUILTIN\\IIS_IUSRS", True),
    ("IIS AppPool\\mcms", "IIS APPPOOL\\mcms", True),
    ("IIS AppPool\\mcms", "IIS APPPOOL\\other", False),
    ("NT AUTHORITY\\NETWORK SERVICE", "Everyone", True),
])
def test_identity_can_read_is_tolerant_of_account_spelling(identity, ace, expected):
    state = st.fresh_state("web01")
    st.make_dirs(state, "D:\\app", WHEN)
    item = st.get_item(state, "D:\\app")
    item["inherit"] = False
    item["acl"] = [{"identity": ace, "rights": "ReadAndExecute, Synchronize", "type": "allow",
                    "inheritance": "ContainerInherit, ObjectInherit", "propagation": "None"}]
    assert iis_worker.identity_can_read(state, identity, "D:\\app") is expected


def test_a_pool_whose_identity_cannot_log_on_answers_503_until_it_is_restarted(run, web):
    """WAS logs the pool's identity on at the first request: an account that
    does not resolve disables the pool (503 Service Unavailable, the failure
    kept until the pool is started again); a working identity serves."""
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "attributes": {
        "processModel.identityType": "SpecificUser", "processModel.userName": "WEB01\\svc_nobody",
        "processModel.password": "Wr0ng-but-irrelevant"}}, state=web)
    web.clear()
    web.update(s)
    assert get(run, web)["status_code"] == 503
    assert get(run, web)["status_code"] == 503  # still disabled: WAS does not retry on its own
    _, s = run("ansible.windows.win_user", {"name": "svc_nobody", "password": "Wr0ng-but-irrelevant"}, state=web)
    _, s = run("microsoft.iis.web_app_pool", {"name": "mcms", "state": "restarted"}, state=s)
    web.clear()
    web.update(s)
    assert get(run, web)["status_code"] == 200
