"""Decoding what ansible-core sends to a Windows host.

winsim's connection plugin receives, through ``exec_command(cmd, in_data)``,
exactly what a WinRM/PSRP host would receive.  This module turns that into a
typed request, and refuses anything it does not recognise exactly: a new
ansible-core payload format must fail loudly here, never half-work.

Payload generations (the wire format changed with ansible-core 2.21)::

    2.19  cmd: PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand <b64>
          bootstrap (module runs): ``if ($PSVersionTable...`` reading ``$input``
          bootstrap (mkdtemp/expand_user): the same, wrapped by _encode_script
          in ``Set-StrictMode -Version Latest`` and the ``$LASTEXITCODE`` trailer
          cleanup: ``Remove-Item '<path>' -Force -Recurse;`` in the same wrapper
    2.21  cmd: powershell ... -EncodedCommand '<b64>' (single-quoted when the
          base64 has characters PowerShell would not take bare)
          bootstrap: ``param([string]$InputFile)`` reading ``$InputFile``/``$input``
          cleanup: ``Remove-Item <path> -Force -Recurse`` (path quoted only if needed)

``in_data`` of a bootstrap is ``<exec_wrapper JSON>\\n\\0\\0\\0\\0\\n<manifest JSON>``
where the manifest lists ``scripts`` (base64 sources) and ``actions``
(``become_wrapper.ps1``, ``async_wrapper.ps1``, ``async_watchdog.ps1``,
``module_wrapper.ps1``, or a single ``powershell_mkdtemp.ps1`` /
``powershell_expand_user.ps1``).

``ansible.windows.win_reboot`` (collection code, identical under both
generations) sends its own ``PowerShell ... -EncodedCommand <b64>`` commands
without input: the boot-time query, the shutdown command, the post-reboot
test command and ``shutdown.exe /a``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import typing as t

from .models._base import SimulatorError

__all__ = [
    "GEN_219",
    "GEN_221",
    "AsyncInfo",
    "BecomeInfo",
    "ExpandUserRequest",
    "MkdtempRequest",
    "ModuleRequest",
    "RebootBootTimeRequest",
    "RebootCommandRequest",
    "RebootTestRequest",
    "RemoveRequest",
    "Request",
    "ShutdownAbortRequest",
    "decode",
]

GEN_219 = "2.19"
GEN_221 = "2.21"

SEPARATOR = b"\n\0\0\0\0\n"

_CMD_RE = re.compile(
    r"^(?P<exe>PowerShell|powershell) -NoProfile -NonInteractive -ExecutionPolicy Unrestricted "
    r"-EncodedCommand (?P<arg>\S+)$"
)
# ansible-core 2.21 quotes an argument unless it only has these characters
# (ansible._internal._powershell._script._PWSH_BARE_CMD).
_PWSH_BARE = re.compile(r"^[\w\-\\\.\[\]/_~!%^:]+$")

# _encode_script(strict_mode=True, preserve_rc=True) of ansible-core 2.19.
_STRICT_PREFIX = "Set-StrictMode -Version Latest\n"
_RC_TRAILER = ("If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
               "{ exit $LASTEXITCODE } Else { exit 1 } }")
# ansible.windows plugin_utils/_reboot.py _execute_command.
_REBOOT_TRAILER = "; " + _RC_TRAILER

_BOOT_219_HEAD = 'if ($PSVersionTable.PSVersion -lt [Version]"5.1") {\n'
_BOOT_219_MARKERS = (
    "$codeJson = foreach ($in in $input) {",
    "$code = ConvertFrom-Json -InputObject $codeJson",
    "$input | & $cmd @splat",
)
_BOOT_221_HEAD = "param([string]$InputFile)\n"
_BOOT_221_MARKERS = (
    "$codeJson = foreach ($in in $inputData) {",
    "$code = $codeJson | ConvertFrom-Json",
    "$inputData | & $cmd @splat",
)

_QUOTES = "'\u2018\u2019\u201a\u201b"
_QUOTED = rf"(?:[^{_QUOTES}]|(?P<q>[{_QUOTES}])(?P=q))*"
_REMOVE_221 = re.compile(rf"^Remove-Item (?P<path>'{_QUOTED}'|[\w\-\\\.\[\]/_~!%^:]+) -Force(?P<recurse> -Recurse)?$")
_REMOVE_219 = re.compile(rf"^Remove-Item '(?P<path>{_QUOTED})' -Force(?P<recurse> -Recurse)?;$")
_UNESCAPE = re.compile(r"(['\u2018\u2019\u201a\u201b])\1")

DEFAULT_BOOT_TIME_COMMAND = (
    "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
    ".LastBootUpTime.ToFileTime()"
)
LOGON_UI_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
_REBOOT_CMD = re.compile(
    r"^\$ErrorActionPreference = 'Continue'\n\n"
    r"if \(\$(?P<remove_key>True|False)\) \{\n"
    r"    Remove-Item -LiteralPath '" + re.escape(LOGON_UI_KEY) + r"' -Force -ErrorAction SilentlyContinue\n"
    r"\}\n\n"
    r"\$stdout = \$null\n"
    r"\$stderr = \. \{ C:\\Windows\\System32\\shutdown\.exe /r /t (?P<delay>\d+) /c (?P<msg>.*)"
    r" \| Set-Variable stdout \} 2>&1 \| ForEach-Object ToString\n",
    re.DOTALL,
)
# The end of the shutdown script: ansible.windows >= 3.4 guards $LASTEXITCODE,
# older releases (3.3.0, shipped with ansible 12) read it directly.
_REBOOT_CMD_TAILS = (
    "\nIf (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) {\n    $rc = $LASTEXITCODE\n"
    "} Else {\n    $rc=1\n}\n\n"
    "ConvertTo-Json -Compress -InputObject @{\n    stdout = (@($stdout) -join \"`n\")\n"
    "    stderr = (@($stderr) -join \"`n\")\n    rc = $rc\n}\n",
    "\nConvertTo-Json -Compress -InputObject @{\n    stdout = (@($stdout) -join \"`n\")\n"
    "    stderr = (@($stderr) -join \"`n\")\n    rc = $LASTEXITCODE\n}\n",
)
_TEST_CMD = re.compile(
    r"^Get-Item -LiteralPath '" + re.escape(LOGON_UI_KEY)
    + r"' -ErrorAction Stop; '(?P<expected>success-[0-9a-f-]{36})'$"
)
_ABORT_CMD = r"C:\Windows\System32\shutdown.exe /a"

_SCRIPT_RE = re.compile(r"^ansible_collections\.(?P<ns>[a-z0-9_]+)\.(?P<coll>[a-z0-9_]+)\.plugins\.modules\."
                        r"(?P<mod>[A-Za-z0-9_.]+)\.ps1$")

_KNOWN_WRAPPERS = ("become_wrapper.ps1", "async_wrapper.ps1", "async_watchdog.ps1", "module_wrapper.ps1")


# -- requests ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BecomeInfo:
    user: str
    password: str | None = dataclasses.field(default=None, repr=False)
    """Clear text as it arrived: never log, trace or store it."""
    params: dict[str, t.Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AsyncInfo:
    jid: str
    async_dir: str
    timeout: int
    startup_timeout: int | None = None


@dataclasses.dataclass(frozen=True)
class ModuleRequest:
    generation: str
    fqcn: str
    script_name: str
    source: str = dataclasses.field(repr=False)
    args: dict[str, t.Any] = dataclasses.field(repr=False)
    """``complex_args`` as sent: options plus ``_ansible_*`` keys."""
    module_utils: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    """Source of every PowerShell/C# module util the module imports."""
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    become: BecomeInfo | None = None
    async_: AsyncInfo | None = None

    kind: t.ClassVar[str] = "module"

    @property
    def check_mode(self) -> bool:
        return _truthy(self.args.get("_ansible_check_mode", False))

    @property
    def diff_mode(self) -> bool:
        return _truthy(self.args.get("_ansible_diff", False))

    @property
    def no_log(self) -> bool:
        return _truthy(self.args.get("_ansible_no_log", False))

    @property
    def module_name(self) -> str:
        """The name Ansible.Basic reports (``_ansible_module_name``)."""
        return str(self.args.get("_ansible_module_name") or self.fqcn)

    @property
    def options(self) -> dict[str, t.Any]:
        """The module options without the ``_ansible_*`` keys."""
        return {k: v for k, v in self.args.items() if not k.startswith("_ansible_")}


@dataclasses.dataclass(frozen=True)
class MkdtempRequest:
    generation: str
    directory: str
    name: str
    kind: t.ClassVar[str] = "mkdtemp"


@dataclasses.dataclass(frozen=True)
class ExpandUserRequest:
    generation: str
    path: str
    kind: t.ClassVar[str] = "expand_user"


@dataclasses.dataclass(frozen=True)
class RemoveRequest:
    generation: str
    path: str
    recurse: bool
    kind: t.ClassVar[str] = "cleanup"


@dataclasses.dataclass(frozen=True)
class RebootBootTimeRequest:
    command: str
    kind: t.ClassVar[str] = "reboot_boot_time"


@dataclasses.dataclass(frozen=True)
class RebootCommandRequest:
    delay: int
    message: str
    remove_logon_key: bool
    kind: t.ClassVar[str] = "reboot"


@dataclasses.dataclass(frozen=True)
class RebootTestRequest:
    expected: str
    kind: t.ClassVar[str] = "reboot_test"


@dataclasses.dataclass(frozen=True)
class ShutdownAbortRequest:
    kind: t.ClassVar[str] = "shutdown_abort"


Request = (ModuleRequest | MkdtempRequest | ExpandUserRequest | RemoveRequest | RebootBootTimeRequest
           | RebootCommandRequest | RebootTestRequest | ShutdownAbortRequest)


# -- helpers ------------------------------------------------------------------------

def _truthy(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("y", "yes", "on", "1", "true", "t", "1.0")


def _excerpt(text: str | bytes | None, limit: int = 160) -> str:
    if text is None:
        return "<none>"
    if isinstance(text, bytes):
        text = text[:limit * 2].decode("utf-8", errors="replace")
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _fail(generation: str | None, what: str, excerpt: str | bytes | None) -> t.NoReturn:
    gen = f"ansible-core {generation} payload" if generation else "payload of unknown generation"
    raise SimulatorError(f"winsim: cannot decode {gen}: {what}; excerpt: {_excerpt(excerpt)}")


def strict_b64decode(value: str, generation: str | None, what: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        _fail(generation, f"{what} is not valid base64 ({exc})", value)


def _unquote_pwsh(value: str) -> str:
    if len(value) >= 2 and value[0] == "'" and value[-1] == "'":
        return _UNESCAPE.sub(r"\1", value[1:-1])
    return value


# -- entry point ---------------------------------------------------------------------

def decode(cmd: str, in_data: bytes | str | None) -> Request:
    """Decode one ``exec_command`` call; raise :class:`SimulatorError` for
    anything not recognised exactly."""
    if isinstance(in_data, str):
        in_data = in_data.encode("utf-8")
    match = _CMD_RE.match(cmd.strip())
    if not match:
        _fail(None, "the command is not an encoded PowerShell command line", cmd)
    exe, arg = match.group("exe"), match.group("arg")
    if exe == "powershell":
        generation = GEN_221
        if arg.startswith("'"):
            if not (arg.endswith("'") and len(arg) > 2):
                _fail(generation, "unbalanced quotes around -EncodedCommand", cmd)
            b64 = arg[1:-1]
            if _PWSH_BARE.match(b64):
                _fail(generation, "-EncodedCommand quoted although PowerShell takes it bare", cmd)
        else:
            b64 = arg
            if not _PWSH_BARE.match(b64):
                _fail(generation, "-EncodedCommand has characters that ansible-core 2.21 would have quoted", cmd)
    else:
        generation = GEN_219
        if arg.startswith("'"):
            _fail(generation, "-EncodedCommand is quoted, which ansible-core 2.19 and win_reboot never do", cmd)
        b64 = arg
    raw = strict_b64decode(b64, generation, "-EncodedCommand")
    try:
        script = raw.decode("utf-16-le", errors="strict")
    except UnicodeDecodeError as exc:
        _fail(generation, f"-EncodedCommand is not UTF-16-LE ({exc})", cmd)

    if generation == GEN_221:
        if script.startswith(_BOOT_221_HEAD) and all(m in script for m in _BOOT_221_MARKERS):
            return _decode_bootstrap(generation, in_data)
        removed = _REMOVE_221.match(script)
        if removed:
            _no_input(generation, in_data, script)
            return RemoveRequest(generation, _unquote_pwsh(removed.group("path")), bool(removed.group("recurse")))
        _fail(generation, "unknown PowerShell script", script)

    # "PowerShell ...": ansible-core 2.19, or ansible.windows' reboot commands.
    body = script
    wrapped = body.startswith(_STRICT_PREFIX) and body.endswith("\n" + _RC_TRAILER)
    if wrapped:
        body = body[len(_STRICT_PREFIX):-len("\n" + _RC_TRAILER)]
    if body.startswith(_BOOT_219_HEAD) and all(m in body for m in _BOOT_219_MARKERS):
        return _decode_bootstrap(generation, in_data)
    if wrapped:
        removed = _REMOVE_219.match(body)
        if removed:
            _no_input(generation, in_data, script)
            path = _UNESCAPE.sub(r"\1", removed.group("path"))
            return RemoveRequest(generation, path, bool(removed.group("recurse")))
    if script.endswith(_REBOOT_TRAILER):
        _no_input(generation, in_data, script)
        return _decode_reboot(script[:-len(_REBOOT_TRAILER)])
    _fail(generation, "unknown PowerShell script", script)


def _no_input(generation: str, in_data: bytes | None, script: str) -> None:
    if in_data:
        _fail(generation, "unexpected input data for a command that takes none", script)


def _decode_reboot(command: str) -> Request:
    if command == DEFAULT_BOOT_TIME_COMMAND:
        return RebootBootTimeRequest(command)
    if command == _ABORT_CMD:
        return ShutdownAbortRequest()
    test = _TEST_CMD.match(command)
    if test:
        return RebootTestRequest(test.group("expected"))
    reboot = _REBOOT_CMD.match(command)
    if reboot and command[reboot.end():] in _REBOOT_CMD_TAILS:
        return RebootCommandRequest(
            delay=int(reboot.group("delay")),
            message=_unquote_pwsh(reboot.group("msg")),
            remove_logon_key=reboot.group("remove_key") == "True",
        )
    raise SimulatorError(
        "winsim: cannot run this PowerShell command from ansible.windows.win_reboot (winsim runs modules, not "
        f"arbitrary PowerShell; use the default boot_time_command and test_command): {_excerpt(command)}"
    )


def _json_doc(generation: str, data: bytes, what: str) -> dict[str, t.Any]:
    try:
        doc = json.loads(data.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        _fail(generation, f"{what} is not a JSON document ({exc})", data)
    if not isinstance(doc, dict):
        _fail(generation, f"{what} is not a JSON object", data)
    return doc


def _decode_bootstrap(generation: str, in_data: bytes | None) -> Request:
    if not in_data:
        _fail(generation, "bootstrap wrapper without input data", in_data)
    parts = in_data.split(SEPARATOR)
    if len(parts) == 3 and parts[2] == b"":
        parts = parts[:2]
    if len(parts) != 2:
        _fail(generation, f"expected 2 documents separated by \\n\\0\\0\\0\\0\\n, got {len(parts)}", in_data)
    boot = _json_doc(generation, parts[0], "the bootstrap document")
    if boot.get("name") != "exec_wrapper" or not isinstance(boot.get("script"), str) or not isinstance(
            boot.get("params"), dict):
        _fail(generation, "the bootstrap document is not {'name': 'exec_wrapper', 'script', 'params'}", parts[0])
    if "using namespace" not in boot["script"] or "ansible" not in boot["script"].lower():
        _fail(generation, "the bootstrap document does not carry ansible's exec_wrapper.ps1", parts[0])
    manifest = _json_doc(generation, parts[1], "the manifest")
    if set(manifest) != {"scripts", "actions", "signed_hashlist"}:
        _fail(generation, f"manifest keys {sorted(manifest)} are not scripts/actions/signed_hashlist", parts[1])
    scripts, actions = manifest["scripts"], manifest["actions"]
    if not isinstance(scripts, dict) or not isinstance(actions, list) or not actions:
        _fail(generation, "manifest scripts/actions have the wrong shape", parts[1])
    for action in actions:
        if not isinstance(action, dict) or set(action) != {"name", "params", "secure_params"}:
            _fail(generation, "a manifest action is not {'name', 'params', 'secure_params'}", json.dumps(action))
    names = [a["name"] for a in actions]

    if names == ["powershell_mkdtemp.ps1"]:
        params = actions[0]["params"]
        if set(params) != {"Directory", "Name"}:
            _fail(generation, "powershell_mkdtemp.ps1 parameters are not Directory/Name", json.dumps(params))
        return MkdtempRequest(generation, str(params["Directory"]), str(params["Name"]))
    if names == ["powershell_expand_user.ps1"]:
        params = actions[0]["params"]
        if set(params) != {"Path"}:
            _fail(generation, "powershell_expand_user.ps1 parameters are not Path", json.dumps(params))
        return ExpandUserRequest(generation, str(params["Path"]))
    if names[-1] != "module_wrapper.ps1" or any(n not in _KNOWN_WRAPPERS for n in names):
        _fail(generation, f"unknown action chain {names}", parts[1])
    return _module_request(generation, scripts, actions)


def _script_text(generation: str, scripts: dict[str, t.Any], name: str) -> str:
    info = scripts.get(name)
    if not isinstance(info, dict) or not isinstance(info.get("script"), str):
        _fail(generation, f"script {name!r} is missing from the manifest", name)
    raw = strict_b64decode(info["script"], generation, f"script {name!r}")
    try:
        return raw.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        _fail(generation, f"script {name!r} is not UTF-8 ({exc})", raw)


def _module_request(generation: str, scripts: dict[str, t.Any], actions: list[dict[str, t.Any]]) -> ModuleRequest:
    by_name = {a["name"]: a for a in actions}
    if len(by_name) != len(actions):
        _fail(generation, "an action appears twice", json.dumps([a["name"] for a in actions]))
    mod = by_name["module_wrapper.ps1"]["params"]
    script_name = mod.get("Script")
    if not isinstance(script_name, str):
        _fail(generation, "module_wrapper.ps1 has no Script", json.dumps(mod)[:300])
    m = _SCRIPT_RE.match(script_name)
    if not m:
        _fail(generation, f"module script {script_name!r} is not a collection PowerShell module", script_name)
    fqcn = f"{m.group('ns')}.{m.group('coll')}.{m.group('mod')}"
    if not mod.get("ForModule") or "Variables" not in mod:
        _fail(generation, f"{fqcn} is run as a script, not a module (winsim only runs modules)", script_name)
    variables = mod["Variables"]
    complex_args = None
    if isinstance(variables, list):
        for var in variables:
            if isinstance(var, dict) and var.get("Name") == "complex_args":
                complex_args = var.get("Value")
    if not isinstance(complex_args, dict):
        _fail(generation, f"{fqcn}: no complex_args variable", json.dumps(variables)[:300])
    environment = mod.get("Environment") or {}
    if not isinstance(environment, dict):
        _fail(generation, f"{fqcn}: Environment is not a dict", json.dumps(environment)[:300])

    source = _script_text(generation, scripts, script_name)
    utils: dict[str, str] = {}
    for key in ("PowerShellModules", "CSharpModules"):
        for util in mod.get(key) or []:
            utils[util] = _script_text(generation, scripts, util)

    become = None
    if "become_wrapper.ps1" in by_name:
        action = by_name["become_wrapper.ps1"]
        params = dict(action["params"])
        secure = action["secure_params"] or {}
        unknown = set(secure) - {"BecomePassword"}
        if unknown:
            _fail(generation, f"unknown become secure parameters {sorted(unknown)}", "become_wrapper.ps1")
        user = params.get("BecomeUser")
        if not isinstance(user, str):
            _fail(generation, "become_wrapper.ps1 without BecomeUser", json.dumps(params))
        become = BecomeInfo(user=user, password=secure.get("BecomePassword"), params=params)

    async_info = None
    if "async_wrapper.ps1" in by_name or "async_watchdog.ps1" in by_name:
        if "async_wrapper.ps1" not in by_name or "async_watchdog.ps1" not in by_name:
            _fail(generation, "async_wrapper.ps1 and async_watchdog.ps1 must come together",
                  json.dumps([a["name"] for a in actions]))
        wrapper = by_name["async_wrapper.ps1"]["params"]
        watchdog = by_name["async_watchdog.ps1"]["params"]
        try:
            async_info = AsyncInfo(jid=str(wrapper["AsyncJid"]), async_dir=str(wrapper["AsyncDir"]),
                                   timeout=int(watchdog["Timeout"]),
                                   startup_timeout=wrapper.get("StartupTimeout"))
        except (KeyError, TypeError, ValueError):
            _fail(generation, "async_wrapper.ps1/async_watchdog.ps1 parameters are incomplete",
                  json.dumps([wrapper, watchdog]))

    return ModuleRequest(
        generation=generation,
        fqcn=fqcn,
        script_name=script_name,
        source=source,
        args=complex_args,
        module_utils=utils,
        environment={str(k): str(v) for k, v in environment.items()},
        become=become,
        async_=async_info,
    )
