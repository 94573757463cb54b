"""SCHANNEL on winsim's realistic and lived-in hosts: ``mcms.infra.win_schannel`` (decision 14).

A lived-in web node (unmanaged SCHANNEL keys, a cipher suite order pushed by
policy) is converged once by ``site.yml``; then, in order, on the web tier
(``playbooks/web.yml``, web01 only):

1. an unmanaged SCHANNEL key is added (``winsim set``); a
   second run changes nothing and does not reboot, a check-mode run changes
   nothing, and both spend exactly one round trip on SCHANNEL;
2. a managed value is re-enabled: check mode reports it as an ``mcms_drift``
   record, the next run repairs it with exactly one reboot;
3. the same drift repaired with ``tls_reboot_allowed: false``: the reboot is
   deferred, and the next deferred run, which changes nothing, still reports
   it pending (re-derived from the host's marker, not from a handler); the
   first run that may reboot does, and leaves the marker stale.

A realistic node gets the idempotence part (1) only.  Both labs are copies
of the session's converged profile labs (``lab.profile_golden``, shared with
test_profiles.py).  The runs are module fixtures, so each test reads one step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing as t

import pytest

from .lab import Lab, Run, describe, profile_golden

pytestmark = [pytest.mark.playbook, pytest.mark.slow]

HOST = "web01"
SCHANNEL = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
TLS10_SERVER = SCHANNEL + "\\Protocols\\TLS 1.0\\Server"
UNMANAGED = SCHANNEL + "\\Protocols\\DTLS 1.0\\Server"
MARKER_KEY = "HKLM\\SOFTWARE\\MCMS\\Infra"
TASK = "tls : schannel | Set the SCHANNEL values and the cipher suite order"
PENDING_TASK = "tls : schannel | Reboot for SCHANNEL settings changed earlier and not yet applied"
HANDLER = "tls : Reboot to apply SCHANNEL settings"
MODULE = "mcms.infra.win_schannel"


@dataclasses.dataclass
class Step:
    run: Run
    stats: dict[str, t.Any]
    boot_before: str
    boot_after: str

    @property
    def rebooted(self) -> int:
        return int(self.stats["internal"].get("reboot", 0))


def _web(lab: Lab, label: str, *args: str, json_out: bool = False) -> Step:
    boot = lab.state(HOST)["host"]["last_boot"]
    with pytest.MonkeyPatch.context() as mp:
        if json_out:  # the module's result (mcms_drift) as data, not as printed YAML
            mp.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
        run = lab.playbook("playbooks/web.yml", "--limit", HOST, *args, label=label)
    assert run.returncode == 0, f"{describe(run.failed())}\n{run.output}"
    return Step(run=run, stats=lab.stats(HOST, "last"), boot_before=boot,
                boot_after=lab.state(HOST)["host"]["last_boot"])


def _result(step: Step, task: str) -> dict[str, t.Any]:
    """The host result of ``task`` from an ``ansible.posix.json`` run."""
    doc, _end = json.JSONDecoder().raw_decode(step.run.stdout[step.run.stdout.index("{"):])
    for play in doc["plays"]:
        for entry in play["tasks"]:
            if entry["task"]["name"] in (task, task.split(" : ", 1)[1]) and HOST in entry["hosts"]:
                return entry["hosts"][HOST]
    raise AssertionError(f"no result for {task!r}")


def _value(lab: Lab, key: str, name: str) -> t.Any:
    entry = lab.state(HOST)["registry"].get(key.replace("HKLM:", "HKLM").lower(), {})
    value = entry.get("values", {}).get(name.lower())
    return None if value is None else value["data"]


def _changed(step: Step) -> list[str]:
    return sorted(task for _host, task in step.run.changed(HOST))


def _converged(tmp_path_factory: pytest.TempPathFactory, profile: str) -> Lab:
    golden = profile_golden(tmp_path_factory, profile)
    assert golden.run.returncode == 0, f"{describe(golden.run.failed())}\n{golden.run.output}"
    lab = golden.lab.clone(tmp_path_factory.mktemp(f"schannel-{profile}") / "lab")
    # One unmanaged key, written straight into the host state with `winsim set`
    # (parent key included, as Windows would hold it).
    for path, values in ((UNMANAGED.rsplit("\\", 1)[0], {}),
                         (UNMANAGED, {"enabled": {"name": "Enabled", "type": "dword", "data": 1}})):
        key = path.replace("HKLM:", "HKLM")
        lab.winsim("set", HOST, "/registry/" + key.lower().replace("~", "~0").replace("/", "~1"),
                   json.dumps({"path": key, "values": values}))
    return lab


class Idempotent:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.second = _web(lab, "second")
        self.check = _web(lab, "check", "--check", "--diff")


@pytest.fixture(scope="module", params=["lived-in", "realistic"])
def idempotent(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Idempotent:
    return Idempotent(_converged(tmp_path_factory, request.param))


def test_second_run_with_an_unmanaged_key_changes_nothing_and_does_not_reboot(idempotent: Idempotent) -> None:
    step = idempotent.second
    assert _changed(step) == [], describe(r for r in step.run.tasks(HOST) if r["changed"])
    assert step.rebooted == 0
    assert step.boot_after == step.boot_before
    assert _value(idempotent.lab, UNMANAGED, "Enabled") == 1, "the unmanaged value was touched"


def _schannel_part(step: Step) -> dict[str, int]:
    """The round trips that read or write the registry (SCHANNEL's part of the web tier)."""
    return {m: n for m, n in step.stats["modules"].items() if "reg" in m or "schannel" in m}


def test_check_mode_agrees_and_costs_what_a_no_op_run_costs(idempotent: Idempotent) -> None:
    step = idempotent.check
    assert _changed(step) == [], describe(r for r in step.run.tasks(HOST) if r["changed"])
    assert _schannel_part(step) == _schannel_part(idempotent.second) == {MODULE: 1}, step.stats["modules"]


def test_schannel_costs_one_round_trip(idempotent: Idempotent) -> None:
    modules = idempotent.second.stats["modules"]
    print(f"{HOST}: no-op web tier: {sum(modules.values())} module runs, check mode "
          f"{idempotent.check.stats['module_runs']}, SCHANNEL {modules.get(MODULE)}")
    assert _schannel_part(idempotent.second) == {MODULE: 1}, modules


# -- drift and the reboot it needs (lived-in) ------------------------------------------
@pytest.fixture(scope="module")
def lived_in(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """Its own copy of the converged lived-in lab (with the unmanaged key)."""
    return _converged(tmp_path_factory, "lived-in")


@dataclasses.dataclass
class Repair:
    check: Step
    apply: Step


@pytest.fixture(scope="module")
def repair(lived_in: Lab) -> Repair:
    lived_in.winsim("drift", HOST, "set-registry", "--type", "dword", TLS10_SERVER, "Enabled", "1")
    check = _web(lived_in, "drift-check", "--check", "--diff", json_out=True)
    return Repair(check=check, apply=_web(lived_in, "drift-repair"))


def test_check_mode_reports_a_re_enabled_protocol_as_a_drift_record(repair: Repair) -> None:
    assert _changed(repair.check) == [TASK], describe(r for r in repair.check.run.tasks(HOST) if r["changed"])
    result = _result(repair.check, TASK)
    assert result["mcms_drift"] == [{"resource_type": "schannel", "resource": TLS10_SERVER, "attribute": "Enabled",
                                     "wanted": 0, "found": 1}]
    assert result["diff"]["before"][TLS10_SERVER]["Enabled"] == 1
    assert result["diff"]["after"][TLS10_SERVER]["Enabled"] == 0
    assert repair.check.rebooted == 0


def test_next_run_repairs_it_with_exactly_one_reboot(repair: Repair, lived_in: Lab) -> None:
    assert _changed(repair.apply) == sorted([TASK, HANDLER]), describe(
        r for r in repair.apply.run.tasks(HOST) if r["changed"])
    assert _value(lived_in, TLS10_SERVER, "Enabled") == 0
    assert repair.apply.rebooted == 1
    assert repair.apply.boot_after > repair.apply.boot_before


@dataclasses.dataclass
class Deferred:
    first: Step
    again: Step
    allowed: Step


@pytest.fixture(scope="module")
def deferred(lived_in: Lab, repair: Repair) -> Deferred:
    lived_in.winsim("drift", HOST, "set-registry", "--type", "dword", TLS10_SERVER, "Enabled", "1")
    first = _web(lived_in, "deferred", "-e", "tls_reboot_allowed=false")
    again = _web(lived_in, "deferred-again", "-e", "tls_reboot_allowed=false")
    return Deferred(first=first, again=again, allowed=_web(lived_in, "allowed"))


def _pending_reported(step: Step) -> bool:
    return "REBOOT PENDING" in step.run.stdout + step.run.stderr


def test_deferred_reboot_is_reported_and_remembered_on_the_host(deferred: Deferred, lived_in: Lab) -> None:
    assert _changed(deferred.first) == [TASK]
    assert deferred.first.rebooted == 0
    assert _pending_reported(deferred.first), deferred.first.run.output
    assert _value(lived_in, MARKER_KEY, "SchannelRebootPending"), "no pending-reboot marker on the host"


def test_a_later_deferred_run_changes_nothing_and_still_reports_it(deferred: Deferred) -> None:
    assert _changed(deferred.again) == [], describe(r for r in deferred.again.run.tasks(HOST) if r["changed"])
    assert deferred.again.rebooted == 0
    assert _pending_reported(deferred.again), deferred.again.run.output


def test_the_first_run_allowed_to_reboot_does_it_once(deferred: Deferred) -> None:
    assert _changed(deferred.allowed) == sorted([PENDING_TASK, HANDLER]), describe(
        r for r in deferred.allowed.run.tasks(HOST) if r["changed"])
    assert deferred.allowed.rebooted == 1
    assert not _pending_reported(deferred.allowed)


def test_after_the_reboot_the_marker_is_stale(deferred: Deferred, lived_in: Lab) -> None:
    # The next run re-derives "nothing pending" from these two host values.
    marker = _value(lived_in, MARKER_KEY, "SchannelRebootPending")
    boot = lived_in.state(HOST)["host"]["last_boot"]
    assert dt.datetime.fromisoformat(marker.replace("Z", "+00:00")[:26] + "+00:00") < dt.datetime.fromisoformat(
        boot.replace("Z", "+00:00")), (marker, boot)
