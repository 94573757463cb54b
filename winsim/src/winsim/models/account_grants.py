"""Model of the project-owned ``mcms.infra.win_account_grants`` (its source:
``collections/ansible_collections/mcms/infra/plugins/modules/win_account_grants.ps1``).

One call makes several accounts hold exactly their declared user rights
(``state["user_rights"]``, see :mod:`.accounts`) and exactly their declared
explicit folder rules (``item["acl"]`` of ``state["files"]``, see :mod:`.acl`),
on the declared folders and every parent of one; missing declared folders are
created first.  Nothing new in the state: this model reads and writes the
sections of ``accounts.py``, ``acl.py`` and ``files.py``.

Fidelity notes (from the module's source):

* Every account name is translated first (``NTAccount.Translate``, here the
  one resolver :mod:`winsim.identity`); a name that does not translate fails
  with ``Failed to translate the account '<name>' to a SID: Exception calling
  "Translate" with "1" argument(s): "Some or all identity references could not
  be translated."`` and nothing changed.  An unknown right fails with
  ``the specified right <r> is not a valid right``, a bad ``FileSystemRights``
  value with the PowerShell cast error, both before any change.
* Rights: ``LsaEnumerateAccountRights`` lists what the SID holds directly;
  rights through a group are not the account's.
* Folder rules: ``PurgeAccessRules(sid)`` then ``AddAccessRule`` of one allow
  rule ``ContainerInherit, ObjectInherit`` / ``None`` (.NET adds
  ``Synchronize`` to allow rules); explicit rules of other principals stay,
  inherited ones are never edited.
* ``mcms_drift`` records: ``user_right`` (resource = right, attribute =
  account, wanted/found ``granted``/``absent``), ``folder`` (``exists``) and
  ``folder_acl`` (resource = folder, attribute = account, wanted = the rights
  string or null, found = ``"Allow:<rights>"`` entries joined by ``", "``).
"""

from __future__ import annotations

import typing as t

from .. import identity
from .. import state as st
from . import accounts
from . import acl as acl_model
from ._base import ModuleContext, model

UPSTREAM = "mcms.infra 0.1.0"
TRANSLATE_ERROR = ('Exception calling "Translate" with "1" argument(s): "Some or all identity references could '
                   'not be translated."')
_INHERIT = "ContainerInherit, ObjectInherit"


def _norm(path: str) -> str:
    return path.rstrip("\\")


def _ancestors(path: str) -> list[str]:
    out = []
    p: str | None = st.parent(path)
    while p is not None:
        out.append(_norm(p))
        p = st.parent(p)
    return out


def _found(aces: list[dict[str, t.Any]]) -> str:
    return ", ".join(f"{a['type'].capitalize()}:{a['rights']}" for a in aces)


@model("mcms.infra.win_account_grants", upstream=UPSTREAM)
def win_account_grants(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    lab = identity.lab_of(ctx)
    rights_table = state["user_rights"]

    # 1. Translate and parse everything before any change.
    managed: list[dict[str, t.Any]] = []
    for account in p["accounts"]:
        found = accounts.resolve_account(state, account["name"], lab)
        if found is None:
            ctx.fail(f"Failed to translate the account '{account['name']}' to a SID: {TRANSLATE_ERROR}")
        wanted_rights = []
        for right in account["rights"]:
            canonical = next((k for k in rights_table if k.lower() == right.lower()), None)
            if canonical is None:
                ctx.fail(f"the specified right {right} is not a valid right")
            if canonical not in wanted_rights:
                wanted_rights.append(canonical)
        folders: dict[str, str] = {}
        for folder in account["folders"]:
            try:
                mask = acl_model.rule_mask(acl_model.parse_fs_rights(folder["rights"]), "allow")
            except acl_model.CastError as exc:
                ctx.fail(f"folder {folder['path']} of {account['name']}: {exc}")
            folders[st.normpath(_norm(folder["path"]), state)] = acl_model.fs_rights_string(mask)
        managed.append({"name": account["name"], "sid": found[0], "account": found[1],
                        "rights": wanted_rights, "folders": folders})
    for name in p["remove"]:
        found = accounts.resolve_account(state, name, lab)
        if found is None:
            ctx.warn(f"{name}: no longer translates to a SID, nothing left to take back")
            continue
        managed.append({"name": name, "sid": found[0], "account": found[1], "rights": [], "folders": {}})

    drift: list[dict[str, t.Any]] = []
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}

    # 2. User rights, exactly the declared set per account.
    for m in managed:
        held = sorted(r for r, holders in rights_table.items() if m["sid"] in holders)
        add = [r for r in m["rights"] if r not in held]
        drop = [r for r in held if r not in m["rights"]]
        before[m["name"]] = {"rights": held, "folders": {}}
        after[m["name"]] = {"rights": sorted(m["rights"]), "folders": {}}
        for r in add:
            drift.append({"resource_type": "user_right", "resource": r, "attribute": m["name"],
                          "wanted": "granted", "found": "absent"})
        for r in drop:
            drift.append({"resource_type": "user_right", "resource": r, "attribute": m["name"],
                          "wanted": "absent", "found": "granted"})
        if add:
            added[m["name"]] = add
        if drop:
            removed[m["name"]] = drop
        if not ctx.check_mode:
            for r in add:
                accounts.grant_right(state, r, m["sid"])
            for r in drop:
                accounts.revoke_right(state, r, m["sid"])
            if add:
                accounts.remember(state, m["sid"], m["account"])

    # 3. The declared folders and their parents.
    scope: dict[str, bool] = {}
    for m in managed:
        for path in m["folders"]:
            for anc in _ancestors(path):
                scope.setdefault(anc, False)
            scope[path] = True
    created: list[str] = []
    acl_changed: dict[str, list[str]] = {}
    when = st.iso(ctx.now())
    for path in sorted(scope, key=len):
        item = st.get_item(state, path)
        if item is None or item["type"] != "directory":
            if not scope[path]:
                continue
            if not p["create_folders"]:
                ctx.fail(f"folder {path} does not exist (create_folders is off)")
            drift.append({"resource_type": "folder", "resource": path, "attribute": "exists",
                          "wanted": True, "found": False})
            created.append(path)
            if ctx.check_mode:
                for m in managed:
                    if path in m["folders"]:
                        after[m["name"]]["folders"][path] = m["folders"][path]
                        drift.append({"resource_type": "folder_acl", "resource": path, "attribute": m["name"],
                                      "wanted": m["folders"][path], "found": None})
                continue
            st.make_dirs(state, path, when)
            item = st.get_item(state, path)
            assert item is not None
        explicit = acl_model._with_sids(ctx, item.get("acl", []))
        dirty = False
        for m in managed:
            mine = [a for a in explicit if a.get("sid") == m["sid"] and not a.get("inherited")]
            wanted = m["folders"].get(path)
            if mine:
                before[m["name"]]["folders"][path] = _found(mine)
            if wanted:
                after[m["name"]]["folders"][path] = wanted
            ok = (len(mine) == 1 and mine[0]["type"] == "allow" and mine[0]["rights"] == wanted
                  and mine[0].get("inheritance", "None") == _INHERIT
                  and mine[0].get("propagation", "None") == "None") if wanted else not mine
            if ok:
                continue
            drift.append({"resource_type": "folder_acl", "resource": path, "attribute": m["name"],
                          "wanted": wanted, "found": _found(mine)})
            acl_changed.setdefault(path, []).append(m["name"])
            explicit = [a for a in explicit if a.get("sid") != m["sid"] or a.get("inherited")]
            if wanted:
                explicit = acl_model.add_access_rule(explicit, {
                    "identity": m["account"], "sid": m["sid"], "rights": wanted, "type": "allow",
                    "inheritance": _INHERIT, "propagation": "None", "inherited": False})
            dirty = True
        if dirty and not ctx.check_mode:
            item["acl"] = explicit
            for m in managed:
                accounts.remember(state, m["sid"], m["account"])

    ctx.changed(bool(drift))
    ctx.set_diff(before, after)
    return ctx.exit(rights_added=added, rights_removed=removed, folders_created=created,
                    acl_changed=acl_changed, mcms_drift=drift)
