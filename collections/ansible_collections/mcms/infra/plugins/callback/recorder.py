# Copyright: (c) 2026, MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task recorder: one JSON line per task result, for fidelity comparisons
and drift assertions.  The format is documented in ``winsim/docs/winsim.md``
("The recording format") and versioned by ``RECORD_FORMAT``."""

from __future__ import annotations

DOCUMENTATION = r"""
name: recorder
type: aggregate
short_description: Record every task result as JSON lines
description:
  - Writes one JSON object per line to a file; a C(start) record, one C(task) record per task result
    (play, task name and path, host, resolved module FQCN, arguments with secrets masked, changed, failed,
    skipped, unreachable, the sorted set of returned keys, whether a diff was returned) and a final
    C(summary) record with the per-host recap.
  - Each line is flushed as soon as the task result arrives, so an interrupted run still leaves a usable file.
  - Secrets never reach the file. All arguments of a C(no_log) task are masked, and so is every argument whose
    name looks like a secret (password, secret, token, key, credential), at any depth.
  - Works with any connection (psrp, winrm, mcms.winsim.sim), so a run against a real Windows host and a run
    against winsim can be compared with C(winsim fidelity compare).
  - Enable it with C(callbacks_enabled = mcms.infra.recorder) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=mcms.infra.recorder).
version_added: 0.1.0
author:
  - MCMS infrastructure team
requirements:
  - enable in configuration (callbacks_enabled)
options:
  path:
    description:
      - File the recording is written to. Its directory is created when missing.
    type: path
    default: .winsim/recordings/last.jsonl
    env:
      - name: MCMS_RECORDER_PATH
    ini:
      - section: callback_recorder
        key: path
  append:
    description:
      - Append to the file instead of replacing it at the start of each playbook.
    type: bool
    default: false
    env:
      - name: MCMS_RECORDER_APPEND
    ini:
      - section: callback_recorder
        key: append
"""

import datetime
import json
import os
import re
import typing as t

from ansible import constants as C
from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ANSIBLE_VERSION

RECORD_FORMAT = 1
MASK = "********"
NO_LOG_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# Option names that hold secrets whatever the module declares: password,
# become_pass, client_secret, api_token, private_key, sql_credential ...
_SECRET_NAME = re.compile(r"pass(word|wd|phrase)?$|^pass_|^pwd$|secret|token|(^|_)key$|^key_?data$|private_?key|"
                          r"credential|^psk$", re.IGNORECASE)
# The opposite cases: names that look like secrets but never hold one (paths, key
# properties, win_user's update_password choice).
_NOT_SECRET = re.compile(r"^(registry_?key|key_?(path|store|storage|exportable|usage|size|type|algorithm|acl|"
                         r"name|id)|update_password)$|_path$|_file$", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    name = str(name)
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def _is_vaulted(value: t.Any) -> bool:
    """Vault-encrypted values must never be converted to text (that would
    decrypt them)."""
    name = type(value).__name__
    return "Vault" in name or "Encrypted" in name


def item_label(label: t.Any) -> str:
    """A loop item's label for the recording: a string label as written in
    ``loop_control.label``; an item used as its own label (a dict or list)
    with its secret-named keys masked, as JSON; at most 200 characters."""
    if isinstance(label, (dict, list, tuple)):
        return json.dumps(mask_args(label), sort_keys=True, default=str)[:200]
    return to_text(label)[:200]


def mask_args(value: t.Any, *, no_log: bool = False, secret: bool = False) -> t.Any:
    """Arguments made safe to write: every scalar under a secret-looking
    name (or everything, for ``no_log``) becomes ``********``; booleans and
    ``None`` stay, they carry no secret.  ``_ansible_*`` internals go."""
    if isinstance(value, dict):
        return {to_text(k): mask_args(v, no_log=no_log, secret=secret or is_secret_name(k))
                for k, v in value.items() if not to_text(k).startswith("_ansible_")}
    if isinstance(value, list | tuple):
        return [mask_args(v, no_log=no_log, secret=secret) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if _is_vaulted(value):
        return MASK
    if no_log or secret:
        return MASK
    if isinstance(value, int | float):
        return value
    text = to_text(value)
    return NO_LOG_VALUE if text == NO_LOG_VALUE else text


def returned_keys(result: t.Mapping[str, t.Any]) -> list[str]:
    return sorted(to_text(k) for k in result if not to_text(k).startswith("_ansible_"))


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CallbackModule(CallbackBase):
    """Writes the recording.  See DOCUMENTATION."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "mcms.infra.recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: t.Any = None) -> None:
        super().__init__(display=display)
        self._fh: t.IO[str] | None = None
        self._path: str | None = None
        self._play: str = ""
        self._play_check_mode: bool | None = None
        self._seq = 0
        self._changed = 0
        self._failed = 0
        self._playbook = ""

    # -- file handling ---------------------------------------------------------
    def _open(self) -> None:
        if self._fh is not None:
            return
        path = os.path.abspath(os.path.expanduser(to_text(self.get_option("path"))))
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        mode = "a" if self.get_option("append") else "w"
        self._fh = open(path, mode, encoding="utf-8")  # noqa: SIM115 - open for the whole run
        self._path = path

    def _write(self, record: dict[str, t.Any]) -> None:
        self._open()
        assert self._fh is not None
        self._fh.write(json.dumps(record, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n")
        self._fh.flush()

    # -- context -----------------------------------------------------------------
    @staticmethod
    def _cli_check_mode() -> bool:
        return bool(context.CLIARGS.get("check", False))

    def _task_check_mode(self, task: t.Any) -> bool:
        value = getattr(task, "check_mode", None)
        if isinstance(value, bool):
            return value
        if isinstance(self._play_check_mode, bool):
            return self._play_check_mode
        return self._cli_check_mode()

    # -- events --------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: t.Any) -> None:
        self._playbook = to_text(getattr(playbook, "_file_name", "") or "")
        self._write({
            "type": "start",
            "format": RECORD_FORMAT,
            "time": _utc_now(),
            "playbook": self._playbook,
            "ansible_version": ANSIBLE_VERSION,
            "check_mode": self._cli_check_mode(),
            "diff_mode": bool(context.CLIARGS.get("diff", C.DIFF_ALWAYS)),
        })

    def v2_playbook_on_play_start(self, play: t.Any) -> None:
        self._play = to_text(play.get_name()).strip()
        check = getattr(play, "check_mode", None)
        self._play_check_mode = check if isinstance(check, bool) else None

    def _record(self, result: t.Any, status: str, *, ignore_errors: bool = False) -> None:
        task = result.task if hasattr(result, "task") else result._task
        host = result.host if hasattr(result, "host") else result._host
        res = getattr(result, "result", None)
        if res is None:
            res = result._result
        no_log = bool(getattr(task, "no_log", False)) or bool(res.get("_ansible_no_log", False))
        invocation = res.get("invocation")
        if isinstance(invocation, dict) and isinstance(invocation.get("module_args"), dict):
            raw_args, args_source = invocation["module_args"], "invocation"
        else:
            raw_args, args_source = dict(getattr(task, "args", {}) or {}), "task"
        self._seq += 1
        record: dict[str, t.Any] = {
            "type": "task",
            "format": RECORD_FORMAT,
            "seq": self._seq,
            "time": _utc_now(),
            "play": self._play,
            "task": to_text(task.get_name()).strip(),
            "task_path": to_text(task.get_path() or ""),
            "host": to_text(host.get_name()),
            "action": to_text(getattr(task, "resolved_action", None) or task.action),
            "args": mask_args(raw_args, no_log=no_log),
            "args_source": args_source,
            "no_log": no_log,
            "check_mode": self._task_check_mode(task),
            "status": status,
            "changed": bool(res.get("changed", False)),
            "failed": status == "failed",
            "ignored": bool(ignore_errors) and status == "failed",
            "skipped": status == "skipped" or bool(res.get("skipped", False)),
            "unreachable": status == "unreachable",
            "keys": returned_keys(res),
            "diff": bool(res.get("diff")),
        }
        facts = res.get("ansible_facts")
        if isinstance(facts, dict):
            record["fact_keys"] = returned_keys(facts)  # without _ansible_facts_gathered
        items = res.get("results")
        is_loop = getattr(task, "loop", None) is not None or bool(getattr(task, "loop_with", None))
        if is_loop and isinstance(items, list):
            record["items"] = [{
                # the loop_control label (or item) as the screen shows it; never for a no_log item
                **({} if no_log or i.get("_ansible_no_log") or "_ansible_item_label" not in i
                   else {"label": item_label(i["_ansible_item_label"])}),
                "changed": bool(i.get("changed", False)),
                "failed": bool(i.get("failed", False)),
                "skipped": bool(i.get("skipped", False)),
                "keys": returned_keys(i),
            } for i in items if isinstance(i, dict)]
        delegated = (res.get("_ansible_delegated_vars") or {}).get("ansible_host")
        if delegated:
            record["delegated_to"] = to_text(delegated)
        if status == "failed" and not no_log:
            record["msg"] = to_text(res.get("msg", ""))[:2000]
        self._changed += record["changed"]
        self._failed += record["failed"] and not record["ignored"]
        self._write(record)

    def v2_runner_on_ok(self, result: t.Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed", ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result: t.Any) -> None:
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        hosts = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            hosts[to_text(host)] = {k: int(summary.get(k, 0)) for k in
                                    ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")}
        self._write({
            "type": "summary",
            "format": RECORD_FORMAT,
            "time": _utc_now(),
            "playbook": self._playbook,
            "tasks": self._seq,
            "changed": self._changed,
            "failed": self._failed,
            "hosts": hosts,
        })
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._path:
            self._display.vvv(f"recorder: wrote {self._path}")


def _json_default(value: t.Any) -> t.Any:
    if _is_vaulted(value):
        return MASK
    if isinstance(value, set | frozenset):
        return sorted(value)
    return to_text(value)
