"""The host's runtime outside its state document.

Ansible's temporary directories (``mkdtemp``), the files ``put_file`` sends
into them and the results of async jobs are real on a Windows host but are
not configuration: they must not appear in the state document (a ``--check``
run makes and removes temp directories, and must leave the state
byte-identical).  They live in ``<stem>.d/`` beside the state (see
``store.py``) and models reach them through ``ctx.runtime``.

Paths are Windows paths; the Windows path helpers of ``state.py`` give the
case-insensitive keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import typing as t
from pathlib import Path

from .models._base import SimulatorError
from .state import key, normpath
from .store import HostStore, canonical_json

__all__ = ["HostRuntime", "Lab"]

_INDEX = "index.json"


def _local_name(component: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", component.lower())
    if safe in ("", ".", ".."):
        safe = "_" + hashlib.sha1(component.encode("utf-8")).hexdigest()[:8]
    return safe


class Lab:
    """Read-only view of the other simulated hosts that share a state
    directory (used by models that talk to another host, e.g. win_uri)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._spec: dict[str, t.Any] | None = None
        self._spec_loaded = False

    @property
    def spec(self) -> dict[str, t.Any] | None:
        """The declared lab (``_lab/lab.json``, see ``lab.py``), or ``None``
        for a state directory without a declaration (hosts stand alone)."""
        if not self._spec_loaded:
            from .lab import load

            self._spec = load(self.state_dir)
            self._spec_loaded = True
        return self._spec

    def hosts(self) -> list[str]:
        out = []
        for path in sorted(self.state_dir.glob("*.json")):
            name = path.name
            if name.count(".") == 1:
                out.append(name[:-5])
        return out

    def state(self, host: str) -> dict[str, t.Any] | None:
        """The saved state of ``host`` (``None`` if it has none yet).  State
        files are replaced atomically, so reading needs no lock."""
        path = self.state_dir / f"{host}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def edit(self, host: str) -> t.Iterator[dict[str, t.Any]]:
        """Edit another host's state (a cross-host write, e.g. the computer
        object a domain join creates on the DC): lock that host's store, load
        its state, yield it, save it when the block succeeds.  An exception
        (a failing model) leaves the file untouched.  Callers never edit in
        check mode."""
        store = HostStore(self.state_dir / f"{host}.json", host)
        with store.locked():
            if not store.exists():
                raise SimulatorError(f"winsim: lab host {host} has no state to edit")
            state = store.load_state()
            yield state
            store.save_state(state)

    def faults(self, host: str) -> list[dict[str, t.Any]]:
        """The faults injected into ``host`` (its ``<host>.faults.json``
        sidecar): what a request *served* by that host honours."""
        path = self.state_dir / f"{host}.faults.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return []
        return [f for f in doc if isinstance(f, dict)] if isinstance(doc, list) else []

    def runtime_doc(self, host: str, name: str) -> dict[str, t.Any]:
        """Read-only: a runtime document of ``host`` (see
        :meth:`HostRuntime.load_doc`), ``{}`` when it has none."""
        try:
            doc = json.loads((self.state_dir / f"{host}.d" / f"{name}.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}


class HostRuntime:
    """Temp directories, transferred files and async job results of one host."""

    def __init__(self, store: HostStore, lab: Lab | None = None) -> None:
        self.store = store
        self.lab = lab if lab is not None else Lab(store.state_path.parent)

    # -- temp directories ----------------------------------------------------------
    def _index(self) -> dict[str, str]:
        try:
            return json.loads((self.store.tmp_dir / _INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save_index(self, index: dict[str, str]) -> None:
        if not index:
            # Every temp directory is gone: leave nothing behind, like the
            # host's own temp folder after Ansible removed its directory.
            for name in (_INDEX, _INDEX + ".new"):
                (self.store.tmp_dir / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.store.tmp_dir.rmdir()
            return
        self.store.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.store.tmp_dir / (_INDEX + ".new")
        tmp.write_bytes(canonical_json(index))
        os.replace(tmp, self.store.tmp_dir / _INDEX)

    def make_tmp_dir(self, windows_path: str) -> str:
        """Register a new temp directory; returns its canonical Windows path."""
        path = normpath(windows_path)
        with self.store.locked():
            index = self._index()
            k = key(path)
            if k in index:
                raise FileExistsError(path)
            local = hashlib.sha1(k.encode("utf-8")).hexdigest()[:12] + "-" + _local_name(path.rsplit("\\", 1)[-1])
            (self.store.tmp_dir / local).mkdir(parents=True, exist_ok=True)
            index[k] = local
            self._save_index(index)
        return path

    def _resolve(self, windows_path: str) -> tuple[str, Path] | None:
        k = key(windows_path)
        index = self._index()
        for dir_key, local in index.items():
            if k == dir_key:
                return dir_key, self.store.tmp_dir / local
            if k.startswith(dir_key.rstrip("\\") + "\\"):
                rest = k[len(dir_key.rstrip("\\")) + 1:]
                parts = [_local_name(p) for p in rest.split("\\") if p]
                return dir_key, (self.store.tmp_dir / local).joinpath(*parts)
        return None

    def is_tmp(self, windows_path: str) -> bool:
        """True if ``windows_path`` is inside a registered temp directory."""
        return self._resolve(windows_path) is not None

    def tmp_exists(self, windows_path: str) -> bool:
        resolved = self._resolve(windows_path)
        return resolved is not None and resolved[1].exists()

    def tmp_is_dir(self, windows_path: str) -> bool:
        resolved = self._resolve(windows_path)
        return resolved is not None and resolved[1].is_dir()

    def read_tmp(self, windows_path: str) -> bytes:
        """Content of a file ``put_file`` sent into a temp directory."""
        resolved = self._resolve(windows_path)
        if resolved is None or not resolved[1].is_file():
            raise FileNotFoundError(normpath(windows_path))
        return resolved[1].read_bytes()

    def write_tmp(self, windows_path: str, data: bytes) -> None:
        resolved = self._resolve(windows_path)
        if resolved is None:
            raise FileNotFoundError(normpath(windows_path))
        resolved[1].parent.mkdir(parents=True, exist_ok=True)
        resolved[1].write_bytes(data)

    def remove_tmp(self, windows_path: str) -> bool:
        """Remove a temp directory (or a file in one).  False if the path is
        not in a registered temp directory."""
        with self.store.locked():
            resolved = self._resolve(windows_path)
            if resolved is None:
                return False
            dir_key, local = resolved
            if key(windows_path) == dir_key:
                shutil.rmtree(local, ignore_errors=True)
                index = self._index()
                index.pop(dir_key, None)
                self._save_index(index)
            elif local.is_dir():
                shutil.rmtree(local)
            elif local.exists():
                local.unlink()
            else:
                return False
            return True

    # -- runtime documents (processes, not configuration) ---------------------------------
    def load_doc(self, name: str) -> dict[str, t.Any]:
        """A JSON document of the host's runtime, e.g. ``iis_workers`` (which
        release each IIS worker process has loaded): real on the host, not
        configuration, so not in the state document.  ``{}`` when absent."""
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise SimulatorError(f"winsim: invalid runtime document name {name!r}")
        try:
            doc = json.loads((self.store.data_dir / f"{name}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def save_doc(self, name: str, doc: dict[str, t.Any]) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise SimulatorError(f"winsim: invalid runtime document name {name!r}")
        self.store.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.store.data_dir / f"{name}.json"
        tmp = path.with_name(path.name + ".new")
        tmp.write_bytes(canonical_json(doc))
        os.replace(tmp, path)

    # -- async jobs --------------------------------------------------------------------
    def _async_path(self, async_dir: str, jid: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", jid):
            raise SimulatorError(f"winsim: invalid async job id {jid!r}")
        return self.store.async_dir / hashlib.sha1(key(async_dir).encode("utf-8")).hexdigest()[:12] / jid

    def write_async(self, async_dir: str, jid: str, result: dict[str, t.Any]) -> None:
        path = self._async_path(async_dir, jid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")

    def read_async(self, async_dir: str, jid: str) -> dict[str, t.Any] | None:
        try:
            return json.loads(self._async_path(async_dir, jid).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def remove_async(self, async_dir: str, jid: str) -> bool:
        path = self._async_path(async_dir, jid)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            return True
        return False
