"""Unit tests of the app role's controller logic (``plugin_utils/_app.py``) and the logbook action."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pathlib
import typing as t
from unittest import mock

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _app

REPO = pathlib.Path(__file__).resolve().parents[4]
DIST = REPO / "apps" / "dist"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def config(**over: t.Any) -> dict[str, t.Any]:
    base = {"app_version": "1.5.0", "app_artifact_source": str(DIST), "app_artifact_checksums": {},
            "app_require_pinned_checksum": False, "app_keep_releases": 3, "app_root": "C:\\MCMS",
            "app_aspnet_environment": "Production", "app_settings": {}, "app_secrets": [],
            "app_smoke_host": "mcms.example"}
    base.update(over)
    return base


def variables(found: list[tuple[str, str, str]]) -> list[str]:
    return [v for v, _, _ in found]


def test_sample_packages_rebuild_byte_identical_to_the_committed_checksums() -> None:
    sums = _app.read_checksums(str(DIST))
    for version in ("1.4.0", "1.5.0"):
        data = _app.build_package(str(REPO / "apps" / "mcms-sample" / version))
        assert hashlib.sha256(data).hexdigest() == sums[f"mcms-{version}.zip"]
        assert (DIST / f"mcms-{version}.zip").read_bytes() == data


def test_good_input_has_no_problem_and_the_artifact_is_verified() -> None:
    assert _app.problems(config()) == []
    art = _app.artifact(config())
    assert art["sha256"] == _app.read_checksums(str(DIST))["mcms-1.5.0.zip"]
    assert art["manifest"]["version.json"] == hashlib.sha256(b'{\n  "version": "1.5.0"\n}\n').hexdigest()
    assert "Worker\\Mcms.Worker.exe" in art["manifest"]


def test_version_not_in_the_source_names_the_available_ones() -> None:
    found = _app.problems(config(app_version="9.9.9"))
    assert variables(found) == ["app_version"]
    assert "available: 1.4.0, 1.5.0" in found[0][1]


def test_checksum_mismatch_is_refused() -> None:
    found = _app.problems(config(app_artifact_checksums={"1.5.0": "0" * 64}))
    assert variables(found) == ["app_artifact_checksums"]
    assert "mismatch" in found[0][1]


@pytest.mark.parametrize("over", [{"app_require_pinned_checksum": True}, {"mcms_environment": "prod"}])
def test_checksum_must_be_pinned_where_required(over: dict[str, t.Any]) -> None:
    found = _app.problems(config(**over))
    assert variables(found) == ["app_artifact_checksums"]
    assert "no SHA-256 for version 1.5.0" in found[0][1]


def test_pinned_checksum_is_accepted_in_prod() -> None:
    digest = _app.read_checksums(str(DIST))["mcms-1.5.0.zip"]
    assert _app.problems(config(mcms_environment="prod", app_artifact_checksums={"1.5.0": digest})) == []


@pytest.mark.parametrize(("over", "variable"), [
    ({"app_keep_releases": 0}, "app_keep_releases"),
    ({"app_keep_releases": "0"}, "app_keep_releases"),
    ({"app_aspnet_environment": "QA"}, "app_aspnet_environment"),
    ({"app_settings": {"Db": {"Password": "x"}}}, "app_settings"),
    ({"app_smoke_host": ""}, "app_smoke_host"),
    ({"app_artifact_source": "http://artifacts.example/mcms"}, "app_artifact_source"),  # refused before any request
])
def test_bad_input_names_the_variable(over: dict[str, t.Any], variable: str) -> None:
    assert variables(_app.problems(config(**over))) == [variable]


def test_keep_releases_given_as_text_on_the_command_line_is_accepted() -> None:
    assert _app.problems(config(app_keep_releases="1")) == []


def test_settings_document_places_secrets_at_their_path() -> None:
    text = _app.settings_document({"Mcms": {"A": 1}}, [{"path": "ConnectionStrings:Mcms", "value": "s"}])
    assert json.loads(text) == {"ConnectionStrings": {"Mcms": "s"}, "Mcms": {"A": 1}}


def test_web_config_sets_environment_hosting_model_and_shared_stdout_log() -> None:
    text = _app.web_config("Mcms.Api.dll", "Staging", "outofprocess", "C:\\MCMS\\shared\\logs\\stdout")
    assert 'arguments=".\\Mcms.Api.dll"' in text
    assert 'hostingModel="outofprocess"' in text
    assert 'name="ASPNETCORE_ENVIRONMENT" value="Staging"' in text
    assert 'stdoutLogFile="C:\\MCMS\\shared\\logs\\stdout"' in text


def test_retention_never_removes_current_previous_or_kept_releases() -> None:
    rels = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.10.0"]
    assert _app.retention(rels, "1.10.0", "1.4.0", 2) == ["1.0.0", "1.1.0", "1.2.0"]
    assert _app.retention(rels, "1.10.0", "1.0.0", 1) == ["1.1.0", "1.2.0", "1.3.0"]
    assert _app.retention(rels, "1.2.0", "1.10.0", 1) == ["1.0.0"]  # newer (failed) releases stay
    assert _app.retention(rels, "9.9.9", None, 1) == []  # unknown current: nothing removed


def test_logbook_appends_and_drops_lines_older_than_retention(tmp_path: pathlib.Path) -> None:
    old = _app.logbook_record(time="2026-01-01T00:00:00Z", environment="sim", host="web01", action="deploy",
                              to_version="1.4.0", result="success")
    (tmp_path / "sim.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    new = _app.logbook_record(time=NOW.isoformat(), environment="sim", host="web01", action="deploy",
                              from_version="1.4.0", to_version="1.5.0", result="success")
    _app.logbook_append(str(tmp_path), "sim", new, 30, NOW)
    lines = [json.loads(x) for x in (tmp_path / "sim.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["to_version"] for r in lines] == ["1.5.0"]


def test_logbook_record_refuses_unknown_fields() -> None:
    with pytest.raises(_app.AppError):
        _app.logbook_record(time="x", password="secret")


def _action(tmp_path: pathlib.Path, check_mode: bool) -> dict[str, t.Any]:
    from ansible.playbook.task import Task

    from ansible_collections.mcms.infra.plugins.action.app_logbook import ActionModule

    task = Task()
    task.args = {"dir": str(tmp_path), "environment": "sim", "action": "deploy", "to_version": "1.5.0",
                 "from_version": "1.4.0", "result": "success"}
    task.check_mode = check_mode
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    with mock.patch.object(ActionModule.__mro__[1], "run", return_value={}):
        return action.run(task_vars={"inventory_hostname": "web01"})


def test_logbook_action_writes_one_line(tmp_path: pathlib.Path) -> None:
    result = _action(tmp_path, check_mode=False)
    lines = (tmp_path / "sim.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["host"] == "web01"
    assert result["record"]["to_version"] == "1.5.0"


def test_logbook_action_writes_nothing_in_check_mode(tmp_path: pathlib.Path) -> None:
    result = _action(tmp_path, check_mode=True)
    assert not (tmp_path / "sim.jsonl").exists()
    assert result["record"]["action"] == "deploy"


# -- packages from an internal https URL, notifications -------------------------------------------

def _webserve() -> t.Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_webserve", REPO / "tests" / "playbooks" / "webserve.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def repo_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[tuple[t.Any, t.Any]]:
    web = _webserve()
    ca = web.make_ca(tmp_path_factory.mktemp("ca"))
    with web.Server(DIST, ca=ca) as server:
        yield server, ca


def remote(server: t.Any, ca: t.Any, cache: pathlib.Path, **over: t.Any) -> dict[str, t.Any]:
    return config(app_artifact_source=server.url("/"), app_artifact_ca_path=str(ca.ca_pem),
                  app_artifact_cache_dir=str(cache), app_artifact_download_timeout=5, **over)


def test_https_package_is_downloaded_verified_against_sha256sums_and_cached(
        repo_server: tuple[t.Any, t.Any], tmp_path: pathlib.Path) -> None:
    server, ca = repo_server
    art = _app.artifact(remote(server, ca, tmp_path))
    sha = _app.read_checksums(str(DIST))["mcms-1.5.0.zip"]
    assert art["sha256"] == sha
    assert art["path"] == str(tmp_path / sha / "mcms-1.5.0.zip")
    assert pathlib.Path(art["path"]).read_bytes() == (DIST / "mcms-1.5.0.zip").read_bytes()
    assert "Worker\\Mcms.Worker.exe" in art["manifest"]
    before = len(server.requests)
    pinned = remote(server, ca, tmp_path, app_artifact_checksums={"1.5.0": sha}, app_require_pinned_checksum=True)
    assert _app.problems(pinned) == []
    assert len(server.requests) == before  # pinned and cached: no download at all


def test_https_version_not_published_names_app_version(repo_server: tuple[t.Any, t.Any],
                                                        tmp_path: pathlib.Path) -> None:
    server, ca = repo_server
    found = _app.problems(remote(server, ca, tmp_path, app_version="9.9.9", app_artifact_checksums={"9.9.9": "a" * 64}))
    assert variables(found) == ["app_version"]
    assert "404" in found[0][1]
    assert "9.9.9" in found[0][1]


def test_https_checksum_mismatch_is_refused_and_nothing_is_cached(repo_server: tuple[t.Any, t.Any],
                                                                  tmp_path: pathlib.Path) -> None:
    server, ca = repo_server
    found = _app.problems(remote(server, ca, tmp_path, app_artifact_checksums={"1.5.0": "0" * 64}))
    assert variables(found) == ["app_artifact_checksums"]
    assert "checksum mismatch" in found[0][1]
    assert list(tmp_path.rglob("*.zip")) == []


def test_https_certificate_from_another_ca_is_refused_naming_the_ca_variable(
        repo_server: tuple[t.Any, t.Any], tmp_path: pathlib.Path) -> None:
    server, _ = repo_server
    other = _webserve().make_ca(tmp_path / "other")
    found = _app.problems(remote(server, other, tmp_path / "cache"))
    assert variables(found) == ["app_artifact_ca_path"]
    assert "TLS verification" in found[0][1]
    # no CA bundle given: the system trust store does not know the internal CA either
    found = _app.problems(config(app_artifact_source=server.url("/"), app_artifact_cache_dir=str(tmp_path / "c")))
    assert variables(found) == ["app_artifact_ca_path"]


def test_https_host_name_is_validated(repo_server: tuple[t.Any, t.Any], tmp_path: pathlib.Path) -> None:
    server, ca = repo_server
    found = _app.problems(remote(server, ca, tmp_path) | {"app_artifact_source": server.url("/", host="127.0.0.2")})
    assert variables(found) in (["app_artifact_ca_path"], ["app_artifact_source"])


@pytest.mark.parametrize("source", ["http://repo.internal/mcms", "ftp://repo.internal/mcms"])
def test_plain_http_or_other_schemes_are_refused(source: str) -> None:
    found = _app.problems(config(app_artifact_source=source))
    assert variables(found) == ["app_artifact_source"]
    assert "https" in found[0][1]


def test_notify_posts_the_record_and_reports_non_2xx_refused_and_timeouts_as_warnings() -> None:
    web = _webserve()
    record = _app.logbook_record(time="2026-03-01T12:00:00Z", environment="sim", host="web01", action="deploy",
                                 to_version="1.5.0", result="success")
    with web.Server() as receiver:
        assert _app.notify(receiver.url("/hook"), record, 5) is None
        assert receiver.posts == [record]
        receiver.status = 500
        warning = _app.notify(receiver.url("/hook?token=abc123"), record, 5)
        assert warning is not None
        assert "HTTP 500" in warning
        assert "abc123" not in warning
    warning = _app.notify(web.dead_url(), record, 2)
    assert warning is not None
    assert "app_notify_url" in warning
    assert "not an http" in str(_app.notify("file:///etc/passwd", record, 2))


def test_notify_times_out_with_a_warning() -> None:
    import socket

    with socket.socket() as sock:  # accepts the connection, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        warning = _app.notify(f"http://127.0.0.1:{sock.getsockname()[1]}/hook", {"a": 1}, 0.5)
    assert warning is not None
    assert "failed" in warning


def _notify_action(tmp_path: pathlib.Path, check_mode: bool, url: str) -> dict[str, t.Any]:
    from ansible.playbook.task import Task

    from ansible_collections.mcms.infra.plugins.action.app_logbook import ActionModule

    task = Task()
    task.args = {"dir": str(tmp_path), "environment": "sim", "action": "rollback", "to_version": "1.4.0",
                 "from_version": "1.5.0", "result": "success", "notify_url": url, "notify_timeout": 2}
    task.check_mode = check_mode
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    with mock.patch.object(ActionModule.__mro__[1], "run", return_value={}):
        return action.run(task_vars={"inventory_hostname": "web01"})


def test_logbook_action_notifies_the_record_it_wrote(tmp_path: pathlib.Path) -> None:
    with _webserve().Server() as receiver:
        result = _notify_action(tmp_path, False, receiver.url("/hook"))
    written = json.loads((tmp_path / "sim.jsonl").read_text(encoding="utf-8"))
    assert receiver.posts == [written] == [result["record"]]
    assert result["notified"] is True
    assert not result.get("warnings")


def test_logbook_action_warns_for_a_dead_webhook_and_still_writes(tmp_path: pathlib.Path) -> None:
    result = _notify_action(tmp_path, False, _webserve().dead_url())
    assert not result.get("failed")
    assert result["notified"] is False
    assert any("app_notify_url" in w for w in result["warnings"])
    assert (tmp_path / "sim.jsonl").is_file()


def test_logbook_action_sends_nothing_in_check_mode(tmp_path: pathlib.Path) -> None:
    with _webserve().Server() as receiver:
        _notify_action(tmp_path, True, receiver.url("/hook"))
    assert receiver.posts == []
    assert not (tmp_path / "sim.jsonl").exists()


def test_logbook_keeps_recent_and_unreadable_lines_within_retention(tmp_path: pathlib.Path) -> None:
    book = tmp_path / "sim.jsonl"
    lines = [_app.logbook_record(time=(NOW - dt.timedelta(days=d)).isoformat().replace("+00:00", "Z"),
                                 environment="sim", host="web01", action="deploy", to_version=f"1.{d}.0",
                                 result="success") for d in (45, 31, 29, 1)]
    book.write_text("\n".join(json.dumps(r) for r in lines) + "\nnot json\n", encoding="utf-8")
    new = _app.logbook_record(time=NOW.isoformat(), environment="sim", host="web01", action="rollback",
                              to_version="1.1.0", result="success")
    _app.logbook_append(str(tmp_path), "sim", new, 30, NOW)
    kept = book.read_text(encoding="utf-8").splitlines()
    assert kept[-1] == json.dumps(new, sort_keys=True)
    assert [json.loads(x)["to_version"] for x in kept if x.startswith("{")] == ["1.29.0", "1.1.0", "1.1.0"]
    assert "not json" in kept


def test_retention_spares_protected_versions() -> None:
    rels = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
    assert _app.retention(rels, "1.3.0", "1.2.0", 1) == ["1.0.0", "1.1.0"]
    assert _app.retention(rels, "1.3.0", "1.2.0", 1, ["1.0.0"]) == ["1.1.0"]


def _read(**over: t.Any) -> dict[str, t.Any]:
    read = {"iis_installed": True, "current_path": "C:\\MCMS\\releases\\1.4.0",
            "release": {"path": "C:\\MCMS\\releases\\1.4.0", "exists": True, "missing": [], "mismatched": [],
                        "found": {}},
            "worker": {"exists": True, "state": "running",
                       "path": '"C:\\MCMS\\releases\\1.4.0\\Worker\\Mcms.Worker.exe"'}}
    read.update(over)
    return read


def test_drift_records_of_a_converged_release_are_empty() -> None:
    assert _app.drift_records(_read(), {}, "MCMS", "api", [], "MCMS.Worker") == []


def test_drift_records_name_a_tampered_file_with_both_hashes_and_mask_the_settings() -> None:
    rel = {"path": "C:\\MCMS\\releases\\1.4.0", "exists": True, "missing": ["appsettings.Production.json"],
           "mismatched": ["Mcms.Api.dll"], "found": {"Mcms.Api.dll": "b" * 64}}
    wanted = {"Mcms.Api.dll": "a" * 64, "appsettings.Production.json": "c" * 64}
    records = _app.drift_records(_read(release=rel), wanted, "MCMS", "api", ["appsettings.Production.json"],
                                 "MCMS.Worker")
    assert records == [
        {"resource_type": "app_release_file", "resource": "C:\\MCMS\\releases\\1.4.0\\appsettings.Production.json",
         "attribute": "sha256", "wanted": "c" * 64, "found": None, "secret": True},
        {"resource_type": "app_release_file", "resource": "C:\\MCMS\\releases\\1.4.0\\Mcms.Api.dll",
         "attribute": "sha256", "wanted": "a" * 64, "found": "b" * 64, "secret": False}]


def test_drift_records_of_a_new_version_and_a_stopped_worker() -> None:
    rel = {"path": "C:\\MCMS\\releases\\1.5.0", "exists": False, "missing": ["x"], "mismatched": [], "found": {}}
    worker = {"exists": True, "state": "stopped", "path": "C:\\MCMS\\releases\\1.4.0\\Worker\\Mcms.Worker.exe"}
    got = {(r["resource_type"], r["attribute"]): (r["wanted"], r["found"])
           for r in _app.drift_records(_read(release=rel, worker=worker), {}, "MCMS", "api", [], "MCMS.Worker")}
    assert got == {("iis_application", "physical_path"): ("C:\\MCMS\\releases\\1.5.0", "C:\\MCMS\\releases\\1.4.0"),
                   ("app_release", "present"): (True, False),
                   ("windows_service", "state"): ("running", "stopped"),
                   ("windows_service", "path"): ("C:\\MCMS\\releases\\1.5.0",
                                                 "C:\\MCMS\\releases\\1.4.0\\Worker\\Mcms.Worker.exe")}
