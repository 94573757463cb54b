"""Blue/green input (decision 22): plugin_utils/_app.py bluegreen_problems, slots and slot releases."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _app, _preflight

FILES = pathlib.Path(__file__).parents[4] / "inventories" / "sim" / "group_vars" / "webservers" / "files"
GOOD: dict[str, t.Any] = {
    "app_deploy_strategy": "bluegreen", "app_iis_site": "MCMS",
    "app_bluegreen_blue_port": 8081, "app_bluegreen_green_port": 8082,
    "app_bluegreen_rewrite_msi": str(FILES / "rewrite_amd64_en-US.msi"),
    "app_bluegreen_rewrite_product_id": "{640D3AFD-43B1-5F70-81C1-E5EB51AE46A5}",
    "app_bluegreen_arr_msi": str(FILES / "requestRouter_amd64.msi"),
    "app_bluegreen_arr_product_id": "{5540AAA0-766C-5D0A-81C4-C1D06701D095}",
}
IIS = {"iis_group_sites": [{"name": "MCMS", "hostnames": ["mcms.example"]},
                           {"name": "Reports", "http_port": 8080, "https_port": 8443}]}


def variables(found: list[tuple[str, str, str]]) -> list[str]:
    return [v for v, _, _ in found]


def test_good_bluegreen_input_has_no_problem() -> None:
    assert _app.bluegreen_problems(GOOD, IIS) == []


def test_inplace_checks_nothing_of_bluegreen() -> None:
    assert _app.bluegreen_problems({"app_deploy_strategy": "inplace"}, IIS) == []


def test_unknown_strategy_is_named() -> None:
    assert variables(_app.bluegreen_problems({"app_deploy_strategy": "canary"})) == ["app_deploy_strategy"]


@pytest.mark.parametrize(("port", "clash"), [(443, "iis_group_sites[0] (MCMS)"), (8080, "iis_group_sites[1] (Reports)"),
                                             (80, "iis_group_sites[0] (MCMS)")])
def test_port_clashing_with_a_site_binding_names_the_variable_and_the_site(port: int, clash: str) -> None:
    found = _app.bluegreen_problems(dict(GOOD, app_bluegreen_green_port=port), IIS)
    assert variables(found) == ["app_bluegreen_green_port"]
    assert clash in found[0][1]


def test_same_port_for_both_slots_is_refused() -> None:
    found = _app.bluegreen_problems(dict(GOOD, app_bluegreen_green_port=8081), IIS)
    assert variables(found) == ["app_bluegreen_green_port"]
    assert "other slot" in found[0][1]


def test_a_site_removed_from_iis_frees_its_ports() -> None:
    iis = {"iis_group_sites": [{"name": "Reports", "http_port": 8081, "state": "absent"}]}
    assert _app.bluegreen_problems(GOOD, iis) == []


@pytest.mark.parametrize("value", [0, 70000, "x", True, None])
def test_port_that_is_no_port(value: t.Any) -> None:
    assert variables(_app.bluegreen_problems(dict(GOOD, app_bluegreen_blue_port=value))) == ["app_bluegreen_blue_port"]


@pytest.mark.parametrize(("path", "expected"), [("\\\\share\\iis\\requestRouter_amd64.msi", "decision 15"),
                                              ("/nowhere/requestRouter_amd64.msi", "does not exist")])
def test_msi_must_be_a_controller_file(path: str, expected: str) -> None:
    found = _app.bluegreen_problems(dict(GOOD, app_bluegreen_arr_msi=path))
    assert variables(found) == ["app_bluegreen_arr_msi"]
    assert expected in found[0][1]


def test_packages_and_product_codes_are_required() -> None:
    found = _app.bluegreen_problems(dict(GOOD, app_bluegreen_arr_msi="", app_bluegreen_rewrite_product_id="abc"))
    assert variables(found) == ["app_bluegreen_rewrite_product_id", "app_bluegreen_arr_msi"]


def test_preflight_runs_the_same_function_with_the_iis_role_values() -> None:
    problems = _preflight.check_role_semantics("web01", {"app": dict(GOOD, app_bluegreen_blue_port=443),
                                                         "iis": IIS})
    assert [(p.variable, "clashes" in p.problem) for p in problems if p.variable.startswith("app_bluegreen")] == \
        [("app_bluegreen_blue_port", True)]


def test_slots_and_their_releases() -> None:
    assert _app.bluegreen_slots(GOOD) == [{"name": "blue", "site": "MCMS-blue", "pool": "MCMS-blue", "port": 8081},
                                          {"name": "green", "site": "MCMS-green", "pool": "MCMS-green", "port": 8082}]
    assert _app.slot_releases({"blue": {"version": "1.4.0"}, "green": {"version": None}}) == ["1.4.0"]


def test_retention_never_removes_a_slot_release() -> None:
    gone = _app.retention(["1.0.0", "1.1.0", "1.2.0", "1.3.0"], "1.3.0", "1.2.0", 1, _app.slot_releases(
        {"blue": {"version": "1.0.0"}, "green": {"version": "1.3.0"}}))
    assert gone == ["1.1.0"]
