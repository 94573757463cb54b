"""The documented option spec of an upstream module, and argument validation
that behaves like the real module's.

Where the spec comes from:

* options (type, elements, choices, default, required, aliases, suboptions)
  from the module's documentation on disk, through
  ``ansible.utils.plugin_docs.get_plugin_docs`` (cached per FQCN);
* ``supports_check_mode``, ``no_log`` options and the cross-option
  constraints (``mutually_exclusive``, ``required_together``,
  ``required_one_of``, ``required_if``, ``required_by``), which the
  documentation does not carry, from the module's PowerShell source and the
  module utils it imports (they arrive in the payload);
* internal options a model documents itself (``win_copy``'s ``_copy_mode``)
  through :func:`register_internal_options`.

How arguments are validated depends on the module's utils:

* ``Ansible.Basic`` modules: :func:`validate_basic` is a port of
  ``Ansible.Basic.cs`` ``CheckArguments`` (ansible-core 2.19/2.21): the same
  order of checks, the same conversions (``ParseBool``, ``ParseList``, ...)
  and the same messages, including .NET type names (``System.String``,
  ``System.Int32``, ``System.Object[]``, ``System.Collections.Hashtable``).
* ``Ansible.ModuleUtils.Legacy`` modules: :func:`validate_legacy` follows
  ``Get-AnsibleParam``: no unknown-option check, lenient conversions and the
  ``Get-AnsibleParam: ...`` messages.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import threading
import typing as t
from pathlib import Path

from .masking import SecretSet, dotnet_str, is_secret_name
from .models._base import ModuleFailed, SimulatorError

__all__ = [
    "BOOLEANS_FALSE",
    "BOOLEANS_TRUE",
    "CheckModeSkip",
    "ModuleSpec",
    "Validated",
    "ensure_plugin_loader",
    "load_doc_options",
    "load_module_source",
    "module_spec",
    "register_internal_options",
    "validate",
]

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

_CONSTRAINT_KEYS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")
_DYNAMIC_INVOKE_MSG = "Exception has been thrown by the target of an invocation."


class CheckModeSkip(Exception):
    """The module does not support check mode: the result is ``skipped``."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


# -- the spec ---------------------------------------------------------------------

@dataclasses.dataclass
class ModuleSpec:
    fqcn: str
    options: dict[str, dict[str, t.Any]]
    """Ansible.Basic shaped option specs: type, elements, choices, default,
    required, aliases, no_log, options (suboptions)."""
    style: str
    """``basic`` (Ansible.Basic) or ``legacy`` (Ansible.ModuleUtils.Legacy)."""
    supports_check_mode: bool | None
    """From the source; ``None`` when a Legacy module does not say."""
    constraints: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    no_log_names: frozenset[str] = frozenset()

    def root(self) -> dict[str, t.Any]:
        node: dict[str, t.Any] = {"options": self.options, "supports_check_mode": bool(self.supports_check_mode)}
        for key in _CONSTRAINT_KEYS:
            node[key] = self.constraints.get(key, {} if key == "required_by" else [])
        return node


_DOC_CACHE: dict[str, dict[str, t.Any]] = {}
_SPEC_CACHE: dict[tuple[str, str], ModuleSpec] = {}
_INTERNAL: dict[str, dict[str, dict[str, t.Any]]] = {}
_LOCK = threading.Lock()


def register_internal_options(fqcn: str, options: dict[str, dict[str, t.Any]]) -> None:
    """Declare options the module takes but does not document (such as
    ``win_copy``'s ``_copy_mode``, set by its action plugin).  Same keys as a
    documented option."""
    _INTERNAL.setdefault(fqcn, {}).update(copy.deepcopy(options))


def ensure_plugin_loader() -> None:
    """Initialise ansible's plugin loader outside a playbook run (the CLI,
    tests), with this repository's collections first.

    Collection packages that were imported before the collection finder was
    installed (``ansible_collections.mcms.winsim`` itself, by the time this
    runs) lack the routing metadata the finder needs to import their other
    submodules later; they get it here from their ``meta/runtime.yml``, as
    the finder's own package loader would have set it."""
    import sys

    import yaml
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is None:
        # WINSIM_COLLECTIONS_PATHS first (os.pathsep-separated), then what
        # ansible's configuration and sys.path hold: the project's venv puts
        # its in-repo collections on sys.path, as a playbook run finds them.
        extra = [p for p in os.environ.get("WINSIM_COLLECTIONS_PATHS", "").split(os.pathsep) if p]
        init_plugin_loader(extra)
    for name, module in list(sys.modules.items()):
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "ansible_collections":
            continue
        if getattr(module, "_collection_meta", None) is not None:
            continue
        meta: dict[str, t.Any] = {}
        for base in getattr(module, "__path__", []) or []:
            runtime = Path(base) / "meta" / "runtime.yml"
            if runtime.is_file():
                meta = yaml.safe_load(runtime.read_text(encoding="utf-8")) or {}
                break
        module._collection_meta = meta  # type: ignore[attr-defined]


def load_doc_options(fqcn: str) -> dict[str, t.Any]:
    """The ``options`` of the module's documentation (cached per FQCN)."""
    with _LOCK:
        if fqcn in _DOC_CACHE:
            return _DOC_CACHE[fqcn]
    ensure_plugin_loader()
    from ansible.plugins.loader import fragment_loader, module_loader
    from ansible.utils.plugin_docs import get_plugin_docs

    try:
        docs = get_plugin_docs(fqcn, "module", module_loader, fragment_loader, False)
    except Exception as exc:
        raise SimulatorError(f"winsim: cannot load the documented option spec of {fqcn}: {exc}") from exc
    options = (docs[0] or {}).get("options") or {}
    with _LOCK:
        _DOC_CACHE[fqcn] = options
    return options


_CREATE = re.compile(r"\[(?:Ansible\.Basic\.)?AnsibleModule\]::Create\(")
_UTIL_RE = re.compile(r"^#(?:AnsibleRequires\s+-(?:PowerShell|CSharpUtil)|Requires\s+-Module)\s+(?P<name>[\w.]+)",
                      re.IGNORECASE | re.MULTILINE)


def load_module_source(fqcn: str) -> tuple[str, dict[str, str]]:
    """The installed PowerShell source of ``fqcn`` and of the module utils it
    imports directly (what a payload would carry), read from disk.  Used by
    tests and tools that run a model without a payload."""
    ensure_plugin_loader()
    from ansible.plugins.loader import module_loader

    found = module_loader.find_plugin_with_context(fqcn, mod_type=".ps1")
    if not found.resolved or not str(found.plugin_resolved_path).endswith(".ps1"):
        raise SimulatorError(f"winsim: no PowerShell source installed for {fqcn}")
    with open(found.plugin_resolved_path, encoding="utf-8-sig") as fh:
        source = fh.read()
    utils: dict[str, str] = {}
    ns, coll = fqcn.split(".")[:2]
    for m in _UTIL_RE.finditer(source):
        name = m.group("name")
        if name.startswith("."):
            # "..module_utils._X" is relative to the collection's plugins package.
            name = f"ansible_collections.{ns}.{coll}.plugins." + name.lstrip(".")
        path = _module_util_path(name)
        if path is not None:
            with open(path, encoding="utf-8-sig") as fh:
                utils[os.path.basename(path) if not name.startswith("ansible_collections.") else name] = fh.read()
    return source, utils


def _module_util_path(name: str) -> str | None:
    import ansible.module_utils as mu

    if name.startswith("ansible_collections."):
        parts = name.split(".")
        try:
            import importlib

            package = importlib.import_module(".".join(parts[:-1]))
        except ImportError:
            return None
        for ext in (".psm1", ".cs"):
            candidate = os.path.join(os.path.dirname(package.__file__ or ""), parts[-1] + ext)
            if os.path.exists(candidate):
                return candidate
        return None
    base = os.path.dirname(mu.__file__ or "")
    for sub, ext in (("powershell", ".psm1"), ("csharp", ".cs")):
        candidate = os.path.join(base, sub, name + ext)
        if os.path.exists(candidate):
            return candidate
    return None


def _doc_to_spec(options: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    out: dict[str, dict[str, t.Any]] = {}
    for name, doc in options.items():
        doc = doc or {}
        entry: dict[str, t.Any] = {
            "type": doc.get("type", "str"),
            "elements": doc.get("elements"),
            "choices": list(doc.get("choices") or []) if not isinstance(doc.get("choices"), dict)
            else list(doc["choices"]),
            "default": doc.get("default"),
            "required": bool(doc.get("required", False)),
            "aliases": list(doc.get("aliases") or []),
            "no_log": bool(doc.get("no_log", False)),
            "options": _doc_to_spec(doc.get("suboptions") or doc.get("options") or {}),
            "apply_defaults": bool(doc.get("apply_defaults", False)),
        }
        out[name] = entry
    return out


def module_spec(fqcn: str, source: str, module_utils: dict[str, str] | None = None) -> ModuleSpec:
    """The spec of ``fqcn`` given its PowerShell ``source`` (cached)."""
    # The module utils are part of the key: microsoft.ad's object modules
    # declare check-mode support in the util that creates the module.
    material = source + "".join(f"\0{name}\0{text}" for name, text in sorted((module_utils or {}).items()))
    digest = hashlib.sha1(material.encode("utf-8")).hexdigest()
    with _LOCK:
        cached = _SPEC_CACHE.get((fqcn, digest))
    if cached is not None:
        return cached
    if _CREATE.search(source) or re.search(
            r"^#AnsibleRequires\s+-CSharpUtil\s+Ansible\.Basic\b", source, re.IGNORECASE | re.MULTILINE):
        style = "basic"
        # The spec may be built by a module util that creates the module for
        # it (microsoft.ad's Invoke-AnsibleADObject): look where Create is.
        creators = [source] if _CREATE.search(source) else [
            text for name, text in (module_utils or {}).items() if not name.endswith(".cs") and _CREATE.search(text)]
        supports = any(re.search(r"\bsupports_check_mode\s*=\s*\$true\b", text, re.IGNORECASE)
                       for text in creators or [source])
    elif re.search(r"\bParse-Args\b", source, re.IGNORECASE):
        style = "legacy"
        m = re.search(r"\bParse-Args\b[^\n]*-supports_check_mode\s+\$(true|false)\b", source, re.IGNORECASE)
        supports = None if m is None else m.group(1).lower() == "true"
    else:
        raise SimulatorError(f"winsim: {fqcn} uses neither Ansible.Basic nor Ansible.ModuleUtils.Legacy; "
                             "winsim cannot validate its arguments")
    options = _doc_to_spec(load_doc_options(fqcn))
    for name, internal in _INTERNAL.get(fqcn, {}).items():
        base = {"type": "str", "elements": None, "choices": [], "default": None, "required": False, "aliases": [],
                "no_log": False, "options": {}, "apply_defaults": False}
        base.update(internal)
        base["options"] = _doc_to_spec(internal.get("options") or {}) if internal.get("options") else {}
        options[name] = base
    sources = [source, *[text for name, text in (module_utils or {}).items() if not name.endswith(".cs")]]
    no_log = set()
    for text in sources:
        for m in re.finditer(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*@\{[^{}]*?\bno_log\s*=\s*\$true\b", text,
                             re.IGNORECASE):
            no_log.add(m.group("name"))
    _mark_no_log(options, no_log)
    constraints = _constraints_from_source(fqcn, source) if style == "basic" else {}
    if style == "legacy":
        _legacy_validatesets(source, options)
    spec = ModuleSpec(fqcn=fqcn, options=options, style=style, supports_check_mode=supports,
                      constraints=constraints, no_log_names=frozenset(no_log))
    with _LOCK:
        _SPEC_CACHE[(fqcn, digest)] = spec
    return spec


def _mark_no_log(options: dict[str, dict[str, t.Any]], names: set[str]) -> None:
    for name, entry in options.items():
        if name in names or is_secret_name(name):
            entry["no_log"] = True
        _mark_no_log(entry["options"], names)


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


# -- constraints from the PowerShell $spec ----------------------------------------------

class _PwshParseError(ValueError):
    pass


class _PwshLiteral:
    """Parser for the literal subset of PowerShell used in module specs:
    ``@{}``, ``@()``, ``,`` arrays, quoted strings, ``$true``/``$false``/
    ``$null`` and numbers."""

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def _skip(self, newlines: bool = True) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            elif c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            elif c == "`" and self.text[self.pos + 1:self.pos + 2] in ("\n", "\r"):
                self.pos += 2
            else:
                break

    def expr(self) -> t.Any:
        self._skip(newlines=False)
        items = [self.primary()]
        comma = False
        while True:
            self._skip(newlines=False)
            if self.text.startswith(",", self.pos):
                comma = True
                self.pos += 1
                self._skip()
                items.append(self.primary())
            else:
                break
        return items if comma else items[0]

    def primary(self) -> t.Any:
        self._skip(newlines=False)
        text, pos = self.text, self.pos
        if text.startswith(",", pos):
            self.pos += 1
            return [self.primary()]
        if text.startswith("@(", pos):
            self.pos += 2
            elems: list[t.Any] = []
            while True:
                self._skip()
                if text.startswith(")", self.pos):
                    self.pos += 1
                    break
                # Each statement's output is enumerated one level into @().
                value = self.expr()
                if isinstance(value, list):
                    elems.extend(value)
                else:
                    elems.append(value)
                self._skip(newlines=False)
                if text.startswith(";", self.pos):
                    self.pos += 1
            return elems
        if text.startswith("@{", pos):
            self.pos += 2
            out: dict[str, t.Any] = {}
            while True:
                self._skip()
                if text.startswith("}", self.pos):
                    self.pos += 1
                    return out
                m = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|'[^']*'|\"[^\"$`]*\")\s*=").match(text, self.pos)
                if not m:
                    raise _PwshParseError(f"bad key at {self.pos}")
                key = m.group(1).strip("'\"")
                self.pos = m.end()
                out[key] = self.expr()
                self._skip(newlines=False)
                if text.startswith(";", self.pos):
                    self.pos += 1
        if text.startswith("'", pos):
            end = pos + 1
            buf = []
            while True:
                nxt = text.find("'", end)
                if nxt < 0:
                    raise _PwshParseError("unterminated string")
                buf.append(text[end:nxt])
                if text.startswith("''", nxt):
                    buf.append("'")
                    end = nxt + 2
                    continue
                self.pos = nxt + 1
                return "".join(buf)
        if text.startswith('"', pos):
            m = re.compile(r'"([^"$`]*)"').match(text, pos)
            if not m:
                raise _PwshParseError("expandable string")
            self.pos = m.end()
            return m.group(1)
        m = re.compile(r"\$(true|false|null)\b", re.IGNORECASE).match(text, pos)
        if m:
            self.pos = m.end()
            return {"true": True, "false": False, "null": None}[m.group(1).lower()]
        m = re.compile(r"-?\d+\b").match(text, pos)
        if m:
            self.pos = m.end()
            return int(m.group(0))
        raise _PwshParseError(f"unsupported expression at {pos}: {text[pos:pos + 30]!r}")


def _constraints_from_source(fqcn: str, source: str) -> dict[str, t.Any]:
    """The top-level cross-option constraints of the module's ``$spec``.
    A constraint the parser cannot read fails loudly rather than being
    silently skipped."""
    out: dict[str, t.Any] = {}
    start = re.search(r"^\s*\$spec\s*=\s*@\{", source, re.MULTILINE)
    if not start:
        return out
    # Only look at the top level of the spec hashtable.
    depth, i, top_positions = 0, start.end() - 2, []
    in_str: str | None = None
    while i < len(source):
        c = source[i]
        if in_str:
            if c == in_str:
                in_str = None
        elif c in "'\"":
            in_str = c
        elif c == "#":
            i = source.find("\n", i)
            if i < 0:
                break
            continue
        elif c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and c == "\n":
            top_positions.append(i + 1)
        i += 1
    for pos in top_positions:
        m = re.compile(r"[ \t]*(" + "|".join(_CONSTRAINT_KEYS) + r")\s*=\s*").match(source, pos)
        if not m:
            continue
        try:
            value = _PwshLiteral(source, m.end()).expr()
        except _PwshParseError as exc:
            raise SimulatorError(f"winsim: cannot read {m.group(1)} of {fqcn}'s argument spec: {exc}") from exc
        out[m.group(1)] = value
    return out


# -- Ansible.Basic ------------------------------------------------------------------------

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


# -- Ansible.ModuleUtils.Legacy -----------------------------------------------------------

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


def validate(spec: ModuleSpec, args: dict[str, t.Any], module_name: str,
             expand: t.Callable[[str], str] = lambda s: s, legacy_check_mode: bool = True) -> Validated:
    """Validate ``args`` (``complex_args``) the way the real module does."""
    if spec.style == "basic":
        return validate_basic(spec, args, module_name, expand)
    return validate_legacy(spec, args, module_name, expand, legacy_check_mode)
