"""The checks of the ``mcms.infra.preflight`` action, free of Ansible's executor.

The action (``plugins/action/preflight.py``) gathers, for every host in play,
its inventory variables (raw and resolved) and the roles its tiers will run;
this module decides what is wrong. Keeping the logic here lets unit tests
drive it with plain dictionaries.

Every problem is reported as ``host: variable: problem → fix`` so that one
failure message tells an operator everything to correct before any host is
touched.

What is checked, per host:

* **Role input**: each variable a role declares in its
  ``meta/argument_specs.yml`` (entry point ``main``) and that the inventory
  defines is validated with Ansible's own ``ArgumentSpecValidator`` (types,
  choices, nested options, unknown keys). Role defaults fill what the
  inventory leaves out, so only required options without a default must be
  defined. A variable with a role's prefix that the role does not declare is
  reported too (a typo in group_vars would otherwise be ignored silently).
* **Tier requirements** (``tiers.yml`` ``required``): variables whose role
  default is a placeholder no environment can run with (an internal artifact
  location, the sites to serve), optionally only while another variable is
  true.
* **Role semantics**: the one validation function of each role
  (:data:`ROLE_VALIDATORS`, the same functions the roles' ``validate.yml``
  call through the ``*_input_errors`` filters), on the role's variables as
  the host will see them (inventory over role defaults). A bad ``tls_*``
  variable therefore fails here, before the ``iis`` role of the same tier
  touches any host; a ``tls_sites`` entry must name a site of the ``iis``
  role when both run on the host.
* **Secrets**: every ``vault_*`` variable referenced by the host's variables
  exists and is not empty; an option a role marks ``no_log`` (an app pool
  password, a PFX and its password) and every connection password
  (``ansible_password``, ...) is vaulted -- encrypted itself, or a template
  whose variables are encrypted -- never plain text in the inventory.
* **Connection** of real hosts (anything but winsim): PSRP over HTTPS with
  certificate validation and Kerberos; never CredSSP, Basic or NTLM; the CA
  bundle, when given, exists on the controller. On every host: no Kerberos
  delegation (``ansible_psrp_negotiate_delegate``,
  ``ansible_winrm_kerberos_delegation``) unless the environment allows it
  with a reason (``mcms_allow_kerberos_delegation: {reason: ...}``).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import typing as t
from collections.abc import Callable, Iterable, Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mcms.infra.plugins.plugin_utils import _iis, _sql_backup, _tls
from ansible_collections.mcms.infra.plugins.plugin_utils._validate import leading_variable

SIM_CONNECTIONS = frozenset({"mcms.winsim.sim"})
PSRP_CONNECTIONS = frozenset({"psrp", "ansible.builtin.psrp", "ansible.legacy.psrp"})
ACCEPTED_PSRP_AUTH = frozenset({"kerberos", "certificate"})
VAULT_REF = re.compile(r"\bvault_[A-Za-z0-9_]+\b")
IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
# Connection variables that carry a password: never plain text in an inventory.
CONNECTION_SECRETS = ("ansible_password", "ansible_pass", "ansible_psrp_password", "ansible_winrm_password",
                      "ansible_become_password", "ansible_become_pass", "ansible_ssh_pass")
# Settings that hand the host a forwardable Kerberos ticket of the deployment account.
DELEGATION_SETTINGS = ("ansible_psrp_negotiate_delegate", "ansible_winrm_kerberos_delegation")
DELEGATION_ALLOWANCE = "mcms_allow_kerberos_delegation"
SPEC_FILE = os.path.join("meta", "argument_specs.yml")

# Keys of a role argument spec that ArgumentSpecValidator does not know; they
# are documentation only.
_DOC_KEYS = frozenset({"description", "version_added", "author", "short_description", "notes", "seealso"})


class PreflightError(Exception):
    """The preflight itself is misconfigured (a missing role, a bad tiers file)."""


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix, for one host."""

    host: str
    variable: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.host}: {self.variable}: {self.problem} → {self.fix}"


class Unresolvable(Exception):
    """A variable's value cannot be computed (it references an undefined variable)."""


# A resolver returns the templated value of one of the host's variables, or
# raises Unresolvable.
Resolver = Callable[[str], t.Any]


@dataclasses.dataclass(frozen=True)
class Requirement:
    """A variable an environment must set (non-empty) for the hosts of a tier."""

    var: str
    when: str | None = None
    why: str = ""


@dataclasses.dataclass(frozen=True)
class Tier:
    """A tier of site.yml: the group it targets and the roles it runs, in order."""

    name: str
    hosts: str
    roles: tuple[str, ...]
    required: tuple[Requirement, ...] = ()


@dataclasses.dataclass(frozen=True)
class RoleSpec:
    """A role's public interface: options of entry point ``main`` and defaults."""

    name: str
    path: str
    options: Mapping[str, Mapping[str, t.Any]]
    defaults: Mapping[str, t.Any]


def parse_tiers(data: t.Any) -> list[Tier]:
    """Validate and convert the ``mcms_tiers`` data (playbooks/vars/tiers.yml)."""
    if not isinstance(data, list) or not data:
        raise PreflightError("tiers must be a non-empty list of {name, hosts, roles, required}")
    tiers = []
    for index, item in enumerate(data):
        where = f"tiers[{index}]"
        if not isinstance(item, Mapping):
            raise PreflightError(f"{where} must be a mapping")
        unknown = set(item) - {"name", "hosts", "roles", "required", "description"}
        if unknown:
            raise PreflightError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        name, hosts, roles = item.get("name"), item.get("hosts"), item.get("roles")
        if not isinstance(name, str) or not name:
            raise PreflightError(f"{where}.name must be a non-empty string")
        if not isinstance(hosts, str) or not hosts:
            raise PreflightError(f"{where} ({name}).hosts must name an inventory group")
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            raise PreflightError(f"{where} ({name}).roles must be a list of role names")
        required = []
        for r_index, req in enumerate(item.get("required") or []):
            if isinstance(req, str):
                req = {"var": req}
            if not isinstance(req, Mapping) or not isinstance(req.get("var"), str):
                raise PreflightError(f"{where} ({name}).required[{r_index}] must be a name or {{var, when, why}}")
            required.append(Requirement(var=req["var"], when=req.get("when"), why=str(req.get("why") or "")))
        tiers.append(Tier(name=name, hosts=hosts, roles=tuple(roles), required=tuple(required)))
    return tiers


def load_role(name: str, roles_path: Iterable[str], load_yaml: Callable[[str], t.Any]) -> RoleSpec:
    """Find role ``name`` on ``roles_path`` and read its argument spec and defaults."""
    searched = []
    for base in roles_path:
        path = os.path.join(base, name)
        searched.append(path)
        if not os.path.isdir(path):
            continue
        spec_file = os.path.join(path, SPEC_FILE)
        if not os.path.isfile(spec_file):
            raise PreflightError(f"role {name} has no {SPEC_FILE} ({path}): every role must declare its input")
        spec = load_yaml(spec_file) or {}
        try:
            options = spec["argument_specs"]["main"].get("options") or {}
        except (KeyError, TypeError, AttributeError) as exc:
            raise PreflightError(f"{spec_file} has no argument_specs.main entry point") from exc
        defaults: Mapping[str, t.Any] = {}
        for candidate in ("main.yml", "main.yaml", "main"):
            defaults_file = os.path.join(path, "defaults", candidate)
            if os.path.isfile(defaults_file):
                defaults = load_yaml(defaults_file) or {}
                break
        return RoleSpec(name=name, path=path, options=options, defaults=defaults)
    raise PreflightError(f"role {name} not found (searched: {', '.join(searched) or 'no roles_path'})")


def _validator_spec(spec: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A role option spec without its documentation keys, recursively."""
    clean: dict[str, t.Any] = {}
    for key, value in spec.items():
        if key in _DOC_KEYS:
            continue
        if key == "options" and isinstance(value, Mapping):
            clean[key] = {name: _validator_spec(sub) for name, sub in value.items()}
        else:
            clean[key] = value
    return clean


def _is_empty(value: t.Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict, tuple)) and len(value) == 0)


def _where(host: str, var: str) -> str:
    return f"group_vars/<group>/ or host_vars/{host}/"


def check_role_input(host: str, role: RoleSpec, defined: Iterable[str], resolve: Resolver,
                     other_options: Iterable[str] = ()) -> list[Problem]:
    """Validate the variables of ``role`` that the inventory defines for ``host``."""
    problems: list[Problem] = []
    defined = set(defined)
    spec_ref = f"see roles/{role.name}/meta/argument_specs.yml"
    for name, spec in sorted(role.options.items()):
        if name not in defined:
            if spec.get("required") and "default" not in spec and name not in role.defaults:
                problems.append(Problem(host, name, f"required by role {role.name} and not defined",
                                        f"define it in {_where(host, name)} ({spec_ref})"))
            continue
        try:
            value = resolve(name)
        except Unresolvable as exc:
            problems.append(Problem(host, name, f"cannot be resolved: {exc}",
                                    "define the variable it references (secrets: vault.yml beside the vars)"))
            continue
        result = ArgumentSpecValidator({name: _validator_spec(spec)}).validate({name: value})
        for message in result.error_messages:
            problems.append(Problem(host, name, message, f"correct it in the inventory ({spec_ref})"))
    known = set(role.options) | set(other_options)
    prefix = f"{role.name}_"
    for name in sorted(defined):
        if name.startswith(prefix) and name not in known:
            close = difflib.get_close_matches(name, sorted(role.options), n=1)
            hint = f"did you mean {close[0]}?" if close else f"{spec_ref} for the options"
            problems.append(Problem(host, name, f"not an option of role {role.name}",
                                    f"rename or remove it ({hint})"))
    return problems


def check_requirements(host: str, tier: Tier, roles: Mapping[str, RoleSpec], defined: Iterable[str],
                       resolve: Resolver) -> list[Problem]:
    """The tier's ``required`` variables are set and not empty for ``host``."""
    problems: list[Problem] = []
    defined = set(defined)
    for req in tier.required:
        if req.when:
            try:
                active = boolean(_value_or_default(req.when, defined, resolve, roles), strict=False)
            except Unresolvable:
                active = True  # reported by the role input check
            if not active:
                continue
        why = f" ({req.why})" if req.why else ""
        if req.var not in defined:
            condition = f" while {req.when} is true" if req.when else ""
            problems.append(Problem(host, req.var, f"required for tier {tier.name}{condition} and not defined{why}",
                                    f"set it in {_where(host, req.var)}"))
            continue
        try:
            value = resolve(req.var)
        except Unresolvable:
            continue  # reported by the role input check
        if _is_empty(value):
            problems.append(Problem(host, req.var, f"required for tier {tier.name} and empty{why}",
                                    f"set a value in {_where(host, req.var)}"))
    return problems


def _value_or_default(name: str, defined: set[str], resolve: Resolver, roles: Mapping[str, RoleSpec]) -> t.Any:
    if name in defined:
        return resolve(name)
    for role in roles.values():
        if name in role.defaults:
            return role.defaults[name]
        if name in role.options and "default" in role.options[name]:
            return role.options[name]["default"]
    return None


def _strings(value: t.Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def vault_references(raw: t.Any) -> set[str]:
    """``vault_*`` names referenced from templates inside a raw (untemplated) value."""
    found: set[str] = set()
    for text in _strings(raw):
        if "{{" in text or "{%" in text:
            found.update(VAULT_REF.findall(text))
    return found


def check_secrets(host: str, raw_vars: Mapping[str, t.Any], resolve: Resolver) -> list[Problem]:
    """Every referenced ``vault_*`` variable exists and is not empty."""
    problems: list[Problem] = []
    referenced: dict[str, set[str]] = {}
    for name, raw in raw_vars.items():
        for ref in vault_references(raw):
            referenced.setdefault(ref, set()).add(name)
    for secret in sorted(referenced):
        users = ", ".join(sorted(referenced[secret]))
        if secret not in raw_vars:
            problems.append(Problem(host, secret, f"secret referenced by {users} is not defined",
                                    "add it to the vault.yml beside the vars (ansible-vault edit; "
                                    "see vault.yml.example)"))
            continue
        try:
            value = resolve(secret)
        except Unresolvable as exc:
            problems.append(Problem(host, secret, f"secret cannot be resolved: {exc}", "fix it in vault.yml"))
            continue
        if _is_empty(value):
            problems.append(Problem(host, secret, f"secret referenced by {users} is empty",
                                    "set it in vault.yml (ansible-vault edit)"))
    return problems


def _no_log_paths(options: Mapping[str, t.Any], raw: t.Any, path: str) -> Iterable[tuple[str, t.Any]]:
    """(path, raw value) of every ``no_log`` option set inside ``raw``."""
    if not isinstance(raw, Mapping):
        return
    for name, spec in options.items():
        if name not in raw:
            continue
        value = raw[name]
        here = f"{path}.{name}"
        if spec.get("no_log"):
            yield here, value
        sub = spec.get("options")
        if sub:
            if spec.get("type") == "list" and isinstance(value, list):
                for index, item in enumerate(value):
                    yield from _no_log_paths(sub, item, f"{here}[{index}]")
            else:
                yield from _no_log_paths(sub, value, here)


def is_vaulted(value: t.Any) -> bool:
    """True for an Ansible Vault value: an inline ``!vault`` or a value from a vault-encrypted file."""
    try:
        from ansible.parsing.vault import VaultHelper
    except ImportError:  # pragma: no cover - ansible-core < 2.19
        from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode

        return isinstance(value, AnsibleVaultEncryptedUnicode)
    return VaultHelper.get_ciphertext(value, with_tags=True) is not None


def _clear_sources(name: str, raw_vars: Mapping[str, t.Any], vaulted: Callable[[t.Any], bool],
                   seen: frozenset[str] = frozenset()) -> list[str]:
    """The variables, ``name`` or one its template uses, that hold a secret in clear text."""
    raw = raw_vars.get(name)
    if raw is None or vaulted(raw) or not isinstance(raw, str) or _is_empty(raw):
        return []
    if "{{" not in raw and "{%" not in raw:
        return [name]
    found: list[str] = []
    for ref in sorted(set(IDENTIFIER.findall(raw))):
        if ref in raw_vars and ref != name and ref not in seen:
            found.extend(_clear_sources(ref, raw_vars, vaulted, seen | {name}))
    return found


def check_connection_secrets(host: str, raw_vars: Mapping[str, t.Any],
                             vaulted: Callable[[t.Any], bool] = is_vaulted) -> list[Problem]:
    """Connection passwords (``ansible_password``, ...) are vaulted, never in clear in the inventory."""
    problems: list[Problem] = []
    for name in CONNECTION_SECRETS:
        for source in _clear_sources(name, raw_vars, vaulted):
            via = "" if source == name else f" (the value of {name})"
            problems.append(Problem(host, source, f"password in plain text{via}, not encrypted with Ansible Vault",
                                    "encrypt it: keep it as a vault_* variable in an encrypted vault.yml "
                                    "(ansible-vault encrypt) or an inline !vault value (ansible-vault "
                                    "encrypt_string), and reference it ('{{ vault_... }}')"))
    return problems


def check_delegation(host: str, resolve_optional: Callable[[str], t.Any]) -> list[Problem]:
    """No Kerberos delegation of the deployment account unless the environment allows it with a reason."""
    enabled = []
    for name in DELEGATION_SETTINGS:
        try:
            value = resolve_optional(name)
        except Unresolvable:
            continue
        if value is not None and boolean(value, strict=False):
            enabled.append(name)
    if not enabled:
        return []
    try:
        allowance = resolve_optional(DELEGATION_ALLOWANCE)
    except Unresolvable:
        allowance = None
    reason = allowance.get("reason") if isinstance(allowance, Mapping) else None
    if isinstance(reason, str) and reason.strip():
        return []
    problem = ("delegates the deployment account's Kerberos ticket to the host (any process there can act as it "
               "on the whole network)")
    if allowance is not None:
        problem += f"; {DELEGATION_ALLOWANCE} is set without a non-empty reason"
    return [Problem(host, name, problem,
                    f"remove it, or allow it for this environment with {DELEGATION_ALLOWANCE}: "
                    "{reason: \"why this environment needs double-hop\"} (docs/decisions.md)") for name in enabled]


# The one validation function of each role (semantic checks an argument spec cannot express). The roles'
# validate.yml call the same functions through the mcms.infra.<role>_input_errors filters.
# A validator returns messages that start with the variable's name, or
# ``(variable, problem, fix)`` tuples.
# Each gets the role's values, the other roles' values on the same host, and
# the inventory (``{"hosts": [...], "groups": {group: [hosts]}}``).
ROLE_VALIDATORS: dict[str, Callable[[Mapping[str, t.Any], Mapping[str, Mapping[str, t.Any]], Mapping[str, t.Any]],
                                    list[str] | list[tuple[str, str, str]]]] = {
    "iis": lambda values, _others, _inv: _iis.input_errors(dict(values)),
    "sql_backup": lambda values, _others, _inv: _sql_backup.problems(values),
    "service_accounts": lambda values, _others, inv: _service_accounts_rules(values, inv["hosts"], inv["groups"]),
    "app": lambda values, others, _inv: _app_rules(values, others.get("iis")),
    "tls": lambda values, others, _inv: _tls.input_errors(
        dict(values), _iis.managed_site_names(dict(others["iis"])) if "iis" in others else None),
}


def role_values(role: RoleSpec, defined: Iterable[str], resolve: Resolver) -> dict[str, t.Any]:
    """The role's variables as the host will see them: the inventory's, else the role defaults."""
    defined = set(defined)
    values: dict[str, t.Any] = {}
    for name, spec in role.options.items():
        if name in defined:
            values[name] = resolve(name)
        elif name in role.defaults:
            values[name] = role.defaults[name]
        elif "default" in spec:
            values[name] = spec["default"]
    return values


def check_role_semantics(host: str, values_by_role: Mapping[str, Mapping[str, t.Any]],
                         hosts: Iterable[str] = (), groups: Mapping[str, Iterable[str]] | None = None
                         ) -> list[Problem]:
    """Run each role's validation function on its variables for ``host``
    (``hosts``/``groups``: the inventory, for rules that name hosts)."""
    inventory = {"hosts": list(hosts), "groups": dict(groups or {})}
    problems: list[Problem] = []
    for name, values in values_by_role.items():
        validator = ROLE_VALIDATORS.get(name)
        if validator is None:
            continue
        try:
            messages = validator(values, values_by_role, inventory)
        except Exception as exc:  # a validator crash is a problem to report, not a traceback
            # Only the exception's type: its text could quote a value, and values may be secrets.
            messages = [f"role {name}: its input cannot be validated ({type(exc).__name__} in the role's "
                        "validation function; run the role alone with -e to see which value)"]
        for message in messages:
            if isinstance(message, tuple):
                variable, problem, fix = message
                problems.append(Problem(host, variable, problem, f"{fix} (role {name}, docs/roles/{name}.md)"))
                continue
            variable = leading_variable(message)
            problems.append(Problem(host, variable if variable.startswith(f"{name}_") else f"(role {name})", message,
                                    f"correct it in the inventory (docs/roles/{name}.md)"))
    return problems


def check_plaintext_secrets(host: str, role: RoleSpec, raw_vars: Mapping[str, t.Any],
                            vaulted: Callable[[t.Any], bool] = is_vaulted) -> list[Problem]:
    """A ``no_log`` role option that is set is vaulted (through a ``vault_*`` variable), never in clear."""
    problems: list[Problem] = []
    for name, spec in sorted(role.options.items()):
        if name not in raw_vars:
            continue
        candidates: list[tuple[str, t.Any]] = []
        if spec.get("no_log"):
            candidates.append((name, raw_vars[name]))
        sub = spec.get("options")
        if sub:
            value = raw_vars[name]
            items = enumerate(value) if spec.get("type") == "list" and isinstance(value, list) else [(None, value)]
            for index, item in items:
                base = name if index is None else f"{name}[{index}]"
                candidates.extend(_no_log_paths(sub, item, base))
        for path, value in candidates:
            if vaulted(value) or not isinstance(value, str) or _is_empty(value):
                continue
            refs = vault_references(value)
            if not refs:
                problems.append(Problem(host, path, "secret given in plain text",
                                        "move it to a vault_* variable in vault.yml and reference it "
                                        "('{{ vault_... }}')"))
            for ref in sorted(refs):
                if ref in raw_vars and not vaulted(raw_vars[ref]) and isinstance(raw_vars[ref], str) \
                        and not _is_empty(raw_vars[ref]):
                    problems.append(Problem(host, ref, f"secret (used by {path}) in plain text, not encrypted "
                                            "with Ansible Vault", "encrypt vault.yml (ansible-vault encrypt) or "
                                            "give it as an inline !vault value (ansible-vault encrypt_string)"))
    return problems


def check_connection(host: str, connection: str | None, resolve_optional: Callable[[str], t.Any],
                     file_exists: Callable[[str], bool] = os.path.isfile) -> list[Problem]:
    """Connection settings of a real Windows host: PSRP, HTTPS, validated certificate, Kerberos."""
    if connection in SIM_CONNECTIONS:
        return []
    problems: list[Problem] = []
    if connection not in PSRP_CONNECTIONS:
        problems.append(Problem(host, "ansible_connection", f"is {connection or 'not set'!s}, not psrp",
                                "set ansible_connection: ansible.builtin.psrp (WinRM over HTTPS, port 5986)"))
        return problems

    def get(name: str) -> t.Any:
        try:
            return resolve_optional(name)
        except Unresolvable as exc:
            problems.append(Problem(host, name, f"cannot be resolved: {exc}", "define the variable it references"))
            return None

    protocol = get("ansible_psrp_protocol")
    if protocol != "https":
        problems.append(Problem(host, "ansible_psrp_protocol", f"is {protocol or 'not set'}, not https",
                                "set ansible_psrp_protocol: https (port 5986)"))
    validation = get("ansible_psrp_cert_validation")
    if validation is not None and str(validation).lower() == "ignore":
        problems.append(Problem(host, "ansible_psrp_cert_validation", "is ignore: the host is not authenticated",
                                "set ansible_psrp_cert_validation: validate and ansible_psrp_ca_cert to the "
                                "internal CA bundle"))
    auth = get("ansible_psrp_auth")
    auth_text = str(auth).lower() if auth is not None else None
    if auth_text == "credssp":
        problems.append(Problem(host, "ansible_psrp_auth", "is credssp, which delegates reusable credentials "
                                "to the host (never allowed)", "set ansible_psrp_auth: kerberos"))
    elif auth_text not in ACCEPTED_PSRP_AUTH:
        problems.append(Problem(host, "ansible_psrp_auth", f"is {auth_text or 'not set (negotiate)'}, "
                                "which may fall back to NTLM or send clear-text credentials",
                                "set ansible_psrp_auth: kerberos"))
    ca_cert = get("ansible_psrp_ca_cert")
    if ca_cert is not None and validation is not None and str(validation).lower() != "ignore":
        if _is_empty(ca_cert):
            problems.append(Problem(host, "ansible_psrp_ca_cert", "is empty",
                                    "set mcms_ca_bundle_path to the internal CA bundle on the controller"))
        elif not file_exists(str(ca_cert)):
            problems.append(Problem(host, "ansible_psrp_ca_cert", f"CA bundle {ca_cert} does not exist on the "
                                    "controller", "install the internal CA bundle there or set "
                                    "mcms_ca_bundle_path to its path"))
    return problems


def _service_accounts_rules(config: Mapping[str, t.Any], hosts: Iterable[str],
                            groups: Mapping[str, Iterable[str]]) -> list[str]:
    from ansible_collections.mcms.infra.plugins.plugin_utils import _service_accounts

    return _service_accounts.input_errors(config, hosts, groups)


def _app_rules(values: Mapping[str, t.Any], iis: Mapping[str, t.Any] | None = None) -> list[tuple[str, str, str]]:
    from ansible_collections.mcms.infra.plugins.plugin_utils import _app

    templates = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "..", "roles", "app",
                             "templates")
    return _app.problems(values, templates if os.path.isdir(templates) else None) + _app.bluegreen_problems(values, iis)


def format_report(problems: Iterable[Problem], host_count: int) -> str:
    """The one failure message: every problem, sorted by host and variable."""
    problems = sorted(set(problems))
    hosts = sorted({p.host for p in problems})
    lines = [f"Preflight found {len(problems)} problem(s) on {len(hosts)} of {host_count} host(s); "
             "nothing was run on any host:"]
    lines.extend(f"  - {p.line()}" for p in problems)
    return "\n".join(lines)
