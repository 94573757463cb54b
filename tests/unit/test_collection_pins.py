"""collections/requirements.yml matches the collections the toolchain carries.

The upstream collections come from the pinned ``ansible`` package; the pins
document that set for a connected machine or an execution environment. These
tests run on both toolchains (.venv and .venv-oldest), so they also prove that
ansible-core 2.19 sees the very same collection versions as 2.21.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
PINS = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text(encoding="utf-8"))["collections"]
FQCN = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")
# Namespaces of modules/plugins the project addresses by FQCN.
UPSTREAM_NAMESPACES = {"ansible", "community", "microsoft", "lowlydba"}
NOT_COLLECTIONS = {("ansible", "builtin"), ("ansible", "legacy")}


def _installed_version(name: str) -> str | None:
    spec = importlib.util.find_spec(f"ansible_collections.{name}")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        manifest = pathlib.Path(location) / "MANIFEST.json"
        if manifest.is_file():
            return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]
    return None


def _used_collections() -> set[str]:
    used: set[str] = set()
    for top in ("roles", "playbooks", "molecule", "site.yml"):
        root = REPO / top
        files = [root] if root.is_file() else sorted(root.rglob("*.yml")) if root.is_dir() else []
        for path in files:
            for ns, coll in FQCN.findall(path.read_text(encoding="utf-8")):
                if ns in UPSTREAM_NAMESPACES and (ns, coll) not in NOT_COLLECTIONS:
                    used.add(f"{ns}.{coll}")
    return used


def test_pins_are_exact_and_unique() -> None:
    names = [pin["name"] for pin in PINS]
    assert len(names) == len(set(names)), "a collection is pinned twice"
    loose = [pin["name"] for pin in PINS if not re.fullmatch(r"\d+\.\d+\.\d+", str(pin.get("version", "")))]
    assert not loose, f"pins must be exact versions: {loose}"


@pytest.mark.parametrize("pin", PINS, ids=[pin["name"] for pin in PINS])
def test_installed_collection_matches_pin(pin: dict[str, str]) -> None:
    installed = _installed_version(pin["name"])
    assert installed == pin["version"], (
        f"{pin['name']}: collections/requirements.yml pins {pin['version']}, the toolchain carries {installed}"
    )


@pytest.mark.parametrize("collection", sorted(_used_collections()))
def test_every_used_collection_is_pinned(collection: str) -> None:
    assert collection in {pin["name"] for pin in PINS}, f"{collection} is used but not pinned"
