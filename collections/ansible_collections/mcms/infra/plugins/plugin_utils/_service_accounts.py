"""The ``service_accounts`` role's rules, free of Ansible's executor.

One validation function (:func:`input_errors`) is called by the role's
``validate.yml`` (through the ``mcms.infra.service_accounts_input_errors``
filter) and by the preflight (``plugins/action/preflight.py``), so a bad
account fails before the first tier touches any host, with a message that
names the variable. :func:`combine` merges the three layers
(``service_accounts_accounts`` / ``_group_accounts`` / ``_host_accounts``,
later layers replace an account of the same name: never a hash merge) and
:func:`host_plan` / :func:`directory_plan` compute, on the controller, what
each host needs, so the tasks only loop over what is declared.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterable, Mapping

LAYERS = ("service_accounts_accounts", "service_accounts_group_accounts", "service_accounts_host_accounts")
"""The three list variables an account can come from, lowest precedence first."""

KINDS = ("gmsa", "domain", "local")
# sAMAccountName of a gMSA: at most 15 characters before the trailing ``$``
# (the 16th is the ``$``; New-ADServiceAccount truncates longer names).
GMSA_MAX = 15
# Domain and local user names: 20 characters (the SAM limit).
USER_MAX = 20
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COMPONENT = re.compile(r"^[a-z][a-z0-9_]*$")
_RIGHT = re.compile(r"^Se[A-Za-z]+(Right|Privilege)$")
# Rights an account must never be granted by this role: they are what the
# deny rights take away.
_FORBIDDEN_RIGHTS = frozenset({"SeInteractiveLogonRight", "SeRemoteInteractiveLogonRight"})
# The user rights and privileges an LSA policy knows (ntsecapi.h, winnt.h):
# a name outside this list is a typo Windows would refuse at run time.
KNOWN_RIGHTS = frozenset({
    "SeAssignPrimaryTokenPrivilege", "SeAuditPrivilege", "SeBackupPrivilege", "SeBatchLogonRight",
    "SeChangeNotifyPrivilege", "SeCreateGlobalPrivilege", "SeCreatePagefilePrivilege", "SeCreatePermanentPrivilege",
    "SeCreateSymbolicLinkPrivilege", "SeCreateTokenPrivilege", "SeDebugPrivilege",
    "SeDelegateSessionUserImpersonatePrivilege", "SeDenyBatchLogonRight", "SeDenyInteractiveLogonRight",
    "SeDenyNetworkLogonRight", "SeDenyRemoteInteractiveLogonRight", "SeDenyServiceLogonRight",
    "SeEnableDelegationPrivilege", "SeImpersonatePrivilege", "SeIncreaseBasePriorityPrivilege",
    "SeIncreaseQuotaPrivilege", "SeIncreaseWorkingSetPrivilege", "SeInteractiveLogonRight", "SeLoadDriverPrivilege",
    "SeLockMemoryPrivilege", "SeMachineAccountPrivilege", "SeManageVolumePrivilege", "SeNetworkLogonRight",
    "SeProfileSingleProcessPrivilege", "SeRelabelPrivilege", "SeRemoteInteractiveLogonRight",
    "SeRemoteShutdownPrivilege", "SeRestorePrivilege", "SeSecurityPrivilege", "SeServiceLogonRight",
    "SeShutdownPrivilege", "SeSyncAgentPrivilege", "SeSystemEnvironmentPrivilege", "SeSystemProfilePrivilege",
    "SeSystemtimePrivilege", "SeTakeOwnershipPrivilege", "SeTcbPrivilege", "SeTimeZonePrivilege",
    "SeTrustedCredManAccessPrivilege", "SeUndockPrivilege"})
# Folder access a service account may be given (least privilege: never
# FullControl, ChangePermissions or TakeOwnership).
FOLDER_RIGHTS = ("ReadAndExecute", "Read", "ListDirectory", "Modify", "Write")
# Database roles that would make an application account an owner or an
# administrator of the database: refused (least privilege).
_FORBIDDEN_DB_ROLES = frozenset({"db_owner", "db_securityadmin", "db_accessadmin"})
DEFAULT_DB_ROLES = ("db_datareader", "db_datawriter")
MIGRATIONS_ROLE = "db_ddladmin"
SQL_LOGIN = "sqllogin"
"""Marker in a host's record: the account has a SQL login on this host."""
_ABS_PATH = re.compile(r"^[A-Za-z]:\\")
_BAD_PATH = re.compile(r'[<>"|?*]|(^|\\)\.\.($|\\)')


def combine(layers: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """The accounts of the three layers, by name; a later layer replaces an account of the same name."""
    by_name: dict[str, dict[str, t.Any]] = {}
    for layer in LAYERS:
        for account in layers.get(layer) or []:
            if isinstance(account, Mapping) and isinstance(account.get("name"), str):
                by_name[account["name"].lower()] = dict(account)
    # service_accounts_passwords: the password of a domain or local account
    # that sets none itself, so that switching kind is one variable (a gMSA
    # ignores it).
    shared = layers.get("service_accounts_passwords") or {}
    if isinstance(shared, Mapping):
        for account in by_name.values():
            name = account["name"].rstrip("$")
            if account.get("password") in (None, "") and shared.get(name) not in (None, ""):
                account["password"] = shared[name]
                account["_password_shared"] = True
    return list(by_name.values())


def _where(layer_of: Mapping[str, str], name: str) -> str:
    return layer_of.get(name.lower(), LAYERS[0])


def input_errors(config: Mapping[str, t.Any], inventory_hosts: Iterable[str],
                 groups: Mapping[str, Iterable[str]]) -> list[str]:
    """Every problem in the role's input, each ``variable: problem``.

    ``config`` holds the role's variables by name (the three layers,
    ``service_accounts_kind``, ``service_accounts_domain_netbios``,
    ``service_accounts_domain_dns``). A password given in plain text instead
    of a ``vault_*`` reference is the preflight's generic ``no_log`` check
    (``_preflight.check_plaintext_secrets``); here a password must exist.
    """
    errors: list[str] = []
    hosts = set(inventory_hosts)
    group_names = set(groups)
    default_kind = config.get("service_accounts_kind", "gmsa")
    layer_of: dict[str, str] = {}
    for layer in LAYERS:
        items = config.get(layer) or []
        if not isinstance(items, list):
            errors.append(f"{layer}: must be a list of accounts")
            continue
        for index, account in enumerate(items):
            if not isinstance(account, Mapping) or not isinstance(account.get("name"), str):
                errors.append(f"{layer}[{index}]: every account needs a name")
                continue
            layer_of[account["name"].lower()] = f"{layer}[{index}]"
    if default_kind not in KINDS:
        errors.append(f"service_accounts_kind: {default_kind!r} is not one of {', '.join(KINDS)}")
    accounts = combine(config)
    components: dict[str, str] = {}
    needs_domain = False
    for account in accounts:
        name = account["name"]
        where = _where(layer_of, name)
        kind = account.get("kind") or default_kind
        if kind not in KINDS:
            errors.append(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
            continue
        needs_domain = needs_domain or kind != "local"
        base = name[:-1] if name.endswith("$") else name
        if not _NAME.match(base):
            errors.append(f"{where}.name: {name!r} is not a valid account name (letters, digits, _ . -)")
        elif kind == "gmsa" and len(base) > GMSA_MAX:
            errors.append(f"{where}.name: gMSA name {base!r} has {len(base)} characters before '$', "
                          f"at most {GMSA_MAX} (sAMAccountName limit): shorten it")
        elif kind != "gmsa" and len(base) > USER_MAX:
            errors.append(f"{where}.name: user name {base!r} has {len(base)} characters, at most {USER_MAX}")
        if kind != "gmsa" and name.endswith("$"):
            errors.append(f"{where}.name: only a gMSA name may end with '$' (kind is {kind})")
        component = account.get("component")
        if component is not None:
            if not isinstance(component, str) or not _COMPONENT.match(component):
                errors.append(f"{where}.component: {component!r} must be lower-case letters, digits and _")
            elif component in components:
                errors.append(f"{where}.component: {component!r} is already the component of "
                              f"{components[component]}")
            else:
                components[component] = name
        used_by = account.get("hosts") or []
        if not used_by:
            errors.append(f"{where}.hosts: account {name} is used by no host: list the inventory hosts or groups")
        for entry in used_by:
            if entry not in hosts and entry not in group_names:
                errors.append(f"{where}.hosts: {entry!r} is neither a host nor a group of the inventory")
        for right in list(account.get("rights") or []):
            if not isinstance(right, str) or not _RIGHT.match(right):
                errors.append(f"{where}.rights: {right!r} is not a user right name (e.g. SeServiceLogonRight)")
            elif right in _FORBIDDEN_RIGHTS:
                errors.append(f"{where}.rights: {right} is an interactive logon right, which service accounts "
                              "are denied")
            elif right not in KNOWN_RIGHTS:
                errors.append(f"{where}.rights: {right!r} is not a user right Windows knows (misspelt? e.g. "
                              "SeServiceLogonRight, SeBatchLogonRight)")
        errors.extend(_folder_errors(where, account.get("folders")))
        errors.extend(_sql_errors(where, account.get("sql")))
        password_set = "password" in account and account.get("password") not in (None, "")
        if kind == "gmsa" and password_set and not account.get("_password_shared"):
            errors.append(f"{where}.password: a gMSA has no password (the domain manages it): remove it")
        if kind in ("domain", "local") and account.get("state", "present") == "present" and not password_set:
            errors.append(f"{where}.password: a {kind} account needs a password from the vault "
                          "('{{ vault_... }}' in vault.yml beside the vars), in the account or in "
                          "service_accounts_passwords")
    if needs_domain:
        for var in ("service_accounts_domain_netbios", "service_accounts_domain_dns"):
            value = config.get(var)
            if not isinstance(value, str) or not value or value.startswith("CHANGE-ME"):
                errors.append(f"{var}: the domain's name is not set and gmsa/domain accounts are declared: "
                              "set it in group_vars/all/ of the environment")
    return sorted(set(errors))


def _folder_errors(where: str, folders: t.Any) -> list[str]:
    if folders is None:
        return []
    if not isinstance(folders, list):
        return [f"{where}.folders: must be a list of {{path, rights}}"]
    errors = []
    seen: set[str] = set()
    for index, folder in enumerate(folders):
        at = f"{where}.folders[{index}]"
        if not isinstance(folder, Mapping) or not isinstance(folder.get("path"), str) or not folder["path"]:
            errors.append(f"{at}.path: every folder needs a path (absolute, or relative to service_accounts_app_root)")
            continue
        path = folder["path"]
        if _BAD_PATH.search(path) or path.startswith("\\\\"):
            errors.append(f"{at}.path: {path!r} is not a local folder path (no UNC, '..' or wildcards)")
        elif path.lower().rstrip("\\") in seen:
            errors.append(f"{at}.path: {path!r} is listed twice for this account")
        seen.add(path.lower().rstrip("\\"))
        if folder.get("rights") not in FOLDER_RIGHTS:
            errors.append(f"{at}.rights: {folder.get('rights')!r} is not one of {', '.join(FOLDER_RIGHTS)} "
                          "(least privilege: no FullControl)")
    return errors


def _sql_errors(where: str, spec: t.Any) -> list[str]:
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [f"{where}.sql: must be a mapping {{database, roles, migrations}}"]
    errors = []
    if not isinstance(spec.get("database"), str) or not spec["database"]:
        errors.append(f"{where}.sql.database: the database the account uses is not set")
    roles = spec.get("roles", list(DEFAULT_DB_ROLES))
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        errors.append(f"{where}.sql.roles: must be a list of database role names")
    else:
        for role in roles:
            if role.lower() in _FORBIDDEN_DB_ROLES:
                errors.append(f"{where}.sql.roles: {role} would make the account an owner or administrator of "
                              "the database: list the roles it needs (db_datareader, db_datawriter, ...)")
            elif role.lower() == MIGRATIONS_ROLE:
                errors.append(f"{where}.sql.roles: {MIGRATIONS_ROLE} is granted only where migrations run: set "
                              "sql.migrations: true and service_accounts_sql_migrations: true instead")
    if not isinstance(spec.get("migrations", False), bool):
        errors.append(f"{where}.sql.migrations: must be true or false")
    return errors


def folder_path(path: str, app_root: str) -> str:
    """A declared folder as an absolute Windows path (relative ones are under ``app_root``)."""
    path = path.replace("/", "\\").rstrip("\\")
    if _ABS_PATH.match(path + "\\"):
        return path
    return app_root.rstrip("\\") + "\\" + path.lstrip("\\")


def used_by(account: Mapping[str, t.Any], groups: Mapping[str, Iterable[str]]) -> list[str]:
    """The inventory hosts that use ``account`` (its hosts and groups expanded)."""
    found: list[str] = []
    for entry in account.get("hosts") or []:
        members = list(groups.get(entry, ())) if entry in groups else [entry]
        for host in members:
            if host not in found:
                found.append(host)
    return found


def computer_account(host: str) -> str:
    """The computer account of an inventory host: its first DNS label, upper-case, ``$`` appended."""
    return host.split(".")[0].upper()[:15] + "$"


def identity(account: Mapping[str, t.Any], kind: str, netbios: str) -> str:
    """The string a service, an app pool or a SQL login names the account by."""
    name = account["name"].rstrip("$")
    if kind == "gmsa":
        return f"{netbios}\\{name}$"
    if kind == "domain":
        return f"{netbios}\\{name}"
    return f".\\{name}"


def _kind(account: Mapping[str, t.Any], default_kind: str) -> str:
    return account.get("kind") or default_kind


def host_plan(accounts: list[Mapping[str, t.Any]], host: str, groups: Mapping[str, Iterable[str]],
              default_kind: str, netbios: str, deny_rights: Iterable[str],
              pending: Iterable[str] = (), app_root: str = "C:\\MCMS",
              sql_hosts: Iterable[str] = ()) -> dict[str, t.Any]:
    """What ``host`` needs: identities by component, users per right, local users, the managed names.

    ``pending`` names accounts that a check-mode run would create first: they
    do not exist yet, so no right can name them (Windows cannot translate the
    name); they are listed in ``pending`` of the result instead.
    """
    waiting = {p.lower().rstrip("$") for p in pending}
    sql_here = host in set(sql_hosts)
    grants: list[dict[str, t.Any]] = []
    identities: dict[str, str] = {}
    rights: dict[str, list[str]] = {}
    local_users: list[dict[str, t.Any]] = []
    managed: list[str] = []
    not_yet: list[str] = []
    for account in accounts:
        if account.get("state", "present") != "present":
            continue
        kind = _kind(account, default_kind)
        if host not in used_by(account, groups):
            if sql_here and account.get("sql") and kind != "local":
                managed.append(record_entry(account["name"], kind, [SQL_LOGIN]))
            continue
        ident = identity(account, kind, netbios)
        granted = list(dict.fromkeys(list(account.get("rights") or []) + list(deny_rights)))
        marker = [SQL_LOGIN] if sql_here and account.get("sql") and kind != "local" else []
        managed.append(record_entry(account["name"], kind, granted + marker))
        if account.get("component"):
            identities[account["component"]] = ident
        if kind == "local":
            local_users.append({"name": account["name"], "password": account.get("password"),
                                "description": account.get("purpose") or ""})
        if account["name"].lower().rstrip("$") in waiting:
            not_yet.append(ident)
            continue
        grants.append({"name": ident, "rights": sorted(granted),
                       "folders": [{"path": folder_path(f["path"], app_root), "rights": f["rights"]}
                                   for f in account.get("folders") or []]})
        for right in granted:
            rights.setdefault(right, [])
            if ident not in rights[right]:
                rights[right].append(ident)
    return {
        "pending": not_yet,
        "grants": grants,
        "identities": identities,
        "rights": [{"name": name, "users": users} for name, users in sorted(rights.items())],
        "local_users": local_users,
        "managed": sorted(managed),
    }


def directory_plan(accounts: list[Mapping[str, t.Any]], groups: Mapping[str, Iterable[str]],
                   default_kind: str, dns_domain: str) -> dict[str, t.Any]:
    """What the domain needs: the gMSAs with the computers allowed to use them, the domain users."""
    gmsas: list[dict[str, t.Any]] = []
    users: list[dict[str, t.Any]] = []
    managed: list[str] = []
    for account in accounts:
        if account.get("state", "present") != "present":
            continue
        kind = _kind(account, default_kind)
        name = account["name"].rstrip("$")
        if kind == "gmsa":
            gmsas.append({
                "name": name,
                "dns_hostname": f"{name}.{dns_domain}".lower(),
                "description": account.get("purpose") or "",
                "computers": sorted(computer_account(h) for h in used_by(account, groups)),
            })
            managed.append(record_entry(name, "gmsa", ()))
        elif kind == "domain":
            users.append({"name": name, "password": account.get("password"),
                          "description": account.get("purpose") or ""})
            managed.append(record_entry(name, "domain", ()))
    return {"gmsas": gmsas, "users": users, "managed": sorted(managed)}


def sql_plan(accounts: list[Mapping[str, t.Any]], default_kind: str, netbios: str,
             migrations: bool, pending: Iterable[str] = ()) -> list[dict[str, t.Any]]:
    """The Windows logins a SQL server needs: one per account with ``sql``, its database and exactly its roles.

    ``db_ddladmin`` is added for an account with ``sql.migrations`` only where
    ``migrations`` (``service_accounts_sql_migrations``) is true. Local
    accounts cannot log on to another host's SQL Server: they get no login.
    ``pending``: accounts a check-mode run would create first (no login can
    name them yet).
    """
    waiting = {p.lower().rstrip("$") for p in pending}
    logins = []
    for account in accounts:
        spec = account.get("sql")
        kind = _kind(account, default_kind)
        if (account.get("state", "present") != "present" or not spec or kind == "local"
                or account["name"].lower().rstrip("$") in waiting):
            continue
        roles = list(dict.fromkeys(spec.get("roles") or DEFAULT_DB_ROLES))
        if spec.get("migrations") and migrations:
            roles.append(MIGRATIONS_ROLE)
        logins.append({"name": identity(account, kind, netbios), "database": spec["database"],
                       "roles": sorted(roles)})
    return logins


def unmanaged_logins(gone: Iterable[Mapping[str, t.Any]]) -> list[str]:
    """The logins of accounts removed from the data (their record entry carries the SQL marker)."""
    return [g["identity"] for g in gone if SQL_LOGIN in (g.get("rights") or [])]


def record_entry(name: str, kind: str, rights: Iterable[str]) -> str:
    """One line of a host's record of managed accounts: ``name|kind|right,right``."""
    return f"{name.rstrip('$')}|{kind}|{','.join(sorted(rights))}"


def _parse_entry(entry: str) -> dict[str, t.Any]:
    name, _, rest = entry.partition("|")
    kind, _, rights = rest.partition("|")
    return {"name": name, "kind": kind or "gmsa", "rights": [r for r in rights.split(",") if r]}


def _record_entries(recorded: t.Any) -> list[str]:
    if isinstance(recorded, str):
        recorded = [recorded]
    return [str(e) for e in recorded or [] if str(e)]


def unmanaged(recorded: t.Any, managed: Iterable[str], netbios: str = "") -> list[dict[str, t.Any]]:
    """Accounts the role recorded on a host earlier and that the data no longer declares.

    An account is its name and kind: switching an account's kind leaves the
    old one (``CORP\\svc$`` after a switch to local) unmanaged, with its rights.

    Each: ``name``, ``kind``, ``rights`` (what the role granted it) and
    ``identity`` (the string those rights name).
    """
    wanted = {(_parse_entry(m)["name"].lower(), _parse_entry(m)["kind"]) for m in managed}
    found = []
    for entry in _record_entries(recorded):
        parsed = _parse_entry(entry)
        if (parsed["name"].lower(), parsed["kind"]) not in wanted:
            parsed["entry"] = entry
            parsed["identity"] = identity(parsed, parsed["kind"], netbios)
            found.append(parsed)
    return found


def prune_rights(gone: Iterable[Mapping[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``win_user_right`` removals for ``gone`` accounts: one per right, every account at once."""
    rights: dict[str, list[str]] = {}
    for account in gone:
        for right in account.get("rights") or []:
            rights.setdefault(right, []).append(account["identity"])
    return [{"name": name, "users": users} for name, users in sorted(rights.items())]


def record_matches(recorded: t.Any, managed: Iterable[str]) -> bool:
    """The host's record of managed accounts already equals ``managed`` (no write needed)."""
    return sorted(e.lower() for e in _record_entries(recorded)) == sorted(m.lower() for m in managed)
