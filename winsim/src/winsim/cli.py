"""``winsim``: inspect and edit simulated hosts from a shell or a test.

    winsim [--state-dir DIR | --inventory INV] show HOST [--section S] [--format yaml|json]
    winsim ... reset [HOST ...] [--profile bare|realistic|lived-in]
    winsim ... set HOST PATH VALUE            (PATH: /json/pointer or dotted.path)
    winsim ... set HOST PATH --delete
    winsim ... drift HOST <drift> [args]      (see `winsim drift --help`)
    winsim ... fault HOST add KIND [TARGET] [--at N] [--status CODE]
    winsim ... fault HOST list | clear | remove KIND [TARGET]
    winsim ... stats [HOST ...] [--run last|ID] [--json]
    winsim fidelity compare REAL.jsonl SIM.jsonl [--json] [--ignore-keys K,...]
    winsim ... clock show | advance DURATION (26h, 3d, 1d12h) | set ISO-TIME   (see clock.py)

Hosts are inventory host names.  Where their files live:

* ``--state-dir DIR``: ``DIR/<host>.json`` and its sidecars;
* ``--inventory INV``: each host's ``winsim_state_file`` or
  ``winsim_state_dir`` variable, read and templated with ansible's own
  ``InventoryManager``/``VariableManager``, exactly what the connection
  plugin sees;
* else the environment variable ``WINSIM_STATE_DIR``;
* else ``.winsim/state`` under the current directory (the plugin's default).

Every edit holds the host's lock (``store.HostStore.locked``), so the CLI is
safe to use while a playbook runs.  Exit status: 0 on success, 1 when
``fidelity compare`` finds differences, 2 on a usage or state error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import typing as t
from pathlib import Path

from . import drift as drift_mod
from . import faults as faults_mod
from . import secrets as secrets_mod
from . import stats as stats_mod
from .models._base import SimulatorError
from .state import check_profile, fresh_state
from .store import DEFAULT_STATE_DIR, HostStore

__all__ = ["CliError", "HostResolver", "main", "resolve_path", "set_path"]

ENV_STATE_DIR = "WINSIM_STATE_DIR"
_SIDECAR_SUFFIXES = (".stats.json", ".faults.json")


class CliError(Exception):
    """A usage or state error: reported on stderr, exit status 2."""


# -- where the hosts live ------------------------------------------------------

class HostResolver:
    """Maps inventory host names to their :class:`HostStore`."""

    def __init__(self, *, state_dir: str | None = None, inventory: str | None = None,
                 environ: t.Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.inventory = inventory
        self._inventory_hosts: dict[str, HostStore] | None = None
        if state_dir:
            self.state_dir: str | None = state_dir
        elif inventory:
            self.state_dir = None
        else:
            self.state_dir = environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR

    def _load_inventory(self) -> dict[str, HostStore]:
        if self._inventory_hosts is None:
            self._inventory_hosts = inventory_stores(self.inventory or "")
        return self._inventory_hosts

    def store(self, host: str) -> HostStore:
        if self.state_dir is not None:
            return HostStore.for_host(host, state_dir=self.state_dir)
        hosts = self._load_inventory()
        if host not in hosts:
            raise CliError(f"host {host!r} is not a winsim host of inventory {self.inventory} "
                           f"(winsim hosts: {', '.join(sorted(hosts)) or 'none'})")
        return hosts[host]

    def all_hosts(self) -> list[str]:
        """Every host known here: the inventory's winsim hosts, or every host
        with a state file or a sidecar in the state directory."""
        if self.state_dir is None:
            return sorted(self._load_inventory())
        directory = Path(self.state_dir)
        if not directory.is_dir():
            return []
        names: set[str] = set()
        for path in directory.iterdir():
            name = path.name
            for suffix in _SIDECAR_SUFFIXES:
                if name.endswith(suffix):
                    names.add(name[: -len(suffix)])
                    break
            else:
                if name.endswith(".json") and not name.startswith("."):
                    names.add(name[:-5])
                elif name.endswith(".trace.jsonl"):
                    names.add(name[: -len(".trace.jsonl")])
                elif name.endswith(".d") and path.is_dir():
                    names.add(name[:-2])
        return sorted(names)


def inventory_stores(source: str) -> dict[str, HostStore]:
    """The winsim hosts of an inventory and their stores, resolved with
    ansible's inventory and variable managers (host and group vars,
    templating) exactly as a play would."""
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    _load_vault_secrets(loader, C)
    inventory = InventoryManager(loader=loader, sources=[source])
    if not inventory.hosts and not inventory.groups.get("all", None):
        raise CliError(f"inventory {source} has no hosts")
    variables = VariableManager(loader=loader, inventory=inventory)
    stores: dict[str, HostStore] = {}
    for host in inventory.get_hosts("all"):
        hostvars = variables.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=hostvars)

        def value(name: str, hostvars: dict[str, t.Any] = hostvars, templar: Templar = templar) -> t.Any:
            raw = hostvars.get(name)
            return templar.template(raw) if raw is not None else None

        connection = str(value("ansible_connection") or "")
        if "winsim" not in connection:
            continue
        state_file = value("winsim_state_file")
        state_dir = value("winsim_state_dir") or os.environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR
        stores[host.name] = HostStore.for_host(host.name, state_dir=str(state_dir),
                                               state_file=str(state_file) if state_file else None)
        profile = value("winsim_profile") or os.environ.get("WINSIM_PROFILE")
        if profile:
            stores[host.name].profile = check_profile(str(profile))
    return stores


def inventory_lab(source: str) -> tuple[str, t.Any]:
    """``(state directory, winsim_lab declaration)`` of an inventory's
    winsim hosts, templated as a play would (the declaration is the same for
    every host of a lab: read from the first one that has it)."""
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    _load_vault_secrets(loader, C)
    inventory = InventoryManager(loader=loader, sources=[source])
    variables = VariableManager(loader=loader, inventory=inventory)
    for host in inventory.get_hosts("all"):
        hostvars = variables.get_vars(host=host, include_hostvars=False)
        if "winsim" not in str(hostvars.get("ansible_connection") or "") or not hostvars.get("winsim_lab"):
            continue
        templar = Templar(loader=loader, variables=hostvars)
        state_dir = (templar.template(hostvars["winsim_state_dir"]) if hostvars.get("winsim_state_dir")
                     else os.environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR)
        return str(state_dir), templar.template(hostvars["winsim_lab"])
    raise CliError(f"inventory {source} declares no winsim lab (no winsim host with winsim_lab)")


def cmd_lab(args: argparse.Namespace, resolver: HostResolver) -> int:
    from . import lab

    if args.lab_cmd == "build":
        if not resolver.inventory:
            raise CliError("winsim lab build needs --inventory (the declaration lives in the inventory)")
        state_dir, declaration = inventory_lab(resolver.inventory)
        spec = lab.ensure(state_dir, declaration)
        print(lab.describe(spec))
        print(f"built in {state_dir}")
        return 0
    if resolver.inventory:
        state_dir, _ = inventory_lab(resolver.inventory)
    else:
        state_dir = str(resolver.state_dir)
    spec = lab.load(state_dir)
    if spec is None:
        print(f"winsim: no declared lab in {state_dir} (hosts stand alone)")
        return 0
    print(json.dumps(spec, indent=2) if args.json else lab.describe(spec))
    return 0


def _load_vault_secrets(loader: t.Any, constants: t.Any) -> None:
    """Give the loader the vault identities ``ansible.cfg`` configures, so
    that vaulted group_vars do not stop the inventory from loading."""
    identities = list(getattr(constants, "DEFAULT_VAULT_IDENTITY_LIST", None) or [])
    password_file = getattr(constants, "DEFAULT_VAULT_PASSWORD_FILE", None)
    if not identities and not password_file:
        return
    from ansible.cli import CLI

    try:
        secrets = CLI.setup_vault_secrets(loader, vault_ids=identities,
                                          vault_password_files=[password_file] if password_file else [],
                                          ask_vault_pass=False, auto_prompt=False)
    except Exception as exc:  # an unreadable password file must not hide the state
        print(f"winsim: warning: vault secrets not loaded: {exc}", file=sys.stderr)
        return
    loader.set_vault_secrets(secrets)


# -- paths inside the state document -------------------------------------------

def split_path(path: str) -> list[str]:
    """``/a/b~1c/0`` (JSON pointer, RFC 6901) or ``a.b.0`` (dotted) -> parts."""
    if path in ("", "/"):
        return []
    if path.startswith("/"):
        return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    return path.split(".")


def _step(node: t.Any, part: str, path: str, create: bool = False) -> t.Any:
    if isinstance(node, dict):
        if part in node:
            return node[part]
        matches = [k for k in node if k.lower() == part.lower()]
        if len(matches) == 1:
            return node[matches[0]]
        if create:
            node[part] = {}
            return node[part]
        raise CliError(f"{path}: no key {part!r} (keys: {', '.join(sorted(map(str, node)))[:400] or 'none'})")
    if isinstance(node, list):
        try:
            return node[int(part)]
        except (ValueError, IndexError) as exc:
            raise CliError(f"{path}: {part!r} is not an index of a list of {len(node)}") from exc
    raise CliError(f"{path}: cannot descend into {type(node).__name__} at {part!r}")


def resolve_path(doc: t.Any, path: str) -> t.Any:
    node = doc
    for part in split_path(path):
        node = _step(node, part, path)
    return node


def _container_key(container: t.Any, part: str) -> t.Any:
    if isinstance(container, dict):
        matches = [k for k in container if k.lower() == part.lower()]
        return part if part in container or len(matches) != 1 else matches[0]
    return part


def set_path(doc: dict[str, t.Any], path: str, value: t.Any, *, delete: bool = False) -> tuple[t.Any, t.Any]:
    """Set (or delete) ``path`` in ``doc``; missing dict levels are created.
    Returns ``(before, after)``."""
    parts = split_path(path)
    if not parts:
        raise CliError("refusing to replace the whole state document; use `winsim reset`")
    node: t.Any = doc
    for part in parts[:-1]:
        node = _step(node, part, path, create=not delete)
    last = parts[-1]
    if isinstance(node, dict):
        key = _container_key(node, last)
        before = node.get(key)
        if delete:
            if key not in node:
                raise CliError(f"{path}: nothing to delete")
            del node[key]
            return before, None
        node[key] = value
        return before, value
    if isinstance(node, list):
        if last == "-" and not delete:
            node.append(value)
            return None, value
        try:
            index = int(last)
            before = node[index]
        except (ValueError, IndexError) as exc:
            raise CliError(f"{path}: {last!r} is not an index of a list of {len(node)}") from exc
        if delete:
            del node[index]
            return before, None
        node[index] = value
        return before, value
    raise CliError(f"{path}: cannot set a key inside a {type(node).__name__}")


def parse_value(text: str) -> t.Any:
    """A command-line value: JSON, or YAML (so ``true``, ``5``, ``Stopped``,
    ``[a, b]`` and ``{k: v}`` all work); an empty string stays a string."""
    if text == "":
        return ""
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"cannot parse value {text!r}: {exc}") from exc
    if not isinstance(value, str | int | float | bool | list | dict | type(None)):
        return text  # dates and times stay the string the user typed
    return value


# -- output ------------------------------------------------------------------------

def _dump(value: t.Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(value, Dumper=_Dumper, sort_keys=True, allow_unicode=True, default_flow_style=False,
                     width=120).rstrip("\n")


# -- commands ------------------------------------------------------------------------

def cmd_show(args: argparse.Namespace, resolver: HostResolver) -> int:
    store = resolver.store(args.host)
    with store.locked():
        doc = store.load_state()
    value = resolve_path(doc, args.section) if args.section else doc
    print(_dump(value, args.format))
    return 0


def reset_host(store: HostStore) -> list[str]:
    """Back to a freshly installed host: the state file and every sidecar
    go (stats, faults, trace, temp and async files).  Returns what was
    removed."""
    removed = []
    with store.locked():
        for path in (store.state_path, store.stats_path, store.faults_path, store.trace_path):
            if path.exists():
                path.unlink()
                removed.append(str(path))
        if store.data_dir.exists():
            shutil.rmtree(store.data_dir)
            removed.append(str(store.data_dir))
    return removed


def cmd_reset(args: argparse.Namespace, resolver: HostResolver) -> int:
    profile = getattr(args, "profile", None)
    if profile is not None:
        try:
            check_profile(profile)  # before any file is touched
        except SimulatorError as exc:
            raise CliError(str(exc).removeprefix("winsim: ")) from None
    hosts = args.hosts or resolver.all_hosts()
    for host in hosts:
        store = resolver.store(host)
        removed = reset_host(store)
        if profile is not None:
            # The fresh host is written now, so that the profile sticks
            # whatever the connection's winsim_profile says later.
            store.profile = profile
            with store.locked():
                store.save_state(fresh_state(store.hostname, profile=profile))
        print(f"{host}: reset to a fresh Windows Server 2022 host ({len(removed)} file(s) removed)"
              + (f", profile {profile}" if profile is not None else ""))
    if not hosts:
        print("winsim: no simulated hosts found; nothing to reset")
    return 0


def cmd_set(args: argparse.Namespace, resolver: HostResolver) -> int:
    if args.delete == (args.value is not None):
        raise CliError("set needs either VALUE or --delete")
    store = resolver.store(args.host)
    with store.locked():
        doc = store.load_state()
        value = None if args.delete else parse_value(args.value)
        before, after = set_path(doc, args.path, value, delete=args.delete)
        store.save_state(doc)
    what = "deleted" if args.delete else f"{json.dumps(before)} -> {json.dumps(after)}"
    print(f"{args.host}: {args.path}: {what}")
    return 0


def cmd_drift(args: argparse.Namespace, resolver: HostResolver) -> int:
    spec = drift_mod.all_drifts()[args.drift]
    kwargs = {a.dest: getattr(args, a.dest) for a in spec.args}
    store = resolver.store(args.host)
    with store.locked():
        doc = store.load_state()
        try:
            with secrets_mod.using_state_dir(store.state_path.parent):  # keys sealed with this lab's key
                message = drift_mod.apply_drift(doc, spec.name, **kwargs)
        except drift_mod.DriftError as exc:
            raise CliError(f"{args.host}: drift {spec.name}: {exc}") from exc
        store.save_state(doc)
    print(f"{args.host}: {message}")
    return 0


def cmd_fault(args: argparse.Namespace, resolver: HostResolver) -> int:
    store = resolver.store(args.host)
    if args.fault_cmd == "add":
        fault = faults_mod.add_fault(store, args.kind, args.target, at=args.at, after=args.after, status=args.status,
                                     message=args.message)
        print(f"{args.host}: fault added: {json.dumps(fault, sort_keys=True)}")
    elif args.fault_cmd == "list":
        faults = faults_mod.list_faults(store)
        if args.json:
            print(json.dumps(faults, indent=2, sort_keys=True))
        elif not faults:
            print(f"{args.host}: no faults")
        else:
            for fault in faults:
                print(f"{args.host}: {json.dumps(fault, sort_keys=True)}")
    elif args.fault_cmd == "remove":
        n = faults_mod.remove_fault(store, args.kind, args.target)
        print(f"{args.host}: {n} fault(s) removed")
    else:
        n = faults_mod.clear_faults(store)
        print(f"{args.host}: {n} fault(s) cleared")
    return 0


def cmd_stats(args: argparse.Namespace, resolver: HostResolver) -> int:
    hosts = args.hosts or resolver.all_hosts()
    stats = [stats_mod.host_stats(resolver.store(h), run=args.run) for h in hosts]
    if args.json:
        print(json.dumps(stats_mod.to_json(stats), indent=2, sort_keys=True))
    elif not stats:
        print("winsim: no simulated hosts found")
    else:
        print(stats_mod.format_table(stats))
    return 0


def cmd_fidelity(args: argparse.Namespace, resolver: HostResolver | None) -> int:
    from . import fidelity

    ignore = [k.strip() for k in (args.ignore_keys or "").split(",") if k.strip()]
    host_map = {}
    for pair in args.map_host or []:
        real, sep, sim = pair.partition("=")
        if not sep or not real or not sim:
            raise CliError(f"--map-host takes REAL=SIM (got {pair!r})")
        host_map[real] = sim
    try:
        report = fidelity.compare_files(args.real, args.sim, ignore_keys=ignore, host_map=host_map)
    except fidelity.RecordingError as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(report.as_dict(), indent=2, sort_keys=True) if args.json else report.format())
    return 0 if report.identical else 1


def _lab_state_dir(resolver: HostResolver) -> str:
    if resolver.state_dir is not None:
        return resolver.state_dir
    dirs = sorted({str(store.state_path.parent) for store in resolver._load_inventory().values()})
    if len(dirs) != 1:
        raise CliError(f"the clock needs one state directory; inventory {resolver.inventory} has "
                       f"{len(dirs)}: {', '.join(dirs) or 'none'} (use --state-dir)")
    return dirs[0]


def cmd_clock(args: argparse.Namespace, resolver: HostResolver) -> int:
    from . import clock as clock_mod

    state_dir = _lab_state_dir(resolver)
    try:
        if args.clock_cmd == "advance":
            doc = clock_mod.advance(state_dir, args.duration)
        elif args.clock_cmd == "set":
            doc = clock_mod.set_time(state_dir, args.time)
        else:
            doc = clock_mod.load(state_dir)
    except clock_mod.ClockError as exc:
        raise CliError(f"clock: {exc}") from exc
    if doc is None:
        print("lab clock: none (hosts use the real UTC time)")
        return 0
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    print(f"lab clock: {doc['now']}")
    if args.clock_cmd != "show" and doc.get("history"):
        print(f"SQL Agent job runs: {doc['history'][-1].get('jobs_run', 0)}")
    return 0


# -- argument parsing -----------------------------------------------------------------

def _add_drift_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("drift", help="apply a named operator edit (drift) to a host",
                       description="Apply one of the named drifts an operator could make by hand.")
    p.add_argument("host")
    drifts = p.add_subparsers(dest="drift", metavar="DRIFT", required=True)
    for spec in sorted(drift_mod.all_drifts().values(), key=lambda s: s.name):
        dp = drifts.add_parser(spec.name, help=spec.help, description=spec.help)
        for arg in spec.args:
            kwargs: dict[str, t.Any] = {"help": arg.help}
            if arg.action:
                kwargs["action"] = arg.action
                if arg.action == "store_true":
                    kwargs["default"] = bool(arg.default)
            else:
                kwargs["type"] = arg.type
                if arg.choices:
                    kwargs["choices"] = arg.choices
            if arg.positional:
                if not arg.required:
                    kwargs["nargs"] = "?"
                    kwargs["default"] = arg.default
            else:
                kwargs["dest"] = arg.dest
                if arg.action != "store_true":
                    kwargs["required"] = arg.required
                    if not arg.required and arg.action is None:
                        kwargs["default"] = arg.default
            dp.add_argument(arg.name, **kwargs)
    p.set_defaults(func=cmd_drift)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="winsim", description="Inspect and edit winsim's simulated Windows hosts.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--state-dir", help=f"directory of the host state files (default: ${ENV_STATE_DIR} or "
                                           f"{DEFAULT_STATE_DIR})")
    where.add_argument("--inventory", "-i", help="inventory whose winsim_state_dir/winsim_state_file to use")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("show", help="print a host's state (or one section) as YAML or JSON")
    p.add_argument("host")
    p.add_argument("--section", help="a section or path, e.g. iis or /iis/sites/MCMS/bindings")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("reset", help="make hosts fresh again (state and every sidecar removed)")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="hosts to reset (default: all)")
    p.add_argument("--profile", choices=None, metavar="PROFILE",
                   help="write the fresh host now, as this profile (bare, realistic, lived-in; see "
                        "winsim/docs/profiles.md); without it the host has no state file until its first "
                        "change and the connection's winsim_profile decides")
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("set", help="set (or --delete) one value in a host's state")
    p.add_argument("host")
    p.add_argument("path", help="JSON pointer (/iis/sites/MCMS/state) or dotted path (iis.sites.MCMS.state)")
    p.add_argument("value", nargs="?", help="new value, JSON or YAML")
    p.add_argument("--delete", action="store_true", help="delete the key or list item instead")
    p.set_defaults(func=cmd_set)

    _add_drift_parsers(sub)

    p = sub.add_parser("fault", help="inject, list or clear faults of a host")
    p.add_argument("host")
    fsub = p.add_subparsers(dest="fault_cmd", metavar="ACTION", required=True)
    fa = fsub.add_parser("add", help="inject a fault",
                         description="Kinds: " + "; ".join(f"{k.name} ({k.target or 'no target'}): {k.help}"
                                                           for k in faults_mod.KINDS.values()))
    fa.add_argument("kind", choices=sorted(faults_mod.KINDS))
    fa.add_argument("target", nargs="?")
    fa.add_argument("--at", type=int, help="drop_connection: the Nth round trip from now (1 = the next)")
    fa.add_argument("--after", type=int, help="drop_connection: every round trip after the Nth from now")
    fa.add_argument("--status", type=int, help="app_health: HTTP status /health answers (default 500)")
    fa.add_argument("--message", help="service_start/app_pool_start/site_start: the error the start reports")
    fl = fsub.add_parser("list", help="list the host's faults")
    fl.add_argument("--json", action="store_true")
    fr = fsub.add_parser("remove", help="remove the faults of one kind (and target)")
    fr.add_argument("kind", choices=sorted(faults_mod.KINDS))
    fr.add_argument("target", nargs="?")
    fsub.add_parser("clear", help="remove every fault")
    p.set_defaults(func=cmd_fault)

    p = sub.add_parser("lab", help="show the declared lab, or build it from an inventory's winsim_lab")
    lsub = p.add_subparsers(dest="lab_cmd", metavar="ACTION", required=True)
    ls_ = lsub.add_parser("show", help="the declared lab: hosts, roles, profiles, DNS, trust settings")
    ls_.add_argument("--json", action="store_true")
    lsub.add_parser("build", help="validate the inventory's winsim_lab and build every declared host that has no "
                    "state yet (what the first connect of a play does)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("stats", help="round trips per host and module, file transfers")
    p.add_argument("hosts", nargs="*", metavar="HOST", help="hosts (default: all)")
    p.add_argument("--run", help="'last' for the most recent run, or a run id (default: all time)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("clock", help="show, advance or set the lab clock (SQL Agent runs the jobs that fall due)")
    csub = p.add_subparsers(dest="clock_cmd", metavar="ACTION", required=True)
    cs = csub.add_parser("show", help="print the lab time")
    cs.add_argument("--json", action="store_true")
    ca = csub.add_parser("advance", help="move the lab time forward, e.g. 26h, 3d, 1d12h, 90m")
    ca.add_argument("duration")
    ca.add_argument("--json", action="store_true")
    cset = csub.add_parser("set", help="set the lab time (ISO 8601, UTC if no zone); never backwards")
    cset.add_argument("time")
    cset.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clock)

    p = sub.add_parser("fidelity", help="compare a recording from a real host with a simulated run")
    fsub = p.add_subparsers(dest="fidelity_cmd", metavar="ACTION", required=True)
    fc = fsub.add_parser("compare", help="list every difference between two recorder files")
    fc.add_argument("real", help="recording of the run against the real Windows host(s)")
    fc.add_argument("sim", help="recording of the same playbook against winsim")
    fc.add_argument("--ignore-keys", help="comma-separated returned keys to ignore, e.g. invocation")
    fc.add_argument("--map-host", action="append", metavar="REAL=SIM",
                    help="compare real host REAL with simulated host SIM (repeatable)")
    fc.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fidelity)
    return parser


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "fidelity":
            return cmd_fidelity(args, None)
        resolver = HostResolver(state_dir=args.state_dir, inventory=args.inventory)
        return int(args.func(args, resolver))
    except (CliError, SimulatorError) as exc:
        message = str(exc)
        print(f"winsim: error: {message.removeprefix('winsim: ')}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"winsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
