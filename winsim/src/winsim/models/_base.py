"""The contract between winsim's runner and its module models.

A *model* is a Python function that does, against a host's JSON state
document, what one upstream Windows module does against a real Windows
Server 2022 host, and returns the result dictionary that module returns.

    from ._base import model

    @model("ansible.windows.win_feature", upstream="ansible.windows 3.8.0")
    def win_feature(ctx):
        ...
        return ctx.exit(feature_result=[...])

The runner (``winsim/runner.py``) has already, before the model is called:

* decoded the payload and found the module's FQCN and its real source;
* validated the arguments against the module's documented option spec, the
  way ``Ansible.Basic`` does (unknown option, wrong type, bad choice, missing
  required option all fail exactly like the real module), applied defaults
  and resolved aliases, so ``ctx.params`` holds every documented option;
* answered ``skipped`` in check mode when the module's source does not
  declare ``supports_check_mode = $true``;
* handed the model a deep copy of the state in check mode, and will fail the
  task loudly if a model changes the state in check mode (a model bug).

After the model returns, the runner saves the state (never in check mode),
masks ``no_log`` values, adds ``invocation`` where the real module would, and
counts the round trip.

Rules for models (they are what makes winsim worth anything):

* Model the installed upstream version's behaviour from its real source, and
  name that version in ``upstream=``.
* ``changed`` is true only when something really changed (or would change in
  check mode).  Return the keys the module documents under ``RETURN``.
* In check mode compute and report the change, but do not apply it.
* Set ``diff`` only when ``ctx.diff_mode`` is true and the module supports diff.
* Fail with ``ctx.fail(msg)`` using the real module's message wording.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import typing as t

__all__ = [
    "MODELS",
    "ModelSpec",
    "ModuleContext",
    "ModuleFailed",
    "SimulatorError",
    "model",
]


class SimulatorError(Exception):
    """winsim itself cannot honour a request (unknown module, undecodable
    payload, unknown internal protocol).  Always fails loudly."""


class ModuleFailed(Exception):
    """Raised by :meth:`ModuleContext.fail`; the runner turns it into the
    module's ``failed: true`` result."""

    def __init__(self, msg: str, extra: dict[str, t.Any] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.extra = extra or {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    fqcn: str
    func: t.Callable[[ModuleContext], dict[str, t.Any]]
    upstream: str
    """Upstream collection and version the model was written from, e.g.
    ``"ansible.windows 3.8.0"``."""
    legacy_check_mode: bool = True
    """For modules built on ``Ansible.ModuleUtils.Legacy`` (no
    ``supports_check_mode`` declaration), whether the real module handles
    check mode itself (true for all modules winsim models so far)."""
    partial_on_failure: bool = False
    """Whether a failed run of the real module leaves the edits it made
    before failing (e.g. ``win_copy`` of several files, ``win_robocopy``).
    False (the default): a failed run is a transaction, the runner saves
    nothing, as Windows leaves nothing (``Install-WindowsFeature`` rolls
    back).  True: the runner keeps what the model did up to the failure; a
    model may narrow that to a checkpoint with
    :meth:`ModuleContext.commit_partial`."""


MODELS: dict[str, ModelSpec] = {}


def model(fqcn: str, *, upstream: str, legacy_check_mode: bool = True, partial_on_failure: bool = False
          ) -> t.Callable[[t.Callable[[ModuleContext], dict[str, t.Any]]],
                          t.Callable[[ModuleContext], dict[str, t.Any]]]:
    """Register a module model under the module's FQCN."""

    def deco(func: t.Callable[[ModuleContext], dict[str, t.Any]]
             ) -> t.Callable[[ModuleContext], dict[str, t.Any]]:
        if fqcn in MODELS:
            raise SimulatorError(f"winsim: two models registered for {fqcn}")
        MODELS[fqcn] = ModelSpec(fqcn=fqcn, func=func, upstream=upstream,
                                 legacy_check_mode=legacy_check_mode,
                                 partial_on_failure=partial_on_failure)
        return func

    return deco


class Faults:
    """Read access to the faults injected for one host (see ``faults.py``).

    A fault is a dict such as ``{"kind": "service_start", "target":
    "MCMS", ...}``.  Models ask for the faults that concern them; the
    runner handles transport faults (dropped connections) itself.
    """

    def __init__(self, faults: list[dict[str, t.Any]] | None = None) -> None:
        self._faults = list(faults or [])

    def find(self, kind: str, target: str | None = None) -> dict[str, t.Any] | None:
        for fault in self._faults:
            if fault.get("kind") != kind:
                continue
            if target is None or str(fault.get("target", "")).lower() == target.lower():
                return fault
        return None

    def __iter__(self) -> t.Iterator[dict[str, t.Any]]:
        return iter(self._faults)


class ModuleContext:
    """Everything a model may use.  Models get no other handle on the host."""

    def __init__(
        self,
        *,
        fqcn: str,
        params: dict[str, t.Any],
        state: dict[str, t.Any],
        check_mode: bool = False,
        diff_mode: bool = False,
        hostname: str = "winsim",
        faults: Faults | None = None,
        runtime: t.Any = None,
        now: _dt.datetime | None = None,
    ) -> None:
        self.fqcn = fqcn
        self.name = fqcn.rsplit(".", 1)[-1]
        self.params = params
        self.state = state
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.hostname = hostname
        self.faults = faults or Faults()
        self.runtime = runtime
        """Host runtime outside the state document: temp files received by
        ``put_file`` (``runtime.read_tmp(path)``), async jobs, and the other
        hosts of the lab for HTTP calls (``runtime.lab``).  ``None`` in unit
        tests that do not need it."""
        self._now = now
        self.result: dict[str, t.Any] = {"changed": False}
        self.warnings: list[str] = []
        self.deprecations: list[dict[str, str]] = []
        self.unreported_change = False
        """Set by a model whose real module reports ``changed: false`` for a
        change it did make (``win_robocopy`` rc 2: extra files purged), so
        that the runner does not take it for a model bug."""
        self.partial: dict[str, t.Any] | None = None
        """The checkpoint kept on failure (``commit_partial``), if any."""

    # -- failure transaction ------------------------------------------------
    def commit_partial(self) -> None:
        """Checkpoint: what the model has done so far stays on the host even
        if the run fails later.  Only for models registered with
        ``partial_on_failure=True`` (the real module is not atomic); without
        a checkpoint such a model keeps everything up to the failure."""
        self.partial = copy.deepcopy(self.state)

    # -- time ------------------------------------------------------------
    def now(self) -> _dt.datetime:
        """The host's clock (UTC, timezone aware).  The state may pin it
        (``state["clock"]["now"]``) so that certificate expiry and backup
        schedules are reproducible in tests."""
        if self._now is not None:
            return self._now
        pinned = self.state.get("clock", {}).get("now")
        if pinned:
            return _dt.datetime.fromisoformat(pinned.replace("Z", "+00:00"))
        return _dt.datetime.now(_dt.UTC)

    # -- results -----------------------------------------------------------
    def fail(self, msg: str, **extra: t.Any) -> t.NoReturn:
        raise ModuleFailed(msg, extra)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def deprecate(self, msg: str, version: str = "", collection_name: str = "") -> None:
        self.deprecations.append({"msg": msg, "version": version,
                                  "collection_name": collection_name})

    def changed(self, value: bool = True) -> None:
        if value:
            self.result["changed"] = True

    def exit(self, **values: t.Any) -> dict[str, t.Any]:
        """Merge ``values`` into the result and return it."""
        self.result.update(values)
        return self.result

    def set_diff(self, before: t.Any, after: t.Any) -> None:
        """Set ``diff`` the way Ansible.Basic modules do, only in diff mode."""
        if self.diff_mode:
            self.result["diff"] = {"before": copy.deepcopy(before),
                                   "after": copy.deepcopy(after)}
