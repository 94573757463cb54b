"""Ansible's internal protocols that are not module runs.

* ``mkdtemp`` (``powershell_mkdtemp.ps1``): registers a temporary directory
  in the host runtime and prints its full path, as ``$tmp.FullName`` does.
* ``expand_user`` (``powershell_expand_user.ps1``): the user profile.
* cleanup (``Remove-Item <tmp> -Force -Recurse``): removes a temp directory.
* ``put_file`` / ``fetch_file``: file transfer into temp directories
  (``put_file``) and out of the host's file system (``fetch_file``).
* ``ansible.windows.win_reboot``'s raw commands: boot-time query, shutdown
  (the simulated reboot: ``host.last_boot`` moves on, ``reboot_pending`` is
  cleared, and every hook registered with :func:`on_reboot` runs), the
  post-reboot test command and ``shutdown.exe /a``.

Model files can react to a reboot (start automatic services, app pools)::

    from ..transport import on_reboot

    @on_reboot
    def _start_automatic_services(state):
        ...
"""

from __future__ import annotations

import datetime as _dt
import json
import typing as t
from pathlib import Path

from . import decoder as d
from . import state as st
from .models._base import SimulatorError

if t.TYPE_CHECKING:
    from .runner import Runner

__all__ = ["REBOOT_HOOKS", "fetch_file", "filetime", "handle_internal", "on_reboot", "put_file"]

REBOOT_HOOKS: list[t.Callable[[dict[str, t.Any]], None]] = []

_EPOCH_1601 = _dt.datetime(1601, 1, 1, tzinfo=_dt.UTC)


def on_reboot(func: t.Callable[[dict[str, t.Any]], None]) -> t.Callable[[dict[str, t.Any]], None]:
    """Register ``func(state)`` to run when the simulated host reboots."""
    if func not in REBOOT_HOOKS:
        REBOOT_HOOKS.append(func)
    return func


def filetime(iso_time: str) -> int:
    """``DateTime.ToFileTime()``: 100-ns intervals since 1601-01-01 UTC."""
    delta = st.parse_iso(iso_time) - _EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _out(text: str) -> bytes:
    return text.encode("utf-8")


def handle_internal(runner: Runner, request: d.Request) -> tuple[int, bytes, bytes]:
    kind = request.kind
    runner.round_trip(kind)
    result = _HANDLERS[type(request)](runner, request)
    runner.store.trace({"kind": kind, "rc": result[0], **_trace_detail(request)})
    return result


def _trace_detail(request: d.Request) -> dict[str, t.Any]:
    if isinstance(request, d.MkdtempRequest):
        return {"path": f"{request.directory}\\{request.name}"}
    if isinstance(request, d.RemoveRequest | d.ExpandUserRequest):
        return {"path": request.path}
    if isinstance(request, d.RebootCommandRequest):
        return {"delay": request.delay}
    return {}


def _mkdtemp(runner: Runner, request: d.MkdtempRequest) -> tuple[int, bytes, bytes]:
    state = runner.store.load_state()
    directory = st.expand_env(request.directory, state)
    if not st.is_absolute(directory):
        return 1, b"", _out(f"New-Item : Cannot find drive. A drive with the name '{directory}' does not exist.\r\n")
    path = st.normpath(directory + "\\" + request.name)
    try:
        path = runner.runtime.make_tmp_dir(path)
    except FileExistsError:
        return 1, b"", _out(f"New-Item : An item with the specified name {path} already exists.\r\n")
    return 0, _out(path + "\r\n"), b""


def _expand_user(runner: Runner, request: d.ExpandUserRequest) -> tuple[int, bytes, bytes]:
    state = runner.store.load_state()
    profile = state.get("env", {}).get("USERPROFILE", "C:\\Users\\Administrator")
    if request.path == "~":
        out = profile
    elif request.path.startswith("~\\"):
        out = st.normpath(profile + "\\" + request.path[2:])
    else:
        out = request.path
    return 0, _out(out + "\r\n"), b""


def _remove(runner: Runner, request: d.RemoveRequest) -> tuple[int, bytes, bytes]:
    if runner.runtime.remove_tmp(request.path):
        return 0, b"", b""
    return 1, b"", _out(f"Remove-Item : Cannot find path '{st.normpath(request.path)}' because it does not exist.\r\n")


def _boot_time(runner: Runner, request: d.RebootBootTimeRequest) -> tuple[int, bytes, bytes]:
    state = runner.store.load_state()
    return 0, _out(f"{filetime(state['host']['last_boot'])}\r\n"), b""


def _reboot(runner: Runner, request: d.RebootCommandRequest) -> tuple[int, bytes, bytes]:
    with runner.store.locked():
        state = runner.store.load_state()
        # The host comes back after the reboot command: its boot time is later
        # than anything written before it (a marker written a few hundred
        # milliseconds earlier in the same second included; boot times are
        # kept to the second).
        now = (_dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=1)).replace(microsecond=0)
        pinned = state.get("clock", {}).get("now")
        if pinned:
            now = st.parse_iso(pinned)
        previous = st.parse_iso(state["host"]["last_boot"])
        if now <= previous:
            now = previous + _dt.timedelta(seconds=max(request.delay, 1))
        state["host"]["last_boot"] = st.iso(now)
        state["host"]["reboot_pending"] = False
        from .models import load_all

        load_all()  # every model file registers its boot-time hooks on import
        for hook in REBOOT_HOOKS:
            hook(state)
        runner.store.save_state(state)
    return 0, _out(json.dumps({"stdout": "", "stderr": "", "rc": 0}, separators=(",", ":")) + "\r\n"), b""


def _reboot_test(runner: Runner, request: d.RebootTestRequest) -> tuple[int, bytes, bytes]:
    listing = (
        "\r\n\r\n    Hive: HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\r\n\r\n\r\n"
        "Name                           Property\r\n"
        "----                           --------\r\n"
        "AutoLogonChecked               UserVerified : 1\r\n\r\n\r\n"
    )
    return 0, _out(listing + request.expected + "\r\n"), b""


def _abort(runner: Runner, request: d.ShutdownAbortRequest) -> tuple[int, bytes, bytes]:
    return 1116, b"", _out("Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n")


_HANDLERS: dict[type, t.Callable[..., tuple[int, bytes, bytes]]] = {
    d.MkdtempRequest: _mkdtemp,
    d.ExpandUserRequest: _expand_user,
    d.RemoveRequest: _remove,
    d.RebootBootTimeRequest: _boot_time,
    d.RebootCommandRequest: _reboot,
    d.RebootTestRequest: _reboot_test,
    d.ShutdownAbortRequest: _abort,
}


# -- file transfer ---------------------------------------------------------------------

def put_file(runner: Runner, local_path: str, remote_path: str) -> None:
    """Send a controller file into one of the host's temp directories (the
    only place ansible-core and ansible.windows' action plugins put files)."""
    data = Path(local_path).read_bytes()
    runner.round_trip("put_file", nbytes=len(data))
    if not runner.runtime.is_tmp(remote_path):
        raise SimulatorError(f"winsim: put_file to {remote_path!r}, which is not inside an Ansible temporary "
                             "directory of this host; winsim only accepts transfers into directories made by mkdtemp")
    runner.runtime.write_tmp(remote_path, data)
    runner.store.trace({"kind": "put_file", "path": remote_path, "bytes": len(data)})


def fetch_file(runner: Runner, remote_path: str, local_path: str) -> None:
    """Copy a file of the host (its file system or a temp directory) to the
    controller."""
    if runner.runtime.is_tmp(remote_path):
        data = runner.runtime.read_tmp(remote_path)
    else:
        state = runner.store.load_state()
        try:
            data = st.read_file(state, remote_path)
        except FileNotFoundError:
            runner.round_trip("fetch_file")
            raise SimulatorError(f"winsim: fetch_file: {remote_path} does not exist on {runner.hostname}") from None
        except IsADirectoryError:
            runner.round_trip("fetch_file")
            raise SimulatorError(f"winsim: fetch_file: {remote_path} is a directory on {runner.hostname}") from None
    runner.round_trip("fetch_file", nbytes=len(data))
    Path(local_path).parent.mkdir(parents=True, exist_ok=True)
    Path(local_path).write_bytes(data)
    runner.store.trace({"kind": "fetch_file", "path": remote_path, "bytes": len(data)})
