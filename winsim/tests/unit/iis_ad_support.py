"""Test support for the IIS and AD model tests: run a model the way the
runner does, with the arguments validated against the upstream module's own
documented option spec (YAML sidecar + doc fragments; defaults and aliases
applied), in check and diff mode as asked.

Used until (and alongside) the winsim-core ``conftest.py`` helper.  Because
it reads the real upstream documentation, a test cannot pass arguments the
real module would reject.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from winsim import state as st
from winsim.models import load_all
from winsim.models._base import (
    MODELS,
    Faults,
    ModuleContext,
    ModuleFailed,
)

NOW = dt.datetime(2026, 3, 2, 14, 30, 15, tzinfo=dt.UTC)
WHEN = "2026-03-01T08:00:00Z"

load_all()


@functools.cache
def documented_options(fqcn: str) -> dict[str, t.Any]:
    """The module's documented options, doc fragments merged."""
    from ansible.plugins.loader import fragment_loader, init_plugin_loader, module_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.utils.plugin_docs import get_docstring

    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader()
    found = module_loader.find_plugin_with_context(fqcn)
    assert found.resolved, f"upstream module {fqcn} is not installed"
    path = found.plugin_resolved_path
    base = path.rsplit(".", 1)[0]
    for ext in (".yml", ".py"):
        if os.path.exists(base + ext):
            path = base + ext
            break
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
    result = ArgumentSpecValidator(_spec(documented_options(fqcn))).validate(params)
    if result.error_messages:
        raise AssertionError(f"invalid test arguments for {fqcn}: {result.error_messages}")
    return dict(result.validated_parameters)


class Run:
    """The outcome of one model call: ``result`` (with ``failed``/``msg``
    on failure), the context, and whether the state was left untouched."""

    def __init__(self, result: dict[str, t.Any], ctx: ModuleContext, untouched: bool) -> None:
        self.result = result
        self.ctx = ctx
        self.untouched = untouched

    def __getitem__(self, key: str) -> t.Any:
        return self.result[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        return self.result.get(key, default)

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))


def run(fqcn: str, host: dict[str, t.Any], /, *, check: bool = False, diff: bool = False,
        now: dt.datetime = NOW, faults: list[dict[str, t.Any]] | None = None, runtime: t.Any = None,
        **params: t.Any) -> Run:
    """Run the model; failures come back as ``{"failed": True, "msg": ...}``
    like the runner returns them."""
    before = copy.deepcopy(host)
    ctx = ModuleContext(fqcn=fqcn, params=validated(fqcn, params), state=host, check_mode=check,
                        diff_mode=diff, hostname=host["host"]["hostname"], now=now, faults=Faults(faults),
                        runtime=runtime)
    try:
        result = MODELS[fqcn].func(ctx)
    except ModuleFailed as exc:
        result = dict(ctx.result, failed=True, msg=exc.msg, **exc.extra)
    if ctx.warnings:
        result = dict(result, warnings=list(ctx.warnings))
    return Run(result, ctx, untouched=(host == before))


def fresh(hostname: str = "web01") -> dict[str, t.Any]:
    return st.fresh_state(hostname)


def iis_host(hostname: str = "web01") -> dict[str, t.Any]:
    """A fresh host on which the Web-Server role was installed through the
    ``ansible.windows.win_feature`` model (IIS baseline, services,
    applicationHost.config)."""
    host = st.fresh_state(hostname)
    r = run("ansible.windows.win_feature", host, name=["Web-Server"], now=NOW)
    assert not r.failed, r.result
    assert host["iis"]["installed"] is True
    return host


def rhythm(fqcn: str, host: dict[str, t.Any], **params: t.Any) -> tuple[Run, Run, Run]:
    """check → apply → apply again: returns the three runs."""
    check = run(fqcn, host, check=True, **params)
    apply = run(fqcn, host, **params)
    again = run(fqcn, host, **params)
    return check, apply, again
