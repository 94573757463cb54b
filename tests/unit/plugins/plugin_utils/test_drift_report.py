"""Tests of ``plugin_utils/_drift.py``: drift records, comparison, reports, history, retention."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _drift

REPO = pathlib.Path(__file__).resolve().parents[4]
SCHEMA = json.loads((REPO / "docs" / "schemas" / "drift-report-v1.schema.json").read_text(encoding="utf-8"))


def rec(host: str = "web01", attribute: str = "state", **kw: object) -> dict:
    return {"host": host, "role": "iis", "task": "t", "resource_type": "iis_site", "resource": "MCMS",
            "attribute": attribute, "wanted": "Started", "found": "Stopped", "source": "action", "coarse": False,
            **kw}


def report(drift: list[dict], previous: dict | None = None, errors: list | None = None, run_id: str = "20260101T000000Z"
           ) -> dict:
    return _drift.build_report(environment="sim", run_id=run_id, hosts=["web01", "web02"], drift=drift,
                               checked=[{"host": "web02", "role": "iis", "resource_type": "iis_site",
                                         "resource": "MCMS"}],
                               could_not_check=[], errors=errors or [], previous=previous)


@pytest.mark.parametrize(("resource", "expected"), [
    ({"resource_type": "t", "resource": "r", "wanted": {"a": 1}, "found": {"a": 1}}, []),
    ({"resource_type": "t", "resource": "r", "wanted": {"a": 1}, "found": {"a": 2}}, [("a", 1, 2)]),
    ({"resource_type": "t", "resource": "r", "wanted": {"a": "X"}, "found": {"a": "x"}}, []),
    ({"resource_type": "t", "resource": "r", "wanted": {"a": "X"}, "found": {"a": "x"}, "ignore_case": False},
     [("a", "X", "x")]),
    ({"resource_type": "t", "resource": "r", "wanted": {"a": [1, 2]}, "found": {"a": [2, 1]}}, []),
    ({"resource_type": "t", "resource": "r", "wanted": {"a": 1}, "found": None}, [("present", True, False)]),
    ({"resource_type": "t", "resource": "r", "wanted": {"password": "s3cret!"}, "found": {"password": "old"}},
     [("password", "********", "********")]),
    ({"resource_type": "t", "resource": "r", "wanted": {"pin": "1234"}, "found": {"pin": "0"}, "secret": ["pin"]},
     [("pin", "********", "********")]),
])
def test_compare(resource: dict, expected: list) -> None:
    records, checked = _drift.compare([resource])
    assert [(r["attribute"], r["wanted"], r["found"]) for r in records] == expected
    assert checked == [{"resource_type": "t", "resource": "r"}]


@pytest.mark.parametrize("bad", [{"resource": "r"}, "text", {"resource_type": "t", "resource": "r", "wanted": [1]}])
def test_compare_refuses_malformed_resources(bad: object) -> None:
    with pytest.raises(_drift.DriftError):
        _drift.compare([bad])  # type: ignore[list-item]


@pytest.mark.parametrize(("record", "secret", "wanted"), [
    ({"resource_type": "t", "resource": "r", "attribute": "a", "wanted": 1, "found": 2}, False, 1),
    ({"resource_type": "t", "resource": "r", "attribute": "a", "wanted": 1, "found": 2}, True, "********"),
    ({"resource_type": "t", "resource": "r", "attribute": "client_secret", "wanted": "x", "found": "y"}, False,
     "********"),
    ({"resource_type": "t", "resource": "r", "attribute": "a", "wanted": {"password": "p"}, "found": None}, False,
     {"password": "********"}),
])
def test_normalize_record_masks_secrets(record: dict, secret: bool, wanted: object) -> None:
    assert _drift.normalize_record(record, secret=secret)["wanted"] == wanted


def test_normalize_record_masks_vaulted_values() -> None:
    class AnsibleVaultEncryptedUnicode(str):
        pass

    out = _drift.normalize_record({"resource_type": "t", "resource": "r", "attribute": "a",
                                   "wanted": AnsibleVaultEncryptedUnicode("hunter22"), "found": "x"})
    assert out["wanted"] == "********"


def test_normalize_record_names_the_missing_field() -> None:
    with pytest.raises(_drift.DriftError, match="attribute"):
        _drift.normalize_record({"resource_type": "t", "resource": "r"})


@pytest.mark.parametrize(("diff", "pairs"), [
    ({"before": {"a": 1, "b": 2}, "after": {"a": 1, "b": 3}}, [("b", 3, 2)]),
    ([{"before": "x\n", "after": "y\n", "after_header": "C:\\f.txt"}], [("C:\\f.txt", "y\n", "x\n")]),
    ({"prepared": "text"}, []),
    (None, []),
])
def test_records_from_diff(diff: object, pairs: list) -> None:
    assert _drift.records_from_diff(diff) == pairs


@pytest.mark.parametrize(("condition", "expected"), [
    ("not ansible_check_mode", True), ("not ansible_check_mode and x | bool", True),
    ("(not ansible_check_mode)", True), ("ansible_check_mode", False),
    ("x or (y and not ansible_check_mode)", False), ("", False),
])
def test_skipped_for_check_mode(condition: str, expected: bool) -> None:
    assert _drift.skipped_for_check_mode(condition) is expected


@pytest.mark.parametrize(("action", "expected"), [
    ("ansible.builtin.set_fact", True), ("microsoft.iis.website_info", True), ("ansible.windows.win_reg_stat", True),
    ("community.windows.win_regmerge", False), ("lowlydba.sqlserver.agent_job_step", False),
])
def test_is_read_only(action: str, expected: bool) -> None:
    assert _drift.is_read_only(action) is expected


def test_report_is_valid_and_summarises_hosts() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = report([rec()])
    jsonschema.validate(doc, SCHEMA)
    assert doc["status"] == "drift"
    assert doc["exit_code"] == _drift.EXIT_DRIFT
    assert {h["host"]: h["status"] for h in doc["hosts"]} == {"web01": "drift", "web02": "clean"}


def test_errors_win_over_drift() -> None:
    doc = report([rec()], errors=[{"host": "web02", "task": "x", "msg": "gone", "unreachable": True}])
    assert doc["status"] == "error"
    assert doc["exit_code"] == _drift.EXIT_ERROR
    assert {h["host"]: h["status"] for h in doc["hosts"]}["web02"] == "unreachable"


def test_known_secret_strings_are_masked_anywhere() -> None:
    doc = _drift.build_report(environment="sim", run_id="20260101T000000Z", hosts=["web01"],
                              drift=[rec(found="prefix-hunter22-suffix")], checked=[], could_not_check=[], errors=[],
                              secrets=["hunter22"])
    assert "hunter22" not in json.dumps(doc)


def test_history_new_resolved_persisting() -> None:
    first = report([rec(attribute="state"), rec(attribute="physical_path")])
    second = report([rec(attribute="state", found="Unknown"), rec(attribute="application_pool")], previous=first,
                    run_id="20260108T000000Z")
    ids = {d["attribute"]: d["id"] for d in second["drift"]}
    assert second["history"]["previous_run_id"] == "20260101T000000Z"
    assert second["history"]["persisting"] == [ids["state"]]
    assert second["history"]["new"] == [ids["application_pool"]]
    assert [r["attribute"] for r in second["history"]["resolved"]] == ["physical_path"]


def test_junit_case_per_host_and_resource_failure_per_drift() -> None:
    root = ET.fromstring(_drift.junit_xml(report([rec(attribute="state"), rec(attribute="physical_path")])))
    web01 = root.find("testsuite[@name='web01']")
    assert web01 is not None
    assert len(web01.findall("testcase")) == 1
    assert len(web01.findall("testcase/failure")) == 2
    web02 = root.find("testsuite[@name='web02']")
    assert web02 is not None
    assert web02.findall("testcase")
    assert not web02.findall("testcase/failure")


def test_html_is_self_contained_and_escaped() -> None:
    page = _drift.html_page(report([rec(found="<script>alert(1)</script>")]))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page
    assert "https://" not in page
    assert "<link" not in page
    assert page.index('id="summary"') < page.index('id="history"') < page.index('id="drift"')


def test_write_reports_moves_latest_and_prunes_old_reports(tmp_path: pathlib.Path) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    old = tmp_path / "sim" / "20260101T000000Z"
    recent = tmp_path / "sim" / "20260520T000000Z"
    for d in (old, recent):
        d.mkdir(parents=True)
    run_dir = _drift.write_reports(report([rec()], run_id="20260601T000000Z"), tmp_path, keep_weeks=12, now=now)
    assert (tmp_path / "sim" / "latest").resolve() == run_dir
    assert sorted(p.name for p in (tmp_path / "sim").iterdir()) == ["20260520T000000Z", "20260601T000000Z", "latest"]
    assert {p.name for p in run_dir.iterdir()} == {"drift.json", "drift.junit.xml", "drift.html"}
    assert _drift.load_latest(tmp_path / "sim")["run_id"] == "20260601T000000Z"


def test_keep_weeks_zero_keeps_everything(tmp_path: pathlib.Path) -> None:
    (tmp_path / "20000101T000000Z").mkdir()
    assert _drift.prune(tmp_path, keep_weeks=0) == []
    assert (tmp_path / "20000101T000000Z").exists()
