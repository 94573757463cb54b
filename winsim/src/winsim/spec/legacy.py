"""``Ansible.ModuleUtils.Legacy`` argument validation: ``Parse-Args`` and
``Get-AnsibleParam`` (lenient conversions, ``Get-AnsibleParam: ...`` messages),
with the choices and required options the code declares."""

from __future__ import annotations

import copy
import re
import typing as t

from ..masking import SecretSet, dotnet_str
from ..models._base import ModuleFailed
from .basic import _INVALID_PATH_CHARS, Validated, _ConvertError, _parse_float, _parse_int
from .spec_doc import CheckModeSkip, ModuleSpec

_GET_PARAM = re.compile(r"Get-AnsibleParam\b(?P<args>[^\n]*)", re.IGNORECASE)
_PARAM_NAME = re.compile(r"-name\s+[\"']?(?P<n>\w+)|^\s*(?:-obj\s+)?\$\w+\s+[\"'](?P<p>\w+)[\"']", re.IGNORECASE)
_VALIDATESET = re.compile(r"-validateset\s+(?P<set>(?:[\"'][^\"']*[\"']\s*,\s*)*[\"'][^\"']*[\"'])", re.IGNORECASE)


_FAILIFEMPTY = re.compile(r"-failifempty\s+\$?(?P<v>true|false)\b", re.IGNORECASE)


def _legacy_validatesets(source: str, options: dict[str, dict[str, t.Any]]) -> None:
    """Where the code wins over the documentation for a Legacy module: only
    ``Get-AnsibleParam -ValidateSet`` restricts a value (its list, in source
    order, the order its message shows), so documented ``choices`` the code
    does not declare are not enforced (``win_acl``'s ``inherit`` documents
    two choices but takes the comma separated ``InheritanceFlags`` its own
    examples use).  ``-failifempty $true`` makes an option required, and an
    option read by ``Get-AnsibleParam`` without it is not, whatever the
    documentation says."""
    for opt in options.values():
        opt["choices"] = []
    for call in _GET_PARAM.finditer(source):
        args = call.group("args")
        name_m = _PARAM_NAME.search(args)
        if not name_m:
            continue
        name = name_m.group("n") or name_m.group("p")
        if name not in options:
            continue
        set_m = _VALIDATESET.search(args)
        if set_m:
            options[name]["choices"] = re.findall(r"[\"']([^\"']*)[\"']", set_m.group("set"))
        empty_m = _FAILIFEMPTY.search(args)
        options[name]["required"] = bool(empty_m and empty_m.group("v").lower() == "true")


def _legacy_bool(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    return dotnet_str(value).lower() in ("yes", "on", "1", "true")


def _legacy_int(value: t.Any) -> int | None:
    try:
        return _parse_int(value)
    except _ConvertError:
        return None


def _legacy_float(value: t.Any) -> float | None:
    try:
        return _parse_float(value)
    except _ConvertError:
        return None


def validate_legacy(spec: ModuleSpec, args: dict[str, t.Any], module_name: str,
                    expand: t.Callable[[str], str] = lambda s: s, legacy_check_mode: bool = True) -> Validated:
    """``Parse-Args`` plus ``Get-AnsibleParam`` for every documented option.

    ``legacy_check_mode`` decides check-mode support when the source does
    not pass ``-supports_check_mode`` to ``Parse-Args`` explicitly."""
    flags: dict[str, t.Any] = {
        "check_mode": _legacy_bool(args.get("_ansible_check_mode", False)),
        "diff": _legacy_bool(args.get("_ansible_diff", False)),
        "no_log": _legacy_bool(args.get("_ansible_no_log", False)),
        "ignore_unknown_opts": True,
        "inject_invocation": False,
    }
    supports = spec.supports_check_mode if spec.supports_check_mode is not None else legacy_check_mode
    if flags["check_mode"] and not supports:
        raise CheckModeSkip("remote module does not support check mode")
    lowered = {k.lower(): k for k in args}
    params: dict[str, t.Any] = {}
    secrets = SecretSet()
    for name, opt in spec.options.items():
        found = None
        for candidate in [name, *opt["aliases"]]:
            if candidate.lower() in lowered:
                found = lowered[candidate.lower()]
                break
        value = args[found] if found is not None else None
        allowed = {dotnet_str(c).lower() for c in opt["choices"]}
        if found is not None and allowed and (value is None or dotnet_str(value).lower() not in allowed):
            raise ModuleFailed(f"Get-AnsibleParam: Argument {found} needs to be one of "
                               f"{','.join(dotnet_str(c) for c in opt['choices'])} but was {dotnet_str(value)}.")
        if found is None:
            if opt["required"]:
                raise ModuleFailed(f"Get-AnsibleParam: Missing required argument: {name}")
            value = copy.deepcopy(opt["default"])
        label = found or name
        if value is not None:
            kind = opt["type"]
            if kind == "path":
                value = expand(dotnet_str(value))
                if any(c in _INVALID_PATH_CHARS for c in value):
                    raise ModuleFailed(f"Get-AnsibleParam: Parameter '{label}' has an invalid path '{value}' "
                                       "specified.")
            elif kind == "str":
                value = dotnet_str(value)
            elif kind == "bool":
                value = _legacy_bool(value)
            elif kind == "int":
                value = _legacy_int(value)
            elif kind == "float":
                value = _legacy_float(value)
            elif kind == "list":
                if isinstance(value, str):
                    value = [s.strip() for s in value.split(",")]
                elif isinstance(value, int) and not isinstance(value, bool):
                    value = [value]
                elif not isinstance(value, list):
                    raise ModuleFailed(f"Get-AnsibleParam: Parameter '{label}' is not a YAML list.")
        if opt["no_log"] and value not in (None, ""):
            secrets.add(value)
        params[name] = value
    # Legacy modules read undocumented keys (internal options) as they come.
    for key, value in args.items():
        if key.startswith("_ansible_") or key in params:
            continue
        if any(key.lower() == a.lower() for opt in spec.options.values() for a in opt["aliases"]):
            continue
        if key.lower() in {n.lower() for n in spec.options}:
            continue
        params[key] = copy.deepcopy(value)
    return Validated(params=params, module_args=copy.deepcopy({k: v for k, v in args.items()
                                                               if not k.startswith("_ansible_")}),
                     secrets=secrets, flags=flags)
