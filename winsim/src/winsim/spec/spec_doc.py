"""Where a module's spec comes from: its documentation on disk, its PowerShell
source (check-mode support, ``no_log`` options, constraints) and the internal
options models register."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import re
import threading
import typing as t
from pathlib import Path

from ..masking import is_secret_name
from ..models._base import SimulatorError
from .pwsh_literal import _CONSTRAINT_KEYS, _constraints_from_source


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
        from .legacy import _legacy_validatesets

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
