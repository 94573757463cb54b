"""The runner: real payloads in, the exec wrapper's (rc, stdout, stderr) out,
with check mode, diff, invocation, masking, faults, accounting and the
internal protocols (mkdtemp, cleanup, put/fetch, async, reboot)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from winsim_core_support import GENERATIONS, captured, module_payload

from winsim import decoder as d
from winsim import transport
from winsim.masking import NO_LOG_MASK, secret_digest
from winsim.models import load_all
from winsim.models._base import (
    MODELS,
    ModelSpec,
    ModuleContext,
    SimulatorError,
)
from winsim.runner import ConnectionDropped, Runner
from winsim.store import HostStore

CREDENTIAL = "ansible.windows.win_credential"
COMMAND = "ansible.windows.win_command"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("WINSIM_RUN_ID", "test-run")
    return Runner(HostStore.for_host("web1", state_dir=str(tmp_path)))


@pytest.fixture
def fake_model() -> t.Iterator[t.Callable[..., None]]:
    """Register a test model under an upstream FQCN winsim does not model."""
    load_all()
    added: list[str] = []

    def register(fqcn: str, func: t.Callable[[ModuleContext], dict[str, t.Any]]) -> None:
        assert fqcn not in MODELS, f"{fqcn} got a real model: pick another module for this test"
        MODELS[fqcn] = ModelSpec(fqcn=fqcn, func=func, upstream="test")
        added.append(fqcn)

    yield register
    for fqcn in added:
        MODELS.pop(fqcn, None)


def _credential_model(ctx: ModuleContext) -> dict[str, t.Any]:
    store = ctx.state.get("credentials", {})
    name = ctx.params["name"]
    wanted = {"username": ctx.params["username"], "secret": secret_digest(ctx.params["secret"] or "", salt=b"s" * 16)}
    if store.get(name) != wanted:
        ctx.changed()
        if not ctx.check_mode:
            ctx.state.setdefault("credentials", {})[name] = wanted
    ctx.set_diff({"exists": name in store}, {"exists": True})
    return ctx.exit()


def _run(runner: Runner, cmd: str, data: bytes | None) -> tuple[int, dict[str, t.Any]]:
    rc, out, err = runner.handle(d.decode(cmd, data))
    assert err == b""
    return rc, json.loads(out)


def _cred_args(secret: str = "Sup3rSecret!") -> dict[str, t.Any]:
    return {"name": "app", "type": "generic_password", "username": "svc", "secret": secret}


# -- module runs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("generation", GENERATIONS)
def test_module_result_is_one_json_object(runner: Runner, generation: str) -> None:
    rc, result = _run(runner, *module_payload(generation, "ansible.windows.win_stat", {"path": "C:\\Windows"}))
    assert rc == 0
    assert result["stat"]["isdir"] is True
    assert result["changed"] is False


@pytest.mark.parametrize("generation", GENERATIONS)
def test_unknown_module_fails_loudly(runner: Runner, generation: str) -> None:
    rc, result = _run(runner, *captured(generation, "ansible.windows.win_whoami"))
    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith("winsim has no model for module ansible.windows.win_whoami")
    trace = [json.loads(x) for x in runner.store.trace_path.read_text().splitlines()]
    assert trace[-1]["failed"] is True


@pytest.mark.parametrize("generation", GENERATIONS)
def test_invalid_arguments_fail_like_the_module(runner: Runner, generation: str) -> None:
    rc, result = _run(runner, *module_payload(generation, "ansible.windows.win_stat", {"path": "C:\\x", "nope": 1}))
    assert rc == 1
    assert result == {"changed": False, "failed": True,
                      "msg": "Unsupported parameters for (ansible.windows.win_stat) module: nope. Supported parameters "
                             "include: checksum_algorithm, dest, follow, get_checksum, get_size, name, path"}


def test_invocation_is_added_by_2_19_and_on_request_by_2_21(runner: Runner) -> None:
    _, old = _run(runner, *module_payload("2.19", "ansible.windows.win_stat", {"dest": "C:\\x"}))
    assert old["invocation"]["module_args"]["path"] == "C:\\x"
    assert old["invocation"]["module_args"]["dest"] == "C:\\x"
    _, new = _run(runner, *module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\x"}))
    assert "invocation" not in new
    _, asked = _run(runner, *module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\x"},
                                            extra={"_ansible_inject_invocation": True}))
    assert asked["invocation"]["module_args"]["get_checksum"] is True


@pytest.mark.parametrize("generation", GENERATIONS)
def test_module_without_check_mode_is_skipped(runner: Runner, fake_model: t.Any, generation: str) -> None:
    calls = []
    fake_model(COMMAND, lambda ctx: calls.append(ctx) or ctx.exit(changed=True))
    rc, result = _run(runner, *module_payload(generation, COMMAND, {"cmd": "whoami"}, check_mode=True))
    assert rc == 0
    assert result["skipped"] is True
    assert result["msg"] == "remote module (ansible.windows.win_command) does not support check mode"
    assert calls == []


@pytest.mark.parametrize("generation", GENERATIONS)
def test_apply_then_idempotent_then_check_mode_leaves_state_byte_identical(
        runner: Runner, fake_model: t.Any, generation: str) -> None:
    fake_model(CREDENTIAL, _credential_model)
    _, first = _run(runner, *module_payload(generation, CREDENTIAL, _cred_args()))
    assert first["changed"] is True
    _, second = _run(runner, *module_payload(generation, CREDENTIAL, _cred_args()))
    assert second["changed"] is False
    before = runner.store.state_path.read_bytes()
    mtime = runner.store.state_path.stat().st_mtime_ns
    _, check = _run(runner, *module_payload(generation, CREDENTIAL, _cred_args("Other1!"), check_mode=True))
    assert check["changed"] is True
    assert runner.store.state_path.read_bytes() == before
    assert runner.store.state_path.stat().st_mtime_ns == mtime


def test_check_mode_on_a_fresh_host_creates_no_state_file(runner: Runner, fake_model: t.Any) -> None:
    fake_model(CREDENTIAL, _credential_model)
    _, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args(), check_mode=True))
    assert result["changed"] is True
    assert not runner.store.state_path.exists()


def test_diff_only_in_diff_mode(runner: Runner, fake_model: t.Any) -> None:
    fake_model(CREDENTIAL, _credential_model)
    _, plain = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args(), check_mode=True))
    assert "diff" not in plain
    _, diffed = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args(), check_mode=True, diff=True))
    assert diffed["diff"] == {"before": {"exists": False}, "after": {"exists": True}}


def test_model_changing_state_in_check_mode_fails_loudly(runner: Runner, fake_model: t.Any) -> None:
    def bad(ctx: ModuleContext) -> dict[str, t.Any]:
        ctx.state["credentials"] = {"x": 1}
        return ctx.exit(changed=True)

    fake_model(CREDENTIAL, bad)
    with pytest.raises(SimulatorError, match="changed the host state in check mode"):
        runner.handle(d.decode(*module_payload("2.21", CREDENTIAL, _cred_args(), check_mode=True)))


def test_model_changing_state_without_reporting_it_fails_loudly(runner: Runner, fake_model: t.Any) -> None:
    def bad(ctx: ModuleContext) -> dict[str, t.Any]:
        ctx.state["credentials"] = {"x": 1}
        return ctx.exit()

    fake_model(CREDENTIAL, bad)
    with pytest.raises(SimulatorError, match="reported changed=false"):
        runner.handle(d.decode(*module_payload("2.21", CREDENTIAL, _cred_args())))


def test_model_failure_is_a_module_failure(runner: Runner, fake_model: t.Any) -> None:
    fake_model(CREDENTIAL, lambda ctx: ctx.fail("Failed to write credential: access denied", code=5))
    rc, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args()))
    assert rc == 1
    assert result == {"changed": False, "failed": True, "msg": "Failed to write credential: access denied", "code": 5}


def test_warnings_and_deprecations(runner: Runner, fake_model: t.Any) -> None:
    def warns(ctx: ModuleContext) -> dict[str, t.Any]:
        ctx.warn("careful")
        ctx.deprecate("old option", version="4.0.0", collection_name="ansible.windows")
        return ctx.exit()

    fake_model(CREDENTIAL, warns)
    _, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args()))
    assert result["warnings"] == ["careful"]
    assert result["deprecations"] == [{"msg": "old option", "version": "4.0.0", "collection_name": "ansible.windows"}]


@pytest.mark.parametrize("generation", GENERATIONS)
def test_secrets_never_reach_state_trace_or_stats(runner: Runner, fake_model: t.Any, generation: str) -> None:
    fake_model(CREDENTIAL, _credential_model)
    secret, become_pw = "Sup3rSecret!", "BecomePw9$"
    _, result = _run(runner, *module_payload(generation, CREDENTIAL, _cred_args(secret),
                                             become=("svc_deploy", become_pw)))
    assert result["changed"] is True
    if generation == "2.19":
        assert result["invocation"]["module_args"]["secret"] == NO_LOG_MASK
    for path in (runner.store.state_path, runner.store.trace_path, runner.store.stats_path):
        text = path.read_text()
        assert secret not in text, path
        assert become_pw not in text, path
    trace = [json.loads(x) for x in runner.store.trace_path.read_text().splitlines()]
    assert trace[-1]["args"]["secret"] == NO_LOG_MASK
    assert trace[-1]["become_user"] == "svc_deploy"


def test_failure_message_is_masked(runner: Runner, fake_model: t.Any) -> None:
    fake_model(CREDENTIAL, lambda ctx: ctx.fail(f"bad secret {ctx.params['secret']}"))
    _, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args("Sup3rSecret!")))
    assert result["failed"] is True
    assert "Sup3rSecret!" not in runner.store.trace_path.read_text()


# -- accounting and faults ---------------------------------------------------------------------------

def test_round_trips_are_counted_per_module(runner: Runner) -> None:
    for _ in range(3):
        runner.handle(d.decode(*module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\"})))
    runner.handle(d.decode(*captured("2.21", "mkdtemp")))
    stats = runner.store.load_stats()
    assert stats["total"]["round_trips"] == 4
    assert stats["total"]["modules"] == {"ansible.windows.win_stat": 3}
    assert stats["runs"][0]["run"] == "test-run"
    assert stats["runs"][0]["internal"] == {"mkdtemp": 1}


@pytest.mark.parametrize(("fault", "dropped"), [
    ({"kind": "drop_connection", "at": 2}, [False, True, False, False]),
    ({"kind": "drop_connection", "after": 2}, [False, False, True, True]),
    ({"kind": "drop_connection", "at": 2, "base": 1}, [False, False, True, False]),
])
def test_drop_connection(runner: Runner, fault: dict[str, t.Any], dropped: list[bool]) -> None:
    runner.store.save_faults([fault])
    seen = []
    for _ in dropped:
        try:
            runner.handle(d.decode(*module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\"})))
            seen.append(False)
        except ConnectionDropped:
            seen.append(True)
    assert seen == dropped


def test_disk_full_fault(runner: Runner, fake_model: t.Any) -> None:
    from winsim import state as st

    def writer(ctx: ModuleContext) -> dict[str, t.Any]:
        st.write_file(ctx.state, "C:\\big.bin", b"x" * 10, st.iso(ctx.now()))
        return ctx.exit(changed=True)

    fake_model(CREDENTIAL, writer)
    runner.store.save_faults([{"kind": "disk_full", "target": "C:"}])
    rc, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args()))
    assert rc == 1
    assert result["msg"].startswith("There is not enough space on the disk.")
    assert not runner.store.state_path.exists()
    runner.store.save_faults([])
    rc, result = _run(runner, *module_payload("2.21", CREDENTIAL, _cred_args()))
    assert rc == 0
    free = runner.store.load_state()["disks"]["C:"]["free"]
    assert free == 100 * 1024 ** 3 - 10


# -- internal protocols ---------------------------------------------------------------------------------

@pytest.mark.parametrize("generation", GENERATIONS)
def test_mkdtemp_put_file_and_cleanup(runner: Runner, tmp_path: Path, generation: str) -> None:
    rc, out, _ = runner.handle(d.decode(*captured(generation, "mkdtemp")))
    assert rc == 0
    tmpdir = out.decode().strip()
    assert tmpdir.startswith("C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-tmp-")
    local = tmp_path / "src.txt"
    local.write_bytes(b"payload")
    transport.put_file(runner, str(local), tmpdir + "\\source")
    assert runner.runtime.read_tmp(tmpdir + "\\SOURCE") == b"payload"
    cleanup = captured(generation, "cleanup")
    request = d.decode(*cleanup)
    assert isinstance(request, d.RemoveRequest)
    assert runner.handle(d.RemoveRequest(generation, tmpdir, True))[0] == 0
    assert not runner.runtime.is_tmp(tmpdir + "\\source")
    assert not runner.store.state_path.exists()


def test_put_file_outside_a_temp_dir_fails_loudly(runner: Runner, tmp_path: Path) -> None:
    local = tmp_path / "x"
    local.write_bytes(b"x")
    with pytest.raises(SimulatorError, match="not inside an Ansible temporary directory"):
        transport.put_file(runner, str(local), "C:\\Windows\\x")


def test_fetch_file_from_the_host(runner: Runner, tmp_path: Path, fake_model: t.Any) -> None:
    from winsim import state as st

    state = runner.store.load_state()
    st.write_file(state, "C:\\data.txt", b"content", "2026-01-01T00:00:00Z")
    runner.store.save_state(state)
    transport.fetch_file(runner, "c:\\DATA.txt", str(tmp_path / "out" / "data.txt"))
    assert (tmp_path / "out" / "data.txt").read_bytes() == b"content"
    assert runner.store.load_stats()["total"]["bytes_fetched"] == 7
    with pytest.raises(SimulatorError, match="does not exist"):
        transport.fetch_file(runner, "C:\\missing.txt", str(tmp_path / "m"))


def test_cleanup_of_an_unknown_path_reports_like_powershell(runner: Runner) -> None:
    rc, _, err = runner.handle(d.RemoveRequest("2.21", "C:\\nope\\ansible-tmp-1", True))
    assert rc == 1
    assert b"Cannot find path 'C:\\nope\\ansible-tmp-1'" in err


@pytest.mark.parametrize("generation", GENERATIONS)
def test_async_job_then_async_status(runner: Runner, generation: str) -> None:
    rc, result = _run(runner, *captured(generation, "ansible.windows.win_stat:async"))
    assert rc == 0
    assert result["started"] is True
    assert result["finished"] is False
    jid = result["ansible_job_id"]
    request = d.decode(*captured(generation, "ansible.windows.win_stat:async"))
    assert isinstance(request, d.ModuleRequest)
    assert request.async_ is not None
    _, status = _run(runner, *module_payload(generation, "ansible.windows.async_status",
                                             {"jid": jid, "mode": "status", "_async_dir": request.async_.async_dir}))
    assert status["finished"] is True
    assert status["ansible_job_id"] == jid
    assert "stat" in status
    _, cleaned = _run(runner, *module_payload(generation, "ansible.windows.async_status",
                                              {"jid": jid, "mode": "cleanup", "_async_dir": request.async_.async_dir}))
    assert cleaned["erased"].endswith(jid)
    _, gone = _run(runner, *module_payload(generation, "ansible.windows.async_status",
                                           {"jid": jid, "_async_dir": request.async_.async_dir}))
    assert gone["failed"] is True
    assert gone["msg"].startswith("could not find job at")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_reboot_protocol(runner: Runner, generation: str) -> None:
    seen: list[str] = []

    def hook(state: dict[str, t.Any]) -> None:
        seen.append(state["host"]["last_boot"])

    transport.on_reboot(hook)
    try:
        state = runner.store.load_state()
        state["host"]["reboot_pending"] = True
        runner.store.save_state(state)
        _, before, _ = runner.handle(d.decode(*captured(generation, "reboot_boot_time")))
        rc, out, _ = runner.handle(d.decode(*captured(generation, "reboot")))
        assert rc == 0
        assert json.loads(out) == {"stdout": "", "stderr": "", "rc": 0}
        _, after, _ = runner.handle(d.decode(*captured(generation, "reboot_boot_time")))
        assert int(after) > int(before)
        test_request = d.decode(*captured(generation, "reboot_test"))
        assert isinstance(test_request, d.RebootTestRequest)
        rc, out, _ = runner.handle(test_request)
        assert rc == 0
        assert test_request.expected in out.decode()
        state = runner.store.load_state()
        assert state["host"]["reboot_pending"] is False
        assert seen == [state["host"]["last_boot"]]
    finally:
        transport.REBOOT_HOOKS.remove(hook)


def test_boot_time_is_a_filetime() -> None:
    assert transport.filetime("1601-01-01T00:00:01Z") == 10_000_000
    assert transport.filetime("2026-01-05T09:00:00Z") == (1767603600 + 11644473600) * 10_000_000


def test_no_log_task_masks_every_argument_in_the_trace(runner: Runner) -> None:
    runner.handle(d.decode(*module_payload("2.21", "ansible.windows.win_stat", {"path": "C:\\secret-dir"},
                                           extra={"_ansible_no_log": True})))
    trace = [json.loads(x) for x in runner.store.trace_path.read_text().splitlines()]
    assert trace[-1]["args"] == {"path": NO_LOG_MASK}
    assert "secret-dir" not in runner.store.trace_path.read_text()
