"""Controller-side logic of the ``app`` role, shared by its filters, the logbook action and the preflight.

* Packages: the sample packages are built deterministically from ``apps/<name>/<version>/``
  (:func:`build_package`); a package is ``<artifact source>/mcms-<version>.zip``, verified by
  SHA-256 on the controller (:func:`artifact`) before anything on a host changes. The source is a
  controller directory or an internal https URL: a URL is downloaded on the controller (certificate
  validated against ``app_artifact_ca_path``), verified, and cached by checksum (:func:`fetch_package`).
* :func:`problems`: the role's one validation function (preflight and ``validate.yml``).
* :func:`settings_document`, :func:`web_config`: the files the role renders into a release.
* :func:`retention`: which releases may go (never the current, the previous or a kept one).
* Logbook: :func:`logbook_record`, :func:`logbook_append` (JSON lines, pruned by age);
  :func:`notify` POSTs the same record to ``app_notify_url`` (a failure is returned, never raised).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import ssl
import typing as t
import urllib.error
import urllib.request
import zipfile
from xml.sax.saxutils import quoteattr

__all__ = ["AppError", "artifact", "build_package", "fetch_package", "logbook_append", "logbook_record", "notify",
           "package_manifest", "problems", "retention", "settings_document", "version_key", "web_config"]

PACKAGE_PREFIX = "mcms-"
CHECKSUMS_FILE = "SHA256SUMS"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
VERSION_RE = re.compile(r"^[0-9]+(?:\.[0-9]+){1,3}(?:-[0-9A-Za-z.-]+)?$")
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
SECRET_KEY_RE = re.compile(r"password|passwd|secret|connectionstring|apikey|api_key|token|pwd", re.IGNORECASE)
ASPNET_ENVIRONMENTS = ("Development", "Staging", "Production")
STRICT_ENVIRONMENTS = ("stage", "prod")
MASK = "********"
DEFAULT_CACHE_DIR = "~/.cache/mcms/artifacts"
DEFAULT_DOWNLOAD_TIMEOUT = 60


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
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source):
        return _remote_artifact_problems(config, version, source)
    path = os.path.join(source, package_name(version))
    if not os.path.isfile(path):
        available = sorted(n[len(PACKAGE_PREFIX):-4] for n in os.listdir(source)
                           if n.startswith(PACKAGE_PREFIX) and n.endswith(".zip")) if os.path.isdir(source) else []
        found.append(("app_version", f"version {version} is not in the artifact source ({path} does not exist; "
                      f"available: {', '.join(available) or 'none'})",
                      "publish the package there or choose an available version"))
        return found, info
    expected, problem = _expected_checksum(config, version, lambda: read_checksums(source),
                                           os.path.join(source, CHECKSUMS_FILE))
    if problem:
        found.append(problem)
        return found, info
    actual = sha256_file(path)
    if actual != expected:
        found.append(("app_artifact_checksums", f"checksum mismatch for {path}: expected {expected}, "
                      f"the file has {actual}", "republish the package or correct the pinned checksum; "
                      "nothing was deployed"))
        return found, info
    info = {"path": os.path.abspath(path), "name": package_name(version), "sha256": actual, "version": version}
    return found, info


def _expected_checksum(config: t.Mapping[str, t.Any], version: str, listed: t.Callable[[], dict[str, str]],
                       listed_where: str) -> tuple[str, tuple[str, str, str] | None]:
    """The SHA-256 the package must have: pinned, or (where allowed) from ``SHA256SUMS`` beside it."""
    pinned = (config.get("app_artifact_checksums") or {}).get(version)
    environment = str(config.get("mcms_environment") or "")
    if pinned is None and (config.get("app_require_pinned_checksum") or environment in STRICT_ENVIRONMENTS):
        return "", ("app_artifact_checksums", f"has no SHA-256 for version {version} (required in "
                    f"{environment or 'this environment'})",
                    f"pin it: app_artifact_checksums: {{'{version}': '<sha256 of {package_name(version)}>'}}")
    expected = pinned if pinned is not None else listed().get(package_name(version))
    if expected is None:
        return "", ("app_artifact_checksums", f"no SHA-256 for version {version}: not pinned and not in "
                    f"{listed_where}", "pin it in app_artifact_checksums")
    if not isinstance(expected, str) or not SHA256_RE.match(expected):
        return "", ("app_artifact_checksums", f"the checksum of {version} is not a SHA-256 (64 hex digits)",
                    "give the package's SHA-256")
    return expected.lower(), None


# -- packages from an internal https URL -------------------------------------------------------

class FetchError(AppError):
    """A download that failed: ``kind`` is ``not_found``, ``tls``, ``http`` or ``network``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _ssl_context(ca_path: str | None) -> ssl.SSLContext:
    """Certificate and host name validation always on; the internal CA bundle when given."""
    if ca_path:
        ca_path = os.path.expanduser(ca_path)
        if not os.path.isfile(ca_path):
            raise FetchError("tls", f"the CA bundle {ca_path} does not exist on the controller")
    context = ssl.create_default_context(cafile=ca_path or None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def fetch(url: str, ca_path: str | None, timeout: float) -> bytes:
    """GET ``url`` (https only, validated) and return the body; :class:`FetchError` says why not."""
    if not url.lower().startswith("https://"):
        raise FetchError("network", f"{url} is not an https URL")
    try:
        context = _ssl_context(ca_path)
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout,
                                    context=context) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError("not_found" if exc.code == 404 else "http", f"{url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (ssl.SSLError, ssl.CertificateError)):
            raise FetchError("tls", f"TLS verification of {url} failed ({reason})") from None
        raise FetchError("network", f"cannot reach {url} ({reason})") from None
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise FetchError("tls", f"TLS verification of {url} failed ({exc})") from None
    except (TimeoutError, OSError) as exc:
        raise FetchError("network", f"cannot reach {url} ({exc})") from None


def _parse_checksums(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and SHA256_RE.match(parts[0]):
            found[parts[1].lstrip("*")] = parts[0].lower()
    return found


def fetch_package(url: str, expected: str, cache_dir: str, ca_path: str | None, timeout: float) -> str:
    """The path of the package at ``url`` in the controller cache (``<cache>/<sha256>/<name>``).

    A cached copy is used only when its SHA-256 is ``expected``; otherwise the package is downloaded into
    a temporary file, verified, and only then moved into the cache. A mismatch raises
    :class:`FetchError` (kind ``checksum``) and leaves nothing in the cache."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    folder = os.path.join(os.path.expanduser(cache_dir), expected)
    path = os.path.join(folder, name)
    if os.path.isfile(path) and sha256_file(path) == expected:
        return os.path.abspath(path)
    data = fetch(url, ca_path, timeout)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise FetchError("checksum", f"checksum mismatch for {url}: expected {expected}, the download has {actual}")
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return os.path.abspath(path)


_FETCH_FIX = {
    "not_found": ("app_version", "publish the package there or choose a published version"),
    "tls": ("app_artifact_ca_path", "set app_artifact_ca_path to the internal CA bundle that issued the "
            "repository's certificate (validation stays on)"),
    "http": ("app_artifact_source", "check the internal repository (it answered with an error)"),
    "network": ("app_artifact_source", "check the URL and that the internal repository answers from the controller"),
    "checksum": ("app_artifact_checksums", "republish the package or correct the pinned checksum; nothing was "
                 "deployed"),
}


def _remote_artifact_problems(config: t.Mapping[str, t.Any], version: str,
                              source: str) -> tuple[list[tuple[str, str, str]], dict[str, t.Any]]:
    if not source.lower().startswith("https://"):
        return [("app_artifact_source", f"is {source}: only a controller directory or an internal https URL "
                 "is supported", "use https:// (certificate validated) or mirror the packages to a controller "
                 "directory")], {}
    base = source.rstrip("/")
    url = f"{base}/{package_name(version)}"
    ca_path = config.get("app_artifact_ca_path") or None
    cache_dir = str(config.get("app_artifact_cache_dir") or DEFAULT_CACHE_DIR)
    timeout = float(config.get("app_artifact_download_timeout") or DEFAULT_DOWNLOAD_TIMEOUT)
    listed_error: list[FetchError] = []

    def listed() -> dict[str, str]:
        try:
            return _parse_checksums(fetch(f"{base}/{CHECKSUMS_FILE}", ca_path, timeout).decode("utf-8"))
        except FetchError as exc:
            if exc.kind != "not_found":
                listed_error.append(exc)
            return {}
        except UnicodeDecodeError:
            return {}

    expected, problem = _expected_checksum(config, version, listed, f"{base}/{CHECKSUMS_FILE}")
    if listed_error:
        exc = listed_error[0]
        variable, fix = _FETCH_FIX[exc.kind]
        return [(variable, str(exc), fix)], {}
    if problem:
        return [problem], {}
    try:
        path = fetch_package(url, expected, cache_dir, ca_path, timeout)
    except FetchError as exc:
        variable, fix = _FETCH_FIX[exc.kind]
        message = f"version {version} is not in the artifact source ({exc})" if exc.kind == "not_found" else str(exc)
        return [(variable, message, fix)], {}
    except OSError as exc:
        return [("app_artifact_cache_dir", f"cannot write the download cache {cache_dir} ({exc.strerror})",
                 "give a writable controller directory")], {}
    return [], {"path": path, "name": package_name(version), "sha256": expected, "version": version, "url": url}


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
    if isinstance(keep, str) and re.fullmatch(r"-?[0-9]+", keep.strip()):
        keep = int(keep)  # -e app_keep_releases=2 arrives as text; the argument spec converts it too
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


# -- drift ----------------------------------------------------------------------------------

def drift_records(read: t.Mapping[str, t.Any], wanted_files: t.Mapping[str, str], site: str, application: str,
                  secret_files: t.Iterable[str] = (), worker_service: str = "") -> list[dict[str, t.Any]]:
    """The drift records of the release, from ``mcms.infra.win_app_release``'s read: the application's
    physical path, the release folder (absent) or each of its files (SHA-256 wanted beside found; masked
    for ``secret_files``, the rendered settings), and the Worker's state and path."""
    records: list[dict[str, t.Any]] = []
    if not read or read.get("iis_installed") is False:
        return records
    release = read.get("release") or {}
    release_dir = str(release.get("path") or "")
    current = read.get("current_path")
    if (current or "").lower() != release_dir.lower():
        records.append({"resource_type": "iis_application", "resource": f"{site}/{application}",
                        "attribute": "physical_path", "wanted": release_dir, "found": current})
    if not release.get("exists"):
        records.append({"resource_type": "app_release", "resource": release_dir, "attribute": "present",
                        "wanted": True, "found": False})
    else:
        secret = {f.lower() for f in secret_files}
        found = release.get("found") or {}
        for name in list(release.get("missing") or []) + list(release.get("mismatched") or []):
            records.append({"resource_type": "app_release_file", "resource": f"{release_dir}\\{name}",
                            "attribute": "sha256", "wanted": wanted_files.get(name), "found": found.get(name),
                            "secret": name.lower() in secret})
    worker = read.get("worker") or {}
    if worker_service:
        want_path = f"{release_dir}\\"
        state = worker.get("state") if worker.get("exists") else "absent"
        if state != "running":
            records.append({"resource_type": "windows_service", "resource": worker_service, "attribute": "state",
                            "wanted": "running", "found": state})
        path = str(worker.get("path") or "").replace('"', "")
        if worker.get("exists") and not path.lower().startswith(want_path.lower()):
            records.append({"resource_type": "windows_service", "resource": worker_service, "attribute": "path",
                            "wanted": release_dir, "found": path})
    return records


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


# -- notification -------------------------------------------------------------------------

def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment (webhook URLs often carry a token there)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unparseable URL)"


def notify(url: str, record: t.Mapping[str, t.Any], timeout: float, ca_path: str | None = None) -> str | None:
    """POST ``record`` (the logbook line, nothing else) as JSON to the internal webhook ``url``.

    Returns None on a 2xx answer, else a warning saying why (timeout, refused, non-2xx, TLS): a
    notification never fails a deploy. https is validated (``ca_path``: the internal CA bundle)."""
    where = redact_url(url)
    if not re.match(r"^https?://", str(url), re.IGNORECASE):
        return f"app_notify_url {where} is not an http(s) URL: notification not sent"
    body = json.dumps(dict(record), sort_keys=True).encode("utf-8")
    request = urllib.request.Request(str(url), data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "mcms-infra"})
    try:
        context = _ssl_context(ca_path) if str(url).lower().startswith("https://") else None
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except urllib.error.URLError as exc:
        return f"app_notify_url: notification to {where} failed ({exc.reason}); the deploy is not affected"
    except FetchError as exc:
        return f"app_notify_url: notification to {where} failed ({exc}); the deploy is not affected"
    except (TimeoutError, OSError, ValueError) as exc:
        return f"app_notify_url: notification to {where} failed ({exc or type(exc).__name__}); " \
               "the deploy is not affected"
    if not 200 <= status < 300:
        return f"app_notify_url: {where} answered HTTP {status}; the deploy is not affected"
    return None
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
