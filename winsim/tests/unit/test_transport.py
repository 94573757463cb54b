"""Models behind ansible.windows' file-transfer action plugins: win_copy
(query, single, explode, remote), win_stat, slurp."""

from __future__ import annotations

import base64
import hashlib
import io
import typing as t
import zipfile

import pytest

from winsim import state as st
from winsim.runtime import HostRuntime

COPY = "ansible.windows.win_copy"
TMP = "C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-tmp-1-2-3"
WHEN = "2026-02-01T10:00:00Z"


@pytest.fixture
def tmp_source(host_runtime: HostRuntime) -> t.Callable[[str, bytes], str]:
    """Put a file into an Ansible temp dir, as put_file does."""
    host_runtime.make_tmp_dir(TMP)

    def put(name: str, data: bytes) -> str:
        path = f"{TMP}\\{name}"
        host_runtime.write_tmp(path, data)
        return path

    return put


@pytest.fixture
def host(fresh_state: dict[str, t.Any]) -> dict[str, t.Any]:
    st.make_dirs(fresh_state, "C:\\data\\sub", WHEN)
    st.write_file(fresh_state, "C:\\data\\a.txt", b"alpha", WHEN)
    st.write_file(fresh_state, "C:\\data\\sub\\b.txt", b"beta!", WHEN)
    return fresh_state


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


# -- query ---------------------------------------------------------------------------------

def test_query_lists_new_and_different_files(run_module: t.Any, host: dict[str, t.Any]) -> None:
    files = [
        {"src": "/ctl/a.txt", "dest": "a.txt", "checksum": _sha1(b"alpha")},
        {"src": "/ctl/new.txt", "dest": "new.txt", "checksum": _sha1(b"new")},
        {"src": "/ctl/b.txt", "dest": "sub\\b.txt", "checksum": _sha1(b"other")},
    ]
    result, state = run_module(COPY, {"_copy_mode": "query", "dest": "C:\\data", "files": files,
                                      "directories": [{"src": "/ctl/d", "dest": "d"}, {"src": "/ctl/s", "dest": "sub"}],
                                      "symlinks": [], "force": True}, state=host)
    assert result == {"changed": False, "files": files[1:], "directories": [{"src": "/ctl/d", "dest": "d"}],
                      "symlinks": []}
    assert state == host


def test_query_without_force_keeps_existing_files(run_module: t.Any, host: dict[str, t.Any]) -> None:
    files = [{"src": "/ctl/a.txt", "dest": "a.txt", "checksum": _sha1(b"changed")}]
    result, _ = run_module(COPY, {"_copy_mode": "query", "dest": "C:\\data", "files": files, "force": False},
                           state=host)
    assert result["files"] == []


def test_query_into_a_directory_uses_the_source_name(run_module: t.Any, host: dict[str, t.Any]) -> None:
    files = [{"src": "/ctl/a.txt", "dest": "data", "checksum": _sha1(b"alpha")}]
    result, _ = run_module(COPY, {"_copy_mode": "query", "dest": "C:\\", "files": files}, state=host)
    assert result["files"] == []


def test_query_file_over_a_file_parent_fails(run_module: t.Any, host: dict[str, t.Any]) -> None:
    dirs = [{"src": "/ctl/x", "dest": "a.txt\\x"}]
    result, _ = run_module(COPY, {"_copy_mode": "query", "dest": "C:\\data", "directories": dirs}, state=host)
    assert result["failed"] is True
    assert result["msg"] == ("cannot copy folder to dest 'C:\\data\\a.txt\\x': object at parent directory path is "
                             "already a file")


# -- single ----------------------------------------------------------------------------------------

def test_single_copies_the_transferred_file(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    src = tmp_source("source", b"hello\n")
    result, state = run_module(COPY, {"_copy_mode": "single", "src": src, "dest": "C:\\data\\x.txt",
                                      "_original_basename": "x.txt"}, state=host)
    assert result == {"changed": True}
    assert st.read_file(state, "C:\\data\\x.txt") == b"hello\n"


def test_single_into_directory_uses_original_basename(run_module: t.Any, host: dict[str, t.Any],
                                                      tmp_source: t.Any) -> None:
    src = tmp_source("source", b"hello\n")
    _, state = run_module(COPY, {"_copy_mode": "single", "src": src, "dest": "C:\\data\\",
                                 "_original_basename": "x.txt"}, state=host)
    assert st.read_file(state, "C:\\data\\x.txt") == b"hello\n"


def test_single_into_missing_directory_fails(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    src = tmp_source("source", b"hello\n")
    result, _ = run_module(COPY, {"_copy_mode": "single", "src": src, "dest": "C:\\nope\\x.txt"}, state=host)
    assert result["msg"] == "Destination directory 'C:\\nope' does not exist"


def test_single_with_backup(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    src = tmp_source("source", b"new")
    result, state = run_module(COPY, {"_copy_mode": "single", "src": src, "dest": "C:\\data\\a.txt",
                                      "backup": True}, state=host)
    backup = result["backup_file"]
    assert backup.startswith("C:\\data\\a.txt.")
    assert backup.endswith(".bak")
    assert st.read_file(state, backup) == b"alpha"
    assert st.read_file(state, "C:\\data\\a.txt") == b"new"


def test_single_missing_source_fails(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    result, _ = run_module(COPY, {"_copy_mode": "single", "src": f"{TMP}\\gone", "dest": "C:\\data\\x"}, state=host)
    assert result["msg"] == f"Cannot copy src file: '{TMP}\\gone' as it does not exist"


# -- explode -----------------------------------------------------------------------------------------

def _action_zip(entries: dict[str, bytes | None]) -> bytes:
    """A zip as win_copy's action plugin builds it: base64 entry names,
    directories with a trailing '/'."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            encoded = base64.b64encode(name.encode()).decode()
            if data is None:
                zf.writestr(encoded + "/", b"")
            else:
                zf.writestr(encoded, data)
    return buf.getvalue()


def test_explode_extracts_files_and_directories(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    src = tmp_source("source.zip", _action_zip({"tree": None, "tree/empty": None, "tree/a.txt": b"A",
                                                "tree/sub/ü.txt": b"U"}))
    result, state = run_module(COPY, {"_copy_mode": "explode", "src": src, "dest": "C:\\data\\"}, state=host)
    assert result["changed"] is True
    assert st.read_file(state, "C:\\data\\tree\\a.txt") == b"A"
    assert st.read_file(state, "C:\\data\\tree\\sub\\ü.txt") == b"U"
    assert st.get_item(state, "C:\\data\\tree\\empty")["type"] == "directory"


def test_explode_in_check_mode_changes_nothing(run_module: t.Any, host: dict[str, t.Any], tmp_source: t.Any) -> None:
    src = tmp_source("source.zip", _action_zip({"a.txt": b"A"}))
    result, state = run_module(COPY, {"_copy_mode": "explode", "src": src, "dest": "C:\\new\\"}, state=host,
                               check_mode=True)
    assert result["changed"] is True
    assert state == host


# -- remote --------------------------------------------------------------------------------------------

def test_remote_file_copy_rhythm(run_module: t.Any, host: dict[str, t.Any]) -> None:
    args = {"_copy_mode": "remote", "src": "C:\\data\\a.txt", "dest": "C:\\data\\c.txt"}
    check, state = run_module(COPY, args, state=host, check_mode=True)
    assert check["changed"] is True
    assert check["size"] is None
    assert state == host
    applied, state = run_module(COPY, args, state=host)
    assert applied == {"changed": True, "src": "C:\\data\\a.txt", "dest": "C:\\data\\c.txt",
                       "operation": "file_copy", "original_basename": "a.txt", "checksum": _sha1(b"alpha"), "size": 5}
    again, state2 = run_module(COPY, args, state=state)
    assert again["changed"] is False
    assert state2 == state


def test_remote_folder_copy_with_and_without_trailing_slash(run_module: t.Any, host: dict[str, t.Any]) -> None:
    _, with_dir = run_module(COPY, {"_copy_mode": "remote", "src": "C:\\data", "dest": "C:\\backup"}, state=host)
    assert st.read_file(with_dir, "C:\\backup\\data\\sub\\b.txt") == b"beta!"
    result, contents = run_module(COPY, {"_copy_mode": "remote", "src": "C:\\data\\", "dest": "C:\\flat"},
                                  state=host, diff=True)
    assert st.read_file(contents, "C:\\flat\\sub\\b.txt") == b"beta!"
    assert result["operation"] == "folder_copy"
    assert result["size"] == 10
    assert "+C:\\flat\\a.txt\n" in result["diff"]["prepared"]


def test_remote_missing_source_fails(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, _ = run_module(COPY, {"_copy_mode": "remote", "src": "C:\\none", "dest": "C:\\x"}, state=host)
    assert result["msg"] == "Cannot copy src file: 'C:\\none' as it does not exist"


def test_remote_file_onto_a_directory_name_goes_inside(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, state = run_module(COPY, {"_copy_mode": "remote", "src": "C:\\data\\a.txt", "dest": "C:\\data\\sub"},
                               state=host)
    assert result["dest"] == "C:\\data\\sub\\a.txt"
    assert st.read_file(state, "C:\\data\\sub\\a.txt") == b"alpha"


# -- win_stat ------------------------------------------------------------------------------------------

def test_stat_missing(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, _ = run_module("ansible.windows.win_stat", {"path": "C:\\none"}, state=host)
    assert result == {"changed": False, "stat": {"exists": False}}


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_stat_file_checksums(run_module: t.Any, host: dict[str, t.Any], algorithm: str) -> None:
    result, _ = run_module("ansible.windows.win_stat", {"path": "c:\\DATA\\a.txt", "checksum_algorithm": algorithm},
                           state=host)
    assert result["stat"]["checksum"] == hashlib.new(algorithm, b"alpha").hexdigest()


def test_stat_file_keys(run_module: t.Any, host: dict[str, t.Any]) -> None:
    stat = run_module("ansible.windows.win_stat", {"path": "C:\\data\\a.txt"}, state=host)[0]["stat"]
    assert stat["path"] == "C:\\data\\a.txt"
    assert stat["filename"] == "a.txt"
    assert stat["extension"] == ".txt"
    assert stat["attributes"] == "Archive"
    assert (stat["isreg"], stat["isdir"], stat["islnk"], stat["isarchive"]) == (True, False, False, True)
    assert stat["size"] == 5
    assert stat["lastwritetime"] == 1769940000.0
    assert stat["owner"] == "BUILTIN\\Administrators"


def test_stat_directory_size_and_no_checksum(run_module: t.Any, host: dict[str, t.Any]) -> None:
    stat = run_module("ansible.windows.win_stat", {"path": "C:\\data"}, state=host)[0]["stat"]
    assert stat["isdir"] is True
    assert stat["attributes"] == "Directory"
    assert stat["size"] == 10
    assert "checksum" not in stat


def test_stat_without_size(run_module: t.Any, host: dict[str, t.Any]) -> None:
    stat = run_module("ansible.windows.win_stat", {"path": "C:\\data\\a.txt", "get_size": False,
                                                   "get_checksum": False}, state=host)[0]["stat"]
    assert "size" not in stat
    assert "checksum" not in stat


# -- slurp ------------------------------------------------------------------------------------------------

def test_slurp(run_module: t.Any, host: dict[str, t.Any]) -> None:
    result, _ = run_module("ansible.windows.slurp", {"src": "C:\\data\\a.txt"}, state=host)
    assert result == {"changed": False, "content": base64.b64encode(b"alpha").decode(), "encoding": "base64"}


@pytest.mark.parametrize(("path", "msg"), [
    ("C:\\data", "Path C:\\data is a directory"),
    ("C:\\none.txt", "Path C:\\none.txt is not found"),
])
def test_slurp_failures(run_module: t.Any, host: dict[str, t.Any], path: str, msg: str) -> None:
    result, _ = run_module("ansible.windows.slurp", {"path": path}, state=host)
    assert result["failed"] is True
    assert result["msg"] == msg
