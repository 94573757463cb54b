"""Keeping secrets that arrive in payloads out of results, traces, stats and
state files.

Two kinds of masking exist, on purpose:

* :func:`remove_no_log_values` reproduces ``Ansible.Basic``'s
  ``RemoveNoLogValues`` exactly (a value equal to a secret becomes
  ``VALUE_SPECIFIED_IN_NO_LOG_PARAMETER``, a string containing one has it
  replaced by ``********``).  The runner applies it where the real module
  does: the ``invocation`` of the result.
* :func:`mask` is winsim's own, stricter masking for everything winsim writes
  beside the host (trace, stats, error messages): the same rules, applied to
  every value, plus masking of any dict entry whose *key* names a secret.

Models that must remember a password (``win_user``, SQL logins, service
accounts) never store it: they store :func:`secret_digest` and compare with
:func:`secret_matches`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import typing as t

__all__ = [
    "NO_LOG_MASK",
    "SUBSTRING_MASK",
    "SecretSet",
    "is_secret_name",
    "mask",
    "remove_no_log_values",
    "secret_digest",
    "secret_matches",
]

NO_LOG_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
SUBSTRING_MASK = "********"

# Option names that are secrets whether or not the module declares no_log
# (the documentation does not carry no_log, and Legacy modules have none).
_SECRET_NAME = re.compile(r"(pass(word|wd|phrase)?|secret|token|credential|private_?key|api_?key)$|^(pwd|psk)$",
                          re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for option names that hold secrets (``password``,
    ``sql_password``, ``client_secret``, ``BecomePassword`` ...)."""
    return bool(_SECRET_NAME.search(name.replace("-", "_")))


def dotnet_str(value: t.Any) -> str:
    """``value.ToString()`` as .NET renders the JSON-decoded value."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, list | tuple):
        return "System.Object[]"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


class SecretSet:
    """The secret strings of one request (no_log option values, become
    password).  Empty strings are never secrets (as in Ansible.Basic)."""

    def __init__(self, values: t.Iterable[t.Any] = ()) -> None:
        self._values: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: t.Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for v in value.values():
                self.add(v)
            return
        if isinstance(value, list | tuple):
            for v in value:
                self.add(v)
            return
        text = dotnet_str(value)
        if text:
            self._values.add(text)

    def __iter__(self) -> t.Iterator[str]:
        # Longest first so that a secret containing another is replaced whole.
        return iter(sorted(self._values, key=lambda s: (-len(s), s)))

    def __bool__(self) -> bool:
        return bool(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _mask_scalar(value: t.Any, secrets: SecretSet) -> t.Any:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        text = dotnet_str(value)
        for secret in secrets:
            if text == secret or secret in text:
                return NO_LOG_MASK
        return value
    text = str(value)
    for secret in secrets:
        if text == secret:
            return NO_LOG_MASK
    masked = text
    for secret in secrets:
        if secret in masked:
            masked = masked.replace(secret, SUBSTRING_MASK)
    return masked


def remove_no_log_values(value: t.Any, secrets: SecretSet) -> t.Any:
    """``Ansible.Basic`` ``RemoveNoLogValues``: returns a masked copy."""
    if isinstance(value, dict):
        return {k: remove_no_log_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [remove_no_log_values(v, secrets) for v in value]
    if not secrets:
        return value
    return _mask_scalar(value, secrets)


def mask(value: t.Any, secrets: SecretSet | None = None) -> t.Any:
    """Masked copy of ``value`` for anything winsim writes beside a host:
    known secret values everywhere, and every value stored under a key that
    names a secret."""
    secrets = secrets or SecretSet()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and is_secret_name(k) and v not in (None, "") and not isinstance(v, dict | list):
                out[k] = NO_LOG_MASK
            else:
                out[k] = mask(v, secrets)
        return out
    if isinstance(value, list | tuple):
        return [mask(v, secrets) for v in value]
    if not secrets:
        return value
    return _mask_scalar(value, secrets)


# -- password storage -------------------------------------------------------

_ITERATIONS = 100_000


def secret_digest(value: str, *, salt: bytes | None = None) -> str:
    """A salted PBKDF2-SHA256 digest of ``value`` for models that must
    remember a password: ``pbkdf2_sha256$<iterations>$<salt>$<digest>``.
    Never store the clear text in the state."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", value.encode("utf-8"), salt, _ITERATIONS)
    return "pbkdf2_sha256${}${}${}".format(
        _ITERATIONS,
        base64.b64encode(salt).decode("ascii"),
        base64.b64encode(digest).decode("ascii"),
    )


def secret_matches(value: str, digest: str | None) -> bool:
    """True when ``value`` is the secret :func:`secret_digest` produced
    ``digest`` from (constant-time comparison)."""
    if not digest:
        return False
    try:
        algo, iterations, salt_b64, hash_b64 = digest.split("$")
    except ValueError:
        return False
    if algo != "pbkdf2_sha256":
        return False
    salt = base64.b64decode(salt_b64)
    expected = base64.b64decode(hash_b64)
    got = hashlib.pbkdf2_hmac("sha256", value.encode("utf-8"), salt, int(iterations))
    return hmac.compare_digest(got, expected)
