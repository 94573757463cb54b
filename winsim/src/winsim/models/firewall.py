"""Windows Defender Firewall: ``community.windows.win_firewall_rule``
(community.windows 3.3.0) and ``ansible.windows.win_firewall``
(ansible.windows 3.8.0).

State section ``state["firewall"]``::

    {"profiles": {"Domain"|"Private"|"Public": {"enabled": bool,
                  "default_inbound_action": "Block"|"Allow"|"NotConfigured",
                  "default_outbound_action": ...}},
     "rules": [{"name", "description", "application_name", "service_name", "protocol" (int, 256 = any),
                "local_ports", "remote_ports", "local_addresses", "remote_addresses" ("*" = any),
                "icmp_types_and_codes", "direction" (1 in, 2 out), "action" (0 block, 1 allow), "enabled",
                "grouping", "profiles" (bit mask, 0x7fffffff = all), "interface_types" ("All"),
                "edge_traversal_options", "secure_flags",
                "id" (only on rules of the realistic profiles: the rule's Name in
                      Get-NetFirewallRule, e.g. "IIS-WebServerRole-HTTP-In-TCP")}]}

Beyond the ``bare`` profile the predefined rules hold their real indirect
``grouping`` (``@FirewallAPI.dll,-28752`` for Remote Desktop,
``@%windir%\\system32\\inetsrv\\iisres.dll,-30501`` for IIS HTTP): the COM
object returns it unresolved and ``win_firewall_rule`` compares ``group``
with it exactly (``winsim/docs/profiles.md``).

The rule fields hold the values the ``HNetCfg.FWRule`` COM object returns,
normalised the way the firewall service normalises them (addresses as
``a.b.c.d/mask``, keywords in their canonical case), because the module
compares those values.  Rule names are not unique (as on Windows); rules are
kept in creation order.
"""

from __future__ import annotations

import copy
import datetime as _dt
import ipaddress
import typing as t

from ..drift import Arg, DriftError, drift
from ..drift import section_of as _section
from ..pwsh import ps_str
from ..state import expand_env, section
from ._base import ModuleContext, model

UPSTREAM_RULE = "community.windows 3.3.0"
UPSTREAM_FW = "ansible.windows 3.8.0"

ALL_PROFILES = 0x7FFFFFFF
PROTOCOL_ANY = 256

# COM property name -> state field, in the module's comparison order.
PROPS: list[tuple[str, str]] = [
    ("Description", "description"), ("Direction", "direction"), ("Action", "action"),
    ("ApplicationName", "application_name"), ("Grouping", "grouping"), ("ServiceName", "service_name"),
    ("Enabled", "enabled"), ("Profiles", "profiles"), ("LocalAddresses", "local_addresses"),
    ("RemoteAddresses", "remote_addresses"), ("LocalPorts", "local_ports"), ("RemotePorts", "remote_ports"),
    ("Protocol", "protocol"), ("InterfaceTypes", "interface_types"),
    ("EdgeTraversalOptions", "edge_traversal_options"), ("SecureFlags", "secure_flags"),
    ("IcmpTypesAndCodes", "icmp_types_and_codes"),
]


def new_rule(name: str | None, **values: t.Any) -> dict[str, t.Any]:
    """A rule with the defaults of a fresh ``HNetCfg.FWRule`` object."""
    rule = {
        "name": name, "description": None, "application_name": None, "service_name": None,
        "protocol": PROTOCOL_ANY, "local_ports": "*", "remote_ports": "*", "local_addresses": "*",
        "remote_addresses": "*", "icmp_types_and_codes": None, "direction": 1, "action": 1, "enabled": False,
        "grouping": None, "profiles": ALL_PROFILES, "interface_types": "All", "edge_traversal_options": 0,
        "secure_flags": 0,
    }
    rule.update(values)
    return rule


def _tcp_in(name: str, group: str, port: str, desc: str, *, enabled: bool = True, profiles: int = ALL_PROFILES,
            remote: str = "*", program: str | None = "System", service: str | None = None) -> dict[str, t.Any]:
    return new_rule(name, description=desc, grouping=group, protocol=6, local_ports=port, enabled=enabled,
                    profiles=profiles, remote_addresses=remote, application_name=program, service_name=service)


# Real Windows Server 2022 rule groups as the COM ``Grouping`` property (and
# the registry) stores them: indirect strings, resolved only for display
# (``DisplayGroup`` of Get-NetFirewallRule).  win_firewall_rule compares
# ``group`` with ``Grouping`` exactly, so ``group: Remote Desktop`` finds
# nothing on a real host.
GROUP_WINRM = "@FirewallAPI.dll,-30267"           # Windows Remote Management
GROUP_RDP = "@FirewallAPI.dll,-28752"             # Remote Desktop
GROUP_FPS = "@FirewallAPI.dll,-28502"             # File and Printer Sharing
GROUP_WMI = "@FirewallAPI.dll,-34251"             # Windows Management Instrumentation (WMI)
GROUP_CORENET = "@FirewallAPI.dll,-25000"         # Core Networking
GROUP_IIS_HTTP = "@%windir%\\system32\\inetsrv\\iisres.dll,-30501"   # World Wide Web Services (HTTP)
GROUP_IIS_HTTPS = "@%windir%\\system32\\inetsrv\\iisres.dll,-30503"  # Secure World Wide Web Services (HTTPS)

# Rule ID (Get-NetFirewallRule -Name, the registry value name) of the
# realistic rules, by (COM name = DisplayName, profiles); kept as ``id``
# (informational: the COM interface the module uses has no such property).
_REALISTIC: dict[str, tuple[str, str]] = {
    # DisplayName: (rule id, indirect group)
    "Windows Remote Management (HTTP-In)": ("WINRM-HTTP-In-TCP", GROUP_WINRM),
    "Remote Desktop - User Mode (TCP-In)": ("RemoteDesktop-UserMode-In-TCP", GROUP_RDP),
    "Remote Desktop - User Mode (UDP-In)": ("RemoteDesktop-UserMode-In-UDP", GROUP_RDP),
    "File and Printer Sharing (SMB-In)": ("FPS-SMB-In-TCP", GROUP_FPS),
    "Windows Management Instrumentation (WMI-In)": ("WMI-WINMGMT-In-TCP", GROUP_WMI),
    "File and Printer Sharing (Echo Request - ICMPv4-In)": ("FPS-ICMP4-ERQ-In", GROUP_FPS),
    "Core Networking - Dynamic Host Configuration Protocol (DHCP-In)": ("CoreNet-DHCP-In", GROUP_CORENET),
    "Core Networking - DNS (UDP-Out)": ("CoreNet-DNS-Out-UDP", GROUP_CORENET),
    "World Wide Web Services (HTTP Traffic-In)": ("IIS-WebServerRole-HTTP-In-TCP", GROUP_IIS_HTTP),
    "World Wide Web Services (HTTPS Traffic-In)": ("IIS-WebServerRole-HTTPS-In-TCP", GROUP_IIS_HTTPS),
}


def realistic_rule(rule: dict[str, t.Any]) -> dict[str, t.Any]:
    """``rule`` as a real host stores it: indirect group, rule id (the
    public-profile WinRM rule's id is ``WINRM-HTTP-In-TCP``, the
    domain/private one ``WINRM-HTTP-In-TCP-NoScope``)."""
    real = copy.deepcopy(rule)
    rid, group = _REALISTIC.get(rule["name"], (None, rule["grouping"]))
    if rid == "WINRM-HTTP-In-TCP" and rule["profiles"] != 4:
        rid += "-NoScope"
    real["grouping"] = group
    if rid is not None:
        real["id"] = rid
    return real


@section("firewall")
def _fresh_firewall(profile: str = "bare") -> dict[str, t.Any]:
    profiles = {p: {"enabled": True, "default_inbound_action": "NotConfigured",
                    "default_outbound_action": "NotConfigured"} for p in ("Domain", "Private", "Public")}
    winrm = "Windows Remote Management"
    rules = [
        _tcp_in("Windows Remote Management (HTTP-In)", winrm, "5985",
                "Inbound rule for Windows Remote Management via WS-Management. [TCP 5985]", profiles=3),
        _tcp_in("Windows Remote Management (HTTP-In)", winrm, "5985",
                "Inbound rule for Windows Remote Management via WS-Management. [TCP 5985]", profiles=4,
                remote="LocalSubnet"),
        _tcp_in("Remote Desktop - User Mode (TCP-In)", "Remote Desktop", "3389",
                "Inbound rule for the Remote Desktop service to allow RDP traffic. [TCP 3389]", enabled=False,
                program="%SystemRoot%\\system32\\svchost.exe", service="termservice"),
        _tcp_in("File and Printer Sharing (SMB-In)", "File and Printer Sharing", "445",
                "Inbound rule for File and Printer Sharing to allow Server Message Block transmission and "
                "reception via Named Pipes. [TCP 445]", enabled=False),
        _tcp_in("Windows Management Instrumentation (WMI-In)", "Windows Management Instrumentation (WMI)", "RPC",
                "Inbound rule to allow WMI traffic for remote Windows Management Instrumentation. [TCP]",
                enabled=False, program="%SystemRoot%\\system32\\svchost.exe", service="winmgmt"),
        new_rule("File and Printer Sharing (Echo Request - ICMPv4-In)", grouping="File and Printer Sharing",
                 description="Echo Request messages are sent as ping requests to other nodes.", protocol=1,
                 icmp_types_and_codes="8:*", enabled=False),
        new_rule("Core Networking - Dynamic Host Configuration Protocol (DHCP-In)", grouping="Core Networking",
                 description="Allows DHCP (Dynamic Host Configuration Protocol) messages for stateful "
                             "auto-configuration.", protocol=17, local_ports="68", remote_ports="67",
                 enabled=True, application_name="%SystemRoot%\\system32\\svchost.exe", service_name="dhcp"),
        new_rule("Core Networking - DNS (UDP-Out)", grouping="Core Networking", direction=2, protocol=17,
                 remote_ports="53", enabled=True, description="Outbound rule to allow DNS requests.",
                 application_name="%SystemRoot%\\system32\\svchost.exe", service_name="dnscache"),
    ]
    if profile != "bare":
        rules.insert(3, new_rule(
            "Remote Desktop - User Mode (UDP-In)", grouping="Remote Desktop", protocol=17, local_ports="3389",
            description="Inbound rule for the Remote Desktop service to allow RDP traffic. [UDP 3389]",
            application_name="%SystemRoot%\\system32\\svchost.exe", service_name="termservice"))
        rules = [realistic_rule(r) for r in rules]
    return {"profiles": profiles, "rules": rules}


# -- helpers for other models ----------------------------------------------------

IIS_RULES = [
    ("World Wide Web Services (HTTP Traffic-In)", "World Wide Web Services (HTTP)", "80",
     "An inbound rule to allow HTTP traffic for Internet Information Services (IIS) [TCP 80]"),
    ("World Wide Web Services (HTTPS Traffic-In)", "Secure World Wide Web Services (HTTPS)", "443",
     "An inbound rule to allow HTTPS traffic for Internet Information Services (IIS) [TCP 443]"),
]


def add_rules(state: dict[str, t.Any], rules: list[dict[str, t.Any]]) -> None:
    """Add ``rules`` unless a rule with the same name and grouping exists."""
    existing = {(r["name"], r["grouping"]) for r in state["firewall"]["rules"]}
    for rule in rules:
        if (rule["name"], rule["grouping"]) not in existing:
            state["firewall"]["rules"].append(copy.deepcopy(rule))


def remove_group(state: dict[str, t.Any], grouping: str) -> None:
    state["firewall"]["rules"] = [r for r in state["firewall"]["rules"] if r["grouping"] != grouping]


def iis_rules(profile: str = "bare") -> list[dict[str, t.Any]]:
    """The rules the ``Web-Server`` install adds (enabled, all profiles,
    program ``System``), with their real indirect group
    (``@%windir%\\system32\\inetsrv\\iisres.dll,-30501``) and id
    (``IIS-WebServerRole-HTTP-In-TCP``) on every profile: the profile describes
    the host before the role is installed, and installing Web-Server on any
    Windows Server creates the rules this way (issue 8)."""
    del profile
    return [realistic_rule(_tcp_in(n, g, port, d)) for n, g, port, d in IIS_RULES]


def remove_iis_rules(state: dict[str, t.Any]) -> None:
    """What removing ``Web-Server`` removes (either form of the groups)."""
    for _n, group, _p, _d in IIS_RULES:
        remove_group(state, group)
    for group in (GROUP_IIS_HTTP, GROUP_IIS_HTTPS):
        remove_group(state, group)


def inbound_allowed(state: dict[str, t.Any], port: int, protocol: int = 6) -> bool:
    """Whether an enabled allow rule opens ``port`` inbound (for HTTP models)."""
    for rule in state["firewall"]["rules"]:
        if not rule["enabled"] or rule["direction"] != 1 or rule["action"] != 1:
            continue
        if rule["protocol"] not in (protocol, PROTOCOL_ANY):
            continue
        if _port_matches(rule["local_ports"], port):
            return True
    return False


def _port_matches(spec: str, port: int) -> bool:
    if spec == "*":
        return True
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            if lo.isdigit() and hi.isdigit() and int(lo) <= port <= int(hi):
                return True
        elif part.isdigit() and int(part) == port:
            return True
    return False


# -- COM normalisation -----------------------------------------------------------

class ComError(Exception):
    pass


_KEYWORDS = {k.lower(): k for k in ("LocalSubnet", "DNS", "DHCP", "WINS", "DefaultGateway", "Internet",
                                    "Intranet", "IntranetRemoteAccess", "PlayToDevice", "*")}
_PORT_KEYWORDS = {k.lower(): k for k in ("RPC", "RPC-EPMap", "IPHTTPS", "Teredo", "Ply2Disc", "mDNS", "*")}
_BAD_PARAM = "The parameter is incorrect. (Exception from HRESULT: 0x80070057 (E_INVALIDARG))"
_RANGE = "Value does not fall within the expected range."


def _norm_addresses(value: str) -> str:
    out = []
    for part in value.split(","):
        part = part.strip()
        if part.lower() in _KEYWORDS:
            out.append(_KEYWORDS[part.lower()])
            continue
        try:
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.append(f"{ipaddress.ip_address(lo)}-{ipaddress.ip_address(hi)}")
            else:
                net = ipaddress.ip_network(part, strict=False)
                if net.version == 4:
                    out.append(f"{net.network_address}/{net.netmask}")
                else:
                    out.append(str(net) if net.prefixlen != 128 else str(net.network_address))
        except ValueError as err:
            raise ComError(_BAD_PARAM) from err
    return ",".join(out)


def _norm_ports(value: str, protocol: int) -> str:
    if protocol not in (6, 17):
        raise ComError(_BAD_PARAM)
    out = []
    for part in value.split(","):
        part = part.strip()
        if part.lower() in _PORT_KEYWORDS:
            out.append(_PORT_KEYWORDS[part.lower()])
            continue
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() and 0 <= int(b) <= 65535 for b in bounds):
            raise ComError(_BAD_PARAM)
        out.append(part)
    return ",".join(out)


def _protocol(value: str) -> int:
    try:
        num = int(value)
    except ValueError:
        low = value.lower()
        if low == "tcp":
            return 6
        if low == "udp":
            return 17
        if low.startswith("icmpv4"):
            return 1
        if low.startswith("icmpv6"):
            return 58
        raise ComError(f"Unknown protocol '{value}'.") from None
    if not 0 <= num <= 256:
        raise ComError(_RANGE)
    return num


def _profiles(values: list[str]) -> int:
    total = 0
    for v in dict.fromkeys(values):
        bit = {"domain": 1, "private": 2, "public": 4}.get(v)
        if bit is None:
            raise ComError(f"Unknown profile '{v}'.")
        total += bit
    return ALL_PROFILES if total == 7 else total


def _interface_types(values: list[str]) -> str:
    out = []
    for v in dict.fromkeys(values):
        name = {"wireless": "Wireless", "lan": "Lan", "ras": "RemoteAccess"}.get(v)
        if name is None:
            raise ComError(f"Unknown interface type '{v}'.")
        out.append(name)
    return ",".join(out)


def _build_rule(ctx: ModuleContext) -> dict[str, t.Any]:
    """The module's ``$new_rule`` COM object, property by property in the
    module's order (so the same property raises the same error)."""
    p = ctx.params
    rule = new_rule(p.get("name"))
    rule["enabled"] = p["enabled"] if p.get("enabled") is not None else True
    if p.get("description") is not None:
        rule["description"] = p["description"]
    if p.get("group") is not None:
        rule["grouping"] = p["group"]
    if p.get("program") is not None and p["program"] != "any":
        rule["application_name"] = expand_env(p["program"], ctx.state)
    if p.get("service") is not None and p["service"] != "any":
        rule["service_name"] = p["service"]
    if p.get("protocol") is not None and p["protocol"] != "any":
        rule["protocol"] = _protocol(p["protocol"])
    try:
        if p.get("localport") is not None and p["localport"] != "any":
            rule["local_ports"] = _norm_ports(p["localport"], rule["protocol"])
    except ComError as err:
        raise ComError(f'Exception setting "LocalPorts": "{err}"') from err
    try:
        if p.get("remoteport") is not None and p["remoteport"] != "any":
            rule["remote_ports"] = _norm_ports(p["remoteport"], rule["protocol"])
    except ComError as err:
        raise ComError(f'Exception setting "RemotePorts": "{err}"') from err
    try:
        if p.get("localip") is not None and p["localip"] != "any":
            rule["local_addresses"] = _norm_addresses(p["localip"])
    except ComError as err:
        raise ComError(f'Exception setting "LocalAddresses": "{err}"') from err
    try:
        if p.get("remoteip") is not None and p["remoteip"] != "any":
            rule["remote_addresses"] = _norm_addresses(p["remoteip"])
    except ComError as err:
        raise ComError(f'Exception setting "RemoteAddresses": "{err}"') from err
    icmp = ",".join(p["icmp_type_code"]) if p.get("icmp_type_code") is not None else None
    if icmp is not None and icmp != "any":
        if rule["protocol"] not in (1, 58):
            raise ComError(f'Exception setting "IcmpTypesAndCodes": "{_BAD_PARAM}"')
        rule["icmp_types_and_codes"] = icmp
    if p.get("direction") is not None:
        rule["direction"] = 1 if p["direction"] == "in" else 2
    if p.get("action") is not None:
        rule["action"] = 0 if p["action"] == "block" else 1
    if p.get("profiles") is not None:
        rule["profiles"] = _profiles(p["profiles"])
    if p.get("interfacetypes") is not None and list(p["interfacetypes"]) != ["any"]:
        rule["interface_types"] = _interface_types(p["interfacetypes"])
    if p.get("edge") is not None and p["edge"] != "no":
        rule["edge_traversal_options"] = {"yes": 1, "deferapp": 2, "deferuser": 3}[p["edge"]]
    if p.get("security") is not None and p["security"] != "notrequired":
        rule["secure_flags"] = {"authnoencap": 1, "authenticate": 2, "authdynenc": 3, "authenc": 4}[p["security"]]
    return rule


def _ieq(have: t.Any, want: t.Any) -> bool:
    """PowerShell ``-eq`` between a COM string property and a string: case-insensitive."""
    return have is not None and str(have).lower() == str(want).lower()


def _ps(value: t.Any) -> str:
    """How ``"$($rule.$prop)"`` renders a COM value in the diff string."""
    return ps_str(value)


def _differs(prop: str, have: t.Any, want: t.Any) -> bool:
    if isinstance(have, str) and isinstance(want, str):
        if have.lower() == want.lower():
            return False
        if prop.endswith("Addresses"):
            return sorted(a.lower() for a in have.split(",")) != sorted(a.lower() for a in want.split(","))
        return True
    return have != want


@model("community.windows.win_firewall_rule", upstream=UPSTREAM_RULE)
def win_firewall_rule(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    name, group = p.get("name"), p.get("group")
    result: dict[str, t.Any] = {}
    if not name and not group:
        ctx.fail("Either name or group must be specified")
    diff = ctx.diff_mode
    prepared = ""
    rules = ctx.state["firewall"]["rules"]
    # win_firewall_rule.ps1: ``$_.Name -eq $name`` / ``$_.Grouping -eq $group``, case-insensitive as PowerShell's -eq.
    existing = [r for r in rules if (_ieq(r["name"], name) if name else _ieq(r["grouping"], group))]
    try:
        new = _build_rule(ctx)
    except ComError as err:
        fail: dict[str, t.Any] = {"exception": str(err)}
        if diff:
            fail["diff"] = {"prepared": ""}
        ctx.fail(str(err), **fail)
    passed = [p.get("description"), p.get("direction"), p.get("action"), p.get("program"), group,
              p.get("service"), p.get("enabled"), p.get("profiles"), p.get("localip"), p.get("remoteip"),
              p.get("localport"), p.get("remoteport"), p.get("protocol"), p.get("interfacetypes"), p.get("edge"),
              p.get("security"), p.get("icmp_type_code")]
    changed = False
    if p["state"] == "absent":
        if not existing:
            result["msg"] = (f"Firewall rule '{name}' does not exist." if name
                             else f"No firewall rules in group '{group}' exist.")
        else:
            for rule in existing:
                if diff:
                    prepared += f"-[{rule['name']}]\n"
                    for prop, field in PROPS:
                        prepared += f"-{prop}='{_ps(rule[field])}'\n"
                changed = True
            if not ctx.check_mode:
                ctx.state["firewall"]["rules"] = [r for r in rules if not any(r is e for e in existing)]
            result["msg"] = "Firewall rule(s) '{}' removed.".format("', '".join(r["name"] for r in existing))
    else:
        if not existing and name:
            if diff:
                prepared += f"+[{new['name']}]\n"
                for prop, field in PROPS:
                    prepared += f"+{prop}='{_ps(new[field])}'\n"
            if not ctx.check_mode:
                rules.append(new)
            changed = True
            result["msg"] = f"Firewall rule '{name}' created."
        elif existing:
            changed_rules, unchanged_rules = [], []
            for rule in existing:
                if diff:
                    prepared += f"[{rule['name']}]\n"
                rule_changed = False
                for (prop, field), arg in zip(PROPS, passed, strict=True):
                    if arg is None:
                        continue
                    if _differs(prop, rule[field], new[field]):
                        if diff:
                            prepared += f"-{prop}='{_ps(rule[field])}'\n+{prop}='{_ps(new[field])}'\n"
                        if not ctx.check_mode:
                            rule[field] = new[field]
                        rule_changed = True
                if rule_changed:
                    changed = True
                    changed_rules.append(rule["name"])
                else:
                    unchanged_rules.append(rule["name"])
            result["msg"] = "Firewall rule(s) changed '{}' - unchanged '{}'".format(
                "', '".join(changed_rules), "', '".join(unchanged_rules))
    if diff:
        result["diff"] = {"prepared": prepared}
    ctx.changed(changed)
    return ctx.exit(**result)


@model("ansible.windows.win_firewall", upstream=UPSTREAM_FW)
def win_firewall(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    profiles = p["profiles"]
    result: dict[str, t.Any] = {"restart_required": False, "profiles": profiles, "state": p["state"]}
    changed = False
    for name in ("Domain", "Private", "Public"):
        prof = ctx.state["firewall"]["profiles"][name]
        work = dict(prof)
        result[name] = {"enabled": prof["enabled"], "considered": name in profiles,
                        "currentstate": 1 if prof["enabled"] else 0}
        if name not in profiles:
            continue
        if p["state"] == "enabled":
            if not prof["enabled"]:
                work["enabled"] = True
                changed = True
                result[name]["enabled"] = True
            for opt, field in (("inbound_action", "default_inbound_action"),
                               ("outbound_action", "default_outbound_action")):
                if p.get(opt) is not None:
                    want = p[opt].replace("_", " ").title().replace(" ", "")
                    if want.lower() != prof[field].lower():
                        work[field] = want
                        changed = True
        elif prof["enabled"]:
            work["enabled"] = False
            changed = True
            result[name]["enabled"] = False
        if not ctx.check_mode:
            prof.update(work)
    ctx.changed(changed)
    return ctx.exit(**result)

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

def _firewall_rules(state: dict[str, t.Any], name: str) -> list[dict[str, t.Any]]:
    fw = _section(state, "firewall")
    rules = fw.get("rules") if isinstance(fw, dict) else None
    if not isinstance(rules, list):
        raise DriftError("the firewall section has an unknown layout")
    # the display name (-DisplayName), or the rule's Name (-Name, e.g. IIS-WebServerRole-HTTP-In-TCP)
    wanted = name.lower()
    found = [r for r in rules if wanted in (str(r.get("name") or "").lower(), str(r.get("id") or "").lower())]
    if not found:
        names = sorted({str(r.get("name")) for r in rules})
        raise DriftError(f"no firewall rule named {name!r} ({len(names)} rules exist; e.g. {', '.join(names[:5])})")
    return found


@drift("remove-firewall-rule", section="firewall",
       help="Delete the Windows Firewall rules with this name (Remove-NetFirewallRule -DisplayName).",
       args=[Arg("name", "rule name")])
def remove_firewall_rule(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    found = _firewall_rules(state, name)
    rules = state["firewall"]["rules"]
    rules[:] = [r for r in rules if not any(r is f for f in found)]
    return f"firewall rule {name}: {len(found)} rule(s) removed"


def _set_enabled(state: dict[str, t.Any], name: str, enabled: bool) -> str:
    found = _firewall_rules(state, name)
    for rule in found:
        rule["enabled"] = enabled
    return f"firewall rule {name}: {len(found)} rule(s) {'enabled' if enabled else 'disabled'}"


@drift("disable-firewall-rule", section="firewall", help="Disable the Windows Firewall rules with this name.",
       args=[Arg("name", "rule name")])
def disable_firewall_rule(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    return _set_enabled(state, name, False)


@drift("enable-firewall-rule", section="firewall",
       help="Enable the Windows Firewall rules with this display name or Name (Enable-NetFirewallRule).",
       args=[Arg("name", "rule display name or Name, e.g. IIS-WebServerRole-HTTP-In-TCP")])
def enable_firewall_rule(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    return _set_enabled(state, name, True)
