"""Test support for the winsim core: the real payloads captured from
ansible-core 2.19 and 2.21 (``fixtures/payloads-<gen>.json.xz``, see
``fixtures/README.md``), and payloads for any module and arguments built
from them the way ansible-core builds them (same bootstrap, same exec
wrapper, same manifest layout; only the module, its source and its
``complex_args`` differ)."""

from __future__ import annotations

import base64
import copy
import functools
import json
import lzma
import typing as t
from pathlib import Path

from winsim.spec import load_module_source

FIXTURES = Path(__file__).parent / "fixtures"
GENERATIONS = ("2.19", "2.21")
SEP = b"\n\0\0\0\0\n"


@functools.cache
def _bundle(generation: str) -> dict[str, t.Any]:
    with lzma.open(FIXTURES / f"payloads-{generation}.json.xz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def captured(generation: str, label: str) -> tuple[str, bytes | None]:
    """``(cmd, in_data)`` of the captured payload labelled ``label``."""
    for item in _bundle(generation)["payloads"]:
        if item["label"] == label:
            data = base64.b64decode(item["in_data"]) if item["in_data"] else None
            return item["cmd"], data
    raise KeyError(f"no captured {generation} payload labelled {label!r}")


def labels(generation: str) -> list[str]:
    return [item["label"] for item in _bundle(generation)["payloads"]]


def module_payload(
    generation: str,
    fqcn: str,
    args: dict[str, t.Any],
    *,
    check_mode: bool = False,
    diff: bool = False,
    become: tuple[str, str] | None = None,
    extra: dict[str, t.Any] | None = None,
) -> tuple[str, bytes]:
    """A payload running ``fqcn`` with ``args``, shaped like the captured
    ``ansible.windows.win_stat`` run of ``generation``."""
    cmd, data = captured(generation, "ansible.windows.win_stat:become" if become else "ansible.windows.win_stat")
    assert data is not None
    boot, manifest_raw = data.split(SEP)
    manifest = json.loads(manifest_raw)
    source, utils = load_module_source(fqcn)
    ns, coll, mod = fqcn.split(".")
    script = f"ansible_collections.{ns}.{coll}.plugins.modules.{mod}.ps1"
    old = next(a for a in manifest["actions"] if a["name"] == "module_wrapper.ps1")["params"]["Script"]
    manifest["scripts"].pop(old)
    manifest["scripts"][script] = {"path": f"/x/{mod}.ps1", "script": base64.b64encode(source.encode()).decode()}
    for name, text in utils.items():
        manifest["scripts"].setdefault(name, {"path": name, "script": base64.b64encode(text.encode()).decode()})
    for action in manifest["actions"]:
        if action["name"] == "module_wrapper.ps1":
            params = action["params"]
            params["Script"] = script
            complex_args = copy.deepcopy(params["Variables"][0]["Value"])
            base = {k: v for k, v in complex_args.items() if k.startswith("_ansible_")}
            base.update({"_ansible_check_mode": check_mode, "_ansible_diff": diff, "_ansible_module_name": fqcn})
            base.update(extra or {})
            params["Variables"][0]["Value"] = {**args, **base}
            params["PowerShellModules"] = [n for n in utils if not n.endswith(".cs")]
            params["CSharpModules"] = [n for n in utils if n.endswith(".cs")]
        if action["name"] == "become_wrapper.ps1" and become:
            action["params"]["BecomeUser"] = become[0]
            action["secure_params"]["BecomePassword"] = become[1]
    return cmd, boot + SEP + json.dumps(manifest).encode()
