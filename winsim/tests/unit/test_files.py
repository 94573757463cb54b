"""Tests of the ``ansible.windows.win_file`` and ``ansible.windows.win_find`` models."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from winsim_files_support import NOW, fresh, run

from winsim import state as st
from winsim.models._base import MODELS, Faults

FILE = "ansible.windows.win_file"
FIND = "ansible.windows.win_find"


def _write(state, path, data=b"x", when="2026-01-10T00:00:00Z", attributes=None):
    st.make_dirs(state, st.parent(path), when)
    item = st.write_file(state, path, data, when)
    if attributes is not None:
        item["attributes"] = attributes
    return item


@pytest.mark.parametrize("fqcn", [FILE, FIND])
def test_models_name_upstream_version(fqcn):
    assert MODELS[fqcn].upstream == "ansible.windows 3.8.0"


@pytest.mark.parametrize("path", ["D:\\Sites\\mcms\\wwwroot", "C:\\inetpub\\logs\\a\\b"])
def test_directory_check_apply_idempotent(path):
    state = fresh()
    checked = run(FILE, state, check=True, path=path, state="directory")
    assert checked["changed"] is True
    assert checked.untouched
    applied = run(FILE, state, path=path, state="directory")
    assert applied["changed"] is True
    assert st.get_item(state, path)["type"] == "directory"
    assert st.exists(state, st.parent(path))
    again = run(FILE, state, path=path, state="directory")
    assert again["changed"] is False


def test_absent_removes_tree_and_is_idempotent():
    state = fresh()
    _write(state, "D:\\app\\bin\\a.dll")
    checked = run(FILE, state, check=True, path="D:\\app", state="absent")
    assert checked["changed"] is True
    assert checked.untouched
    assert run(FILE, state, path="D:\\app", state="absent")["changed"] is True
    assert not st.exists(state, "D:\\app\\bin\\a.dll")
    assert not st.exists(state, "D:\\app")
    assert run(FILE, state, path="D:\\app", state="absent")["changed"] is False


def test_touch_creates_empty_file_and_always_reports_change():
    state = fresh()
    first = run(FILE, state, path="C:\\Windows\\Temp\\marker.txt", state="touch")
    assert first["changed"] is True
    item = st.get_item(state, "C:\\Windows\\Temp\\marker.txt")
    assert item["size"] == 0
    later = NOW + dt.timedelta(minutes=5)
    second = run(FILE, state, now=later, path="C:\\Windows\\Temp\\marker.txt", state="touch")
    assert second["changed"] is True
    assert st.get_item(state, "C:\\Windows\\Temp\\marker.txt")["modified"] == st.iso(later)


def test_touch_in_check_mode_leaves_state():
    state = fresh()
    res = run(FILE, state, check=True, path="C:\\Windows\\Temp\\marker.txt", state="touch")
    assert res["changed"] is True
    assert res.untouched


def test_touch_with_explicit_time_is_idempotent():
    state = fresh()
    args = {"path": "C:\\Windows\\Temp\\m.txt", "state": "touch", "modification_time": "2025-12-29 12:34:56",
            "access_time": "2025-12-29 12:34:56"}
    assert run(FILE, state, **args)["changed"] is True
    assert st.get_item(state, "C:\\Windows\\Temp\\m.txt")["modified"] == "2025-12-29T12:34:56Z"
    assert run(FILE, state, **args)["changed"] is False


def test_touch_time_with_zone_offset():
    state = fresh()
    run(FILE, state, path="C:\\Windows\\Temp\\m.txt", state="touch", modification_time="2025-12-29 12:34:56 +2",
        modification_time_format="yyyy-MM-dd HH:mm:ss z")
    assert st.get_item(state, "C:\\Windows\\Temp\\m.txt")["modified"] == "2025-12-29T10:34:56Z"


@pytest.mark.parametrize(("option", "value"), [("modification_time", "yesterday"), ("access_time", "2025/01/01")])
def test_invalid_time_fails_like_module(option, value):
    res = run(FILE, fresh(), path="C:\\Windows\\Temp\\m.txt", state="touch", **{option: value})
    assert res["failed"] is True
    assert res["msg"] == f"Invalid {option} '{value}'"


def test_touch_without_parent_is_an_unhandled_exception():
    res = run(FILE, fresh(), path="C:\\nope\\m.txt", state="touch")
    assert res["msg"] == ("Unhandled exception while executing module: "
                          "Could not find a part of the path 'C:\\nope\\m.txt'.")


@pytest.mark.parametrize(("state_arg", "existing", "msg"), [
    ("directory", "file", "path {p} is not a directory"),
    ("file", "directory", "path {p} is not a file"),
    ("file", None, "path {p} will not be created"),
])
def test_type_conflicts_fail(state_arg, existing, msg):
    state = fresh()
    path = "D:\\data\\thing"
    if existing == "file":
        _write(state, path)
    elif existing == "directory":
        st.make_dirs(state, path, "2026-01-10T00:00:00Z")
    res = run(FILE, state, path=path, state=state_arg)
    assert res["failed"] is True
    assert res["msg"] == msg.format(p=path)


def test_existing_directory_times_not_changed_without_touch():
    # Upstream only applies time stamps on touch or on creation.
    state = fresh()
    st.make_dirs(state, "D:\\x", "2026-01-10T00:00:00Z")
    res = run(FILE, state, path="D:\\x", state="directory", modification_time="2020-01-01 00:00:00")
    assert res["changed"] is False
    assert st.get_item(state, "D:\\x")["modified"] == "2026-01-10T00:00:00Z"


def test_directory_on_missing_drive_fails():
    res = run(FILE, fresh(), path="Q:\\x", state="directory")
    assert res["msg"] == "Cannot find drive. A drive with the name 'Q' does not exist."


def test_state_omitted_file_path_will_not_be_created():
    res = run(FILE, fresh(), path="D:\\x.txt")
    assert res["msg"] == "path D:\\x.txt will not be created"


def test_touch_disk_full_fault():
    res = run(FILE, fresh(), faults=Faults([{"kind": "disk_full", "target": "C:"}]),
              path="C:\\Windows\\Temp\\x.txt", state="touch")
    assert res["failed"] is True
    assert "not enough space" in res["msg"]


# -- win_find ------------------------------------------------------------------

@pytest.fixture
def tree():
    state = fresh()
    _write(state, "D:\\logs\\app.log", b"a" * 2048, when="2026-02-01T00:00:00Z")
    _write(state, "D:\\logs\\old.log", b"b" * 10, when="2025-01-01T00:00:00Z")
    _write(state, "D:\\logs\\hidden.log", b"c", attributes=["Hidden", "Archive"])
    _write(state, "D:\\logs\\sub\\deep.out", b"d" * 5, when="2026-03-01T00:00:00Z")
    _write(state, "D:\\logs\\sub\\deeper\\x.txt", b"e")
    return state


def _names(res):
    return [f["filename"] for f in res["files"]]


def test_find_defaults_lists_visible_files_only(tree):
    res = run(FIND, tree, paths=["D:\\logs"])
    assert res["changed"] is False
    assert _names(res) == ["app.log", "old.log"]
    assert res["examined"] == 4
    assert res["matched"] == 2


def test_find_returns_documented_keys_and_real_checksum(tree):
    res = run(FIND, tree, paths=["D:\\logs"], patterns=["app.*"], checksum_algorithm="sha256")
    (info,) = res["files"]
    assert set(info) == {
        "attributes", "checksum", "creationtime", "exists", "extension", "filename", "hlnk_targets", "isarchive",
        "isdir", "ishidden", "isjunction", "islnk", "isreadonly", "isreg", "isshared", "lastaccesstime",
        "lastwritetime", "lnk_source", "lnk_target", "nlink", "owner", "path", "sharename", "size"}
    assert info["checksum"] == hashlib.sha256(b"a" * 2048).hexdigest()
    assert info["path"] == "D:\\logs\\app.log"
    assert info["extension"] == ".log"
    assert info["size"] == 2048
    assert info["attributes"] == "Archive"
    assert info["lastwritetime"] == int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(("args", "expected"), [
    ({"recurse": True}, ["app.log", "deep.out", "old.log", "x.txt"]),
    ({"recurse": True, "depth": 2}, ["app.log", "deep.out", "old.log"]),
    ({"hidden": True}, ["app.log", "hidden.log", "old.log"]),
    ({"patterns": ["*.OUT"], "recurse": True}, ["deep.out"]),
    ({"patterns": [r"^(app|old)\.log$"], "use_regex": True}, ["app.log", "old.log"]),
    ({"patterns": ["^APP"], "use_regex": True, "case_sensitive": True}, []),
    ({"size": "1k"}, ["app.log"]),
    ({"size": "-10"}, ["old.log"]),
    ({"age": "5w"}, ["old.log"]),
    ({"age": "-30d", "recurse": True}, ["app.log", "deep.out"]),
    ({"file_type": "directory", "recurse": True}, ["deeper", "sub"]),
])
def test_find_filters(tree, args, expected):
    res = run(FIND, tree, paths=["D:\\logs"], **args)
    assert sorted(_names(res)) == expected


def test_find_directory_entries_have_no_size_or_checksum(tree):
    res = run(FIND, tree, paths=["D:\\logs"], file_type="directory")
    (info,) = res["files"]
    assert info["isdir"] is True
    assert info["size"] is None
    assert info["checksum"] is None
    assert info["attributes"] == "Directory"


@pytest.mark.parametrize(("option", "value", "msg"), [
    ("age", "3y", "Invalid age pattern specified"),
    ("size", "12q", "Invalid size pattern specified"),
])
def test_find_invalid_patterns_fail(tree, option, value, msg):
    res = run(FIND, tree, paths=["D:\\logs"], **{option: value})
    assert res["failed"] is True
    assert res["msg"] == msg


def test_find_missing_and_file_paths_warn(tree):
    res = run(FIND, tree, paths=["D:\\nope", "D:\\logs\\app.log"])
    assert res["files"] == []
    assert res["warnings"] == [
        "Argument path 'D:\\nope' does not exist or is not accessible, skipping",
        "Argument path 'D:\\logs\\app.log' is a file not a directory, skipping",
    ]


def test_find_results_sorted_across_paths(tree):
    _write(tree, "C:\\Windows\\Temp\\a.log")
    res = run(FIND, tree, paths=["D:\\logs", "C:\\Windows\\Temp"], patterns=["*.log"], get_checksum=False)
    assert [f["path"] for f in res["files"]] == ["C:\\Windows\\Temp\\a.log", "D:\\logs\\app.log", "D:\\logs\\old.log"]
    assert res["files"][0]["checksum"] is None
