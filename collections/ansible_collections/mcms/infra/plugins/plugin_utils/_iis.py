"""Controller-side logic of the ``iis`` role, shared by the ``iis_*`` filters and the preflight.

The ``iis`` role keeps its module round trips low (a no-op run of ``iis`` and
``tls`` on a web node must stay within 15 round trips, facts included): it
reads the host once through read-only modules (``win_feature_info``,
``website_info``, ``slurp`` of ``applicationHost.config``), then these filters
compare what was read with the desired state and return only the module calls
that would change something.  Tasks loop over the returned plans, so a host
that already matches costs no further round trip, and a drifted host gets
exactly one call per drifted resource -- which is also what makes a check-mode
run report exactly the drifted resources.

Nothing here talks to a host, and nothing raises on bad input: bad input is
reported by :func:`input_errors` as a list of messages, each naming the
variable and the fix, so the preflight and ``validate.yml`` fail before any
host is touched.  Only :func:`iis_apphost_plan` raises (:class:`IisError`) on
host data it cannot read.

Functions (each exposed as an ``mcms.infra.iis_*`` filter by
``plugins/filter/iis_plan.py``, documented in the YAML sidecars there):

* ``input_errors``        -- the role's semantic checks: called by the role's
  ``validate.yml`` (filter ``iis_input_errors``) and by the preflight, so a bad
  ``iis_*`` variable fails before any tier touches a host.
* ``iis_sites_normalize`` -- combine ``iis_sites``/``iis_group_sites``/
  ``iis_host_sites`` and fill defaults (never a hash merge).
* ``iis_feature_plan``    -- features to install/remove from ``win_feature_info``.
* ``iis_site_plan``       -- ``microsoft.iis.website`` calls from ``website_info``.
* ``iis_pool_plan``       -- ``microsoft.iis.web_app_pool`` arguments per site.
* ``iis_auth_plan``       -- name and authentication of each present site,
  nothing secret (the authentication tasks loop over it).
* ``iis_apphost_plan``    -- ``community.windows.win_xml`` calls on
  ``applicationHost.config`` from its slurped content.
* ``iis_firewall_ports``  -- the inbound TCP ports the sites need.
* ``managed_site_names``, ``sites_root_problem`` -- for the ``tls`` role's
  cross-check and the root directory check.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.mcms.infra.plugins.plugin_utils._validate import hostname_problem

SITE_LAYERS = ("iis_sites", "iis_group_sites", "iis_host_sites")
"""The three list variables a site can come from, lowest precedence first."""

DEFAULT_SITE_NAME = "Default Web Site"
BUILTIN_IDENTITIES = {
    "applicationpoolidentity": "ApplicationPoolIdentity",
    "localservice": "LocalService",
    "localsystem": "LocalSystem",
    "networkservice": "NetworkService",
}
SITE_STATES = ("started", "stopped", "absent")
WINDOWS_AUTH_PROVIDERS = ("Negotiate", "NTLM", "Negotiate:Kerberos", "Negotiate:PKU2U", "Negotiate:CloudAP")
TOKEN_CHECKING = ("None", "Allow", "Require")
# community.windows.win_firewall_rule 3.x (win_firewall_rule.ps1, ConvertTo-Profile): the profile names it
# converts; anything else throws "Unknown profile" on the host. It has no "any": all three mean all profiles.
FIREWALL_PROFILES = ("domain", "private", "public")
# INetFwRule.RemoteAddresses keywords (besides addresses, subnets and ranges); win_firewall_rule.ps1 treats
# "any" itself (it leaves RemoteAddresses at "*").
FIREWALL_ADDRESS_KEYWORDS = ("any", "*", "localsubnet", "defaultgateway", "dhcp", "dns", "wins")

# The rule groups the Web-Server install creates, as Windows stores them (INetFwRule.Grouping, unresolved and the
# same in every display language), and the ids (Get-NetFirewallRule -Name) of the one rule in each.
IIS_FIREWALL_GROUPS = ("@%windir%\\system32\\inetsrv\\iisres.dll,-30501",
                       "@%windir%\\system32\\inetsrv\\iisres.dll,-30503")
IIS_FIREWALL_RULE_IDS = ("IIS-WebServerRole-HTTP-In-TCP", "IIS-WebServerRole-HTTPS-In-TCP")

_DRIVE_PATH = re.compile(r"^[A-Za-z]:\\")
_TIMESPAN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_ACCOUNT = re.compile(r"^(?:[^\\/@\s]+\\[^\\/@\s]+|[^\\/@\s]+@[^\\/@\s]+)$")

APPHOST_PATH = r"C:\Windows\System32\inetsrv\config\applicationHost.config"
REDIRECTION_PATH = r"C:\Windows\System32\inetsrv\config\redirection.config"


class IisError(ValueError):
    """Host data the role cannot plan from (the filters turn it into a task failure)."""


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _is_int(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value: t.Any) -> int | None:
    """``value`` as an int when it is one (or a string of digits, as extra
    vars give), else None.  Booleans are not numbers here."""
    if _is_int(value):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _port_ok(value: t.Any) -> bool:
    port = _as_int(value)
    return port is not None and 1 <= port <= 65535


def _lower(value: t.Any) -> str:
    return str(value if value is not None else "").lower()


def _path_key(path: t.Any) -> str:
    """Compare Windows paths the way IIS and PowerShell do: case-insensitive,
    no trailing separator, forward slashes accepted."""
    text = str(path or "").replace("/", "\\")
    while len(text) > 3 and text.endswith("\\"):
        text = text[:-1]
    return text.lower()


def _site_label(origin: str, site: t.Any) -> str:
    name = site.get("name") if isinstance(site, dict) else None
    return f"{origin} ({name})" if name else origin


def _timespan_from_minutes(minutes: int) -> str:
    """IIS TimeSpan text in the form ``[d.]hh:mm:ss`` (what ``web_app_pool_info``
    reports, TimeSpan.ToString("c")), so values compare equal on both sides."""
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{hours:02d}:{mins:02d}:00"
    return f"{days}.{text}" if days else text


def _schedule_entry(value: str) -> str:
    """A recycle schedule time ``HH:MM`` or ``HH:MM:SS`` as ``hh:mm:ss``."""
    return value if value.count(":") == 2 else f"{value}:00"


# ---------------------------------------------------------------------------
# normalisation
# ---------------------------------------------------------------------------
def iis_sites_normalize(
    layers: list[t.Any],
    site_defaults: dict[str, t.Any],
    app_pool_defaults: dict[str, t.Any],
    authentication_defaults: dict[str, t.Any],
    sites_root: str,
) -> list[dict[str, t.Any]]:
    """Combine the site layers and fill every option from the defaults.

    ``layers`` is ``[iis_sites, iis_group_sites, iis_host_sites]``.  A site in
    a later layer replaces the site of the same name (case-insensitive) from an
    earlier layer *as a whole*; nothing is deep-merged.  The order of first
    appearance is kept.  Every returned site carries ``_origin`` (e.g.
    ``iis_host_sites[1]``) so later messages can name the variable.
    """
    combined: dict[str, dict[str, t.Any]] = {}
    order: list[str] = []
    for layer_index, layer in enumerate(layers or []):
        origin_name = SITE_LAYERS[layer_index] if layer_index < len(SITE_LAYERS) else f"layer{layer_index}"
        for index, site in enumerate(layer or []):
            if not isinstance(site, dict) or not site.get("name"):
                continue  # reported by input_errors
            key = str(site["name"]).lower()
            if key not in combined:
                order.append(key)
            combined[key] = {"_origin": f"{origin_name}[{index}]", **site}

    result = []
    for key in order:
        raw = combined[key]
        site = {**site_defaults, **{k: v for k, v in raw.items() if k not in ("app_pool", "authentication")}}
        site["name"] = str(raw["name"])
        site["hostnames"] = [str(h) for h in (site.get("hostnames") or [])]
        for option in ("https_port", "http_port"):
            port = _as_int(site.get(option))
            if port is not None:
                site[option] = port
        if not site.get("physical_path"):
            site["physical_path"] = sites_root.rstrip("\\/") + "\\" + site["name"]
        pool = {**app_pool_defaults, **(raw.get("app_pool") or {})}
        pool["name"] = pool.get("name") or site["name"]
        site["app_pool"] = pool
        site["authentication"] = {**authentication_defaults, **(raw.get("authentication") or {})}
        result.append(site)
    return result


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
def _pool_errors(label: str, pool: dict[str, t.Any]) -> list[str]:
    errors = []
    identity = pool.get("identity")
    password = pool.get("password")
    if not isinstance(identity, str) or not identity:
        errors.append(f"{label}: app_pool.identity is empty; use ApplicationPoolIdentity, a gMSA "
                      "('DOMAIN\\name$') or a domain account ('DOMAIN\\user' with app_pool.password)")
    elif identity.lower() in BUILTIN_IDENTITIES:
        if password:
            errors.append(f"{label}: app_pool.password is set but app_pool.identity '{identity}' is a built-in "
                          "identity that takes no password; remove app_pool.password")
    elif not _ACCOUNT.match(identity):
        errors.append(f"{label}: app_pool.identity '{identity}' is neither a built-in identity "
                      f"({', '.join(BUILTIN_IDENTITIES.values())}) nor an account in the form 'DOMAIN\\name' "
                      "or 'name@domain'")
    elif identity.endswith("$"):
        if password:
            errors.append(f"{label}: app_pool.identity '{identity}' is a gMSA, whose password Windows manages; "
                          "remove app_pool.password")
    elif not password:
        errors.append(f"{label}: app_pool.identity '{identity}' is an account and needs app_pool.password "
                      "(a vault_* variable); set it, or use a gMSA ('DOMAIN\\name$') or ApplicationPoolIdentity")

    if pool.get("start_mode") not in ("AlwaysRunning", "OnDemand"):
        errors.append(f"{label}: app_pool.start_mode '{pool.get('start_mode')}' must be AlwaysRunning or OnDemand")
    if pool.get("idle_timeout_action") not in ("Terminate", "Suspend"):
        errors.append(f"{label}: app_pool.idle_timeout_action '{pool.get('idle_timeout_action')}' "
                      "must be Terminate or Suspend")
    for option, upper in (("idle_timeout_minutes", 43200), ("periodic_restart_minutes", 432000)):
        value = pool.get(option)
        if not _is_int(value) or not 0 <= value <= upper:
            errors.append(f"{label}: app_pool.{option} '{value}' must be an integer from 0 (off) to {upper}")
    schedule = pool.get("recycle_schedule")
    if not isinstance(schedule, list) or not all(isinstance(s, str) and _TIMESPAN.match(s) for s in schedule):
        errors.append(f"{label}: app_pool.recycle_schedule {schedule!r} must be a list of times 'HH:MM' or "
                      "'HH:MM:SS' (24h)")
    if not isinstance(pool.get("load_user_profile"), bool):
        errors.append(f"{label}: app_pool.load_user_profile must be true or false")
    return errors


def _auth_errors(label: str, auth: dict[str, t.Any]) -> list[str]:
    errors = []
    for option in ("windows", "anonymous", "use_kernel_mode"):
        if auth.get(option) is not None and not isinstance(auth.get(option), bool):
            errors.append(f"{label}: authentication.{option} must be true, false or null (unmanaged)")
    providers = auth.get("providers")
    if not isinstance(providers, list) or not providers:
        errors.append(f"{label}: authentication.providers must be a non-empty list, e.g. [Negotiate, NTLM]")
    else:
        for provider in providers:
            if provider not in WINDOWS_AUTH_PROVIDERS:
                errors.append(f"{label}: authentication.providers entry '{provider}' is not one of "
                              f"{', '.join(WINDOWS_AUTH_PROVIDERS)}")
    if auth.get("token_checking") not in TOKEN_CHECKING:
        errors.append(f"{label}: authentication.token_checking '{auth.get('token_checking')}' must be one of "
                      f"{', '.join(TOKEN_CHECKING)}")
    return errors


def input_errors(values: dict[str, t.Any]) -> list[str]:
    """Semantic checks the argument spec cannot express.

    ``values`` holds the role's public variables by name.  Returns one message
    per problem, each naming the variable and saying how to fix it; an empty
    list means the input is usable.
    """
    errors: list[str] = []
    layers = [values.get(name) for name in SITE_LAYERS]

    # --- raw site entries: names and duplicates within one layer ---------
    for name, layer in zip(SITE_LAYERS, layers, strict=True):
        if layer is None:
            continue
        if not isinstance(layer, list):
            errors.append(f"{name} must be a list of site definitions, not {type(layer).__name__}")
            continue
        seen: dict[str, int] = {}
        for index, site in enumerate(layer):
            origin = f"{name}[{index}]"
            if not isinstance(site, dict):
                errors.append(f"{origin} must be a mapping with at least 'name' and 'hostnames'")
                continue
            if not isinstance(site.get("name"), str) or not site.get("name", "").strip():
                errors.append(f"{origin}: 'name' is required (the IIS site name)")
                continue
            key = site["name"].lower()
            if key in seen:
                errors.append(f"{origin}: duplicate site name '{site['name']}' (also {name}[{seen[key]}]); "
                              "each site appears once per list -- later lists override earlier ones by name")
            else:
                seen[key] = index
            if key == DEFAULT_SITE_NAME.lower():
                errors.append(f"{origin}: '{DEFAULT_SITE_NAME}' is managed by iis_default_site_state; "
                              "give the application its own site name")
            for sub in ("app_pool", "authentication"):
                if site.get(sub) is not None and not isinstance(site.get(sub), dict):
                    errors.append(f"{origin}: {sub} must be a mapping")

    if errors:
        return errors

    sites = iis_sites_normalize(
        layers,
        values.get("iis_site_defaults") or {},
        values.get("iis_app_pool_defaults") or {},
        values.get("iis_authentication_defaults") or {},
        str(values.get("iis_sites_root") or ""),
    )
    root_problem = sites_root_problem(values.get("iis_sites_root"))
    if root_problem:
        errors.append(root_problem)

    def derived_path(site: dict[str, t.Any]) -> str:
        return str(values.get("iis_sites_root") or "").rstrip("\\/") + "\\" + site["name"]

    system_drive = _lower(values.get("iis_system_drive") or "C:").rstrip("\\")
    require_data_drive = bool(values.get("iis_require_non_system_drive"))

    bindings: dict[tuple[str, int, str], str] = {}
    hostnames: dict[str, str] = {}
    pools: dict[str, str] = {}
    for site in sites:
        label = _site_label(site["_origin"], site)
        state = site.get("state")
        if state not in SITE_STATES:
            errors.append(f"{label}: state '{state}' must be one of {', '.join(SITE_STATES)}")
        if state == "absent":
            continue

        for option in ("https_port", "http_port"):
            if not _port_ok(site.get(option)):
                errors.append(f"{label}: {option} '{site.get(option)}' is not a TCP port (an integer 1-65535)")
        if _port_ok(site.get("https_port")) and site.get("https_port") == site.get("http_port"):
            errors.append(f"{label}: https_port and http_port are both {site.get('https_port')}; "
                          "HTTP and HTTPS need different ports")
        if not isinstance(site.get("http_redirect"), bool):
            errors.append(f"{label}: http_redirect must be true or false")
        if not isinstance(site.get("preload_enabled"), bool):
            errors.append(f"{label}: preload_enabled must be true or false")
        ip = site.get("ip")
        if isinstance(ip, str) and ":" in ip:
            errors.append(f"{label}: ip '{ip}' is an IPv6 address, which the role does not support yet: "
                          "microsoft.iis.website_info splits a binding's bindingInformation "
                          "('<ip>:<port>:<host>') on ':', so an IPv6 binding is read back wrong and changed on "
                          "every run; use '*' (all addresses, IPv6 included) or an IPv4 address")
        elif not isinstance(ip, str) or not (ip == "*" or _ipv4(ip)):
            errors.append(f"{label}: ip '{ip}' must be '*' (all addresses) or an IPv4 address")

        names = site.get("hostnames")
        if not names:
            errors.append(f"{label}: hostnames is empty; list the DNS names users reach the site by "
                          "(the tls role binds HTTPS to them by SNI)")
        for hostname in names or []:
            why = hostname_problem(hostname)
            if why:
                errors.append(f"{label}: hostnames entry '{hostname}' {why}")
                continue
            key = hostname.lower()
            if key in hostnames and hostnames[key] != site["name"]:
                errors.append(f"{label}: hostname '{hostname}' is also used by site '{hostnames[key]}'; "
                              "a host header can belong to one site only")
            elif key in hostnames:
                errors.append(f"{label}: hostname '{hostname}' is listed twice")
            hostnames[key] = site["name"]
            if site.get("http_redirect") and _port_ok(site.get("http_port")):
                binding = (str(ip), site["http_port"], key)
                if binding in bindings and bindings[binding] != site["name"]:
                    errors.append(f"{label}: binding http {ip}:{site['http_port']}:{hostname} is also used by "
                                  f"site '{bindings[binding]}'")
                bindings[binding] = site["name"]

        path = site.get("physical_path")
        if root_problem and path == derived_path(site):
            pass  # reported once, as iis_sites_root: the operator never wrote this path
        elif not isinstance(path, str) or not _DRIVE_PATH.match(path):
            errors.append(f"{label}: physical_path '{path}' must be an absolute path with a drive letter, "
                          "e.g. 'D:\\sites\\MCMS'")
        elif require_data_drive and path[:2].lower() == system_drive:
            errors.append(f"{label}: physical_path '{path}' is on the system drive {system_drive.upper()} but "
                          "iis_require_non_system_drive is true; put the site on a data drive (e.g. D:)")

        pool = site["app_pool"]
        pool_key = str(pool.get("name")).lower()
        if pool_key in pools:
            errors.append(f"{label}: app_pool.name '{pool.get('name')}' is also the pool of site "
                          f"'{pools[pool_key]}'; every site gets its own app pool")
        pools[pool_key] = site["name"]
        errors.extend(_pool_errors(label, pool))
        errors.extend(_auth_errors(label, site["authentication"]))

    # --- features ----------------------------------------------------------
    present = {_lower(f) for f in values.get("iis_features") or []}
    for feature in values.get("iis_features_absent") or []:
        if _lower(feature) in present:
            errors.append(f"iis_features_absent: '{feature}' is also in iis_features; a feature cannot be both "
                          "installed and removed")
    preload = [s["name"] for s in sites if s.get("state") != "absent" and s.get("preload_enabled") is True]
    if preload and "web-appinit" in {_lower(f) for f in values.get("iis_features_absent") or []}:
        errors.append(f"iis_features_absent lists Web-AppInit (Application Initialization) but site(s) "
                      f"{', '.join(preload)} ask for preload_enabled, which needs it; remove Web-AppInit from "
                      "iis_features_absent or set preload_enabled: false")
    if values.get("iis_management_console") and "web-mgmt-console" in {
            _lower(f) for f in values.get("iis_features_absent") or []}:
        errors.append("iis_management_console is true but Web-Mgmt-Console is in iis_features_absent; "
                      "remove it from iis_features_absent or set iis_management_console: false")

    # --- hosting bundle ------------------------------------------------------
    if values.get("iis_hosting_bundle_enabled"):
        source = values.get("iis_hosting_bundle_source")
        if not source:
            errors.append("iis_hosting_bundle_source is empty: set it to the internal https:// URL of "
                          "dotnet-hosting-<version>-win.exe (or a path on the host's own disk), "
                          "or set iis_hosting_bundle_enabled: false")
        elif is_unc_path(source):
            errors.append(f"iis_hosting_bundle_source '{source}' is a UNC path: the installer runs in the "
                          "Ansible session, which reaches the host over PSRP with Kerberos and without "
                          "delegation (CredSSP is refused, docs/decisions.md 4 and 11), so it cannot read a file "
                          "share (access denied, the double hop); publish the bundle on the internal artifact "
                          "server and use its https:// URL")
        elif re.match(r"^https?://", str(source), re.I) and not str(source).lower().startswith("https://") \
                and not values.get("iis_hosting_bundle_allow_http"):
            errors.append(f"iis_hosting_bundle_source '{source}' is plain http; use an https:// URL or a file "
                          "share path (or set iis_hosting_bundle_allow_http: true for an isolated lab)")
        product_id = values.get("iis_hosting_bundle_product_id")
        if not product_id or not re.match(r"^\{?[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}?$",
                                          str(product_id)):
            errors.append(f"iis_hosting_bundle_product_id '{product_id or ''}' must be the bundle's product "
                          "GUID ('{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}', from the uninstall registry key of "
                          "a host where this version is installed); it makes the install idempotent")
        checksum = values.get("iis_hosting_bundle_checksum")
        if checksum and not re.match(r"^[0-9A-Fa-f]{64}$", str(checksum)):
            errors.append(f"iis_hosting_bundle_checksum '{checksum}' must be a SHA-256 digest "
                          "(64 hex characters) or empty")

    # --- global settings -------------------------------------------------------
    for name in ("iis_request_max_allowed_content_length", "iis_request_max_url", "iis_request_max_query_string"):
        value = values.get(name)
        if not _is_int(value) or not 1 <= value <= 4294967295:
            errors.append(f"{name} '{value}' must be a positive integer (at most 4294967295)")
    max_age = values.get("iis_hsts_max_age")
    if not _is_int(max_age) or max_age < 0:
        errors.append(f"iis_hsts_max_age '{max_age}' must be a number of seconds (>= 0; 31536000 is one year)")
    elif values.get("iis_hsts_preload") and max_age < 31536000:
        errors.append(f"iis_hsts_max_age {max_age} is below one year (31536000) but iis_hsts_preload is true; "
                      "browsers' preload lists require at least one year")

    for name in ("iis_firewall_extra_ports",):
        for port in values.get(name) or []:
            if not _port_ok(port):
                errors.append(f"{name} entry '{port}' is not a TCP port (an integer 1-65535)")
    errors.extend(_firewall_errors(values))
    errors.extend(_trusted_ca_errors(values.get("iis_trusted_ca_certificates")))
    return errors


def _ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def is_unc_path(path: t.Any) -> bool:
    """Whether ``path`` is a UNC path (``\\\\server\\share\\...``, also written with forward slashes)."""
    return isinstance(path, str) and path.replace("/", "\\").startswith("\\\\")


def _trusted_ca_errors(pems: t.Any) -> list[str]:
    """Each ``iis_trusted_ca_certificates`` entry must be one PEM CA certificate."""
    if pems is None:
        return []
    if not isinstance(pems, list):
        return ["iis_trusted_ca_certificates must be a list of PEM certificates (the internal CA's public "
                "certificate), not " + type(pems).__name__]
    errors = []
    for index, pem in enumerate(pems):
        try:
            facts = ca_certificate_facts(pem)
        except IisError as exc:
            errors.append(f"iis_trusted_ca_certificates[{index}] {exc}; paste the CA certificate as PEM "
                          "('-----BEGIN CERTIFICATE-----' ...), e.g. with lookup('ansible.builtin.file', ...)")
            continue
        if not facts["is_ca"]:
            errors.append(f"iis_trusted_ca_certificates[{index}] ({facts['subject']}) is not a CA certificate "
                          "(no basicConstraints CA:true); list the CA that issued the artifact server's "
                          "certificate, not the server certificate itself")
    return errors


def ca_certificate_facts(pem: t.Any) -> dict[str, t.Any]:
    """Thumbprint, subject and CA flag of one PEM certificate; raises :class:`IisError` when it is none."""
    from ansible_collections.mcms.infra.plugins.plugin_utils._tls import TlsError, certificate_facts

    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise IisError("is not a PEM certificate")
    if pem.count("-----BEGIN CERTIFICATE-----") > 1:
        raise IisError("holds more than one certificate (one list entry per certificate)")
    try:
        return certificate_facts(pem)
    except TlsError as exc:
        raise IisError(str(exc)) from None


def iis_trust_plan(pems: list[str] | None, root_certificates: list[dict[str, t.Any] | str] | None
                   ) -> list[dict[str, t.Any]]:
    """The CA certificates of ``pems`` that ``LocalMachine\\Root`` does not hold yet.

    ``root_certificates`` is ``win_certificate_info``'s ``certificates`` list of
    the Root store, or the thumbprints it holds (``win_cert_usage``'s
    ``in_root``).  Returns ``[{thumbprint, subject, pem}]`` in input order,
    one entry per certificate to import (nothing when all are trusted).
    """
    present = {str((c.get("thumbprint") if isinstance(c, dict) else c) or "").upper()
               for c in root_certificates or []}
    plan, seen = [], set()
    for pem in pems or []:
        facts = ca_certificate_facts(pem)
        if facts["thumbprint"] in present or facts["thumbprint"] in seen:
            continue
        seen.add(facts["thumbprint"])
        plan.append({"thumbprint": facts["thumbprint"], "subject": facts["subject"], "pem": pem})
    return plan


def shared_configuration(content_b64: str | None) -> dict[str, t.Any]:
    """Whether the slurped ``redirection.config`` turns on IIS shared configuration.

    Returns ``{"enabled": bool, "path": str}``: with ``<configurationRedirection
    enabled="true" path="\\\\server\\share">`` IIS reads ``applicationHost.config``
    from ``path``, and the local file the role edits is not the one in use.
    Raises :class:`IisError` on content that is not the file.
    """
    try:
        data = base64.b64decode(content_b64 or "", validate=True)
        root = ET.fromstring(data.decode("utf-8-sig"))
    except (binascii.Error, ValueError, ET.ParseError, UnicodeDecodeError) as exc:
        raise IisError(f"{REDIRECTION_PATH} is not readable XML: {exc}") from exc
    node = root.find("configurationRedirection")
    enabled = node is not None and _lower(node.get("enabled")) == "true"
    return {"enabled": enabled, "path": (node.get("path") or "") if node is not None else ""}


def _remote_address_problem(entry: str) -> str | None:
    """Why one comma-separated entry of ``remoteip`` is not something Windows' firewall accepts, or None."""
    if entry.lower() in FIREWALL_ADDRESS_KEYWORDS:
        return None
    if "-" in entry:
        first, _, last = entry.partition("-")
        try:
            start, end = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            return "is not an address range 'first-last' of two IP addresses"
        if start.version != end.version or start > end:
            return "is not a range: both ends must be of one IP version, the first not above the last"
        return None
    try:
        if "/" in entry:
            ipaddress.ip_network(entry, strict=False)
        else:
            ipaddress.ip_address(entry)
    except ValueError:
        return ("is neither an IP address, a subnet (CIDR or address/mask), a range 'first-last' nor one of "
                "the keywords " + ", ".join(k for k in FIREWALL_ADDRESS_KEYWORDS if k != "*")
                + " (LocalSubnet, DefaultGateway, ...)")
    return None


def _firewall_errors(values: dict[str, t.Any]) -> list[str]:
    """Profiles and remote addresses of the firewall rule, as win_firewall_rule and Windows accept them."""
    if not values.get("iis_firewall_enabled", True):
        return []
    errors: list[str] = []
    profiles = values.get("iis_firewall_profiles")
    if profiles is not None:
        if not isinstance(profiles, list) or not profiles:
            errors.append("iis_firewall_profiles must be a non-empty list of domain, private, public")
        else:
            for profile in profiles:
                if _lower(profile) not in FIREWALL_PROFILES:
                    hint = (" (list domain, private and public for every profile)" if _lower(profile) in ("any", "all")
                            else "")
                    errors.append(f"iis_firewall_profiles entry '{profile}' is not a firewall profile: use "
                                  f"{', '.join(FIREWALL_PROFILES)}{hint}")
    groups = values.get("iis_firewall_disabled_groups")
    if groups is not None and not isinstance(groups, list):
        errors.append("iis_firewall_disabled_groups must be a list of rule groups as Windows stores them "
                      f"(e.g. '{IIS_FIREWALL_GROUPS[0]}')")
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, str) or not group.startswith("@"):
            known = "; ".join(f"'{g}' for {i}" for g, i in zip(IIS_FIREWALL_GROUPS, IIS_FIREWALL_RULE_IDS,
                                                                     strict=True))
            errors.append(f"iis_firewall_disabled_groups entry '{group}' is a display name: Windows stores a "
                          "predefined rule's group as an indirect string and win_firewall_rule compares it "
                          "exactly, so a display name (in any language) matches no rule; use the indirect "
                          f"string: {known}")
    remote = values.get("iis_firewall_remote_ip")
    if remote is not None:
        text = str(remote).strip()
        entries = [e.strip() for e in text.split(",")]
        if not text or any(not e for e in entries):
            errors.append(f"iis_firewall_remote_ip '{remote}' has an empty entry: use 'any' or a comma-separated "
                          "list of addresses, subnets, ranges or keywords (e.g. LocalSubnet)")
        else:
            for entry in entries:
                why = _remote_address_problem(entry)
                if why:
                    errors.append(f"iis_firewall_remote_ip entry '{entry}' {why}")
    return errors


def sites_root_problem(root: t.Any) -> str | None:
    """Why ``iis_sites_root`` cannot hold the sites' directories, or None."""
    if not isinstance(root, str) or not _DRIVE_PATH.match(root):
        return (f"iis_sites_root '{root}' must be an absolute path with a drive letter, e.g. 'D:\\sites' "
                "(the directory of every site whose entry has no physical_path)")
    return None


def managed_site_names(values: dict[str, t.Any]) -> list[str]:
    """Names of the sites the role keeps present, from its site layers (for the tls role's cross-check)."""
    names = []
    for layer in (values.get(name) for name in SITE_LAYERS):
        for site in layer if isinstance(layer, list) else []:
            if isinstance(site, dict) and isinstance(site.get("name"), str) and site["name"]:
                names.append(site)
    combined: dict[str, dict[str, t.Any]] = {}
    for site in names:
        combined[site["name"].lower()] = site
    default_state = (values.get("iis_site_defaults") or {}).get("state", "started")
    return [site["name"] for site in combined.values() if site.get("state", default_state) != "absent"]


# ---------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------
def iis_feature_plan(features: list[dict[str, t.Any]] | None, wanted: list[str],
                     unwanted: list[str]) -> dict[str, list[str]]:
    """Which of ``wanted`` are not installed and which of ``unwanted`` are.

    ``features`` is ``win_feature_info``'s ``features`` list.  A wanted name
    the host does not know is reported as missing, so that ``win_feature``
    fails with Windows' own message about the invalid name.
    """
    installed = {_lower(f.get("name")): bool(f.get("installed")) for f in features or []}
    return {
        "install": [name for name in wanted if not installed.get(_lower(name), False)],
        "remove": [name for name in unwanted if installed.get(_lower(name), False)],
    }


# ---------------------------------------------------------------------------
# app pools
# ---------------------------------------------------------------------------
def iis_pool_plan(sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``microsoft.iis.web_app_pool`` arguments for every site's pool.

    Returns dicts with ``name``, ``state`` and ``attributes`` (IIS attribute
    paths as ``web_app_pool`` takes them) and ``secret`` (true when the
    attributes carry a password, so the task must run with ``no_log``).
    """
    plans = []
    for site in sites:
        pool = site["app_pool"]
        if site.get("state") == "absent":
            plans.append({"name": pool["name"], "state": "absent", "attributes": {}, "secret": False})
            continue
        identity = str(pool["identity"])
        attributes: dict[str, t.Any] = {
            "managedRuntimeVersion": "",
            "managedPipelineMode": "Integrated",
            "startMode": pool["start_mode"],
            "autoStart": True,
            "processModel.loadUserProfile": bool(pool["load_user_profile"]),
            "processModel.idleTimeout": _timespan_from_minutes(pool["idle_timeout_minutes"]),
            "processModel.idleTimeoutAction": pool["idle_timeout_action"],
            "recycling.periodicRestart.time": _timespan_from_minutes(pool["periodic_restart_minutes"]),
            "recycling.periodicRestart.schedule": [_schedule_entry(s) for s in pool["recycle_schedule"]],
        }
        secret = False
        if identity.lower() in BUILTIN_IDENTITIES:
            attributes["processModel.identityType"] = BUILTIN_IDENTITIES[identity.lower()]
        else:
            attributes["processModel.identityType"] = "SpecificUser"
            attributes["processModel.userName"] = identity
            if identity.endswith("$"):
                attributes["processModel.password"] = ""
            else:
                attributes["processModel.password"] = pool["password"]
                secret = True
        plans.append({"name": pool["name"], "state": "started" if site.get("state") == "started" else "present",
                      "attributes": attributes, "secret": secret})
    return plans


def iis_auth_plan(sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``name`` and ``authentication`` of every site that is not absent.

    The authentication tasks loop over this, never over the normalised sites,
    whose app pool carries a password: a loop item is printed whole at ``-v``
    (style §11b), so the loop data must hold nothing secret.
    """
    return [{"name": site["name"], "authentication": dict(site.get("authentication") or {})}
            for site in sites if site.get("state") != "absent"]


# ---------------------------------------------------------------------------
# sites
# ---------------------------------------------------------------------------
def _binding_key(binding: dict[str, t.Any]) -> str:
    return f"{binding.get('ip') or ''}:{binding.get('port')}:{binding.get('hostname') or ''}".lower()


def iis_site_plan(sites: list[dict[str, t.Any]], info_sites: list[dict[str, t.Any]] | None,
                  default_site_state: str = "absent") -> list[dict[str, t.Any]]:
    """The ``microsoft.iis.website`` calls needed to reach the desired sites.

    ``info_sites`` is ``website_info``'s ``site`` list (all sites).  Every plan
    entry has ``name``, ``exists``, ``needs_dir`` (the physical path must be
    created before the call), ``reasons`` (human-readable) and ``args`` (the
    module arguments).  Sites that already match produce no entry.

    Binding ownership: this role owns a site's ``http`` bindings only (one
    per hostname on ``http_port`` when ``http_redirect`` is true, none
    otherwise) and adds/removes them with ``bindings.add``/``bindings.remove``
    so the ``https`` bindings that the ``tls`` role creates are never touched.
    A site without any binding cannot start, so a new site without HTTP
    bindings is created stopped and started by the ``tls`` role's binding
    call (or by the next run of this role once a binding exists).
    """
    current = {str(s.get("name", "")).lower(): s for s in info_sites or []}
    plans: list[dict[str, t.Any]] = []

    for site in sites:
        name = site["name"]
        cur = current.get(name.lower())
        if site.get("state") == "absent":
            if cur is not None:
                plans.append({"name": name, "exists": True, "needs_dir": False,
                              "reasons": ["remove site"], "args": {"name": name, "state": "absent"}})
            continue

        wanted_http = [
            {"protocol": "http", "ip": site["ip"], "port": site["http_port"], "hostname": hostname}
            for hostname in site["hostnames"]
        ] if site.get("http_redirect") else []
        wanted_keys = {_binding_key(b) for b in wanted_http}

        if cur is None:
            run_state = site["state"] if wanted_http else "stopped"
            args: dict[str, t.Any] = {"name": name, "physical_path": site["physical_path"],
                                      "application_pool": site["app_pool"]["name"],
                                      "preload_enabled": site["preload_enabled"], "state": run_state}
            if wanted_http:
                args["bindings"] = {"add": wanted_http}
            reasons = ["create site"]
            if run_state != site["state"]:
                reasons.append("left stopped until the tls role adds its HTTPS binding")
            plans.append({"name": name, "exists": False, "needs_dir": True, "reasons": reasons, "args": args})
            continue

        cur_bindings = cur.get("bindings") or []
        cur_http = [b for b in cur_bindings if _lower(b.get("protocol")) == "http"]
        cur_http_keys = {_binding_key(b) for b in cur_http}
        to_add = [b for b in wanted_http if _binding_key(b) not in cur_http_keys]
        to_remove = [{"ip": b.get("ip"), "port": b.get("port"), "hostname": b.get("hostname") or ""}
                     for b in cur_http if _binding_key(b) not in wanted_keys]
        other_bindings = [b for b in cur_bindings if _lower(b.get("protocol")) != "http"]
        cur_state = _lower(cur.get("state"))
        has_binding = bool(wanted_http or other_bindings)
        run_state = site["state"] if has_binding or site["state"] == "stopped" else (
            cur_state if cur_state in ("started", "stopped") else "stopped")

        reasons = []
        args = {"name": name, "state": run_state}
        needs_dir = False
        if _path_key(cur.get("physical_path")) != _path_key(site["physical_path"]):
            reasons.append(f"physical path {cur.get('physical_path')} -> {site['physical_path']}")
            args["physical_path"] = site["physical_path"]
            needs_dir = True
        if _lower(cur.get("application_pool")) != site["app_pool"]["name"].lower():
            reasons.append(f"app pool {cur.get('application_pool')} -> {site['app_pool']['name']}")
            args["application_pool"] = site["app_pool"]["name"]
        bindings: dict[str, t.Any] = {}
        if to_add:
            bindings["add"] = to_add
            reasons.append("add http bindings " + ", ".join(_binding_key(b) for b in to_add))
        if to_remove:
            bindings["remove"] = to_remove
            reasons.append("remove http bindings " + ", ".join(_binding_key(b) for b in to_remove))
        if bindings:
            args["bindings"] = bindings
        if cur_state != run_state:
            reasons.append(f"state {cur.get('state')} -> {run_state}")
        if reasons:
            args["preload_enabled"] = site["preload_enabled"]
            plans.append({"name": name, "exists": True, "needs_dir": needs_dir, "reasons": reasons, "args": args})

    default = current.get(DEFAULT_SITE_NAME.lower())
    if default is not None and default_site_state == "absent":
        plans.append({"name": DEFAULT_SITE_NAME, "exists": True, "needs_dir": False,
                      "reasons": ["remove the Default Web Site (iis_default_site_state: absent)"],
                      "args": {"name": DEFAULT_SITE_NAME, "state": "absent"}})
    elif default is not None and default_site_state == "stopped" and _lower(default.get("state")) != "stopped":
        plans.append({"name": DEFAULT_SITE_NAME, "exists": True, "needs_dir": False,
                      "reasons": ["stop the Default Web Site (iis_default_site_state: stopped)"],
                      "args": {"name": DEFAULT_SITE_NAME, "state": "stopped"}})
    return plans


# ---------------------------------------------------------------------------
# applicationHost.config
# ---------------------------------------------------------------------------
def _find(root: ET.Element, path: list[str]) -> ET.Element | None:
    node: ET.Element | None = root
    for part in path:
        if node is None:
            return None
        node = node.find(part)
    return node


def _fragment(path: list[str], attrs: dict[str, str]) -> str:
    """Nested XML for ``path`` whose innermost element carries ``attrs``."""
    inner = ET.Element(path[-1], attrs)
    for name in reversed(path[:-1]):
        outer = ET.Element(name)
        outer.append(inner)
        inner = outer
    return ET.tostring(inner, encoding="unicode", short_empty_elements=True)


def _ensure_attrs(root: ET.Element, path: list[str], attrs: dict[str, str], what: str
                  ) -> list[dict[str, t.Any]]:
    """win_xml calls that make the element at ``path`` carry ``attrs``.

    When the element is missing, one element call adds it (with its missing
    ancestors) under the deepest existing ancestor.  When it exists, one
    attribute call per differing attribute.  Values compare case-insensitively,
    as win_xml itself does (PowerShell ``-ne``).
    """
    node = _find(root, path)
    if node is None:
        depth = len(path) - 1
        while depth > 0 and _find(root, path[:depth]) is None:
            depth -= 1
        parent_xpath = "/configuration" + "".join(f"/{p}" for p in path[:depth])
        return [{"id": f"{what}", "reason": f"add <{path[-1]}> with {what}", "xpath": parent_xpath,
                 "type": "element", "state": "present", "fragment": _fragment(path[depth:], attrs)}]
    xpath = "/configuration/" + "/".join(path)
    calls = []
    for attr, value in attrs.items():
        current = node.get(attr)
        if current is None or current.lower() != value.lower():
            calls.append({"id": f"{what}.{attr}", "reason": f"{what}: {attr} {current!r} -> {value!r}",
                          "xpath": xpath, "type": "attribute", "attribute": attr, "fragment": value,
                          "state": "present"})
    return calls


def _bool(value: t.Any) -> str:
    return "true" if value else "false"


def iis_apphost_plan(content_b64: str | None, settings: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """``win_xml`` calls that bring ``applicationHost.config`` to ``settings``.

    ``content_b64`` is ``slurp``'s ``content``.  ``settings`` keys:
    ``remove_x_powered_by``, ``remove_server_header``,
    ``max_allowed_content_length``, ``max_url``, ``max_query_string``,
    ``hsts_enabled``, ``hsts_max_age``, ``hsts_include_sub_domains``,
    ``hsts_preload``, ``hsts_redirect_http_to_https``.

    Each returned call has ``id``, ``reason`` and the win_xml options
    (``xpath``, ``type``, ``state``, and ``attribute``/``fragment`` where
    needed).  Raises ``IisError`` when the content is not the IIS
    configuration (fails the task rather than guessing).
    """
    try:
        data = base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IisError(f"applicationHost.config content is not valid base64: {exc}") from exc
    try:
        root = ET.fromstring(data.decode("utf-8-sig"))
    except (ET.ParseError, UnicodeDecodeError) as exc:
        raise IisError(f"{APPHOST_PATH} is not well-formed XML: {exc}") from exc
    if root.tag != "configuration":
        raise IisError(f"{APPHOST_PATH} has root <{root.tag}>, expected <configuration>")

    calls: list[dict[str, t.Any]] = []
    if settings.get("remove_x_powered_by"):
        headers = _find(root, ["system.webServer", "httpProtocol", "customHeaders"])
        if headers is not None and any(_lower(add.get("name")) == "x-powered-by" for add in headers.findall("add")):
            calls.append({"id": "customHeaders.X-Powered-By", "reason": "remove the X-Powered-By response header",
                          "xpath": "/configuration/system.webServer/httpProtocol/customHeaders/"
                                   "add[@name='X-Powered-By']",
                          "type": "element", "state": "absent"})
    filtering = ["system.webServer", "security", "requestFiltering"]
    if settings.get("remove_server_header"):
        calls += _ensure_attrs(root, filtering, {"removeServerHeader": "true"}, "requestFiltering")
    calls += _ensure_attrs(root, [*filtering, "requestLimits"], {
        "maxAllowedContentLength": str(settings["max_allowed_content_length"]),
        "maxUrl": str(settings["max_url"]),
        "maxQueryString": str(settings["max_query_string"]),
    }, "requestLimits")
    calls += _ensure_attrs(root, ["system.applicationHost", "sites", "siteDefaults", "hsts"], {
        "enabled": _bool(settings.get("hsts_enabled")),
        "max-age": str(settings["hsts_max_age"]),
        "includeSubDomains": _bool(settings.get("hsts_include_sub_domains")),
        "preload": _bool(settings.get("hsts_preload")),
        "redirectHttpToHttps": _bool(settings.get("hsts_redirect_http_to_https")),
    }, "hsts")
    return calls


# ---------------------------------------------------------------------------
# firewall
# ---------------------------------------------------------------------------
def iis_firewall_ports(sites: list[dict[str, t.Any]], extra_ports: list[int] | None = None) -> str:
    """The inbound TCP ports the sites need, as win_firewall_rule's
    ``localport`` string (sorted, comma-separated; empty when none)."""
    ports: set[int] = set(extra_ports or [])
    for site in sites:
        if site.get("state") == "absent":
            continue
        ports.add(int(site["https_port"]))
        if site.get("http_redirect"):
            ports.add(int(site["http_port"]))
    return ",".join(str(p) for p in sorted(ports))


def iis_firewall_groups_missing(results: list[dict[str, t.Any]] | None) -> list[str]:
    """The groups of a ``win_firewall_rule`` loop (``group: <item>``) that matched no rule.

    ``win_firewall_rule.ps1`` sets ``msg`` to ``Firewall rule(s) changed '..' -
    unchanged '..'`` when the group matched rules, and no ``msg`` at all when it
    matched none (it only creates a rule when ``name`` is given).  Skipped and
    failed items are not reported here.
    """
    missing = []
    for result in results or []:
        if result.get("skipped") or result.get("failed"):
            continue
        if not str(result.get("msg") or "").startswith("Firewall rule(s)"):
            missing.append(str(result.get("item")))
    return missing
