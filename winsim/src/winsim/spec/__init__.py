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

The package: :mod:`.spec_doc` (doc loading, spec assembly),
:mod:`.pwsh_literal` (PowerShell literal parsing),
:mod:`.basic` (Ansible.Basic validation), :mod:`.legacy` (Legacy
validation); every name stays importable from ``winsim.spec``.
"""

from __future__ import annotations

import typing as t

from .basic import (  # noqa: F401
    _DYNAMIC_INVOKE_MSG,
    _INVALID_PATH_CHARS,
    _PASS_BOOLS,
    BOOLEANS_FALSE,
    BOOLEANS_TRUE,
    PASS_VARS,
    Validated,
    _as_list,
    _Basic,
    _canonical,
    _ConvertError,
    _make_parse_path,
    _parse_bool,
    _parse_dict,
    _parse_float,
    _parse_int,
    _parse_json,
    _parse_list,
    _parse_str,
    net_type,
    validate_basic,
)
from .legacy import (  # noqa: F401
    _FAILIFEMPTY,
    _GET_PARAM,
    _PARAM_NAME,
    _VALIDATESET,
    _legacy_bool,
    _legacy_float,
    _legacy_int,
    _legacy_validatesets,
    validate_legacy,
)
from .pwsh_literal import (  # noqa: F401
    _CONSTRAINT_KEYS,
    _constraints_from_source,
    _PwshLiteral,
    _PwshParseError,
)
from .spec_doc import (  # noqa: F401
    _CREATE,
    _DOC_CACHE,
    _INTERNAL,
    _LOCK,
    _SPEC_CACHE,
    _UTIL_RE,
    CheckModeSkip,
    ModuleSpec,
    _doc_to_spec,
    _mark_no_log,
    _module_util_path,
    ensure_plugin_loader,
    load_doc_options,
    load_module_source,
    module_spec,
    register_internal_options,
)

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


def validate(spec: ModuleSpec, args: dict[str, t.Any], module_name: str,
             expand: t.Callable[[str], str] = lambda s: s, legacy_check_mode: bool = True) -> Validated:
    """Validate ``args`` (``complex_args``) the way the real module does."""
    if spec.style == "basic":
        return validate_basic(spec, args, module_name, expand)
    return validate_legacy(spec, args, module_name, expand, legacy_check_mode)
