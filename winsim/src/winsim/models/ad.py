"""Active Directory models: ``microsoft.ad`` 1.12.1 against ``state["ad"]``.

Modelled from the installed sources: ``module_utils/_ADObject.psm1``
(``Invoke-AnsibleADObject``, the framework ``group``, ``user`` and
``service_account`` are built on, modelled once here as
:func:`_invoke_ad_object`), ``modules/group.ps1``, ``user.ps1``,
``service_account.ps1``, ``kds_root_key.ps1`` and ``membership.ps1``.

State section ``ad`` (owned here)
---------------------------------
A fresh host is no domain controller: ``{"is_dc": false}``.  A DC is seeded
by the lab inventory / ``winsim set`` or by tests through
:func:`ensure_domain` (``ensure_domain(state, "corp.example", "CORP")``),
which makes the host the first DC of that domain::

    state["ad"] = {
      "is_dc": true,
      "domain": {"dns_root": "corp.example", "netbios": "CORP", "dn": "DC=corp,DC=example",
                 "sid": "S-1-5-21-a-b-c", "configuration_nc": "CN=Configuration,DC=corp,DC=example"},
      "next_rid": 1104,
      "kds_root_keys": {KEY_GUID: {"key_id": KEY_GUID, "effective_time": ISO, "created": ISO}},
      "objects": {GUID: {"guid": GUID, "dn": "CN=svc_mcms,CN=Users,DC=corp,DC=example",
                         "name": "svc_mcms", "class": "user" | "group" | "msDS-GroupManagedServiceAccount"
                                                     | "computer" | "container" | "organizationalUnit",
                         "sid": "S-1-5-21-...-1105" | null,
                         "attrs": {<lower-case attribute>: value or [values]}}}}

Attribute keys are the lower-cased names the modules compare
(``samaccountname``, ``userprincipalname``, ``description``,
``displayname``, ``protectedfromaccidentaldeletion``, ``enabled``,
``member`` [DNs], ``groupscope``/``groupcategory`` (``Global``/``Security``),
``serviceprincipalname`` [list], ``dnshostname``,
``principalsallowedtoretrievemanagedpassword`` [DNs],
``kerberosencryptiontype`` [names], ``password`` (``sha256:`` digest, never
clear text), ...) plus any raw LDAP attribute set through ``attributes``.
Group membership is held on the group (``member``); a user's groups are
derived from it.

The host document's ``host`` section follows: a DC has ``domain`` set and
``domain_role`` ``Primary domain controller``; ``microsoft.ad.membership``
sets ``domain``/``workgroup``/``domain_role`` of a member server and
``reboot_pending`` (the join takes effect at the next reboot, as reported by
``reboot_required``).

The AD object modules run against a DC: on the DC host, its own directory;
on another host only with the ``RSAT-AD-PowerShell`` feature (else the AD
cmdlets do not exist), against the DC named by ``domain_server`` or a DC of
the host's domain found in the lab, whose state is edited through
``runtime.Lab.edit`` (saved only when the module succeeds, never in check
mode); no DC found fails like ``Get-ADRootDSE`` does (see :func:`_on_dc`).
``kds_root_key`` runs on the DC only.

``microsoft.ad.membership`` validates the domain against the lab when
``ctx.runtime.lab`` is available and holds a DC state: an unknown domain or
wrong ``domain_admin_user``/password (when the DC knows that account's
password digest) fails like ``Add-Computer``; without a lab it trusts the
arguments.  A join creates the computer object on the lab's DC
(``CN=<HOST>,CN=Computers,<domain DN>`` or ``domain_ou_path``,
sAMAccountName ``<HOST>$``, a SID of the domain) through ``Lab.edit``, and
records the domain's NetBIOS name in ``host.domain_netbios``.  Account
names resolve through :mod:`winsim.identity`.

A rename through ``membership`` (``hostname``) is applied to the state at
once (a real host reports the old name until it reboots); the join itself
is visible at once, as ``Win32_ComputerSystem`` shows it before the reboot.

gMSA creation needs a KDS root key that the DCs may use: a key is usable 10
hours after its effective time (``kds_root_key`` sets the effective time to
now + ``effective_time_hours`` - 10 h, so ``effective_time_hours: 0`` is
usable at once), else ``New-ADServiceAccount`` fails with ``Key does not
exist``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import hashlib
import re
import typing as t
import uuid

from .. import secrets
from .. import state as st
from ..drift import Arg, DriftError, drift, run_upstream
from ..pwsh import ps_str
from ._base import ModuleContext, model

__all__ = ["ensure_domain", "find_object", "groups_of", "is_dc"]

UPSTREAM = "microsoft.ad 1.12.1"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
NO_LOG = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

_NO_CMDLET = ("The term 'Get-ADRootDSE' is not recognized as the name of a cmdlet, function, script file, or "
              "operable program. Check the spelling of the name, or if a path was included, verify that the path "
              "is correct and try again.")
_NO_ADWS = "Unable to find a default server with Active Directory Web Services running."
_NO_SERVER = ("Unable to contact the server. This may be because this server does not exist, it is currently down, "
              "or it does not have the Active Directory Web Services running.")


@st.section("ad")
def _fresh_ad() -> dict[str, t.Any]:
    return {"is_dc": False}


# -- seeding a domain controller -----------------------------------------------------------------

def _guid(*parts: str) -> str:
    """Deterministic GUIDs keep seeded documents reproducible."""
    return str(uuid.UUID(bytes=hashlib.sha256("\0".join(parts).encode("utf-8")).digest()[:16], version=4))


def _domain_sid(dns_root: str) -> str:
    from .. import identity

    return identity.domain_sid(dns_root)


def _dn_of(dns_root: str) -> str:
    return ",".join(f"DC={p}" for p in dns_root.split("."))


def ensure_domain(state: dict[str, t.Any], dns_root: str, netbios: str, *,
                  admin_password: str | None = None) -> bool:
    """Make the host the first domain controller of ``dns_root`` (NetBIOS
    ``netbios``): domain containers, the built-in accounts and groups, the
    DC's computer account.  ``admin_password`` (optional) is stored as a
    digest for ``Administrator``.  Returns whether anything changed."""
    ad = state.setdefault("ad", _fresh_ad())
    if ad.get("is_dc") and ad["domain"]["dns_root"].lower() == dns_root.lower():
        return False
    dn = _dn_of(dns_root)
    sid = _domain_sid(dns_root)
    ad.clear()
    ad.update({
        "is_dc": True,
        "domain": {"dns_root": dns_root.lower(), "netbios": netbios.upper(), "dn": dn, "sid": sid,
                   "configuration_nc": f"CN=Configuration,{dn}"},
        "next_rid": 1104,
        "kds_root_keys": {},
        "objects": {},
    })

    def add(name: str, parent: str, cls: str, rid: int | None = None, **attrs: t.Any) -> None:
        prefix = "OU" if cls == "organizationalUnit" else "CN"
        obj_dn = f"{prefix}={name},{parent}"
        guid = _guid(dns_root.lower(), obj_dn.lower())
        attrs.setdefault("description", None)
        attrs.setdefault("protectedfromaccidentaldeletion", cls in ("container", "organizationalUnit"))
        ad["objects"][guid] = {"guid": guid, "dn": obj_dn, "name": name, "class": cls,
                               "sid": f"{sid}-{rid}" if rid is not None else None,
                               "attrs": {k: v for k, v in attrs.items()}}

    for container in ("Users", "Computers", "Managed Service Accounts"):
        add(container, dn, "container")
    add("Domain Controllers", dn, "organizationalUnit")
    users = f"CN=Users,{dn}"
    add("Administrator", users, "user", 500, samaccountname="Administrator", enabled=True,
        password=_digest(admin_password) if admin_password else None,
        description="Built-in account for administering the computer/domain")
    add("Guest", users, "user", 501, samaccountname="Guest", enabled=False)
    add("krbtgt", users, "user", 502, samaccountname="krbtgt", enabled=False)
    for name, rid, scope in (("Domain Admins", 512, "Global"), ("Domain Users", 513, "Global"),
                             ("Domain Computers", 515, "Global"), ("Domain Controllers", 516, "Global"),
                             ("Schema Admins", 518, "Universal"), ("Enterprise Admins", 519, "Universal"),
                             ("Group Policy Creator Owners", 520, "Global")):
        add(name, users, "group", rid, samaccountname=name, groupscope=scope, groupcategory="Security",
            member=[])
    admins = next(o for o in ad["objects"].values() if o["name"] == "Domain Admins")
    admins["attrs"]["member"] = [f"CN=Administrator,{users}"]
    host = state.get("host", {})
    hostname = host.get("hostname", "DC01")
    add(hostname, f"OU=Domain Controllers,{dn}", "computer", 1000, samaccountname=f"{hostname}$", enabled=True,
        dnshostname=f"{hostname.lower()}.{dns_root.lower()}")
    dcs = next(o for o in ad["objects"].values() if o["name"] == "Domain Controllers" and o["class"] == "group")
    dcs["attrs"]["member"] = [f"CN={hostname},OU=Domain Controllers,{dn}"]
    if "host" in state:
        state["host"]["domain"] = dns_root.lower()
        state["host"]["workgroup"] = None
        state["host"]["domain_role"] = "Primary domain controller"
    return True


def is_dc(state: dict[str, t.Any]) -> bool:
    return bool((state.get("ad") or {}).get("is_dc"))


def _digest(value: str | None) -> str | None:
    return secrets.equality_digest(value)


# -- lookups -----------------------------------------------------------------------------------------

def _objects(state: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return state["ad"]["objects"]


def _by_dn(state: dict[str, t.Any], dn: str) -> dict[str, t.Any] | None:
    wanted = _norm_dn(dn)
    for obj in _objects(state).values():
        if _norm_dn(obj["dn"]) == wanted:
            return obj
    return None


def _norm_dn(dn: str) -> str:
    return ",".join(p.strip() for p in re.split(r"(?<!\\),", dn)).lower()


def norm_dn(dn: str) -> str:
    """A distinguished name in the form DNs are compared in."""
    return _norm_dn(dn)


def password_digest(value: str | None) -> str | None:
    """The ``sha256:`` digest AD objects keep of a password (never clear text)."""
    return _digest(value)


def _parent_dn(dn: str) -> str:
    return re.split(r"(?<!\\),", dn, maxsplit=1)[-1]


_SAM_RE = re.compile(r'^(?:[^:*?"<>|/\\]+\\)?(?P<username>[^;:"<>|?,=*+\\()]+)$')
_CLASSES = {"ADObject": None, "ADUser": "user", "ADGroup": "group",
            "ADServiceAccount": "msDS-GroupManagedServiceAccount", "ADComputer": "computer"}


def find_object(state: dict[str, t.Any], identity: str, noun: str = "ADObject",
                passthru: bool = False) -> dict[str, t.Any] | None:
    """``Get-AnsibleADObject``: resolve a GUID, UPN, SID, sAMAccountName
    (``DOMAIN\\name`` accepted, ``$`` retried for computers and service
    accounts) or distinguished name."""
    if not is_dc(state):
        return None
    cls = _CLASSES.get(noun)
    candidates = [o for o in _objects(state).values() if cls is None or o["class"] == cls]
    if passthru:
        wanted = _norm_dn(identity)
        return next((o for o in candidates if _norm_dn(o["dn"]) == wanted), None)
    try:
        guid = str(uuid.UUID(identity))
        return next((o for o in candidates if o["guid"] == guid), None)
    except ValueError:
        pass
    try_upn = noun in ("ADComputer", "ADObject", "ADUser", "ADServiceAccount")
    try_sam = try_upn or noun == "ADGroup"
    if try_upn and re.match(r"^.*@.*\..*$", identity):
        return next((o for o in candidates
                     if str(o["attrs"].get("userprincipalname") or "").lower() == identity.lower()), None)
    if re.fullmatch(r"S-1-\d+(-\d+)+", identity, flags=re.IGNORECASE):
        return next((o for o in candidates if str(o.get("sid") or "").upper() == identity.upper()), None)
    m = _SAM_RE.match(identity)
    if try_sam and m:
        user = m.group("username")

        def by_sam(sam: str) -> dict[str, t.Any] | None:
            return next((o for o in candidates
                         if str(o["attrs"].get("samaccountname") or "").lower() == sam.lower()), None)

        found = by_sam(user)
        if found is None and not user.endswith("$") and noun in ("ADComputer", "ADServiceAccount"):
            found = by_sam(user + "$")
        return found
    wanted = _norm_dn(identity)
    return next((o for o in candidates if _norm_dn(o["dn"]) == wanted), None)


def groups_of(state: dict[str, t.Any], dn: str) -> list[str]:
    """Distinguished names of the groups whose ``member`` holds ``dn``."""
    wanted = _norm_dn(dn)
    return sorted(o["dn"] for o in _objects(state).values()
                  if o["class"] == "group" and any(_norm_dn(m) == wanted for m in o["attrs"].get("member") or []))


# -- the common AD object framework (Invoke-AnsibleADObject) ---------------------------------------------

class _Prop(t.NamedTuple):
    name: str  # module option
    attr: str | None  # lower-case attribute key in state
    kind: str = "str"  # str | bool | dn | list | dnlist
    case_insensitive: bool = False
    no_log: bool = False


def _require_ad(ctx: ModuleContext) -> None:
    if is_dc(ctx.state):
        return
    from . import features

    if features.installed(ctx.state, "RSAT-AD-PowerShell"):
        ctx.fail(f"Unhandled exception while executing module: {_NO_ADWS}")
    ctx.fail(f"Unhandled exception while executing module: {_NO_CMDLET}")


@contextlib.contextmanager
def _on_dc(ctx: ModuleContext) -> t.Iterator[None]:
    """Run an AD object module where the AD cmdlets send it: on a DC, its own
    directory; on another host with the ``RSAT-AD-PowerShell`` feature, the
    DC named by ``domain_server`` or a DC of the host's domain, found in the
    lab (its state is edited under its lock through ``Lab.edit`` and saved
    only when the module succeeds, never in check mode).  Without RSAT the
    cmdlets do not exist; without a reachable DC, ``Get-ADRootDSE`` fails
    like the real one."""
    from .. import identity
    from . import features

    if is_dc(ctx.state):
        yield
        return
    if not features.installed(ctx.state, "RSAT-AD-PowerShell"):
        ctx.fail(f"Unhandled exception while executing module: {_NO_CMDLET}")
    server = ctx.params.get("domain_server")
    lab = identity.lab_of(ctx)
    located = identity.dc_for(ctx.state, lab, server=server) if server or identity.domain_of(ctx.state) else None
    if located is None or located[0] is None:
        ctx.fail(f"Unhandled exception while executing module: {_NO_SERVER if server else _NO_ADWS}")
    host, dc_state = located
    own = ctx.state
    try:
        if ctx.check_mode or not hasattr(lab, "edit"):
            ctx.state = copy.deepcopy(dc_state) if ctx.check_mode else dc_state
            yield
        else:
            with lab.edit(host) as live:
                ctx.state = live
                yield
    finally:
        ctx.state = own


def _as_list(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def _ps_str(value: t.Any) -> str:
    return ps_str(value)


def _idempotent_list(existing: list[t.Any], *, add: list[t.Any] | None = None, remove: list[t.Any] | None = None,
                     set_: list[t.Any] | None = None, case_insensitive: bool = False
                     ) -> tuple[list[t.Any] | None, list[t.Any], list[t.Any], bool]:
    """``Compare-AnsibleADIdempotentList``: (value, to_add, to_remove, changed)."""

    def key(v: t.Any) -> str:
        s = _ps_str(v)
        return s.lower() if case_insensitive else s

    ex_keys = [key(e) for e in existing]
    value: list[t.Any] = []
    to_add: list[t.Any] = []
    to_remove: list[t.Any] = []
    if set_ is not None:
        set_keys = [key(s) for s in set_]
        value.extend(set_)
        to_add = [s for s, k in zip(set_, set_keys, strict=True) if k not in ex_keys]
        to_remove = [e for e, k in zip(existing, ex_keys, strict=True) if k not in set_keys]
    else:
        if remove:
            rm_keys = [key(r) for r in remove]
            for e, k in zip(existing, ex_keys, strict=True):
                (to_remove if k in rm_keys else value).append(e)
        else:
            value.extend(existing)
        for a in add or []:
            if key(a) not in ex_keys:
                to_add.append(a)
                value.append(a)
    return (value or None), to_add, to_remove, bool(to_add or to_remove)


def _to_dns(ctx: ModuleContext, values: list[t.Any], context: str, failure_action: str = "fail") -> list[str]:
    """``ConvertTo-AnsibleADDistinguishedName``."""
    errors: list[str] = []
    invalid: list[str] = []
    out: list[str] = []
    for v in values:
        if isinstance(v, dict):
            if "name" not in v:
                errors.append("Identity entry does not contain the required name key")
                continue
            extra = sorted(k for k in v if k not in ("name", "server"))
            if extra:
                joined = "', '".join(extra)
                errors.append(f"Identity entry for '{v['name']}' contains extra keys: '{joined}'")
                continue
            ident = str(v["name"])
        else:
            ident = _ps_str(v)
        if not ident:
            continue
        obj = find_object(ctx.state, ident)
        if obj is None:
            invalid.append(ident)
        else:
            out.append(obj["dn"])
    prefix = f"Failed to find the AD object DNs for {context}"
    if errors:
        ctx.fail(f"{prefix}. {'. '.join(errors)}.")
    if invalid and failure_action != "ignore":
        ids = "'" + "', '".join(invalid) + "'"
        if failure_action == "fail":
            ctx.fail(f"{prefix}. Invalid identities: {ids}")
        ctx.warn(f"{prefix}. Ignoring invalid identities: {ids}")
    return out


def _attr_value(entry: t.Any, name: str) -> t.Any:
    """One ``attributes`` entry: a raw value or ``{type, value}``."""
    if isinstance(entry, dict):
        if len(entry) > 2:
            keys = "', '".join(entry)
            raise ValueError(f"Attribute '{name}' entry should only contain the 'type' and 'value' keys, "
                             f"found: '{keys}'")
        kind, value = entry.get("type"), entry.get("value")
    else:
        kind, value = "raw", entry
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in ("string", "bytes", "date_time", "security_descriptor"):
        return str(value)
    if kind == "raw":
        return value
    raise ValueError(f"Attribute type '{kind}' must be bytes, date_time, int, security_descriptor, or raw")


def _attributes_update(ctx: ModuleContext, obj: dict[str, t.Any] | None, attributes: dict[str, t.Any]
                       ) -> tuple[dict[str, list[t.Any]], dict[str, t.Any] | None, dict[str, t.Any]]:
    """``Update-AnsibleADSetADObjectParam``: new attribute values to store,
    and the attributes diff (before is ``None`` for a new object)."""
    new_values: dict[str, list[t.Any]] = {}
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    actions = [("add", attributes.get("add") or {})]
    if obj is not None:
        actions.append(("remove", attributes.get("remove") or {}))
    actions.append(("set", attributes.get("set") or {}))
    for action, entries in actions:
        for name, raw in entries.items():
            current = [] if obj is None else _as_list(obj["attrs"].get(name.lower()))
            current = list(new_values.get(name.lower(), current))
            try:
                desired = [_attr_value(v, name) for v in _as_list(raw)]
            except ValueError as exc:
                ctx.fail(f"Unhandled exception while executing module: {exc}")
            cur_s = [_ps_str(c) for c in current]
            des_s = [_ps_str(d) for d in desired]
            if action == "add":
                result = current + [d for d, s in zip(desired, des_s, strict=True) if s not in cur_s]
            elif action == "remove":
                result = [c for c, s in zip(current, cur_s, strict=True) if s not in des_s]
            else:
                result = desired
            if [_ps_str(r) for r in result] != cur_s:
                new_values[name.lower()] = result
            before[name] = sorted(cur_s)
            after[name] = sorted(_ps_str(r) for r in result)
    return new_values, (None if obj is None else before), after


class _Spec(t.NamedTuple):
    noun: str
    cls: str
    default_container: str  # relative to the domain DN
    props: list[_Prop]


def _common_props() -> list[_Prop]:
    return [_Prop("description", "description"), _Prop("display_name", "displayname"),
            _Prop("protect_from_deletion", "protectedfromaccidentaldeletion", "bool")]


def _check_credentials(ctx: ModuleContext) -> None:
    has_default = False
    for cred in ctx.params.get("domain_credentials") or []:
        if not cred.get("name"):
            if has_default:
                ctx.fail("Cannot specify default domain_credentials with domain_username and domain_password")
            has_default = True
    if ctx.params.get("domain_username") and has_default:
        ctx.fail("Cannot specify domain_username/domain_password and domain_credentials with an entry that has "
                 "no name.")


def _sorted_if_list(value: t.Any) -> t.Any:
    if isinstance(value, list):
        return sorted(value, key=_ps_str)
    return value


def _unrolled(value: t.Any) -> t.Any:
    """A value as PowerShell hands it on: a one-item array as its item, an
    empty one as ``$null``.  ``$adObject[$attr].Value`` (an
    ADPropertyValueCollection) and ``Compare-AnsibleADIdempotentList``'s
    ``Value = if (...) { $value.ToArray() }`` both give a scalar for one
    value, so a one-value attribute is a string on both sides of the diff."""
    if isinstance(value, list):
        return None if not value else value[0] if len(value) == 1 else value
    return value


def _new_sid(ctx: ModuleContext) -> str:
    ad = ctx.state["ad"]
    rid = ad["next_rid"]
    ad["next_rid"] = rid + 1
    return f"{ad['domain']['sid']}-{rid}"


Hook = t.Callable[..., t.Any]


def _invoke_ad_object(ctx: ModuleContext, spec: _Spec, **hooks: t.Any) -> dict[str, t.Any]:
    """:func:`_invoke_ad_object_here` on the DC the module talks to."""
    _check_credentials(ctx)
    with _on_dc(ctx):
        return _invoke_ad_object_here(ctx, spec, **hooks)


def _invoke_ad_object_here(ctx: ModuleContext, spec: _Spec, *, pre: Hook | None = None,
                           new_hooks: dict[str, Hook] | None = None, set_hooks: dict[str, Hook] | None = None,
                           post: Hook | None = None, new_defaults: Hook | None = None) -> dict[str, t.Any]:
    """``Invoke-AnsibleADObject``: find the object (``identity`` or
    ``name``+``path``), remove it, create it, or compare and update each
    property, rename and move it; result ``distinguished_name`` and
    ``object_guid``; diff ``{attributes, name, path, <option>...}``."""
    p = ctx.params
    new_hooks = new_hooks or {}
    set_hooks = set_hooks or {}
    _check_credentials(ctx)
    _require_ad(ctx)
    ctx.exit(distinguished_name=None, object_guid=None)
    domain_dn = ctx.state["ad"]["domain"]["dn"]
    default_path = f"{spec.default_container},{domain_dn}" if spec.default_container else domain_dn
    props = spec.props + _common_props()

    if p.get("identity"):
        obj = find_object(ctx.state, p["identity"], spec.noun)
    else:
        ou_path = p.get("path") or default_path
        name = str(p.get("name")).replace(",", "\\,")
        obj = find_object(ctx.state, f"CN={name},{ou_path}", spec.noun, passthru=True)

    diff_before: dict[str, t.Any] | None = None
    if obj is not None:
        ctx.exit(object_guid=obj["guid"], distinguished_name=obj["dn"])
        diff_before = {"attributes": None, "name": obj["name"], "path": _parent_dn(obj["dn"])}
        for prop in props:
            if p.get(prop.name) is None or not prop.attr:
                continue
            actual = obj["attrs"].get(prop.attr)
            diff_before[prop.name] = _unrolled(_sorted_if_list(NO_LOG if prop.no_log else actual))
    diff: dict[str, t.Any] = {"before": diff_before, "after": None}

    if pre is not None:
        pre(ctx, obj)

    if p["state"] == "absent":
        if obj is not None:
            if not ctx.check_mode:
                prefix = "," + _norm_dn(obj["dn"])
                for guid in [g for g, o in _objects(ctx.state).items()
                             if _norm_dn(o["dn"]) == _norm_dn(obj["dn"]) or _norm_dn(o["dn"]).endswith(prefix)]:
                    del _objects(ctx.state)[guid]
            ctx.changed()
        diff["after"] = None
    elif obj is None:
        ad_name = p.get("name") or p.get("identity")
        path = p.get("path") or default_path
        new_attrs, _before, attr_after = _attributes_update(ctx, None, p.get("attributes") or {})
        after: dict[str, t.Any] = {"attributes": attr_after, "name": ad_name, "path": path}
        values: dict[str, t.Any] = {}
        for prop in props:
            value = p.get(prop.name)
            if isinstance(value, dict):
                if not value:
                    continue
            elif value is None or (isinstance(value, str) and not value.strip()):
                continue
            if prop.name in new_hooks:
                new_hooks[prop.name](ctx, values, after)
                continue
            if not prop.attr:
                continue
            if prop.kind in ("list", "dnlist") and isinstance(value, dict):
                chosen: list[t.Any] = []
                for action in ("add", "set"):
                    if value.get(action) is not None:
                        chosen.extend(_to_dns(ctx, value[action], f"{prop.name}.{action}",
                                              value.get("lookup_failure_action") or "fail")
                                      if prop.kind == "dnlist" else value[action])
                unique: list[t.Any] = []
                for c in chosen:
                    if c not in unique:
                        unique.append(c)
                value = unique
            elif prop.kind == "dn":
                value = (_to_dns(ctx, [value], prop.name) or [None])[0]
            if _as_list(value):
                values[prop.attr] = value
                # ``$propValue | Select-Object -Unique``: one value comes out as a scalar
                after[prop.name] = _unrolled(_sorted_if_list(NO_LOG if prop.no_log else value))
            else:
                after[prop.name] = None
        diff["after"] = after
        dn = f"CN={str(ad_name).replace(',', chr(92) + ',')},{path}"
        if not ctx.check_mode:
            error = _new_object_error(ctx, dn, path, values.get("samaccountname"))
            if error:
                ctx.set_diff(diff["before"], diff["after"])
                ctx.fail(f"New-{spec.noun} failed: {error}")
        ctx.changed()
        if ctx.check_mode:
            ctx.exit(distinguished_name=dn, object_guid=EMPTY_GUID)
        else:
            guid = str(uuid.uuid4())
            attrs: dict[str, t.Any] = {"protectedfromaccidentaldeletion": False}
            if new_defaults is not None:
                attrs.update(new_defaults(ctx, str(ad_name)))
            attrs.update(values)
            attrs.update(new_attrs)
            obj = {"guid": guid, "dn": dn, "name": str(ad_name), "class": spec.cls,
                   "sid": _new_sid(ctx) if spec.cls != "organizationalUnit" else None, "attrs": attrs}
            _objects(ctx.state)[guid] = obj
            ctx.exit(distinguished_name=dn, object_guid=guid)
    else:
        object_name = obj["name"]
        object_path = _parent_dn(obj["dn"])
        new_attrs, attr_before, attr_after = _attributes_update(ctx, obj, p.get("attributes") or {})
        diff_before["attributes"] = attr_before  # type: ignore[index]
        after = {"attributes": attr_after, "name": object_name, "path": object_path}
        updates: dict[str, t.Any] = dict(new_attrs)
        for prop in props:
            value = p.get(prop.name)
            if value is None:
                continue
            if prop.name in set_hooks:
                set_hooks[prop.name](ctx, obj, updates, diff_before, after)
                continue
            if not prop.attr:
                continue
            existing = _as_list(obj["attrs"].get(prop.attr))
            ci = prop.kind in ("dn", "dnlist") or prop.case_insensitive
            if isinstance(value, dict) and prop.kind in ("list", "dnlist"):
                kwargs: dict[str, t.Any] = {}
                for action in ("add", "remove", "set"):
                    if value.get(action) is None:
                        continue
                    vals = value[action]
                    if prop.kind == "dnlist":
                        vals = _to_dns(ctx, vals, f"{prop.name}.{action}", value.get("lookup_failure_action") or "fail")
                    kwargs["set_" if action == "set" else action] = list(vals)
                new_value, _a, _r, changed = _idempotent_list(existing, case_insensitive=ci, **kwargs)
            elif isinstance(value, str) and not value.strip():
                new_value, _a, _r, changed = _idempotent_list(existing, set_=[], case_insensitive=ci)
            elif prop.kind == "dn":
                new_value, _a, _r, changed = _idempotent_list(existing, set_=_to_dns(ctx, [value], prop.name),
                                                              case_insensitive=ci)
            else:
                new_value, _a, _r, changed = _idempotent_list(existing, set_=[value], case_insensitive=ci)
            if changed:
                if prop.kind in ("list", "dnlist"):
                    updates[prop.attr] = list(new_value or [])
                else:
                    updates[prop.attr] = (new_value or [None])[0]
            shown: t.Any = new_value
            if new_value:
                shown = f"{NO_LOG} - changed" if (changed and prop.no_log) else (NO_LOG if prop.no_log else new_value)
                shown = _sorted_if_list(shown)
            after[prop.name] = _unrolled(shown)

        desired_name = p.get("name")
        if desired_name and desired_name != object_name:
            object_name = desired_name
            after["name"] = object_name
            ctx.changed()
        desired_path = p.get("path")
        if desired_path and desired_path.lower() != object_path.lower():
            object_path = desired_path
            after["path"] = object_path
            ctx.changed()
        if updates:
            ctx.changed()
        new_dn = f"CN={object_name.replace(',', chr(92) + ',')},{object_path}"
        if not ctx.check_mode:
            old_dn = obj["dn"]
            obj["attrs"].update(updates)
            if _norm_dn(new_dn) != _norm_dn(old_dn):
                _rename_subtree(ctx.state, old_dn, new_dn)
                obj["name"] = object_name
        ctx.exit(distinguished_name=new_dn if ctx.result["changed"] else obj["dn"], object_guid=obj["guid"])
        diff["after"] = after

    if post is not None:
        post(ctx, obj, diff)
    ctx.set_diff(diff["before"], diff["after"])
    return ctx.exit()


def _new_object_error(ctx: ModuleContext, dn: str, path: str, sam: str | None) -> str | None:
    """Why ``New-AD*`` would refuse the object (missing container, name or
    sAMAccountName taken)."""
    if _by_dn(ctx.state, path) is None and _norm_dn(path) != _norm_dn(ctx.state["ad"]["domain"]["dn"]):
        return "Directory object not found"
    if _by_dn(ctx.state, dn) is not None:
        return "An attempt was made to add an object to the directory with a name that is already in use"
    if sam and any(str(o["attrs"].get("samaccountname") or "").lower() == str(sam).lower()
                   for o in _objects(ctx.state).values()):
        return "The specified account already exists"
    return None


def _rename_subtree(state: dict[str, t.Any], old_dn: str, new_dn: str) -> None:
    """Rename/move an object: its DN, its children's and every reference."""
    old_n = _norm_dn(old_dn)
    for obj in _objects(state).values():
        n = _norm_dn(obj["dn"])
        if n == old_n:
            obj["dn"] = new_dn
        elif n.endswith("," + old_n):
            obj["dn"] = obj["dn"][: len(obj["dn"]) - len(old_dn)] + new_dn
        for key, value in obj["attrs"].items():
            if isinstance(value, list):
                obj["attrs"][key] = [new_dn if isinstance(v, str) and _norm_dn(v) == old_n else v for v in value]
            elif isinstance(value, str) and "=" in value and _norm_dn(value) == old_n:
                obj["attrs"][key] = new_dn


# -- microsoft.ad.group ------------------------------------------------------------------------------------

_GROUP = _Spec("ADGroup", "group", "CN=Users", [
    _Prop("category", "groupcategory", "str", case_insensitive=True),
    _Prop("homepage", "homepage"),
    _Prop("managed_by", "managedby", "dn"),
    _Prop("members", "member", "dnlist"),
    _Prop("sam_account_name", "samaccountname"),
    _Prop("scope", "groupscope", "str", case_insensitive=True),
])

_SCOPES = {"domainlocal": "DomainLocal", "global": "Global", "universal": "Universal"}
_CATEGORIES = {"distribution": "Distribution", "security": "Security"}


@model("microsoft.ad.group", upstream=UPSTREAM)
def group(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a domain group and its members."""
    def pre(ctx: ModuleContext, obj: dict[str, t.Any] | None) -> None:
        if ctx.params["state"] == "present" and not ctx.params.get("scope") and obj is None:
            ctx.fail("scope must be set when state=present and the group does not exist")

    def defaults(ctx: ModuleContext, name: str) -> dict[str, t.Any]:
        return {"samaccountname": name, "groupcategory": "Security", "member": []}

    def post(ctx: ModuleContext, obj: dict[str, t.Any] | None, diff: dict[str, t.Any]) -> None:
        if obj is not None:
            ctx.exit(sid=obj["sid"])
            # The AD cmdlets keep GroupScope/GroupCategory as their enum names.
            if ctx.params["state"] == "present" and not ctx.check_mode:
                attrs = obj["attrs"]
                attrs["groupscope"] = _SCOPES.get(str(attrs.get("groupscope")).lower(), attrs.get("groupscope"))
                attrs["groupcategory"] = _CATEGORIES.get(str(attrs.get("groupcategory")).lower(),
                                                         attrs.get("groupcategory"))
        elif ctx.params["state"] == "present":
            ctx.exit(sid="S-1-5-0000")

    return _invoke_ad_object(ctx, _GROUP, pre=pre, post=post, new_defaults=defaults)


# -- microsoft.ad.user --------------------------------------------------------------------------------------

_USER = _Spec("ADUser", "user", "CN=Users", [
    _Prop("account_locked", "lockedout", "bool"),
    _Prop("city", "city"),
    _Prop("company", "company"),
    _Prop("country", "country"),
    _Prop("delegates", "principalsallowedtodelegatetoaccount", "dnlist"),
    _Prop("email", "emailaddress"),
    _Prop("enabled", "enabled", "bool"),
    _Prop("firstname", "givenname"),
    _Prop("groups", None),
    _Prop("password", None, no_log=True),
    _Prop("password_expired", "passwordexpired", "bool"),
    _Prop("password_never_expires", "passwordneverexpires", "bool"),
    _Prop("postal_code", "postalcode"),
    _Prop("sam_account_name", "samaccountname"),
    _Prop("spn", "serviceprincipalname", "list", case_insensitive=True),
    _Prop("state_province", "state"),
    _Prop("street", "streetaddress"),
    _Prop("surname", "surname"),
    _Prop("update_password", None),
    _Prop("upn", "userprincipalname"),
    _Prop("user_cannot_change_password", "cannotchangepassword", "bool"),
])


@model("microsoft.ad.user", upstream=UPSTREAM)
def user(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a domain user, its password and groups."""

    def pre(ctx: ModuleContext, obj: dict[str, t.Any] | None) -> None:
        p = ctx.params
        if p["state"] == "present" and obj is None and p.get("enabled") is None:
            p["enabled"] = bool((p.get("password") or "").strip())

    def new_password(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        values["password"] = _digest(ctx.params["password"])
        after["password"] = NO_LOG

    def set_password(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                     before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        before["password"] = NO_LOG
        mode = ctx.params["update_password"]
        if mode == "always":
            changed = True
        elif mode == "on_create":
            changed = False
        else:
            changed = obj["attrs"].get("password") != _digest(ctx.params["password"])
        if not changed:
            after["password"] = NO_LOG
            return
        updates["password"] = _digest(ctx.params["password"])
        after["password"] = f"{NO_LOG} - changed"
        ctx.changed()

    def new_locked(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        return None

    def set_locked(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                   before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        if obj["attrs"].get("lockedout"):
            updates["lockedout"] = False
            ctx.changed()
        after["account_locked"] = False

    def new_expired(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        values["passwordexpired"] = ctx.params["password_expired"]
        after["password_expired"] = ctx.params["password_expired"]

    def set_expired(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                    before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        if bool(obj["attrs"].get("passwordexpired")) != ctx.params["password_expired"]:
            updates["passwordexpired"] = ctx.params["password_expired"]
        after["password_expired"] = ctx.params["password_expired"]

    def new_spn(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        spn = ctx.params["spn"]
        unique: list[str] = []
        for v in (spn.get("add") or []) + (spn.get("set") or []):
            if v not in unique:
                unique.append(v)
        values["serviceprincipalname"] = unique
        after["spn"] = unique

    def set_spn(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        spn = ctx.params["spn"]
        value, _a, _r, changed = _idempotent_list(
            _as_list(obj["attrs"].get("serviceprincipalname")), add=spn.get("add"), remove=spn.get("remove"),
            set_=spn.get("set"), case_insensitive=True)
        if changed:
            updates["serviceprincipalname"] = list(value or [])
        after["spn"] = sorted(value or [])

    def defaults(ctx: ModuleContext, name: str) -> dict[str, t.Any]:
        return {"samaccountname": name[:20], "lockedout": False, "passwordexpired": False}

    def post(ctx: ModuleContext, obj: dict[str, t.Any] | None, diff: dict[str, t.Any]) -> None:
        p = ctx.params
        if obj is not None:
            ctx.exit(sid=obj["sid"])
        elif p["state"] == "present":
            ctx.exit(sid="S-1-5-0000")
        groups = p.get("groups")
        if not groups or p["state"] == "absent":
            return
        existing = groups_of(ctx.state, obj["dn"]) if obj is not None else []
        if obj is not None:
            existing.append(f"CN=Domain Users,CN=Users,{ctx.state['ad']['domain']['dn']}")
        if diff["before"]:
            diff["before"]["groups"] = sorted(existing)
        kwargs: dict[str, t.Any] = {}
        for action in ("add", "remove", "set"):
            if groups.get(action) is None:
                continue
            kwargs["set_" if action == "set" else action] = _to_dns(
                ctx, groups[action], f"groups.{action}", groups.get("lookup_failure_action") or "fail")
        value, to_add, to_remove, changed = _idempotent_list(existing, case_insensitive=True, **kwargs)
        if diff["after"] is not None:
            diff["after"]["groups"] = value
        if changed:
            ctx.changed()
            if obj is not None and not ctx.check_mode:
                for dn in to_add:
                    grp = _by_dn(ctx.state, dn)
                    if grp is not None:
                        grp["attrs"].setdefault("member", []).append(obj["dn"])
                for dn in to_remove:
                    grp = _by_dn(ctx.state, dn)
                    if grp is not None:
                        grp["attrs"]["member"] = [m for m in grp["attrs"].get("member") or []
                                                  if _norm_dn(m) != _norm_dn(obj["dn"])]

    return _invoke_ad_object(
        ctx, _USER, pre=pre, post=post, new_defaults=defaults,
        new_hooks={"password": new_password, "account_locked": new_locked, "password_expired": new_expired,
                   "spn": new_spn},
        set_hooks={"password": set_password, "account_locked": set_locked, "password_expired": set_expired,
                   "spn": set_spn})


# -- microsoft.ad.service_account (gMSA) ---------------------------------------------------------------------

_GMSA = _Spec("ADServiceAccount", "msDS-GroupManagedServiceAccount", "CN=Managed Service Accounts", [
    _Prop("allowed_to_retrieve_password", "principalsallowedtoretrievemanagedpassword", "dnlist"),
    _Prop("delegates", "principalsallowedtodelegatetoaccount", "dnlist"),
    _Prop("dns_hostname", "dnshostname"),
    _Prop("do_not_append_dollar_to_sam", None),
    _Prop("enabled", "enabled", "bool"),
    _Prop("kerberos_encryption_types", "kerberosencryptiontype", "list", case_insensitive=True),
    _Prop("outbound_auth_only", None),
    _Prop("sam_account_name", "samaccountname"),
    _Prop("spn", "serviceprincipalname", "list", case_insensitive=True),
    _Prop("trusted_for_delegation", "trustedfordelegation", "bool"),
    _Prop("upn", "userprincipalname"),
])
_ENC_ORDER = ["DES", "RC4", "AES128", "AES256"]


def _usable_kds_key(ctx: ModuleContext) -> bool:
    now = ctx.now()
    for key in (ctx.state["ad"].get("kds_root_keys") or {}).values():
        if st.parse_iso(key["effective_time"]) + _dt.timedelta(hours=10) <= now:
            return True
    return False


@model("microsoft.ad.service_account", upstream=UPSTREAM)
def service_account(ctx: ModuleContext) -> dict[str, t.Any]:
    """Create, remove and configure a group managed service account."""

    def pre(ctx: ModuleContext, obj: dict[str, t.Any] | None) -> None:
        p = ctx.params
        if p.get("outbound_auth_only"):
            if p.get("dns_hostname"):
                ctx.fail("dns_hostname can not be set when outbound_auth_only=true.")
            elif obj is None:
                p["dns_hostname"] = str(uuid.uuid4())
        elif p["state"] == "present" and obj is None and not p.get("dns_hostname"):
            ctx.fail("dns_hostname is required when creating a new service account.")
        sam = p.get("sam_account_name")
        if sam and not sam.endswith("$") and not p.get("do_not_append_dollar_to_sam"):
            p["sam_account_name"] = sam + "$"
        if p["state"] == "present" and obj is None and not ctx.check_mode and not _usable_kds_key(ctx):
            ctx.fail("New-ADServiceAccount failed: Key does not exist")

    def new_enc(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        enc = ctx.params["kerberos_encryption_types"]
        unique: list[str] = []
        for v in (enc.get("add") or []) + (enc.get("set") or []):
            name = v.upper()
            if name not in unique:
                unique.append(name)
        values["kerberosencryptiontype"] = [n for n in _ENC_ORDER if n in unique]
        after["kerberos_encryption_types"] = None  # upstream assigns an undefined variable ($MencTypes)

    def set_enc(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        existing = list(obj["attrs"].get("kerberosencryptiontype") or [])
        # ``$existing = foreach (...) { $v.ToString() }``: the enum names (AES128), one of them as a scalar
        before["kerberos_encryption_types"] = _unrolled(existing)
        enc = ctx.params["kerberos_encryption_types"]
        value, _a, _r, changed = _idempotent_list(existing, add=enc.get("add"), remove=enc.get("remove"),
                                                  set_=enc.get("set"), case_insensitive=True)
        if changed:
            wanted = {str(v).upper() for v in value or []}
            updates["kerberosencryptiontype"] = [n for n in _ENC_ORDER if n in wanted]
        after["kerberos_encryption_types"] = _unrolled(value)  # as the task wrote them (aes128), unsorted

    def set_sam(ctx: ModuleContext, obj: dict[str, t.Any], updates: dict[str, t.Any],
                before: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        sam = ctx.params["sam_account_name"]
        if sam.lower() != str(obj["attrs"].get("samaccountname") or "").lower():
            updates["samaccountname"] = sam
        after["sam_account_name"] = sam

    def new_sam(ctx: ModuleContext, values: dict[str, t.Any], after: dict[str, t.Any]) -> None:
        sam = ctx.params["sam_account_name"]
        values["samaccountname"] = sam if sam.endswith("$") else sam + "$"
        after["sam_account_name"] = sam

    def defaults(ctx: ModuleContext, name: str) -> dict[str, t.Any]:
        return {"samaccountname": name[:15] + "$", "enabled": True,
                "kerberosencryptiontype": ["RC4", "AES128", "AES256"]}

    def post(ctx: ModuleContext, obj: dict[str, t.Any] | None, diff: dict[str, t.Any]) -> None:
        p = ctx.params
        if obj is None:
            if p["state"] == "present":
                ctx.exit(sid="S-1-5-0000")
            return
        ctx.exit(sid=obj["sid"])
        if p["state"] != "present":
            return
        if (p.get("sam_account_name") and p.get("do_not_append_dollar_to_sam")
                and p["sam_account_name"] != obj["attrs"].get("samaccountname") and not ctx.check_mode):
            obj["attrs"]["samaccountname"] = p["sam_account_name"]
        if p.get("outbound_auth_only"):
            if diff["after"] is not None:
                diff["after"].pop("dns_hostname", None)
            if not ctx.check_mode:
                obj["attrs"]["dnshostname"] = None

    return _invoke_ad_object(ctx, _GMSA, pre=pre, post=post, new_defaults=defaults,
                             new_hooks={"kerberos_encryption_types": new_enc, "sam_account_name": new_sam},
                             set_hooks={"kerberos_encryption_types": set_enc, "sam_account_name": set_sam})


# -- microsoft.ad.kds_root_key ---------------------------------------------------------------------------------

@model("microsoft.ad.kds_root_key", upstream=UPSTREAM)
def kds_root_key(ctx: ModuleContext) -> dict[str, t.Any]:
    """Ensure a KDS root key exists (gMSA prerequisite) or remove one."""
    p = ctx.params
    ctx.exit(key_id=None)
    if not is_dc(ctx.state):
        ctx.fail("Failed to get KDS root keys: The term 'Get-KdsRootKey' is not recognized as the name of a cmdlet, "
                 "function, script file, or operable program. Check the spelling of the name, or if a path was "
                 "included, verify that the path is correct and try again.")
    keys = ctx.state["ad"].setdefault("kds_root_keys", {})
    key_id = p.get("key_id")
    if p["state"] == "present":
        if p["match_by"] == "any" and keys:
            return ctx.exit(key_id=EMPTY_GUID)
        if p["match_by"] == "key_id" and any(k.lower() == str(key_id).lower() for k in keys):
            return ctx.exit(key_id=None)  # "$key_id.Guid" on a string is $null upstream
        ctx.changed()
        if ctx.check_mode:
            return ctx.exit(key_id=EMPTY_GUID)
        now = ctx.now()
        new_id = str(uuid.uuid4())
        keys[new_id] = {"key_id": new_id,
                        "effective_time": st.iso(now + _dt.timedelta(hours=p["effective_time_hours"] - 10)),
                        "created": st.iso(now)}
        return ctx.exit(key_id=new_id)
    ctx.exit(key_id=key_id)
    found = next((k for k in keys if k.lower() == str(key_id).lower()), None)
    if found is not None:
        ctx.changed()
        if not ctx.check_mode:
            del keys[found]
    return ctx.exit()


# -- microsoft.ad.membership -----------------------------------------------------------------------------------

def _lab_dc(ctx: ModuleContext, dns_domain: str) -> tuple[bool, dict[str, t.Any] | None]:
    """(lab known, DC state of ``dns_domain``) from the other hosts of the lab."""
    known, _host, dc = _lab_dc_host(ctx, dns_domain)
    return known, dc


def _lab_dc_host(ctx: ModuleContext, dns_domain: str) -> tuple[bool, str | None, dict[str, t.Any] | None]:
    """(any DC in the lab, its host name, its state) for ``dns_domain``."""
    from .. import identity

    lab = identity.lab_of(ctx)
    if lab is None:
        return False, None, None
    located = identity.dc_for(ctx.state, lab, dns_root=dns_domain.lower())
    if located is not None and located[0] is not None:
        return True, located[0], located[1]
    any_dc = any(is_dc(lab.state(h) or {}) for h in lab.hosts())
    return any_dc, None, None


def add_computer_account(dc: dict[str, t.Any], computer: str, ou_dn: str | None = None) -> dict[str, t.Any]:
    """The computer account ``Add-Computer`` creates in the DC state ``dc``
    (or the pre-staged one it reuses): ``CN=<NAME>,CN=Computers,<domain DN>``
    (or ``ou_dn``), sAMAccountName ``<NAME>$``, a SID from the domain's RID
    pool, primary group Domain Computers (515).  Used by the membership model
    and by the lab builder (``lab.py``)."""
    name = computer.upper()
    existing = find_object(dc, f"{name}$", "ADComputer")
    if existing is not None:
        return existing
    domain = dc["ad"]["domain"]
    parent = ou_dn or "CN=Computers," + domain["dn"]
    dn = f"CN={name},{parent}"
    guid = _guid(domain["dns_root"], dn.lower())
    rid = dc["ad"]["next_rid"]
    dc["ad"]["next_rid"] = rid + 1
    obj = {"guid": guid, "dn": dn, "name": name, "class": "computer", "sid": f"{domain['sid']}-{rid}",
           "attrs": {"samaccountname": f"{name}$", "enabled": True, "description": None,
                     "dnshostname": f"{name.lower()}.{domain['dns_root']}",
                     "protectedfromaccidentaldeletion": False, "primarygroupid": 515}}
    dc["ad"]["objects"][guid] = obj
    return obj


def _add_computer_object(ctx: ModuleContext, dns_domain: str, computer: str) -> None:
    """``Add-Computer`` creates the computer account on the DC (or reuses a
    pre-staged one): ``CN=<NAME>,CN=Computers,<domain DN>`` (or
    ``domain_ou_path``), sAMAccountName ``<NAME>$``, a SID of the domain.
    A cross-host write through ``Lab.edit``; never in check mode."""
    from .. import identity

    _known, host, _dc = _lab_dc_host(ctx, dns_domain)
    lab = identity.lab_of(ctx)
    if host is None or lab is None:
        return

    def add(dc: dict[str, t.Any]) -> None:
        add_computer_account(dc, computer, ctx.params.get("domain_ou_path"))

    if hasattr(lab, "edit"):
        with lab.edit(host) as live:
            add(live)
    else:
        dc = lab.state(host)
        if dc is not None:
            add(dc)


def _ps_ne(left: str | None, right: str | None) -> bool:
    """PowerShell ``-ne`` of two optional strings (case-insensitive)."""
    if left is None or right is None:
        return (left is None) != (right is None)
    return left.lower() != right.lower()


def _check_join(ctx: ModuleContext, dns_domain: str, hostname: str, workgroup: str) -> None:
    """What ``Add-Computer`` finds out about the domain and the credentials."""
    known, dc = _lab_dc(ctx, dns_domain)
    prefix = (f"Computer '{hostname}' failed to join domain '{dns_domain}' from its current workgroup "
              f"'{workgroup}' with following error message: ")
    if known and dc is None:
        ctx.fail(prefix + "The specified domain either does not exist or could not be contacted.")
    if dc is None:
        return
    user = str(ctx.params.get("domain_admin_user") or "")
    account = find_object(dc, user, "ADUser")
    if account is None and "@" in user:
        # The implicit UPN sAMAccountName@dnsdomain authenticates too.
        sam, _, suffix = user.rpartition("@")
        if suffix.lower() == dc["ad"]["domain"]["dns_root"].lower():
            account = find_object(dc, sam, "ADUser")
    stored = account["attrs"].get("password") if account is not None else None
    if account is None or (stored is not None and stored != _digest(ctx.params.get("domain_admin_password"))):
        ctx.fail(prefix + "The user name or password is incorrect.")
    ou = ctx.params.get("domain_ou_path")
    if ou and _by_dn(dc, ou) is None:
        ctx.fail(prefix + "The system cannot find the file specified. Check domain_ou_path is pointing to a valid "
                 "OU in the target domain.")


@model("microsoft.ad.membership", upstream=UPSTREAM)
def membership(ctx: ModuleContext) -> dict[str, t.Any]:
    """Join the host to a domain or a workgroup (and rename it)."""
    p = ctx.params
    host = ctx.state["host"]
    ctx.exit(reboot_required=False)
    part_of_domain = bool(host.get("domain"))
    current_host = host["hostname"]
    before = {"dns_domain_name": host.get("domain") if part_of_domain else None, "hostname": current_host,
              "state": "domain" if part_of_domain else "workgroup",
              "workgroup_name": None if part_of_domain else (host.get("workgroup") or "WORKGROUP")}
    hostname = p.get("hostname") or current_host
    dns_domain = p.get("dns_domain_name")
    workgroup = p.get("workgroup_name")
    new = copy.deepcopy(host)
    joined = False

    if p["state"] == "domain":
        if p.get("offline_join_blob"):
            if not part_of_domain:
                ctx.changed()
                ctx.exit(reboot_required=True)
                new["domain_role"] = "Member server"
                new["reboot_pending"] = True
        elif _ps_ne(dns_domain, before["dns_domain_name"]):
            if part_of_domain:
                ctx.fail(f"Host is already joined to '{before['dns_domain_name']}', switching domains is not "
                         "implemented")
            if hostname.lower() != current_host.lower():
                new["hostname"] = hostname.upper()
                hostname = current_host
            _check_join(ctx, str(dns_domain), current_host, before["workgroup_name"] or "WORKGROUP")
            new.update(domain=str(dns_domain).lower(), workgroup=None, domain_role="Member server",
                       reboot_pending=True)
            _known, _dc_host, dc = _lab_dc_host(ctx, str(dns_domain))
            if dc is not None:
                new["domain_netbios"] = dc["ad"]["domain"]["netbios"]
            joined = True
            ctx.changed()
            ctx.exit(reboot_required=True)
    elif _ps_ne(workgroup, before["workgroup_name"]):
        new.update(domain=None, workgroup=workgroup, domain_role="Stand-alone server", reboot_pending=True)
        ctx.changed()
        ctx.exit(reboot_required=True)

    if hostname.lower() != current_host.lower():
        new["hostname"] = hostname.upper()
        new["reboot_pending"] = True
        ctx.changed()
        ctx.exit(reboot_required=True)

    if ctx.result["changed"] and not ctx.check_mode:
        if joined:
            _add_computer_object(ctx, str(dns_domain), new["hostname"])
        if new["hostname"] != host["hostname"] and "env" in ctx.state:
            ctx.state["env"]["COMPUTERNAME"] = new["hostname"]
        ctx.state["host"] = new
    ctx.set_diff(before, {"dns_domain_name": dns_domain, "hostname": hostname, "state": p["state"],
                          "workgroup_name": workgroup})
    return ctx.exit()


# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

def _gmsa_drift(state: dict[str, t.Any], now: _dt.datetime, name: str, args: dict[str, t.Any]) -> bool:
    if not is_dc(state) or find_object(state, name, "ADServiceAccount") is None:
        raise DriftError(f"no gMSA named {name!r} on this host (a domain controller holds them)")
    return bool(run_upstream(state, now, "microsoft.ad.service_account", {"identity": name, **args}).get("changed"))


@drift("set-gmsa-description", section="ad",
       help="Change a gMSA's description (Set-ADServiceAccount -Description; runs service_account's model).",
       args=[Arg("name", "gMSA name, e.g. svc_mcms_app"), Arg("description", "the new description")])
def set_gmsa_description(state: dict[str, t.Any], now: _dt.datetime, *, name: str, description: str) -> str:
    if not _gmsa_drift(state, now, name, {"description": description}):
        raise DriftError(f"gMSA {name} already has that description")
    return f"gMSA {name}: description set"


@drift("set-gmsa-principals", section="ad",
       help="Replace the principals allowed to retrieve a gMSA's password (Set-ADServiceAccount "
            "-PrincipalsAllowedToRetrieveManagedPassword; runs service_account's model).",
       args=[Arg("name", "gMSA name, e.g. svc_mcms_app"),
             Arg("--principal", "a principal (computer or group); repeat for more", action="append")])
def set_gmsa_principals(state: dict[str, t.Any], now: _dt.datetime, *, name: str,
                        principal: list[str] | None) -> str:
    principals = list(principal or [])
    if not _gmsa_drift(state, now, name, {"allowed_to_retrieve_password": {"set": principals}}):
        raise DriftError(f"gMSA {name} already has exactly those principals")
    return f"gMSA {name}: principals allowed to retrieve the password set to {', '.join(principals) or 'none'}"
