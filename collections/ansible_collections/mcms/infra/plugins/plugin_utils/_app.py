"""Controller-side logic of the ``app`` role, shared by its filters, the logbook action and the preflight.

* Packages: the sample packages are built deterministically from ``apps/<name>/<version>/``
  (:func:`build_package`); a package is ``<artifact source>/mcms-<version>.zip``, verified by
  SHA-256 on the controller (:func:`artifact`) before anything on a host changes.
* :func:`problems`: the role's one validation function (preflight and ``validate.yml``).
* :func:`settings_document`, :func:`web_config`: the files the role renders into a release.
* :func:`retention`: which releases may go (never the current, the previous or a kept one).
* Logbook: :func:`logbook_record`, :func:`logbook_append` (JSON lines, pruned by age).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import typing as t
import zipfile
from xml.sax.saxutils import quoteattr

__all__ = ["AppError", "artifact", "build_package", "logbook_append", "logbook_record", "package_manifest",
           "problems", "retention", "settings_document", "version_key", "web_config"]

PACKAGE_PREFIX = "mcms-"
CHECKSUMS_FILE = "SHA256SUMS"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
VERSION_RE = re.compile(r"^[0-9]+(?:\.[0-9]+){1,3}(?:-[0-9A-Za-z.-]+)?$")
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
SECRET_KEY_RE = re.compile(r"password|passwd|secret|connectionstring|apikey|api_key|token|pwd", re.IGNORECASE)
ASPNET_ENVIRONMENTS = ("Development", "Staging", "Production")
STRICT_ENVIRONMENTS = ("stage", "prod")
MASK = "********"


class AppError(Exception):
    """Input the role cannot work with (raised by filters and the action, never by :func:`problems`)."""


# -- packages -------------------------------------------------------------------------

def package_name(version: str) -> str:
    return f"{PACKAGE_PREFIX}{version}.zip"


def build_package(source_dir: str) -> bytes:
    """The zip of ``source_dir``: sorted entries, fixed time stamps, stored (byte-identical on every build)."""
    buf = io.BytesIO()
    files = []
    for base, dirs, names in os.walk(source_dir):
        dirs.sort()
        for name in names:
            full = os.path.join(base, name)
            files.append((os.path.relpath(full, source_dir).replace(os.sep, "/"), full))
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for arcname, full in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 0
            with open(full, "rb") as handle:
                archive.writestr(info, handle.read())
    return buf.getvalue()


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(source: str) -> dict[str, str]:
    """``SHA256SUMS`` beside the packages (``<sha256>  <file name>`` lines), if any."""
    path = os.path.join(source, CHECKSUMS_FILE)
    found: dict[str, str] = {}
    if not os.path.isfile(path):
        return found
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and SHA256_RE.match(parts[0]):
                found[parts[1].lstrip("*")] = parts[0].lower()
    return found


def package_manifest(path: str) -> dict[str, str]:
    """``{relative Windows path: sha256}`` of every file in the package."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                out[info.filename.replace("/", "\\")] = hashlib.sha256(archive.read(info)).hexdigest()
    return out


def _artifact_problems(config: t.Mapping[str, t.Any]) -> tuple[list[tuple[str, str, str]], dict[str, t.Any]]:
    found: list[tuple[str, str, str]] = []
    version = config.get("app_version")
    source = config.get("app_artifact_source")
    info: dict[str, t.Any] = {}
    if not isinstance(version, str) or not VERSION_RE.match(version):
        found.append(("app_version", f"is {version!r}, not a release version such as '1.5.0'",
                      "set app_version in the inventory (site.yml) or with -e app_version=X (deploy.yml)"))
        return found, info
    if not isinstance(source, str) or not source:
        found.append(("app_artifact_source", "is empty", "give the controller directory holding mcms-<version>.zip"))
        return found, info
    if re.match(r"^[a-z]+://", source):
        found.append(("app_artifact_source", f"is the URL {source}: only a directory on the controller is "
                      "supported", "mirror the packages to a controller directory and point app_artifact_source "
                      "at it"))
        return found, info
    path = os.path.join(source, package_name(version))
    if not os.path.isfile(path):
        available = sorted(n[len(PACKAGE_PREFIX):-4] for n in os.listdir(source)
                           if n.startswith(PACKAGE_PREFIX) and n.endswith(".zip")) if os.path.isdir(source) else []
        found.append(("app_version", f"version {version} is not in the artifact source ({path} does not exist; "
                      f"available: {', '.join(available) or 'none'})",
                      "publish the package there or choose an available version"))
        return found, info
    pinned = (config.get("app_artifact_checksums") or {}).get(version)
    listed = read_checksums(source).get(package_name(version))
    environment = str(config.get("mcms_environment") or "")
    if pinned is None and (config.get("app_require_pinned_checksum") or environment in STRICT_ENVIRONMENTS):
        found.append(("app_artifact_checksums", f"has no SHA-256 for version {version} (required in "
                      f"{environment or 'this environment'})",
                      f"pin it: app_artifact_checksums: {{'{version}': '<sha256 of {package_name(version)}>'}}"))
        return found, info
    expected = pinned or listed
    if expected is None:
        found.append(("app_artifact_checksums", f"no SHA-256 for version {version}: not pinned and not in "
                      f"{os.path.join(source, CHECKSUMS_FILE)}", "pin it in app_artifact_checksums"))
        return found, info
    if not isinstance(expected, str) or not SHA256_RE.match(expected):
        found.append(("app_artifact_checksums", f"the checksum of {version} is not a SHA-256 (64 hex digits)",
                      "give the package's SHA-256"))
        return found, info
    actual = sha256_file(path)
    if actual != expected.lower():
        found.append(("app_artifact_checksums", f"checksum mismatch for {path}: expected {expected.lower()}, "
                      f"the file has {actual}", "republish the package or correct the pinned checksum; "
                      "nothing was deployed"))
        return found, info
    info = {"path": os.path.abspath(path), "name": package_name(version), "sha256": actual, "version": version}
    return found, info


def artifact(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The verified package of ``app_version``: path, name, sha256 and the manifest of its files."""
    found, info = _artifact_problems(config)
    if found:
        raise AppError("; ".join(f"{v}: {p}" for v, p, _ in found))
    info["manifest"] = package_manifest(info["path"])
    return info


# -- validation -----------------------------------------------------------------------

def _secret_keys(settings: t.Any, path: str = "") -> list[str]:
    hits: list[str] = []
    if isinstance(settings, t.Mapping):
        for key, value in settings.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(value, t.Mapping):
                hits.extend(_secret_keys(value, here))
            elif SECRET_KEY_RE.search(str(key)) and value not in (None, ""):
                hits.append(here)
    return hits


def problems(config: t.Mapping[str, t.Any], template_dir: str | None = None) -> list[tuple[str, str, str]]:
    """Every problem in the role's input as ``(variable, problem, fix)`` (role defaults filled in)."""
    found: list[tuple[str, str, str]] = []
    add = found.append
    keep = config.get("app_keep_releases")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        add(("app_keep_releases", f"is {keep!r}: the previous release must stay for a rollback",
             "keep at least 1 release before the current one (default 3)"))
    root = config.get("app_root")
    if not isinstance(root, str) or not re.match(r"^[A-Za-z]:\\", root) or "/" in root:
        add(("app_root", f"is {root!r}, not an absolute Windows path", "give a path such as 'C:\\MCMS'"))
    env = config.get("app_aspnet_environment")
    if env not in ASPNET_ENVIRONMENTS:
        add(("app_aspnet_environment", f"is {env!r}: there is no appsettings template for it",
             f"use one of {', '.join(ASPNET_ENVIRONMENTS)} (templates: roles/app/templates/appsettings.<env>.json.j2)"))
    elif template_dir is not None and not os.path.isfile(os.path.join(template_dir, f"appsettings.{env}.json.j2")):
        add(("app_aspnet_environment", f"is {env}, which has no template appsettings.{env}.json.j2",
             "add the template to roles/app/templates or choose another environment"))
    for key in _secret_keys(config.get("app_settings") or {}):
        add(("app_settings", f"{key} looks like a secret and is given in app_settings (plain inventory data)",
             "move it to app_secrets: [{path: '" + key.replace(".", ":") + "', value: '{{ vault_... }}'}]"))
    for index, entry in enumerate(config.get("app_secrets") or []):
        if not isinstance(entry, t.Mapping) or not entry.get("path"):
            add((f"app_secrets[{index}]", "has no path", "give path (e.g. 'ConnectionStrings:Mcms') and value"))
    if not config.get("app_smoke_host"):
        add(("app_smoke_host", "is empty: the smoke checks need the site's host name",
             "set it to a host name bound on the site, e.g. mcms.<domain>"))
    artifact_found, _ = _artifact_problems(config)
    found.extend(artifact_found)
    return found


def input_errors(config: t.Mapping[str, t.Any], template_dir: str | None = None) -> list[str]:
    return [f"{v}: {p} → {f}" for v, p, f in problems(config, template_dir)]


# -- rendered files ---------------------------------------------------------------------

def _set_path(doc: dict[str, t.Any], path: str, value: t.Any) -> None:
    parts = [p for p in re.split(r"[:.]", path) if p]
    here = doc
    for part in parts[:-1]:
        nxt = here.get(part)
        if not isinstance(nxt, dict):
            nxt = here[part] = {}
        here = nxt
    here[parts[-1]] = value


def settings_document(settings: t.Mapping[str, t.Any], secrets: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    """``appsettings.<Environment>.json``: the settings with each secret set at its ``path``."""
    doc = json.loads(json.dumps(dict(settings or {})))
    for entry in secrets or []:
        _set_path(doc, str(entry["path"]), entry.get("value"))
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def web_config(dll: str, environment: str, hosting_model: str, stdout_log: str) -> str:
    """The ``web.config`` of a release for the ASP.NET Core Module V2."""
    arguments = quoteattr(".\\" + dll)  # no backslash inside an f-string (Python 3.11)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n<configuration>\r\n'
        '  <location path="." inheritInChildApplications="false">\r\n    <system.webServer>\r\n'
        '      <handlers>\r\n        <add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" '
        'resourceType="Unspecified" />\r\n      </handlers>\r\n'
        f'      <aspNetCore processPath="dotnet" arguments={arguments} stdoutLogEnabled="true" '
        f'stdoutLogFile={quoteattr(stdout_log)} hostingModel={quoteattr(hosting_model)}>\r\n'
        '        <environmentVariables>\r\n'
        f'          <environmentVariable name="ASPNETCORE_ENVIRONMENT" value={quoteattr(environment)} />\r\n'
        '        </environmentVariables>\r\n      </aspNetCore>\r\n'
        '    </system.webServer>\r\n  </location>\r\n</configuration>\r\n')


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- releases -----------------------------------------------------------------------------

def version_key(version: str) -> tuple[t.Any, ...]:
    main, _, pre = str(version).partition("-")
    nums = tuple(int(p) if p.isdigit() else 0 for p in main.split("."))
    return (nums, 0 if pre else 1, pre)


def retention(releases: t.Iterable[str], current: str | None, previous: str | None, keep: int,
              protected: t.Iterable[str] = ()) -> list[str]:
    """Releases to remove: all but the current, the ``keep`` releases before it (by version), the
    previous one and the ``protected`` ones (a slot points to them). Never the current release."""
    ordered = sorted(set(releases), key=version_key)
    spare = {current, previous, *protected} - {None}
    if current in ordered:
        older = ordered[:ordered.index(current)]
        spare.update(older[-keep:] if keep > 0 else [])
    else:
        return []  # unknown current release: remove nothing
    return [r for r in ordered if r not in spare and version_key(r) < version_key(current)]


# -- logbook ------------------------------------------------------------------------------

LOGBOOK_FIELDS = ("time", "environment", "host", "action", "from_version", "to_version", "strategy", "result",
                  "duration_s", "user", "message")


def logbook_record(**fields: t.Any) -> dict[str, t.Any]:
    """One logbook line: only the known fields (nothing else can leak in), values as plain strings/numbers."""
    unknown = set(fields) - set(LOGBOOK_FIELDS)
    if unknown:
        raise AppError(f"logbook: unknown field(s) {', '.join(sorted(unknown))}")
    record: dict[str, t.Any] = {}
    for name in LOGBOOK_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, (int, float)):
            value = str(value)
        record[name] = value
    return record


def logbook_append(directory: str, environment: str, record: t.Mapping[str, t.Any], retention_days: int,
                   now: _dt.datetime) -> str:
    """Append ``record`` to ``<directory>/<environment>.jsonl`` and drop lines older than ``retention_days``."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{environment}.jsonl")
    kept: list[str] = []
    cutoff = now - _dt.timedelta(days=retention_days)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    when = _dt.datetime.fromisoformat(str(json.loads(line).get("time")).replace("Z", "+00:00"))
                except (ValueError, TypeError, AttributeError):
                    kept.append(line.rstrip("\n"))  # never drop what cannot be read
                    continue
                if when >= cutoff:
                    kept.append(line.rstrip("\n"))
    kept.append(json.dumps(dict(record), sort_keys=True))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("\n".join(kept) + "\n")
    os.replace(tmp, path)
    return path


# -- blue/green (decision 22) -----------------------------------------------------------------

STRATEGIES = ("inplace", "bluegreen")
SLOT_PORTS = (("blue", "app_bluegreen_blue_port"), ("green", "app_bluegreen_green_port"))
IIS_SITE_LAYERS = ("iis_sites", "iis_group_sites", "iis_host_sites")


def _port(value: t.Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def iis_binding_ports(iis_values: t.Mapping[str, t.Any] | None) -> dict[int, str]:
    """``{port: "<layer>[i] (<site>)"}`` of every binding the iis role's site layers declare
    (``http_port``/``https_port``, from ``iis_site_defaults`` else 80/443; a later layer replaces a site)."""
    values = iis_values or {}
    defaults = values.get("iis_site_defaults") or {}
    sites: dict[str, tuple[str, t.Mapping[str, t.Any]]] = {}
    for layer in IIS_SITE_LAYERS:
        for index, site in enumerate(values.get(layer) or []):
            if isinstance(site, t.Mapping) and site.get("name"):
                sites[str(site["name"]).lower()] = (f"{layer}[{index}] ({site['name']})", site)
    ports: dict[int, str] = {}
    for label, site in sites.values():
        if site.get("state", defaults.get("state")) == "absent":
            continue
        for option, fallback in (("http_port", 80), ("https_port", 443)):
            port = _port(site.get(option, defaults.get(option, fallback)))
            if port is not None:
                ports.setdefault(port, label)
    return ports


def bluegreen_problems(config: t.Mapping[str, t.Any], iis_values: t.Mapping[str, t.Any] | None = None
                       ) -> list[tuple[str, str, str]]:
    """The blue/green part of the role's input (preflight and ``bluegreen.yml``): the strategy, and slot
    ports that are valid, distinct and clash with no binding of the iis role's sites."""
    found: list[tuple[str, str, str]] = []
    strategy = config.get("app_deploy_strategy", "inplace")
    if strategy not in STRATEGIES:
        found.append(("app_deploy_strategy", f"is {strategy!r}", f"use one of {', '.join(STRATEGIES)}"))
        return found
    if strategy != "bluegreen":
        return found
    taken = iis_binding_ports(iis_values)
    seen: dict[int, str] = {}
    for slot, variable in SLOT_PORTS:
        raw = config.get(variable)
        port = _port(raw)
        if port is None:
            found.append((variable, f"is {raw!r}, not a TCP port (1-65535)", f"give the {slot} slot's internal port"))
            continue
        if port in taken:
            found.append((variable, f"port {port} clashes with a binding of {taken[port]}",
                          f"give the {slot} slot a port no site binds (e.g. 8081/8082)"))
        if port in seen:
            found.append((variable, f"port {port} is also {seen[port]} (the other slot)",
                          "give the two slots different ports"))
        seen[port] = variable
    for msi, product in (("app_bluegreen_rewrite_msi", "app_bluegreen_rewrite_product_id"),
                         ("app_bluegreen_arr_msi", "app_bluegreen_arr_product_id")):
        path = str(config.get(msi) or "")
        if not path:
            found.append((msi, "is empty: blue/green needs the package installed offline",
                          "give the path of the MSI on the controller (it is copied to the host)"))
        elif path.startswith("\\\\") or re.match(r"^[a-z]+://", path):
            found.append((msi, f"is {path}: only a path on the controller is supported (PSRP with Kerberos and "
                          "no delegation cannot read a share; decision 15)",
                          "mirror the MSI from the internal share to the controller and give that path"))
        elif not os.path.isfile(path):
            found.append((msi, f"{path} does not exist on the controller", "copy the MSI there or correct the path"))
        if not re.match(r"^\{[0-9A-Fa-f-]{36}\}$", str(config.get(product) or "")):
            found.append((product, f"is {config.get(product)!r}, not a product code such as "
                          "'{9BCA2118-F753-4A1E-BCF3-5A820729965C}'",
                          "give the product code the MSI installs (win_package checks it)"))
    return found


def bluegreen_slots(config: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """The two slots: ``name``, ``site``/``pool`` (``<app_iis_site>-<name>``), ``port``."""
    site = str(config.get("app_iis_site") or "MCMS")
    return [{"name": slot, "site": f"{site}-{slot}", "pool": f"{site}-{slot}", "port": _port(config.get(variable))}
            for slot, variable in SLOT_PORTS]


def slot_releases(slots: t.Mapping[str, t.Any] | None) -> list[str]:
    """Versions the slots' applications point at (never removed by retention)."""
    return sorted({str(s.get("version")) for s in (slots or {}).values()
                   if isinstance(s, t.Mapping) and s.get("version")})
