"""Helpers of the Molecule scenarios' testinfra verifiers (importable as
``mcms_verify``: ``pyproject.toml`` puts ``molecule/_shared`` on pytest's
``pythonpath``). The fixtures the tls scenarios share are in
``molecule/conftest.py``."""

from __future__ import annotations

import json
import pathlib
import typing as t

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(host: t.Any, module: str, args: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """A read-only module result (check mode); fails the test on a module failure."""
    result = host.ansible(module, json.dumps(args) if args else None, check=True)
    assert not result.get("failed"), result
    return result


def role_defaults(role: str) -> dict[str, t.Any]:
    """``roles/<role>/defaults/main.yml``."""
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


def tls_scenario() -> dict[str, t.Any]:
    """The input every tls scenario shares (``molecule/tls/vars.yml``)."""
    return yaml.safe_load((ROOT / "molecule" / "tls" / "vars.yml").read_text(encoding="utf-8"))


def https_status(host: t.Any, hostname: str, accepted: list[int]) -> int:
    """The status of ``https://<hostname>/`` requested from the host itself
    with certificate validation on (the tls role's own check); the module
    fails, and with it the test, on an untrusted certificate or a status
    outside ``accepted``."""
    result = run(host, "ansible.windows.win_uri", {
        "url": f"https://{hostname}/", "validate_certs": True, "follow_redirects": "none", "status_code": accepted})
    return int(result["status_code"])
