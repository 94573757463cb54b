"""Installers: ``ansible.windows.win_package`` (ansible.windows 3.8.0).

What is installed is what the real module looks at: the Uninstall registry
views (``HKLM:\\SOFTWARE[\\WOW6432Node]\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\<product id>``,
see ``models/registry.py``) and, for ``creates_*``, files and services.

State section ``state["packages"]``::

    {"catalogue": {KEY: {            # installers winsim knows how to run
        "installer": "dotnet-hosting-8.0.11-win.exe",   # file name that identifies it
        "provider": "registry" | "msi",
        "product_id": "{GUID}", "display_name", "display_version", "publisher",
        "exit_code": 0 | 3010,       # what the installer returns (3010 = reboot required)
        "uninstall_exit_code": 0,
        "signed": true,              # Authenticode status Valid
        "kind": "aspnetcore_hosting_bundle" | "generic", "runtime_version": "8.0.11"}},
     "artifact_hosts": ["artifacts.mcms.internal"],      # the internal artifact server's host names
     "internal_urls": {URL: KEY}}                          # what that server serves

The lab is offline: a URL is only reachable when its host is an internal
artifact host; a path the server does not serve answers 404.  Over https
the server presents a certificate of the lab's artifact CA
(:data:`ARTIFACT_SERVER_DER`, published at :data:`ARTIFACT_CA_URL`); when
the lab declaration sets ``artifacts.require_trust`` the calling host must
have that CA in ``LocalMachine\\Root`` (``models/http.py``
``artifact_tls_error``; ``validate_certs: false`` skips the check).  A local path
must exist on the host (``win_copy`` puts it in ``state["files"]``); its file
name (or SHA-1) says which catalogue installer it is.  Running an installer
winsim does not know fails loudly (a :class:`SimulatorError`), never silently.

The ASP.NET Core Hosting Bundle installs the .NET runtime under
``C:\\Program Files\\dotnet`` and the ASP.NET Core Module V2; when IIS is
installed at that moment it registers ``AspNetCoreModuleV2`` in
applicationHost.config (``globalModules`` and ``modules``).  As on Windows,
installing IIS after the bundle does not register the module (the bundle
must be repaired or reinstalled).

IIS URL Rewrite 2.1 (``rewrite_amd64_en-US.msi``) and Application Request
Routing 3.0 (``requestRouter_amd64.msi``) are MSI products (``provider:
msi``: the ProductCode is read from the file, here from the catalogue by
file name).  Installed while IIS is installed, they register their global
module (``RewriteModule``, ``ApplicationRequestRouting``) in
applicationHost.config, and declare their sections (``rewrite``, ``proxy``)
the front's reverse proxy needs (``models/rewrite.py``).  ARR's installer
refuses to run without URL Rewrite (msiexec exit code 1603, as the real
bundle's launch condition does).  The product codes are stable GUIDs derived
from the file names (winsim cannot know Microsoft's; a real host's id is read
from its Uninstall key).
"""

from __future__ import annotations

import base64
import hashlib
import re
import typing as t
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from .. import state as st
from ..state import section
from . import features, registry, services
from ._base import ModuleContext, SimulatorError, model

UPSTREAM = "ansible.windows 3.8.0"

ANCM_NAME = "AspNetCoreModuleV2"
ANCM_DIR = "C:\\Program Files\\IIS\\Asp.Net Core Module\\V2"
ANCM_IMAGE = "%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll"
DOTNET_DIR = "C:\\Program Files\\dotnet"
ARTIFACT_HOST = "artifacts.mcms.internal"
_NS = uuid.UUID("6c1e2b52-7c4c-4e0e-9f57-1d2b3c4d5e6f")


REWRITE_MODULE = ("RewriteModule", "%SystemRoot%\\system32\\inetsrv\\rewrite.dll")
ARR_MODULE = ("ApplicationRequestRouting", "%ProgramFiles%\\IIS\\Application Request Routing\\requestRouter.dll")


def iis_extension(kind: str) -> dict[str, t.Any]:
    """Catalogue entry of IIS URL Rewrite 2.1 (``kind`` ``iis_url_rewrite``) or
    Application Request Routing 3.0 (``iis_arr``), both x64 MSI packages."""
    installer, name, version = {
        "iis_url_rewrite": ("rewrite_amd64_en-US.msi", "IIS URL Rewrite Module 2", "7.2.1993"),
        "iis_arr": ("requestRouter_amd64.msi", "Microsoft Application Request Routing 3.0", "7.1.1952.0"),
    }[kind]
    guid = "{" + str(uuid.uuid5(_NS, installer)).upper() + "}"
    return {"installer": installer, "provider": "msi", "product_id": guid, "display_name": name,
            "display_version": version, "publisher": "Microsoft Corporation", "exit_code": 0,
            "uninstall_exit_code": 0, "signed": True, "kind": kind}


def hosting_bundle(version: str) -> dict[str, t.Any]:
    """Catalogue entry of the ASP.NET Core ``version`` Hosting Bundle.  The
    product id is a stable GUID derived from the version (winsim cannot know
    Microsoft's bundle GUIDs; a real host's id is read from its Uninstall key)."""
    guid = "{" + str(uuid.uuid5(_NS, f"dotnet-hosting-{version}")).upper() + "}"
    return {
        "installer": f"dotnet-hosting-{version}-win.exe", "provider": "registry", "product_id": guid,
        "display_name": f"Microsoft .NET {version} - Windows Server Hosting",
        "display_version": f"{version}.0", "publisher": "Microsoft Corporation", "exit_code": 0,
        "uninstall_exit_code": 0, "signed": True, "kind": "aspnetcore_hosting_bundle", "runtime_version": version,
    }


# -- the artifact server's PKI ----------------------------------------------------------
# The internal artifact server answers https with a certificate issued by the
# lab's artifact CA.  Only the two public certificates exist (winsim never
# needs the server's private key): fixed DER, so every process and every
# host sees the same thumbprints.  The CA certificate is published on the
# server itself, over http, at ARTIFACT_CA_URL (as an AIA/CDP location would).
ARTIFACT_CA_DER = base64.b64decode(
    "MIIBnzCCAUWgAwIBAgIGGis8TV5vMAoGCCqGSM49BAMCMDMxHjAcBgNVBAMMFU1DTVMgTGFiIEFydGlmYWN0cyBDQTERMA8GA1UE"
    "CgwITUNNUyBMYWIwHhcNMjUwMTAxMDAwMDAwWhcNNDUwMTAxMDAwMDAwWjAzMR4wHAYDVQQDDBVNQ01TIExhYiBBcnRpZmFjdHMg"
    "Q0ExETAPBgNVBAoMCE1DTVMgTGFiMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEe+gEl4+mzdOQssCqXxeOmseKEwGP5VgSjDSG"
    "ygO92xnzSsJkree+Wv9MAqNx/LcJQMfNVEIQGhtF1AqHl0vMpaNFMEMwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMC"
    "AQYwHQYDVR0OBBYEFBIKkx60UEgJHMy5KUtGA8X325ImMAoGCCqGSM49BAMCA0gAMEUCICpYDVOTm19d8B2S3UGvBrzpsXn9Ay8p"
    "7CCiKleTJvtoAiEA+ZyTK3/SPsdXbz+0Hl7thdP3etfqtIgaFVHH6QtsCFI="
)
ARTIFACT_SERVER_DER = base64.b64decode(
    "MIIBtDCCAVmgAwIBAgIGKzxNXm9wMAoGCCqGSM49BAMCMDMxHjAcBgNVBAMMFU1DTVMgTGFiIEFydGlmYWN0cyBDQTERMA8GA1UE"
    "CgwITUNNUyBMYWIwHhcNMjUwMTAxMDAwMDAwWhcNNDQxMjMxMDAwMDAwWjAiMSAwHgYDVQQDDBdhcnRpZmFjdHMubWNtcy5pbnRl"
    "cm5hbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMj8ZUEn3fkydCkzE/TVi+hg76IQ914kH+JJLRJ9oMk1RoLiWkDCFtyZOAob"
    "k17j2VcTwxZv3g+LX+WwllDO8JujajBoMAwGA1UdEwEB/wQCMAAwIgYDVR0RBBswGYIXYXJ0aWZhY3RzLm1jbXMuaW50ZXJuYWww"
    "EwYDVR0lBAwwCgYIKwYBBQUHAwEwHwYDVR0jBBgwFoAUEgqTHrRQSAkczLkpS0YDxffbkiYwCgYIKoZIzj0EAwIDSQAwRgIhAOoW"
    "ICTRyuPRlpQl/G8XM1IGQahWKKHPysTXrHpJPuZ9AiEAn8CRUNSGr5mRbRBV4gfkU+Me8VCE2dJ+6KDFp3Aqkn4="
)
ARTIFACT_CA_PATH = "/pki/mcms-lab-artifacts-ca.cer"
ARTIFACT_CA_URL = f"http://{ARTIFACT_HOST}{ARTIFACT_CA_PATH}"


def artifact_server_certificate() -> dict[str, t.Any]:
    """The store-entry view of the certificate the artifact server presents."""
    from .certificates import entry_from_der

    return entry_from_der(ARTIFACT_SERVER_DER)


def artifact_ca_certificate() -> dict[str, t.Any]:
    from .certificates import entry_from_der

    return entry_from_der(ARTIFACT_CA_DER)


@section("packages")
def _fresh_packages() -> dict[str, t.Any]:
    catalogue = {f"dotnet-hosting-{v}": hosting_bundle(v) for v in ("8.0.10", "8.0.11", "8.0.12")}
    catalogue["iis-url-rewrite-2.1"] = iis_extension("iis_url_rewrite")
    catalogue["iis-arr-3.0"] = iis_extension("iis_arr")
    urls = {}
    for key, entry in catalogue.items():
        for scheme in ("http", "https"):
            urls[f"{scheme}://{ARTIFACT_HOST}/dotnet/{entry['installer']}"] = key
    return {"catalogue": catalogue, "artifact_hosts": [ARTIFACT_HOST], "internal_urls": urls}


# -- the internal artifact server (shared with win_get_url / win_uri models) ------------

def installer_bytes(entry: dict[str, t.Any]) -> bytes:
    """The (synthetic, deterministic) content of a catalogue installer."""
    seed = f"{entry['installer']}|{entry['product_id']}|{entry['display_version']}".encode()
    return b"MZ\x90\x00" + hashlib.sha256(seed).digest() * 64


def artifact(state: dict[str, t.Any], url: str) -> tuple[int | None, str, bytes | None]:
    """What the internal artifact server answers for ``url``:
    ``(200, file name, content)``, ``(404, reason, None)`` or
    ``(None, error, None)`` when the host cannot be reached (offline lab)."""
    pkgs = state.get("packages") or {}
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if host not in [h.lower() for h in pkgs.get("artifact_hosts", [])]:
        return None, f"The remote name could not be resolved: '{parsed.hostname}'", None
    if parsed.path.lower() == ARTIFACT_CA_PATH:
        return 200, ARTIFACT_CA_PATH.rsplit("/", 1)[-1], ARTIFACT_CA_DER
    for known, key in pkgs.get("internal_urls", {}).items():
        if known.lower() == url.lower():
            entry = pkgs["catalogue"][key]
            return 200, entry["installer"], installer_bytes(entry)
    return 404, "Not Found", None


def _identify(state: dict[str, t.Any], path: str) -> tuple[str, dict[str, t.Any]] | None:
    catalogue = state["packages"]["catalogue"]
    name = st.normpath(path).rsplit("\\", 1)[-1].lower()
    for key, entry in catalogue.items():
        if entry["installer"].lower() == name:
            return key, entry
    item = st.get_item(state, path)
    if item is not None and item.get("sha1"):
        for key, entry in catalogue.items():
            if hashlib.sha1(installer_bytes(entry)).hexdigest() == item["sha1"] or entry.get("sha1") == item["sha1"]:
                return key, entry
    return None


def _uninstall_key(state: dict[str, t.Any], product_id: str) -> str | None:
    """The registry provider's ``Test``: HKLM then HKCU, 64 then 32-bit view."""
    for hive in ("HKLM", "HKCU"):
        for view in ("SOFTWARE", "SOFTWARE\\WOW6432Node"):
            path = f"{hive}\\{view}\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{product_id}"
            if registry.get_key(state, path) is not None:
                return path
    return None


def _hash(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest().upper()


def _escape_arg(arg: str) -> str:
    """``ConvertTo-EscapedArgument`` (Windows argv quoting)."""
    if arg and not re.search(r'[\s"]', arg):
        return arg
    out = re.sub(r'(\\*)"', r'\1\1\\"', arg)
    out = re.sub(r"(\\+)$", r"\1\1", out)
    return f'"{out}"'


# -- effects of the known installers ---------------------------------------------------------

def _apphost_modules(state: dict[str, t.Any], when: str, present: bool,
                     module: tuple[str, str] = (ANCM_NAME, ANCM_IMAGE), section: str | None = None) -> None:
    name, image = module
    path = features.APPHOST
    if not st.exists(state, path):
        return
    root = ET.fromstring(st.read_file(state, path), parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    gm = root.find("system.webServer/globalModules")
    mods = root.find("location/system.webServer/modules")
    if gm is None or mods is None:
        return
    changed = False
    if section is not None:
        group = root.find("configSections/sectionGroup[@name='system.webServer']")
        have_section = group is not None and group.find(f"*[@name='{section}']") is not None
        if present and group is not None and not have_section:
            if section == "rewrite":
                sub = ET.SubElement(group, "sectionGroup", {"name": "rewrite"})
                for sname in ("allowedServerVariables", "globalRules", "outboundRules", "providers",
                              "rewriteMaps", "rules"):
                    attrs = {"name": sname, "overrideModeDefault": "Allow"}
                    if sname in ("allowedServerVariables", "globalRules"):
                        attrs = {"name": sname, "allowDefinition": "AppHostOnly", "overrideModeDefault": "Deny"}
                    ET.SubElement(sub, "section", attrs)
            else:
                ET.SubElement(group, "section", {"name": section, "allowDefinition": "AppHostOnly",
                                                 "overrideModeDefault": "Deny"})
            changed = True
        elif not present and group is not None and have_section:
            for el in group.findall(f"*[@name='{section}']"):
                group.remove(el)
            changed = True
    for parent, attrs in ((gm, {"name": name, "image": image}), (mods, {"name": name})):
        have = [el for el in parent if el.tag == "add" and el.get("name") == name]
        if present and not have:
            ET.SubElement(parent, "add", attrs)
            changed = True
        elif not present and have:
            for el in have:
                parent.remove(el)
            changed = True
    if changed:
        ET.indent(root, space="    ")
        data = b'<?xml version="1.0" encoding="UTF-8"?>\r\n' + ET.tostring(root, encoding="unicode").encode("utf-8")
        st.write_file(state, path, data, when)


def aspnetcore_module_installed(state: dict[str, t.Any]) -> bool:
    """Whether IIS has the ASP.NET Core Module V2 registered (what a site
    running an ASP.NET Core app in IIS needs)."""
    if not features.iis_installed(state) or not st.exists(state, features.APPHOST):
        return False
    root = ET.fromstring(st.read_file(state, features.APPHOST))
    gm = root.find("system.webServer/globalModules")
    return gm is not None and any(el.get("name") == ANCM_NAME for el in gm)


def _install(state: dict[str, t.Any], entry: dict[str, t.Any], source_path: str, when: str) -> None:
    pid = entry["product_id"]
    key = f"{registry.UNINSTALL}\\{pid}"
    cache = f"C:\\ProgramData\\Package Cache\\{pid}\\{entry['installer']}"
    values = [
        ("DisplayName", "string", entry["display_name"]),
        ("DisplayVersion", "string", entry["display_version"]),
        ("Publisher", "string", entry["publisher"]),
        ("InstallDate", "string", when[:10].replace("-", "")),
        ("EstimatedSize", "dword", 215040),
        ("NoModify", "dword", 1),
        ("UninstallString", "string", f'"{cache}"  /uninstall'),
        ("QuietUninstallString", "string", f'"{cache}" /uninstall /quiet'),
    ]
    if entry.get("kind") == "aspnetcore_hosting_bundle":
        values.append(("BundleVersion", "string", entry["display_version"]))
    for name, vtype, data in values:
        registry.set_value(state, key, name, vtype, data)
    st.make_dirs(state, st.parent(cache) or cache, when)
    if st.exists(state, source_path) and st.get_item(state, source_path)["type"] == "file":
        st.write_file(state, cache, st.read_file(state, source_path), when)
    else:
        st.write_file(state, cache, installer_bytes(entry), when)
    if entry.get("kind") == "aspnetcore_hosting_bundle":
        ver = entry["runtime_version"]
        for d in (f"{DOTNET_DIR}\\shared\\Microsoft.NETCore.App\\{ver}",
                  f"{DOTNET_DIR}\\shared\\Microsoft.AspNetCore.App\\{ver}", f"{DOTNET_DIR}\\host\\fxr\\{ver}",
                  f"{ANCM_DIR}\\{ver}"):
            st.make_dirs(state, d, when)
        st.write_file(state, f"{DOTNET_DIR}\\dotnet.exe", b"MZ\x90\x00dotnet host " + ver.encode(), when)
        st.get_item(state, f"{DOTNET_DIR}\\dotnet.exe")["version"] = f"{ver}.0"
        st.write_file(state, f"{ANCM_DIR}\\aspnetcorev2.dll", b"MZ\x90\x00ANCM V2 " + ver.encode(), when)
        st.get_item(state, f"{ANCM_DIR}\\aspnetcorev2.dll")["version"] = f"18.0.{ver.replace('.', '')}.0"
        st.write_file(state, f"{ANCM_DIR}\\{ver}\\aspnetcorev2_outofprocess.dll", b"MZ\x90\x00", when)
        if features.iis_installed(state):
            _apphost_modules(state, when, True)
    elif entry.get("kind") == "iis_url_rewrite" and features.iis_installed(state):
        st.write_file(state, "C:\\Windows\\System32\\inetsrv\\rewrite.dll", b"MZ\x90\x00URL Rewrite 2.1", when)
        _apphost_modules(state, when, True, REWRITE_MODULE, "rewrite")
    elif entry.get("kind") == "iis_arr" and features.iis_installed(state):
        st.make_dirs(state, "C:\\Program Files\\IIS\\Application Request Routing", when)
        st.write_file(state, "C:\\Program Files\\IIS\\Application Request Routing\\requestRouter.dll",
                      b"MZ\x90\x00ARR 3.0", when)
        _apphost_modules(state, when, True, ARR_MODULE, "proxy")


def extension_installed(state: dict[str, t.Any], module: str) -> bool:
    """Whether applicationHost.config registers the global module ``module``
    (``RewriteModule``, ``ApplicationRequestRouting``)."""
    if not features.iis_installed(state) or not st.exists(state, features.APPHOST):
        return False
    root = ET.fromstring(st.read_file(state, features.APPHOST))
    gm = root.find("system.webServer/globalModules")
    return gm is not None and any(el.get("name") == module for el in gm)


def _uninstall(state: dict[str, t.Any], entry: dict[str, t.Any], key: str, when: str) -> None:
    registry.delete_tree(state, key)
    cache_dir = f"C:\\ProgramData\\Package Cache\\{entry['product_id']}"
    if st.exists(state, cache_dir):
        st.remove(state, cache_dir)
    if entry.get("kind") == "aspnetcore_hosting_bundle":
        ver = entry["runtime_version"]
        for d in (f"{DOTNET_DIR}\\shared\\Microsoft.NETCore.App\\{ver}",
                  f"{DOTNET_DIR}\\shared\\Microsoft.AspNetCore.App\\{ver}", f"{DOTNET_DIR}\\host\\fxr\\{ver}",
                  f"{ANCM_DIR}\\{ver}"):
            if st.exists(state, d):
                st.remove(state, d)
        others = [e for e in state["packages"]["catalogue"].values()
                  if e.get("kind") == "aspnetcore_hosting_bundle" and e is not entry
                  and _uninstall_key(state, e["product_id"]) is not None]
        if not others:
            for d in (DOTNET_DIR, ANCM_DIR):
                if st.exists(state, d):
                    st.remove(state, d)
            _apphost_modules(state, when, False)


# -- win_package --------------------------------------------------------------------------

@model("ansible.windows.win_package", upstream=UPSTREAM)
def win_package(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    path, product_id, want = p.get("path"), p.get("product_id"), p["state"]
    result: dict[str, t.Any] = {"reboot_required": False}
    arguments = p.get("arguments")
    if isinstance(arguments, list):
        arguments = " ".join(_escape_arg(str(a)) for a in arguments)

    is_url = bool(path) and path.lower().startswith("http")
    local_path: str | None = None
    entry: tuple[str, dict[str, t.Any]] | None = None
    content: bytes | None = None

    def download() -> None:
        nonlocal entry, content, local_path
        if path.lower().startswith("https:") and p.get("validate_certs", True):
            from .http import artifact_tls_error

            error = artifact_tls_error(ctx, urllib.parse.urlsplit(path).hostname or "")
            if error:
                ctx.fail('Unhandled exception while executing module: Exception calling "GetResponse" with "0" '
                         f'argument(s): "{error}"')
        code, info, data = artifact(state, path)
        if code is None:
            ctx.fail('Unhandled exception while executing module: Exception calling "GetResponse" with "0" '
                     f'argument(s): "{info}"')
        if code != 200:
            ctx.fail('Unhandled exception while executing module: Exception calling "GetResponse" with "0" '
                     f'argument(s): "The remote server returned an error: ({code}) {info}."')
        local_path = f"C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-moduletmp\\{info}"
        key = state["packages"]["internal_urls"][next(u for u in state["packages"]["internal_urls"]
                                                        if u.lower() == path.lower())]
        entry = (key, state["packages"]["catalogue"][key])
        content = data

    installed_key: str | None = None
    if is_url and product_id and want == "present":
        installed_key = _uninstall_key(state, product_id)
    if is_url and (not product_id or installed_key is None):
        download()
    elif path and not is_url:
        if not st.exists(state, path) and not ctx.check_mode:
            ctx.fail(f"the file at the path '{path}' cannot be reached", **result)
        local_path = path
        if st.exists(state, path) and st.get_item(state, path)["type"] == "file":
            entry = _identify(state, path)
            content = st.read_file(state, path)

    # Get-InstalledStatus
    provider = p["provider"]
    if entry is not None and provider == "auto":
        provider = entry[1]["provider"]
    status_id = product_id
    if entry is not None and provider == "msi":
        status_id = entry[1]["product_id"]  # the msi provider reads ProductCode from the file
    installed = False
    if status_id:
        installed_key = _uninstall_key(state, status_id)
        installed = installed_key is not None
    if p.get("creates_path"):
        cpath = p["creates_path"]
        exists = st.exists(state, cpath)
        installed = exists
        if p.get("creates_version") and exists:
            item = st.get_item(state, cpath)
            if item["type"] != "file":
                ctx.fail("Unhandled exception while executing module: creates_path must be a file not a "
                         "directory when creates_version is set")
            installed = _version_eq(p["creates_version"], item.get("version") or "0.0.0.0")
    if p.get("creates_service"):
        installed = services.get_service(state, p["creates_service"]) is not None

    changed = (want == "present") != installed
    result["rc"] = 0
    if changed and not ctx.check_mode:
        if want == "present":
            if content is not None:
                digest = _hash(content, p.get("checksum_algorithm") or "sha1")
                result["checksum"] = digest
                if p.get("checksum") and p["checksum"] != digest:
                    ctx.fail(f"The checksum for {local_path} did not match '{p['checksum']}', it was '{digest}'",
                             **result)
            if p.get("verify_signature") and local_path:
                signed = entry is not None and entry[1].get("signed", False)
                if not signed:
                    ctx.fail(f"Authenticode check failed: File '{local_path}': signature status is 'NotSigned', "
                             "expected 'Valid'", **result)
            if entry is None:
                raise SimulatorError(
                    f"winsim: win_package cannot run '{path}': no simulated installer in "
                    "state['packages']['catalogue'] matches its file name or SHA-1")
            rc = int(entry[1].get("exit_code", 0))
            if entry[1].get("kind") == "iis_arr" and \
                    _uninstall_key(state, state["packages"]["catalogue"].get("iis-url-rewrite-2.1", {})
                                   .get("product_id", "-")) is None:
                rc = 1603  # ARR's launch condition: "IIS URL Rewrite Module 2 is required"
            command = _escape_arg(local_path or "")
            if provider == "msi":
                command = f'msiexec.exe /i {_escape_arg(local_path or "")} /qn /norestart'
            if arguments:
                command += f" {arguments}"
        else:
            pid = status_id or ""
            cat = next(((k, e) for k, e in state["packages"]["catalogue"].items()
                        if e["product_id"].lower() == pid.lower()), None)
            if cat is None:
                raise SimulatorError(f"winsim: win_package cannot uninstall '{pid}': it is not a product from "
                                     "state['packages']['catalogue']")
            entry = cat
            rc = int(entry[1].get("uninstall_exit_code", 0))
            uninstall = registry.get_value(state, installed_key or "", "QuietUninstallString") or \
                registry.get_value(state, installed_key or "", "UninstallString")
            if uninstall is None:
                ctx.fail(f"Failed to find registry uninstall string at registry path '{installed_key}'", **result)
            command = str(uninstall["data"])
            if arguments:
                command += f" {arguments}"
        result["rc"] = rc
        if rc not in p["expected_return_code"]:
            result.update(stdout="", stderr="")
            ctx.fail(f"unexpected rc from '{command}': see rc, stdout, and stderr for more details", **result)
        if rc == 3010:
            result["reboot_required"] = True
        when = st.iso(ctx.now())
        if want == "present":
            _install(state, entry[1], local_path or "", when)
        else:
            _uninstall(state, entry[1], installed_key or "", when)
    if want == "absent" and product_id is None and is_url:
        ctx.fail("Unable to find Product ID from the URL path. Please specify product_id when using state=absent",
                 **result)
    ctx.changed(changed)
    return ctx.exit(**result)


def _version_eq(wanted: str, have: str) -> bool:
    """``$CreatesVersion -eq $existingVersion``: PowerShell converts the
    four-part ``System.Version`` to a string and compares case-insensitively,
    so ``8.0.11`` does not equal ``8.0.11.0``."""
    return wanted.strip().lower() == have.strip().lower()
