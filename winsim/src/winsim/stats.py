"""Round-trip accounting, read side.

The connection plugin counts every round trip in the host's
``<stem>.stats.json`` sidecar (``HostStore.count`` in ``store.py``)::

    {"winsim_stats": 1, "host": "web01",
     "total": {"round_trips": N, "modules": {fqcn: n}, "internal": {kind: n},
               "put_file": n, "fetch_file": n, "bytes_put": n, "bytes_fetched": n},
     "runs": [{"run": id, "started": iso, "last": iso, <the same counters>}, ...]}

This module turns those sidecars into per-host summaries for ``winsim
stats``, the benchmarks and the tests: all time (``total``), or one run (the
last one, or a run id).
"""

from __future__ import annotations

import dataclasses
import typing as t

if t.TYPE_CHECKING:
    from .store import HostStore

__all__ = ["HostStats", "format_table", "host_stats", "to_json"]


@dataclasses.dataclass
class HostStats:
    host: str
    scope: str
    """``"total"`` or the run id the counters belong to."""
    round_trips: int = 0
    modules: dict[str, int] = dataclasses.field(default_factory=dict)
    internal: dict[str, int] = dataclasses.field(default_factory=dict)
    put_file: int = 0
    fetch_file: int = 0
    bytes_put: int = 0
    bytes_fetched: int = 0
    runs: int = 0

    @property
    def module_runs(self) -> int:
        return sum(self.modules.values())

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "host": self.host,
            "scope": self.scope,
            "round_trips": self.round_trips,
            "module_runs": self.module_runs,
            "modules": dict(sorted(self.modules.items())),
            "internal": dict(sorted(self.internal.items())),
            "put_file": self.put_file,
            "fetch_file": self.fetch_file,
            "bytes_put": self.bytes_put,
            "bytes_fetched": self.bytes_fetched,
            "runs": self.runs,
        }


def _from_counters(host: str, scope: str, counters: dict[str, t.Any], runs: int) -> HostStats:
    return HostStats(
        host=host,
        scope=scope,
        round_trips=int(counters.get("round_trips", 0)),
        modules={str(k): int(v) for k, v in (counters.get("modules") or {}).items()},
        internal={str(k): int(v) for k, v in (counters.get("internal") or {}).items()},
        put_file=int(counters.get("put_file", 0)),
        fetch_file=int(counters.get("fetch_file", 0)),
        bytes_put=int(counters.get("bytes_put", 0)),
        bytes_fetched=int(counters.get("bytes_fetched", 0)),
        runs=runs,
    )


def host_stats(store: HostStore, run: str | None = None) -> HostStats:
    """Counters of one host: all time when ``run`` is ``None``, the most
    recent run for ``"last"``, or the run with that id (zeros when the host
    saw no such run)."""
    with store.locked():
        doc = store.load_stats()
    runs = doc.get("runs") or []
    if run is None:
        return _from_counters(store.hostname, "total", doc.get("total") or {}, len(runs))
    if run == "last":
        chosen = max(runs, key=lambda r: (str(r.get("last", "")), str(r.get("started", ""))), default=None)
    else:
        chosen = next((r for r in runs if r.get("run") == run), None)
    if chosen is None:
        return HostStats(host=store.hostname, scope=run)
    return _from_counters(store.hostname, str(chosen.get("run")), chosen, 1)


def to_json(stats: list[HostStats]) -> dict[str, t.Any]:
    """Machine-readable summary: per host, plus totals over the hosts."""
    hosts = [s.as_dict() for s in stats]
    modules: dict[str, int] = {}
    for s in stats:
        for k, v in s.modules.items():
            modules[k] = modules.get(k, 0) + v
    rts = [s.round_trips for s in stats]
    return {
        "hosts": hosts,
        "summary": {
            "hosts": len(stats),
            "round_trips": sum(rts),
            "round_trips_per_host_max": max(rts, default=0),
            "round_trips_per_host_mean": (sum(rts) / len(rts)) if rts else 0.0,
            "put_file": sum(s.put_file for s in stats),
            "fetch_file": sum(s.fetch_file for s in stats),
            "modules": dict(sorted(modules.items())),
        },
    }


def format_table(stats: list[HostStats]) -> str:
    """Readable report: one block per host, modules sorted by count."""
    lines: list[str] = []
    for s in stats:
        lines.append(f"{s.host} ({s.scope}): {s.round_trips} round trips, {s.module_runs} module runs, "
                     f"{s.put_file} put_file ({s.bytes_put} bytes), {s.fetch_file} fetch_file "
                     f"({s.bytes_fetched} bytes)")
        width = max((len(m) for m in [*s.modules, *s.internal]), default=0)
        for name, n in sorted(s.modules.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {name:<{width}}  {n:>5}")
        for name, n in sorted(s.internal.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {name:<{width}}  {n:>5}  (internal)")
    if len(stats) > 1:
        total = sum(s.round_trips for s in stats)
        lines.append(f"total: {total} round trips over {len(stats)} hosts "
                     f"(max {max(s.round_trips for s in stats)} per host)")
    return "\n".join(lines)
