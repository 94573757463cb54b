#!/usr/bin/env python3
"""Build the sample MCMS packages of the simulated lab, deterministically.

    python apps/build.py          # writes apps/dist/mcms-<version>.zip and apps/dist/SHA256SUMS

Each ``apps/mcms-sample/<version>/`` becomes ``apps/dist/mcms-<version>.zip`` (sorted entries,
fixed time stamps, stored): the same sources give the same bytes, so the committed SHA256SUMS
stays true (tests/unit/plugins/test_app.py rebuilds and compares).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "collections"))

from ansible_collections.mcms.infra.plugins.plugin_utils import _app


def build(dest: str = os.path.join(HERE, "dist")) -> dict[str, str]:
    source = os.path.join(HERE, "mcms-sample")
    os.makedirs(dest, exist_ok=True)
    sums: dict[str, str] = {}
    for version in sorted(os.listdir(source), key=_app.version_key):
        data = _app.build_package(os.path.join(source, version))
        name = _app.package_name(version)
        with open(os.path.join(dest, name), "wb") as handle:
            handle.write(data)
        sums[name] = _app.hashlib.sha256(data).hexdigest()
    with open(os.path.join(dest, _app.CHECKSUMS_FILE), "w", encoding="utf-8") as handle:
        handle.writelines(f"{digest}  {name}\n" for name, digest in sums.items())
    return sums


if __name__ == "__main__":
    for name, digest in build().items():
        print(f"{digest}  {name}")
