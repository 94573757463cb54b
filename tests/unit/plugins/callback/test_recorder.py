"""Tests of the ``mcms.infra.recorder`` callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from ansible_collections.mcms.infra.plugins.callback import recorder

REPO = Path(__file__).resolve().parents[4]

PLAYBOOK = """
- name: Recorder play
  hosts: localhost
  gather_facts: false
  vars:
    out: "{{ work }}/out.txt"
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        content: hello
        dest: "{{ out }}"
        mode: "0644"
    - name: Write it again
      ansible.builtin.copy:
        content: hello
        dest: "{{ out }}"
        mode: "0644"
    - name: Read the recording written so far
      ansible.builtin.assert:
        that:
          - lookup('ansible.builtin.file', recording).splitlines() | length == 3
    - name: Change it in check mode with diff
      ansible.builtin.copy:
        content: other
        dest: "{{ out }}"
        mode: "0644"
      check_mode: true
      diff: true
    - name: Keep a token
      ansible.builtin.set_fact:
        api_token: s3cr3t-token
        colour: blue
    - name: Keep a secret quietly
      ansible.builtin.set_fact:
        anything: s3cr3t-quiet
      no_log: true
    - name: Skip this
      ansible.builtin.debug:
        msg: never
      when: false
    - name: Fail and carry on
      ansible.builtin.fail:
        msg: expected failure
      ignore_errors: true
    - name: Gather a few facts
      ansible.builtin.setup:
        gather_subset:
          - "!all"
          - "!min"
          - env
    - name: Loop over items
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [a, b]
    - name: Loop with labels
      ansible.builtin.debug:
        msg: "{{ item.name }}"
      loop: [{name: web, port: 443}, {name: api, port: 8443}]
      loop_control:
        label: "{{ item.name }}:{{ item.port }}"
    - name: Loop over accounts
      ansible.builtin.debug:
        msg: "{{ item.name }}"
      loop: [{name: svc, password: s3cr3t-item}]
    - name: Loop quietly
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [s3cr3t-label]
      no_log: true
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, t.Any]]:
    work = tmp_path_factory.mktemp("recorder")
    (work / "pb.yml").write_text(PLAYBOOK)
    (work / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    path = work / "rec" / "run.jsonl"
    env = dict(os.environ,
               ANSIBLE_CONFIG=str(work / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
               ANSIBLE_CALLBACKS_ENABLED="mcms.infra.recorder",
               MCMS_RECORDER_PATH=str(path),
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "ansible", "playbook", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"work={work}", "-e", f"recording={path}",
         str(work / "pb.yml")],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [json.loads(line) for line in path.read_text().splitlines()]


def _task(recording: list[dict[str, t.Any]], name: str) -> dict[str, t.Any]:
    (record,) = [r for r in recording if r["type"] == "task" and r["task"] == name]
    return record


# -- pure functions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "secret"), [
    ("password", True), ("sql_password", True), ("BecomePassword", True), ("become_pass", True),
    ("client_secret", True), ("api_token", True), ("private_key", True), ("key", True), ("privatekey", True),
    ("sql_credential", True), ("pwd", True),
    ("key_exportable", False), ("key_storage", False), ("privatekey_path", False), ("name", False),
    ("thumbprint", False), ("path", False), ("registry_key", False), ("update_password", False),
])
def test_is_secret_name(name: str, secret: bool) -> None:
    assert recorder.is_secret_name(name) is secret


def test_mask_args_masks_secret_names_at_any_depth() -> None:
    args = {"name": "svc", "logins": [{"login": "app", "password": "pw"}], "extra": {"token": {"a": "x"}}}
    assert recorder.mask_args(args) == {"name": "svc", "logins": [{"login": "app", "password": "********"}],
                                        "extra": {"token": {"a": "********"}}}


def test_mask_args_keeps_booleans_and_none_under_secret_names() -> None:
    assert recorder.mask_args({"password": None, "key": True}) == {"password": None, "key": True}


def test_mask_args_no_log_masks_every_value() -> None:
    assert recorder.mask_args({"a": "x", "b": 5, "c": ["y"]}, no_log=True) == {
        "a": "********", "b": "********", "c": ["********"]}


def test_mask_args_drops_ansible_internals() -> None:
    assert recorder.mask_args({"_ansible_check_mode": True, "name": "x"}) == {"name": "x"}


def test_mask_args_never_decrypts_vaulted_values() -> None:
    class AnsibleVaultEncryptedUnicode:
        def __str__(self) -> str:
            raise AssertionError("decrypted")

    assert recorder.mask_args({"msg": AnsibleVaultEncryptedUnicode()}) == {"msg": "********"}


def test_returned_keys_are_sorted_without_internals() -> None:
    assert recorder.returned_keys({"b": 1, "a": 2, "_ansible_no_log": False}) == ["a", "b"]


# -- a real run -------------------------------------------------------------------------------

def test_recording_starts_with_a_start_record(recording: list[dict[str, t.Any]]) -> None:
    start = recording[0]
    assert (start["type"], start["format"], start["check_mode"]) == ("start", 1, False)


def test_recording_ends_with_a_summary(recording: list[dict[str, t.Any]]) -> None:
    summary = recording[-1]
    assert (summary["type"], summary["tasks"], summary["hosts"]["localhost"]["ignored"]) == ("summary", 13, 1)


def test_changed_task(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Write a file")
    assert (record["action"], record["changed"], record["status"], record["host"], record["play"]) == (
        "ansible.builtin.copy", True, "ok", "localhost", "Recorder play")


def test_idempotent_task_is_not_changed(recording: list[dict[str, t.Any]]) -> None:
    assert _task(recording, "Write it again")["changed"] is False


def test_each_line_is_flushed_before_the_next_task(recording: list[dict[str, t.Any]]) -> None:
    assert _task(recording, "Read the recording written so far")["failed"] is False


def test_check_mode_and_diff_are_recorded(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Change it in check mode with diff")
    assert (record["check_mode"], record["changed"], record["diff"]) == (True, True, True)


def test_secret_named_args_are_masked(recording: list[dict[str, t.Any]]) -> None:
    assert _task(recording, "Keep a token")["args"] == {"api_token": "********", "colour": "blue"}


def test_no_log_task_is_fully_masked(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Keep a secret quietly")
    assert (record["no_log"], record["args"], record["keys"]) == (True, {"anything": "********"},
                                                                  ["censored", "changed"])


def test_no_secret_reaches_the_file(recording: list[dict[str, t.Any]]) -> None:
    assert "s3cr3t" not in json.dumps(recording)


def test_skipped_task(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Skip this")
    assert (record["skipped"], record["status"]) == (True, "skipped")


def test_ignored_failure(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Fail and carry on")
    assert (record["failed"], record["ignored"], record["msg"]) == (True, True, "expected failure")


def test_loop_items(recording: list[dict[str, t.Any]]) -> None:
    record = _task(recording, "Loop over items")
    assert [i["changed"] for i in record["items"]] == [False, False]


def test_loop_items_carry_their_label(recording: list[dict[str, t.Any]]) -> None:
    assert [i["label"] for i in _task(recording, "Loop with labels")["items"]] == ["web:443", "api:8443"]


def test_item_used_as_label_has_its_secrets_masked(recording: list[dict[str, t.Any]]) -> None:
    (item,) = _task(recording, "Loop over accounts")["items"]
    assert json.loads(item["label"]) == {"name": "svc", "password": "********"}


def test_no_log_loop_items_have_no_label(recording: list[dict[str, t.Any]]) -> None:
    assert ["label" in i for i in _task(recording, "Loop quietly")["items"]] == [False]


def test_fact_keys_leave_out_ansible_internals(recording: list[dict[str, t.Any]]) -> None:
    assert _task(recording, "Gather a few facts")["fact_keys"] == ["ansible_env", "gather_subset", "module_setup"]


def test_task_path_points_at_the_playbook(recording: list[dict[str, t.Any]]) -> None:
    assert _task(recording, "Write a file")["task_path"].endswith("pb.yml:8")
