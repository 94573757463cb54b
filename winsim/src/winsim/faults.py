"""Fault injection: what a simulated host does wrong on purpose.

Faults live in the host's ``<stem>.faults.json`` sidecar (see ``store.py``),
never in the state document, so injecting or clearing one never changes what
``--check`` compares.  The sidecar is a JSON list of objects; every object has
``kind`` and, for the kinds that concern one object, ``target``:

=======================  ============================  =======================================================
kind                     target                        effect (who honours it)
=======================  ============================  =======================================================
``service_start``        service name                  starting the service fails (service models)
``app_pool_start``       IIS application pool name     starting the pool fails (IIS models)
``site_start``           IIS site name                 starting the site fails (IIS models)
``app_health``           IIS site name                 ``/health`` answers ``status`` (default 500)
                                                       instead of 200 (HTTP model)
``unhealthy_release``    release version (``1.5.0``)   ``/health`` of the ASP.NET Core app answers ``503``
                                                       ``Unhealthy`` while it serves that version (HTTP model)
``app_start_failure``    release version               that version fails to start: ANCM ``500.30``
                                                       (in-process) / ``502.5`` (out-of-process) (HTTP model)
``drop_connection``      (none)                        the connection drops on the ``at``-th round trip
                                                       counted from the injection (1 = the next one), or
                                                       on every round trip after the ``after``-th;
                                                       ``base`` records the host's round-trip total when
                                                       the fault was added (runner)
``disk_full``            drive, e.g. ``C:``            every write to the drive fails with a full disk
                                                       (file-system helpers / models)
=======================  ============================  =======================================================

The start faults take an optional ``message``: the error text the failed
start reports instead of the real default (``service_start``, ``app_pool_start``,
``site_start``).

Targets are matched case-insensitively (``Faults.find`` in ``models/_base.py``),
as Windows names are.  Every edit of the sidecar holds the host's lock.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from .models._base import SimulatorError

if t.TYPE_CHECKING:
    from .store import HostStore

__all__ = ["KINDS", "FaultKind", "add_fault", "clear_faults", "list_faults", "make_fault", "remove_fault"]


@dataclasses.dataclass(frozen=True)
class FaultKind:
    name: str
    target: str | None
    """What ``target`` names, or ``None`` for kinds without a target."""
    help: str
    needs_at: bool = False


KINDS: dict[str, FaultKind] = {k.name: k for k in (
    FaultKind("service_start", "service name", "starting the service fails"),
    FaultKind("app_pool_start", "application pool name", "starting the IIS application pool fails"),
    FaultKind("site_start", "site name", "starting the IIS site fails"),
    FaultKind("app_health", "site name", "the site's /health answers HTTP STATUS (--status, default 500)"),
    FaultKind("unhealthy_release", "release version", "the ASP.NET Core app's /health answers 503 Unhealthy "
              "while it serves that version (other versions stay healthy)"),
    FaultKind("app_start_failure", "release version", "that version of the ASP.NET Core app fails to start "
              "(ANCM 500.30 in-process, 502.5 out-of-process)"),
    FaultKind("drop_connection", None, "the connection drops on the Nth round trip from now (--at N), or on "
              "every round trip after the Nth (--after N)", needs_at=True),
    FaultKind("disk_full", "drive (C:, D: ...)", "writes to the drive fail: the disk is full"),
)}

_DRIVE = re.compile(r"^([A-Za-z])(:\\?)?$")


def _normalise_drive(value: str) -> str:
    m = _DRIVE.match(value.strip())
    if not m:
        raise SimulatorError(f"winsim: disk_full needs a drive such as C: (got {value!r})")
    return m.group(1).upper() + ":"


_MESSAGE_KINDS = ("service_start", "app_pool_start", "site_start")


def make_fault(kind: str, target: str | None = None, *, at: int | None = None, after: int | None = None,
               status: int | None = None, message: str | None = None, base: int = 0) -> dict[str, t.Any]:
    """Build and validate one fault record."""
    spec = KINDS.get(kind)
    if spec is None:
        raise SimulatorError(f"winsim: unknown fault kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    fault: dict[str, t.Any] = {"kind": kind}
    if spec.target is None:
        if target:
            raise SimulatorError(f"winsim: fault {kind} takes no target (got {target!r})")
    else:
        if not target or not str(target).strip():
            raise SimulatorError(f"winsim: fault {kind} needs a target ({spec.target})")
        fault["target"] = _normalise_drive(target) if kind == "disk_full" else str(target).strip()
    if spec.needs_at:
        if (at is None) == (after is None):
            raise SimulatorError(f"winsim: fault {kind} needs exactly one of --at N (the Nth round trip from now) "
                                 "or --after N (every round trip after the Nth)")
        if at is not None:
            if at < 1:
                raise SimulatorError(f"winsim: --at must be 1 or more (got {at})")
            fault["at"] = int(at)
        if after is not None:
            if after < 0:
                raise SimulatorError(f"winsim: --after must be 0 or more (got {after})")
            fault["after"] = int(after)
        fault["base"] = int(base)
    elif at is not None or after is not None:
        raise SimulatorError(f"winsim: fault {kind} takes no --at/--after")
    if message is not None:
        if kind not in _MESSAGE_KINDS:
            raise SimulatorError(f"winsim: fault {kind} takes no --message")
        fault["message"] = str(message)
    if kind == "app_health":
        code = 500 if status is None else int(status)
        if not 100 <= code <= 599:
            raise SimulatorError(f"winsim: app_health status must be an HTTP status code (got {code})")
        fault["status"] = code
    elif status is not None:
        raise SimulatorError(f"winsim: fault {kind} takes no --status")
    return fault


def _same(a: dict[str, t.Any], b: dict[str, t.Any]) -> bool:
    return a.get("kind") == b.get("kind") and str(a.get("target", "")).lower() == str(b.get("target", "")).lower()


def add_fault(store: HostStore, kind: str, target: str | None = None, *, at: int | None = None,
              after: int | None = None, status: int | None = None, message: str | None = None) -> dict[str, t.Any]:
    """Inject a fault.  A fault of the same kind and target replaces the
    previous one, so injecting twice does not stack."""
    with store.locked():
        spec = KINDS.get(kind)
        base = 0
        if spec is not None and spec.needs_at:
            base = int(store.load_stats().get("total", {}).get("round_trips", 0))
        fault = make_fault(kind, target, at=at, after=after, status=status, message=message, base=base)
        faults = [f for f in store.load_faults() if not _same(f, fault)]
        faults.append(fault)
        store.save_faults(faults)
        return fault


def list_faults(store: HostStore) -> list[dict[str, t.Any]]:
    with store.locked():
        return store.load_faults()


def remove_fault(store: HostStore, kind: str, target: str | None = None) -> int:
    """Remove the faults of ``kind`` (and ``target`` when given); returns how
    many were removed."""
    with store.locked():
        faults = store.load_faults()
        keep = [f for f in faults
                if not (f.get("kind") == kind
                        and (target is None or str(f.get("target", "")).lower() == target.lower()))]
        store.save_faults(keep)
        return len(faults) - len(keep)


def clear_faults(store: HostStore) -> int:
    """Remove every fault; returns how many there were."""
    with store.locked():
        n = len(store.load_faults())
        if store.faults_path.exists():
            store.faults_path.unlink()
        return n
