"""Drift injection: the edits an operator makes by hand on a Windows host.

Each *named drift* is a function registered with :func:`drift` in the model
file whose state section it edits (``models/iis_sites.py``,
``models/registry.py``, ``models/sql_agent.py`` ...; :func:`all_drifts`
imports them all and collects them) that edits a
host's state document the way the operator's action would change the real
host (``Stop-Website``, an edited binding in IIS Manager, a deleted file, a
``reg add``, a removed firewall rule, an expiring certificate, a deleted SQL
Agent job ...).  Drifts work through the section schemas the model files
document, so what a drift writes is exactly what the models read.

``winsim drift HOST <name> ...`` (``cli.py``) builds one sub-command per
registered drift from :func:`all_drifts`; the reference in ``winsim/docs/winsim.md``
lists them with their arguments.  A drift that does not find its target
fails with :class:`DriftError` naming what exists, and never creates the
target silently (``winsim set`` is the generic escape hatch).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import typing as t

from . import state as st
from .spec import ensure_plugin_loader

__all__ = ["DRIFTS", "Arg", "DriftError", "DriftSpec", "all_drifts", "apply_drift", "drift", "find_named", "host_now",
           "normalize_thumbprint"]


class DriftError(Exception):
    """A drift cannot be applied to this host (target missing, bad value)."""


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument of a drift, as ``argparse`` takes it."""

    name: str
    help: str
    type: t.Callable[[str], t.Any] = str
    required: bool = True
    default: t.Any = None
    action: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclasses.dataclass(frozen=True)
class DriftSpec:
    name: str
    help: str
    args: tuple[Arg, ...]
    func: t.Callable[..., str]
    section: str


DRIFTS: dict[str, DriftSpec] = {}


def drift(name: str, *, help: str, section: str, args: t.Sequence[Arg] = ()
          ) -> t.Callable[[t.Callable[..., str]], t.Callable[..., str]]:
    """Register a named drift.  The function takes the state, the host's
    current time and the arguments by name, edits the state and returns a
    one-line description of what it changed."""

    def deco(func: t.Callable[..., str]) -> t.Callable[..., str]:
        if name in DRIFTS:
            raise ValueError(f"winsim: drift {name!r} registered twice")
        DRIFTS[name] = DriftSpec(name=name, help=help, args=tuple(args), func=func, section=section)
        return func

    return deco


def all_drifts() -> dict[str, DriftSpec]:
    """Every named drift: the ones below and the ones model files register
    next to the models whose state they edit (``models/iis_sites.py``,
    ``models/iis_pools.py`` ...).  Those register when their file is
    imported, so this imports every model file first; :data:`DRIFTS` alone
    holds only what has been imported so far."""
    from .models import load_all

    load_all()
    return DRIFTS


def host_now(state: dict[str, t.Any]) -> _dt.datetime:
    """The host clock: ``state["clock"]["now"]`` when pinned, else now (UTC)."""
    pinned = (state.get("clock") or {}).get("now")
    if pinned:
        return st.parse_iso(pinned)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def apply_drift(state: dict[str, t.Any], drift_name: str, /, **kwargs: t.Any) -> str:
    """Apply the drift named ``drift_name`` to ``state`` (in place)."""
    drifts = all_drifts()
    spec = drifts.get(drift_name)
    if spec is None:
        raise DriftError(f"unknown drift {drift_name!r}; known drifts: {', '.join(sorted(drifts))}")
    return spec.func(state, host_now(state), **kwargs)


# -- helpers -----------------------------------------------------------------

def _section(state: dict[str, t.Any], name: str) -> t.Any:
    if name not in state:
        raise DriftError(f"the host state has no {name!r} section")
    return state[name]


def section_of(state: dict[str, t.Any], name: str) -> t.Any:
    """``state[name]``; a :class:`DriftError` when the host has no such section."""
    return _section(state, name)


def _find_named(items: dict[str, t.Any], name: str, what: str) -> tuple[str, t.Any]:
    """Case-insensitive lookup in a dict keyed by Windows object names."""
    for k, v in items.items():
        if k.lower() == name.lower():
            return k, v
    known = ", ".join(sorted(items)) or "none"
    raise DriftError(f"no {what} named {name!r} (existing: {known})")


def module_source(fqcn: str) -> tuple[str, dict[str, str]]:
    """The installed upstream module's PowerShell source and the collection
    module utils it requires (microsoft.ad's object modules declare their
    check-mode support in one)."""
    from .models._base import SimulatorError
    from .spec import load_module_source

    ensure_plugin_loader()
    try:
        return load_module_source(fqcn)
    except SimulatorError as exc:
        raise DriftError(f"the upstream module {fqcn} is not installed") from exc


def run_upstream(state: dict[str, t.Any], now: _dt.datetime, fqcn: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
    """Do what an operator does by hand by running the module model itself:
    the arguments are validated against the upstream spec and the model
    edits ``state`` (in place) exactly as a playbook task would.  A failure
    of the module becomes a :class:`DriftError`."""
    from .models._base import SimulatorError
    from .runner import run_model
    from .spec import module_spec, validate

    try:
        spec = module_spec(fqcn, *module_source(fqcn))
        validated = validate(spec, dict(args), fqcn.rsplit(".", 1)[-1])
        result, new_state, _warnings, _deprecations = run_model(
            fqcn=fqcn, params=validated.params, state=state, hostname=str(state.get("host", {}).get("hostname", "")),
            now=now)
    except SimulatorError as exc:
        raise DriftError(str(exc).removeprefix("winsim: ")) from exc
    except Exception as exc:  # ModuleFailed from argument validation
        msg = getattr(exc, "msg", None)
        if msg is None:
            raise
        raise DriftError(f"{fqcn}: {msg}") from exc
    if result.get("failed"):
        raise DriftError(f"{fqcn}: {result.get('msg')}")
    state.clear()
    state.update(new_state)
    return result


def _thumbprint(value: str) -> str:
    tp = re.sub(r"[\s:]", "", value).upper()
    if not re.fullmatch(r"[0-9A-F]{40}", tp):
        raise DriftError(f"a certificate thumbprint is 40 hexadecimal characters (got {value!r})")
    return tp


find_named = _find_named
normalize_thumbprint = _thumbprint
