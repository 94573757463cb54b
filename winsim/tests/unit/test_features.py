"""win_feature / win_feature_info models (ansible.windows 3.8.0)."""

from __future__ import annotations

import pytest

from winsim import state as st
from winsim.models import features

FEATURE = "ansible.windows.win_feature"
INFO = "ansible.windows.win_feature_info"
IIS_CORE = ["Web-Server", "Web-WebServer", "Web-Common-Http", "Web-Default-Doc", "Web-Dir-Browsing",
            "Web-Http-Errors", "Web-Static-Content", "Web-Health", "Web-Http-Logging", "Web-Performance",
            "Web-Stat-Compression", "Web-Security", "Web-Filtering"]


def _installed(state):
    return {n for n, f in state["features"].items() if f["install_state"] == "Installed"}


@pytest.mark.parametrize("name", ["FileAndStorage-Services", "Storage-Services", "NET-Framework-45-Core",
                                  "NET-WCF-TCP-PortSharing45", "PowerShell", "WoW64-Support", "Windows-Defender",
                                  "XPS-Viewer", "System-DataArchiver"])
def test_fresh_host_has_default_features(fresh_state, name):
    assert fresh_state["features"][name]["install_state"] == "Installed"


@pytest.mark.parametrize("name", ["Web-Server", "Web-DAV-Publishing", "AD-Domain-Services", "RSAT-AD-PowerShell"])
def test_fresh_host_lacks_optional_features(fresh_state, name):
    assert fresh_state["features"][name]["install_state"] == "Available"


def test_check_apply_idempotent(run_module, fresh_state):
    args = {"name": ["Web-Server", "Web-WebSockets", "Web-Windows-Auth"]}
    result, after_check = run_module(FEATURE, args, state=fresh_state, check_mode=True)
    assert result["changed"]
    assert result["exitcode"] == "Success"
    assert after_check == fresh_state
    result, applied = run_module(FEATURE, args, state=fresh_state)
    assert result["changed"]
    assert {"Web-WebSockets", "Web-Windows-Auth", "Web-App-Dev", *IIS_CORE} <= _installed(applied)
    assert "Web-Mgmt-Console" not in _installed(applied)
    names = [r["display_name"] for r in result["feature_result"]]
    assert "WebSocket Protocol" in names
    assert len(names) == len(set(names))
    again, _ = run_module(FEATURE, args, state=applied)
    assert not again["changed"]
    assert again["exitcode"] == "NoChangeNeeded"
    assert again["feature_result"] == []


def test_feature_result_entries_have_documented_fields(run_module):
    result, _ = run_module(FEATURE, {"name": ["Telnet-Client"]})
    assert result["feature_result"] == [{"id": features.get_feature(st.fresh_state(), "Telnet-Client")["id"],
                                         "display_name": "Telnet Client", "message": [], "reboot_required": False,
                                         "skip_reason": "NotSkipped", "success": True}]
    assert result["success"] is True
    assert result["reboot_required"] is False


@pytest.mark.parametrize(("options", "expected", "absent"), [
    ({}, {"Web-Server", "Web-Default-Doc"}, {"Web-DAV-Publishing", "Web-Mgmt-Console"}),
    ({"include_management_tools": True}, {"Web-Mgmt-Console", "Web-Mgmt-Tools"}, {"Web-DAV-Publishing"}),
    ({"include_sub_features": True}, {"Web-DAV-Publishing", "Web-WebSockets", "Web-Ftp-Server", "Web-Net-Ext"},
     set()),
])
def test_sub_feature_and_management_tool_options(run_module, fresh_state, options, expected, absent):
    # All of Web-Server includes the .NET 3.5 extensibility, whose payload is not on a 2022 host.
    st.make_dirs(fresh_state, "D:\\sources\\sxs", "2026-01-05T09:00:00Z")
    _, state = run_module(FEATURE, {"name": ["Web-Server"], "source": "D:\\sources\\sxs", **options},
                          state=fresh_state)
    assert expected <= _installed(state)
    assert not absent & _installed(state)


def test_dependencies_are_installed(run_module):
    _, state = run_module(FEATURE, {"name": ["Web-Asp-Net45"]})
    assert {"Web-Net-Ext45", "Web-ISAPI-Ext", "Web-ISAPI-Filter", "NET-Framework-45-ASPNET",
            "Web-App-Dev", "Web-WebServer", "Web-Server"} <= _installed(state)


def test_management_tools_install_their_parents(run_module):
    _, state = run_module(FEATURE, {"name": ["RSAT-AD-PowerShell"]})
    assert {"RSAT", "RSAT-Role-Tools", "RSAT-AD-Tools", "RSAT-AD-PowerShell"} <= _installed(state)


def test_web_server_creates_iis_baseline(run_module):
    _, state = run_module(FEATURE, {"name": ["Web-Server"]})
    assert "DefaultAppPool" in state["iis"]["app_pools"]
    assert "Default Web Site" in state["iis"]["sites"]
    for svc in ("w3svc", "was", "apphostsvc"):
        assert state["services"][svc]["state"] == "started"
    assert st.exists(state, "C:\\inetpub\\wwwroot")
    config = st.read_file(state, features.APPHOST).decode()
    for fragment in ('name="X-Powered-By"', "<requestFiltering", '<directoryBrowse enabled="false"',
                     "<siteDefaults", 'name="DirectoryListingModule"'):
        assert fragment in config
    rules = {r["name"] for r in state["firewall"]["rules"]}
    assert "World Wide Web Services (HTTPS Traffic-In)" in rules
    # shared configuration off, as a fresh IIS 10 writes redirection.config
    redirection = st.read_file(state, features.REDIRECTION).decode()
    assert "<configurationRedirection />" in redirection
    assert "S-1-5-32-568" in state["user_rights"]["SeImpersonatePrivilege"]
    assert state["registry"]["hklm\\software\\microsoft\\inetstp"]["values"]["majorversion"]["data"] == 10


@pytest.mark.parametrize(("feature", "module"), [("Web-DAV-Publishing", "WebDAVModule"),
                                                 ("Web-WebSockets", "WebSocketModule"),
                                                 ("Web-Windows-Auth", "WindowsAuthenticationModule")])
def test_role_services_register_and_unregister_their_iis_module(run_module, feature, module):
    _, state = run_module(FEATURE, {"name": ["Web-Server", feature]})
    assert f'name="{module}"' in st.read_file(state, features.APPHOST).decode()
    result, state = run_module(FEATURE, {"name": [feature], "state": "absent"}, state=state)
    assert result["changed"]
    assert feature not in _installed(state)
    assert "Web-Server" in _installed(state)
    assert f'name="{module}"' not in st.read_file(state, features.APPHOST).decode()


def test_directory_browsing_is_removable_and_keeps_edits(run_module):
    _, state = run_module(FEATURE, {"name": ["Web-Server"]})
    edited = st.read_file(state, features.APPHOST).replace(b'value="ASP.NET"', b'value="edited"')
    st.write_file(state, features.APPHOST, edited, "2026-03-01T00:00:00Z")
    result, state = run_module(FEATURE, {"name": ["Web-Dir-Browsing"], "state": "absent"}, state=state)
    assert result["changed"]
    assert not result["reboot_required"]
    config = st.read_file(state, features.APPHOST).decode()
    assert 'name="DirectoryListingModule"' not in config
    assert 'value="edited"' in config


def test_removing_web_server_undoes_the_baseline(run_module):
    _, installed = run_module(FEATURE, {"name": ["Web-Server"]})
    result, state = run_module(FEATURE, {"name": ["Web-Server"], "state": "absent"}, state=installed)
    assert result["changed"]
    assert result["reboot_required"]
    assert result["exitcode"] == "SuccessRestartRequired"
    assert not {"Web-Server", "Web-WebServer", "Web-Static-Content"} & _installed(state)
    assert "w3svc" not in state["services"]
    assert not state["iis"]["sites"]
    assert not st.exists(state, features.APPHOST)
    assert "hklm\\software\\microsoft\\inetstp" not in state["registry"]
    assert not any("World Wide Web" in (r["name"] or "") for r in state["firewall"]["rules"])
    again, _ = run_module(FEATURE, {"name": ["Web-Server"], "state": "absent"}, state=state)
    assert not again["changed"]
    assert again["exitcode"] == "NoChangeNeeded"


def test_removing_a_dependency_removes_dependents(run_module):
    _, state = run_module(FEATURE, {"name": ["Web-Asp-Net45"]})
    _, state = run_module(FEATURE, {"name": ["Web-ISAPI-Ext"], "state": "absent"}, state=state)
    assert "Web-Asp-Net45" not in _installed(state)


def test_unknown_feature_fails_like_install_windowsfeature(run_module):
    result, _ = run_module(FEATURE, {"name": ["Web-Nope"]})
    assert result["failed"]
    assert result["msg"] == ("Unhandled exception while executing module: ArgumentNotValid: The role, role service, "
                             "or feature name is not valid: 'Web-Nope'. The name was not found.")


def test_removed_payload_needs_source(run_module, fresh_state):
    result, _ = run_module(FEATURE, {"name": ["NET-Framework-Core"]}, state=fresh_state)
    assert result["failed"]
    assert "0x800f081f" in result["msg"]
    st.make_dirs(fresh_state, "D:\\sources\\sxs", "2026-01-05T09:00:00Z")
    result, state = run_module(FEATURE, {"name": ["NET-Framework-Core"], "source": "D:\\sources\\sxs"},
                               state=fresh_state)
    assert result["changed"]
    assert "NET-Framework-Core" in _installed(state)


def test_all_of_web_server_without_source_fails_on_net35(run_module):
    result, _ = run_module(FEATURE, {"name": ["Web-Server"], "include_sub_features": True})
    assert result["failed"]
    assert result["msg"].endswith("Error: 0x800f081f")


def test_missing_source_fails(run_module):
    result, _ = run_module(FEATURE, {"name": ["NET-Framework-Core"], "source": "D:\\nope"})
    assert result["failed"]
    assert result["msg"] == "Failed to find source path D:\\nope for feature install"


@pytest.mark.parametrize(("pattern", "expected"), [("Web-Server", ["Web-Server"]),
                                                   ("Web-Http-*", ["Web-Http-Errors", "Web-Http-Logging",
                                                                   "Web-Http-Redirect", "Web-Http-Tracing"]),
                                                   ("Nope", [])])
def test_feature_info(run_module, pattern, expected):
    result, _ = run_module(INFO, {"name": pattern})
    assert sorted(f["name"] for f in result["features"]) == expected
    assert result["exists"] is bool(expected)


def test_feature_info_fields(run_module):
    result, _ = run_module(INFO, {"name": "Web-Default-Doc"})
    feat = result["features"][0]
    assert feat["parent"] == "Web-Common-Http"
    assert feat["depth"] == 4
    assert feat["path"] == "Web Server (IIS)\\Web Server\\Common HTTP Features\\Default Document"
    assert feat["installed"] is False
    assert feat["install_state"] == "Available"
