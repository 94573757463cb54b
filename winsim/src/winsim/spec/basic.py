"""``Ansible.Basic`` argument validation: a port of ``Ansible.Basic.cs``
``CheckArguments`` (same order of checks, conversions and messages)."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import typing as t

from ..masking import SecretSet, dotnet_str
from ..models._base import ModuleFailed, SimulatorError
from .spec_doc import CheckModeSkip, ModuleSpec

BOOLEANS_TRUE = ["y", "yes", "on", "1", "true", "t", "1.0"]
BOOLEANS_FALSE = ["n", "no", "off", "0", "false", "f", "0.0"]

# Ansible.Basic passVars: the _ansible_* keys a module accepts.
PASS_VARS = {
    "check_mode": "check_mode", "debug": "debug", "diff": "diff", "keep_remote_files": "keep_remote_files",
    "ignore_unknown_opts": "ignore_unknown_opts", "inject_invocation": "inject_invocation",
    "module_name": "module_name", "no_log": "no_log", "remote_tmp": "remote_tmp",
    "selinux_special_fs": None, "shell_executable": None, "socket": None, "syslog_facility": None,
    "target_log_info": "target_log_info", "tracebacks_for": "tracebacks_for", "tmpdir": "tmpdir",
    "verbosity": "verbosity", "version": "version",
}
_PASS_BOOLS = {"check_mode", "debug", "diff", "keep_remote_files", "ignore_unknown_opts", "inject_invocation",
               "no_log"}

_DYNAMIC_INVOKE_MSG = "Exception has been thrown by the target of an invocation."


def net_type(value: t.Any) -> str:
    """The .NET type of a JSON value as the PowerShell exec wrapper gives it."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -2**31 <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, list | tuple):
        return "System.Object[]"
    return type(value).__name__


class _ConvertError(Exception):
    pass


def _parse_str(value: t.Any) -> str:
    return dotnet_str(value)


def _parse_bool(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _parse_str(value).lower().strip()
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise _ConvertError(f"The value '{text}' is not a valid boolean. Valid booleans include: "
                        f"{', '.join(BOOLEANS_TRUE + BOOLEANS_FALSE)}")


def _parse_int(value: t.Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31:
        return value
    text = _parse_str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise _ConvertError("Input string was not in a correct format.")
    number = int(text)
    if not -2**31 <= number < 2**31:
        raise _ConvertError("Value was either too large or too small for an Int32.")
    return number


def _parse_float(value: t.Any) -> float:
    text = _parse_str(value).strip()
    try:
        return float(text.replace(",", ""))
    except ValueError:
        raise _ConvertError("Input string was not in a correct format.") from None


def _parse_dict(value: t.Any) -> dict[str, t.Any]:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise _ConvertError(f"Failed to parse JSON: {exc}") from None
            if not isinstance(parsed, dict):
                raise _ConvertError("Failed to parse JSON: not an object")
            return parsed
        if "=" in value:
            fields: list[str] = []
            buf: list[str] = []
            in_quote: str | None = None
            in_escape = False
            for c in value:
                if in_escape:
                    buf.append(c)
                    in_escape = False
                elif c == "\\":
                    in_escape = True
                elif in_quote is None and c in "'\"":
                    in_quote = c
                elif in_quote is not None and c == in_quote:
                    in_quote = None
                elif in_quote is None and c in ", ":
                    if buf:
                        fields.append("".join(buf))
                    buf = []
                else:
                    buf.append(c)
            if buf:
                fields.append("".join(buf))
            out: dict[str, t.Any] = {}
            for field in dict.fromkeys(fields):
                k, sep, v = field.partition("=")
                if k in out:
                    raise _ConvertError("An item with the same key has already been added.")
                out[k] = v if sep else None
            return out
        raise _ConvertError("string cannot be converted to a dict, must either be a JSON string or in the "
                            "key=value form")
    raise _ConvertError(f"{net_type(value)} cannot be converted to a dict")


def _parse_list(value: t.Any) -> list[t.Any] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [s.strip() for s in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise _ConvertError(f"{net_type(value)} cannot be converted to a list")


def _parse_json(value: t.Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        return value
    raise _ConvertError(f"{net_type(value)} cannot be converted to json")


_INVALID_PATH_CHARS = set('"<>|') | {chr(i) for i in range(32)}


def _make_parse_path(expand: t.Callable[[str], str]) -> t.Callable[[t.Any], str]:
    def parse_path(value: t.Any) -> str:
        text = _parse_str(value)
        if text.startswith("\\\\?\\"):
            return text
        text = expand(text)
        if any(c in _INVALID_PATH_CHARS for c in text):
            raise _ConvertError("string value contains invalid path characters, cannot convert to path")
        if ":" in (text[2:] if re.match(r"^[A-Za-z]:", text) else text):
            raise _ConvertError("The given path's format is not supported.")
        return text

    return parse_path


@dataclasses.dataclass
class Validated:
    """The outcome of a successful validation."""

    params: dict[str, t.Any]
    """Every option by its canonical name (what ``ctx.params`` gets)."""
    module_args: dict[str, t.Any]
    """What Ansible.Basic's ``invocation.module_args`` shows (aliases kept)."""
    secrets: SecretSet
    flags: dict[str, t.Any]
    warnings: list[str] = dataclasses.field(default_factory=list)
    deprecations: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)


class _Basic:
    """One run of Ansible.Basic's argument checks."""

    def __init__(self, spec: ModuleSpec, module_name: str, expand: t.Callable[[str], str]) -> None:
        self.spec = spec
        self.module_name = module_name
        self.context: list[str] = []
        self.secrets = SecretSet()
        self.flags: dict[str, t.Any] = {"check_mode": False, "diff": False, "no_log": False,
                                        "ignore_unknown_opts": False, "inject_invocation": None}
        self.deprecations: list[dict[str, t.Any]] = []
        self.types: dict[str, t.Callable[[t.Any], t.Any]] = {
            "bool": _parse_bool, "dict": _parse_dict, "float": _parse_float, "int": _parse_int,
            "json": _parse_json, "list": _parse_list, "path": _make_parse_path(expand),
            "raw": lambda v: v, "sid": _parse_str, "str": _parse_str,
        }

    def fail(self, msg: str) -> t.NoReturn:
        raise ModuleFailed(msg)

    def ctx(self, msg: str, prefix: str = " ") -> str:
        if self.context:
            msg += f"{prefix}found in {' -> '.join(self.context)}"
        return msg

    # GetAliases + SetNoLogValues
    def prepare(self, options: dict[str, t.Any], params: dict[str, t.Any]) -> list[str]:
        aliases: list[str] = []
        for name, opt in options.items():
            for alias in opt["aliases"]:
                aliases.append(alias)
                if alias in params:
                    params[name] = params[alias]
        for name, opt in options.items():
            if opt["no_log"] and params.get(name) not in (None, ""):
                self.secrets.add(params[name])
        return aliases

    def check_arguments(self, node: dict[str, t.Any], params: dict[str, t.Any], legal: list[str]) -> None:
        self.check_unsupported(params, legal)
        if self.flags["check_mode"] and not node["supports_check_mode"] and not self.context:
            raise CheckModeSkip(f"remote module ({self.module_name}) does not support check mode")
        options = node["options"]
        for group in node.get("mutually_exclusive") or []:
            group = _as_list(group)
            if sum(1 for k in group if k in params) > 1:
                self.fail(self.ctx(f"parameters are mutually exclusive: {', '.join(group)}"))
        missing = []
        for name, opt in options.items():
            if opt["default"] is not None and name not in params:
                params[name] = copy.deepcopy(opt["default"])
            if opt["required"] and name not in params:
                missing.append(name)
        if missing:
            self.fail(self.ctx(f"missing required arguments: {', '.join(missing)}"))
        for name, opt in options.items():
            value = params.get(name)
            if value is None:
                continue
            type_name = opt["type"]
            converter = self.types.get(type_name)
            if converter is None:
                raise SimulatorError(f"winsim: option {name} of {self.spec.fqcn} has unknown type {type_name!r}")
            try:
                value = converter(value)
            except _ConvertError as exc:
                self.fail(self.ctx(f"argument for {name} is of type {net_type(params[name])} and we were unable to "
                                   f"convert to {type_name}: {exc}"))
            params[name] = value
            choices = [dotnet_str(c) for c in opt["choices"]]
            if choices and value is not None:
                if type_name == "list":
                    values = [dotnet_str(v) for v in value]
                    word = "one or more of"
                else:
                    values = [dotnet_str(value)]
                    word = "one of"
                lowered = {c.lower() for c in choices}
                diff = list(dict.fromkeys(v for v in values if v.lower() not in lowered))
                if diff:
                    self.fail(self.ctx(f"value of {name} must be {word}: {', '.join(choices)}. "
                                       f"Got no match for: {', '.join(diff)}"))
        for group in node.get("required_together") or []:
            group = _as_list(group)
            found = [k in params for k in group]
            if any(found) and not all(found):
                self.fail(self.ctx(f"parameters are required together: {', '.join(group)}"))
        for group in node.get("required_one_of") or []:
            group = _as_list(group)
            if not any(k in params for k in group):
                self.fail(self.ctx(f"one of the following is required: {', '.join(group)}"))
        for check in node.get("required_if") or []:
            check = _as_list(check)
            if len(check) < 3:
                self.fail(f"internal error: invalid required_if value count of {len(check)}, expecting 3 or 4 entries")
            key, val, reqs = check[0], check[1], _as_list(check[2])
            one = bool(check[3]) if len(check) == 4 else False
            if params.get(key) is None or dotnet_str(params[key]) != dotnet_str(val):
                continue
            missing = [r for r in reqs if r not in params]
            if len(missing) >= (len(reqs) if one else 1):
                term = "any" if one else "all"
                self.fail(self.ctx(f"{key} is {dotnet_str(val)} but {term} of the following are missing: "
                                   f"{', '.join(missing)}"))
        for key, reqs in (node.get("required_by") or {}).items():
            if key not in params:
                continue
            missing = [r for r in _as_list(reqs) if r not in params]
            if missing:
                self.fail(self.ctx(f"missing parameter(s) required by '{key}': {', '.join(missing)}"))
        for name, opt in options.items():
            if name not in params:
                params[name] = None
            self.check_sub_option(params, name, opt)

    def check_unsupported(self, params: dict[str, t.Any], legal: list[str]) -> None:
        unsupported: list[str] = []
        case_fix: list[str] = []
        lowered = {k.lower(): k for k in legal}
        for key in list(params):
            if key not in legal and key.lower() not in lowered:
                unsupported.append(key)
            elif key not in legal:
                case_fix.append(key)
            elif key.startswith("_ansible_"):
                value = params.pop(key)
                var = key[len("_ansible_"):]
                if PASS_VARS.get(var) is None:
                    continue
                if var == "no_log" and self.flags["no_log"]:
                    continue
                if var in _PASS_BOOLS:
                    try:
                        value = _parse_bool(value)
                    except _ConvertError as exc:
                        self.fail(str(exc))
                self.flags[var] = value
        if unsupported and not self.flags["ignore_unknown_opts"]:
            shown = sorted(k for k in legal if not (k.startswith("_ansible_") and k[9:] in PASS_VARS))
            msg = f"Unsupported parameters for ({self.module_name}) module: {', '.join(sorted(unsupported))}"
            self.fail(f"{self.ctx(msg)}. Supported parameters include: {', '.join(shown)}")
        for key in case_fix:
            params[lowered[key.lower()]] = params.pop(key)

    def check_sub_option(self, params: dict[str, t.Any], key: str, opt: dict[str, t.Any]) -> None:
        value = params[key]
        type_name = opt["type"]
        elements = opt.get("elements")
        if not (type_name == "dict" or (type_name == "list" and elements)):
            return
        if type_name == "list":
            if value is None:
                return
            new = []
            for element in value:
                if elements == "dict":
                    new.append(self.parse_sub_spec(opt, element, key))
                else:
                    converter = self.types.get(elements)
                    if converter is None:
                        raise SimulatorError(f"winsim: option {key} of {self.spec.fqcn} has unknown elements "
                                             f"type {elements!r}")
                    try:
                        new.append(converter(element))
                    except _ConvertError:
                        self.fail(self.ctx(f"argument for list entry {key} is of type {net_type(element)} and we were "
                                           f"unable to convert to {elements}: {_DYNAMIC_INVOKE_MSG}"))
            params[key] = new
        else:
            params[key] = self.parse_sub_spec(opt, value, key)

    def parse_sub_spec(self, opt: dict[str, t.Any], value: t.Any, context: str) -> t.Any:
        sub_options = opt["options"]
        if opt.get("apply_defaults") and sub_options and value is None:
            value = {}
        elif not sub_options or value is None:
            return value
        self.context.append(context)
        try:
            try:
                new = _parse_dict(value)
            except _ConvertError as exc:
                raise SimulatorError(f"winsim: {self.spec.fqcn}: {exc}") from None
            aliases = self.prepare(sub_options, new)
            node = {"options": sub_options, "supports_check_mode": True}
            self.check_arguments(node, new, [*sub_options, *aliases])
        finally:
            self.context.pop()
        return new


def _as_list(value: t.Any) -> list[t.Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _canonical(options: dict[str, t.Any], params: dict[str, t.Any]) -> dict[str, t.Any]:
    out = {}
    for name, opt in options.items():
        value = params.get(name)
        if opt["options"] and isinstance(value, dict):
            value = _canonical(opt["options"], value)
        elif opt["options"] and isinstance(value, list):
            value = [_canonical(opt["options"], v) if isinstance(v, dict) else v for v in value]
        out[name] = value
    return out


def validate_basic(spec: ModuleSpec, args: dict[str, t.Any], module_name: str,
                   expand: t.Callable[[str], str] = lambda s: s) -> Validated:
    """Ansible.Basic ``AnsibleModule`` construction: raises
    :class:`ModuleFailed` or :class:`CheckModeSkip` like the real module."""
    run = _Basic(spec, module_name, expand)
    params = copy.deepcopy(args)
    root = spec.root()
    aliases = run.prepare(root["options"], params)
    legal = [f"_ansible_{k}" for k in PASS_VARS] + list(root["options"]) + aliases
    run.check_arguments(root, params, legal)
    return Validated(params=_canonical(root["options"], params), module_args=params, secrets=run.secrets,
                     flags=run.flags, deprecations=run.deprecations)
