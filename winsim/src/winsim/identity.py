"""One identity resolver for every model that takes an account name.

``NTAccount(name).Translate(SecurityIdentifier)`` on a Windows Server 2022
host asks the LSA, which looks the name up in this order: well-known
principals (``Everyone``, ``NT AUTHORITY\\SYSTEM``...), ``BUILTIN``, the
host's own SAM (local users and groups), the virtual-account authorities
(``NT SERVICE\\<installed service>``, ``IIS APPPOOL\\<existing pool>``) and,
on a domain member, the domain through a domain controller.  winsim does the
same here, backed by the host's state (``state["users"]``/``["groups"]``, see
``models/accounts.py``) and by the lab's Active Directory: the ``ad``
section of the DC host's state (``models/ad.py``), found through the lab
(``runtime.Lab``): the lab declaration's ``domain.dc`` when there is one,
else the lab host that is a DC of the member's domain.  A member knows its
domain from its own ``host.domain`` (set by ``microsoft.ad.membership``).

Consequences (each says no where Windows says no):

* a domain name resolves only when the DC holds that object: a misspelt
  ``CORP\\gmsa_mcms$`` fails, and a member whose DC is not in the lab
  cannot translate any domain name;
* the SID a member sees for ``CORP\\svc_x`` is the DC's objectSid for it;
  the domain SID comes from one function, :func:`domain_sid`;
* the accepted name forms are ``DOMAIN\\name`` (NetBIOS or DNS domain name),
  ``name@dns.domain`` (explicit UPN or the implicit ``sAMAccountName@dns
  root``), an isolated ``name`` (local first, then the domain) and SID
  strings; computers and gMSAs are ``CORP\\WEB01$`` / ``CORP\\gmsa_x$`` (no
  implicit ``$``);
* virtual account SIDs: ``NT SERVICE\\<svc>`` is S-1-5-80 + SHA-1 of the
  UTF-16LE *upper-case* service name (NT SERVICE\\TrustedInstaller =
  S-1-5-80-956008885-...-2271478464), ``IIS APPPOOL\\<pool>`` is S-1-5-82 +
  SHA-1 of the UTF-16LE *lower-case* pool name (IIS APPPOOL\\DefaultAppPool =
  S-1-5-82-3006700770-...-4004696415), five little-endian sub-authorities.

:func:`resolve` returns an :class:`Account` (SID, NTAccount name, kind) or
None; each model turns None into its own module's error text.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import struct
import typing as t

__all__ = [
    "Account",
    "app_pool_sid",
    "app_pool_start_failure",
    "dc_for",
    "disable_app_pool",
    "domain_of",
    "domain_sid",
    "is_member",
    "lab_of",
    "logon_digest",
    "logon_failure",
    "lookup_sid",
    "resolve",
    "service_sid",
]

_SID_RE = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Account:
    sid: str
    name: str
    """The NTAccount form (``CORP\\svc_x``, ``BUILTIN\\Users``, ``WEB01\\app``)."""
    kind: str
    """``user`` | ``group`` | ``computer`` | ``gmsa`` | ``virtual`` | ``well_known``
    | ``well_known_group`` | ``sid``."""
    source: str
    """``well_known`` | ``sam`` | ``ad`` | ``virtual`` | ``sid``."""
    record: dict[str, t.Any] | None = None
    """The SAM user/group or the AD object (read only)."""

    @property
    def is_group(self) -> bool:
        return self.kind in ("group", "well_known_group")


# -- SIDs ----------------------------------------------------------------------------------------------

def domain_sid(dns_root: str) -> str:
    """The SID of the domain ``dns_root`` (deterministic, so that a re-seeded
    lab gets the same SIDs).  The only domain-SID function of winsim."""
    d = hashlib.sha256(("domain-sid\0" + dns_root.lower()).encode("utf-8")).digest()
    return "S-1-5-21-" + "-".join(str(x) for x in struct.unpack("<3I", d[:12]))


def _virtual_sid(prefix: str, name: str) -> str:
    digest = hashlib.sha1(name.encode("utf-16-le")).digest()
    return f"{prefix}-" + "-".join(str(x) for x in struct.unpack("<5I", digest))


def service_sid(name: str) -> str:
    """``NT SERVICE\\<name>``: S-1-5-80 + SHA-1 of the upper-case name."""
    return _virtual_sid("S-1-5-80", name.upper())


def app_pool_sid(name: str) -> str:
    """``IIS APPPOOL\\<name>``: S-1-5-82 + SHA-1 of the lower-case name."""
    return _virtual_sid("S-1-5-82", name.lower())


def is_sid(value: str) -> bool:
    return bool(_SID_RE.match(value))


# -- the lab ----------------------------------------------------------------------------------------------

def lab_of(ctx: t.Any) -> t.Any:
    """The lab of a model's host (``ctx.runtime.lab``), or None."""
    runtime = getattr(ctx, "runtime", None)
    return getattr(runtime, "lab", None) if runtime is not None else None


def _lab_spec(lab: t.Any) -> dict[str, t.Any] | None:
    spec = getattr(lab, "spec", None)
    if isinstance(spec, dict):
        return spec
    state_dir = getattr(lab, "state_dir", None)
    if state_dir is None:
        return None
    try:
        doc = json.loads((state_dir / "_lab" / "lab.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _is_dc(state: dict[str, t.Any] | None) -> bool:
    return bool(state and (state.get("ad") or {}).get("is_dc"))


def domain_of(state: dict[str, t.Any]) -> tuple[str, str] | None:
    """(DNS root, NetBIOS name) of the host's domain, None in a workgroup."""
    if _is_dc(state):
        dom = state["ad"]["domain"]
        return dom["dns_root"], dom["netbios"]
    host = state.get("host") or {}
    root = host.get("domain")
    if not root:
        return None
    netbios = host.get("domain_netbios") or str(root).split(".")[0]
    return str(root).lower(), str(netbios).upper()


def _host_matches(name: str, host_key: str, other: dict[str, t.Any]) -> bool:
    wanted = name.lower()
    short = wanted.split(".", 1)[0]
    names = {host_key.lower(), str((other.get("host") or {}).get("hostname") or "").lower()}
    return wanted in names or short in names


def dc_for(state: dict[str, t.Any], lab: t.Any, *, dns_root: str | None = None, server: str | None = None
           ) -> tuple[str | None, dict[str, t.Any]] | None:
    """(lab host name, state) of the domain controller this host talks to:
    ``server`` (``domain_server``) when given, else a DC of ``dns_root`` (by
    default the host's own domain).  The host itself when it is that DC
    (its working state, host name None).  None when no DC can be reached."""
    if dns_root is None:
        dom = domain_of(state)
        dns_root = dom[0] if dom else None
    own_name = str((state.get("host") or {}).get("hostname") or "")
    if server is not None:
        if _is_dc(state) and _host_matches(server, own_name, state):
            return None, state
    elif _is_dc(state) and dns_root and state["ad"]["domain"]["dns_root"] == dns_root.lower():
        return None, state
    if lab is None or (server is None and not dns_root):
        return None
    candidates: list[str] = []
    spec = _lab_spec(lab)
    declared = (spec or {}).get("domain") or {}
    if server is None and declared.get("dc") and str(declared.get("dns_name", "")).lower() == dns_root:
        candidates.append(str(declared["dc"]))
    candidates.extend(h for h in lab.hosts() if h not in candidates)
    for host in candidates:
        if host.lower() == own_name.lower():
            continue
        other = lab.state(host)
        if not _is_dc(other):
            continue
        assert other is not None
        if server is not None:
            if _host_matches(server, host, other):
                return host, other
            continue
        if other["ad"]["domain"]["dns_root"] == str(dns_root).lower():
            return host, other
    return None


# -- resolution --------------------------------------------------------------------------------------

def _ad_objects(dc: dict[str, t.Any]) -> t.Iterable[dict[str, t.Any]]:
    return (dc.get("ad") or {}).get("objects", {}).values()


_AD_KINDS = {"user": "user", "group": "group", "computer": "computer", "msDS-GroupManagedServiceAccount": "gmsa"}


def _ad_account(dc: dict[str, t.Any], obj: dict[str, t.Any]) -> Account | None:
    kind = _AD_KINDS.get(obj.get("class", ""))
    if kind is None or not obj.get("sid"):
        return None
    netbios = dc["ad"]["domain"]["netbios"]
    sam = obj["attrs"].get("samaccountname") or obj["name"]
    return Account(obj["sid"], f"{netbios}\\{sam}", kind, "ad", obj)


def _ad_by_sam(dc: dict[str, t.Any], sam: str) -> Account | None:
    for obj in _ad_objects(dc):
        if str(obj["attrs"].get("samaccountname") or "").lower() == sam.lower():
            acct = _ad_account(dc, obj)
            if acct is not None:
                return acct
    return None


def _ad_by_upn(dc: dict[str, t.Any], upn: str) -> Account | None:
    for obj in _ad_objects(dc):
        if str(obj["attrs"].get("userprincipalname") or "").lower() == upn.lower():
            acct = _ad_account(dc, obj)
            if acct is not None:
                return acct
    sam, _, suffix = upn.rpartition("@")
    if suffix.lower() == dc["ad"]["domain"]["dns_root"]:
        return _ad_by_sam(dc, sam)
    return None


def _ad_by_sid(dc: dict[str, t.Any], sid: str) -> Account | None:
    for obj in _ad_objects(dc):
        if str(obj.get("sid") or "").upper() == sid.upper():
            return _ad_account(dc, obj)
    return None


def _computer_name(state: dict[str, t.Any]) -> str:
    return str((state.get("host") or {}).get("hostname") or "WIN-SIM").upper()


def _local(state: dict[str, t.Any], dom_u: str, acct: str) -> Account | None:
    from .models import accounts

    host = _computer_name(state)
    acct_l = acct.lower()
    alias = {"localservice": "S-1-5-19", "networkservice": "S-1-5-20"}.get(acct_l.replace(" ", ""))
    if alias and dom_u in ("", "NT AUTHORITY"):
        return Account(alias, accounts.WELL_KNOWN[alias], "well_known", "well_known")
    for sid, full in accounts.WELL_KNOWN.items():
        fdom, _, fname = full.rpartition("\\")
        if fname.lower() == acct_l and (not dom_u or dom_u == fdom.upper()):
            kind = "well_known" if sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-17") else "well_known_group"
            return Account(sid, full, kind, "well_known")
    if dom_u in ("", "BUILTIN", host):
        grp = (state.get("groups") or {}).get(acct_l)
        if grp is not None and (dom_u != "BUILTIN" or grp["sid"].startswith("S-1-5-32-")):
            prefix = "BUILTIN" if grp["sid"].startswith("S-1-5-32-") else host
            return Account(grp["sid"], f"{prefix}\\{grp['name']}", "group", "sam", grp)
    if dom_u in ("", host):
        user = (state.get("users") or {}).get(acct_l)
        if user is not None:
            return Account(user["sid"], f"{host}\\{user['name']}", "user", "sam", user)
    if dom_u == "NT SERVICE":
        for svc in (state.get("services") or {}).values():
            if svc["name"].lower() == acct_l:
                return Account(service_sid(svc["name"]), f"NT SERVICE\\{svc['name']}", "virtual", "virtual", svc)
    if dom_u == "IIS APPPOOL":
        for pool in ((state.get("iis") or {}).get("app_pools") or {}).values():
            if pool["name"].lower() == acct_l:
                return Account(app_pool_sid(pool["name"]), f"IIS APPPOOL\\{pool['name']}", "virtual", "virtual",
                               pool)
    return None


def resolve(state: dict[str, t.Any], name: str, lab: t.Any = None) -> Account | None:
    """``NTAccount(name).Translate(SecurityIdentifier)`` on this host (see
    the module doc); None when the name does not map.  A SID string is
    accepted as is (``New-Object SecurityIdentifier``), named when known."""
    if not name:
        return None
    if is_sid(name):
        sid = name.upper()
        found = lookup(state, sid, lab)
        return found if found is not None else Account(sid, sid, "sid", "sid")
    host = _computer_name(state)
    upn = None
    if "\\" in name:
        dom, acct = name.split("\\", 1)
        dom_u = host if dom == "." else dom.upper()
    elif "@" in name:
        dom_u, acct, upn = "@", name, name
    else:
        dom_u, acct = "", name
    if upn is None:
        found = _local(state, dom_u, acct)
        if found is not None:
            return found
    dom = domain_of(state)
    if dom is None:
        return None
    root, netbios = dom
    if upn is None and dom_u not in ("", netbios, root.upper()):
        return None
    located = dc_for(state, lab)
    if located is None:
        return None
    dc = located[1]
    return _ad_by_upn(dc, upn) if upn is not None else _ad_by_sam(dc, acct)


def lookup(state: dict[str, t.Any], sid: str, lab: t.Any = None) -> Account | None:
    """``SecurityIdentifier.Translate(NTAccount)``: the account of ``sid``."""
    from .models import accounts

    sid = sid.upper()
    if sid in accounts.WELL_KNOWN:
        kind = "well_known" if sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-17") else "well_known_group"
        return Account(sid, accounts.WELL_KNOWN[sid], kind, "well_known")
    host = _computer_name(state)
    for grp in (state.get("groups") or {}).values():
        if grp["sid"] == sid:
            prefix = "BUILTIN" if sid.startswith("S-1-5-32-") else host
            return Account(sid, f"{prefix}\\{grp['name']}", "group", "sam", grp)
    for user in (state.get("users") or {}).values():
        if user["sid"] == sid:
            return Account(sid, f"{host}\\{user['name']}", "user", "sam", user)
    if sid.startswith("S-1-5-80-"):
        for svc in (state.get("services") or {}).values():
            if service_sid(svc["name"]) == sid:
                return Account(sid, f"NT SERVICE\\{svc['name']}", "virtual", "virtual", svc)
    if sid.startswith("S-1-5-82-"):
        for pool in ((state.get("iis") or {}).get("app_pools") or {}).values():
            if app_pool_sid(pool["name"]) == sid:
                return Account(sid, f"IIS APPPOOL\\{pool['name']}", "virtual", "virtual", pool)
    if sid.startswith("S-1-5-21-") and domain_of(state) is not None:
        located = dc_for(state, lab)
        if located is not None:
            return _ad_by_sid(located[1], sid)
    return None


def lookup_sid(state: dict[str, t.Any], sid: str, lab: t.Any = None) -> str | None:
    found = lookup(state, sid, lab)
    return found.name if found is not None else None


# -- group membership in AD ------------------------------------------------------------------------------

_PRIMARY_GROUP_RID = {"user": 513, "computer": 515, "gmsa": 515}


def is_member(dc: dict[str, t.Any], obj: dict[str, t.Any], group_dn: str) -> bool:
    """Whether AD object ``obj`` is ``group_dn`` or a (transitive) member of
    it, counting the primary group (Domain Users / Domain Computers)."""
    from .models import ad

    wanted = ad.norm_dn(group_dn)
    if ad.norm_dn(obj["dn"]) == wanted:
        return True
    seen: set[str] = set()
    todo = [obj["dn"]]
    kind = _AD_KINDS.get(obj.get("class", ""))
    rid = _PRIMARY_GROUP_RID.get(kind or "")
    if rid is not None:
        primary = f"{dc['ad']['domain']['sid']}-{rid}"
        for grp in _ad_objects(dc):
            if grp.get("sid") == primary:
                todo.append(grp["dn"])
                if ad.norm_dn(grp["dn"]) == wanted:
                    return True
    while todo:
        dn = todo.pop()
        for parent in ad.groups_of(dc, dn):
            n = ad.norm_dn(parent)
            if n == wanted:
                return True
            if n not in seen:
                seen.add(n)
                todo.append(parent)
    return False


# -- logon (service start, app pool worker process) --------------------------------------------------------

LOGON_FAILURE = "The service did not start due to a logon failure."
BAD_PASSWORD = "The user name or password is incorrect."
NO_SERVICE_RIGHT = "Logon failure: the user has not been granted the requested logon type at this computer."
NO_MAPPING = "No mapping between account names and security IDs was done."
DISABLED = "The referenced account is currently disabled and may not be logged on to."
_SERVICE_ACCOUNTS = ("S-1-5-18", "S-1-5-19", "S-1-5-20")


def _holds_right(state: dict[str, t.Any], right: str, account: Account, lab: t.Any) -> bool:
    """Whether ``account`` holds ``right`` on this host, directly or
    through a local group or (for domain accounts) a domain group."""
    holders = {s.upper() for s in (state.get("user_rights") or {}).get(right, [])}
    if account.sid.upper() in holders:
        return True
    for grp in (state.get("groups") or {}).values():
        if grp["sid"].upper() in holders and account.sid in grp.get("members", []):
            return True
    if account.source == "ad" and account.record is not None:
        located = dc_for(state, lab)
        if located is not None:
            dc = located[1]
            for sid in holders:
                found = _ad_by_sid(dc, sid)
                if found is not None and found.kind == "group" and found.record is not None \
                        and is_member(dc, account.record, found.record["dn"]):
                    return True
            # Local groups may hold domain groups too (e.g. a domain group in Administrators).
            for grp in (state.get("groups") or {}).values():
                if grp["sid"].upper() not in holders:
                    continue
                for member in grp.get("members", []):
                    found = _ad_by_sid(dc, member)
                    if found is not None and found.kind == "group" and found.record is not None \
                            and is_member(dc, account.record, found.record["dn"]):
                        return True
    return False


def logon_digest(state: dict[str, t.Any], username: str | None, password: str, lab: t.Any = None) -> str:
    """What a service stores for the password it was given, in the form the
    account's own store can be compared with at start time (the SCM keeps
    the password as an LSA secret and the LSA checks it at each logon):
    a local user's salted SAM digest is re-derived with that digest's salt,
    a domain user gets the AD ``sha256:`` form; anything else a fresh salted
    digest.  Never clear text."""
    from . import masking
    from .models import ad

    account = resolve(state, username, lab) if username else None
    if account is not None and account.source == "sam" and account.kind == "user":
        stored = (account.record or {}).get("password_digest") or ""
        parts = stored.split("$")
        if len(parts) == 4 and parts[0] == "pbkdf2_sha256":
            return masking.secret_digest(password, salt=base64.b64decode(parts[2]))
    if account is not None and account.source == "ad":
        return str(ad.password_digest(password))
    return masking.secret_digest(password)


def logon_failure(state: dict[str, t.Any], username: str | None, secret: str | None, lab: t.Any, *,
                  right: str | None = "SeServiceLogonRight") -> str | None:
    """Why the service control manager (or WAS, for an app pool) cannot log
    ``username`` on as a service on this host; None when it can.

    The checks, in LSA order: the account resolves; a gMSA (``$`` account,
    no password) is retrievable by this host's computer account
    (``PrincipalsAllowedToRetrieveManagedPassword``, directly or through a
    group, the primary group counting); a user's password is right
    (``secret``: what :func:`logon_digest` made, or an app pool's
    ``sha256:`` digest, compared with the SAM or AD digest); the account is
    enabled; the account holds ``right`` here (LocalSystem, LocalService,
    NetworkService and virtual accounts need no right).  A local account
    behind an app pool's ``sha256:`` digest cannot be compared with the
    salted SAM digest: its password is not checked (documented gap)."""
    from .models import ad

    if not username or username.lower() == "localsystem":
        return None
    account = resolve(state, username, lab)
    if account is None:
        return NO_MAPPING
    if account.sid in _SERVICE_ACCOUNTS or account.kind == "virtual":
        return None
    if account.kind in ("well_known", "well_known_group", "sid", "group", "computer"):
        return BAD_PASSWORD
    rec = account.record or {}
    attrs = rec.get("attrs") or {}
    if account.kind == "gmsa":
        located = dc_for(state, lab)
        if located is None:
            return BAD_PASSWORD
        dc = located[1]
        me = ad.find_object(dc, f"{_computer_name(state)}$", "ADComputer")
        allowed = attrs.get("principalsallowedtoretrievemanagedpassword") or []
        if me is None or not any(is_member(dc, me, dn) for dn in allowed):
            return BAD_PASSWORD
        if attrs.get("enabled") is False:
            return DISABLED
    elif account.source == "sam":
        stored = rec.get("password_digest")
        if not (secret or "").startswith("sha256:") and (not stored or secret != stored):
            return BAD_PASSWORD
        if rec.get("account_disabled"):
            return DISABLED
    else:
        stored = attrs.get("password")
        if not stored or secret != stored:
            return BAD_PASSWORD
        if attrs.get("enabled") is False:
            return DISABLED
    if right is not None and not _holds_right(state, right, account, lab):
        return NO_SERVICE_RIGHT
    return None


# -- application pools (WAS) -------------------------------------------------------------------------------

WAS_INVALID_IDENTITY = (
    "The identity of application pool {pool} is invalid. The user name or password that is specified for the "
    "identity may be incorrect, or the user may not have batch logon rights. If the identity is not corrected, "
    "the application pool will be disabled when the application pool receives its first request.  If batch logon "
    "rights are causing the problem, the identity in the IIS configuration store must be changed after rights "
    "have been granted before Windows Process Activation Service (WAS) can retry the logon. If the identity "
    "remains invalid after the first request for the application pool is processed, the application pool will be "
    "disabled. The data field contains the error number.")
WAS_POOL_DISABLED = (
    "Application pool {pool} has been disabled. Windows Process Activation Service (WAS) did not create a worker "
    "process to serve the application pool because the application pool identity is invalid.")


def app_pool_start_failure(state: dict[str, t.Any], pool: dict[str, t.Any], lab: t.Any = None
                           ) -> dict[str, t.Any] | None:
    """What WAS finds when it starts a worker process for ``pool`` (an
    ``iis.app_pools`` entry, see ``models/iis.py``) on the host of
    ``state``: None when it can, else the event record to keep on the pool.

    IIS accepts any ``processModel.userName`` at configuration time; the
    logon happens when the first request activates the pool.  Only
    ``SpecificUser`` identities can fail: the account must resolve, its
    password match (AD: exact; a local account's salted SAM digest cannot be
    compared with the pool's ``sha256:`` digest, so it is not checked), a
    gMSA must be retrievable by this computer.  The batch logon right comes
    with IIS_IUSRS, which WAS adds the identity to.  On failure WAS logs
    5021 and 5057 and disables the pool: the HTTP model answers 503 for a
    pool whose ``state`` is not ``Started`` -- see :func:`disable_app_pool`."""
    attrs = pool.get("attributes") or {}
    if str(attrs.get("processModel.identityType", "ApplicationPoolIdentity")) not in ("SpecificUser", "3"):
        return None
    user = str(attrs.get("processModel.userName") or "")
    reason = logon_failure(state, user, str(attrs.get("processModel.password") or "") or None, lab, right=None)
    if reason is None:
        return None
    name = pool.get("name", "")
    return {"event_ids": [5021, 5057], "account": user, "logon_error": reason,
            "message": WAS_INVALID_IDENTITY.format(pool=name), "disabled": WAS_POOL_DISABLED.format(pool=name)}


def disable_app_pool(pool: dict[str, t.Any], failure: dict[str, t.Any]) -> None:
    """Apply :func:`app_pool_start_failure`'s verdict the way WAS does: the
    pool is stopped (``state: Stopped``) and keeps the reason in
    ``worker_start_error`` (the HTTP model's flag: 503 from then on)."""
    pool["state"] = "Stopped"
    pool["worker_start_error"] = dict(failure)
