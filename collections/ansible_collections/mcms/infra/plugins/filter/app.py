# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the ``app`` role; the logic lives in ``plugin_utils/_app.py``.

* ``app_input_errors``      -- every problem in the role's variables (the preflight's function);
* ``app_artifact``          -- the verified package (path, sha256, manifest of its files);
* ``app_settings_document`` -- the text of ``appsettings.<Environment>.json``;
* ``app_web_config``        -- the text of the release's ``web.config``;
* ``app_sha256``            -- SHA-256 of a text (UTF-8);
* ``app_retention``         -- the releases that may be removed;
* ``app_drift_records``     -- the release's drift records (check mode, the drift check).
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _app


def app_input_errors(config: dict[str, t.Any], template_dir: str | None = None) -> list[str]:
    if not isinstance(config, dict):
        raise AnsibleFilterError("app_input_errors: expects a dict of the role's variables")
    return _app.input_errors(config, template_dir)


def app_artifact(config: dict[str, t.Any]) -> dict[str, t.Any]:
    try:
        return _app.artifact(config)
    except (_app.AppError, OSError) as exc:
        raise AnsibleFilterError(f"app_artifact: {exc}") from exc


def app_settings_document(settings: dict[str, t.Any], secrets: list[dict[str, t.Any]]) -> str:
    try:
        return _app.settings_document(settings, secrets)
    except (KeyError, TypeError, ValueError) as exc:  # never the value: it may be a secret
        raise AnsibleFilterError(f"app_settings_document: invalid settings ({type(exc).__name__})") from None


def app_web_config(dll: str, environment: str, hosting_model: str, stdout_log: str) -> str:
    return _app.web_config(dll, environment, hosting_model, stdout_log)


def app_sha256(text: str) -> str:
    return _app.sha256_text(str(text))


def app_retention(releases: list[str], current: str | None, previous: str | None, keep: int,
                  protected: list[str] | None = None) -> list[str]:
    """Releases that may go; ``protected``: versions never removed (in use, or a blue/green slot's)."""
    return _app.retention(releases or [], current, previous, int(keep), [str(p) for p in protected or [] if p])


def app_drift_records(read: dict[str, t.Any], wanted_files: dict[str, str], site: str, application: str,
                      secret_files: list[str] | None = None, worker_service: str = "") -> list[dict[str, t.Any]]:
    """Drift records of the release from ``mcms.infra.win_app_release``'s read (``plugin_utils/_app.py``)."""
    return _app.drift_records(read or {}, wanted_files or {}, site, application, secret_files or [],
                              worker_service or "")


def app_bluegreen_errors(config: dict[str, t.Any], iis_values: dict[str, t.Any] | None = None) -> list[str]:
    """Blue/green input problems (decision 22), as ``variable: problem → fix`` lines."""
    return [f"{v}: {p} → {f}" for v, p, f in _app.bluegreen_problems(config, iis_values)]


def app_bluegreen_slots(config: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return _app.bluegreen_slots(config)


def app_slot_releases(slots: dict[str, t.Any] | None) -> list[str]:
    return _app.slot_releases(slots)


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"app_input_errors": app_input_errors, "app_artifact": app_artifact,
                "app_settings_document": app_settings_document, "app_web_config": app_web_config,
                "app_sha256": app_sha256, "app_retention": app_retention,
                "app_drift_records": app_drift_records,
                "app_bluegreen_errors": app_bluegreen_errors, "app_bluegreen_slots": app_bluegreen_slots,
                "app_slot_releases": app_slot_releases}
