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


def https_presented(host: t.Any, hostname: str, port: int = 443) -> dict[str, t.Any]:
    """What the host's own listener presents for ``hostname`` (the tls role's
    proof, ``mcms.infra.win_tls_probe``: a TLS handshake with 127.0.0.1
    sending the name as SNI, no DNS): thumbprint, chain_valid, name_matches."""
    return run(host, "mcms.infra.win_tls_probe", {"server_name": hostname, "port": port})
