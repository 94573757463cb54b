"""Tests of the ``community.windows.win_unzip`` and ``win_robocopy`` models."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest
from winsim_files_support import fresh, run

from winsim import state as st
from winsim.models._base import MODELS, SimulatorError

UNZIP = "community.windows.win_unzip"
ROBO = "community.windows.win_robocopy"
ZIP = "C:\\Windows\\Temp\\app.zip"
WHEN = "2026-02-01T00:00:00Z"


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 15, 10, 0, 0))
            archive.writestr(info, data)
    return buf.getvalue()


def _host(entries=None):
    state = fresh()
    st.write_file(state, ZIP, _zip(entries or {"web.config": b"<configuration />", "bin/Mcms.Api.dll": b"MZ",
                                               "wwwroot/": b""}), WHEN)
    return state


@pytest.mark.parametrize("fqcn", [UNZIP, ROBO])
def test_models_name_upstream_version(fqcn):
    assert MODELS[fqcn].upstream == "community.windows 3.3.0"


def test_unzip_check_then_apply_then_creates_guard():
    state = _host()
    checked = run(UNZIP, state, check=True, src=ZIP, dest="D:\\sites\\mcms")
    assert checked["changed"] is True
    assert checked.untouched
    applied = run(UNZIP, state, src=ZIP, dest="D:\\sites\\mcms")
    assert applied["changed"] is True
    assert applied["removed"] is False
    assert st.read_file(state, "D:\\sites\\mcms\\bin\\Mcms.Api.dll") == b"MZ"
    assert st.get_item(state, "D:\\sites\\mcms\\bin\\Mcms.Api.dll")["modified"] == "2026-01-15T10:00:00Z"
    assert st.get_item(state, "D:\\sites\\mcms\\wwwroot")["type"] == "directory"
    # upstream rewrites every entry: always changed unless guarded by creates
    assert run(UNZIP, state, src=ZIP, dest="D:\\sites\\mcms")["changed"] is True
    guarded = run(UNZIP, state, src=ZIP, dest="D:\\sites\\mcms", creates="D:\\sites\\mcms\\web.config")
    assert guarded["skipped"] is True
    assert guarded["msg"] == "The file or directory 'D:\\sites\\mcms\\web.config' already exists."


def test_unzip_delete_archive():
    state = _host()
    res = run(UNZIP, state, src=ZIP, dest="D:\\x", delete_archive=True)
    assert res["removed"] is True
    assert not st.exists(state, ZIP)


def test_unzip_zip_slip_fails():
    state = _host({"../evil.txt": b"x"})
    res = run(UNZIP, state, src=ZIP, dest="D:\\x")
    assert res["failed"] is True
    assert "Filename contains relative paths which would extract outside the destination" in res["msg"]


@pytest.mark.parametrize(("args", "msg"), [
    ({"src": "C:\\nope.zip", "dest": "D:\\x"}, "File 'C:\\nope.zip' does not exist."),
    ({"src": ZIP, "dest": "D:\\x", "recurse": True},
     "PowerShellCommunityExtensions PowerShell Module (PSCX) is required for this archive type, recursive "
     "extraction, or password-protected archives."),
])
def test_unzip_failures(args, msg):
    res = run(UNZIP, _host(), **args)
    assert res["msg"] == msg


def test_unzip_corrupt_zip():
    state = fresh()
    st.write_file(state, ZIP, b"PK garbage", WHEN)
    res = run(UNZIP, state, src=ZIP, dest="D:\\x")
    assert res["msg"].endswith('"End of Central Directory record could not be found."')


def test_unzip_pscx_present_is_not_simulated():
    state = _host()
    state["psmodules"]["installed"]["pscx"] = {"name": "Pscx", "versions": ["3.3.2"]}
    with pytest.raises(SimulatorError):
        run(UNZIP, state, src=ZIP, dest="D:\\x", recurse=True)


def test_untar_with_tar_exe():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        info = tarfile.TarInfo("conf/app.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"{}"))
    state = fresh()
    st.write_file(state, "C:\\Windows\\Temp\\c.tar.gz", buf.getvalue(), WHEN)
    res = run(UNZIP, state, src="C:\\Windows\\Temp\\c.tar.gz", dest="D:\\x")
    assert res["changed"] is True
    assert st.read_file(state, "D:\\x\\conf\\app.json") == b"{}"


# -- robocopy --------------------------------------------------------------------

def _tree():
    state = fresh()
    for path, data in {"D:\\src\\a.txt": b"a", "D:\\src\\sub\\b.txt": b"bb", "D:\\dst\\old.txt": b"o"}.items():
        st.make_dirs(state, st.parent(path), WHEN)
        st.write_file(state, path, data, WHEN)
    st.make_dirs(state, "D:\\src\\empty", WHEN)
    return state


def test_robocopy_check_apply_idempotent():
    state = _tree()
    args = {"src": "D:\\src", "dest": "D:\\dst", "recurse": True}
    checked = run(ROBO, state, check=True, **args)
    assert checked["rc"] == 3
    assert checked["changed"] is True
    assert checked["cmd"] == "robocopy D:\\src D:\\dst /l /e"
    assert checked.untouched
    applied = run(ROBO, state, **args)
    assert applied["rc"] == 3
    assert applied["msg"] == "(2+1) Some files were copied. Additional files were present."
    assert applied["warnings"] == [applied["msg"]]
    assert st.read_file(state, "D:\\dst\\sub\\b.txt") == b"bb"
    assert st.get_item(state, "D:\\dst\\empty")["type"] == "directory"
    again = run(ROBO, state, **args)
    assert again["rc"] == 2
    assert again["changed"] is False


def test_robocopy_purge_only_reports_no_change_like_upstream():
    state = _tree()
    run(ROBO, state, src="D:\\src", dest="D:\\dst", recurse=True)
    res = run(ROBO, state, src="D:\\src", dest="D:\\dst", recurse=True, purge=True)
    assert res["cmd"] == "robocopy D:\\src D:\\dst /purge /e"
    assert res["rc"] == 2
    assert res["changed"] is False
    assert not st.exists(state, "D:\\dst\\old.txt")
    assert run(ROBO, state, src="D:\\src", dest="D:\\dst", recurse=True, purge=True)["rc"] == 0


def test_robocopy_mir_flags_and_changed_file():
    state = _tree()
    run(ROBO, state, src="D:\\src", dest="D:\\dst", flags="/MIR /NP /R:2 /W:5")
    st.write_file(state, "D:\\src\\a.txt", b"changed", "2026-02-02T00:00:00Z")
    res = run(ROBO, state, src="D:\\src", dest="D:\\dst", flags="/MIR /NP /R:2 /W:5")
    assert res["rc"] == 1
    assert res["msg"] == "Files copied successfully!"
    assert st.read_file(state, "D:\\dst\\a.txt") == b"changed"


def test_robocopy_top_level_only_without_recurse():
    state = _tree()
    res = run(ROBO, state, src="D:\\src", dest="D:\\new")
    assert res["rc"] == 1
    assert st.exists(state, "D:\\new\\a.txt")
    assert not st.exists(state, "D:\\new\\sub")


def test_robocopy_invalid_flag_is_rc16():
    res = run(ROBO, _tree(), src="D:\\src", dest="D:\\dst", flags="/e /bogus")
    assert res["failed"] is True
    assert res["rc"] == 16
    assert res["msg"] == 'ERROR : Invalid Parameter #4 : "/bogus"'


def test_robocopy_missing_source():
    res = run(ROBO, fresh(), src="D:\\nope", dest="D:\\dst")
    assert res["msg"] == "D:\\nope does not exist!"
