"""Models of ``ansible.windows.win_acl`` and ``ansible.windows.win_acl_inheritance``.

ACLs live on the items of the shared file system (``state["files"]``, see
:mod:`..state`): ``item["acl"]`` is the list of *explicit* ACEs and
``item["inherit"]`` tells whether inheritance is enabled
(``AreAccessRulesProtected`` is its negation).  An ACE is::

    {"identity": "BUILTIN\\IIS_IUSRS",   # NTAccount form, as Get-Acl shows it
     "sid": "S-1-5-32-568",
     "rights": "ReadAndExecute, Synchronize",   # FileSystemRights.ToString()
     "type": "allow" | "deny",
     "inheritance": "ContainerInherit, ObjectInherit" | ... | "None",
     "propagation": "None" | "NoPropagateInherit" | "InheritOnly" | ...,
     "inherited": false}

``rights`` is always the canonical .NET rendering of the access mask (the
way ``Get-Acl`` prints it), so the same grant written differently
(``"Read,Write"`` / ``"Write, Read"``) compares equal.  A mask with bits no
enumerator names (generic rights) renders as its signed decimal value, as
in .NET.

Fidelity notes (ansible.windows 3.8.0, ``win_acl.ps1``):

* Legacy module with check mode, no diff.  An identical explicit ACE means
  "the specified rule already exists" (no change).  Otherwise the rule is
  added with ``AddAccessRule``, which *merges* the rights into an existing
  explicit ACE with the same identity, type and flags — so re-running with a
  narrower right than the identity already holds reports a change every
  time, exactly like the real module.
* ``FileSystemAccessRule`` adds ``Synchronize`` to allow rules and strips
  it from deny rules (except FullControl), as .NET does.
* Identities resolve through the one resolver, :mod:`winsim.identity`
  (``NTAccount.Translate``): well-known principals, BUILTIN and local
  groups, local users, ``NT SERVICE\\<installed service>``, and on a domain
  member ``DOMAIN\\name`` / ``name@domain`` / gMSA ``DOMAIN\\name$`` /
  computer ``DOMAIN\\HOST$`` that the lab's DC holds (with the DC's
  objectSid); any other name fails with ``Convert-ToSID``'s text.  ``IIS APPPOOL\\<pool>`` goes through the
  WebAdministration provider like the module: it needs the
  ``Web-Scripting-Tools`` feature and an existing pool.
* ``Cert:\\<location>\\<store>\\<thumbprint>`` paths edit the ACL of the
  certificate's private key (``_CertACLHelper``), with rights ``Read`` and
  ``FullControl`` (``CertAccessRights``).  In winsim the private key is a
  real file in ``state["files"]`` (see :mod:`.certificates`), so the key ACL
  is that file's ACL whichever way it is granted.
* Registry paths are not modelled (they fail loudly as unsimulated).
"""

from __future__ import annotations

import re
import typing as t

from .. import identity
from .. import state as st
from . import _winfs as fs
from . import accounts, features
from ._base import ModuleContext, SimulatorError, model

_UPSTREAM = "ansible.windows 3.8.0"

# System.Security.AccessControl.FileSystemRights: GetNames() order (for the
# PowerShell cast error) and the name .NET prints for each value.
_FS_RIGHTS_NAMES = [
    ("ListDirectory", 1), ("ReadData", 1), ("WriteData", 2), ("CreateFiles", 2), ("CreateDirectories", 4),
    ("AppendData", 4), ("ReadExtendedAttributes", 8), ("WriteExtendedAttributes", 16), ("Traverse", 32),
    ("ExecuteFile", 32), ("DeleteSubdirectoriesAndFiles", 64), ("ReadAttributes", 128),
    ("WriteAttributes", 256), ("Write", 278), ("Delete", 65536), ("ReadPermissions", 131072),
    ("Read", 131209), ("ReadAndExecute", 131241), ("Modify", 197055), ("ChangePermissions", 262144),
    ("TakeOwnership", 524288), ("Synchronize", 1048576), ("FullControl", 2032127),
]
_FS_DISPLAY = {1: "ReadData", 2: "CreateFiles", 4: "AppendData", 32: "ExecuteFile"}
_FULL_CONTROL = 2032127
_SYNCHRONIZE = 1048576
_DELETE_SUBDIRS = 64

# Ansible.Windows._CertAclHelper.CertAccessRights
_CERT_RIGHTS_NAMES = [("Read", -2146303863), ("FullControl", -803274241)]

_INHERIT_NAMES = [("None", 0), ("ContainerInherit", 1), ("ObjectInherit", 2)]
_PROPAGATION_NAMES = [("None", 0), ("NoPropagateInherit", 1), ("InheritOnly", 2)]

_CERT_PATH_RE = re.compile(r"^cert:\\?\\?(?P<loc>[^\\]+)\\(?P<store>[^\\]+)\\(?P<thumb>[0-9a-f]{40})\\?$",
                           re.IGNORECASE)
_REG_QUALIFIERS = ("HKLM:", "HKCU:", "HKCR:", "HKU:", "HKCC:", "HKEY_", "REGISTRY::")


class CastError(ValueError):
    """``[Enum]"value"`` failed in PowerShell."""


def _enum_parse(value: str, names: list[tuple[str, int]], enum: str) -> int:
    """PowerShell's cast of a string to a flags enum: comma separated names
    (case-insensitive) or an integer."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    lookup = {n.lower(): v for n, v in names}
    mask = 0
    for part in text.split(","):
        part = part.strip()
        if part.lower() not in lookup:
            choices = ", ".join(n for n, _ in names)
            raise CastError(
                f'Cannot convert value "{value}" to type "{enum}". Error: "Unable to match the identifier name '
                f"{part} to a valid enumerator name. Specify one of the following enumerator names and try "
                f'again:\r\n{choices}"')
        mask |= lookup[part.lower()]
    return mask


def parse_fs_rights(value: str) -> int:
    return _enum_parse(value, _FS_RIGHTS_NAMES, "System.Security.AccessControl.FileSystemRights")


def _as_int32(mask: int) -> int:
    mask &= 0xFFFFFFFF
    return mask - (1 << 32) if mask & 0x80000000 else mask


def fs_rights_string(mask: int) -> str:
    """``[FileSystemRights]$mask`` rendered by ``ToString()``: the largest
    named values first, listed in ascending order; a mask with unnamed bits
    renders as its (signed) number."""
    mask &= 0xFFFFFFFF
    if mask == 0:
        return "0"
    remaining = mask
    picked: list[tuple[int, str]] = []
    for value in sorted({v for _, v in _FS_RIGHTS_NAMES}, reverse=True):
        if remaining & value == value:
            name = _FS_DISPLAY.get(value) or next(n for n, v in reversed(_FS_RIGHTS_NAMES) if v == value)
            picked.append((value, name))
            remaining &= ~value
    if remaining:
        return str(_as_int32(mask))
    return ", ".join(name for _, name in sorted(picked))


def fs_rights_mask(rights: str) -> int:
    """Access mask of a stored ``rights`` string (canonical or not)."""
    return parse_fs_rights(rights) & 0xFFFFFFFF


def _flags_string(mask: int, names: list[tuple[str, int]]) -> str:
    if mask == 0:
        return "None"
    return ", ".join(n for n, v in names if v and mask & v == v)


def rule_mask(rights_mask: int, ace_type: str) -> int:
    """``FileSystemAccessRule.AccessMaskFromRights``."""
    if ace_type == "allow":
        return rights_mask | _SYNCHRONIZE
    if rights_mask not in (_FULL_CONTROL, _FULL_CONTROL & ~_DELETE_SUBDIRS):
        return rights_mask & ~_SYNCHRONIZE
    return rights_mask


def feature_installed(state: dict[str, t.Any], name: str) -> bool:
    """Whether a Windows feature is installed (``models/features.py``)."""
    return features.installed(state, name)


def resolve_identity(ctx: ModuleContext, user: str) -> tuple[str, str] | None:
    """``Get-UserSID`` of ``win_acl.ps1``: ``(sid, NTAccount name)``, None
    when the app pool provider gives nothing; fails like the module when the
    name does not translate."""
    parts = user.split("\\")
    if len(parts) > 1 and parts[0].lower() == "iis apppool":
        if not feature_installed(ctx.state, "Web-Scripting-Tools"):
            fs.unhandled(ctx, "The specified module 'WebAdministration' was not loaded because no valid module "
                              "file was found in any module directory.")
        pools = (ctx.state.get("iis") or {}).get("app_pools", {})
        if not any(p["name"].lower() == parts[1].lower() for p in pools.values()):
            fs.unhandled(ctx, f"Cannot find path 'IIS:\\AppPools\\{parts[1]}' because it does not exist.")
        return accounts.resolve_account(ctx.state, f"IIS APPPOOL\\{parts[1]}")
    resolved = accounts.resolve_account(ctx.state, user, identity.lab_of(ctx))
    if resolved is None:
        ctx.fail(f"account_name {user} is not a valid account, cannot get SID: Exception calling \"Translate\" "
                 "with \"1\" argument(s): \"Some or all identity references could not be translated.\"")
    return resolved


# -- paths -------------------------------------------------------------------

class AclTarget:
    """The securable object behind a ``win_acl`` path: a file-system item
    (possibly the private key file of a certificate)."""

    def __init__(self, item: dict[str, t.Any], provider: str, display: str) -> None:
        self.item = item
        self.provider = provider  # "FileSystem" or "Certificate"
        self.display = display

    @property
    def is_leaf(self) -> bool:
        return self.provider == "Certificate" or self.item["type"] != "directory"


def _is_registry(path: str) -> bool:
    return path.upper().startswith(_REG_QUALIFIERS)


def _cert_target(ctx: ModuleContext, path: str) -> tuple[dict[str, t.Any] | None, AclTarget | None]:
    """(certificate entry, key file target) of a ``Cert:`` path."""
    from . import certificates

    m = _CERT_PATH_RE.match(path)
    if not m:
        return None, None
    entry = certificates.find_certificate(ctx.state, m.group("loc"), m.group("store"), m.group("thumb"))
    if entry is None:
        return None, None
    key_path = entry.get("key_file")
    item = st.get_item(ctx.state, key_path) if key_path else None
    return entry, (AclTarget(item, "Certificate", path) if item is not None else None)


def _ace_matches(ace: dict[str, t.Any], sid: str, mask: int, ace_type: str, inherit: str, prop: str) -> bool:
    return (_ace_mask(ace) == mask and ace["type"] == ace_type and ace.get("sid") == sid
            and not ace.get("inherited", False) and ace.get("inheritance", "None") == inherit
            and ace.get("propagation", "None") == prop)


def _ace_mask(ace: dict[str, t.Any]) -> int:
    return fs_rights_mask(ace["rights"])


def _with_sids(ctx: ModuleContext, aces: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    out = []
    for ace in aces:
        ace = dict(ace)
        if not ace.get("sid"):
            resolved = accounts.resolve_account(ctx.state, ace["identity"], identity.lab_of(ctx))
            ace["sid"] = resolved[0] if resolved else ace["identity"]
        out.append(ace)
    return out


def add_access_rule(acl: list[dict[str, t.Any]], ace: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """``ObjectSecurity.AddAccessRule``: merge into an explicit ACE with the
    same identity, type and flags, else insert in canonical order (explicit
    deny before explicit allow)."""
    out = [dict(a) for a in acl]
    for existing in out:
        if (existing.get("sid") == ace["sid"] and existing["type"] == ace["type"]
                and existing.get("inheritance", "None") == ace["inheritance"]
                and existing.get("propagation", "None") == ace["propagation"]):
            existing["rights"] = fs_rights_string(_ace_mask(existing) | _ace_mask(ace))
            return out
    if ace["type"] == "deny":
        pos = next((i for i, a in enumerate(out) if a["type"] == "allow"), len(out))
        out.insert(pos, dict(ace))
    else:
        out.append(dict(ace))
    return out


def remove_access_rule(acl: list[dict[str, t.Any]], ace: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """``ObjectSecurity.RemoveAccessRule``: clear the rule's rights from the
    explicit ACEs with the same identity, type and flags."""
    out = []
    for existing in acl:
        if (existing.get("sid") == ace["sid"] and existing["type"] == ace["type"]
                and existing.get("inheritance", "None") == ace["inheritance"]
                and existing.get("propagation", "None") == ace["propagation"]):
            left = _ace_mask(existing) & ~_ace_mask(ace)
            if left == 0 or left == _SYNCHRONIZE:
                continue
            existing = dict(existing, rights=fs_rights_string(left))
        out.append(existing)
    return out


@model("ansible.windows.win_acl", upstream=_UPSTREAM)
def win_acl(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path: str = p["path"]
    user: str = p["user"]
    rights: str = p["rights"]
    ace_type: str = p["type"]
    state: str = p.get("state") or "present"
    propagation = p.get("propagation") or "None"

    if _is_registry(path):
        raise SimulatorError("winsim: ansible.windows.win_acl on registry keys is not simulated")

    cert_entry = None
    if path.lower().startswith("cert:"):
        cert_entry, target = _cert_target(ctx, path)
        if cert_entry is None:
            ctx.fail(f"{path} file or directory does not exist on the host")
    else:
        item = st.get_item(ctx.state, path) if st.is_absolute(path) else None
        if item is None:
            ctx.fail(f"{path} file or directory does not exist on the host")
        target = AclTarget(item, "FileSystem", path)

    sid, account = resolve_identity(ctx, user) or (None, None)
    if not sid:
        ctx.fail(f"{user} is not a valid user or group on the host machine or domain")

    leaf = cert_entry is not None or target.is_leaf  # type: ignore[union-attr]
    inherit = "None" if leaf else (p.get("inherit") or "ContainerInherit, ObjectInherit")
    error_prefix = f"an error occurred when attempting to {state} {rights} permission(s) on {path} for {user} - "
    try:
        if cert_entry is not None:
            mask = _enum_parse(rights, _CERT_RIGHTS_NAMES, "Ansible.Windows._CertAclHelper.CertAccessRights")
            if target is None:
                raise CastError('Exception calling ".ctor" with "1" argument(s): "Cannot find the certificate '
                                'and private key for decryption"')
        else:
            mask = rule_mask(parse_fs_rights(rights), ace_type)
        inherit_s = _flags_string(_enum_parse(inherit, _INHERIT_NAMES,
                                              "System.Security.AccessControl.InheritanceFlags"), _INHERIT_NAMES)
        prop_s = _flags_string(_enum_parse(propagation, _PROPAGATION_NAMES,
                                           "System.Security.AccessControl.PropagationFlags"), _PROPAGATION_NAMES)
    except CastError as exc:
        ctx.fail(error_prefix + str(exc))

    assert target is not None
    explicit = _with_sids(ctx, target.item.get("acl", []))
    inherited = [a for a in st.effective_acl(ctx.state, target.item["path"]) if a.get("inherited")]
    match = any(_ace_matches(a, sid, mask & 0xFFFFFFFF, ace_type, inherit_s, prop_s)
                for a in explicit + _with_sids(ctx, inherited))
    ace = {"identity": account, "sid": sid, "rights": fs_rights_string(mask), "type": ace_type,
           "inheritance": inherit_s, "propagation": prop_s, "inherited": False}

    if state == "present" and not match:
        if not ctx.check_mode:
            target.item["acl"] = add_access_rule(explicit, ace)
            accounts.remember(ctx.state, sid, account)
        ctx.changed()
    elif state == "absent" and match:
        if not ctx.check_mode:
            target.item["acl"] = remove_access_rule(explicit, ace)
        ctx.changed()
    elif match:
        return ctx.exit(msg="the specified rule already exists")
    else:
        return ctx.exit(msg="the specified rule does not exist")
    return ctx.exit()


# -- win_acl_inheritance -------------------------------------------------------

def _same_rule(a: dict[str, t.Any], b: dict[str, t.Any]) -> bool:
    keys = ("sid", "type", "inheritance", "propagation")
    return all(a.get(k) == b.get(k) for k in keys) and _ace_mask(a) == _ace_mask(b)


@model("ansible.windows.win_acl_inheritance", upstream=_UPSTREAM)
def win_acl_inheritance(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path = p["path"]
    if not path.startswith("\\\\?\\"):
        path = st.expand_env(path, ctx.state)
    reorganize = bool(p.get("reorganize"))
    wanted = p.get("state") or "absent"

    if _is_registry(path):
        raise SimulatorError("winsim: ansible.windows.win_acl_inheritance on registry keys is not simulated")
    if path.lower().startswith("cert:"):
        entry, _ = _cert_target(ctx, path)
        if entry is None:
            ctx.fail(f"{path} does not exist")
        ctx.fail(f"Failed to find '{path}': Method invocation failed because "
                 "[System.Security.Cryptography.X509Certificates.X509Certificate2] does not contain a method named "
                 "'GetAccessControl'.")
    item = st.get_item(ctx.state, path) if st.is_absolute(path) else None
    if item is None:
        ctx.fail(f"{path} does not exist")

    protected = not item.get("inherit", True)
    before = {"state": "absent" if protected else "present"}
    explicit = _with_sids(ctx, item.get("acl", []))
    new_acl = explicit
    new_inherit = item.get("inherit", True)

    if wanted == "present" and protected:
        new_inherit = True
        if reorganize:
            par = st.parent(item["path"])
            from_parent = _with_sids(ctx, _inheritable_from_parent(ctx, par, item)) if par else []
            new_acl = [a for a in explicit if not any(_same_rule(a, inh) for inh in from_parent)]
        ctx.changed()
    elif wanted == "absent" and not protected:
        new_inherit = False
        if reorganize:
            inherited = [dict(a, inherited=False) for a in st.effective_acl(ctx.state, item["path"])
                         if a.get("inherited")]
            new_acl = explicit + _with_sids(ctx, inherited)
        ctx.changed()

    if ctx.result["changed"] and not ctx.check_mode:
        item["inherit"] = new_inherit
        item["acl"] = new_acl
    ctx.set_diff(before, {"state": "present" if new_inherit else "absent"})
    return ctx.exit()


def _inheritable_from_parent(ctx: ModuleContext, parent_path: str, item: dict[str, t.Any]
                             ) -> list[dict[str, t.Any]]:
    flag = "ContainerInherit" if item["type"] == "directory" else "ObjectInherit"
    return [dict(a, inherited=False) for a in st.effective_acl(ctx.state, parent_path)
            if flag in a.get("inheritance", "None")]
