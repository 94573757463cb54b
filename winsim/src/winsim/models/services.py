"""Windows services: ``ansible.windows.win_service`` and
``ansible.windows.win_service_info`` (ansible.windows 3.8.0).

State section ``state["services"]``, keyed by lower-case service name::

    {"name", "display_name", "description", "path", "start_mode" (auto|manual|disabled|delayed|boot|system),
     "state" (stopped|started|paused), "username" (NTAccount value, e.g. "NT AUTHORITY\\SYSTEM"),
     "password_digest" (identity.logon_digest of the last password set, never clear text; None for the
                        service accounts and (g)MSAs),
     "dependencies": [service names], "service_type", "desktop_interact", "error_control",
     "load_order_group", "failure_actions": [{"type", "delay_ms"}], "failure_actions_on_non_crash_failure",
     "failure_command", "failure_reboot_msg", "failure_reset_period_sec", "pre_shutdown_timeout_ms",
     "required_privileges": [...], "sid_info", "can_pause_and_continue", "can_stop", "process_id",
     "triggers": [...],
     "binary_in_files": true (ImagePath set through win_service: its executable must exist in the simulated
                              file system to start; absent for services installers laid down),
     "start_error": {"win32_error", "message", "event_7000", "logon_error", "account"} (the last failed start,
                    what the System event log says; removed by a successful start)}

Starting a service (``win_service`` state started/restarted, and any model
through :func:`start`) does what the service control manager does: a
disabled service fails (Win32 1058); the service account must log on
(1069): it resolves through :mod:`winsim.identity`, its password matches
the SAM or AD one, a gMSA is retrievable by this computer's account, it is
enabled and holds ``SeServiceLogonRight`` here (``win_service`` does not
grant it: ``ChangeServiceConfigW``, unlike services.msc); then the
executable must exist (2).  ``Start-Service`` reports every one of these
with the same message (``Service 'X (x)' cannot be started due to the
following error: Cannot start service x on computer '.'.``).

Other models install and remove services through :func:`install_service`
and :func:`remove_service` (features, packages).  A ``service_start`` fault
whose ``target`` is the service name makes every start of that service fail
with the error ``Start-Service`` reports.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import typing as t

from ..drift import Arg, drift, run_upstream
from ..drift import find_named as _find_named
from ..drift import section_of as _section
from ..state import section
from . import accounts
from ._base import ModuleContext, model

UPSTREAM = "ansible.windows 3.8.0"

SYSTEM = "NT AUTHORITY\\SYSTEM"
LOCAL_SERVICE = "NT AUTHORITY\\LocalService"
NETWORK_SERVICE = "NT AUTHORITY\\NetworkService"
SVCHOST = "C:\\Windows\\system32\\svchost.exe -k "

# name, display name, start mode, running, account, dependencies, path, pausable, description
_DEFAULTS: list[tuple[str, str, str, bool, str, list[str], str, bool, str]] = [
    ("AppIDSvc", "Application Identity", "manual", False, LOCAL_SERVICE, ["RpcSs", "CryptSvc", "AppID"],
     SVCHOST + "LocalServiceNetworkRestricted -p", False,
     "Determines and verifies the identity of an application."),
    ("Appinfo", "Application Information", "manual", True, SYSTEM, ["RpcSs", "ProfSvc"],
     SVCHOST + "netsvcs -p", False, "Facilitates the running of interactive applications with additional "
                                    "administrative privileges."),
    ("BFE", "Base Filtering Engine", "auto", True, LOCAL_SERVICE, ["RpcSs"],
     SVCHOST + "LocalServiceNoNetworkFirewall -p", False,
     "The Base Filtering Engine (BFE) is a service that manages firewall and Internet Protocol security (IPsec) "
     "policies and implements user mode filtering."),
    ("BITS", "Background Intelligent Transfer Service", "manual", False, SYSTEM, ["RpcSs"],
     SVCHOST + "netsvcs -p", False, "Transfers files in the background using idle network bandwidth."),
    ("CertPropSvc", "Certificate Propagation", "manual", True, SYSTEM, ["RpcSs"],
     SVCHOST + "netsvcs", False, "Copies user certificates and root certificates from smart cards into the "
                                 "current user's certificate store."),
    ("CryptSvc", "Cryptographic Services", "auto", True, NETWORK_SERVICE, ["RpcSs"],
     SVCHOST + "NetworkService -p", False, "Provides three management services."),
    ("DcomLaunch", "DCOM Server Process Launcher", "auto", True, SYSTEM, [],
     SVCHOST + "DcomLaunch -p", False, "The DCOMLAUNCH service launches COM and DCOM servers."),
    ("Dhcp", "DHCP Client", "auto", True, LOCAL_SERVICE, ["NSI", "Afd"],
     SVCHOST + "LocalServiceNetworkRestricted -p", False,
     "Registers and updates IP addresses and DNS records for this computer."),
    ("Dnscache", "DNS Client", "auto", True, NETWORK_SERVICE, ["nsi"],
     SVCHOST + "NetworkService -p", False,
     "The DNS Client service (dnscache) caches Domain Name System (DNS) names and registers the full computer "
     "name for this computer."),
    ("EventLog", "Windows Event Log", "auto", True, LOCAL_SERVICE, [],
     SVCHOST + "LocalServiceNetworkRestricted -p", False,
     "This service manages events and event logs."),
    ("EventSystem", "COM+ Event System", "auto", True, LOCAL_SERVICE, ["rpcss"],
     SVCHOST + "LocalService -p", False, "Supports System Event Notification Service (SENS)."),
    ("gpsvc", "Group Policy Client", "auto", True, SYSTEM, ["RPCSS", "Mup"],
     SVCHOST + "netsvcs -p", False, "The service is responsible for applying settings configured by "
                                    "administrators for the computer and users through the Group Policy component."),
    ("iphlpsvc", "IP Helper", "auto", True, SYSTEM, ["RpcSS", "tcpip", "nsi", "WinHttpAutoProxySvc"],
     SVCHOST + "NetSvcs -p", False, "Provides tunnel connectivity using IPv6 transition technologies."),
    ("KeyIso", "CNG Key Isolation", "manual", True, SYSTEM, ["RpcSs"],
     "C:\\Windows\\system32\\lsass.exe", False, "The CNG key isolation service is hosted in the LSA process."),
    ("LanmanServer", "Server", "auto", True, SYSTEM, ["SamSS", "Srv2"],
     SVCHOST + "smbsvcs", True, "Supports file, print, and named-pipe sharing over the network for this "
                                "computer."),
    ("LanmanWorkstation", "Workstation", "auto", True, NETWORK_SERVICE, ["Bowser", "MRxSmb20", "NSI"],
     SVCHOST + "NetworkService -p", True, "Creates and maintains client network connections to remote servers "
                                          "using the SMB protocol."),
    ("lmhosts", "TCP/IP NetBIOS Helper", "manual", True, LOCAL_SERVICE, ["Afd"],
     SVCHOST + "LocalServiceNetworkRestricted -p", False,
     "Provides support for the NetBIOS over TCP/IP (NetBT) service and NetBIOS name resolution for clients on "
     "the network."),
    ("MpsSvc", "Windows Defender Firewall", "auto", True, LOCAL_SERVICE, ["mpsdrv", "bfe"],
     SVCHOST + "LocalServiceNoNetworkFirewall -p", False,
     "Windows Defender Firewall helps protect your computer by preventing unauthorized users from gaining "
     "access to your computer through the Internet or a network."),
    ("MSDTC", "Distributed Transaction Coordinator", "auto", True, NETWORK_SERVICE, ["RPCSS", "SamSS"],
     "C:\\Windows\\System32\\msdtc.exe", False, "Coordinates transactions that span multiple resource managers."),
    ("msiserver", "Windows Installer", "manual", False, SYSTEM, ["rpcss"],
     "C:\\Windows\\system32\\msiexec.exe /V", False,
     "Adds, modifies, and removes applications provided as a Windows Installer (*.msi, *.msp) package."),
    ("Netlogon", "Netlogon", "manual", False, SYSTEM, ["LanmanWorkstation"],
     "C:\\Windows\\system32\\lsass.exe", True, "Maintains a secure channel between this computer and the domain "
                                               "controller for authenticating users and services."),
    ("netprofm", "Network List Service", "manual", True, LOCAL_SERVICE, ["RpcSs", "nlasvc"],
     SVCHOST + "LocalService -p", False, "Identifies the networks to which the computer has connected."),
    ("NlaSvc", "Network Location Awareness", "auto", True, NETWORK_SERVICE, ["NSI", "RpcSs", "TcpIp", "Dhcp",
                                                                             "EventLog"],
     SVCHOST + "NetworkService -p", False, "Collects and stores configuration information for the network."),
    ("nsi", "Network Store Interface Service", "auto", True, LOCAL_SERVICE, ["rpcss", "nsiproxy"],
     SVCHOST + "LocalService -p", False, "This service delivers network notifications."),
    ("PlugPlay", "Plug and Play", "manual", True, SYSTEM, [],
     SVCHOST + "DcomLaunch -p", False, "Enables a computer to recognize and adapt to hardware changes."),
    ("Power", "Power", "auto", True, SYSTEM, [],
     SVCHOST + "DcomLaunch -p", False, "Manages power policy and power policy notification delivery."),
    ("ProfSvc", "User Profile Service", "auto", True, SYSTEM, ["RpcSs"],
     SVCHOST + "netsvcs -p", False, "This service is responsible for loading and unloading user profiles."),
    ("RemoteRegistry", "Remote Registry", "disabled", False, LOCAL_SERVICE, ["RPCSS"],
     SVCHOST + "localService -p", False,
     "Enables remote users to modify registry settings on this computer."),
    ("RpcEptMapper", "RPC Endpoint Mapper", "auto", True, NETWORK_SERVICE, [],
     SVCHOST + "RPCSS -p", False, "Resolves RPC interfaces identifiers to transport endpoints."),
    ("RpcSs", "Remote Procedure Call (RPC)", "auto", True, NETWORK_SERVICE, ["RpcEptMapper", "DcomLaunch"],
     SVCHOST + "rpcss -p", False, "The RPCSS service is the Service Control Manager for COM and DCOM servers."),
    ("SamSs", "Security Accounts Manager", "auto", True, SYSTEM, ["RPCSS"],
     "C:\\Windows\\system32\\lsass.exe", False,
     "The startup of this service signals other services that the Security Accounts Manager (SAM) is ready to "
     "accept requests."),
    ("Schedule", "Task Scheduler", "auto", True, SYSTEM, ["RPCSS", "SystemEventsBroker"],
     SVCHOST + "netsvcs -p", False, "Enables a user to configure and schedule automated tasks on this computer."),
    ("SENS", "System Event Notification Service", "auto", True, SYSTEM, ["EventSystem"],
     SVCHOST + "netsvcs -p", False, "Monitors system events and notifies subscribers to COM+ Event System of "
                                    "these events."),
    ("SessionEnv", "Remote Desktop Configuration", "manual", True, SYSTEM, ["RPCSS", "LanmanWorkstation"],
     SVCHOST + "netsvcs -p", False, "Remote Desktop Configuration service (RDCS) is responsible for all Remote "
                                    "Desktop Services and Remote Desktop related configuration."),
    ("Spooler", "Print Spooler", "auto", True, SYSTEM, ["RPCSS", "http"],
     "C:\\Windows\\System32\\spoolsv.exe", False,
     "This service spools print jobs and handles interaction with the printer."),
    ("SystemEventsBroker", "System Events Broker", "auto", True, SYSTEM, ["RpcEptMapper", "RpcSs"],
     SVCHOST + "DcomLaunch -p", False, "Coordinates execution of background work for WinRT application."),
    ("TermService", "Remote Desktop Services", "manual", True, NETWORK_SERVICE, ["RPCSS"],
     SVCHOST + "NetworkService", False, "Allows users to connect interactively to a remote computer."),
    ("Themes", "Themes", "auto", True, SYSTEM, [],
     SVCHOST + "netsvcs -p", False, "Provides user experience theme management."),
    ("TrustedInstaller", "Windows Modules Installer", "manual", False, SYSTEM, [],
     "C:\\Windows\\servicing\\TrustedInstaller.exe", False,
     "Enables installation, modification, and removal of Windows updates and optional components."),
    ("UmRdpService", "Remote Desktop Services UserMode Port Redirector", "manual", True, SYSTEM,
     ["TermService", "RDPDR"], SVCHOST + "LocalSystemNetworkRestricted -p", False,
     "Allows the redirection of Printers/Drives/Ports for RDP connections"),
    ("W32Time", "Windows Time", "manual", True, LOCAL_SERVICE, [],
     SVCHOST + "LocalService", False, "Maintains date and time synchronization on all clients and servers in "
                                      "the network."),
    ("WinDefend", "Microsoft Defender Antivirus Service", "auto", True, SYSTEM, ["RpcSs"],
     "\"C:\\ProgramData\\Microsoft\\Windows Defender\\platform\\4.18.24090.11-0\\MsMpEng.exe\"", False,
     "Helps protect users from malware and other potentially unwanted software"),
    ("WinHttpAutoProxySvc", "WinHTTP Web Proxy Auto-Discovery Service", "manual", True, LOCAL_SERVICE, ["Dhcp"],
     SVCHOST + "LocalServiceNetworkRestricted -p", False,
     "WinHTTP implements the client HTTP stack and provides developers with a Win32 API and COM Automation "
     "component for sending HTTP requests and receiving responses."),
    ("Winmgmt", "Windows Management Instrumentation", "auto", True, SYSTEM, ["RPCSS"],
     SVCHOST + "netsvcs -p", True, "Provides a common interface and object model to access management "
                                   "information about operating system, devices, applications and services."),
    ("WinRM", "Windows Remote Management (WS-Management)", "auto", True, NETWORK_SERVICE, ["RPCSS", "HTTP"],
     SVCHOST + "NetworkService -p", False,
     "Windows Remote Management (WinRM) service implements the WS-Management protocol for remote management."),
    ("wuauserv", "Windows Update", "manual", False, SYSTEM, ["rpcss"],
     SVCHOST + "netsvcs -p", False, "Enables the detection, download, and installation of updates for Windows "
                                    "and other programs."),
]


def new_service(name: str, display_name: str, path: str, *, start_mode: str = "manual", state: str = "stopped",
                username: str = SYSTEM, dependencies: list[str] | None = None, description: str = "",
                can_pause_and_continue: bool = False, service_type: str = "win32_own_process",
                sid_info: str = "none") -> dict[str, t.Any]:
    """A service record as the state stores it (see the module docstring)."""
    return {
        "name": name, "display_name": display_name, "description": description, "path": path,
        "start_mode": start_mode, "state": state, "username": username, "password_digest": None,
        "dependencies": list(dependencies or []), "service_type": service_type, "desktop_interact": False,
        "error_control": "normal", "load_order_group": "",
        "failure_actions": [], "failure_actions_on_non_crash_failure": False, "failure_command": None,
        "failure_reboot_msg": None, "failure_reset_period_sec": 0, "pre_shutdown_timeout_ms": 0,
        "required_privileges": [], "sid_info": sid_info, "can_pause_and_continue": can_pause_and_continue,
        "can_stop": True, "process_id": _pid(name) if state != "stopped" else 0, "triggers": [],
    }


def _pid(name: str) -> int:
    return 400 + int(hashlib.sha1(name.lower().encode()).hexdigest()[:6], 16) % 9000 * 4


@section("services")
def _fresh_services() -> dict[str, t.Any]:
    out = {}
    for name, display, mode, running, acct, deps, path, pausable, desc in _DEFAULTS:
        share = "svchost.exe -k" in path
        svc = new_service(name, display, path, start_mode=mode, state="started" if running else "stopped",
                          username=acct, dependencies=deps, description=desc, can_pause_and_continue=pausable,
                          service_type="win32_share_process" if share else "win32_own_process",
                          sid_info="unrestricted" if name in ("MpsSvc", "BFE", "WinDefend", "EventLog") else "none")
        if name in ("RpcSs", "DcomLaunch", "RpcEptMapper", "SamSs", "Power", "PlugPlay", "KeyIso", "BFE"):
            svc["can_stop"] = False
        if name in ("WinRM", "W32Time", "Dnscache", "LanmanServer", "MpsSvc", "EventLog"):
            svc["failure_actions"] = [{"type": "restart", "delay_ms": 120000}, {"type": "restart", "delay_ms": 300000},
                                      {"type": "none", "delay_ms": 0}]
            svc["failure_reset_period_sec"] = 86400
        out[name.lower()] = svc
    return out


# -- helpers other models use ---------------------------------------------------

def get_service(state: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    """``Get-ServiceFromName``: by service name, then by display name."""
    services = state.get("services", {})
    svc = services.get(name.lower())
    if svc is not None:
        return svc
    for s in services.values():
        if s["display_name"] == name:
            return s
    return None


def install_service(state: dict[str, t.Any], record: dict[str, t.Any]) -> None:
    state["services"][record["name"].lower()] = record


def remove_service(state: dict[str, t.Any], name: str) -> None:
    state["services"].pop(name.lower(), None)


def dependents(state: dict[str, t.Any], name: str) -> list[dict[str, t.Any]]:
    """Services that depend on ``name`` (``DependedBy``)."""
    return [s for s in state["services"].values()
            if name.lower() in (d.lower() for d in s["dependencies"])]


def start_error(svc: dict[str, t.Any]) -> str:
    return (f"Service '{svc['display_name']} ({svc['name']})' cannot be started due to the following error: "
            f"Cannot start service {svc['name']} on computer '.'.")


ERROR_FILE_NOT_FOUND = 2
ERROR_SERVICE_DISABLED = 1058
ERROR_SERVICE_LOGON_FAILED = 1069
WIN32_MESSAGES = {
    ERROR_FILE_NOT_FOUND: "The system cannot find the file specified.",
    ERROR_SERVICE_DISABLED: "The service cannot be started, either because it is disabled or because it has no "
                            "enabled devices associated with it.",
    ERROR_SERVICE_LOGON_FAILED: "The service did not start due to a logon failure.",
}


def image_candidates(path: str) -> list[str]:
    """The executable ``CreateProcess`` runs for an ImagePath: the quoted
    part, else each space-separated prefix in turn (the unquoted-path
    search), ``.exe`` appended when the name has no extension."""
    path = path.strip()
    if path.startswith('"'):
        end = path.find('"', 1)
        heads = [path[1:end] if end > 0 else path[1:]]
    else:
        parts = path.split(" ")
        heads = [" ".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out: list[str] = []
    for head in heads:
        out.append(head)
        if "." not in head.rsplit("\\", 1)[-1]:
            out.append(head + ".exe")
    return out


def _binary_missing(ctx: ModuleContext, svc: dict[str, t.Any]) -> bool:
    """Whether the service's executable is missing.  Only services whose
    ImagePath was set through ``win_service`` (``binary_in_files``) are
    checked against the simulated file system: the binaries of services
    that features, SQL Server setup or packages install are laid down by
    those installers, which winsim does not model file by file."""
    if not svc.get("binary_in_files"):
        return False
    from .. import state as st

    for candidate in image_candidates(st.expand_env(svc["path"], ctx.state)):
        if not st.is_absolute(candidate):
            continue
        item = st.get_item(ctx.state, candidate)
        if item is not None and item.get("type") != "directory":
            return False
    return True


def start_failure(ctx: ModuleContext, svc: dict[str, t.Any]) -> tuple[int, str | None] | None:
    """What the service control manager reports when it starts ``svc``:
    ``(Win32 error, logon reason)`` or None.  In SCM order: disabled (1058);
    the logon of the service account (1069: unknown account, wrong
    password, gMSA not retrievable by this computer, account disabled, no
    ``SeServiceLogonRight`` here; see :func:`winsim.identity.logon_failure`);
    the executable (2)."""
    from .. import identity

    if svc["start_mode"] == "disabled":
        return ERROR_SERVICE_DISABLED, None
    if svc.get("service_type") not in ("kernel_driver", "file_system_driver"):
        reason = identity.logon_failure(ctx.state, svc.get("username"), svc.get("password_digest"),
                                        identity.lab_of(ctx))
        if reason is not None:
            return ERROR_SERVICE_LOGON_FAILED, reason
    if _binary_missing(ctx, svc):
        return ERROR_FILE_NOT_FOUND, None
    return None


def _record_start_failure(ctx: ModuleContext, svc: dict[str, t.Any], code: int, reason: str | None) -> None:
    """Keep what the System event log would say (event 7000, and 7038/7041
    for a logon failure) on the service record, as ``start_error``."""
    if ctx.check_mode:
        return
    event = (f"The {svc['display_name']} service failed to start due to the following error: \r\n"
             f"{WIN32_MESSAGES[code]}")
    svc["start_error"] = {"win32_error": code, "message": WIN32_MESSAGES[code], "event_7000": event,
                          "logon_error": reason, "account": svc.get("username")}


def start(ctx: ModuleContext, svc: dict[str, t.Any], _seen: set[str] | None = None) -> None:
    """``Start-Service``: starts the service and, first, what it depends on.
    Honours ``service_start`` faults, disabled start modes, the logon of the
    service account and the executable (:func:`start_failure`).  Every
    failure surfaces as ``Start-Service``'s own exception message (the
    Win32 error is its inner exception, which the module's message does not
    show; winsim keeps it in the record's ``start_error``)."""
    seen = _seen if _seen is not None else set()
    if svc["name"].lower() in seen:
        return
    seen.add(svc["name"].lower())
    for dep in svc["dependencies"]:
        dsvc = get_service(ctx.state, dep)
        if dsvc is not None and dsvc["state"] != "started":
            start(ctx, dsvc, seen)
    if svc["start_mode"] == "disabled" or ctx.faults.find("service_start", svc["name"]) is not None:
        if svc["start_mode"] == "disabled":
            _record_start_failure(ctx, svc, ERROR_SERVICE_DISABLED, None)
        ctx.fail(f"Unhandled exception while executing module: {start_error(svc)}")
    if not ctx.check_mode:
        failure = start_failure(ctx, svc)
        if failure is not None:
            _record_start_failure(ctx, svc, *failure)
            ctx.fail(f"Unhandled exception while executing module: {start_error(svc)}")
        svc.pop("start_error", None)
        svc["state"] = "started"
        svc["process_id"] = _pid(svc["name"])


def stop(ctx: ModuleContext, svc: dict[str, t.Any], force: bool) -> None:
    """``Stop-Service [-Force]``: refuses when running dependents exist and
    ``-Force`` is not given; with it, stops them first."""
    running = [d for d in dependents(ctx.state, svc["name"]) if d["state"] != "stopped"]
    if running and not force:
        ctx.fail(f"Unhandled exception while executing module: Cannot stop service '{svc['display_name']} "
                 f"({svc['name']})' because it has dependent services. It can only be stopped if the Force flag "
                 "is set.")
    for dep in running:
        stop(ctx, dep, force)
    if not svc.get("can_stop", True):
        ctx.fail(f"Unhandled exception while executing module: Service '{svc['display_name']} ({svc['name']})' "
                 f"cannot be stopped due to the following error: Cannot stop {svc['name']} service on computer '.'.")
    if not ctx.check_mode:
        svc["state"] = "stopped"
        svc["process_id"] = 0


# -- win_service ------------------------------------------------------------------

def _diff(svc: dict[str, t.Any] | None) -> t.Any:
    if svc is None:
        return ""
    out = {
        "dependencies": list(svc["dependencies"]), "description": svc["description"] or None,
        "desktop_interact": svc["desktop_interact"], "display_name": svc["display_name"],
        "error_control": svc["error_control"], "failure_actions": copy.deepcopy(svc["failure_actions"]),
        "failure_actions_on_non_crash_failure": svc["failure_actions_on_non_crash_failure"],
        "failure_command": svc["failure_command"], "failure_reboot_msg": svc["failure_reboot_msg"],
        "failure_reset_period_sec": svc["failure_reset_period_sec"], "load_order_group": svc["load_order_group"],
        "name": svc["name"], "path": svc["path"], "pre_shutdown_timeout_ms": svc["pre_shutdown_timeout_ms"],
        "required_privileges": list(svc["required_privileges"]), "service_type": svc["service_type"],
        "sid_info": svc["sid_info"], "start_mode": svc["start_mode"], "state": svc["state"],
    }
    if svc["service_type"] not in ("kernel_driver", "file_system_driver"):
        out["username"] = svc["username"]
        out["password"] = "REDACTED"
    return out


def _account(ctx: ModuleContext, name: str) -> tuple[str, str]:
    """win_service's ``ConvertTo-SecurityIdentifier`` (accepts LocalSystem),
    through the one resolver (:mod:`winsim.identity`)."""
    from .. import identity

    if name.lower() == "localsystem":
        return "S-1-5-18", SYSTEM
    res = accounts.resolve_account(ctx.state, name, identity.lab_of(ctx))
    if res is None:
        ctx.fail(f"Unhandled exception while executing module: {accounts.TRANSLATE_ERROR}")
    canonical = {"S-1-5-19": LOCAL_SERVICE, "S-1-5-20": NETWORK_SERVICE}.get(res[0], res[1])
    return res[0], canonical


@model("ansible.windows.win_service", upstream=UPSTREAM, partial_on_failure=True)
def win_service(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    name = p["name"]
    path = p.get("path")
    if path is not None:
        from ..state import expand_env
        path = expand_env(path, state)
    svc = get_service(state, name)
    before = _diff(svc)
    after: t.Any
    changed = False

    if p.get("state") == "absent":
        if svc is not None:
            if svc["state"] != "stopped":
                stop(ctx, svc, p["force_dependent_services"])
            if not ctx.check_mode:
                remove_service(state, svc["name"])
            changed = True
        after = ""
    else:
        detect = svc is not None or any(p.get(k) is not None for k in (
            "description", "display_name", "dependencies", "error_control", "failure_actions",
            "failure_actions_on_non_crash_failure", "failure_command", "failure_reboot_msg",
            "failure_reset_period_sec", "load_order_group", "path", "pre_shutdown_timeout_ms",
            "required_privileges", "service_type", "sid_info", "start_mode", "state", "username", "password",
        )) or p["dependency_action"] != "set" or p["desktop_interact"]
        if not detect:
            after = before
        else:
            update_password = p.get("update_password") == "always"
            created = False
            if svc is None:
                update_password = True
                if path is None:
                    ctx.fail(f"Service '{name}' is not installed, need to set 'path' to create a new service")
                changed = True
                created = True
                svc = new_service(name, name, path, start_mode="auto")
                svc["binary_in_files"] = True
                if not ctx.check_mode:
                    install_service(state, svc)
            # In check mode a new service does not exist yet: the real module
            # reports the requested values without comparing them.
            work = svc if not ctx.check_mode else copy.deepcopy(svc)
            real = not (created and ctx.check_mode)
            after = {"name": work["name"]}
            changed |= _configure(ctx, work, after, update_password, real)
            changed |= _set_state(ctx, work, after, real)
    ctx.changed(changed)

    result: dict[str, t.Any] = {"exists": False}
    if after:
        result.update({
            "exists": True, "dependencies": after.get("dependencies"), "description": after.get("description"),
            "desktop_interact": after.get("desktop_interact"), "display_name": after.get("display_name"),
            "name": after.get("name"), "path": after.get("path"), "start_mode": after.get("start_mode"),
            "username": after.get("username"),
        })
        if after.get("username"):
            sid = "S-1-5-18" if after["username"].lower() in ("localsystem", SYSTEM.lower()) else None
            if sid:
                result["username"] = "LocalSystem"
        st_val = (after.get("state") or "").replace("_", "")
        result["state"] = "running" if st_val in ("restarted", "started") else st_val
        result["can_pause_and_continue"] = None
        result["depended_by"] = []
        final = get_service(state, after["name"]) if after.get("name") else None
        if final is not None:
            result["depended_by"] = [d["name"] for d in dependents(state, final["name"])]
            result["can_pause_and_continue"] = final["can_pause_and_continue"]
    ctx.set_diff(before, after)
    return ctx.exit(**result)


def _configure(ctx: ModuleContext, svc: dict[str, t.Any], after: dict[str, t.Any], update_password: bool,
               real: bool) -> bool:
    """The ``Set-Service*`` functions of the module, in their order.  When
    ``real`` is false (a service created in check mode) the requested values
    are only echoed into the diff."""
    p = ctx.params
    changed = False

    # Set-ServiceAccount (ChangeServiceConfigW: unlike services.msc it grants no SeServiceLogonRight)
    from .. import identity

    if svc["service_type"] not in ("kernel_driver", "file_system_driver"):
        after["username"] = p.get("username")
        after["password"] = "REDACTED"
        if real:
            want_sid = None
            if p.get("username"):
                want_sid, want_name = _account(ctx, p["username"])
                after["username"] = want_name
            have_sid, _ = _account(ctx, svc["username"])
            if want_sid is None:
                after["username"] = svc["username"]
            elif want_sid != have_sid:
                if want_sid != "S-1-5-18":
                    svc["desktop_interact"] = False
                svc["username"] = want_name
                if not ctx.check_mode:
                    accounts.remember(ctx.state, want_sid, want_name)
                update_password = True
                changed = True
            if want_sid is not None and want_sid != have_sid and (
                    want_sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20") or want_name.endswith("$")):
                # SCManager.cs blanks the password of the service accounts and of (g)MSAs.
                svc["password_digest"] = None
            if update_password and p.get("password"):
                after["password"] = "CHANGED REDACTED"
                svc["password_digest"] = identity.logon_digest(ctx.state, svc["username"], p["password"],
                                                               identity.lab_of(ctx))
                changed = True

    # Set-ServiceDependency
    deps = p.get("dependencies")
    after["dependencies"] = deps
    if real:
        after["dependencies"] = list(svc["dependencies"])
        if deps is not None:
            existing = list(svc["dependencies"])
            action = p["dependency_action"]
            if action == "add":
                added, removed = [d for d in dict.fromkeys(deps) if d not in existing], []
            elif action == "remove":
                added, removed = [], [d for d in dict.fromkeys(deps) if d in existing]
            else:
                added = [d for d in dict.fromkeys(deps) if d not in existing]
                removed = [d for d in existing if d not in deps]
            if added or removed:
                new = [d for d in existing if d not in removed] + added
                after["dependencies"] = new
                svc["dependencies"] = new
                changed = True

    def simple(opt: str, field: str, *, empty_is_null: bool = False, case: bool = True,
               skip_falsy: bool = False) -> None:
        nonlocal changed
        want = p.get(opt)
        after[opt] = want
        if not real:
            return
        if want is None or (skip_falsy and not want):
            after[opt] = svc[field]
            return
        if empty_is_null and want == "":
            want = None
        have = svc[field]
        differs = want != have if case or not isinstance(want, str) else want.lower() != str(have).lower()
        if differs:
            svc[field] = want
            after[opt] = want
            changed = True
        else:
            after[opt] = have

    # Set-ServiceDescription / DisplayName / ErrorControl
    simple("description", "description", empty_is_null=True)
    if real and svc["description"] == "":
        svc["description"] = None
    simple("display_name", "display_name", skip_falsy=True)
    simple("error_control", "error_control", case=False)

    # Set-ServiceFailureAction
    after["failure_actions"] = p.get("failure_actions")
    if real:
        simple("failure_actions_on_non_crash_failure", "failure_actions_on_non_crash_failure")
        actions = p.get("failure_actions")
        if actions is None:
            after["failure_actions"] = copy.deepcopy(svc["failure_actions"])
        else:
            new_actions = [{"type": a["type"], "delay_ms": int(a.get("delay_ms") or 0)} for a in actions]
            if new_actions != svc["failure_actions"]:
                svc["failure_actions"] = new_actions
                changed = True
        simple("failure_command", "failure_command", empty_is_null=True)
        simple("failure_reboot_msg", "failure_reboot_msg", empty_is_null=True)
        simple("failure_reset_period_sec", "failure_reset_period_sec")
    else:
        for opt in ("failure_actions_on_non_crash_failure", "failure_command", "failure_reboot_msg",
                    "failure_reset_period_sec"):
            after[opt] = p.get(opt)

    simple("load_order_group", "load_order_group")
    old_path = svc["path"]
    simple("path", "path", skip_falsy=True)
    if real and svc["path"] != old_path:
        svc["binary_in_files"] = True
    simple("pre_shutdown_timeout_ms", "pre_shutdown_timeout_ms")

    # Set-ServiceRequiredPrivilege (set comparison)
    privs = p.get("required_privileges")
    after["required_privileges"] = privs
    if real:
        if privs is None:
            after["required_privileges"] = list(svc["required_privileges"])
        elif set(privs) != set(svc["required_privileges"]):
            svc["required_privileges"] = list(privs)
            changed = True

    simple("sid_info", "sid_info", case=False)
    simple("start_mode", "start_mode")

    # Set-ServiceType
    after["desktop_interact"] = p["desktop_interact"]
    after["service_type"] = p.get("service_type")
    if real:
        want_type = p.get("service_type") or svc["service_type"]
        after["service_type"] = want_type
        if p["desktop_interact"]:
            acct = p.get("username") or svc["username"]
            if _account(ctx, acct)[0] != "S-1-5-18":
                ctx.fail("Can only set 'desktop_interact' to true when 'username' equals 'SYSTEM'")
        if want_type != svc["service_type"] or p["desktop_interact"] != svc["desktop_interact"]:
            svc["service_type"] = want_type
            svc["desktop_interact"] = p["desktop_interact"]
            changed = True
    return changed


def _set_state(ctx: ModuleContext, svc: dict[str, t.Any], after: dict[str, t.Any], real: bool) -> bool:
    want = ctx.params.get("state")
    force = ctx.params["force_dependent_services"]
    after["state"] = want
    if not real:
        return False
    if not want:
        after["state"] = svc["state"]
        return False
    if want == "started" and svc["state"] != "started":
        if svc["state"] == "paused":
            if ctx.faults.find("service_start", svc["name"]) is not None:
                ctx.fail(f"failed to start service from paused state {svc['name']}: {start_error(svc)}")
            svc["state"] = "started"
        else:
            start(ctx, svc)
            svc["state"] = "started"
        return True
    if want == "stopped" and svc["state"] != "stopped":
        stop(ctx, svc, force)
        svc["state"] = "stopped"
        return True
    if want == "restarted":
        if svc["state"] != "stopped":
            stop(ctx, svc, force)
        start(ctx, svc)
        svc["state"] = "started"
        return True
    if want == "paused" and svc["state"] != "paused":
        if not svc["can_pause_and_continue"]:
            ctx.fail(f"failed to pause service {svc['name']}: The service does not support pausing")
        if svc["state"] == "stopped":
            ctx.fail(f"failed to pause service {svc['name']}: Service '{svc['display_name']} ({svc['name']})' "
                     f"cannot be suspended because the service is not running.")
        svc["state"] = "paused"
        return True
    return False


# -- win_service_info ----------------------------------------------------------------

def service_info(state: dict[str, t.Any], svc: dict[str, t.Any]) -> dict[str, t.Any]:
    controls = []
    if svc["state"] != "stopped":
        if svc.get("can_stop", True):
            controls.append("stop")
        if svc["can_pause_and_continue"]:
            controls.append("pause_continue")
        controls.append("shutdown")
    return {
        "checkpoint": 0, "controls_accepted": controls, "dependencies": list(svc["dependencies"]),
        "dependency_of": [d["name"] for d in dependents(state, svc["name"])],
        "description": svc["description"], "desktop_interact": svc["desktop_interact"],
        "display_name": svc["display_name"], "error_control": svc["error_control"],
        "failure_actions": copy.deepcopy(svc["failure_actions"]),
        "failure_actions_on_non_crash_failure": svc["failure_actions_on_non_crash_failure"],
        "failure_command": svc["failure_command"], "failure_reboot_msg": svc["failure_reboot_msg"],
        "failure_reset_period_sec": svc["failure_reset_period_sec"], "launch_protection": "none",
        "load_order_group": svc["load_order_group"], "name": svc["name"], "path": svc["path"],
        "pre_shutdown_timeout_ms": svc["pre_shutdown_timeout_ms"], "preferred_node": None,
        "process_id": svc["process_id"] if svc["state"] != "stopped" else 0,
        "required_privileges": list(svc["required_privileges"]), "service_exit_code": 0,
        "service_flags": ["runs_in_system_process"] if svc["path"].lower().endswith("lsass.exe") else [],
        "service_type": svc["service_type"], "sid_info": svc["sid_info"], "start_mode": svc["start_mode"],
        "state": svc["state"], "triggers": copy.deepcopy(svc.get("triggers", [])),
        "username": svc["username"], "wait_hint_ms": 0, "win32_exit_code": 0,
    }


@model("ansible.windows.win_service_info", upstream=UPSTREAM)
def win_service_info(ctx: ModuleContext) -> dict[str, t.Any]:
    name = ctx.params.get("name")
    services = sorted(ctx.state["services"].values(), key=lambda s: s["name"].lower())
    if name:
        services = [s for s in services if s["name"].lower() == name.lower()]
    infos = [service_info(ctx.state, s) for s in services]
    return ctx.exit(exists=bool(infos), services=infos)

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("stop-service", section="services",
       help="Stop a Windows service and the services that depend on it (Stop-Service -Force).",
       args=[Arg("name", "service name")])
def stop_service(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    key, svc = _find_named(_section(state, "services"), name, "service")
    before = svc.get("state")
    run_upstream(state, now, "ansible.windows.win_service",
                 {"name": svc.get("name", key), "state": "stopped", "force_dependent_services": True})
    return f"service {svc.get('name', key)}: state {before} -> stopped"


@drift("set-service-start-mode", section="services", help="Change a service's start mode (sc config start=).",
       args=[Arg("name", "service name"),
             Arg("start_mode", "new start mode", choices=("auto", "delayed", "manual", "disabled"))])
def set_service_start_mode(state: dict[str, t.Any], now: _dt.datetime, *, name: str, start_mode: str) -> str:
    key, svc = _find_named(_section(state, "services"), name, "service")
    before = svc.get("start_mode")
    run_upstream(state, now, "ansible.windows.win_service", {"name": svc.get("name", key), "start_mode": start_mode})
    return f"service {svc.get('name', key)}: start_mode {before} -> {start_mode}"
