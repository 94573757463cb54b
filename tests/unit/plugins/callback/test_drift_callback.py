"""Tests of the ``mcms.infra.drift`` callback: a real check-mode playbook on localhost."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]

PLAYBOOK = """
- name: Drift callback play
  hosts: localhost
  gather_facts: false
  check_mode: true
  diff: true
  vars:
    out: "{{ work }}/out.txt"
  tasks:
    - name: Publish records
      mcms.infra.drift_records:
        resources:
          - {resource_type: iis_site, resource: MCMS, wanted: {state: Started}, found: {state: Stopped}}
          - {resource_type: iis_site, resource: Other, wanted: {state: Started}, found: {state: Started}}
        covers: [Covered task]
    - name: Covered task
      ansible.builtin.debug:
        msg: covered
      changed_when: true
      notify: Restart after the change
    - name: Write a file (diff)
      ansible.builtin.copy:
        content: "new\\n"
        dest: "{{ out }}"
        mode: "0644"
    - name: Change without details
      ansible.builtin.debug:
        msg: "{{ item }}"
      changed_when: true
      loop: [one, two]
    - name: Secret change
      ansible.builtin.debug:
        msg: "{{ secret }}"
      changed_when: true
      no_log: true
    - name: Secret records
      mcms.infra.drift_records:
        records:
          - {resource_type: user, resource: svc, attribute: password, wanted: "{{ secret }}", found: old}
    - name: Only outside check mode
      ansible.builtin.file:
        path: "{{ out }}"
        state: touch
        mode: "0644"
      when: not ansible_check_mode
  handlers:
    - name: Restart after the change
      ansible.builtin.file:
        path: "{{ out }}"
        state: touch
        mode: "0644"
      when: not ansible_check_mode
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("drift-cb")
    (work / "out.txt").write_text("old\n", encoding="utf-8")
    (work / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="mcms.infra.drift", MCMS_DRIFT_REPORT_DIR=str(work / "reports"),
               MCMS_DRIFT_ENV="unit", MCMS_DRIFT_RUN_ID="20260101T000000Z", ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "--check", "-i", "localhost,",
                           "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"work={work}",
                           "-e", "secret=hunter22-secret", str(work / "play.yml")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "out.txt").read_text(encoding="utf-8") == "old\n", "check mode wrote the file"
    doc = json.loads((work / "reports" / "unit" / "latest" / "drift.json").read_text(encoding="utf-8"))
    doc["_dir"] = str(work / "reports")
    return doc


def _by_task(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in report["drift"]:
        out.setdefault(d["task"], []).append(d)
    return out


def test_action_records_are_collected(report: dict) -> None:
    hits = _by_task(report)["Publish records"]
    assert [(d["resource"], d["attribute"], d["wanted"], d["found"], d["source"]) for d in hits] == [
        ("MCMS", "state", "Started", "Stopped", "action")]


def test_covered_task_gives_no_coarse_record(report: dict) -> None:
    assert "Covered task" not in _by_task(report)


def test_diff_becomes_a_record(report: dict) -> None:
    (hit,) = _by_task(report)["Write a file (diff)"]
    assert hit["source"] == "diff"
    assert hit["wanted"] == "new\n"
    assert hit["found"] == "old\n"


def test_changed_loop_items_give_coarse_records(report: dict) -> None:
    hits = [d for d in report["drift"] if d["task"].startswith("Change without details")]
    assert sorted(d["resource"] for d in hits) == ["one", "two"]
    assert all(d["coarse"] and d["source"] == "coarse" for d in hits)


def test_secrets_are_masked(report: dict) -> None:
    """A no_log result reaches callbacks censored: a coarse record, no value; a record of a
    secret attribute is masked by the action."""
    (hit,) = _by_task(report)["Secret change"]
    assert hit["coarse"]
    assert "hunter22" not in json.dumps(hit)
    (hit,) = _by_task(report)["Secret records"]
    assert hit["wanted"] == "********"
    assert hit["found"] == "********"
    for path in pathlib.Path(report["_dir"]).rglob("*.*"):
        assert "hunter22" not in path.read_text(encoding="utf-8"), path


def test_task_skipped_for_check_mode_is_listed(report: dict) -> None:
    """A task is listed; a handler is not: handlers only restart, recycle or reboot (house style), so
    the change that notified it is the drift, already reported."""
    assert [c["task"] for c in report["could_not_check"]] == ["Only outside check mode"]


def test_status_and_exit_code(report: dict) -> None:
    assert report["status"] == "drift"
    assert report["exit_code"] == 3
