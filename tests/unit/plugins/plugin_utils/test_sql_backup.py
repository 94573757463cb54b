"""Unit tests of the ``sql_backup`` role's controller-side logic (``plugin_utils/_sql_backup.py``).

The same ``problems`` function runs in the role's validate step (through the
``mcms.infra.sql_backup_input_errors`` filter) and in the preflight, so these
tests cover both; ``test_preflight_runs_the_role_validation`` proves the wiring.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.filter import sql_backup as filters
from ansible_collections.mcms.infra.plugins.plugin_utils import _preflight as pf
from ansible_collections.mcms.infra.plugins.plugin_utils import _sql_backup as sb

REPO = pathlib.Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((REPO / "roles" / "sql_backup" / "defaults" / "main.yml").read_text(encoding="utf-8"))


def _config(**overrides: t.Any) -> dict[str, t.Any]:
    config = dict(DEFAULTS, sql_backup_databases=[{"name": "MCMS", "log_backups": True}])
    config.update(overrides)
    return config


def _variables(config: dict[str, t.Any]) -> list[str]:
    return [var for var, _problem, _fix in sb.problems(config)]


def test_the_role_defaults_with_a_database_are_valid() -> None:
    assert sb.problems(_config()) == []


@pytest.mark.parametrize(("overrides", "variable", "words"), [
    pytest.param({"sql_backup_diff_interval_hours": 5}, "sql_backup_diff_interval_hours", "does not divide the day",
                 id="diff-interval-5h"),
    pytest.param({"sql_backup_diff_interval_hours": 0}, "sql_backup_diff_interval_hours", "does not divide the day",
                 id="diff-interval-0"),
    pytest.param({"sql_backup_diff_interval_hours": 48}, "sql_backup_diff_interval_hours", "does not divide",
                 id="diff-interval-48h"),
    pytest.param({"sql_backup_log_interval_minutes": 7}, "sql_backup_log_interval_minutes", "does not divide",
                 id="log-interval-7min"),
    pytest.param({"sql_backup_log_interval_minutes": 90}, "sql_backup_log_interval_minutes", "whole hours",
                 id="log-interval-90min"),
    pytest.param({"sql_backup_log_interval_minutes": 100}, "sql_backup_log_interval_minutes", "does not divide",
                 id="log-interval-100min"),
    pytest.param({"sql_backup_full_cleanup_hours": 12}, "sql_backup_full_cleanup_hours",
                 "shorter than the full backup interval", id="full-retention-12h"),
    pytest.param({"sql_backup_log_cleanup_hours": 23}, "sql_backup_log_cleanup_hours",
                 "shorter than the full backup interval", id="log-retention-23h"),
    pytest.param({"sql_backup_diff_cleanup_hours": 1}, "sql_backup_diff_cleanup_hours", "shorter",
                 id="diff-retention-1h"),
    pytest.param({"sql_backup_dir": "SQLBackup"}, "sql_backup_dir", "not an absolute", id="relative-dir"),
    pytest.param({"sql_backup_dir": "D:SQLBackup"}, "sql_backup_dir", "not an absolute", id="drive-relative-dir"),
    pytest.param({"sql_backup_dir": "/var/backup"}, "sql_backup_dir", "not an absolute", id="posix-dir"),
    pytest.param({"sql_backup_dir": "D:/SQLBackup"}, "sql_backup_dir", "not an absolute", id="forward-slashes"),
    pytest.param({"sql_backup_solution_file": "solution.zip"}, "sql_backup_solution_file", "not an absolute",
                 id="relative-solution-file"),
    pytest.param({"sql_backup_full_start_time": "24:00"}, "sql_backup_full_start_time", "HH:MM", id="bad-time"),
    pytest.param({"sql_backup_log_start_time": "0:15"}, "sql_backup_log_start_time", "HH:MM", id="short-time"),
    pytest.param({"sql_backup_databases": [{"name": "MCMS"}, {"name": "mcms"}]}, "sql_backup_databases",
                 "lists database 'mcms' twice", id="database-twice"),
    pytest.param({"sql_backup_databases": []}, "sql_backup_databases", "is empty", id="no-database"),
    pytest.param({"sql_backup_databases": [{"name": "msdb"}]}, "sql_backup_databases[0]", "system database",
                 id="system-database"),
    pytest.param({"sql_backup_databases": [{"name": "a,b"}]}, "sql_backup_databases[0]", "@Databases",
                 id="comma-in-name"),
])
def test_bad_input_is_reported_naming_the_variable(overrides: dict[str, t.Any], variable: str, words: str) -> None:
    found = sb.problems(_config(**overrides))
    assert [var for var, _p, _f in found] == [variable], found
    assert words in found[0][1]
    assert found[0][2], "every problem says how to fix it"


@pytest.mark.parametrize(("var", "value"), [
    ("sql_backup_diff_interval_hours", 1), ("sql_backup_diff_interval_hours", 6),
    ("sql_backup_diff_interval_hours", 24),
    ("sql_backup_log_interval_minutes", 15), ("sql_backup_log_interval_minutes", 120),
    ("sql_backup_log_interval_minutes", 1440), ("sql_backup_full_cleanup_hours", 24),
    ("sql_backup_dir", "\\\\files.corp\\sqlbackup"), ("sql_backup_dir", "E:\\"),
])
def test_good_values_pass(var: str, value: t.Any) -> None:
    # The verification's thresholds must stay above the intervals (tested below): loose ones here.
    loose = {"sql_backup_verify_diff_max_age_hours": 25, "sql_backup_verify_log_max_age_minutes": 1500}
    assert sb.problems(_config(**loose, **{var: value})) == []


@pytest.mark.parametrize(("overrides", "variable"), [
    pytest.param({"sql_backup_verify_log_max_age_minutes": 60}, "sql_backup_verify_log_max_age_minutes", id="log-60"),
    pytest.param({"sql_backup_diff_interval_hours": 24}, "sql_backup_verify_diff_max_age_hours", id="diff-24h"),
    pytest.param({"sql_backup_verify_full_max_age_hours": 24}, "sql_backup_verify_full_max_age_hours", id="full-24"),
    pytest.param({"sql_backup_verify_scratch_suffix": ""}, "sql_backup_verify_scratch_suffix", id="no-suffix"),
    pytest.param({"sql_backup_verify_scratch_suffix": "]x"}, "sql_backup_verify_scratch_suffix", id="bracket"),
])
def test_verification_thresholds_below_the_interval_are_refused(overrides: dict[str, t.Any], variable: str) -> None:
    found = sb.problems(_config(**overrides))
    assert [var for var, _p, _f in found] == [variable], found


def test_database_layers_combine_by_name_later_layer_wins() -> None:
    config = _config(sql_backup_databases=[{"name": "MCMS"}, {"name": "Reports", "log_backups": True}],
                     sql_backup_group_databases=[{"name": "reports", "log_backups": False}],
                     sql_backup_host_databases=[{"name": "Audit"}])
    assert sb.problems(config) == []
    assert sb.databases(config) == [{"name": "MCMS", "log_backups": True},
                                    {"name": "reports", "log_backups": False},
                                    {"name": "Audit", "log_backups": True}]
    assert [j["step"]["command"].count("reports") for j in sb.jobs(config)] == [1, 1, 0]  # no log backups for it
    assert filters.sql_backup_databases(config) == sb.databases(config)


def test_a_database_listed_twice_in_one_layer_is_refused_naming_the_layer() -> None:
    config = _config(sql_backup_group_databases=[{"name": "Audit"}, {"name": "AUDIT"}])
    assert [var for var, _p, _f in sb.problems(config)] == ["sql_backup_group_databases"]


def test_databases_in_a_lower_layer_only_are_enough() -> None:
    config = _config(sql_backup_databases=[], sql_backup_host_databases=[{"name": "MCMS"}])
    assert sb.problems(config) == []
    assert [d["name"] for d in sb.databases(config)] == ["MCMS"]


def test_input_errors_are_one_line_per_problem_naming_the_variable() -> None:
    errors = filters.sql_backup_input_errors(_config(sql_backup_dir="x", sql_backup_diff_interval_hours=7))
    assert len(errors) == 2
    assert errors[0].startswith("sql_backup_dir: ")
    assert " → " in errors[0]
    assert errors[1].startswith("sql_backup_diff_interval_hours: ")


def test_jobs_follow_the_backup_policy() -> None:
    jobs = {j["name"].rsplit(" - ", 1)[1]: j for j in sb.jobs(_config(sql_backup_databases=[
        {"name": "MCMS"}, {"name": "Reports", "log_backups": False}]))}
    assert list(jobs) == ["FULL", "DIFF", "LOG"]
    assert jobs["FULL"]["name"] == "DatabaseBackup - FULL"
    assert (jobs["FULL"]["schedule"]["frequency_type"], jobs["FULL"]["schedule"]["frequency_subday_type"],
            jobs["FULL"]["schedule"]["start_time"]) == ("Daily", "Time", "000000")
    assert (jobs["DIFF"]["schedule"]["frequency_subday_type"], jobs["DIFF"]["schedule"]["frequency_subday_interval"],
            jobs["DIFF"]["schedule"]["start_time"]) == ("Hours", 12, "060000")
    assert (jobs["LOG"]["schedule"]["frequency_subday_type"], jobs["LOG"]["schedule"]["frequency_subday_interval"],
            jobs["LOG"]["schedule"]["start_time"]) == ("Hours", 1, "001500")
    assert all(j["enabled"] and j["category"] == "Database Maintenance" for j in jobs.values())
    assert {(j["step"]["database"], j["step"]["on_fail_action"]) for j in jobs.values()} == {
        ("master", "QuitWithFailure")}
    for kind, job in jobs.items():
        command = job["step"]["command"]
        for part in (f"@BackupType = '{kind}'", "@CheckSum = 'Y'", "@Verify = 'Y'", "@CleanupMode = 'AFTER_BACKUP'",
                     "@CleanupTime = 336", "@Directory = N'D:\\SQLBackup'", "@Compress = 'Y'"):
            assert part in command, (kind, part, command)
    assert "@Databases = 'MCMS'," in jobs["LOG"]["step"]["command"]
    assert "@Databases = 'MCMS,Reports'," in jobs["FULL"]["step"]["command"]


@pytest.mark.parametrize(("overrides", "kind", "expected"), [
    ({"sql_backup_log_interval_minutes": 15}, "LOG", ("Minutes", 15)),
    ({"sql_backup_log_interval_minutes": 120}, "LOG", ("Hours", 2)),
    ({"sql_backup_log_interval_minutes": 1440}, "LOG", ("Time", 0)),
    ({"sql_backup_diff_interval_hours": 24}, "DIFF", ("Time", 0)),
    ({"sql_backup_diff_interval_hours": 6}, "DIFF", ("Hours", 6)),
])
def test_intervals_become_agent_schedules(overrides: dict[str, t.Any], kind: str, expected: tuple) -> None:
    job = next(j for j in sb.jobs(_config(**overrides)) if j["name"].endswith(f" - {kind}"))
    assert (job["schedule"]["frequency_subday_type"], job["schedule"]["frequency_subday_interval"]) == expected


@pytest.mark.parametrize(("overrides", "part"), [
    ({"sql_backup_compress": False}, "@Compress = 'N'"),
    ({"sql_backup_log_to_table": False}, "@LogToTable = 'N'"),
    ({"sql_backup_full_cleanup_hours": 720}, "@CleanupTime = 720"),
    ({"sql_backup_dir": "E:\\It's"}, "@Directory = N'E:\\It''s'"),
    ({"sql_backup_job_prefix": "MCMS Backup"}, "MCMS Backup - FULL"),
])
def test_every_option_reaches_the_job(overrides: dict[str, t.Any], part: str) -> None:
    full = next(j for j in sb.jobs(_config(**overrides)) if j["name"].endswith(" - FULL"))
    assert part in full["step"]["command"] or part == full["name"], full


def test_log_job_is_disabled_when_no_database_wants_log_backups() -> None:
    log = next(j for j in sb.jobs(_config(sql_backup_databases=[{"name": "MCMS", "log_backups": False}]))
               if j["name"].endswith(" - LOG"))
    assert log["enabled"] is False
    assert "@Databases = 'MCMS'," in log["step"]["command"]     # a valid command all the same


def test_jobs_refuse_invalid_input() -> None:
    with pytest.raises(AnsibleFilterError, match="sql_backup_dir"):
        filters.sql_backup_jobs(_config(sql_backup_dir="relative"))


def _read(name: str, model: str | None) -> dict[str, t.Any]:
    """A loop result of lowlydba.sqlserver.database in check mode (no data: the database does not exist)."""
    result: dict[str, t.Any] = {"__sql_backup_item": {"name": name}, "changed": model is None}
    if model is not None:
        result["data"] = {"Name": name, "RecoveryModel": model}
    return result


@pytest.mark.parametrize(("reads", "fix", "missing", "to_full", "error_words"), [
    pytest.param([_read("MCMS", "Full")], False, [], [], [], id="full-ok"),
    pytest.param([_read("MCMS", "Simple")], False, [], [], ["'MCMS'", "SIMPLE", "sql_backup_fix_recovery_model"],
                 id="simple-fails-naming-it"),
    pytest.param([_read("MCMS", "Simple")], True, [], ["MCMS"], [], id="simple-fixed"),
    pytest.param([_read("MCMS", None)], False, ["MCMS"], [], ["'MCMS' does not exist"], id="missing"),
    pytest.param([_read("MCMS", None)], True, ["MCMS"], [], ["'MCMS' does not exist"], id="missing-not-created"),
    pytest.param([_read("Reports", "Simple")], False, [], [], [], id="simple-without-log-backups"),
])
def test_recovery_plan(reads: list, fix: bool, missing: list, to_full: list, error_words: list) -> None:
    databases = [{"name": "MCMS", "log_backups": True}, {"name": "Reports", "log_backups": False}]
    plan = filters.sql_backup_recovery_plan(reads, databases, fix)
    assert plan["missing"] == missing
    assert plan["to_full"] == to_full
    text = " ".join(plan["errors"])
    for words in error_words:
        assert words in text, plan
    assert bool(plan["errors"]) == bool(error_words)


def test_preflight_runs_the_role_validation() -> None:
    """The preflight reports the role's semantic problems per host, defaults filled in from the role."""
    spec = yaml.safe_load((REPO / "roles" / "sql_backup" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    role = pf.RoleSpec(name="sql_backup", path=str(REPO / "roles" / "sql_backup"),
                       options=spec["argument_specs"]["main"]["options"], defaults=DEFAULTS)
    inventory = {"sql_backup_databases": [{"name": "MCMS"}, {"name": "MCMS"}], "sql_backup_log_interval_minutes": 7}
    found = pf.check_role_semantics("sql01", {"sql_backup": pf.role_values(role, inventory, inventory.__getitem__)})
    assert sorted(p.variable for p in found) == ["sql_backup_databases", "sql_backup_log_interval_minutes"]
    assert all(p.host == "sql01" for p in found)
    good = {"sql_backup_databases": [{"name": "MCMS"}]}
    assert pf.check_role_semantics("sql01", {"sql_backup": pf.role_values(role, good, good.__getitem__)}) == []


def test_the_solution_zip_on_the_controller_must_exist_and_be_a_zip(tmp_path: pathlib.Path) -> None:
    """dbatools never fails on a bad -LocalFile (it installs its bundled copy): the preflight checks the file."""
    zip_file = tmp_path / "sql-server-maintenance-solution-main.zip"
    zip_file.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    text_file = tmp_path / "ola.txt"
    text_file.write_text("x")
    on_host = {"sql_backup_solution_file": "D:\\Install\\sql-server-maintenance-solution-main.zip"}
    assert sb.problems(_config(sql_backup_solution_src=str(zip_file), **on_host)) == []
    for source, words in ((str(tmp_path / "gone.zip"), "doesn't exist on the controller"),
                          (str(text_file), "has to be a zip file"), ("ola.zip", "not an absolute path")):
        host_file = {"sql_backup_solution_file": "D:\\Install\\" + source.rsplit("/", 1)[-1]}
        found = sb.problems(_config(sql_backup_solution_src=source, **host_file))
        assert any(v == "sql_backup_solution_src" and words in p for v, p, _f in found), found
    found = sb.problems(_config(sql_backup_solution_file="D:\\Install\\ola.7z"))
    assert [v for v, _p, _f in found] == ["sql_backup_solution_file"]
    found = sb.problems(_config(sql_backup_solution_src=str(zip_file), sql_backup_solution_file="D:\\Install\\o.zip"))
    assert [(v, "differs from" in p) for v, p, _f in found] == [("sql_backup_solution_src", True)]
