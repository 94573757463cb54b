"""Models of ``ansible.windows.setup`` (facts) and ``ansible.windows.win_ping``.

Both are written from the installed ansible.windows 3.8.0 sources
(``plugins/modules/setup.ps1`` and ``win_ping.ps1``).

``setup`` is what ``gather_facts: true`` runs on a host with
``ansible_shell_type: powershell``: on ansible-core 2.19 and 2.21 alike the
``gather_facts`` action resolves ``ansible.legacy.setup`` to the PowerShell
module ``ansible.windows.setup`` (``module_wrapper.ps1`` receives
``Script = ansible_collections.ansible.windows.plugins.modules.setup.ps1``),
with no arguments unless the play or ``ansible.cfg`` sets ``gather_subset``
or ``gather_timeout``.

The facts are computed from the host state, never invented per run:

``state["host"]`` (lead-owned, see ``state.py``) gives ``hostname`` (NetBIOS
name), ``os_name``, ``os_version``, ``os_product_type``,
``powershell_version``, ``domain`` (DNS name of the joined domain or
``None``), ``workgroup``, ``domain_role``, ``ip_addresses``, ``installed_at``,
``last_boot``, ``reboot_pending``, ``timezone``, ``processor_count`` (logical
processors) and ``memory_mb``.  These optional keys refine the facts when a
test or an operator sets them: ``dns_hostname`` (DNS host name, case kept;
defaults to ``hostname``), ``dns_suffix`` (primary DNS suffix of a host that is
not domain joined), ``processor_sockets`` (default 1), ``memory_free_mb``,
``interfaces`` (a verbatim ``ansible_interfaces`` list), ``ipv6_addresses``,
``winrm_https_thumbprint`` (thumbprint in ``LocalMachine\\My`` of the WinRM
HTTPS listener), ``installation_type`` (default ``"Server"``, i.e. Desktop
Experience).  ``state["env"]`` gives ``ansible_env`` (values lose a trailing
backslash, as ``setup.ps1`` trims them) and the user facts.

What cannot be simulated fails loudly: a local fact *script* (``*.ps1`` under
``fact_path``) and ``facter.exe`` on the host's ``PATH``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import typing as t

from .. import state as st
from ._base import ModuleContext, SimulatorError, model

UPSTREAM = "ansible.windows 3.8.0"

# -- gather_subset resolution (setup.ps1, "$groupedSubsets") ------------------

GROUPED_SUBSETS: dict[str, list[str]] = {
    "min": ["date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"],
    "network": ["all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"],
    "hardware": ["bios", "memory", "processor", "uptime", "virtual"],
    "external": ["facter"],
}
ALL_SUBSETS: frozenset[str] = frozenset(s for group in GROUPED_SUBSETS.values() for s in group)

# Order of the fact collectors in setup.ps1 ("$factMeta"); each entry is the
# set of subset names that enables it.
COLLECTOR_ORDER: list[tuple[str, ...]] = [
    ("all_ipv4_addresses", "all_ipv6_addresses"),
    ("bios",),
    ("date_time",),
    ("distribution",),
    ("env",),
    ("facter",),
    ("interfaces",),
    ("local",),
    ("memory",),
    ("platform",),
    ("powershell_version",),
    ("processor",),
    ("uptime",),
    ("user",),
    ("windows_domain",),
    ("winrm",),
    ("virtual",),
]


def resolve_subsets(gather_subset: list[str], warn: t.Callable[[str], None]) -> set[str]:
    """The subsets ``setup.ps1`` collects for ``gather_subset``.

    Group names are matched case-insensitively (a PowerShell hashtable),
    single subset names case-sensitively (a ``HashSet[string]``); unknown
    excludes are ignored and unknown includes only warn, as upstream."""
    groups = {k.lower(): v for k, v in GROUPED_SUBSETS.items()}
    groups["all"] = sorted(ALL_SUBSETS)
    actual = set(ALL_SUBSETS)
    explicit: set[str] = set()
    exclude: set[str] = set()
    for item in gather_subset:
        if item.startswith("!"):
            item = item[1:]
            if item.lower() == "all":
                exclude |= ALL_SUBSETS - set(GROUPED_SUBSETS["min"])
            elif item.lower() in groups:
                exclude |= set(groups[item.lower()])
            elif item in ALL_SUBSETS:
                exclude.add(item)
        elif item.lower() in groups:
            explicit |= set(groups[item.lower()])
        elif item in ALL_SUBSETS:
            explicit.add(item)
        else:
            warn(f"invalid value {item} specified in gather_subset")
    return (actual - exclude) | explicit


# -- derived host identity ------------------------------------------------------

_DOMAIN_ROLES = {
    # DsRoleGetPrimaryDomainInformation MachineRole -> setup.ps1 wording.
    "stand-alone workstation": "Stand-alone workstation",
    "standalone workstation": "Stand-alone workstation",
    "member workstation": "Member workstation",
    "stand-alone server": "Stand-alone server",
    "standalone server": "Stand-alone server",
    "member server": "Member server",
    "backup domain controller": "Backup domain controller",
    "primary domain controller": "Primary domain controller",
    "domain controller": "Primary domain controller",
}

# Windows time zone ids (``tz``) and their UTC offset in minutes, for the
# zones an MCMS host may plausibly use.  Daylight saving time is not modelled.
_TZ_OFFSETS = {
    "UTC": 0,
    "GMT Standard Time": 0,
    "W. Europe Standard Time": 60,
    "Central Europe Standard Time": 60,
    "Romance Standard Time": 60,
    "E. Europe Standard Time": 120,
    "Eastern Standard Time": -300,
    "Central Standard Time": -360,
    "Pacific Standard Time": -480,
}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).digest()


def machine_sid(host: dict[str, t.Any]) -> str:
    """A stable machine SID for the host (``S-1-5-21-a-b-c``)."""
    d = _digest("machine-sid", host.get("hostname", ""), host.get("installed_at", ""))
    subs = [int.from_bytes(d[i:i + 4], "little") for i in (0, 4, 8)]
    return "S-1-5-21-" + "-".join(str(s) for s in subs)


def mac_address(host: dict[str, t.Any]) -> str:
    """A stable Hyper-V style MAC address (OUI 00:15:5D)."""
    d = _digest("mac", host.get("hostname", ""))
    return ":".join(["00", "15", "5D"] + [f"{b:02X}" for b in d[:3]])


def _link_local(host: dict[str, t.Any]) -> str:
    d = _digest("ipv6-ll", host.get("hostname", ""))
    groups = [f"{int.from_bytes(d[i:i + 2], 'big'):x}" for i in (0, 2, 4, 6)]
    return "fe80::" + ":".join(groups)


def domain_role(host: dict[str, t.Any]) -> str:
    raw = str(host.get("domain_role") or "").strip().lower()
    if raw in _DOMAIN_ROLES:
        return _DOMAIN_ROLES[raw]
    return "Member server" if host.get("domain") else "Stand-alone server"


def is_domain_controller(host: dict[str, t.Any]) -> bool:
    return domain_role(host).endswith("domain controller")


def _host_now(ctx: ModuleContext) -> tuple[_dt.datetime, str]:
    tz_id = str(ctx.state["host"].get("timezone") or "UTC")
    offset = _TZ_OFFSETS.get(tz_id)
    if offset is None:
        raise SimulatorError(f"winsim: time zone {tz_id!r} of host {ctx.hostname} is not modelled "
                             f"(known: {', '.join(sorted(_TZ_OFFSETS))})")
    local = ctx.now().astimezone(_dt.timezone(_dt.timedelta(minutes=offset)))
    return local, tz_id


def _epoch_string(value: float) -> str:
    """``Get-Date -UFormat %s`` on Windows PowerShell 5.1: seconds as a
    double, formatted with up to 15 significant digits."""
    return f"{value:.15g}"


# -- the collectors -----------------------------------------------------------

def _ip_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    facts["ansible_ip_addresses"] = list(host.get("ip_addresses") or []) + _ipv6(host)


def _ipv6(host: dict[str, t.Any]) -> list[str]:
    if "ipv6_addresses" in host:
        return list(host["ipv6_addresses"] or [])
    return [_link_local(host)]


def _bios_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    d = _digest("bios", host.get("hostname", ""), host.get("installed_at", ""))
    serial = "-".join(f"{int.from_bytes(d[i:i + 2], 'big'):04d}"[-4:] for i in range(0, 14, 2))
    uuid = d[16:32].hex().upper()
    facts["ansible_bios_date"] = "11/07/2023"
    facts["ansible_bios_version"] = "Hyper-V UEFI Release v4.1"
    facts["ansible_product_name"] = "Virtual Machine"
    facts["ansible_product_serial"] = serial
    facts["ansible_product_uuid"] = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"


def _date_time_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    local, tz_id = _host_now(ctx)
    utc = local.astimezone(_dt.UTC)
    epoch = utc.timestamp()
    offset = local.utcoffset() or _dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    local_naive_epoch = epoch + offset.total_seconds()
    facts["ansible_date_time"] = {
        "date": local.strftime("%Y-%m-%d"),
        "day": local.strftime("%d"),
        "epoch_local": _epoch_string(local_naive_epoch),
        "epoch": _epoch_string(epoch),
        "epoch_int": int(epoch),
        "hour": local.strftime("%H"),
        "iso8601": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso8601_basic": local.strftime("%Y%m%dT%H%M%S") + f"{local.microsecond:06d}",
        "iso8601_basic_short": local.strftime("%Y%m%dT%H%M%S"),
        "iso8601_micro": utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}Z",
        "minute": local.strftime("%M"),
        "month": local.strftime("%m"),
        "second": local.strftime("%S"),
        "time": local.strftime("%H:%M:%S"),
        "tz": tz_id,
        "tz_offset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        "weekday": local.strftime("%A"),
        "weekday_number": str((local.weekday() + 1) % 7),
        "weeknumber": f"{int(local.strftime('%W')):02d}",
        "year": local.strftime("%Y"),
    }


def _distribution_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    version = str(host.get("os_version", "10.0.20348.0"))
    product_type = "domain_controller" if is_domain_controller(host) else str(host.get("os_product_type", "server"))
    os_name = str(host.get("os_name", "Microsoft Windows Server 2022 Datacenter"))
    facts["ansible_distribution"] = os_name
    facts["ansible_distribution_version"] = version
    facts["ansible_distribution_major_version"] = version.split(".")[0]
    facts["ansible_os_family"] = "Windows"
    facts["ansible_os_name"] = os_name.split("|")[0].strip()
    facts["ansible_os_product_type"] = product_type
    facts["ansible_os_installation_type"] = str(host.get("installation_type", "Server"))
    installed = host.get("installed_at")
    facts["ansible_os_install_date"] = (
        st.parse_iso(installed).astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if installed else None
    )


def _env_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    facts["ansible_env"] = {k: str(v).rstrip("\\") for k, v in _environment(ctx).items()}


def _environment(ctx: ModuleContext) -> dict[str, str]:
    """The process environment of the remote PowerShell: the host's ``env``
    section plus the variables Windows derives from the host itself."""
    host = ctx.state["host"]
    env = dict(ctx.state.get("env") or {})
    profile = env.get("USERPROFILE", "C:\\Users\\Administrator")
    user = profile.rstrip("\\").rsplit("\\", 1)[-1]
    derived = {
        "ALLUSERSPROFILE": "C:\\ProgramData",
        "APPDATA": profile + "\\AppData\\Roaming",
        "CommonProgramFiles": "C:\\Program Files\\Common Files",
        "CommonProgramFiles(x86)": "C:\\Program Files (x86)\\Common Files",
        "CommonProgramW6432": "C:\\Program Files\\Common Files",
        "ComSpec": "C:\\Windows\\system32\\cmd.exe",
        "DriverData": "C:\\Windows\\System32\\Drivers\\DriverData",
        "HOMEDRIVE": "C:",
        "HOMEPATH": profile[2:] if profile[1:2] == ":" else profile,
        "LOCALAPPDATA": profile + "\\AppData\\Local",
        "LOGONSERVER": "\\\\" + str(host.get("hostname", "")),
        "NUMBER_OF_PROCESSORS": str(host.get("processor_count", 2)),
        "OS": "Windows_NT",
        "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC;.CPL",
        "PROCESSOR_ARCHITECTURE": "AMD64",
        "PROCESSOR_IDENTIFIER": "Intel64 Family 6 Model 106 Stepping 6, GenuineIntel",
        "PROCESSOR_LEVEL": "6",
        "PROCESSOR_REVISION": "6a06",
        "ProgramW6432": "C:\\Program Files",
        "PSModulePath": (profile + "\\Documents\\WindowsPowerShell\\Modules;"
                         "C:\\Program Files\\WindowsPowerShell\\Modules;"
                         "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules"),
        "PUBLIC": "C:\\Users\\Public",
        "USERDOMAIN": _user_domain(host),
        "USERDNSDOMAIN": str(host.get("domain") or "").upper(),
        "USERNAME": user,
    }
    if not host.get("domain"):
        derived.pop("USERDNSDOMAIN")
    for k, v in derived.items():
        env.setdefault(k, v)
    return env


def _user_domain(host: dict[str, t.Any]) -> str:
    return str(host.get("hostname", ""))


def _facter_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    path = _environment(ctx).get("PATH", "")
    for entry in path.split(";"):
        if entry.strip() and st.exists(ctx.state, entry.strip().rstrip("\\") + "\\facter.exe"):
            raise SimulatorError(f"winsim: facter.exe found in {entry}; running facter is not simulated")


def _interfaces_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    if "interfaces" in host:
        facts["ansible_interfaces"] = list(host["interfaces"])
        return
    ipv4 = [{"address": ip, "prefix": "24"} for ip in host.get("ip_addresses") or []]
    ipv6 = [{"address": ip, "prefix": "64"} for ip in _ipv6(host)]
    gateway = None
    if ipv4:
        gateway = ".".join([*ipv4[0]["address"].split(".")[:3], "1"])
    dns_domain = host.get("domain") or host.get("dns_suffix") or None

    def one_or_many(items: list[dict[str, str]]) -> t.Any:
        # ``Select-Object`` over one address yields one object, which
        # ConvertTo-Json emits as a dictionary rather than a list.
        if not items:
            return None
        return items[0] if len(items) == 1 else items

    facts["ansible_interfaces"] = [{
        "connection_name": "Ethernet",
        "default_gateway": gateway,
        "dns_domain": dns_domain,
        "interface_index": 6,
        "interface_name": "Microsoft Hyper-V Network Adapter",
        "ipv4": one_or_many(ipv4),
        "ipv6": one_or_many(ipv6),
        "macaddress": mac_address(host),
        "mtu": 1500,
        "speed": 10000,
    }]


def _local_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    fact_path = ctx.params.get("fact_path")
    if not fact_path:
        return
    item = st.get_item(ctx.state, fact_path)
    if item is None:
        ctx.warn(f"Non existing path was set for local facts - {fact_path}")
        return
    entries = [item] if item["type"] == "file" else st.children(ctx.state, fact_path)
    for entry in entries:
        if entry["type"] != "file":
            continue
        name = entry["path"].rsplit("\\", 1)[-1]
        if "." not in name:
            continue
        base, ext = name.rsplit(".", 1)
        if ext == "json":  # -ccontains: the extension match is case-sensitive
            raw = st.read_file(ctx.state, entry["path"]).decode("utf-8-sig")
            try:
                value = json.loads(raw)
            except ValueError as exc:
                ctx.warn(f"Error when collecting local facts: {entry['path']}: {exc}")
                continue
            if value is not None:
                facts[f"ansible_{base}"] = value
        elif ext == "ps1":
            raise SimulatorError(f"winsim: local fact script {entry['path']} cannot be run by the simulator; "
                                 "use a .json local fact on simulated hosts")


def _memory_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    total = int(host.get("memory_mb", 8192))
    facts["ansible_memtotal_mb"] = total
    facts["ansible_memfree_mb"] = int(host.get("memory_free_mb", total * 5 // 8))
    facts["ansible_swaptotal_mb"] = 0
    facts["ansible_pagefiletotal_mb"] = 1280
    facts["ansible_pagefilefree_mb"] = 1216


def _platform_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    dns_host = str(host.get("dns_hostname") or host.get("hostname", ""))
    domain = host.get("domain")
    dns_suffix = domain or host.get("dns_suffix") or ""
    fqdn = f"{dns_host}.{dns_suffix}" if dns_suffix else dns_host
    facts["ansible_domain"] = str(dns_suffix)
    facts["ansible_fqdn"] = fqdn
    facts["ansible_hostname"] = dns_host
    facts["ansible_netbios_name"] = str(host.get("hostname", "")).upper()
    facts["ansible_kernel"] = str(host.get("os_version", "10.0.20348.0"))
    facts["ansible_nodename"] = fqdn
    facts["ansible_machine_id"] = machine_sid(host)
    facts["ansible_owner_name"] = "Windows User"
    facts["ansible_system"] = "Win32NT"
    facts["ansible_system_description"] = ""
    facts["ansible_system_vendor"] = "Microsoft Corporation"
    facts["ansible_architecture"] = "64-bit"
    facts["ansible_owner_contact"] = ""
    facts["ansible_reboot_pending"] = bool(host.get("reboot_pending", False))
    facts["ansible_architecture2"] = "x86_64"


def _powershell_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    version = str(ctx.state["host"].get("powershell_version", "5.1"))
    facts["ansible_powershell_version"] = int(version.split(".")[0])


def _processor_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    vcpus = int(host.get("processor_count", 2))
    sockets = max(1, int(host.get("processor_sockets", 1)))
    name = "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    processors: list[str] = []
    for i in range(vcpus):
        processors += [str(i), "GenuineIntel", name]
    facts["ansible_processor"] = processors
    facts["ansible_processor_count"] = sockets
    facts["ansible_processor_vcpus"] = vcpus
    facts["ansible_processor_cores"] = max(1, vcpus // sockets)
    facts["ansible_processor_threads_per_core"] = 1


def _uptime_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    local, _tz = _host_now(ctx)
    boot = st.parse_iso(host.get("last_boot") or host.get("installed_at") or st.INSTALLED_AT)
    boot_local = boot.astimezone(local.tzinfo)
    facts["ansible_lastboot"] = boot_local.strftime("%Y-%m-%d %H:%M:%SZ")
    facts["ansible_uptime_seconds"] = max(0, round((local - boot).total_seconds()))


def _user_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    env = _environment(ctx)
    facts["ansible_user_dir"] = env.get("USERPROFILE")
    facts["ansible_user_gecos"] = ""
    facts["ansible_user_id"] = env.get("USERNAME")
    facts["ansible_user_sid"] = machine_sid(ctx.state["host"]) + "-500"


def _windows_domain_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    host = ctx.state["host"]
    domain = host.get("domain")
    facts["ansible_windows_domain"] = str(domain) if domain else str(host.get("workgroup") or "WORKGROUP")
    facts["ansible_windows_domain_member"] = bool(domain)
    facts["ansible_windows_domain_role"] = domain_role(host)


def _winrm_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    thumbprint = ctx.state["host"].get("winrm_https_thumbprint")
    if not thumbprint:
        return
    store = ((ctx.state.get("certificates") or {}).get("LocalMachine") or {}).get("My") or {}
    cert = store.get(str(thumbprint).replace(" ", "").upper())
    if cert is None:
        ctx.warn("Error during certificate expiration retrieval: "
                 f"Cannot find path 'Cert:\\LocalMachine\\My\\{thumbprint}' because it does not exist.")
        return
    not_after = st.parse_iso(cert["not_after"])
    facts["ansible_win_rm_certificate_expires"] = not_after.strftime("%Y-%m-%d %H:%M:%S")
    facts["ansible_win_rm_certificate_thumbprint"] = cert["thumbprint"]


_VIRTUAL = {"ansible_virtualization_role": "guest", "ansible_virtualization_type": "Hyper-V"}


def _virtual_facts(ctx: ModuleContext, facts: dict[str, t.Any]) -> None:
    facts.update(_VIRTUAL)


COLLECTORS: dict[tuple[str, ...], t.Callable[[ModuleContext, dict[str, t.Any]], None]] = {
    ("all_ipv4_addresses", "all_ipv6_addresses"): _ip_facts,
    ("bios",): _bios_facts,
    ("date_time",): _date_time_facts,
    ("distribution",): _distribution_facts,
    ("env",): _env_facts,
    ("facter",): _facter_facts,
    ("interfaces",): _interfaces_facts,
    ("local",): _local_facts,
    ("memory",): _memory_facts,
    ("platform",): _platform_facts,
    ("powershell_version",): _powershell_facts,
    ("processor",): _processor_facts,
    ("uptime",): _uptime_facts,
    ("user",): _user_facts,
    ("windows_domain",): _windows_domain_facts,
    ("winrm",): _winrm_facts,
    ("virtual",): _virtual_facts,
}


@model("ansible.windows.setup", upstream=UPSTREAM)
def setup(ctx: ModuleContext) -> dict[str, t.Any]:
    """``ansible.windows.setup``: facts for the subsets ``gather_subset``
    selects.  Always ``changed: false``; supports check mode."""
    gather_subset = ctx.params.get("gather_subset")
    if gather_subset is None:
        gather_subset = ["all"]
    elif isinstance(gather_subset, str):
        gather_subset = [s.strip() for s in gather_subset.split(",")]
    actual = resolve_subsets([str(s) for s in gather_subset], ctx.warn)
    facts: dict[str, t.Any] = {"gather_subset": list(gather_subset), "module_setup": True}
    measure = bool(ctx.params.get("_measure_subset"))
    if measure:
        facts["measure_info"] = {}
    for subsets in COLLECTOR_ORDER:
        if not any(s in actual for s in subsets):
            continue
        COLLECTORS[subsets](ctx, facts)
        if measure:
            facts["measure_info"][", ".join(subsets)] = 0.0
    return ctx.exit(ansible_facts=facts)


@model("ansible.windows.win_ping", upstream=UPSTREAM)
def win_ping(ctx: ModuleContext) -> dict[str, t.Any]:
    """``ansible.windows.win_ping``: returns ``ping: <data>``; ``data:
    crash`` throws inside the module, which ``module_wrapper.ps1`` reports as
    an unhandled exception."""
    data = ctx.params.get("data", "pong")
    if data == "crash":
        ctx.fail("Unhandled exception while executing module: boom",
                 exception="boom\r\nAt line:16 char:5\r\n+     throw \"boom\"\r\n+     ~~~~~~~~~~~~\r\n"
                           "+ CategoryInfo          : OperationStopped: (boom:String) [], RuntimeException\r\n"
                           "+ FullyQualifiedErrorId : boom\r\n\r\nScriptStackTrace:\r\n"
                           "at <ScriptBlock>, <No file>: line 16")
    return ctx.exit(ping=data)


__all__ = ["ALL_SUBSETS", "GROUPED_SUBSETS", "resolve_subsets", "setup", "win_ping"]
