# Copyright (c) 2026 MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sim
short_description: Run Windows modules against a simulated Windows Server 2022 host (winsim)
description:
  - A connection plugin for a simulated Windows Server 2022 host. ansible-core builds the real
    PowerShell payload of the real upstream module exactly as for a WinRM or PSRP host; this plugin
    decodes it, validates the arguments against the module's documented option spec like the real
    module does, and runs a Python model of the module against the host's state, a JSON document
    per host.
  - Use it with C(ansible_shell_type=powershell). Every module run arrives through one pipelined
    command; temporary directories, file transfers and C(ansible.windows.win_reboot) are simulated
    too. An unsimulated module, an undecodable payload or an unknown internal command fails loudly.
  - The host's state file is C(<winsim_state_dir>/<inventory_hostname>.json) unless
    C(winsim_state_file) names it; a missing file is a freshly installed host. Round-trip
    statistics, injected faults, a trace and temporary files live beside it (see C(winsim/docs/winsim.md)).
    Safe with many forks and processes (one file lock per host).
author:
  - MCMS infrastructure team
version_added: 0.1.0
options:
  remote_addr:
    description:
      - The address of the simulated host, shown in messages only.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  remote_user:
    description:
      - The user Ansible connects as. Informational; the simulated host runs everything as its
        local Administrator.
    type: str
    vars:
      - name: ansible_user
  winsim_host:
    description:
      - The inventory name of the host, which names its state file.
    type: str
    vars:
      - name: inventory_hostname
  winsim_state_dir:
    description:
      - Directory holding the state files of the simulated hosts (one C(<host>.json) per host plus
        its sidecars). Relative paths are relative to the current working directory.
    type: path
    default: .winsim/state
    env:
      - name: WINSIM_STATE_DIR
    vars:
      - name: winsim_state_dir
  winsim_state_file:
    description:
      - The state file of this host. Overrides C(winsim_state_dir).
    type: path
    vars:
      - name: winsim_state_file
  winsim_lab:
    description:
      - The declared lab (see winsim/docs/lab.md), that is which simulated host is a domain controller, a SQL
        Server, a domain member; lab DNS records; lab-wide trust settings. Validated on every
        connect; the first connect builds every declared host that has no state yet (domain
        controllers first), so every run starts from the same declared lab. An invalid
        declaration fails the task and touches no file.
      - Unset, each host stands alone and starts as a fresh, unjoined Windows Server 2022.
    type: dict
    vars:
      - name: winsim_lab
  winsim_profile:
    description:
      - Host profile of a host that has no state file yet (a fresh install), see winsim/docs/profiles.md.
        C(bare) is the minimal historical fresh host, C(realistic) what a real fresh Windows Server 2022
        carries where the roles look, C(lived-in) realistic plus what real estates accumulate. Recorded in
        the state as C(host.profile); ignored once the host has a state file (C(winsim reset --profile)
        starts over). An unknown profile fails the connection and touches no file.
    type: str
    default: bare
    env:
      - name: WINSIM_PROFILE
    vars:
      - name: winsim_profile
  pipelining:
    description:
      - Always on; winsim receives every module run as one pipelined command.
    type: bool
    default: true
notes:
  - Requires C(ansible_shell_type=powershell).
  - Become (C(runas)) is accepted and recorded; become passwords are never written anywhere.
"""

EXAMPLES = r"""
# inventories/sim/hosts.yml
all:
  children:
    webservers:
      hosts:
        web1:
      vars:
        ansible_connection: mcms.winsim.sim
        ansible_shell_type: powershell
        winsim_state_dir: "{{ inventory_dir }}/../../.winsim/state"
"""

import contextlib
import os
import time
import typing as t

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

# The simulator is a Python package of its own (winsim/ at the repository
# root), imported the way ansible's psrp connection imports pypsrp.
try:
    from winsim.decoder import decode
    from winsim.lab import ensure as ensure_lab
    from winsim.models._base import SimulatorError
    from winsim.runner import ConnectionDropped, Runner
    from winsim.store import HostStore
except ImportError as _exc:  # pragma: no cover - exercised by a missing install
    WINSIM_IMPORT_ERROR: ImportError | None = _exc
    SimulatorError = ConnectionDropped = Exception  # type: ignore[misc,assignment]
else:
    WINSIM_IMPORT_ERROR = None
from winsim.state import check_profile
from winsim.transport import fetch_file, put_file

display = Display()


class Connection(ConnectionBase):
    """winsim: a simulated Windows host at the connection layer."""

    transport = "mcms.winsim.sim"
    has_pipelining = True
    always_pipeline_modules = True
    module_implementation_preferences = (".ps1", ".exe", "")
    allow_executable = False
    has_tty = False
    allow_extras = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        if WINSIM_IMPORT_ERROR is not None:
            raise AnsibleError(
                "the mcms.winsim.sim connection needs the winsim package (winsim/ in the mcms-infra "
                f"repository, installed by 'make setup'): {WINSIM_IMPORT_ERROR}")
        super().__init__(*args, **kwargs)
        self._runner: Runner | None = None

    def is_pipelining_enabled(self, wrap_async: bool = False) -> bool:
        return True

    # -- connection lifecycle ------------------------------------------------------------
    def _host_name(self) -> str:
        name = None
        try:
            name = self.get_option("winsim_host")
        except KeyError:
            name = None
        if not name:
            name = self._play_context.remote_addr
        if not name:
            raise AnsibleError("winsim: cannot tell which inventory host this connection is for")
        return str(name)

    def _connect(self) -> Connection:
        if self._connected and self._runner is not None:
            return self
        shell_family = getattr(self._shell, "SHELL_FAMILY", None)
        if shell_family != "powershell":
            raise AnsibleError(f"winsim: the mcms.winsim.sim connection needs ansible_shell_type=powershell "
                               f"(got {shell_family!r})")
        hostname = self._host_name()
        store = HostStore.for_host(hostname, state_dir=self.get_option("winsim_state_dir"),
                                   state_file=self.get_option("winsim_state_file"))
        declaration = self.get_option("winsim_lab")
        if declaration:
            if hostname not in (declaration.get("hosts") or {}):
                raise AnsibleError(f"winsim: host {hostname} is not declared in winsim_lab.hosts; declare it "
                                   "(with its roles) or remove it from the simulated inventory")
            try:
                ensure_lab(store.state_path.parent, declaration)
            except SimulatorError as exc:
                raise AnsibleError(str(exc)) from exc
        try:
            store.profile = check_profile(self.get_option("winsim_profile") or "bare")
        except SimulatorError as exc:
            raise AnsibleError(str(exc)) from None
        self._runner = Runner(store)
        display.vvv(f"WINSIM CONNECT host={hostname} state={store.state_path}", host=hostname)
        self._connected = True
        return self

    def close(self) -> None:
        self._runner = None
        self._connected = False

    def reset(self) -> None:
        self.close()
        self._connect()

    @contextlib.contextmanager
    def _cpu_accounting(self) -> t.Iterator[None]:
        """Count the controller CPU this round trip spends inside winsim,
        when ``WINSIM_CPU_ACCOUNTING=1`` (``make bench``: winsim's share of
        a run's controller CPU)."""
        if os.environ.get("WINSIM_CPU_ACCOUNTING") != "1" or self._runner is None:
            yield
            return
        start = time.process_time()
        try:
            yield
        finally:
            self._runner.store.add_cpu(time.process_time() - start)

    # -- commands -----------------------------------------------------------------------------
    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        assert self._runner is not None
        try:
            with self._cpu_accounting():
                request = decode(to_text(cmd), to_bytes(in_data) if in_data is not None else None)
                display.vvv(f"WINSIM EXEC {request.kind} {getattr(request, 'fqcn', '')}".rstrip(),
                            host=self._runner.hostname)
                return self._runner.handle(request)
        except ConnectionDropped as exc:
            raise AnsibleConnectionFailure(str(exc)) from exc
        except SimulatorError as exc:
            raise AnsibleError(str(exc)) from exc

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        self._connect()
        assert self._runner is not None
        display.vvv(f"WINSIM PUT {in_path} TO {out_path}", host=self._runner.hostname)
        try:
            with self._cpu_accounting():
                put_file(self._runner, in_path, out_path)
        except FileNotFoundError as exc:
            raise AnsibleFileNotFound(f"winsim: file or module does not exist: {in_path}") from exc
        except ConnectionDropped as exc:
            raise AnsibleConnectionFailure(str(exc)) from exc
        except SimulatorError as exc:
            raise AnsibleError(str(exc)) from exc

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        self._connect()
        assert self._runner is not None
        display.vvv(f"WINSIM FETCH {in_path} TO {out_path}", host=self._runner.hostname)
        try:
            fetch_file(self._runner, in_path, out_path)
        except ConnectionDropped as exc:
            raise AnsibleConnectionFailure(str(exc)) from exc
        except SimulatorError as exc:
            raise AnsibleError(str(exc)) from exc
