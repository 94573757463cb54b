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
  inherited ones are never edited.  That happens on each declared folder and
  on each parent inside ``root`` (every parent without ``root``).
* Effective access: a rule a managed account inherits on a declared folder
  (``Get-Acl`` ``IsInherited``, here :func:`winsim.state.effective_acl`) from
  an explicit ``ContainerInherit`` rule on a parent above ``root`` is a
  ``folder_acl`` record on that parent (wanted null); check mode warns,
  otherwise the module fails with ``folder access wider than declared, set
  above the managed tree <root> (remove it there): <parent> gives <account>
  <rule>, inherited by <folders>`` before any change.  A widening rule on a
  parent inside ``root`` is removed there (a ``folder_acl`` record on that
  parent).
* Not atomic (``LsaAddAccountRights`` and ``Set-Acl`` one after another):
  a failure after a change keeps what was done (``partial_on_failure``);
  translation, parsing and the check above the managed tree run first.
* ``mcms_drift`` records: ``user_right`` (resource = right, attribute =
  account, wanted/found ``granted``/``absent``), ``folder`` (``exists``) and
  ``folder_acl`` (resource = folder, attribute = account, wanted = the rights
  string or null, found = ``"Allow:<rights>"`` entries joined by ``", "``).
"""

from __future__ import annotations

import datetime as _dt
import typing as t

from .. import identity
from .. import state as st
from ..drift import Arg, DriftError, drift, run_upstream
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


@model("mcms.infra.win_account_grants", upstream=UPSTREAM, partial_on_failure=True)
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

    root = _norm(st.normpath(p["root"], state)) if p.get("root") else None

    def in_tree(path: str) -> bool:
        return root is None or path.lower() == root.lower() or path.lower().startswith(root.lower() + "\\")

    drift: list[dict[str, t.Any]] = []
    before: dict[str, t.Any] = {}

    # 2. Effective access on each declared folder: a rule the account inherits
    # from a parent above the managed tree is reported (check mode) or fails
    # the module before any change; the module never edits such a parent.
    outside: list[str] = []
    for m in managed:
        sources: dict[str, dict[str, t.Any]] = {}
        for path in sorted(m["folders"]):
            item = st.get_item(state, path)
            if item is None or item["type"] != "directory":
                continue
            inherited = [a for a in acl_model._with_sids(ctx, st.effective_acl(state, path))
                         if a.get("inherited") and a.get("sid") == m["sid"]]
            if not inherited:
                continue
            for anc in _ancestors(path):
                anc_item = st.get_item(state, anc)
                if anc_item is None:
                    continue
                rules = [a for a in acl_model._with_sids(ctx, anc_item.get("acl", []))
                         if a.get("sid") == m["sid"] and not a.get("inherited")
                         and "ContainerInherit" in a.get("inheritance", "None")]
                if rules and not in_tree(anc):
                    sources.setdefault(anc, {"rules": rules, "folders": []})["folders"].append(path)
        for anc, src in sources.items():
            found_rules = _found(src["rules"])
            drift.append({"resource_type": "folder_acl", "resource": anc, "attribute": m["name"],
                          "wanted": None, "found": found_rules})
            outside.append(f"{anc} gives {m['name']} {found_rules}, inherited by {', '.join(src['folders'])}")
    if outside:
        msg = (f"folder access wider than declared, set above the managed tree {root} (remove it there): "
               + "; ".join(outside))
        if not ctx.check_mode:
            ctx.fail(msg)
        ctx.warn(msg)
    after: dict[str, t.Any] = {}
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}

    # 3. User rights, exactly the declared set per account.
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

    # 4. The declared folders and their parents in the managed tree.
    scope: dict[str, bool] = {}
    for m in managed:
        for path in m["folders"]:
            for anc in _ancestors(path):
                if in_tree(anc):
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


# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("grant-folder-access", section="files",
       help="Grant an account access to a folder, inherited by everything below it (runs win_acl's model: an "
            "explicit allow rule, ContainerInherit, ObjectInherit), e.g. Modify on the application root.",
       args=[Arg("path", "folder, e.g. C:\\MCMS"),
             Arg("account", "account: a local name, or the SID of a domain account (like revoke-user-right, "
                            "a drift does not ask the DC)"),
             Arg("rights", "FileSystemRights, e.g. Modify")])
def grant_folder_access(state: dict[str, t.Any], now: _dt.datetime, *, path: str, account: str, rights: str) -> str:
    item = st.get_item(state, path)
    if item is None or item["type"] != "directory":
        raise DriftError(f"no folder {path!r} on this host")
    result = run_upstream(state, now, "ansible.windows.win_acl",
                          {"path": path, "user": account, "rights": rights, "type": "allow", "state": "present"})
    if not result.get("changed"):
        raise DriftError(f"{account} already holds {rights} on {path}")
    return f"folder {path}: {account} granted {rights} (inherited below it)"
