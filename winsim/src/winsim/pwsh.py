"""How PowerShell renders values as text: the one helper the models share.

``dotnet_str`` (``masking.py``) is ``$value.ToString()``; :func:`ps_str` is
string interpolation / ``[string]$value`` (``"$value"``): ``$null`` is
empty, booleans are ``True``/``False``, an array joins its items with a
space (``$OFS``), a hashtable is its type name, a double drops a ``.0``.
Objects with a ``ps_format()`` method (the IIS model's ``TimeSpan``) render
themselves.
"""

from __future__ import annotations

import typing as t

__all__ = ["ps_str"]


def ps_str(value: t.Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if hasattr(value, "ps_format"):
        return str(value.ps_format())
    if isinstance(value, list | tuple):
        return " ".join(ps_str(v) for v in value)
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)
