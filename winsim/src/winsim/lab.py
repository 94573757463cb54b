"""The declared lab: which simulated host is what, lab DNS, lab-wide settings.

A lab is declared as data (in this repository: ``winsim_lab`` in
``inventories/sim/group_vars/windows/winsim.yml``), never seeded by test code:
``make run``, Molecule and the playbook tests all start from the same
declaration.  The connection plugin hands it to :func:`ensure` on every
connect; the first connect of a lab materialises it:

* ``<state_dir>/_lab/lab.json``: the normalised declaration (``lab.spec``),
  read by the models that look past their own host (DNS, trust, identity);
* the state file of every declared host that has none yet, built from its
  profile and roles, in dependency order: domain controllers first (the
  domain, its built-in accounts, its DNS zone), then members (joined: the
  computer object exists in the DC's AD), then SQL Server instances.

An existing host is never rebuilt: a role added to or removed from a host
that already has a state file is refused (``winsim reset`` or ``make clean``
rebuilds it), so a declaration can never silently diverge from the hosts.
Lab-wide settings (DNS records, trust switches) may change at any time and
take effect on the next connect.

Everything is validated before anything is written: a bad declaration is a
:class:`LabError` naming the key and the fix, and no file is touched.

Declaration (all keys but ``hosts`` optional)::

    winsim_lab:
      name: sim
      domain: {dns_name: corp.mcms.internal, netbios: CORP, dc: dc01}
      dns:
        records: {mcms.corp.mcms.internal: 10.20.0.100}   # name -> lab host or IPv4
        host_sites_resolve_locally: false
      artifacts: {require_trust: true}
      hosts:
        dc01:  {roles: [domain_controller], address: 10.20.0.5}
        web01: {roles: [member], address: 10.20.0.11, profile: realistic}
        sql01:
          roles: [member, sql_server]
          address: 10.20.0.21
          sql: {instance: MSSQLSERVER, version: "2022", edition: developer,
                backup_dir: 'D:\\SQLBackup', data_dir: 'D:\\SQLData'}
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import ipaddress
import json
import os
import re
import typing as t
from pathlib import Path

from .models._base import SimulatorError
from .store import HostStore, canonical_json

__all__ = ["LAB_DIR", "PROFILES", "ROLES", "LabError", "ensure", "load", "normalise"]

LAB_DIR = "_lab"
LAB_FILE = "lab.json"
FORMAT = 1

#: Host profiles (winsim/docs/profiles.md): ``bare`` is the minimal fresh
#: document; ``realistic`` what a fresh Windows Server 2022 carries where roles
#: look; ``lived-in`` adds what real estates accumulate.
PROFILES = ("bare", "realistic", "lived-in")
ROLES = ("member", "domain_controller", "sql_server")

_NETBIOS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")
_DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HOST_KEYS = {"roles", "address", "profile", "sql"}
_SQL_KEYS = {"instance", "version", "edition", "backup_dir", "data_dir", "log_dir", "collation", "port"}
_TOP_KEYS = {"name", "domain", "dns", "artifacts", "hosts", "profile"}


class LabError(SimulatorError):
    """The lab declaration is invalid (nothing was written)."""


def _err(where: str, problem: str, fix: str) -> t.NoReturn:
    raise LabError(f"winsim lab: {where}: {problem}. Fix: {fix}")


def _dns_name(value: t.Any, where: str) -> str:
    name = str(value or "").strip().lower().rstrip(".")
    labels = name.split(".")
    if not name or not all(_DNS_LABEL_RE.match(label) for label in labels):
        _err(where, f"{value!r} is not a DNS name", "use letters, digits and hyphens, dot-separated")
    return name


def _ipv4(value: t.Any, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        _err(where, f"{value!r} is not an IPv4 address", "give a dotted IPv4 address such as 10.20.0.11")


def _windows_abs(value: t.Any, where: str) -> str:
    path = str(value or "")
    if not re.match(r"^[A-Za-z]:\\", path):
        _err(where, f"{value!r} is not an absolute Windows path", r"give a path such as D:\SQLBackup")
    return path.rstrip("\\")


def normalise(decl: t.Any) -> dict[str, t.Any]:
    """Validate the declaration ``decl`` and return the lab spec (the
    content of ``lab.json``).  Raises :class:`LabError` naming the problem."""
    if not isinstance(decl, dict):
        _err("winsim_lab", f"expected a mapping, got {type(decl).__name__}", "declare the lab as a YAML mapping")
    unknown = sorted(set(decl) - _TOP_KEYS)
    if unknown:
        _err("winsim_lab", f"unknown key(s) {', '.join(unknown)}", f"use only {', '.join(sorted(_TOP_KEYS))}")
    default_profile = str(decl.get("profile") or "bare")
    if default_profile not in PROFILES:
        _err("winsim_lab.profile", f"unknown profile {default_profile!r}", f"use one of {', '.join(PROFILES)}")
    hosts_in = decl.get("hosts")
    if not isinstance(hosts_in, dict) or not hosts_in:
        _err("winsim_lab.hosts", "no hosts declared", "declare each simulated host with its roles")

    hosts: dict[str, dict[str, t.Any]] = {}
    addresses: dict[str, str] = {}
    for raw_name, raw in hosts_in.items():
        name = str(raw_name)
        where = f"winsim_lab.hosts.{name}"
        raw = raw or {}
        if not isinstance(raw, dict):
            _err(where, "expected a mapping", "give roles/address/profile")
        extra = sorted(set(raw) - _HOST_KEYS)
        if extra:
            _err(where, f"unknown key(s) {', '.join(extra)}", f"use only {', '.join(sorted(_HOST_KEYS))}")
        computer = name.split(".")[0]
        if not _NETBIOS_RE.match(computer):
            _err(where, f"{computer!r} cannot be a Windows computer name",
                 "use at most 15 letters, digits or hyphens")
        roles = raw.get("roles") or []
        if not isinstance(roles, list):
            _err(f"{where}.roles", "expected a list", f"list roles among {', '.join(ROLES)}")
        bad = [r for r in roles if r not in ROLES]
        if bad:
            _err(f"{where}.roles", f"unknown role(s) {', '.join(map(str, bad))}", f"use {', '.join(ROLES)}")
        if "domain_controller" in roles and "member" in roles:
            _err(f"{where}.roles", "a domain controller cannot also be a member joined to a domain",
                 "give the host either domain_controller or member")
        profile = str(raw.get("profile") or default_profile)
        if profile not in PROFILES:
            _err(f"{where}.profile", f"unknown profile {profile!r}", f"use one of {', '.join(PROFILES)}")
        host: dict[str, t.Any] = {"roles": sorted(set(roles), key=ROLES.index), "profile": profile,
                                  "computer_name": computer.upper()}
        if raw.get("address") is not None:
            addr = _ipv4(raw["address"], f"{where}.address")
            if addr in addresses:
                _err(f"{where}.address", f"{addr} is already the address of {addresses[addr]}",
                     "give every host its own address")
            addresses[addr] = name
            host["address"] = addr
        if "sql_server" in roles:
            sql = raw.get("sql") or {}
            if not isinstance(sql, dict):
                _err(f"{where}.sql", "expected a mapping", "give instance/version/edition/backup_dir")
            extra = sorted(set(sql) - _SQL_KEYS)
            if extra:
                _err(f"{where}.sql", f"unknown key(s) {', '.join(extra)}", f"use {', '.join(sorted(_SQL_KEYS))}")
            from .models.sql import EDITIONS, VERSIONS

            version = str(sql.get("version") or "2022")
            if version not in VERSIONS:
                _err(f"{where}.sql.version", f"unknown SQL Server version {version!r}",
                     f"use one of {', '.join(VERSIONS)}")
            edition = str(sql.get("edition") or "developer").lower()
            if edition not in EDITIONS:
                _err(f"{where}.sql.edition", f"unknown edition {edition!r}", f"use one of {', '.join(EDITIONS)}")
            host["sql"] = {"instance": str(sql.get("instance") or "MSSQLSERVER"), "version": version,
                           "edition": edition,
                           "collation": str(sql.get("collation") or "SQL_Latin1_General_CP1_CI_AS")}
            for k in ("backup_dir", "data_dir", "log_dir"):
                if sql.get(k):
                    host["sql"][k] = _windows_abs(sql[k], f"{where}.sql.{k}")
            if sql.get("port") is not None:
                host["sql"]["port"] = int(sql["port"])
        elif raw.get("sql"):
            _err(f"{where}.sql", "SQL settings on a host without the sql_server role", "add sql_server to roles")
        hosts[name] = host

    domain = None
    dcs = [n for n, h in hosts.items() if "domain_controller" in h["roles"]]
    if decl.get("domain"):
        d = decl["domain"]
        if not isinstance(d, dict):
            _err("winsim_lab.domain", "expected a mapping", "give dns_name, netbios and dc")
        dns_name = _dns_name(d.get("dns_name"), "winsim_lab.domain.dns_name")
        if "." not in dns_name:
            _err("winsim_lab.domain.dns_name", f"{dns_name!r} is a single-label domain name",
                 "use a fully qualified name such as corp.mcms.internal")
        netbios = str(d.get("netbios") or dns_name.split(".")[0]).upper()
        if not _NETBIOS_RE.match(netbios):
            _err("winsim_lab.domain.netbios", f"{netbios!r} is not a NetBIOS domain name", "at most 15 characters")
        dc = str(d.get("dc") or (dcs[0] if dcs else ""))
        if dc not in hosts:
            _err("winsim_lab.domain.dc", f"{dc!r} is not a declared host", "name a host of winsim_lab.hosts")
        if "domain_controller" not in hosts[dc]["roles"]:
            _err("winsim_lab.domain.dc", f"{dc} does not have the domain_controller role",
                 f"add domain_controller to winsim_lab.hosts.{dc}.roles")
        domain = {"dns_name": dns_name, "netbios": netbios, "dc": dc}
    if len(dcs) > (1 if domain else 0) or (dcs and domain is None):
        _err("winsim_lab.hosts", f"domain controller(s) {', '.join(dcs)} without a declared domain (or more than "
             "one)", "declare winsim_lab.domain with one dc")
    for name, host in hosts.items():
        if "member" in host["roles"] and domain is None:
            _err(f"winsim_lab.hosts.{name}.roles", "member of a domain, but no domain is declared",
                 "declare winsim_lab.domain or drop the member role")

    dns_in = decl.get("dns") or {}
    if not isinstance(dns_in, dict):
        _err("winsim_lab.dns", "expected a mapping", "give records and host_sites_resolve_locally")
    records: dict[str, str] = {}
    # Every host registers its own A record in the domain's zone (DHCP/DNS
    # dynamic update on a domain member; the DC holds the zone).
    if domain is not None:
        for name, host in hosts.items():
            records[f"{host['computer_name'].lower()}.{domain['dns_name']}"] = name
    for raw_name, target in (dns_in.get("records") or {}).items():
        rname = _dns_name(raw_name, f"winsim_lab.dns.records[{raw_name!r}]")
        where = f"winsim_lab.dns.records.{rname}"
        if target is None or str(target) == "":
            _err(where, "no target", "give a declared host name or an IPv4 address (delete the record for none)")
        target = str(target)
        if target in hosts:
            records[rname] = target
            continue
        try:
            records[rname] = str(ipaddress.IPv4Address(target))
        except ValueError:
            _err(where, f"{target!r} is neither a host of the lab nor an IPv4 address",
                 f"point it at one of {', '.join(sorted(hosts))} or at an address (e.g. a load balancer)")
    spec = {
        "format": FORMAT,
        "name": str(decl.get("name") or "lab"),
        "domain": domain,
        "dns": {"records": dict(sorted(records.items())),
                "host_sites_resolve_locally": bool(dns_in.get("host_sites_resolve_locally", False))},
        "artifacts": {"require_trust": bool((decl.get("artifacts") or {}).get("require_trust", True))},
        "hosts": hosts,
    }
    return spec


# -- files ------------------------------------------------------------------------------------------

def lab_dir(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / LAB_DIR


def load(state_dir: str | os.PathLike[str]) -> dict[str, t.Any] | None:
    """The lab spec of ``state_dir`` (``None``: no declared lab)."""
    path = lab_dir(state_dir) / LAB_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise LabError(f"winsim lab: {path} is not valid JSON ({exc}); remove it to rebuild the lab") from exc


@contextlib.contextmanager
def lab_lock(state_dir: str | os.PathLike[str], name: str = "lab") -> t.Iterator[None]:
    """An exclusive lock ``<state_dir>/_lab/<name>.lock`` over a lab-wide
    file (``lab``: the declaration and host building; ``clock``: lab time)."""
    d = lab_dir(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"{name}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _digest(spec: dict[str, t.Any]) -> str:
    return hashlib.sha256(canonical_json(spec)).hexdigest()


# Per-process memo: a connect whose declaration and lab.json are unchanged
# costs one stat, not a lock and a JSON parse.
_SEEN: dict[str, tuple[str, float]] = {}


def ensure(state_dir: str | os.PathLike[str], decl: t.Any) -> dict[str, t.Any]:
    """Make ``state_dir`` hold the lab ``decl`` declares; return its spec.

    Validates first (nothing written on error), then, under the lab lock,
    writes ``lab.json`` when it changed and builds the state of every declared
    host that has none yet."""
    spec = normalise(decl)
    state_dir = Path(state_dir).absolute()
    digest = _digest(spec)
    path = lab_dir(state_dir) / LAB_FILE
    memo = _SEEN.get(str(state_dir))
    if memo is not None and memo[0] == digest:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime == memo[1] and all((state_dir / f"{h}.json").exists() for h in spec["hosts"]):
                return spec
    with lab_lock(state_dir):
        old = load(state_dir)
        _check_compatible(state_dir, old, spec)
        _materialise(state_dir, spec)
        if old is None or _digest(old) != digest:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(canonical_json(spec))
            os.replace(tmp, path)
        _SEEN[str(state_dir)] = (digest, path.stat().st_mtime)
    return spec


def _check_compatible(state_dir: Path, old: dict[str, t.Any] | None, spec: dict[str, t.Any]) -> None:
    """An existing host keeps its roles, profile and domain: changing them
    would need a reinstall, which winsim never does behind the operator's back."""
    if old is None:
        return
    for name, host in spec["hosts"].items():
        before = (old.get("hosts") or {}).get(name)
        if before is None or not (state_dir / f"{name}.json").exists():
            continue
        for key in ("roles", "profile", "sql"):
            if before.get(key) != host.get(key):
                _err(f"winsim_lab.hosts.{name}.{key}",
                     f"changed from {before.get(key)!r} to {host.get(key)!r} for a host that already exists",
                     f"rebuild it: winsim reset {name} (or make clean), then run again")
    if old.get("domain") != spec.get("domain") and any(
            (state_dir / f"{n}.json").exists() for n in spec["hosts"]):
        _err("winsim_lab.domain", f"changed from {old.get('domain')!r} to {spec.get('domain')!r} for an existing "
             "lab", "rebuild the lab: make clean (or winsim reset for every host), then run again")


def _order(spec: dict[str, t.Any]) -> list[str]:
    hosts = spec["hosts"]
    return sorted(hosts, key=lambda n: (0 if "domain_controller" in hosts[n]["roles"] else 1, n))


def _fresh(name: str, host: dict[str, t.Any]) -> dict[str, t.Any]:
    from . import state as st

    if "profile" in inspect.signature(st.fresh_state).parameters:
        state = st.fresh_state(name, profile=host["profile"])  # type: ignore[call-arg]
    elif host["profile"] == "bare":
        state = st.fresh_state(name)
    else:
        raise LabError(f"winsim lab: winsim_lab.hosts.{name}.profile: profile {host['profile']!r} is not "
                       "available in this winsim. Fix: use profile bare")
    state["host"]["lab_roles"] = list(host["roles"])
    if host.get("address"):
        state["host"]["ip_addresses"] = [host["address"]]
    return state


def _install_features(state: dict[str, t.Any], names: list[str]) -> None:
    from .models import features

    for name in names:
        feat = features.get_feature(state, name)
        if feat is None:
            raise SimulatorError(f"winsim lab: unknown Windows feature {name!r} (a winsim bug)")
        feat["install_state"] = "Installed"


def _materialise(state_dir: Path, spec: dict[str, t.Any]) -> None:
    from .models import ad

    domain = spec.get("domain")
    built: dict[str, dict[str, t.Any]] = {}
    for name in _order(spec):
        store = HostStore.for_host(name, state_dir=str(state_dir))
        host = spec["hosts"][name]
        with store.locked():
            if store.exists():
                continue
            state = _fresh(name, host)
            if "domain_controller" in host["roles"]:
                assert domain is not None
                _install_features(state, ["AD-Domain-Services", "DNS", "RSAT-AD-PowerShell"])
                ad.ensure_domain(state, domain["dns_name"], domain["netbios"])
                state["ad"]["dns_zone"] = {"name": domain["dns_name"],
                                           "records": {k: v for k, v in spec["dns"]["records"].items()
                                                       if k.endswith("." + domain["dns_name"])}}
            if "member" in host["roles"]:
                assert domain is not None
                _join(state_dir, state, domain)
            if "sql_server" in host["roles"]:
                _install_sql(state, host["sql"])
            store.save_state(state)
            built[name] = state


def _join(state_dir: Path, state: dict[str, t.Any], domain: dict[str, t.Any]) -> None:
    """Join ``state``'s host to the domain, as ``Add-Computer`` does: the
    computer object is created in the DC's AD first."""
    from .models import ad

    dc_store = HostStore.for_host(domain["dc"], state_dir=str(state_dir))
    with dc_store.locked():
        dc = dc_store.load_state()
        if not ad.is_dc(dc):
            raise SimulatorError(f"winsim lab: {domain['dc']} is not a domain controller yet (a winsim bug)")
        computer = state["host"]["hostname"].upper()
        if ad.find_object(dc, computer + "$", "ADComputer") is None:
            ad.add_computer_account(dc, computer)
            dc_store.save_state(dc)
    state["host"].update(domain=domain["dns_name"], workgroup=None, domain_role="Member server")


def _install_sql(state: dict[str, t.Any], sql: dict[str, t.Any]) -> None:
    from . import state as st
    from .models import sql as sqlm

    inst = sqlm.ensure_instance(state, sql["instance"], sql["version"], sql["edition"],
                                collation=sql["collation"], port=sql.get("port"), login_mode="Integrated")
    when = state["host"]["installed_at"]
    for key_, paths_key in (("backup_dir", "backup"), ("data_dir", "data"), ("log_dir", "log")):
        if sql.get(key_):
            inst["paths"][paths_key] = sql[key_]
            st.make_dirs(state, sql[key_], when)


def describe(spec: dict[str, t.Any]) -> str:
    """One line per host: name, roles, profile, address (for the CLI)."""
    lines = [f"lab {spec['name']}" + (f", domain {spec['domain']['dns_name']} ({spec['domain']['netbios']}) on "
                                      f"{spec['domain']['dc']}" if spec.get("domain") else ", no domain")]
    for name, host in spec["hosts"].items():
        lines.append(f"  {name:<10} {','.join(host['roles']) or '-':<28} {host['profile']:<10} "
                     f"{host.get('address', '-')}")
    lines.append(f"  dns: {len(spec['dns']['records'])} record(s), host sites resolve locally: "
                 f"{spec['dns']['host_sites_resolve_locally']}; artifacts require trust: "
                 f"{spec['artifacts']['require_trust']}")
    return "\n".join(lines)
