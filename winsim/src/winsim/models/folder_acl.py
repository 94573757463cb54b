"""Model of the project-owned ``mcms.infra.win_folder_acl`` (its source:
``collections/ansible_collections/mcms/infra/plugins/modules/win_folder_acl.ps1``).

Reads and writes the ACL of one file-system item (``item["acl"]``, the
explicit ACEs, and ``item["inherit"]``; schema in :mod:`.acl`); nothing new
in the state.

Fidelity notes (from the module's source, ``Get-Acl``/``Set-Acl``):

* Every account is translated first (``NTAccount.Translate``, here the one
  resolver through :func:`.acl.resolve_identity`); a name that does not
  translate fails with nothing changed. A missing folder fails.
* A wanted rule is ``FileSystemAccessRule(sid, rights, ContainerInherit,
  ObjectInherit, None, Allow)``: allow rules get ``Synchronize`` as .NET adds
  it (:func:`.acl.rule_mask`).
* Exact: an explicit ACE is kept only when it is the first one of a declared
  account with the same rights, flags and type; every other explicit ACE is
  removed (one record each); a declared account without its rule gets it.
* Inheritance is disabled without copying (``SetAccessRuleProtection($true,
  $false)``): inherited rules disappear.
* Records: ``resource_type`` ``folder_acl``, ``resource`` the path, attribute
  ``inheritance`` or ``rule <account>`` (the declared name for a declared
  account, else the ACE's account name).
"""

from __future__ import annotations

import typing as t

from .. import state as st
from . import accounts
from ._base import ModuleContext, model
from .acl import CastError, _with_sids, fs_rights_mask, fs_rights_string, parse_fs_rights, resolve_identity, rule_mask

UPSTREAM = "mcms.infra 0.1.0"
_INHERIT = "ContainerInherit, ObjectInherit"


def _type_name(ace: dict[str, t.Any]) -> str:
    return "Allow" if ace["type"] == "allow" else "Deny"


@model("mcms.infra.win_folder_acl", upstream=UPSTREAM)
def win_folder_acl(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    path = p["path"]
    item = st.get_item(ctx.state, path) if st.is_absolute(path) else None
    if item is None or item.get("type") != "directory":
        ctx.fail(f"{path} is not an existing folder")

    wanted: dict[str, dict[str, t.Any]] = {}
    for rule in p["rules"]:
        sid, account = resolve_identity(ctx, rule["identity"]) or (None, None)
        if not sid:
            ctx.fail(f"{rule['identity']} is not a valid account, cannot get SID")
        try:
            mask = rule_mask(parse_fs_rights(rule["rights"]), "allow") & 0xFFFFFFFF
        except CastError:
            ctx.fail(f"rules: '{rule['rights']}' of {rule['identity']} is not a FileSystemRights value")
        wanted[sid] = {"identity": rule["identity"], "account": account, "sid": sid, "mask": mask,
                       "rights": fs_rights_string(mask)}

    explicit = _with_sids(ctx, item.get("acl", []))
    drift: list[dict[str, t.Any]] = []

    def record(attribute: str, want: t.Any, found: t.Any) -> None:
        drift.append({"resource_type": "folder_acl", "resource": path, "attribute": attribute, "wanted": want,
                      "found": found})

    protected = not item.get("inherit", True)
    before = {"inheritance": "disabled" if protected else "enabled",
              "rules": {a["identity"]: f"{a['rights']} ({_type_name(a)}; {a.get('inheritance', 'None')}; "
                                       f"{a.get('propagation', 'None')})" for a in explicit}}
    after = {"inheritance": "disabled",
             "rules": {w["identity"]: f"{w['rights']} (Allow; {_INHERIT}; None)" for w in wanted.values()}}
    if not protected:
        record("inheritance", "disabled", "enabled")
    keep: set[str] = set()
    seen: set[str] = set()
    for ace in explicit:
        sid = ace.get("sid")
        w = wanted.get(sid)
        same = (w is not None and ace["type"] == "allow" and ace.get("inheritance", "None") == _INHERIT
                and ace.get("propagation", "None") == "None" and fs_rights_mask(ace["rights"]) == w["mask"]
                and sid not in keep)
        if same:
            keep.add(sid)
            continue
        name = w["identity"] if w is not None else ace["identity"]
        found = f"{ace['rights']} ({_type_name(ace)})"
        if w is not None and sid not in seen:
            seen.add(sid)
            record(f"rule {name}", w["rights"], found)
        else:
            record(f"rule {name}", "absent", found)
    for sid, w in wanted.items():
        if sid not in keep and sid not in seen:
            record(f"rule {w['identity']}", w["rights"], "absent")

    if drift and not ctx.check_mode:
        item["inherit"] = False
        item["acl"] = [{"identity": w["account"], "sid": w["sid"], "rights": w["rights"], "type": "allow",
                        "inheritance": _INHERIT, "propagation": "None", "inherited": False}
                       for w in wanted.values()]
        for w in wanted.values():
            accounts.remember(ctx.state, w["sid"], w["account"])
    ctx.changed(bool(drift))
    ctx.set_diff(before, after)
    return ctx.exit(mcms_drift=drift)
