"""Fixtures shared by the Molecule scenarios' testinfra verifiers (pytest
loads this file for every ``molecule/<scenario>/tests/``)."""

from __future__ import annotations

import json
import os
import pathlib
import typing as t

import pytest
from mcms_verify import run, tls_scenario


@pytest.fixture(scope="module")
def old_thumbprint(host: t.Any) -> str:
    """The certificate a renewal scenario's prepare bound before the role ran."""
    record = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"renewal-old-{host.backend.host}.json"
    return json.loads(record.read_text(encoding="utf-8"))["thumbprint"].upper()


@pytest.fixture(scope="module")
def https(host: t.Any) -> list[dict[str, t.Any]]:
    """The https bindings of the tls scenarios' site."""
    site = run(host, "microsoft.iis.website_info", {"name": tls_scenario()["tls_scenario_site"]})["site"][0]
    return [b for b in site["bindings"] if b["protocol"] == "https"]
