"""IIS application pools: ``microsoft.iis.web_app_pool`` and ``web_app_pool_info``
(microsoft.iis 1.3.0); the ``iis`` state section is documented in ``iis.py``."""

from __future__ import annotations

import copy
import datetime as _dt
import typing as t

from ..drift import Arg, drift, find_named
from . import iis_worker
from ._base import ModuleContext, model
from .iis import (
    _ENUMS,
    _FLAGS,
    _HR_CANNOT_ACCEPT,
    _POOL_KEYS,
    _POOL_SCHEMA,
    _U32,
    UPSTREAM,
    _as_bool,
    _as_int,
    _as_timespan,
    _fault_message,
    _new_pool,
    _ps_eq,
    _ps_str,
    _require_webadministration,
    _TimeSpan,
    drift_iis,
    find_pool,
    password_digest,
    set_named_state,
)

# -- microsoft.iis.web_app_pool ------------------------------------------------------

class _Meta(t.NamedTuple):
    key: str  # canonical attribute path
    kind: str


def _pool_meta(attribute_key: str) -> _Meta | None:
    canonical = _POOL_KEYS.get(attribute_key.lower())
    if canonical is None:
        return None
    return _Meta(canonical, _POOL_SCHEMA[canonical][0])


def _to_list(value: t.Any) -> list[t.Any]:
    """``Convert-CollectionToList``."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")]
    if isinstance(value, list):
        return list(value)
    return [value]


def _convert(meta: _Meta | None, value: t.Any) -> t.Any:
    """``Convert-ToPropertyValue``: the value the module compares and sets.
    Enums become their integer value (the attribute's .NET type is Int32),
    times a TimeSpan, numbers and booleans are cast with ``-as``; a value
    that does not cast is kept as given."""
    if meta is None:
        return value
    kind = meta.kind
    if kind == "collection":
        return _to_list(value)
    if kind == "enum":
        names = _ENUMS[meta.key]
        for enum_name, number in names.items():
            if enum_name.lower() == _ps_str(value).lower():
                return number
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    if kind == "bool":
        return _as_bool(value)
    if kind == "uint":
        cast = _as_int(value, *_U32)
        return value if cast is None else cast
    if kind == "int":
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    if kind == "timeSpan":
        cast = _as_timespan(value)
        return value if cast is None else cast
    if kind == "flags":
        cast = _as_int(value, -(2 ** 31), 2 ** 31 - 1)
        return value if cast is None else cast
    # string / password
    return _ps_str(value)


def _current_raw(pool: dict[str, t.Any], meta: _Meta | None) -> t.Any:
    """``Get-ItemProperty -Name <attribute>`` (``$null`` for an unknown one)."""
    if meta is None:
        return None
    stored = pool["attributes"].get(meta.key, _POOL_SCHEMA[meta.key][1])
    if meta.kind == "timeSpan":
        return _TimeSpan.parse(stored)
    return copy.deepcopy(stored)


def _compare_changed(current: t.Any, new: t.Any) -> bool:
    """``Compare-Value``."""
    if current is None:
        return True
    if isinstance(current, list):
        if not isinstance(new, list) or len(current) != len(new):
            return True
        return any(not _ps_eq(c, n) for c, n in zip(current, new, strict=True))
    return not _ps_eq(current, new)


def _pool_property_error(ctx: ModuleContext, name: str, attribute: str) -> str:
    return (f"Property {attribute} is not found on  \\\\{ctx.state['host']['hostname']}\\AppPools\\{name}."
            "\r\nParameter name: propName")


def _stored_value(ctx: ModuleContext, name: str, meta: _Meta | None, attribute_key: str,
                  new_value: t.Any) -> t.Any:
    """What ``Set-ItemProperty`` writes, or the IIS error it raises (as a
    ``ValueError`` carrying the exception message)."""
    if meta is None:
        raise ValueError(_pool_property_error(ctx, name, attribute_key))
    kind = meta.kind
    lo_hi = _POOL_SCHEMA[meta.key][2]
    if kind == "enum":
        names = _ENUMS[meta.key]
        if isinstance(new_value, int) and not isinstance(new_value, bool):
            for enum_name, number in names.items():
                if number == new_value:
                    return enum_name
        raise ValueError(f"Enum must be one of {', '.join(names)}")
    if kind == "flags":
        flags = _FLAGS[meta.key]
        if isinstance(new_value, int) and not isinstance(new_value, bool):
            if new_value & ~sum(v for _, v in flags):
                raise ValueError(f"Flags must be some combination of {', '.join(n for n, _ in flags)}")
            return ",".join(n for n, v in flags if new_value & v)
        wanted = [p.strip().lower() for p in _ps_str(new_value).split(",") if p.strip()]
        known = {n.lower(): n for n, _ in flags}
        if any(w not in known for w in wanted):
            raise ValueError(f"Flags must be some combination of {', '.join(n for n, _ in flags)}")
        return ",".join(n for n, _ in flags if n.lower() in wanted)
    if kind in ("uint", "int"):
        if not isinstance(new_value, int) or isinstance(new_value, bool):
            type_name = "System.UInt32" if kind == "uint" else "System.Int32"
            raise ValueError(f'Cannot convert value "{_ps_str(new_value)}" to type "{type_name}". '
                             'Error: "Input string was not in a correct format."')
        if lo_hi and not lo_hi[0] <= new_value <= lo_hi[1]:
            raise ValueError(f"Value must be between {lo_hi[0]} and {lo_hi[1]}")
        return new_value
    if kind == "timeSpan":
        if not isinstance(new_value, _TimeSpan):
            raise ValueError(f'Cannot convert value "{_ps_str(new_value)}" to type "System.TimeSpan". '
                             'Error: "String was not recognized as a valid TimeSpan."')
        return new_value.format()
    if kind == "password":
        return password_digest(_ps_str(new_value))
    if kind == "bool":
        return bool(new_value)
    return _ps_str(new_value)


def _schedule_value(value: t.Any) -> str:
    """One ``recycling.periodicRestart.schedule`` entry as IIS stores it."""
    span = _as_timespan(value)
    if span is None:
        raise ValueError(f'Cannot convert value "{_ps_str(value)}" to type "System.TimeSpan". '
                         'Error: "String was not recognized as a valid TimeSpan."')
    return span.format()


def _pool_current_for_compare(pool: dict[str, t.Any], meta: _Meta | None, attribute_key: str) -> t.Any:
    raw = _current_raw(pool, meta)
    if meta is not None and meta.kind == "password":
        return raw  # the digest; compared against the digest of the new value
    if meta is not None and meta.kind == "enum":
        return _ENUMS[meta.key].get(raw, raw)
    if meta is not None and meta.kind == "flags":
        return raw  # Get-ItemProperty renders flags as their names
    if meta is not None and meta.kind == "collection":
        return list(raw)
    return raw


@model("microsoft.iis.web_app_pool", upstream=UPSTREAM, partial_on_failure=True)
def web_app_pool(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove, configure and start/stop an application pool."""
    name: str = ctx.params["name"]
    state: str = ctx.params["state"]
    attributes: dict[str, t.Any] = ctx.params.get("attributes") or {}
    _require_webadministration(ctx)
    pools = ctx.state["iis"]["app_pools"]

    pool = find_pool(ctx.state, name)
    if state == "absent":
        if pool is not None:
            if not ctx.check_mode:
                del pools[pool["name"]]
            ctx.changed()
        return ctx.exit()

    if pool is None:
        if not ctx.check_mode:
            fault = ctx.faults.find("app_pool_start", name)
            pool = _new_pool(name, started=fault is None)
            pools[name] = pool
        ctx.changed()
    if pool is None:  # check mode: the pool does not exist yet, nothing more to compare
        return ctx.exit()

    initial_state = pool["state"]
    for attribute_key, raw_value in attributes.items():
        meta = _pool_meta(attribute_key)
        if meta is not None and meta.kind == "password":
            new_value: t.Any = password_digest(_ps_str(raw_value))
        else:
            new_value = _convert(meta, raw_value)
        current = _pool_current_for_compare(pool, meta, attribute_key)
        if not _compare_changed(current, new_value):
            continue
        ctx.changed()
        if ctx.check_mode:
            continue
        if isinstance(new_value, list):
            try:
                if meta is None or meta.kind != "collection":
                    raise ValueError(_pool_property_error(ctx, name, attribute_key))
            except ValueError as exc:
                ctx.fail(f"Failed to clear attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                         f"Exception: {exc}")
            entries: list[str] = []
            for value in new_value:
                try:
                    entries.append(_schedule_value(value))
                except ValueError as exc:
                    pool["attributes"][meta.key] = entries
                    ctx.fail(f"Failed to add new attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                             f"Value: {_ps_str(value)}, Exception: {exc}")
            pool["attributes"][meta.key] = entries
        else:
            try:
                if meta is not None and meta.kind == "password":
                    stored = new_value
                else:
                    stored = _stored_value(ctx, name, meta, attribute_key, new_value)
            except ValueError as exc:
                ctx.fail(f"Failed to set attribute to Web App Pool {name}. Attribute: {attribute_key}, "
                         f"Value: {_ps_str(new_value)}, Exception: {exc}")
            pool["attributes"][meta.key] = stored

    if initial_state == "Stopped":
        if state in ("started", "restarted"):
            if not ctx.check_mode:
                fault = ctx.faults.find("app_pool_start", name)
                if fault is not None:
                    ctx.fail(f"Failed to start Web App Pool {name}: {_fault_message(fault, _HR_CANNOT_ACCEPT)}")
                pool["state"] = "Started"
            ctx.changed()
    else:
        if state == "stopped":
            if not ctx.check_mode:
                pool["state"] = "Stopped"
            ctx.changed()
        elif state == "restarted":
            if not ctx.check_mode:
                fault = ctx.faults.find("app_pool_start", name)
                if fault is not None:
                    pool["state"] = "Stopped"
                    ctx.fail(f"Failed to restart Web App Pool {name}: {_fault_message(fault, _HR_CANNOT_ACCEPT)}")
            ctx.changed()
    if ctx.result.get("changed") and not ctx.check_mode:
        # Started, stopped, restarted or reconfigured: the worker exits (a
        # configuration change recycles the pool), its apps unload.
        workers = iis_worker.host_workers(ctx.runtime)
        if workers:
            iis_worker.unload_pool(workers, name)
            iis_worker.save_workers(ctx.runtime, workers)
    return ctx.exit()


# -- microsoft.iis.web_app_pool_info -------------------------------------------------

def _pool_info(pool: dict[str, t.Any]) -> dict[str, t.Any]:
    attrs: dict[str, t.Any] = {}
    for key, (kind, default, _range) in _POOL_SCHEMA.items():
        if "password" in key.lower() or kind == "collection":
            continue
        value = copy.deepcopy(pool["attributes"].get(key, default))
        parts = key.split(".")
        target = attrs
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    attrs["state"] = pool["state"]
    attrs.setdefault("recycling", {}).setdefault("periodicRestart", {})
    return {"name": pool["name"], "attributes": attrs}


@model("microsoft.iis.web_app_pool_info", upstream=UPSTREAM)
def web_app_pool_info(ctx: ModuleContext) -> dict[str, t.Any]:
    """Information about one or all application pools."""
    _require_webadministration(ctx)
    name = ctx.params.get("name")
    ctx.exit(exists=False, app_pools=[])
    if name is not None:
        pool = find_pool(ctx.state, name)
        if pool is None:
            ctx.fail("Failed to fetch the info of the required application pool "
                     f"Exception: Cannot find path 'IIS:\\AppPools\\{name}' because it does not exist.")
        return ctx.exit(exists=True, app_pools=[_pool_info(pool)])
    pools = [_pool_info(p) for p in ctx.state["iis"]["app_pools"].values()]
    return ctx.exit(exists=bool(pools), app_pools=pools)


# -- drifts: what an operator does by hand in IIS Manager (``winsim drift``) ---------

@drift("stop-app-pool", section="iis", help="Stop an IIS application pool (Stop-WebAppPool).",
       args=[Arg("name", "application pool name")])
def stop_app_pool(state: dict[str, t.Any], now: _dt.datetime, *, name: str) -> str:
    return set_named_state(drift_iis(state)["app_pools"], name, "application pool", "Stopped")


def _parse_scalar(value: str) -> t.Any:
    import yaml

    if value == "":
        return ""
    parsed = yaml.safe_load(value)
    # 00:20:00 is a TimeSpan string in IIS, not YAML's sexagesimal integer.
    return value if ":" in value or isinstance(parsed, _dt.date) else parsed


@drift("set-app-pool-attribute", section="iis",
       help="Change one attribute of an application pool (e.g. processModel.identityType).",
       args=[Arg("name", "application pool name"), Arg("attribute", "IIS attribute path, as web_app_pool names it"),
             Arg("value", "new value (YAML scalar: 00:20:00, true, 5 ...)")])
def set_app_pool_attribute(state: dict[str, t.Any], now: _dt.datetime, *, name: str, attribute: str,
                           value: str) -> str:
    key, pool = find_named(drift_iis(state)["app_pools"], name, "application pool")
    attrs = pool.setdefault("attributes", {})
    before = attrs.get(attribute)
    attrs[attribute] = _parse_scalar(value)
    return f"app pool {key}: {attribute} {before!r} -> {attrs[attribute]!r}"
