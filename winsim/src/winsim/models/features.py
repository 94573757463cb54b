"""Windows roles and features: ``ansible.windows.win_feature`` and
``ansible.windows.win_feature_info`` (ansible.windows 3.8.0), i.e.
``Install-WindowsFeature`` / ``Uninstall-WindowsFeature`` /
``Get-WindowsFeature`` of Windows Server 2022.

State section ``state["features"]``, keyed by feature name (case as Windows
spells it)::

    {"name", "display_name", "id", "parent", "feature_type" ("Role"|"Role Service"|"Feature"),
     "depends_on": [names], "install_state" ("Installed"|"Available"|"Removed"),
     "system_service": [service names]}

A fresh host has the features of a fresh Windows Server 2022 Datacenter
(Desktop Experience) install.  ``Removed`` means the payload is not on disk
(``NET-Framework-Core``): installing it needs ``source``.

Install semantics (as ``Install-WindowsFeature``): naming a feature installs
its parents, the features it depends on, and, when the named feature is a
role or role service, its default sub-features; ``include_sub_features``
installs the whole subtree; ``include_management_tools`` adds the feature's
management tools.  Uninstalling removes the subtree and every installed
feature that depends on a removed one.

Installing ``Web-Server`` creates the IIS baseline on the host (through
``models/iis.py``'s ``ensure_iis_baseline(state)`` when that exists, else the
agreed minimal ``state["iis"]``), the ``W3SVC``/``WAS``/``AppHostSvc``
services, ``C:\\inetpub`` with ``wwwroot``, the IIS firewall rules, the IIS
rights of ``IIS_IUSRS`` and ``HKLM:\\SOFTWARE\\Microsoft\\InetStp`` and
``C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config``
(a trimmed default whose ``globalModules``/``modules`` follow the installed
role services).  Removing undoes it.
"""

from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import importlib
import typing as t
import xml.etree.ElementTree as ET

from .. import state as st
from ..drift import Arg, DriftError, drift, run_upstream
from ..drift import find_named as _find_named
from ..drift import section_of as _section
from ..state import section
from . import accounts, firewall, registry, services
from ._base import ModuleContext, model

UPSTREAM = "ansible.windows 3.8.0"

# name | display name | parent | type | flags (I installed on a fresh host, D default sub-feature of its parent,
# R payload removed, B reboot needed after removal)
_CATALOGUE = """
AD-Domain-Services|Active Directory Domain Services||Role|
DNS|DNS Server||Role|
FileAndStorage-Services|File and Storage Services||Role|I
File-Services|File and iSCSI Services|FileAndStorage-Services|Role Service|
FS-FileServer|File Server|File-Services|Role Service|D
FS-DFS-Namespace|DFS Namespaces|File-Services|Role Service|
FS-DFS-Replication|DFS Replication|File-Services|Role Service|
FS-Resource-Manager|File Server Resource Manager|File-Services|Role Service|
FS-VSS-Agent|File Server VSS Agent Service|File-Services|Role Service|
Storage-Services|Storage Services|FileAndStorage-Services|Role Service|I
Web-Server|Web Server (IIS)||Role|B
Web-WebServer|Web Server|Web-Server|Role Service|DB
Web-Common-Http|Common HTTP Features|Web-WebServer|Role Service|D
Web-Default-Doc|Default Document|Web-Common-Http|Role Service|D
Web-Dir-Browsing|Directory Browsing|Web-Common-Http|Role Service|D
Web-Http-Errors|HTTP Errors|Web-Common-Http|Role Service|D
Web-Static-Content|Static Content|Web-Common-Http|Role Service|D
Web-Http-Redirect|HTTP Redirection|Web-Common-Http|Role Service|
Web-DAV-Publishing|WebDAV Publishing|Web-Common-Http|Role Service|
Web-Health|Health and Diagnostics|Web-WebServer|Role Service|D
Web-Http-Logging|HTTP Logging|Web-Health|Role Service|D
Web-Custom-Logging|Custom Logging|Web-Health|Role Service|
Web-Log-Libraries|Logging Tools|Web-Health|Role Service|
Web-ODBC-Logging|ODBC Logging|Web-Health|Role Service|
Web-Request-Monitor|Request Monitor|Web-Health|Role Service|
Web-Http-Tracing|Tracing|Web-Health|Role Service|
Web-Performance|Performance|Web-WebServer|Role Service|D
Web-Stat-Compression|Static Content Compression|Web-Performance|Role Service|D
Web-Dyn-Compression|Dynamic Content Compression|Web-Performance|Role Service|
Web-Security|Security|Web-WebServer|Role Service|D
Web-Filtering|Request Filtering|Web-Security|Role Service|D
Web-Basic-Auth|Basic Authentication|Web-Security|Role Service|
Web-CertProvider|Centralized SSL Certificate Support|Web-Security|Role Service|
Web-Client-Auth|Client Certificate Mapping Authentication|Web-Security|Role Service|
Web-Digest-Auth|Digest Authentication|Web-Security|Role Service|
Web-Cert-Auth|IIS Client Certificate Mapping Authentication|Web-Security|Role Service|
Web-IP-Security|IP and Domain Restrictions|Web-Security|Role Service|
Web-Url-Auth|URL Authorization|Web-Security|Role Service|
Web-Windows-Auth|Windows Authentication|Web-Security|Role Service|
Web-App-Dev|Application Development|Web-WebServer|Role Service|
Web-Net-Ext|.NET Extensibility 3.5|Web-App-Dev|Role Service|
Web-Net-Ext45|.NET Extensibility 4.8|Web-App-Dev|Role Service|
Web-AppInit|Application Initialization|Web-App-Dev|Role Service|
Web-ASP|ASP|Web-App-Dev|Role Service|
Web-Asp-Net|ASP.NET 3.5|Web-App-Dev|Role Service|
Web-Asp-Net45|ASP.NET 4.8|Web-App-Dev|Role Service|
Web-CGI|CGI|Web-App-Dev|Role Service|
Web-ISAPI-Ext|ISAPI Extensions|Web-App-Dev|Role Service|
Web-ISAPI-Filter|ISAPI Filters|Web-App-Dev|Role Service|
Web-Includes|Server Side Includes|Web-App-Dev|Role Service|
Web-WebSockets|WebSocket Protocol|Web-App-Dev|Role Service|
Web-Ftp-Server|FTP Server|Web-Server|Role Service|
Web-Ftp-Service|FTP Service|Web-Ftp-Server|Role Service|D
Web-Ftp-Ext|FTP Extensibility|Web-Ftp-Server|Role Service|
Web-Mgmt-Tools|Management Tools|Web-Server|Role Service|
Web-Mgmt-Console|IIS Management Console|Web-Mgmt-Tools|Role Service|
Web-Mgmt-Compat|IIS 6 Management Compatibility|Web-Mgmt-Tools|Role Service|
Web-Metabase|IIS 6 Metabase Compatibility|Web-Mgmt-Compat|Role Service|
Web-Scripting-Tools|IIS Management Scripts and Tools|Web-Mgmt-Tools|Role Service|
Web-Mgmt-Service|Management Service|Web-Mgmt-Tools|Role Service|
NET-Framework-Features|.NET Framework 3.5 Features||Feature|
NET-Framework-Core|.NET Framework 3.5 (includes .NET 2.0 and 3.0)|NET-Framework-Features|Feature|R
NET-Framework-45-Features|.NET Framework 4.8 Features||Feature|IB
NET-Framework-45-Core|.NET Framework 4.8|NET-Framework-45-Features|Feature|IB
NET-Framework-45-ASPNET|ASP.NET 4.8|NET-Framework-45-Features|Feature|
NET-WCF-Services45|WCF Services|NET-Framework-45-Features|Feature|I
NET-WCF-HTTP-Activation45|HTTP Activation|NET-WCF-Services45|Feature|
NET-WCF-TCP-Activation45|TCP Activation|NET-WCF-Services45|Feature|
NET-WCF-TCP-PortSharing45|TCP Port Sharing|NET-WCF-Services45|Feature|I
PowerShellRoot|Windows PowerShell||Feature|IB
PowerShell|Windows PowerShell 5.1|PowerShellRoot|Feature|IB
PowerShell-V2|Windows PowerShell 2.0 Engine|PowerShellRoot|Feature|
PowerShell-ISE|Windows PowerShell ISE|PowerShellRoot|Feature|I
RSAT|Remote Server Administration Tools||Feature|
RSAT-Role-Tools|Role Administration Tools|RSAT|Feature|
RSAT-AD-Tools|AD DS and AD LDS Tools|RSAT-Role-Tools|Feature|
RSAT-AD-PowerShell|Active Directory module for Windows PowerShell|RSAT-AD-Tools|Feature|
RSAT-ADDS|AD DS Tools|RSAT-AD-Tools|Feature|
RSAT-AD-AdminCenter|Active Directory Administrative Center|RSAT-ADDS|Feature|
RSAT-ADDS-Tools|AD DS Snap-Ins and Command-Line Tools|RSAT-ADDS|Feature|
RSAT-DNS-Server|DNS Server Tools|RSAT-Role-Tools|Feature|
GPMC|Group Policy Management||Feature|
SNMP-Service|SNMP Service||Feature|
Telnet-Client|Telnet Client||Feature|
Windows-Defender|Microsoft Defender Antivirus||Feature|IB
System-DataArchiver|System Data Archiver||Feature|I
WoW64-Support|WoW64 Support||Feature|IB
XPS-Viewer|XPS Viewer||Feature|I
Wireless-Networking|Wireless LAN Service||Feature|
"""

DEPENDS_ON: dict[str, list[str]] = {
    "Web-Asp-Net45": ["Web-Net-Ext45", "Web-ISAPI-Ext", "Web-ISAPI-Filter", "NET-Framework-45-ASPNET"],
    "Web-Net-Ext45": ["NET-Framework-45-ASPNET"],
    "Web-Asp-Net": ["Web-Net-Ext", "Web-ISAPI-Ext", "Web-ISAPI-Filter"],
    "Web-Net-Ext": ["NET-Framework-Core"],
    "Web-ASP": ["Web-ISAPI-Ext"],
    "Web-Mgmt-Service": ["NET-Framework-45-ASPNET"],
    "NET-WCF-HTTP-Activation45": ["NET-Framework-45-ASPNET"],
    "AD-Domain-Services": ["GPMC"],
}

MANAGEMENT_TOOLS: dict[str, list[str]] = {
    "Web-Server": ["Web-Mgmt-Console"],
    "Web-Mgmt-Service": ["Web-Mgmt-Console"],
    "AD-Domain-Services": ["RSAT-AD-PowerShell", "RSAT-AD-AdminCenter", "RSAT-ADDS-Tools"],
    "DNS": ["RSAT-DNS-Server"],
}

SYSTEM_SERVICES: dict[str, list[str]] = {
    "Web-WebServer": ["w3svc", "was", "apphostsvc"],
    "Web-Mgmt-Service": ["wmsvc"],
    "Windows-Defender": ["windefend"],
}

# Role service -> native IIS modules it registers ([name, image] pairs).
IIS_MODULES: dict[str, list[tuple[str, str]]] = {
    "Web-WebServer": [
        ("UriCacheModule", "cachuri.dll"), ("FileCacheModule", "cachfile.dll"),
        ("TokenCacheModule", "cachtokn.dll"), ("HttpCacheModule", "cachhttp.dll"),
        ("ProtocolSupportModule", "protsup.dll"), ("AnonymousAuthenticationModule", "authanon.dll"),
        ("ConfigurationValidationModule", "validcfg.dll")],
    "Web-Default-Doc": [("DefaultDocumentModule", "defdoc.dll")],
    "Web-Dir-Browsing": [("DirectoryListingModule", "dirlist.dll")],
    "Web-Http-Errors": [("CustomErrorModule", "custerr.dll")],
    "Web-Static-Content": [("StaticFileModule", "static.dll")],
    "Web-Http-Redirect": [("HttpRedirectionModule", "redirect.dll")],
    "Web-DAV-Publishing": [("WebDAVModule", "webdav.dll")],
    "Web-Http-Logging": [("HttpLoggingModule", "loghttp.dll")],
    "Web-Custom-Logging": [("CustomLoggingModule", "logcust.dll")],
    "Web-Request-Monitor": [("RequestMonitorModule", "iisreqs.dll")],
    "Web-Http-Tracing": [("FailedRequestsTracingModule", "iisfreb.dll")],
    "Web-Stat-Compression": [("StaticCompressionModule", "compstat.dll")],
    "Web-Dyn-Compression": [("DynamicCompressionModule", "compdyn.dll")],
    "Web-Filtering": [("RequestFilteringModule", "modrqflt.dll")],
    "Web-Basic-Auth": [("BasicAuthenticationModule", "authbas.dll")],
    "Web-Client-Auth": [("CertificateMappingAuthenticationModule", "authcert.dll")],
    "Web-Digest-Auth": [("DigestAuthenticationModule", "authmd5.dll")],
    "Web-Cert-Auth": [("IISCertificateMappingAuthenticationModule", "authmap.dll")],
    "Web-IP-Security": [("IpRestrictionModule", "iprestr.dll"), ("DynamicIpRestrictionModule", "diprestr.dll")],
    "Web-Url-Auth": [("UrlAuthorizationModule", "urlauthz.dll")],
    "Web-Windows-Auth": [("WindowsAuthenticationModule", "authsspi.dll")],
    "Web-AppInit": [("ApplicationInitializationModule", "warmup.dll")],
    "Web-CGI": [("CgiModule", "cgi.dll")],
    "Web-ISAPI-Ext": [("IsapiModule", "isapi.dll")],
    "Web-ISAPI-Filter": [("IsapiFilterModule", "filter.dll")],
    "Web-Includes": [("ServerSideIncludeModule", "iis_ssi.dll")],
    "Web-WebSockets": [("WebSocketModule", "iiswsock.dll")],
}

APPHOST = "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"
INETSRV = "C:\\Windows\\System32\\inetsrv"
INETPUB = "C:\\inetpub"
WWWROOT = "C:\\inetpub\\wwwroot"
INETSTP = "HKLM\\SOFTWARE\\Microsoft\\InetStp"

# What a fresh IIS 10 install writes to redirection.config: shared configuration
# off (an empty <configurationRedirection />). IIS Manager's "Shared
# Configuration" turns it on with enabled="true" and a path (issue 8).
REDIRECTION = "C:\\Windows\\System32\\inetsrv\\config\\redirection.config"
REDIRECTION_TEMPLATE = """<configuration>
    <configSections>
        <section name="configurationRedirection" />
    </configSections>
    <configProtectedData>
        <providers>
            <add name="IISRsaProvider" type="" description="Uses RsaCryptoServiceProvider to encrypt and decrypt" \
keyContainerName="iisConfigurationKey" cspProviderName="" useMachineContainer="true" useOAEP="false" />
        </providers>
    </configProtectedData>
    <configurationRedirection />
</configuration>
"""
APPHOST_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!--

    IIS configuration sections.

    For schema documentation, see
    %windir%\\system32\\inetsrv\\config\\schema\\IIS_schema.xml.

    Please make a backup of this file before making any changes to it.

-->
<configuration>
    <configSections>
        <sectionGroup name="system.applicationHost">
            <section name="applicationPools" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="configHistory" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="customMetadata" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="listenerAdapters" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="log" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="sites" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="webLimits" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
        </sectionGroup>
        <sectionGroup name="system.webServer">
            <section name="defaultDocument" overrideModeDefault="Allow" />
            <section name="directoryBrowse" overrideModeDefault="Allow" />
            <section name="globalModules" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
            <section name="handlers" overrideModeDefault="Deny" />
            <section name="httpErrors" overrideModeDefault="Allow" />
            <section name="httpLogging" overrideModeDefault="Deny" />
            <section name="httpProtocol" overrideModeDefault="Allow" />
            <section name="modules" allowDefinition="MachineToApplication" overrideModeDefault="Deny" />
            <sectionGroup name="security">
                <section name="access" overrideModeDefault="Deny" />
                <sectionGroup name="authentication">
                    <section name="anonymousAuthentication" overrideModeDefault="Deny" />
                    <section name="basicAuthentication" overrideModeDefault="Deny" />
                    <section name="windowsAuthentication" overrideModeDefault="Deny" />
                </sectionGroup>
                <section name="requestFiltering" overrideModeDefault="Allow" />
            </sectionGroup>
            <section name="staticContent" overrideModeDefault="Allow" />
            <section name="urlCompression" overrideModeDefault="Allow" />
            <section name="webSocket" overrideModeDefault="Deny" />
        </sectionGroup>
    </configSections>
    <system.applicationHost>
        <applicationPools>
            <applicationPoolDefaults managedRuntimeVersion="v4.0">
                <processModel identityType="ApplicationPoolIdentity" />
            </applicationPoolDefaults>
        </applicationPools>
        <listenerAdapters>
            <add name="http" />
        </listenerAdapters>
        <log>
            <centralBinaryLogFile enabled="true" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />
            <centralW3CLogFile enabled="true" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />
        </log>
        <sites>
            <siteDefaults>
                <logFile logFormat="W3C" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />
                <traceFailedRequestsLogging directory="%SystemDrive%\\inetpub\\logs\\FailedReqLogFiles" />
            </siteDefaults>
            <applicationDefaults applicationPool="DefaultAppPool" />
            <virtualDirectoryDefaults allowSubDirConfig="true" />
        </sites>
        <webLimits />
    </system.applicationHost>
    <system.webServer>
        <asp />
        <caching enabled="true" enableKernelCache="true">
        </caching>
        <defaultDocument enabled="true">
            <files>
                <add value="Default.htm" />
                <add value="Default.asp" />
                <add value="index.htm" />
                <add value="index.html" />
                <add value="iisstart.htm" />
            </files>
        </defaultDocument>
        <directoryBrowse enabled="false" />
        <globalModules>
        </globalModules>
        <handlers accessPolicy="Read, Script">
            <add name="StaticFile" path="*" verb="*" resourceType="Either" requireAccess="Read"
                modules="StaticFileModule,DefaultDocumentModule,DirectoryListingModule" />
        </handlers>
        <httpLogging dontLog="false" />
        <httpProtocol>
            <customHeaders>
                <clear />
                <add name="X-Powered-By" value="ASP.NET" />
            </customHeaders>
            <redirectHeaders>
                <clear />
            </redirectHeaders>
        </httpProtocol>
        <security>
            <access sslFlags="None" />
            <applicationDependencies>
                <application name="Active Server Pages" groupId="ASP" />
            </applicationDependencies>
            <authentication>
                <anonymousAuthentication enabled="true" userName="IUSR" />
                <basicAuthentication />
                <clientCertificateMappingAuthentication />
                <digestAuthentication />
                <iisClientCertificateMappingAuthentication />
                <windowsAuthentication />
            </authentication>
            <authorization />
            <ipSecurity />
            <isapiCgiRestriction />
            <requestFiltering>
                <fileExtensions allowUnlisted="true" applyToWebDAV="true" />
                <verbs allowUnlisted="true" applyToWebDAV="true" />
                <hiddenSegments applyToWebDAV="true">
                    <add segment="web.config" />
                </hiddenSegments>
                <requestLimits maxAllowedContentLength="30000000" maxUrl="4096" maxQueryString="2048" />
            </requestFiltering>
        </security>
        <staticContent lockAttributes="isDocFooterFileName">
            <mimeMap fileExtension=".css" mimeType="text/css" />
            <mimeMap fileExtension=".htm" mimeType="text/html" />
            <mimeMap fileExtension=".html" mimeType="text/html" />
            <mimeMap fileExtension=".js" mimeType="application/javascript" />
            <mimeMap fileExtension=".json" mimeType="application/json" />
            <mimeMap fileExtension=".png" mimeType="image/png" />
            <mimeMap fileExtension=".svg" mimeType="image/svg+xml" />
            <mimeMap fileExtension=".woff2" mimeType="font/woff2" />
        </staticContent>
        <urlCompression />
        <webSocket />
    </system.webServer>
    <location path="" overrideMode="Allow">
        <system.webServer>
            <modules>
            </modules>
        </system.webServer>
    </location>
</configuration>
"""

IISSTART_HTM = (b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
                b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n'
                b'<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n'
                b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" />\r\n'
                b'<title>IIS Windows Server</title>\r\n</head>\r\n<body>\r\n'
                b'<div id="container">\r\n<a href="http://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409">'
                b'<img src="iisstart.png" alt="IIS" width="960" height="600" /></a>\r\n</div>\r\n'
                b'</body>\r\n</html>')
IISSTART_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 92


def _parse_catalogue() -> list[dict[str, t.Any]]:
    out = []
    for number, line in enumerate(x for x in _CATALOGUE.strip().splitlines() if x.strip()):
        name, display, parent, ftype, flags = line.split("|")
        out.append({
            "name": name, "display_name": display, "id": number + 1, "parent": parent or None,
            "feature_type": ftype, "depends_on": list(DEPENDS_ON.get(name, [])),
            "install_state": "Installed" if "I" in flags else ("Removed" if "R" in flags else "Available"),
            "system_service": list(SYSTEM_SERVICES.get(name, [])),
            "_default": "D" in flags, "_reboot_on_remove": "B" in flags,
        })
    return out


_CAT = _parse_catalogue()
_META = {f["name"].lower(): f for f in _CAT}


@section("features")
def _fresh_features() -> dict[str, t.Any]:
    return {f["name"]: {k: copy.deepcopy(v) for k, v in f.items() if not k.startswith("_")} for f in _CAT}


# -- queries other models use ------------------------------------------------------

def get_feature(state: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    for feat in state["features"].values():
        if feat["name"].lower() == name.lower():
            return feat
    return None


def installed(state: dict[str, t.Any], name: str) -> bool:
    feat = get_feature(state, name)
    return feat is not None and feat["install_state"] == "Installed"


def iis_installed(state: dict[str, t.Any]) -> bool:
    """IIS is usable once ``Web-Server`` (and its ``Web-WebServer`` core) is in."""
    return installed(state, "Web-Server") and installed(state, "Web-WebServer")


def _children(state: dict[str, t.Any], name: str) -> list[dict[str, t.Any]]:
    return [f for f in state["features"].values() if (f["parent"] or "").lower() == name.lower()]


def _subtree(state: dict[str, t.Any], name: str) -> list[dict[str, t.Any]]:
    out = []
    for child in _children(state, name):
        out.append(child)
        out.extend(_subtree(state, child["name"]))
    return out


def _path(state: dict[str, t.Any], feat: dict[str, t.Any]) -> tuple[str, int]:
    parts, depth, cur = [feat["display_name"]], 1, feat
    while cur["parent"]:
        cur = get_feature(state, cur["parent"]) or {"display_name": cur["parent"], "parent": None}
        parts.insert(0, cur["display_name"])
        depth += 1
    return "\\".join(parts), depth


# -- install / uninstall plans ------------------------------------------------------

def _invalid_name(ctx: ModuleContext, name: str) -> t.NoReturn:
    ctx.fail("Unhandled exception while executing module: ArgumentNotValid: The role, role service, or feature "
             f"name is not valid: '{name}'. The name was not found.")


def _install_plan(ctx: ModuleContext, names: list[str], subs: bool, tools: bool) -> list[dict[str, t.Any]]:
    state = ctx.state
    plan: dict[str, dict[str, t.Any]] = {}

    def want(feat: dict[str, t.Any], explicit: bool) -> None:
        if feat["name"] in plan:
            return
        plan[feat["name"]] = feat
        if feat["parent"]:
            par = get_feature(state, feat["parent"])
            if par is not None:
                want(par, False)
        for dep in feat["depends_on"]:
            dfeat = get_feature(state, dep)
            if dfeat is not None:
                want(dfeat, False)
        if explicit or feat["name"] in explicit_defaults:
            for child in _children(state, feat["name"]):
                if subs and explicit:
                    want(child, True)
                elif _META.get(child["name"].lower(), {}).get("_default"):
                    explicit_defaults.add(child["name"])
                    want(child, False)
        if tools:
            for tool in MANAGEMENT_TOOLS.get(feat["name"], []):
                tfeat = get_feature(state, tool)
                if tfeat is not None:
                    want(tfeat, False)

    explicit_defaults: set[str] = set()
    for name in names:
        feat = get_feature(state, name)
        if feat is None:
            _invalid_name(ctx, name)
        want(feat, True)
    ordered = sorted(plan.values(), key=lambda f: f["id"])
    return [f for f in ordered if f["install_state"] != "Installed"]


def _uninstall_plan(ctx: ModuleContext, names: list[str], tools: bool) -> list[dict[str, t.Any]]:
    state = ctx.state
    plan: dict[str, dict[str, t.Any]] = {}

    def drop(feat: dict[str, t.Any]) -> None:
        if feat["name"] in plan or feat["install_state"] != "Installed":
            return
        plan[feat["name"]] = feat
        for child in _subtree(state, feat["name"]):
            drop(child)
        for other in state["features"].values():
            if feat["name"].lower() in (d.lower() for d in other["depends_on"]):
                drop(other)
        if tools:
            for tool in MANAGEMENT_TOOLS.get(feat["name"], []):
                tfeat = get_feature(state, tool)
                if tfeat is not None:
                    drop(tfeat)

    for name in names:
        feat = get_feature(state, name)
        if feat is None:
            _invalid_name(ctx, name)
        drop(feat)
    return sorted(plan.values(), key=lambda f: f["id"])


def _feature_result(feat: dict[str, t.Any], reboot: bool) -> dict[str, t.Any]:
    return {"id": feat["id"], "display_name": feat["display_name"], "message": [], "reboot_required": reboot,
            "skip_reason": "NotSkipped", "success": True}


# -- side effects -----------------------------------------------------------------

def _iis_module() -> t.Any:
    try:
        return importlib.import_module(f"{__package__}.iis")
    except ImportError:
        return None


def _fallback_iis_state(state: dict[str, t.Any]) -> None:
    """The agreed minimal ``state["iis"]`` baseline, used only when
    ``models/iis.py`` does not provide ``ensure_iis_baseline``."""
    iis = state.setdefault("iis", {})
    iis["installed"] = True
    iis.setdefault("app_pools", {})
    iis.setdefault("sites", {})
    if not iis["app_pools"] and not iis["sites"]:
        iis["app_pools"]["DefaultAppPool"] = {
            "name": "DefaultAppPool", "state": "Started",
            "attributes": {"managedRuntimeVersion": "v4.0", "managedPipelineMode": "Integrated",
                           "enable32BitAppOnWin64": False, "autoStart": True, "startMode": "OnDemand",
                           "queueLength": 1000, "processModel.identityType": "ApplicationPoolIdentity",
                           "processModel.userName": "", "processModel.idleTimeout": "00:20:00",
                           "processModel.loadUserProfile": True, "recycling.periodicRestart.time": "1.05:00:00"},
        }
        iis["sites"]["Default Web Site"] = {
            "name": "Default Web Site", "id": 1, "state": "Started",
            "physical_path": "%SystemDrive%\\inetpub\\wwwroot", "application_pool": "DefaultAppPool",
            "preload_enabled": False,
            "bindings": [{"protocol": "http", "ip": "*", "port": 80, "hostname": "", "use_sni": False,
                          "use_ccs": False, "certificate_hash": "", "certificate_store_name": ""}],
            "applications": {}, "virtual_directories": {}, "authentication": {},
        }


def _write(state: dict[str, t.Any], path: str, data: bytes, when: str) -> None:
    st.make_dirs(state, st.parent(path) or path, when)
    st.write_file(state, path, data, when)


def _sync_apphost_modules(state: dict[str, t.Any], when: str) -> None:
    """Keep ``globalModules`` and the root ``modules`` list of
    applicationHost.config in line with the installed role services, leaving
    every other part of the file (edited by win_xml) as it is."""
    if not st.exists(state, APPHOST):
        return
    raw = st.read_file(state, APPHOST)
    root = ET.fromstring(raw, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    gm = root.find("system.webServer/globalModules")
    mods = root.find("location/system.webServer/modules")
    if gm is None or mods is None:
        return
    wanted: list[tuple[str, str]] = []
    for fname, entries in IIS_MODULES.items():
        if installed(state, fname):
            wanted.extend(entries)
    wanted_names = {n for n, _ in wanted}
    all_native = {n for entries in IIS_MODULES.values() for n, _ in entries}
    global_only = {"UriCacheModule", "FileCacheModule", "TokenCacheModule"}
    changed = False
    for parent in (gm, mods):
        for el in list(parent):
            gone = el.get("name") not in wanted_names or (parent is mods and el.get("name") in global_only)
            if el.tag == "add" and el.get("name") in all_native and gone:
                parent.remove(el)
                changed = True
    have_gm = {el.get("name") for el in gm if el.tag == "add"}
    have_mods = {el.get("name") for el in mods if el.tag == "add"}
    for name, image in wanted:
        if name not in have_gm:
            ET.SubElement(gm, "add", {"name": name, "image": f"%windir%\\System32\\inetsrv\\{image}"})
            changed = True
        if name not in have_mods and name not in global_only:
            ET.SubElement(mods, "add", {"name": name, "lockItem": "true"})
            changed = True
    if changed:
        ET.indent(root, space="    ")
        data = b'<?xml version="1.0" encoding="UTF-8"?>\r\n' + ET.tostring(root, encoding="unicode").encode("utf-8")
        st.write_file(state, APPHOST, data, when)


def _on_web_server_installed(state: dict[str, t.Any], when: str) -> None:
    mod = _iis_module()
    if mod is not None and hasattr(mod, "ensure_iis_baseline"):
        mod.ensure_iis_baseline(state, when)
    else:
        _fallback_iis_state(state)
    for d in (INETSRV + "\\config", INETPUB + "\\logs\\LogFiles", INETPUB + "\\temp", INETPUB + "\\custerr",
              WWWROOT):
        st.make_dirs(state, d, when)
    if not st.exists(state, APPHOST):
        _write(state, APPHOST, APPHOST_TEMPLATE.replace("\n", "\r\n").encode("utf-8"), when)
    if not st.exists(state, REDIRECTION):
        _write(state, REDIRECTION, REDIRECTION_TEMPLATE.replace("\n", "\r\n").encode("utf-8"), when)
    for name, data in (("iisstart.htm", IISSTART_HTM), ("iisstart.png", IISSTART_PNG)):
        if not st.exists(state, f"{WWWROOT}\\{name}"):
            st.write_file(state, f"{WWWROOT}\\{name}", data, when)
    services.install_service(state, services.new_service(
        "WAS", "Windows Process Activation Service", services.SVCHOST + "iissvcs", start_mode="manual",
        state="started", dependencies=["RPCSS"], service_type="win32_share_process",
        description="The Windows Process Activation Service provides process activation, resource management and "
                    "health management services for message-activated applications."))
    services.install_service(state, services.new_service(
        "W3SVC", "World Wide Web Publishing Service", services.SVCHOST + "iissvcs", start_mode="auto",
        state="started", dependencies=["WAS", "HTTP"], service_type="win32_share_process",
        can_pause_and_continue=True,
        description="Provides Web connectivity and administration through the Internet Information Services "
                    "Manager"))
    services.install_service(state, services.new_service(
        "AppHostSvc", "Application Host Helper Service", services.SVCHOST + "apphost", start_mode="auto",
        state="started", service_type="win32_share_process",
        description="Provides administrative services for IIS, for example configuration history and Application "
                    "Pool account mapping."))
    firewall.add_rules(state, firewall.iis_rules(st.profile_of(state)))
    for name, vtype, data in (("MajorVersion", "dword", 10), ("MinorVersion", "dword", 0),
                              ("SetupString", "string", "IIS 10.0"), ("VersionString", "string", "Version 10.0"),
                              ("InstallPath", "string", INETSRV),
                              ("PathWWWRoot", "expandstring", "%SystemDrive%\\inetpub\\wwwroot")):
        registry.set_value(state, INETSTP, name, vtype, data)
    accounts.grant_right(state, "SeImpersonatePrivilege", accounts.IIS_IUSRS)
    accounts.grant_right(state, "SeBatchLogonRight", accounts.IIS_IUSRS)


def _on_web_server_removed(state: dict[str, t.Any]) -> None:
    for name in ("W3SVC", "WAS", "AppHostSvc", "WMSVC"):
        services.remove_service(state, name)
    firewall.remove_iis_rules(state)
    accounts.revoke_right(state, "SeImpersonatePrivilege", accounts.IIS_IUSRS)
    accounts.revoke_right(state, "SeBatchLogonRight", accounts.IIS_IUSRS)
    registry.delete_tree(state, INETSTP)
    mod = _iis_module()
    if mod is not None and hasattr(mod, "remove_iis"):
        mod.remove_iis(state)
    else:
        state["iis"] = {"installed": False, "app_pools": {}, "sites": {}}
    # As on Windows, the IIS binaries and configuration go, content under
    # C:\inetpub (logs, sites' files) stays.
    if st.exists(state, INETSRV):
        st.remove(state, INETSRV)


def _apply(ctx: ModuleContext, feats: list[dict[str, t.Any]], install: bool) -> None:
    state = ctx.state
    when = st.iso(ctx.now())
    was_iis = iis_installed(state)
    for feat in feats:
        feat["install_state"] = "Installed" if install else "Available"
    if install and iis_installed(state) and not was_iis:
        _on_web_server_installed(state, when)
    if install and installed(state, "Web-Mgmt-Service") and services.get_service(state, "WMSVC") is None:
        services.install_service(state, services.new_service(
            "WMSVC", "Web Management Service", "C:\\Windows\\system32\\inetsrv\\wmsvc.exe", start_mode="manual",
            username=services.LOCAL_SERVICE))
    if not install and was_iis and not iis_installed(state):
        _on_web_server_removed(state)
    if not install and not installed(state, "Web-Mgmt-Service"):
        services.remove_service(state, "WMSVC")
    if iis_installed(state):
        _sync_apphost_modules(state, when)


# -- win_feature ----------------------------------------------------------------------

SOURCE_ERROR = ("Unhandled exception while executing module: The request to add or remove features on the "
                "specified server failed.\r\nInstallation of one or more roles, role services, or features "
                "failed.\r\nThe source files could not be found. \r\nUse the \"Source\" option to specify the "
                "location of the files that are required to restore the feature. For more information on "
                "specifying a source location, see http://go.microsoft.com/fwlink/?LinkId=243077. "
                "Error: 0x800f081f")


@model("ansible.windows.win_feature", upstream=UPSTREAM)
def win_feature(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    source = p.get("source")
    if source and not st.exists(state, source):
        ctx.fail(f"Failed to find source path {source} for feature install", exitcode="NoChangeNeeded",
                 feature_result=[], reboot_required=False, success=True)

    if p["state"] == "present":
        plan = _install_plan(ctx, p["name"], p["include_sub_features"], p["include_management_tools"])
        if any(f["install_state"] == "Removed" for f in plan) and not source:
            ctx.fail(SOURCE_ERROR)
        reboot = False
        results = [_feature_result(f, reboot) for f in plan]
    else:
        plan = _uninstall_plan(ctx, p["name"], p["include_management_tools"])
        reboot = any(_META.get(f["name"].lower(), {}).get("_reboot_on_remove") for f in plan)
        results = [_feature_result(f, reboot) for f in plan]

    if plan and not ctx.check_mode:
        _apply(ctx, plan, p["state"] == "present")
    exitcode = ("SuccessRestartRequired" if reboot else "Success") if plan else "NoChangeNeeded"
    ctx.changed(bool(results))
    return ctx.exit(exitcode=exitcode, feature_result=results, reboot_required=reboot, success=True, failed=False)


# -- win_feature_info -----------------------------------------------------------------

def _wildcard(pattern: str, name: str) -> bool:
    """PowerShell ``-like`` wildcard match (case-insensitive)."""
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


@model("ansible.windows.win_feature_info", upstream=UPSTREAM)
def win_feature_info(ctx: ModuleContext) -> dict[str, t.Any]:
    state = ctx.state
    name = ctx.params["name"]
    feats = sorted(state["features"].values(), key=lambda f: _path(state, f)[0].lower())
    matched = [f for f in feats if _wildcard(name, f["name"])]
    out = []
    for f in matched:
        path, depth = _path(state, f)
        out.append({
            "name": f["name"], "display_name": f["display_name"],
            "description": f"{f['display_name']} ({f['feature_type'].lower()}).", "installed":
                f["install_state"] == "Installed", "install_state": f["install_state"],
            "feature_type": f["feature_type"], "path": path, "depth": depth, "depends_on": list(f["depends_on"]),
            "parent": f["parent"], "server_component_descriptor": f"ServerComponent_{f['name'].replace('-', '_')}",
            "sub_features": [c["name"] for c in _children(state, f["name"])],
            "system_service": list(f["system_service"]), "best_practices_model_id": None, "event_query": None,
            "post_configuration_needed": False, "additional_info": {
                "MajorVersion": 10, "MinorVersion": 0, "NumericId": f["id"],
                "InstallName": f["name"].replace("-", "_")},
        })
    return ctx.exit(exists=bool(out), features=out)


# -- host profiles (winsim/docs/profiles.md) ---------------------------------------

LEGACY_SITE = "LegacyIntranet"
LEGACY_ROOT = "C:\\inetpub\\legacy"


@st.profile_finisher("iis")
def _profile_iis(doc: dict[str, t.Any], profile: str) -> None:
    """``lived-in``: a web host of a real estate has had IIS for years.
    ``Web-Server`` (its default role services, as ``Install-WindowsFeature
    Web-Server`` installs them) is installed a month after the OS, with the
    ``Default Web Site`` still there and an old site nobody manages:
    ``LegacyIntranet`` (http ``*:8080:``, its own pool on the .NET CLR v2.0
    in the Classic pipeline, content in ``C:\\inetpub\\legacy``), started."""
    if profile != "lived-in":
        return
    installed = st.parse_iso(doc["host"]["installed_at"])
    ctx = ModuleContext(fqcn="ansible.windows.win_feature", params={}, state=doc,
                        now=installed + _dt.timedelta(days=30))
    _apply(ctx, _install_plan(ctx, ["Web-Server"], False, False), True)
    iis_mod = _iis_module()
    if iis_mod is None:
        return
    when = st.iso(ctx.now())
    pool = iis_mod._new_pool(LEGACY_SITE)
    pool["attributes"].update(managedRuntimeVersion="v2.0", managedPipelineMode="Classic")
    doc["iis"]["app_pools"][LEGACY_SITE] = pool
    st.make_dirs(doc, LEGACY_ROOT, when)
    st.write_file(doc, LEGACY_ROOT + "\\default.aspx", b"<%@ Page Language=\"C#\" %>\r\n<html><body>Intranet"
                  b"</body></html>\r\n", when)
    doc["iis"]["sites"][LEGACY_SITE] = iis_mod._new_site(
        LEGACY_SITE, 2, LEGACY_ROOT, LEGACY_SITE, [iis_mod._binding("http", "*", 8080, "")], "Started")

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("remove-feature", section="features",
       help="Uninstall a Windows feature and what depends on it (Uninstall-WindowsFeature).",
       args=[Arg("name", "feature name, e.g. Web-WebSockets")])
def remove_feature(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    key, feature = _find_named(_section(state, "features"), name, "feature")
    if feature.get("install_state") != "Installed":
        raise DriftError(f"feature {key} is not installed ({feature.get('install_state')})")
    result = run_upstream(state, now, "ansible.windows.win_feature", {"name": [key], "state": "absent"})
    removed = [f.get("name") for f in result.get("feature_result") or []]
    return f"feature {key}: uninstalled ({', '.join(map(str, removed)) or key})"
