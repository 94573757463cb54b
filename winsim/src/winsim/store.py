"""On-disk storage of one simulated host: the state document and its
sidecars, with locking that is safe for many forks and many processes.

For a host whose state file is ``<dir>/<stem>.json``::

    <stem>.json          the host state document (see ``state.py``); absent
                         until the first change: a missing file is a freshly
                         installed host
    <stem>.lock          fcntl lock serialising every read-modify-write
    <stem>.stats.json    round-trip accounting (per run and in total)
    <stem>.faults.json   injected faults: a JSON list of {"kind", "target", ...}
    <stem>.trace.jsonl   one line per round trip (secrets masked)
    <stem>.d/tmp/        temporary directories made by Ansible (mkdtemp) and
                         the files put_file sent into them
    <stem>.d/async/      results of async jobs

Sidecars live beside the state, never in it, so a ``--check`` run leaves the
state file byte-identical while still being counted and traced.  The state is
written canonically (sorted keys, two-space indent, trailing newline) by an
atomic temp-file-and-rename, and only when its canonical bytes change.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import re
import sys
import tempfile
import threading
import typing as t
from pathlib import Path

from .models._base import SimulatorError

__all__ = [
    "STATS_FORMAT",
    "HostStore",
    "canonical_json",
    "run_id",
]

STATS_FORMAT = 1
MAX_RUNS_KEPT = 50
DEFAULT_STATE_DIR = ".winsim/state"


def canonical_json(doc: t.Any) -> bytes:
    """The one serialisation of a state document: sorted keys, indent 2,
    UTF-8, trailing newline.  Equal documents give equal bytes."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _process_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return "0"


def run_id() -> str:
    """Identifies one ``ansible-playbook`` run across its forked workers.

    ``WINSIM_RUN_ID`` wins when set (tests, benchmarks).  Otherwise the
    controller process: connection plugins run in worker processes forked
    from it, so it is the parent of the current process."""
    explicit = os.environ.get("WINSIM_RUN_ID")
    if explicit:
        return explicit
    ppid = os.getppid()
    return f"{ppid}-{_process_start(ppid)}"


_SAFE_STEM = re.compile(r"[^A-Za-z0-9._@-]")


class _HeldLock:
    """One process's hold on one host's lock file: a thread lock (re-entrant)
    around a single fcntl lock, shared by every HostStore of that host in the
    process (flock locks belong to an open file, so a second open of the
    same file in the same process would deadlock)."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0
        self.fh: t.IO[bytes] | None = None


_GUARD = threading.Lock()
_HELD: dict[str, _HeldLock] = {}


def _held(path: Path) -> _HeldLock:
    with _GUARD:
        return _HELD.setdefault(str(path), _HeldLock())


def _forget_locks_after_fork() -> None:
    # A forked child inherits neither the parent's threads nor its fcntl
    # holds: start with a clean registry.
    global _GUARD
    _GUARD = threading.Lock()
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_locks_after_fork)


class HostStore:
    """Files of one simulated host."""

    def __init__(self, state_path: str | os.PathLike[str], hostname: str) -> None:
        self.state_path = Path(state_path)
        self.hostname = hostname
        name = self.state_path.name
        stem = name[:-5] if name.endswith(".json") else name
        base = self.state_path.parent
        self.lock_path = base / f"{stem}.lock"
        self.stats_path = base / f"{stem}.stats.json"
        self.faults_path = base / f"{stem}.faults.json"
        self.trace_path = base / f"{stem}.trace.jsonl"
        self.data_dir = base / f"{stem}.d"
        self.tmp_dir = self.data_dir / "tmp"
        self.async_dir = self.data_dir / "async"
        self.profile = "bare"
        """Host profile of the fresh document when there is no state file
        yet (``state.PROFILES``; the connection option ``winsim_profile``)."""

    @classmethod
    def for_host(cls, hostname: str, *, state_dir: str | None = None, state_file: str | None = None) -> HostStore:
        """The store of inventory host ``hostname``: ``state_file`` when
        given, else ``<state_dir>/<hostname>.json``."""
        if state_file:
            path = Path(os.path.expanduser(state_file))
        else:
            directory = Path(os.path.expanduser(state_dir or DEFAULT_STATE_DIR))
            stem = _SAFE_STEM.sub("_", hostname)
            if not stem or stem in (".", ".."):
                raise SimulatorError(f"winsim: cannot derive a state file name from host name {hostname!r}")
            path = directory / f"{stem}.json"
        return cls(path.absolute(), hostname)

    # -- locking -------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> t.Iterator[HostStore]:
        """Exclusive lock over the state and its sidecars.  Re-entrant in
        one process; exclusive across processes (fcntl.flock)."""
        held = _held(self.lock_path)
        with held.rlock:
            if held.depth == 0:
                self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                fh = open(self.lock_path, "a+b")  # noqa: SIM115 - held across the context
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                except BaseException:
                    fh.close()
                    raise
                held.fh = fh
            held.depth += 1
            try:
                yield self
            finally:
                held.depth -= 1
                if held.depth == 0 and held.fh is not None:
                    fcntl.flock(held.fh.fileno(), fcntl.LOCK_UN)
                    held.fh.close()
                    held.fh = None

    # -- state -----------------------------------------------------------------
    def exists(self) -> bool:
        return self.state_path.exists()

    def read_state_bytes(self) -> bytes | None:
        try:
            return self.state_path.read_bytes()
        except FileNotFoundError:
            return None

    def load_state(self) -> dict[str, t.Any]:
        """The host's state; a fresh Windows Server 2022 host when the file
        does not exist."""
        raw = self.read_state_bytes()
        if raw is None:
            from .state import fresh_state

            return fresh_state(self.hostname, profile=self.profile)
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise SimulatorError(f"winsim: state file {self.state_path} is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or "winsim_format" not in doc:
            raise SimulatorError(f"winsim: {self.state_path} is not a winsim state document (no winsim_format)")
        from .state import migrate

        messages = migrate(doc, self.state_path.parent)
        if messages:
            # Never leave the old (clear) document on disk once read.
            with self.locked():
                if self.read_state_bytes() == raw:  # not replaced meanwhile by another process
                    self.save_state(doc)
            for message in messages:
                sys.stderr.write(f"winsim: {self.state_path}: {message}\n")
        return doc

    def save_state(self, state: dict[str, t.Any]) -> bool:
        """Write ``state`` canonically if its bytes differ from the file's.
        Returns whether the file was written."""
        data = canonical_json(state)
        if self.read_state_bytes() == data:
            return False
        _atomic_write(self.state_path, data)
        return True

    # -- faults ------------------------------------------------------------------
    def load_faults(self) -> list[dict[str, t.Any]]:
        try:
            raw = self.faults_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            faults = json.loads(raw) if raw.strip() else []
        except ValueError as exc:
            raise SimulatorError(f"winsim: faults file {self.faults_path} is not valid JSON: {exc}") from exc
        if not isinstance(faults, list) or not all(isinstance(f, dict) and "kind" in f for f in faults):
            raise SimulatorError(f"winsim: faults file {self.faults_path} must hold a JSON list of objects "
                                 "with a 'kind' key")
        return faults

    def save_faults(self, faults: list[dict[str, t.Any]]) -> None:
        _atomic_write(self.faults_path, canonical_json(faults))

    # -- stats ---------------------------------------------------------------------
    def load_stats(self) -> dict[str, t.Any]:
        try:
            doc = json.loads(self.stats_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = None
        except ValueError as exc:
            raise SimulatorError(f"winsim: stats file {self.stats_path} is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("winsim_stats") != STATS_FORMAT:
            doc = {"winsim_stats": STATS_FORMAT, "host": self.hostname, "total": _empty_counters(), "runs": []}
        return doc

    def count(self, kind: str, *, module: str | None = None, nbytes: int = 0) -> int:
        """Count one round trip of ``kind`` (``module``, ``put_file``,
        ``fetch_file`` or an internal protocol such as ``mkdtemp``) in the
        total and in the current run.  Returns the host's total number of
        round trips after counting this one."""
        with self.locked():
            doc = self.load_stats()
            rid = run_id()
            now = _now()
            runs = doc["runs"]
            run = next((r for r in runs if r.get("run") == rid), None)
            if run is None:
                run = {"run": rid, "started": now, **_empty_counters()}
                runs.append(run)
                del runs[:-MAX_RUNS_KEPT]
            run["last"] = now
            for counters in (doc["total"], run):
                _bump(counters, kind, module, nbytes)
            _atomic_write(self.stats_path, canonical_json(doc))
            return int(doc["total"]["round_trips"])

    def add_cpu(self, seconds: float) -> None:
        """Add ``seconds`` of controller CPU spent inside winsim (decoding,
        validation, the model, the store) to the total and the current run
        (``cpu_seconds``).  Only called when CPU accounting is on
        (``WINSIM_CPU_ACCOUNTING=1``, set by ``make bench``): it costs one
        more stats write per round trip."""
        with self.locked():
            doc = self.load_stats()
            rid = run_id()
            run = next((r for r in doc["runs"] if r.get("run") == rid), None)
            for counters in (doc["total"], run):
                if counters is not None:
                    counters["cpu_seconds"] = round(counters.get("cpu_seconds", 0.0) + seconds, 6)
            _atomic_write(self.stats_path, canonical_json(doc))

    # -- trace ------------------------------------------------------------------------
    def trace(self, record: dict[str, t.Any]) -> None:
        """Append one (already masked) record to the trace."""
        line = json.dumps({"time": _now(), "run": run_id(), **record}, sort_keys=True, ensure_ascii=False)
        with self.locked():
            self.trace_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.trace_path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def _empty_counters() -> dict[str, t.Any]:
    return {"round_trips": 0, "modules": {}, "internal": {}, "put_file": 0, "fetch_file": 0,
            "bytes_put": 0, "bytes_fetched": 0}


def _bump(counters: dict[str, t.Any], kind: str, module: str | None, nbytes: int) -> None:
    counters["round_trips"] = counters.get("round_trips", 0) + 1
    if kind == "module":
        mods = counters.setdefault("modules", {})
        mods[module or "?"] = mods.get(module or "?", 0) + 1
    elif kind == "put_file":
        counters["put_file"] = counters.get("put_file", 0) + 1
        counters["bytes_put"] = counters.get("bytes_put", 0) + nbytes
    elif kind == "fetch_file":
        counters["fetch_file"] = counters.get("fetch_file", 0) + 1
        counters["bytes_fetched"] = counters.get("bytes_fetched", 0) + nbytes
    else:
        internal = counters.setdefault("internal", {})
        internal[kind] = internal.get(kind, 0) + 1


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
