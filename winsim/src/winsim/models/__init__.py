"""Module models.  Every ``*.py`` file in this package that does not start
with an underscore registers its models with :func:`._base.model` and its
fresh-host state sections with :func:`..state.section`.

Two ways in:

* :func:`get_model` imports only the file that models the requested module
  (looked up in ``_index.INDEX``).  This is the hot path: every module run
  happens in a fresh ansible worker process, and ansible's collection loader
  compiles collection code from source on every import (it keeps no bytecode
  cache), so importing all model files costs about half a second per task.
* :func:`load_all` imports every model file: for a fresh host's state (which
  needs every section), reboot hooks, documentation and tests.

``_index.INDEX`` is checked against :func:`load_all` by a unit test; a module
missing from a stale index is still found, through :func:`load_all`.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._base import MODELS, ModelSpec
from ._index import INDEX

__all__ = ["MODELS", "ModelSpec", "get_model", "index_from_registry", "load_all"]

_loaded = False


def load_all() -> dict[str, ModelSpec]:
    global _loaded
    if not _loaded:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return MODELS


def get_model(fqcn: str) -> ModelSpec | None:
    """The model of ``fqcn``, importing as little as possible; None if winsim
    has no model for that module."""
    if fqcn not in MODELS and fqcn in INDEX:
        importlib.import_module(f"{__name__}.{INDEX[fqcn]}")
    if fqcn not in MODELS:
        load_all()
    return MODELS.get(fqcn)


def index_from_registry() -> dict[str, str]:
    """What ``_index.INDEX`` must hold: every model's FQCN -> its file."""
    return {fqcn: spec.func.__module__.rsplit(".", 1)[-1] for fqcn, spec in sorted(load_all().items())}



def write_index() -> str:
    """Rewrite ``_index.py`` from the registry; returns its path."""
    import json
    import pathlib

    body = "{\n" + "".join(f"    {json.dumps(k)}: {json.dumps(v)},\n" for k, v in index_from_registry().items()) + "}"
    path = pathlib.Path(__file__).with_name("_index.py")
    path.write_text(
        '"""FQCN -> model file.  Generated: ``python -m '
        'winsim.models``."""\n\n'
        "from __future__ import annotations\n\n"
        f"INDEX: dict[str, str] = {body}\n",
        encoding="utf-8",
    )
    return str(path)
