"""Local accounts: ``ansible.windows.win_user``, ``win_group``,
``win_group_membership`` and ``win_user_right`` (ansible.windows 3.8.0),
plus the account-name/SID resolution every other model shares.

State sections owned here (documented in ``winsim/docs/winsim.md``):

``state["users"]`` — local users, keyed by lower-case name::

    {"name", "sid", "fullname", "description", "password_digest" (masking.secret_digest,
     never clear text, None when no password was ever set), "account_disabled",
     "account_locked", "password_expired", "password_never_expires",
     "user_cannot_change_password", "account_expires" ("never" or ISO 8601),
     "home_directory", "login_script", "profile"}

``state["groups"]`` — local groups (BUILTIN and user created), keyed by
lower-case name: ``{"name", "sid", "description", "members": [SID, ...]}``.

``state["user_rights"]`` — LSA account rights and privileges, keyed by the
constant name (``SeServiceLogonRight``): a list of SIDs.

Accounts are resolved the way ``NTAccount.Translate`` resolves them on a
workgroup or domain member: well-known principals (``NT AUTHORITY\\SYSTEM``,
``Everyone``...), ``BUILTIN`` groups, local users and groups
(``HOST\\name``, ``.\\name``, bare ``name``), virtual accounts
(``NT SERVICE\\<existing service>``, ``IIS APPPOOL\\<existing app pool>``) and,
on a domain member, ``DOMAIN\\name`` / ``name@domain`` / gMSAs and computer
accounts, looked up in the lab's Active Directory (the DC host's ``ad``
section): all through the one resolver, :mod:`winsim.identity`.  A domain
name the DC does not hold does not resolve, and fails with the asking
module's own error text.
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

from .. import masking
from ..drift import Arg, DriftError, drift, run_upstream
from ..drift import find_named as _find_named
from ..drift import section_of as _section
from ..state import section
from ._base import ModuleContext, model

UPSTREAM = "ansible.windows 3.8.0"

MACHINE_SID = "S-1-5-21-3623811015-3361044348-30300820"

WELL_KNOWN: dict[str, str] = {
    "S-1-1-0": "Everyone",
    "S-1-2-0": "LOCAL",
    "S-1-3-0": "CREATOR OWNER",
    "S-1-5-2": "NT AUTHORITY\\NETWORK",
    "S-1-5-3": "NT AUTHORITY\\BATCH",
    "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
    "S-1-5-6": "NT AUTHORITY\\SERVICE",
    "S-1-5-7": "NT AUTHORITY\\ANONYMOUS LOGON",
    "S-1-5-11": "NT AUTHORITY\\Authenticated Users",
    "S-1-5-17": "NT AUTHORITY\\IUSR",
    "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
    "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
    "S-1-5-113": "NT AUTHORITY\\Local account",
    "S-1-5-114": "NT AUTHORITY\\Local account and member of Administrators group",
    "S-1-5-80-0": "NT SERVICE\\ALL SERVICES",
    "S-1-5-90-0": "Window Manager\\Window Manager Group",
    "S-1-15-2-1": "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES",
}

# BUILTIN groups of a Windows Server 2022 member server: (RID, name, description)
BUILTIN_GROUPS: list[tuple[int, str, str]] = [
    (579, "Access Control Assistance Operators",
     "Members of this group can remotely query authorization attributes and permissions for resources on this "
     "computer."),
    (544, "Administrators",
     "Administrators have complete and unrestricted access to the computer/domain"),
    (551, "Backup Operators",
     "Backup Operators can override security restrictions for the sole purpose of backing up or restoring files"),
    (574, "Certificate Service DCOM Access",
     "Members of this group are allowed to connect to Certification Authorities in the enterprise"),
    (569, "Cryptographic Operators", "Members are authorized to perform cryptographic operations."),
    (583, "Device Owners", "Members of this group can change system-wide settings."),
    (562, "Distributed COM Users",
     "Members are allowed to launch, activate and use Distributed COM objects on this machine."),
    (573, "Event Log Readers", "Members of this group can read event logs from local machine"),
    (546, "Guests", "Guests have the same access as members of the Users group by default, except for the Guest "
                    "account which is further restricted"),
    (578, "Hyper-V Administrators",
     "Members of this group have complete and unrestricted access to all features of Hyper-V."),
    (568, "IIS_IUSRS", "Built-in group used by Internet Information Services."),
    (556, "Network Configuration Operators",
     "Members in this group can have some administrative privileges to manage configuration of networking features"),
    (559, "Performance Log Users",
     "Members of this group may schedule logging of performance counters, enable trace providers, and collect "
     "event traces both locally and via remote access to this computer"),
    (558, "Performance Monitor Users",
     "Members of this group can access performance counter data locally and remotely"),
    (547, "Power Users", "Power Users are included for backwards compatibility and possess limited administrative "
                         "powers"),
    (555, "Remote Desktop Users", "Members in this group are granted the right to logon remotely"),
    (580, "Remote Management Users", "Members of this group can access WMI resources over management protocols "
                                     "(such as WS-Management via the Windows Remote Management service). This "
                                     "applies only to WMI namespaces that grant access to the user."),
    (552, "Replicator", "Supports file replication in a domain"),
    (582, "Storage Replica Administrators",
     "Members of this group have complete and unrestricted access to all features of Storage Replica."),
    (581, "System Managed Accounts Group", "Members of this group are managed by the system."),
    (545, "Users", "Users are prevented from making accidental or intended system-wide changes and can run most "
                   "applications"),
]

ADMINISTRATORS = "S-1-5-32-544"
USERS = "S-1-5-32-545"
BACKUP_OPERATORS = "S-1-5-32-551"
IIS_IUSRS = "S-1-5-32-568"
EVERYONE = "S-1-1-0"
LOCAL_SERVICE = "S-1-5-19"
NETWORK_SERVICE = "S-1-5-20"
SERVICE = "S-1-5-6"

# Default "User Rights Assignment" of a Windows Server 2022 standalone server.
DEFAULT_RIGHTS: dict[str, list[str]] = {
    "SeAssignPrimaryTokenPrivilege": [LOCAL_SERVICE, NETWORK_SERVICE],
    "SeAuditPrivilege": [LOCAL_SERVICE, NETWORK_SERVICE],
    "SeBackupPrivilege": [ADMINISTRATORS, BACKUP_OPERATORS],
    "SeBatchLogonRight": [ADMINISTRATORS, BACKUP_OPERATORS, "S-1-5-32-559"],
    "SeChangeNotifyPrivilege": [EVERYONE, LOCAL_SERVICE, NETWORK_SERVICE, ADMINISTRATORS, USERS, BACKUP_OPERATORS],
    "SeCreateGlobalPrivilege": [LOCAL_SERVICE, NETWORK_SERVICE, ADMINISTRATORS, SERVICE],
    "SeCreatePagefilePrivilege": [ADMINISTRATORS],
    "SeCreatePermanentPrivilege": [],
    "SeCreateSymbolicLinkPrivilege": [ADMINISTRATORS],
    "SeCreateTokenPrivilege": [],
    "SeDebugPrivilege": [ADMINISTRATORS],
    "SeDelegateSessionUserImpersonatePrivilege": [ADMINISTRATORS],
    "SeDenyBatchLogonRight": [],
    "SeDenyInteractiveLogonRight": [],
    "SeDenyNetworkLogonRight": [],
    "SeDenyRemoteInteractiveLogonRight": [],
    "SeDenyServiceLogonRight": [],
    "SeEnableDelegationPrivilege": [],
    "SeImpersonatePrivilege": [LOCAL_SERVICE, NETWORK_SERVICE, ADMINISTRATORS, SERVICE],
    "SeIncreaseBasePriorityPrivilege": [ADMINISTRATORS, "S-1-5-90-0"],
    "SeIncreaseQuotaPrivilege": [LOCAL_SERVICE, NETWORK_SERVICE, ADMINISTRATORS],
    "SeIncreaseWorkingSetPrivilege": [USERS],
    "SeInteractiveLogonRight": [ADMINISTRATORS, USERS, BACKUP_OPERATORS],
    "SeLoadDriverPrivilege": [ADMINISTRATORS],
    "SeLockMemoryPrivilege": [],
    "SeMachineAccountPrivilege": [],
    "SeManageVolumePrivilege": [ADMINISTRATORS],
    "SeNetworkLogonRight": [EVERYONE, ADMINISTRATORS, USERS, BACKUP_OPERATORS],
    "SeProfileSingleProcessPrivilege": [ADMINISTRATORS],
    "SeRelabelPrivilege": [],
    "SeRemoteInteractiveLogonRight": [ADMINISTRATORS, "S-1-5-32-555"],
    "SeRemoteShutdownPrivilege": [ADMINISTRATORS],
    "SeRestorePrivilege": [ADMINISTRATORS, BACKUP_OPERATORS],
    "SeSecurityPrivilege": [ADMINISTRATORS],
    "SeServiceLogonRight": ["S-1-5-80-0"],
    "SeShutdownPrivilege": [ADMINISTRATORS, BACKUP_OPERATORS],
    "SeSyncAgentPrivilege": [],
    "SeSystemEnvironmentPrivilege": [ADMINISTRATORS],
    "SeSystemProfilePrivilege": [ADMINISTRATORS, "S-1-5-80-3139157870-2983391045-3678747466-658725712-1809340420"],
    "SeSystemtimePrivilege": [LOCAL_SERVICE, ADMINISTRATORS],
    "SeTakeOwnershipPrivilege": [ADMINISTRATORS],
    "SeTcbPrivilege": [],
    "SeTimeZonePrivilege": [LOCAL_SERVICE, ADMINISTRATORS],
    "SeTrustedCredManAccessPrivilege": [],
    "SeUndockPrivilege": [ADMINISTRATORS],
}

TRANSLATE_ERROR = ('Exception calling "Translate" with "1" argument(s): '
                   '"Some or all identity references could not be translated."')


def _user(name: str, rid: int, description: str, disabled: bool) -> dict[str, t.Any]:
    return {
        "name": name, "sid": f"{MACHINE_SID}-{rid}", "fullname": "", "description": description,
        "password_digest": None, "account_disabled": disabled, "account_locked": False,
        "password_expired": False, "password_never_expires": rid != 500 or False,
        "user_cannot_change_password": rid in (501, 503, 504), "account_expires": "never",
        "home_directory": "", "login_script": "", "profile": "",
    }


@section("users")
def _fresh_users() -> dict[str, t.Any]:
    users = [
        _user("Administrator", 500, "Built-in account for administering the computer/domain", False),
        _user("DefaultAccount", 503, "A user account managed by the system.", True),
        _user("Guest", 501, "Built-in account for guest access to the computer/domain", True),
        _user("WDAGUtilityAccount", 504, "A user account managed and used by the system for Windows Defender "
                                         "Application Guard scenarios.", True),
    ]
    users[0]["password_never_expires"] = False
    return {u["name"].lower(): u for u in users}


@section("groups")
def _fresh_groups() -> dict[str, t.Any]:
    members: dict[int, list[str]] = {
        544: [f"{MACHINE_SID}-500"],
        545: ["S-1-5-4", "S-1-5-11"],
        546: [f"{MACHINE_SID}-501"],
        568: ["S-1-5-17"],
        581: [f"{MACHINE_SID}-503"],
    }
    return {
        name.lower(): {"name": name, "sid": f"S-1-5-32-{rid}", "description": desc,
                       "members": list(members.get(rid, []))}
        for rid, name, desc in BUILTIN_GROUPS
    }


@section("domain_accounts")
def _fresh_domain_accounts() -> dict[str, str]:
    """SID -> ``DOMAIN\\name`` of the domain principals this member server
    has referenced (a fresh host references none)."""
    return {}


@section("user_rights")
def _fresh_user_rights() -> dict[str, list[str]]:
    return {k: list(v) for k, v in DEFAULT_RIGHTS.items()}


# -- account resolution ------------------------------------------------------

def computer_name(state: dict[str, t.Any]) -> str:
    return str(state.get("host", {}).get("hostname") or "WIN-SIM").upper()


def domain_netbios(state: dict[str, t.Any]) -> str | None:
    host = state.get("host", {})
    domain = host.get("domain")
    if not domain:
        return None
    return str(host.get("domain_netbios") or domain.split(".")[0]).upper()


def _virtual_sid(prefix: str, name: str) -> str:
    """Virtual account SIDs (see :mod:`winsim.identity`): ``NT SERVICE``
    hashes the upper-case name, ``IIS APPPOOL`` the lower-case one."""
    from .. import identity

    return identity.app_pool_sid(name) if prefix == "S-1-5-82" else identity.service_sid(name)


def lookup_sid(state: dict[str, t.Any], sid: str, lab: t.Any = None) -> str | None:
    """``SecurityIdentifier.Translate(NTAccount)``: the account name of
    ``sid`` or None when it does not map (:func:`winsim.identity.lookup`;
    domain SIDs through the lab's DC, else the names this host recorded)."""
    from .. import identity

    found = identity.lookup_sid(state, sid, lab)
    if found is not None:
        return found
    return (state.get("domain_accounts") or {}).get(sid)


def remember(state: dict[str, t.Any], sid: str, name: str) -> None:
    """Record the name of a domain principal a model granted something to,
    so that later reverse look-ups (``Translate(NTAccount)``) find it.  Only
    call this when applying a change (never in check mode)."""
    if domain_netbios(state) and sid.startswith("S-1-5-21-") and not sid.startswith(MACHINE_SID + "-"):
        state.setdefault("domain_accounts", {})[sid] = name


def is_sid(value: str) -> bool:
    from .. import identity

    return identity.is_sid(value)


def resolve_account(state: dict[str, t.Any], name: str, lab: t.Any = None) -> tuple[str, str] | None:
    """``NTAccount(name).Translate(SecurityIdentifier)``: ``(sid, canonical
    name)`` or None when the name does not map -- the one resolver,
    :func:`winsim.identity.resolve` (domain names through the lab's DC:
    pass ``lab``, else they do not resolve on a member)."""
    from .. import identity

    found = identity.resolve(state, name, lab)
    return (found.sid, found.name) if found is not None else None


def _lab(ctx: ModuleContext) -> t.Any:
    from .. import identity

    return identity.lab_of(ctx)


def account_exists(state: dict[str, t.Any], name: str, lab: t.Any = None) -> bool:
    return resolve_account(state, name, lab) is not None


def next_rid(state: dict[str, t.Any]) -> int:
    rids = [999]
    for coll in ("users", "groups"):
        for obj in state.get(coll, {}).values():
            if obj["sid"].startswith(MACHINE_SID + "-"):
                rids.append(int(obj["sid"].rsplit("-", 1)[1]))
    return max(rids) + 1


def grant_right(state: dict[str, t.Any], right: str, sid: str) -> None:
    """Add ``sid`` to ``right`` (used by features that install accounts)."""
    holders = state["user_rights"].setdefault(right, [])
    if sid not in holders:
        holders.append(sid)


def revoke_right(state: dict[str, t.Any], right: str, sid: str) -> None:
    holders = state["user_rights"].get(right, [])
    if sid in holders:
        holders.remove(sid)


# -- password policy -----------------------------------------------------------

PASSWORD_POLICY_ERROR = ('Exception calling "SetInfo" with "0" argument(s): "The password does not meet the '
                         'password policy requirements. Check the minimum password length, password complexity '
                         'and password history requirements.\r\n"')


def meets_complexity(password: str, username: str) -> bool:
    """The default policy of a Windows Server 2022 host: at least 7
    characters, three of four character classes, not containing the
    account name."""
    if len(password) < 7:
        return False
    if len(username) > 2 and username.lower() in password.lower():
        return False
    classes = [any(c.islower() for c in password), any(c.isupper() for c in password),
               any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    return sum(classes) >= 3


# -- win_user -------------------------------------------------------------------

DATE_FORMAT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?)?$")


def _parse_expires(raw: str) -> str | None:
    m = re.search(r"[+-](\d{2})(\d{2})$", raw)
    if m:
        raw = raw[:-4] + f"{m.group(1)}:{m.group(2)}"
    if raw == "never":
        return "never"
    if not DATE_FORMAT_RE.match(raw):
        return None
    try:
        value = _dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")


def _user_groups(state: dict[str, t.Any], user: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [g for g in state["groups"].values() if user["sid"] in g["members"]]


def _user_diff(state: dict[str, t.Any], user: dict[str, t.Any] | None) -> t.Any:
    if user is None:
        return ""
    return {
        "account_disabled": user["account_disabled"], "account_expires": user["account_expires"],
        "account_locked": user["account_locked"], "description": user["description"],
        "fullname": user["fullname"],
        "groups": [lookup_sid(state, g["sid"]) or g["name"] for g in _user_groups(state, user)],
        "home_directory": user["home_directory"], "login_script": user["login_script"], "name": user["name"],
        "password": "REDACTED", "password_expired": user["password_expired"],
        "password_never_expires": user["password_never_expires"], "profile": user["profile"],
        "user_cannot_change_password": user["user_cannot_change_password"],
    }


def _adsi_path(state: dict[str, t.Any], name: str) -> str:
    workgroup = state["host"].get("domain") or state["host"].get("workgroup") or "WORKGROUP"
    if state["host"].get("domain"):
        workgroup = domain_netbios(state)
    return f"WinNT://{workgroup}/{computer_name(state)}/{name}"


@model("ansible.windows.win_user", upstream=UPSTREAM, partial_on_failure=True)
def win_user(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    name = p["name"]
    if p.get("account_locked") is True:
        ctx.fail("account_locked must be set to 'no' if provided")
    expires = None
    if p.get("account_expires"):
        expires = _parse_expires(p["account_expires"])
        if expires is None:
            ctx.fail("Failed to parse account_expires as datetime string. "
                     "Expecting datetime in yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss.FFFFFFFK format.")

    users = state["users"]
    user = users.get(name.lower())
    before = _user_diff(state, user)
    after: t.Any = ""
    changed = False
    result: dict[str, t.Any] = {}
    password = p.get("password")

    if p["state"] == "present":
        if user is None:
            after = {"name": name}
            if password is not None:
                after["password"] = "REDACTED"
                if not meets_complexity(password, name) and not ctx.check_mode:
                    ctx.fail(f"Unhandled exception while executing module: {PASSWORD_POLICY_ERROR}")
            if not ctx.check_mode:
                user = _user(name, next_rid(state), "", False)
                user["password_never_expires"] = False
                user["user_cannot_change_password"] = False
                user["password_digest"] = masking.secret_digest(password) if password is not None else None
                users[name.lower()] = user
            changed = True
        if user is not None:
            work = dict(user)
            after = _user_diff(state, user)
            if password is not None and p["update_password"] == "always":
                if work["account_disabled"] or work["password_expired"]:
                    match = False
                else:
                    match = masking.secret_matches(password, work["password_digest"])
                if not match:
                    if not meets_complexity(password, name) and not ctx.check_mode:
                        ctx.fail(f"Unhandled exception while executing module: {PASSWORD_POLICY_ERROR}")
                    work["password_digest"] = masking.secret_digest(password)
                    changed = True
                    after["password"] = "CHANGED REDACTED"
            simple = [
                ("account_disabled", "account_disabled", False),
                ("account_locked", "account_locked", False),
                ("fullname", "fullname", True),
                ("description", "description", True),
                ("home_directory", "home_directory", False),
                ("login_script", "login_script", False),
                ("password_expired", "password_expired", False),
                ("password_never_expires", "password_never_expires", False),
                ("profile", "profile", False),
                ("user_cannot_change_password", "user_cannot_change_password", False),
            ]
            if expires is not None and expires != work["account_expires"]:
                work["account_expires"] = expires
                after["account_expires"] = expires
                changed = True
            for opt, field, case_sensitive in simple:
                want = p.get(opt)
                if want is None:
                    continue
                have = work[field]
                differs = (want != have) if case_sensitive or not isinstance(want, str) else \
                    (str(want).lower() != str(have).lower())
                if differs:
                    work[field] = want
                    after[opt] = want
                    changed = True
            if not ctx.check_mode:
                user.update(work)
            if p.get("groups") is not None:
                desired: list[str] = []
                for gname in p["groups"]:
                    if not gname or not gname.strip():
                        continue
                    res = resolve_account(state, gname)
                    grp = None
                    if res is not None:
                        grp = next((g for g in state["groups"].values() if g["sid"] == res[0]), None)
                    if grp is None:
                        ctx.fail(f"group '{gname}' not found")
                    if grp["sid"] not in desired:
                        desired.append(grp["sid"])
                existing = [g["sid"] for g in _user_groups(state, user)]
                action = p["groups_action"]
                to_add = [s for s in desired if s not in existing] if action in ("add", "replace") else []
                if action == "remove":
                    to_remove = [s for s in desired if s in existing]
                elif action == "replace":
                    to_remove = [s for s in existing if s not in desired]
                else:
                    to_remove = []
                for sid in to_add + to_remove:
                    grp = next(g for g in state["groups"].values() if g["sid"] == sid)
                    if not ctx.check_mode:
                        if sid in to_add:
                            grp["members"].append(user["sid"])
                        else:
                            grp["members"].remove(user["sid"])
                    changed = True
                    if sid in to_add:
                        after["groups"].append(grp["name"])
                    elif grp["name"] in after["groups"]:
                        after["groups"].remove(grp["name"])
                    else:
                        full = lookup_sid(state, sid)
                        if full in after["groups"]:
                            after["groups"].remove(full)
        result["state"] = "present"
    elif p["state"] == "absent":
        if user is not None:
            if not ctx.check_mode:
                del users[name.lower()]
                for grp in state["groups"].values():
                    if user["sid"] in grp["members"]:
                        grp["members"].remove(user["sid"])
            changed = True
            result["msg"] = f"User '{user['name']}' deleted successfully"
        else:
            result["msg"] = f"User '{name}' was not found"
        result["state"] = "absent"
        after = ""
    else:
        result["msg"] = f"Querying user '{name}'"
        result["state"] = "present" if user is not None else "absent"
        after = before

    ctx.changed(changed)
    final = users.get(name.lower())
    result["name"] = name
    if final is not None:
        result.update({
            "fullname": final["fullname"], "path": _adsi_path(state, final["name"]),
            "description": final["description"], "password_expired": final["password_expired"],
            "password_never_expires": final["password_never_expires"],
            "user_cannot_change_password": final["user_cannot_change_password"],
            "account_disabled": final["account_disabled"], "account_locked": final["account_locked"],
            "sid": final["sid"],
            "groups": [{"name": g["name"], "path": _adsi_path(state, g["name"])}
                       for g in _user_groups(state, final)],
        })
    ctx.set_diff(before, after)
    return ctx.exit(**result)


# -- win_group ------------------------------------------------------------------

def _group_members_names(state: dict[str, t.Any], sids: t.Iterable[str],
                         known: dict[str, str] | None = None) -> list[str]:
    return sorted({lookup_sid(state, s) or (known or {}).get(s) or s for s in sids}, key=str.lower)


def _to_sid_or_fail(ctx: ModuleContext, name: str, known: dict[str, str] | None = None) -> str:
    res = resolve_account(ctx.state, name, _lab(ctx))
    if res is None:
        ctx.fail(f"Unhandled exception while executing module: Failed to translate '{name}' to a "
                 f"SecurityIdentifier: {TRANSLATE_ERROR}")
    if not ctx.check_mode:
        remember(ctx.state, res[0], res[1])
    if known is not None:
        known[res[0]] = res[1]
    return res[0]


@model("ansible.windows.win_group", upstream=UPSTREAM)
def win_group(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    name = p["name"]
    groups = state["groups"]
    group = groups.get(name.lower())
    before: t.Any = None
    after: t.Any = None
    sid: str | None = None
    changed = False
    if group is not None:
        before = {"name": name, "description": group["description"],
                  "members": _group_members_names(state, group["members"])}

    members = p.get("members") or {}
    known: dict[str, str] = {}
    if p["state"] == "present":
        if group is None:
            if not ctx.check_mode:
                group = {"name": name, "sid": f"{MACHINE_SID}-{next_rid(state)}", "description": "", "members": []}
                groups[name.lower()] = group
            else:
                sid = "S-1-5-0000"
            changed = True
        description = p.get("description")
        diff_members: list[str] = []
        if group is not None:
            sid = group["sid"]
            if description is not None:
                if (group["description"] or "").lower() != description.lower():
                    if not ctx.check_mode:
                        group["description"] = description
                    changed = True
            else:
                description = group["description"]
            existing = list(group["members"])
            to_add: list[str] = []
            to_remove: list[str] = []
            if members.get("set") is not None:
                wanted = [_to_sid_or_fail(ctx, m, known) for m in members["set"]]
                to_add = [s for s in dict.fromkeys(wanted) if s not in existing]
                to_remove = [s for s in existing if s not in wanted]
            else:
                if members.get("add"):
                    wanted = [_to_sid_or_fail(ctx, m, known) for m in members["add"]]
                    to_add = [s for s in dict.fromkeys(wanted) if s not in existing]
                if members.get("remove"):
                    wanted = [_to_sid_or_fail(ctx, m, known) for m in members["remove"]]
                    to_remove = [s for s in dict.fromkeys(wanted) if s in existing]
            diff_members = list(existing)
            for s in to_add:
                if not ctx.check_mode:
                    group["members"].append(s)
                changed = True
                diff_members.append(s)
            for s in to_remove:
                if not ctx.check_mode:
                    group["members"].remove(s)
                changed = True
                diff_members.remove(s)
        after = {"name": name, "description": description,
                 "members": _group_members_names(state, diff_members, known)}
    elif group is not None:
        if not ctx.check_mode:
            del groups[name.lower()]
            for right in state["user_rights"].values():
                if group["sid"] in right:
                    right.remove(group["sid"])
        changed = True
    ctx.changed(changed)
    ctx.set_diff(before, after)
    return ctx.exit(sid=sid)


# -- win_group_membership --------------------------------------------------------

@model("ansible.windows.win_group_membership", upstream=UPSTREAM, partial_on_failure=True)
def win_group_membership(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    name = p["name"]
    mode = p["state"]
    result: dict[str, t.Any] = {"changed": False, "name": name}
    if mode in ("present", "pure"):
        result["added"] = []
    if mode in ("absent", "pure"):
        result["removed"] = []
    group = state["groups"].get(name.lower())
    if group is None:
        ctx.fail(f"Could not find local group {name}", **{k: v for k, v in result.items() if k != "changed"})

    targets: list[tuple[str, str]] = []
    seen: set[str] = set()
    for m in p["members"]:
        res = resolve_account(state, m, _lab(ctx))
        if res is None:
            ctx.fail(f"account_name {m} is not a valid account, cannot get SID: {TRANSLATE_ERROR}")
        if res[0] not in seen:
            seen.add(res[0])
            targets.append(res)
            if not ctx.check_mode:
                remember(state, res[0], res[1])
    work = list(group["members"])
    for sid, acct in targets:
        present = sid in work
        if mode in ("present", "pure") and not present:
            work.append(sid)
            result["added"].append(acct)
        elif mode == "absent" and present:
            work.remove(sid)
            result["removed"].append(acct)
    if mode == "pure":
        for sid in list(work):
            if sid not in seen:
                work.remove(sid)
                result["removed"].append(lookup_sid(state, sid, _lab(ctx)) or sid)
    changed = work != group["members"]
    if changed and not ctx.check_mode:
        group["members"] = work
    ctx.changed(bool(result.get("added")) or bool(result.get("removed")))
    result.pop("changed")
    return ctx.exit(members=[lookup_sid(state, s, _lab(ctx)) or s for s in work], **result)


# -- win_user_right ---------------------------------------------------------------

@model("ansible.windows.win_user_right", upstream=UPSTREAM, partial_on_failure=True)
def win_user_right(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    right = p["name"]
    user_sids: list[str] = []
    known: dict[str, str] = {}
    for u in p["users"]:
        res = resolve_account(state, u, _lab(ctx))
        if res is None:
            ctx.fail(f"Failed to translate the account '{u}' to a SID")
        user_sids.append(res[0])
        known[res[0]] = res[1]
        if not ctx.check_mode:
            remember(state, res[0], res[1])
    rights = state["user_rights"]
    canonical = next((k for k in rights if k.lower() == right.lower()), None)
    if canonical is None:
        ctx.fail(f"the specified right {right} is not a valid right")
    existing = list(rights[canonical])
    action = p["action"]
    to_add = [s for s in dict.fromkeys(user_sids) if s not in existing] if action in ("add", "set") else []
    if action == "remove":
        to_remove = [s for s in dict.fromkeys(user_sids) if s in existing]
    elif action == "set":
        to_remove = [s for s in existing if s not in user_sids]
    else:
        to_remove = []
    def display(sid: str) -> str:
        return known.get(sid) or lookup_sid(state, sid, _lab(ctx)) or sid

    names_before = [display(s) for s in existing]
    new_names = list(names_before)
    added, removed = [], []
    for s in to_add:
        n = display(s)
        if not ctx.check_mode:
            rights[canonical].append(s)
        added.append(n)
        new_names.append(n)
    for s in to_remove:
        n = display(s)
        if not ctx.check_mode:
            rights[canonical].remove(s)
        removed.append(n)
        if n in new_names:
            new_names.remove(n)
    ctx.changed(bool(added or removed))
    ctx.set_diff({right: names_before}, {right: new_names})
    return ctx.exit(added=added, removed=removed)

# -- drifts: what an operator does by hand (``winsim drift``, see drift.py) ---------

@drift("remove-group-member", section="groups",
       help="Remove a member from a local group (runs win_group_membership's model).",
       args=[Arg("group", "local group name"), Arg("member", "member, e.g. WEB01\\svc_mcms")])
def remove_group_member(state: dict[str, t.Any], now: _dt.datetime, *, group: str, member: str) -> str:
    _find_named(_section(state, "groups"), group, "local group")
    result = run_upstream(state, now, "ansible.windows.win_group_membership",
                          {"name": group, "members": [member], "state": "absent"})
    if not result.get("changed"):
        raise DriftError(f"{member} is not a member of {group}")
    return f"group {group}: member {member} removed"


@drift("revoke-user-right", section="user_rights",
       help="Take a user right away from an account (secpol.msc; runs win_user_right's model).",
       args=[Arg("right", "right constant, e.g. SeServiceLogonRight"), Arg("account", "account")])
def revoke_user_right(state: dict[str, t.Any], now: _dt.datetime, *, right: str, account: str) -> str:
    result = run_upstream(state, now, "ansible.windows.win_user_right",
                          {"name": right, "users": [account], "action": "remove"})
    if not result.get("changed"):
        raise DriftError(f"{account} does not hold {right}")
    return f"user right {right}: {account} removed"
