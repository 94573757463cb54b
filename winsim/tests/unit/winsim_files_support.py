"""Test support for the files-models tests: run a model the way the runner
does, with the arguments validated against the upstream module's documented
spec (defaults and aliases applied), in check and diff mode as asked.

Used until (and alongside) the winsim-core ``conftest.py`` helper; it reads
the real upstream documentation, so a test cannot pass arguments the module
would reject.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from winsim import state as st
from winsim.models import load_all
from winsim.models._base import (
    MODELS,
    ModuleContext,
    ModuleFailed,
)

NOW = dt.datetime(2026, 3, 2, 14, 30, 15, tzinfo=dt.UTC)

load_all()


@functools.cache
def _docs(fqcn: str) -> dict[str, t.Any]:
    from ansible.plugins.loader import fragment_loader, module_loader
    from ansible.utils.plugin_docs import get_docstring

    found = module_loader.find_plugin_with_context(fqcn)
    path = found.plugin_resolved_path
    if path.endswith(".ps1"):
        import os

        path = path[:-4] + (".py" if os.path.exists(path[:-4] + ".py") else ".yml")
    doc = get_docstring(path, fragment_loader, collection_name=".".join(fqcn.split(".")[:2]))[0]
    return doc.get("options") or {}


def _spec(options: dict[str, t.Any]) -> dict[str, t.Any]:
    spec: dict[str, t.Any] = {}
    for name, opt in options.items():
        entry: dict[str, t.Any] = {}
        typ = opt.get("type", "str")
        entry["type"] = "str" if typ == "path" else typ
        for k in ("default", "choices", "required", "aliases", "no_log"):
            if k in opt:
                entry[k] = opt[k]
        if "elements" in opt:
            entry["elements"] = "str" if opt["elements"] == "path" else opt["elements"]
        if "suboptions" in opt:
            entry["options"] = _spec(opt["suboptions"])
        spec[name] = entry
    return spec


def validated(fqcn: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
    internal = {k: v for k, v in params.items() if k.startswith("_")}
    public = {k: v for k, v in params.items() if not k.startswith("_")}
    result = ArgumentSpecValidator(_spec(_docs(fqcn))).validate(public)
    if result.error_messages:
        raise AssertionError(f"invalid test arguments for {fqcn}: {result.error_messages}")
    out = dict(result.validated_parameters)
    out.update(internal)
    return out


def fresh(hostname: str = "web01") -> dict[str, t.Any]:
    return st.fresh_state(hostname)


class Run:
    """The outcome of one model call: ``result`` (or ``failed``/``msg``),
    the context, and whether the state was left untouched."""

    def __init__(self, result: dict[str, t.Any], ctx: ModuleContext, untouched: bool) -> None:
        self.result = result
        self.ctx = ctx
        self.untouched = untouched

    def __getitem__(self, key: str) -> t.Any:
        return self.result[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        return self.result.get(key, default)


def run(fqcn: str, host: dict[str, t.Any], /, *, check: bool = False, diff: bool = False,
        now: dt.datetime = NOW, faults: t.Any = None, runtime: t.Any = None, **params: t.Any) -> Run:
    """Run the model; failures come back as ``{"failed": True, "msg": ...}``
    like the runner returns them."""
    before = copy.deepcopy(host)
    ctx = ModuleContext(fqcn=fqcn, params=validated(fqcn, params), state=host, check_mode=check,
                        diff_mode=diff, hostname=host["host"]["hostname"], now=now, faults=faults,
                        runtime=runtime)
    try:
        result = MODELS[fqcn].func(ctx)
    except ModuleFailed as exc:
        result = dict(ctx.result, failed=True, msg=exc.msg, **exc.extra)
    if ctx.warnings:
        result = dict(result, warnings=list(ctx.warnings))
    return Run(result, ctx, untouched=(host == before))
