#!/usr/bin/env python3
"""winsim benchmark: round trips per host and wall time as the lab grows.

For each host count N (1, 2, 4, 8, 16, 32 by default) this builds a fresh
simulated lab of N web nodes, runs the playbook three times with forks
(converge, the idempotent re-run, a check-mode run) and reports, per pass:
wall time, round trips per host (from each host's stats sidecar, for that
pass only), file transfers, and the number of task results that reported a
change (from the ``mcms.infra.recorder`` recording).  With ``--lab`` the
hosts carry a winsim inventory's variables and the real ``site.yml`` runs.
Results go to stdout as a table and to
``bench/results/bench-<UTC time>.{json,md}`` (and ``latest.{json,md}``).

A benchmark, not a test: it asserts nothing and is not part of ``make test``.

    .venv/bin/python bench/run.py                       # 1..32 hosts, bench/playbook.yml
    .venv/bin/python bench/run.py --lab inventories/sim --hosts 1,2,4,8   # make bench: the real roles
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "collections"))

from winsim import stats as winsim_stats
from winsim.store import HostStore

DEFAULT_HOSTS = (1, 2, 4, 8, 16, 32)
# pass name -> extra ansible-playbook arguments: converge fresh hosts, run
# again (must change nothing), then the drift check (check mode, diff)
PASSES = {"converge": [], "idempotent": [], "check": ["--check", "--diff"]}
# With --lab, after those: a deploy of a new version to the converged nodes
# (playbooks/deploy.yml, issue 10's budget: 25 round trips per node) and the
# same deploy again (the app no-op). The version is one of the lab's packages.
APP_PASSES = {"deploy": ("playbooks/deploy.yml", ["-e", "app_version=1.5.0"]),
              "app no-op": ("playbooks/deploy.yml", ["-e", "app_version=1.5.0"])}


def _inventory(n: int, state_dir: Path, group: str) -> dict[str, t.Any]:
    return {"all": {"children": {group: {
        "hosts": {f"web{i:02d}": {} for i in range(1, n + 1)},
        "vars": {"ansible_connection": "mcms.winsim.sim", "ansible_shell_type": "powershell",
                 "winsim_state_dir": str(state_dir)},
    }}}}


def _lab_inventory(n: int, work: Path, lab: Path, group: str) -> Path:
    """``inventories/<lab>``'s variables (group_vars, the vault) for N hosts
    ``web01..webNN`` in ``group`` under ``windows``, the real roles' input.
    The inventory sits two levels below ``work`` so that the lab's
    ``{{ inventory_dir }}/../../.winsim`` paths (state, CA) land in ``work``."""
    inv = work / "inventories" / "bench"
    inv.mkdir(parents=True)
    shutil.copytree(lab / "group_vars", inv / "group_vars")
    children: dict[str, t.Any] = {group: {"hosts": {f"web{i:02d}": {"ansible_host": f"web{i:02d}.bench.invalid"}
                                                   for i in range(1, n + 1)}}}
    dc = _lab_dc(inv / "group_vars" / "windows" / "winsim.yml")
    if dc:
        # The identity tier creates the gMSAs the web nodes grant rights to on
        # the lab's domain controller: it is in play (and not measured).
        children["domain_controllers"] = {"hosts": {dc: {"ansible_host": f"{dc}.bench.invalid"}}}
    (inv / "hosts.yml").write_text(json.dumps({"all": {"children": {"windows": {"children": children}}}},
                                              indent=2))
    _declare_bench_hosts(inv / "group_vars" / "windows" / "winsim.yml", n)
    return inv


def _lab_dc(path: Path) -> str | None:
    """The domain controller the lab's ``winsim_lab`` declares, if any."""
    if not path.is_file():
        return None
    import yaml

    lab = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("winsim_lab")
    domain = lab.get("domain") if isinstance(lab, dict) else None
    return domain.get("dc") if isinstance(domain, dict) else None


def _declare_bench_hosts(path: Path, n: int) -> None:
    """Declare ``web01..webNN`` in the lab's ``winsim_lab`` (members of its
    domain, if it has one) so that the connection accepts them."""
    if not path.is_file():
        return
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lab = doc.get("winsim_lab")
    if not isinstance(lab, dict):
        return
    hosts = lab.setdefault("hosts", {})
    roles = ["member"] if lab.get("domain") else []
    for i in range(1, n + 1):
        hosts.setdefault(f"web{i:02d}", {"roles": roles, "address": f"10.20.1.{i}"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _ansible_cfg(forks: int, recording: Path, vault_ids: str | None = None) -> str:
    return "\n".join([
        "[defaults]",
        *([f"vault_identity_list = {vault_ids}"] if vault_ids else []),
        f"collections_path = {REPO / 'collections'}",
        f"roles_path = {REPO / 'roles'}",
        f"forks = {forks}",
        "retry_files_enabled = false",
        "deprecation_warnings = false",
        "callbacks_enabled = mcms.infra.recorder",
        "[callback_recorder]",
        f"path = {recording}",
        "[connection]",
        "pipelining = true",
        "",
    ])


def _changed_tasks(recording: Path) -> tuple[int, int]:
    """(task results that changed, task results that failed) of a recording."""
    changed = failed = 0
    for line in recording.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "task":
            changed += bool(record.get("changed"))
            failed += bool(record.get("failed")) and not record.get("ignored")
    return changed, failed


def run_one(n: int, *, playbook: Path, forks: int, group: str, ansible_playbook: str, keep: bool,
            extra: list[str], lab: Path | None = None, app: bool = False) -> dict[str, t.Any]:
    work = Path(tempfile.mkdtemp(prefix=f"winsim-bench-{n}-"))
    try:
        vault_ids = None
        if lab is None:
            state_dir = work / "state"
            inventory = work / "hosts.yml"
            inventory.write_text(json.dumps(_inventory(n, state_dir, group), indent=2))
        else:
            inventory = _lab_inventory(n, work, lab, group)
            state_dir = work / ".winsim" / "sim"
            pass_files = sorted(lab.glob(".vault-pass*"))
            vault_ids = ",".join(f"{lab.name}@{f}" for f in pass_files) or None
        result: dict[str, t.Any] = {"hosts": n, "forks": min(forks, n), "passes": {}}
        hosts = [f"web{i:02d}" for i in range(1, n + 1)]
        passes: list[tuple[str, Path, list[str]]] = [(n_, playbook, a) for n_, a in PASSES.items()]
        if app:
            passes += [(n_, REPO / pb, a) for n_, (pb, a) in APP_PASSES.items()]
        for name, pass_playbook, pass_args in passes:
            recording = work / f"{name.replace(' ', '-')}.jsonl"
            (work / "ansible.cfg").write_text(_ansible_cfg(min(forks, n), recording, vault_ids))
            run_id = f"bench-{n}-{name.replace(' ', '-')}-{os.getpid()}"
            env = dict(os.environ, ANSIBLE_CONFIG=str(work / "ansible.cfg"), WINSIM_RUN_ID=run_id,
                       ANSIBLE_NOCOLOR="1", WINSIM_CPU_ACCOUNTING="1")
            start = time.perf_counter()
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run([ansible_playbook, "-i", str(inventory), str(pass_playbook), *pass_args, *extra],
                                  cwd=REPO, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # Controller CPU of the whole run (ansible-playbook and its forks,
            # which winsim runs inside) and the part spent inside winsim.
            controller_cpu = ((cpu_after.ru_utime - cpu_before.ru_utime)
                              + (cpu_after.ru_stime - cpu_before.ru_stime))
            winsim_cpu = sum(_run_cpu(HostStore.for_host(h, state_dir=str(state_dir)), run_id) for h in hosts)
            if proc.returncode not in (0, 2, 4):  # 2: failed tasks, 4: unreachable hosts (reported below)
                tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
                raise RuntimeError(f"{n} hosts, {name}: ansible-playbook exited {proc.returncode}\n{tail}")
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
                print(f"warning: {n} hosts, {name}: ansible-playbook exited {proc.returncode}\n{tail}",
                      file=sys.stderr)
            per_host = [winsim_stats.host_stats(HostStore.for_host(h, state_dir=str(state_dir)), run=run_id)
                        for h in hosts]
            rts = [s.round_trips for s in per_host]
            changed, failed = _changed_tasks(recording)
            result["passes"][name] = {
                "rc": proc.returncode,
                "wall_seconds": round(wall, 3),
                "round_trips_per_host": {"min": min(rts), "max": max(rts), "mean": round(statistics.mean(rts), 2)},
                "module_runs_per_host_max": max(s.module_runs for s in per_host),
                "put_file_per_host_max": max(s.put_file for s in per_host),
                "controller_cpu_seconds": round(controller_cpu, 2),
                "winsim_cpu_seconds": round(winsim_cpu, 2),
                "winsim_cpu_share": round(winsim_cpu / controller_cpu, 3) if controller_cpu else None,
                "changed_task_results": changed,
                "failed_task_results": failed,
                "modules": winsim_stats.to_json(per_host)["summary"]["modules"],
            }
        return result
    finally:
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run_cpu(store: HostStore, run_id: str) -> float:
    """CPU seconds winsim spent for ``store``'s host in run ``run_id``."""
    run = next((r for r in store.load_stats().get("runs", []) if r.get("run") == run_id), None)
    return float((run or {}).get("cpu_seconds", 0.0))


def format_modules(results: list[dict[str, t.Any]]) -> str:
    """Round trips per host and module of each pass, for the smallest lab (every host does the same work)."""
    if not results:
        return ""
    r = results[0]
    names = list(r["passes"])
    modules = sorted({m for p in r["passes"].values() for m in p["modules"]})
    rows = [f"Round trips per host by module ({r['hosts']} host(s)):", "",
            "| module | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for module in modules:
        cells = []
        for name in names:
            count = r["passes"][name]["modules"].get(module, 0) / r["hosts"]
            cells.append(f"{count:g}" if count else "")
        rows.append(f"| `{module}` | " + " | ".join(cells) + " |")
    totals = [str(r["passes"][name]["round_trips_per_host"]["max"]) for name in names]
    rows.append("| **round trips** | " + " | ".join(totals) + " |")
    return "\n".join(rows)


def format_table(results: list[dict[str, t.Any]]) -> str:
    head = ["hosts", "forks"]
    passes = list(results[0]["passes"]) if results else list(PASSES)
    for name in passes:
        head += [f"{name} s", f"{name} RT/host", f"{name} changed", f"{name} winsim CPU"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:

        def rt(p: dict[str, t.Any]) -> str:
            span = p["round_trips_per_host"]
            return str(span["max"]) if span["min"] == span["max"] else f"{span['min']}-{span['max']}"

        cells = [str(r["hosts"]), str(r["forks"])]
        for name in passes:
            p = r["passes"][name]
            share = p.get("winsim_cpu_share")
            cells += [f"{p['wall_seconds']:.1f}", rt(p), str(p["changed_task_results"]),
                      f"{share:.0%}" if share is not None else "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default=",".join(map(str, DEFAULT_HOSTS)),
                        help="comma-separated host counts (default: %(default)s)")
    parser.add_argument("--forks", type=int, default=8, help="ansible forks (capped at the host count)")
    parser.add_argument("--playbook",
                        help="playbook to run (default: bench/playbook.yml, or site.yml with --lab)")
    parser.add_argument("--group", default="webservers", help="inventory group of the simulated hosts")
    parser.add_argument("--lab", metavar="INVENTORY",
                        help="run the real roles: use this winsim inventory's group_vars and vault (e.g. "
                             "inventories/sim) for the N hosts; the playbook defaults to site.yml")
    parser.add_argument("--ansible-playbook", default=str(Path(sys.executable).with_name("ansible-playbook")),
                        help="ansible-playbook to use (default: the one beside this Python)")
    parser.add_argument("--results", default=str(Path(__file__).with_name("results")),
                        help="directory for the JSON and Markdown results")
    parser.add_argument("--keep", action="store_true", help="keep each lab's temporary directory")
    parser.add_argument("--no-app", action="store_true",
                        help="with --lab: skip the app passes (a deploy of a new version, then the app no-op)")
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments (after --)")
    args = parser.parse_args(argv)

    counts = [int(x) for x in args.hosts.split(",") if x.strip()]
    if not counts or min(counts) < 1:
        parser.error("--hosts needs positive integers")
    lab = Path(args.lab).resolve() if args.lab else None
    if lab is not None and not (lab / "group_vars").is_dir():
        parser.error(f"--lab {args.lab}: no group_vars/ there; give a winsim inventory such as inventories/sim")
    default_playbook = REPO / "site.yml" if lab is not None else Path(__file__).with_name("playbook.yml")
    playbook = Path(args.playbook).resolve() if args.playbook else default_playbook
    version = subprocess.run([args.ansible_playbook, "--version"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[0]
    results = []
    for n in counts:
        print(f"benchmark: {n} host(s) ...", file=sys.stderr, flush=True)
        results.append(run_one(n, playbook=playbook, forks=args.forks, group=args.group,
                               ansible_playbook=args.ansible_playbook, keep=args.keep, extra=args.extra,
                               lab=lab, app=lab is not None and not args.no_app and args.playbook is None))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    doc = {
        "benchmark": "winsim round trips and wall time",
        "time": stamp,
        "playbook": str(playbook.relative_to(REPO) if playbook.is_relative_to(REPO) else playbook),
        "lab": str(lab.relative_to(REPO) if lab and lab.is_relative_to(REPO) else lab) if lab else None,
        "ansible": version,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "forks": args.forks,
        "results": results,
    }
    table = format_table(results)
    modules = format_modules(results)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    for name in (f"bench-{stamp}", "latest"):
        (out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        (out / f"{name}.md").write_text(f"# winsim benchmark {stamp}\n\n{doc['playbook']}"
                                        f"{' with ' + str(doc['lab']) if lab else ''}, {version}, "
                                        f"Python {doc['python']}, {doc['cpus']} CPUs, forks {args.forks}\n\n"
                                        f"{table}\n\n{modules}\n")
    print(table)
    print()
    print(modules)
    print(f"results: {out / f'bench-{stamp}.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
