"""win_package model (ansible.windows 3.8.0)."""

from __future__ import annotations

import pytest

from winsim import state as st
from winsim.models import packages, registry

PACKAGE = "ansible.windows.win_package"
FEATURE = "ansible.windows.win_feature"
URL = "https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe"


@pytest.fixture
def iis_state(run_module):
    _, state = run_module(FEATURE, {"name": ["Web-Server"]})
    return state


def _bundle(state):
    return state["packages"]["catalogue"]["dotnet-hosting-8.0.11"]


def test_hosting_bundle_from_internal_url(run_module, iis_state):
    pid = _bundle(iis_state)["product_id"]
    args = {"path": URL, "product_id": pid, "arguments": ["/install", "/quiet", "/norestart"]}
    result, untouched = run_module(PACKAGE, args, state=iis_state, check_mode=True)
    assert result["changed"]
    assert untouched == iis_state
    result, state = run_module(PACKAGE, args, state=iis_state)
    assert result["changed"]
    assert result["rc"] == 0
    assert result["reboot_required"] is False
    assert len(result["checksum"]) == 40
    key = f"{registry.UNINSTALL}\\{pid}"
    assert registry.get_value(state, key, "DisplayName")["data"] == "Microsoft .NET 8.0.11 - Windows Server Hosting"
    assert packages.aspnetcore_module_installed(state)
    assert st.exists(state, "C:\\Program Files\\dotnet\\shared\\Microsoft.AspNetCore.App\\8.0.11")
    again, _ = run_module(PACKAGE, args, state=state)
    assert not again["changed"]


def test_bundle_before_iis_does_not_register_the_module(run_module):
    _, state = run_module(PACKAGE, {"path": URL, "product_id": _bundle(st.fresh_state())["product_id"]})
    _, state = run_module(FEATURE, {"name": ["Web-Server"]}, state=state)
    assert not packages.aspnetcore_module_installed(state)


def test_local_path_and_uninstall_by_product_id(run_module, iis_state):
    entry = _bundle(iis_state)
    st.make_dirs(iis_state, "C:\\Temp", "2026-03-01T00:00:00Z")
    st.write_file(iis_state, "C:\\Temp\\dotnet-hosting-8.0.11-win.exe", packages.installer_bytes(entry),
                  "2026-03-01T00:00:00Z")
    args = {"path": "C:\\Temp\\dotnet-hosting-8.0.11-win.exe", "product_id": entry["product_id"]}
    _, state = run_module(PACKAGE, args, state=iis_state)
    absent = {"product_id": entry["product_id"], "state": "absent"}
    result, untouched = run_module(PACKAGE, absent, state=state, check_mode=True)
    assert result["changed"]
    assert untouched == state
    result, removed = run_module(PACKAGE, absent, state=state)
    assert result["changed"]
    assert registry.get_key(removed, f"{registry.UNINSTALL}\\{entry['product_id']}") is None
    assert not packages.aspnetcore_module_installed(removed)
    again, _ = run_module(PACKAGE, absent, state=removed)
    assert not again["changed"]


def test_without_product_id_an_exe_always_runs(run_module):
    result, state = run_module(PACKAGE, {"path": URL})
    assert result["changed"]
    again, _ = run_module(PACKAGE, {"path": URL}, state=state)
    assert again["changed"]


@pytest.mark.parametrize(("exit_code", "expected", "reboot", "failed"), [
    (3010, [0, 3010], True, False),
    (3010, [0], False, True),
])
def test_return_codes(run_module, fresh_state, exit_code, expected, reboot, failed):
    _bundle(fresh_state)["exit_code"] = exit_code
    result, _ = run_module(PACKAGE, {"path": URL, "product_id": _bundle(fresh_state)["product_id"],
                                     "expected_return_code": expected}, state=fresh_state)
    assert result["rc"] == exit_code
    assert bool(result.get("failed")) is failed
    if failed:
        assert result["msg"].startswith("unexpected rc from '")
    else:
        assert result["reboot_required"] is reboot


@pytest.mark.parametrize(("path", "msg"), [
    ("C:\\Temp\\missing.exe", "the file at the path 'C:\\Temp\\missing.exe' cannot be reached"),
    ("https://download.visualstudio.microsoft.com/x.exe",
     'Unhandled exception while executing module: Exception calling "GetResponse" with "0" argument(s): '
     "\"The remote name could not be resolved: 'download.visualstudio.microsoft.com'\""),
    ("https://artifacts.mcms.internal/dotnet/nope.exe",
     'Unhandled exception while executing module: Exception calling "GetResponse" with "0" argument(s): '
     '"The remote server returned an error: (404) Not Found."'),
])
def test_unreachable_installers(run_module, path, msg):
    result, _ = run_module(PACKAGE, {"path": path})
    assert result["failed"]
    assert result["msg"] == msg


def test_checksum_mismatch(run_module):
    result, _ = run_module(PACKAGE, {"path": URL, "checksum": "00"})
    assert result["failed"]
    assert "did not match '00'" in result["msg"]


def test_creates_path(run_module, fresh_state):
    st.make_dirs(fresh_state, "C:\\Program Files\\dotnet", "2026-03-01T00:00:00Z")
    result, _ = run_module(PACKAGE, {"path": URL, "creates_path": "C:\\Program Files\\dotnet"}, state=fresh_state)
    assert not result["changed"]


def test_unknown_installer_fails_loudly(run_module, fresh_state):
    st.make_dirs(fresh_state, "C:\\Temp", "2026-03-01T00:00:00Z")
    st.write_file(fresh_state, "C:\\Temp\\setup.exe", b"MZ", "2026-03-01T00:00:00Z")
    with pytest.raises(Exception, match="no simulated installer"):
        run_module(PACKAGE, {"path": "C:\\Temp\\setup.exe"}, state=fresh_state)


def test_installed_state_read_by_product_id_alone_never_downloads(run_module, iis_state):
    # ansible.windows 3.8.0 win_package.ps1: required_if only checks that `path` is passed, and an empty path
    # is neither a URL nor a file, so Get-InstalledStatus tests the product id alone. The iis role reads the
    # Hosting Bundle's state this way before it imports the artifact CA (decision 15).
    pid = _bundle(iis_state)["product_id"]
    probe = {"path": "", "product_id": pid, "state": "present"}
    missing, untouched = run_module(PACKAGE, probe, state=iis_state, check_mode=True)
    assert missing["changed"] is True
    assert "checksum" not in missing  # nothing was fetched
    assert untouched == iis_state
    _, installed = run_module(PACKAGE, {"path": URL, "product_id": pid}, state=iis_state)
    present, _ = run_module(PACKAGE, probe, state=installed, check_mode=True)
    assert present["changed"] is False
