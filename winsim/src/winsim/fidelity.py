"""Fidelity check: compare a run against real Windows hosts with a run of the
same playbook against winsim.

Both runs are recorded by the ``mcms.infra.recorder`` callback (JSON lines;
format in ``winsim/docs/winsim.md``).  Task records are matched by
``(play, task, host, occurrence)`` -- the occurrence counts repeated runs of
the same task name on the same host (a role included twice, a task file in a
loop) -- and every difference is listed:

* a task that ran only in the real run (``missing``) or only in the
  simulated one (``extra``);
* a different ``status``, ``changed``, ``failed``, ``skipped``,
  ``unreachable``, resolved module (``action``) or presence of a ``diff``;
* returned keys present on one side only (``keys``), and the same for the
  keys of ``ansible_facts`` (``fact_keys``);
* for loops, a different number of items or a different per-item outcome.

Host names can be mapped (``--map-host real=sim``) when the real inventory
names its hosts differently.  Recordings from different ansible-core versions
are compared all the same, with a note, because the controller adds different
keys (``invocation``) on 2.19 and 2.21.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t
from pathlib import Path

__all__ = ["Difference", "FidelityReport", "Recording", "RecordingError", "compare", "compare_files", "load_recording"]

_FIELDS = ("status", "action", "changed", "failed", "skipped", "unreachable", "diff")


class RecordingError(Exception):
    """A file is not a recorder recording."""


@dataclasses.dataclass
class Recording:
    path: str
    start: dict[str, t.Any]
    tasks: list[dict[str, t.Any]]
    summary: dict[str, t.Any] | None


def load_recording(path: str | Path) -> Recording:
    start: dict[str, t.Any] = {}
    tasks: list[dict[str, t.Any]] = []
    summary = None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RecordingError(f"cannot read recording {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise RecordingError(f"{path}:{number}: not a JSON line ({exc})") from exc
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "start":
            if record.get("format") != 1:
                raise RecordingError(f"{path}:{number}: unsupported recording format {record.get('format')!r}")
            if not start:
                start = record
        elif kind == "task":
            tasks.append(record)
        elif kind == "summary":
            summary = record
        else:
            raise RecordingError(f"{path}:{number}: not a recorder record (type {kind!r})")
    if not start and not tasks:
        raise RecordingError(f"{path}: empty recording")
    return Recording(path=str(path), start=start, tasks=tasks, summary=summary)


@dataclasses.dataclass(frozen=True)
class Difference:
    kind: str
    """``missing``, ``extra``, ``field``, ``keys``, ``fact_keys`` or ``items``."""
    host: str
    play: str
    task: str
    occurrence: int
    field: str = ""
    real: t.Any = None
    sim: t.Any = None

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        where = f"[{self.host}] {self.play} / {self.task}" + (f" (#{self.occurrence + 1})" if self.occurrence else "")
        if self.kind == "missing":
            return f"{where}: ran against the real host only (missing from the simulated run)"
        if self.kind == "extra":
            return f"{where}: ran in the simulated run only"
        if self.kind in ("keys", "fact_keys"):
            what = "returned keys" if self.kind == "keys" else "ansible_facts keys"
            if self.field.startswith("items["):
                what += f" of {self.field.rsplit('.', 1)[0]}"
            parts = []
            if self.real:
                parts.append(f"only real: {', '.join(self.real)}")
            if self.sim:
                parts.append(f"only sim: {', '.join(self.sim)}")
            return f"{where}: {what} differ ({'; '.join(parts)})"
        return f"{where}: {self.field}: real={json.dumps(self.real)} sim={json.dumps(self.sim)}"


@dataclasses.dataclass
class FidelityReport:
    real: str
    sim: str
    real_tasks: int
    sim_tasks: int
    matched: int
    differences: list[Difference]
    notes: list[str]

    @property
    def identical(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "real": self.real,
            "sim": self.sim,
            "real_tasks": self.real_tasks,
            "sim_tasks": self.sim_tasks,
            "matched": self.matched,
            "identical": self.identical,
            "notes": list(self.notes),
            "differences": [d.as_dict() for d in self.differences],
        }

    def format(self) -> str:
        head = (f"fidelity: {len(self.differences)} difference(s); {self.matched} task result(s) matched "
                f"(real {self.real_tasks}: {self.real}, sim {self.sim_tasks}: {self.sim})")
        lines = [head]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"- {d.describe()}" for d in self.differences]
        return "\n".join(lines)


def _index(tasks: list[dict[str, t.Any]], host_map: dict[str, str] | None = None
           ) -> dict[tuple[str, str, str, int], dict[str, t.Any]]:
    counts: dict[tuple[str, str, str], int] = {}
    out: dict[tuple[str, str, str, int], dict[str, t.Any]] = {}
    for record in tasks:
        host = str(record.get("host", ""))
        if host_map:
            host = host_map.get(host, host)
        base = (host, str(record.get("play", "")), str(record.get("task", "")))
        n = counts.get(base, 0)
        counts[base] = n + 1
        out[(*base, n)] = record
    return out


def _key_diff(real: t.Iterable[str], sim: t.Iterable[str], ignore: set[str]) -> tuple[list[str], list[str]]:
    r = set(real) - ignore
    s = set(sim) - ignore
    return sorted(r - s), sorted(s - r)


def compare(real: Recording, sim: Recording, *, ignore_keys: t.Iterable[str] = (),
            host_map: dict[str, str] | None = None) -> FidelityReport:
    """Every difference between the two recordings."""
    ignore = set(ignore_keys)
    r_index = _index(real.tasks, host_map)
    s_index = _index(sim.tasks)
    diffs: list[Difference] = []
    notes: list[str] = []
    for name in ("ansible_version", "check_mode", "diff_mode"):
        rv, sv = real.start.get(name), sim.start.get(name)
        if rv != sv:
            notes.append(f"{name} differs: real={rv} sim={sv}")
    order = list(r_index) + [k for k in s_index if k not in r_index]
    matched = 0
    for key in order:
        host, play, task, n = key
        r, s = r_index.get(key), s_index.get(key)
        if s is None:
            diffs.append(Difference("missing", host, play, task, n))
            continue
        if r is None:
            diffs.append(Difference("extra", host, play, task, n))
            continue
        matched += 1
        for field in _FIELDS:
            if r.get(field) != s.get(field):
                diffs.append(Difference("field", host, play, task, n, field, r.get(field), s.get(field)))
        only_r, only_s = _key_diff(r.get("keys") or [], s.get("keys") or [], ignore)
        if only_r or only_s:
            diffs.append(Difference("keys", host, play, task, n, "keys", only_r, only_s))
        if "fact_keys" in r or "fact_keys" in s:
            only_r, only_s = _key_diff(r.get("fact_keys") or [], s.get("fact_keys") or [], ignore)
            if only_r or only_s:
                diffs.append(Difference("fact_keys", host, play, task, n, "fact_keys", only_r, only_s))
        diffs.extend(_item_diffs(key, r.get("items"), s.get("items"), ignore))
    return FidelityReport(real=real.path, sim=sim.path, real_tasks=len(real.tasks), sim_tasks=len(sim.tasks),
                          matched=matched, differences=diffs, notes=notes)


def _item_diffs(key: tuple[str, str, str, int], real: list[dict[str, t.Any]] | None,
                sim: list[dict[str, t.Any]] | None, ignore: set[str]) -> list[Difference]:
    host, play, task, n = key
    if real is None and sim is None:
        return []
    real, sim = real or [], sim or []
    if len(real) != len(sim):
        return [Difference("items", host, play, task, n, "items", len(real), len(sim))]
    out = []
    for i, (ri, si) in enumerate(zip(real, sim, strict=True)):
        for field in ("changed", "failed", "skipped"):
            if ri.get(field) != si.get(field):
                out.append(Difference("items", host, play, task, n, f"items[{i}].{field}", ri.get(field),
                                      si.get(field)))
        only_r, only_s = _key_diff(ri.get("keys") or [], si.get("keys") or [], ignore)
        if only_r or only_s:
            out.append(Difference("keys", host, play, task, n, f"items[{i}].keys", only_r, only_s))
    return out


def compare_files(real: str | Path, sim: str | Path, *, ignore_keys: t.Iterable[str] = (),
                  host_map: dict[str, str] | None = None) -> FidelityReport:
    return compare(load_recording(real), load_recording(sim), ignore_keys=ignore_keys, host_map=host_map)
