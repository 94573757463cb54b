"""win_psmodule model (community.windows 3.3.0) on an offline host."""

from __future__ import annotations

import pytest

PSMODULE = "community.windows.win_psmodule"


@pytest.fixture
def internal_repo(fresh_state):
    fresh_state["psmodules"]["repositories"]["internal"] = {
        "name": "Internal", "source_location": "https://nuget.mcms.internal/api/v2",
        "installation_policy": "Trusted", "reachable": True,
        "modules": {"SqlServer": ["22.1.1", "22.2.0"], "PowerShellGet": ["2.2.5"],
                    "PackageManagement": ["1.4.8.1"]},
    }
    return fresh_state


def test_offline_gallery_fails_with_the_real_message(run_module):
    result, _ = run_module(PSMODULE, {"name": "SqlServer"})
    assert result["failed"]
    assert result["msg"].startswith("Problems adding package provider: No match was found")


def test_check_apply_idempotent(run_module, internal_repo):
    args = {"name": "SqlServer", "repository": "Internal"}
    result, untouched = run_module(PSMODULE, args, state=internal_repo, check_mode=True)
    assert result["changed"]
    assert result["nuget_changed"]
    assert untouched == internal_repo
    result, state = run_module(PSMODULE, args, state=internal_repo)
    assert result["output"] == "Module SqlServer installed"
    assert state["psmodules"]["installed"]["sqlserver"]["versions"] == ["22.2.0"]
    again, _ = run_module(PSMODULE, args, state=state)
    assert not again["changed"]
    assert again["output"] == "Module SqlServer already present"


def test_required_version_upgrades_prereqs_first(run_module, internal_repo):
    args = {"name": "SqlServer", "required_version": "22.1.1"}
    result, _ = run_module(PSMODULE, args, state=internal_repo, check_mode=True)
    assert result["output"] == "Skipped check mode run on win_psmodule as the pre-reqs need upgrading"
    result, state = run_module(PSMODULE, args, state=internal_repo)
    assert state["psmodules"]["installed"]["powershellget"]["versions"] == ["1.0.0.1", "2.2.5"]
    assert state["psmodules"]["installed"]["sqlserver"]["versions"] == ["22.1.1"]


def test_unknown_module(run_module, internal_repo):
    result, _ = run_module(PSMODULE, {"name": "Nope"}, state=internal_repo)
    assert result["msg"] == ("Problems installing Nope module: No match was found for the specified search criteria "
                             "and module name 'Nope'. Try Get-PSRepository to see all available registered module "
                             "repositories.")


@pytest.mark.parametrize(("args", "msg"), [
    ({"name": "X", "required_version": "1", "minimum_version": "1"},
     "Parameters required_version and minimum/maximum_version are mutually exclusive."),
    ({"name": "X", "repository": "Nope"}, "The repository Nope doesn't exist."),
    ({"name": "X", "state": "latest", "minimum_version": "1"},
     "When the parameter state is equal to 'latest' you can't use any of required_version, minimum_version, "
     "maximum_version."),
])
def test_argument_failures(run_module, args, msg):
    result, _ = run_module(PSMODULE, args)
    assert result["msg"] == msg


def test_absent(run_module):
    result, state = run_module(PSMODULE, {"name": "Pester", "state": "absent"})
    assert result["changed"]
    assert "pester" not in state["psmodules"]["installed"]
    result, _ = run_module(PSMODULE, {"name": "Pester", "state": "absent"}, state=state)
    assert not result["changed"]
    assert result["output"] == "Module Pester removed"
