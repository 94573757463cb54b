"""Tests of the fidelity comparison (``fidelity.py``)."""

from __future__ import annotations

import copy
import json
import typing as t
from pathlib import Path

import pytest

from winsim import fidelity
from winsim.fidelity import Recording, RecordingError

START = {"type": "start", "format": 1, "ansible_version": "2.21.5", "check_mode": False, "diff_mode": False}


def _task(task: str, host: str = "web1", **fields: t.Any) -> dict[str, t.Any]:
    record = {"type": "task", "format": 1, "play": "Web tier", "task": task, "host": host, "status": "ok",
              "action": "ansible.windows.win_feature", "changed": False, "failed": False, "skipped": False,
              "unreachable": False, "diff": False, "keys": ["changed", "exitcode", "feature_result"]}
    record.update(fields)
    return record


def _rec(tasks: list[dict[str, t.Any]], start: dict[str, t.Any] | None = None) -> Recording:
    return Recording(path="x", start=dict(start or START), tasks=tasks, summary=None)


def _compare(real: list[dict[str, t.Any]], sim: list[dict[str, t.Any]], **kw: t.Any) -> fidelity.FidelityReport:
    return fidelity.compare(_rec(real), _rec(sim), **kw)


def test_identical_recordings() -> None:
    tasks = [_task("Install IIS"), _task("Install tools")]
    report = _compare(tasks, copy.deepcopy(tasks))
    assert (report.identical, report.matched, report.differences) == (True, 2, [])


@pytest.mark.parametrize(("field", "real", "sim"), [
    ("changed", True, False), ("failed", False, True), ("skipped", True, False), ("unreachable", False, True),
    ("status", "ok", "failed"), ("action", "ansible.windows.win_feature", "ansible.windows.win_package"),
    ("diff", True, False),
])
def test_field_difference(field: str, real: t.Any, sim: t.Any) -> None:
    (diff,) = _compare([_task("Install IIS", **{field: real})], [_task("Install IIS", **{field: sim})]).differences
    assert (diff.kind, diff.field, diff.real, diff.sim) == ("field", field, real, sim)


def test_returned_key_difference_lists_both_sides() -> None:
    (diff,) = _compare([_task("Install IIS", keys=["changed", "exitcode", "reboot_required"])],
                       [_task("Install IIS", keys=["changed", "exitcode", "success"])]).differences
    assert (diff.kind, diff.real, diff.sim) == ("keys", ["reboot_required"], ["success"])


def test_ignored_keys_are_not_differences() -> None:
    report = _compare([_task("Install IIS", keys=["changed", "invocation"])], [_task("Install IIS", keys=["changed"])],
                      ignore_keys=["invocation"])
    assert report.identical


def test_fact_keys_are_compared() -> None:
    (diff,) = _compare([_task("Gathering Facts", fact_keys=["ansible_os_family", "ansible_bios_date"])],
                       [_task("Gathering Facts", fact_keys=["ansible_os_family"])]).differences
    assert (diff.kind, diff.real, diff.sim) == ("fact_keys", ["ansible_bios_date"], [])


def test_missing_and_extra_tasks() -> None:
    report = _compare([_task("Install IIS"), _task("Only real")], [_task("Install IIS"), _task("Only sim")])
    assert [(d.kind, d.task) for d in report.differences] == [("missing", "Only real"), ("extra", "Only sim")]


def test_hosts_are_matched_separately() -> None:
    report = _compare([_task("Install IIS", host="web1"), _task("Install IIS", host="web2")],
                      [_task("Install IIS", host="web1")])
    assert [(d.kind, d.host) for d in report.differences] == [("missing", "web2")]


def test_repeated_tasks_are_matched_by_occurrence() -> None:
    report = _compare([_task("Restart pool", changed=True), _task("Restart pool", changed=False)],
                      [_task("Restart pool", changed=True), _task("Restart pool", changed=True)])
    (diff,) = report.differences
    assert (diff.occurrence, diff.field) == (1, "changed")


def test_host_map_renames_real_hosts() -> None:
    report = _compare([_task("Install IIS", host="web01.corp.example")], [_task("Install IIS", host="web1")],
                      host_map={"web01.corp.example": "web1"})
    assert report.identical


@pytest.mark.parametrize(("real_items", "sim_items", "field"), [
    ([{"changed": True, "keys": ["changed"]}], [], "items"),
    ([{"changed": True, "keys": ["changed"]}], [{"changed": False, "keys": ["changed"]}], "items[0].changed"),
    ([{"changed": True, "keys": ["changed", "a"]}], [{"changed": True, "keys": ["changed"]}], "items[0].keys"),
])
def test_loop_items_are_compared(real_items: list[dict[str, t.Any]], sim_items: list[dict[str, t.Any]],
                                 field: str) -> None:
    (diff,) = _compare([_task("Loop", items=real_items)], [_task("Loop", items=sim_items)]).differences
    assert diff.field == field


def test_version_mismatch_is_a_note_not_a_difference() -> None:
    report = fidelity.compare(_rec([_task("A")], dict(START, ansible_version="2.19.14")), _rec([_task("A")]))
    assert (report.identical, report.notes) == (True, ["ansible_version differs: real=2.19.14 sim=2.21.5"])


def test_format_lists_each_difference() -> None:
    text = _compare([_task("Install IIS", changed=True)], [_task("Install IIS")]).format()
    assert text.splitlines()[1] == "- [web1] Web tier / Install IIS: changed: real=true sim=false"


def test_as_dict_is_json() -> None:
    doc = _compare([_task("A", changed=True)], [_task("A")]).as_dict()
    assert json.loads(json.dumps(doc))["differences"][0]["field"] == "changed"


def _write(path: Path, lines: list[t.Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_load_recording_reads_the_three_record_types(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.jsonl", [START, _task("A"), {"type": "summary", "format": 1, "tasks": 1}, ""])
    rec = fidelity.load_recording(path)
    assert (rec.start["ansible_version"], len(rec.tasks), rec.summary["tasks"]) == ("2.21.5", 1, 1)


@pytest.mark.parametrize(("lines", "message"), [
    (["garbage"], "not a JSON line"),
    ([{"type": "other"}], "not a recorder record"),
    ([dict(START, format=2)], "unsupported recording format 2"),
    ([], "empty recording"),
])
def test_load_recording_rejects_other_files(tmp_path: Path, lines: list[t.Any], message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        fidelity.load_recording(_write(tmp_path / "r.jsonl", lines))


def test_load_missing_recording(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot read recording"):
        fidelity.load_recording(tmp_path / "nope.jsonl")
