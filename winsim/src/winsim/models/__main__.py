"""Regenerate ``_index.py`` (FQCN -> model file) from the model registry."""

from __future__ import annotations

from . import write_index

print(write_index())
