"""Module models.  Every ``*.py`` file in this package that does not start
with an underscore is imported by :func:`load_all`, and registers its models
with :func:`._base.model` and its fresh-host state sections with
:func:`..state.section`."""

from __future__ import annotations

import importlib
import pkgutil

from ._base import MODELS, ModelSpec

__all__ = ["MODELS", "ModelSpec", "load_all"]

_loaded = False


def load_all() -> dict[str, ModelSpec]:
    global _loaded
    if not _loaded:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return MODELS
