"""Validation helpers shared by the roles' validation functions (``_iis``, ``_tls``).

One rule, one place: a host name that is a valid IIS host header is the same
thing for the ``iis`` role (site host headers) and the ``tls`` role (SNI
bindings, certificate SANs), so both call :func:`hostname_problem`.
"""

from __future__ import annotations

import re
import typing as t

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def hostname_problem(hostname: t.Any) -> str | None:
    """Why ``hostname`` is not a bare DNS host name (an optional ``*.`` wildcard label first), or None.

    The text completes a sentence that starts with the value, e.g.
    ``"hostnames entry 'https://x' " + problem``.
    """
    if not isinstance(hostname, str) or not hostname:
        return "is empty or not a string"
    if "://" in hostname or hostname.lower().startswith(("http:", "https:")):
        return "contains a scheme (write the bare DNS name, e.g. 'mcms.corp.example', not 'https://...')"
    if ":" in hostname:
        return "contains a port (the port is a separate option, not part of the host name)"
    if "/" in hostname:
        return "contains a path (write the bare DNS name)"
    if any(ch.isspace() for ch in hostname):
        return "contains whitespace"
    labels = hostname.rstrip(".").split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            return "is a wildcard without a parent domain (use '*.corp.example')"
    if len(hostname) > 253 or not labels or not all(_HOST_LABEL.match(label) for label in labels):
        return "is not a valid DNS name"
    return None


def leading_variable(message: str) -> str:
    """The variable a validation message starts with (``iis_sites[0] (MCMS): ...`` -> ``iis_sites``)."""
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", message)
    return match.group(0) if match else ""
