"""Secret material winsim must keep: sealed with a per-lab key.

Passwords are never kept: models store :func:`digest` (salted,
``masking.secret_digest``) and check a password with :func:`matches`; the
models that compare digests by equality use :func:`equality_digest`.

Private keys must be kept (exporting a PFX, serving https need them), so
their key file's content in the state document is a *sealed* blob, as on
Windows, where a key file is a DPAPI blob readable only on that machine:

    WINSIM-SEALED/1\\n || nonce (12 bytes) || AES-256-GCM(lab key, nonce, data, aad = the prefix)

The lab key is 32 random bytes in ``<state_dir>/_lab/key``, created mode
0600 on first use (``_lab/`` is a directory, so ``runtime.Lab.hosts()``
never takes it for a host).  Every host of a lab shares it, so a host
serving https can unseal the key of its own certificate whichever process
runs the request.  The nonce is an HMAC of the data under the lab key: the
same key sealed twice gives the same bytes, so sealing keeps state documents
reproducible and ``--check`` byte-identical (it reveals only that two sealed
blobs hold the same data).  Deleting ``_lab/key`` makes the sealed keys of
that lab unreadable (like a reinstalled machine's DPAPI keys): certificates
keep ``has_private_key`` but exporting or serving with them fails loudly.

Models never handle the lab key: they call :func:`seal` / :func:`unseal`
with their ``ModuleContext`` (the key is found from ``ctx.runtime``'s state
directory; without one, in unit tests that run models without a store, a
per-process key that is never written anywhere).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import os
import threading
import typing as t
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .masking import secret_digest, secret_matches
from .models._base import SimulatorError

__all__ = [
    "SEALED_PREFIX",
    "digest",
    "equality_digest",
    "is_sealed",
    "lab_dir",
    "lab_key",
    "matches",
    "seal",
    "seal_with",
    "state_dir_of",
    "unseal",
    "unseal_with",
]

SEALED_PREFIX = b"WINSIM-SEALED/1\n"
_NONCE = 12
_KEY_BYTES = 32
_PROCESS_KEY = os.urandom(_KEY_BYTES)
_GUARD = threading.Lock()


def digest(value: str) -> str:
    """The digest of a password winsim stores (``masking.secret_digest``:
    salted PBKDF2-SHA256, never reversible).  Compare with :func:`matches`."""
    return secret_digest(value)


def equality_digest(value: str | None) -> str | None:
    """``sha256:<hex>``: the unsalted digest of models that compare a stored
    password with a given one by equality inside generic attribute
    comparisons (IIS pool/app/vdir passwords, AD account passwords).  Kept
    byte-identical to what those models always stored (no migration);
    ``None``/empty gives ``None``.  New models use :func:`digest`."""
    if not value:
        return None
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def matches(value: str, stored: str | None) -> bool:
    """Whether ``value`` is the password a stored digest was made from,
    whichever of the two forms it has (constant-time)."""
    if not stored:
        return False
    if stored.startswith("sha256:"):
        return hmac.compare_digest(equality_digest(value) or "", stored)
    return secret_matches(value, stored)


def lab_dir(state_dir: str | os.PathLike[str]) -> Path:
    """``<state_dir>/_lab``: lab-level files shared by all hosts."""
    return Path(state_dir) / "_lab"


def lab_key(state_dir: str | os.PathLike[str] | None) -> bytes:
    """The lab's sealing key, created (0600, atomically) on first use.
    ``None``: the per-process key (never written)."""
    if state_dir is None:
        return _PROCESS_KEY
    path = lab_dir(state_dir) / "key"
    with _GUARD:
        with contextlib.suppress(FileNotFoundError):
            return _check(path, path.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return _check(path, path.read_bytes())
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(_KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        return _check(path, path.read_bytes())


def _check(path: Path, data: bytes) -> bytes:
    if len(data) != _KEY_BYTES:
        raise SimulatorError(f"winsim: lab key {path} is not {_KEY_BYTES} bytes (truncated or not a winsim lab key)")
    return data


def is_sealed(data: bytes) -> bool:
    return data.startswith(SEALED_PREFIX)


def seal_with(key: bytes, data: bytes) -> bytes:
    nonce = hmac.new(key, b"nonce\0" + data, hashlib.sha256).digest()[:_NONCE]
    return SEALED_PREFIX + nonce + AESGCM(key).encrypt(nonce, data, SEALED_PREFIX)


def unseal_with(key: bytes, blob: bytes, *, what: str = "sealed data") -> bytes:
    if not is_sealed(blob):
        raise SimulatorError(f"winsim: {what} is not sealed (a clear secret in the state: migrate it)")
    body = blob[len(SEALED_PREFIX):]
    try:
        return AESGCM(key).decrypt(body[:_NONCE], body[_NONCE:], SEALED_PREFIX)
    except InvalidTag:
        raise SimulatorError(f"winsim: cannot unseal {what}: it was sealed with another lab key "
                             "(<state_dir>/_lab/key replaced or deleted)") from None


_LAB_DIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar("winsim_lab_state_dir", default=None)


@contextlib.contextmanager
def using_state_dir(state_dir: str | os.PathLike[str]) -> t.Iterator[None]:
    """Models run without a runtime inside this block (``winsim drift``
    runs module models on a loaded document) seal with the key of the lab
    in ``state_dir``."""
    token = _LAB_DIR.set(Path(state_dir))
    try:
        yield
    finally:
        _LAB_DIR.reset(token)


def state_dir_of(runtime: t.Any) -> Path | None:
    """The state directory of a model's ``ctx.runtime``; without a store,
    the one of :func:`using_state_dir`, else ``None``."""
    store = getattr(runtime, "store", None)
    state_path = getattr(store, "state_path", None)
    return Path(state_path).parent if state_path is not None else _LAB_DIR.get()


def seal(ctx: t.Any, data: bytes) -> bytes:
    """Seal ``data`` with the key of ``ctx``'s lab."""
    return seal_with(lab_key(state_dir_of(ctx.runtime)), data)


def unseal(ctx: t.Any, blob: bytes, *, what: str = "sealed data") -> bytes:
    """Unseal what :func:`seal` made in ``ctx``'s lab."""
    return unseal_with(lab_key(state_dir_of(ctx.runtime)), blob, what=what)
