"""Running one decoded request against a simulated host.

For a module run (:meth:`Runner.run_module`), in this order, under the
host's lock:

1. count the round trip (stats sidecar) and apply transport faults
   (``drop_connection``);
2. find the model (an unknown module fails loudly: ``failed: true`` naming
   the module);
3. load the documented spec and validate the arguments like the real module
   (``Ansible.Basic`` or ``Legacy``); a module that does not support check
   mode is ``skipped`` in check mode, as ``Ansible.Basic`` does;
4. run the model on a working copy of the state; in check mode a model that
   changed the state is a winsim bug and fails loudly;
5. shape the result as the real module would (``invocation`` where
   Ansible.Basic adds it, warnings, deprecations, ``failed``/``msg``);
6. save the state (never in check mode; only when its bytes change), trace
   the round trip with secrets masked.

The return value is what the PowerShell exec wrapper would give:
``(rc, stdout, stderr)`` with the result as one JSON object on stdout.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import json
import os
import typing as t

from . import decoder as d
from .clock import lab_now_for_state_file
from .masking import NO_LOG_MASK, SecretSet, mask, remove_no_log_values
from .models import get_model
from .models._base import Faults, ModuleContext, ModuleFailed, SimulatorError
from .runtime import HostRuntime
from .spec import CheckModeSkip, module_spec, validate
from .state import DiskFull, drive_of, expand_env
from .store import HostStore, canonical_json

__all__ = ["ConnectionDropped", "Outcome", "Runner", "execute_module", "no_model_message", "run_model"]


class ConnectionDropped(Exception):
    """A ``drop_connection`` fault: the connection plugin turns this into
    ``AnsibleConnectionFailure`` (the host is unreachable for that task)."""


def _result_bytes(result: dict[str, t.Any]) -> bytes:
    return json.dumps(result, ensure_ascii=False, default=str).encode("utf-8")


def _module_rc(result: dict[str, t.Any]) -> int:
    return 1 if result.get("failed") else 0


def run_model(
    *,
    fqcn: str,
    params: dict[str, t.Any],
    state: dict[str, t.Any],
    check_mode: bool = False,
    diff_mode: bool = False,
    hostname: str = "winsim",
    faults: list[dict[str, t.Any]] | None = None,
    runtime: t.Any = None,
    now: _dt.datetime | None = None,
) -> tuple[dict[str, t.Any], dict[str, t.Any], list[str], list[dict[str, t.Any]]]:
    """Run the model of ``fqcn`` on a working copy of ``state`` with already
    validated ``params``.

    Returns ``(result, new_state, warnings, deprecations)``.  Raises
    :class:`SimulatorError` if there is no model or if the model changed the
    state in check mode.  ``ModuleFailed`` becomes ``failed: true``."""
    spec = get_model(fqcn)
    if spec is None:
        raise SimulatorError(no_model_message(fqcn))
    working = copy.deepcopy(state)
    full_drives = _apply_disk_faults(working, faults or [])
    ctx = ModuleContext(fqcn=fqcn, params=params, state=working, check_mode=check_mode, diff_mode=diff_mode,
                        hostname=hostname, faults=Faults(faults), runtime=runtime, now=now)
    try:
        returned = spec.func(ctx)
        result = dict(returned if isinstance(returned, dict) else ctx.result)
    except ModuleFailed as exc:
        result = dict(ctx.result)
        result.update(exc.extra)
        result["failed"] = True
        result["msg"] = exc.msg
    except DiskFull as exc:
        result = dict(ctx.result)
        result["failed"] = True
        result["msg"] = f"There is not enough space on the disk. : '{exc}'"
    _restore_disk_faults(working, state, full_drives)
    result.setdefault("changed", False)
    if result.get("failed"):
        working = _failed_state(spec, ctx, working, state, full_drives)
    if check_mode and canonical_json(working) != canonical_json(state):
        raise SimulatorError(f"winsim: the model of {fqcn} changed the host state in check mode (a winsim bug)")
    if ctx.unreported_change:
        result["_winsim_unreported_change"] = True
    return result, working, list(ctx.warnings), list(ctx.deprecations)


def _failed_state(spec: t.Any, ctx: ModuleContext, working: dict[str, t.Any], state: dict[str, t.Any],
                  full_drives: dict[str, int]) -> dict[str, t.Any]:
    """The host state a failed run leaves.  A failed run is a transaction
    (Windows leaves nothing of a failed ``Install-WindowsFeature``, registry
    or firewall edit): the state is unchanged.  Only a model registered with
    ``partial_on_failure=True`` (the real module is not atomic: several files
    copied one by one) keeps its edits, up to its last ``commit_partial()``
    checkpoint when it took one."""
    if not spec.partial_on_failure:
        return copy.deepcopy(state)
    if ctx.partial is not None:
        kept = ctx.partial
        _restore_disk_faults(kept, state, full_drives)
        return kept
    return working


def no_model_message(fqcn: str) -> str:
    return (f"winsim has no model for module {fqcn}: the simulated host cannot run it. Add a model in "
            "winsim/src/winsim/models/ (the winsim package) or run this task against a real Windows host.")


def _apply_disk_faults(state: dict[str, t.Any], faults: list[dict[str, t.Any]]) -> dict[str, int]:
    """``disk_full`` faults: the drive reports no free space while the model
    runs.  Returns the real free space of each affected drive."""
    saved: dict[str, int] = {}
    for fault in faults:
        if fault.get("kind") != "disk_full":
            continue
        drive = drive_of(str(fault.get("target") or "C:") + ("\\" if len(str(fault.get("target", ""))) == 2 else ""))
        disk = state.get("disks", {}).get(drive)
        if disk is not None and drive not in saved:
            saved[drive] = disk["free"]
            disk["free"] = 0
    return saved


def _restore_disk_faults(working: dict[str, t.Any], original: dict[str, t.Any], saved: dict[str, int]) -> None:
    for drive, real_free in saved.items():
        disk = working["disks"][drive]
        # Only deletions can have changed the free space while it was 0.
        disk["free"] = real_free + disk["free"]
        del original  # the original is never modified


@dataclasses.dataclass
class Outcome:
    """What one module run did: its result, the host state after it, and
    whether that state must be saved."""

    result: dict[str, t.Any]
    state: dict[str, t.Any]
    state_changed: bool
    check_mode: bool
    secrets: SecretSet


def execute_module(
    *,
    fqcn: str,
    args: dict[str, t.Any],
    source: str,
    module_utils: dict[str, str] | None,
    state: dict[str, t.Any],
    module_name: str | None = None,
    environment: dict[str, str] | None = None,
    hostname: str = "winsim",
    faults: list[dict[str, t.Any]] | None = None,
    runtime: t.Any = None,
    now: _dt.datetime | None = None,
    secrets: SecretSet | None = None,
) -> Outcome:
    """Validate ``args`` (``complex_args``) like the real module, run the
    model and shape the result.  ``state`` is not modified: the outcome
    carries the new state.  Shared by the connection plugin's runner and the
    unit-test helper, so that tests exercise exactly what playbooks do."""
    secrets = secrets if secrets is not None else SecretSet()
    model = get_model(fqcn)
    if model is None:
        return Outcome({"changed": False, "failed": True, "msg": no_model_message(fqcn)}, state, False,
                       bool(args.get("_ansible_check_mode")), secrets)
    env_overlay = dict(environment or {})

    def expand(value: str) -> str:
        if env_overlay:
            value = expand_env(value, {"env": {**state.get("env", {}), **env_overlay}})
        return expand_env(value, state)

    options = {k: v for k, v in args.items() if not k.startswith("_ansible_")}
    spec = module_spec(fqcn, source, module_utils)
    try:
        validated = validate(spec, args, module_name or fqcn, expand, legacy_check_mode=model.legacy_check_mode)
    except CheckModeSkip as skip:
        result: dict[str, t.Any] = {"changed": False, "skipped": True, "msg": skip.msg}
        if spec.style == "basic" and args.get("_ansible_inject_invocation", True):
            result["invocation"] = {"module_args": mask(options, secrets)}
        return Outcome(result, state, False, True, secrets)
    except ModuleFailed as exc:
        for name, opt in spec.options.items():
            if opt["no_log"]:
                secrets.add(args.get(name))
        result = {"changed": False, "failed": True, "msg": remove_no_log_values(exc.msg, secrets)}
        return Outcome(result, state, False, bool(args.get("_ansible_check_mode")), secrets)
    for value in validated.secrets:
        secrets.add(value)
    check_mode = bool(validated.flags.get("check_mode"))
    diff_mode = bool(validated.flags.get("diff"))
    result, new_state, warnings, deprecations = run_model(
        fqcn=fqcn, params=validated.params, state=state, check_mode=check_mode, diff_mode=diff_mode,
        hostname=hostname, faults=faults, runtime=runtime, now=now)
    if spec.style == "basic":
        inject = validated.flags.get("inject_invocation")
        if inject is None or inject:
            result.setdefault("invocation", {"module_args": remove_no_log_values(validated.module_args, secrets)})
    all_warnings = list(result.pop("warnings", []) or []) + warnings
    if all_warnings:
        result["warnings"] = all_warnings
    all_deps = list(result.pop("deprecations", []) or []) + validated.deprecations + deprecations
    if all_deps:
        result["deprecations"] = all_deps
    if "diff" in result and not diff_mode:
        del result["diff"]
    unreported = bool(result.pop("_winsim_unreported_change", False))
    changed_state = not check_mode and canonical_json(new_state) != canonical_json(state)
    if changed_state and not result.get("changed") and not result.get("failed") and not unreported:
        raise SimulatorError(f"winsim: the model of {fqcn} changed the host state but reported changed=false "
                             "(a winsim bug)")
    return Outcome(result, new_state, changed_state, check_mode, secrets)


class Runner:
    """Runs requests for one host."""

    def __init__(self, store: HostStore, *, runtime: HostRuntime | None = None) -> None:
        self.store = store
        self.hostname = store.hostname
        self.runtime = runtime or HostRuntime(store)

    # -- accounting and transport faults ------------------------------------------------
    def round_trip(self, kind: str, module: str | None = None, nbytes: int = 0) -> None:
        """Count one round trip, then fail it if a ``drop_connection`` fault
        says so.  ``at: N`` drops the Nth round trip, ``after: N`` every
        round trip after the Nth (counted from the fault's ``base``, 0 by
        default, in the host's lifetime total)."""
        with self.store.locked():
            total = self.store.count(kind, module=module, nbytes=nbytes)
            for fault in self.store.load_faults():
                if fault.get("kind") != "drop_connection":
                    continue
                n = total - int(fault.get("base", 0) or 0)
                at, after = fault.get("at"), fault.get("after")
                if (at is not None and n == int(at)) or (after is not None and n > int(after)):
                    self.store.trace({"kind": kind, "module": module, "round_trip": total, "dropped": True})
                    raise ConnectionDropped(
                        f"winsim: connection to {self.hostname} dropped on round trip {total} (injected fault)")

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, request: d.Request) -> tuple[int, bytes, bytes]:
        from . import transport

        if isinstance(request, d.ModuleRequest):
            return self.run_module(request)
        return transport.handle_internal(self, request)

    # -- modules --------------------------------------------------------------------------------
    def run_module(self, request: d.ModuleRequest) -> tuple[int, bytes, bytes]:
        secrets = SecretSet()
        if request.become is not None and request.become.password:
            secrets.add(request.become.password)
        with self.store.locked():
            self.round_trip("module", module=request.fqcn)
            result, trace = self._run_locked(request, secrets)
            if request.no_log:
                # no_log: true on the task: every argument is a secret.
                trace_args = {k: (NO_LOG_MASK if v not in (None, "") else v) for k, v in request.options.items()}
            else:
                trace_args = mask(request.options, secrets)
            self.store.trace({
                "kind": "module",
                "module": request.fqcn,
                "generation": request.generation,
                "args": trace_args,
                "check_mode": request.check_mode,
                "diff": request.diff_mode,
                "become_user": request.become.user if request.become else None,
                "async": bool(request.async_),
                "changed": bool(result.get("changed")),
                "failed": bool(result.get("failed")),
                "skipped": bool(result.get("skipped")),
                "msg": (NO_LOG_MASK if request.no_log else mask(result.get("msg"), secrets))
                if result.get("failed") or result.get("skipped") else None,
                **trace,
            })
        if request.async_ is not None:
            return self._async_started(request, result)
        return _module_rc(result), _result_bytes(result), b""

    def _run_locked(self, request: d.ModuleRequest, secrets: SecretSet) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
        state = self.store.load_state()
        outcome = execute_module(
            fqcn=request.fqcn, args=request.args, source=request.source, module_utils=request.module_utils,
            state=state, module_name=request.module_name, environment=request.environment,
            hostname=self.hostname, faults=self.store.load_faults(), runtime=self.runtime, secrets=secrets,
            now=lab_now_for_state_file(self.store.state_path))    # the lab clock (clock.py); None: real time
        saved = False
        if outcome.state_changed:
            saved = self.store.save_state(outcome.state)
        return outcome.result, {"state_saved": saved}

    def _async_started(self, request: d.ModuleRequest, result: dict[str, t.Any]) -> tuple[int, bytes, bytes]:
        info = request.async_
        assert info is not None
        pid = os.getpid()
        local_jid = f"{info.jid}.{pid}"
        results_file = f"{expand_env(info.async_dir, self.store.load_state())}\\{local_jid}"
        final = {"started": True, "finished": True, "results_file": results_file, "ansible_job_id": local_jid,
                 "_ansible_suppress_tmpdir_delete": True, "ansible_async_watchdog_pid": pid, **result}
        self.runtime.write_async(info.async_dir, local_jid, final)
        started = {"started": True, "finished": False, "results_file": results_file, "ansible_job_id": local_jid,
                   "_ansible_suppress_tmpdir_delete": True, "ansible_async_watchdog_pid": pid}
        return 0, _result_bytes(started), b""
