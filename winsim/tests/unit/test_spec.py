"""Argument validation: each invalid call fails with the message the real
module gives (Ansible.Basic.cs CheckArguments, or Legacy Get-AnsibleParam),
valid calls get defaults, aliases and conversions applied the same way."""

from __future__ import annotations

import typing as t

import pytest

from winsim import state as st
from winsim.models import load_all
from winsim.models._base import ModuleFailed, SimulatorError
from winsim.spec import (
    CheckModeSkip,
    Validated,
    load_module_source,
    module_spec,
    validate,
)

STAT_SUPPORTED = "checksum_algorithm, dest, follow, get_checksum, get_size, name, path"


def _validate(fqcn: str, args: dict[str, t.Any], **flags: t.Any) -> Validated:
    load_all()
    source, utils = load_module_source(fqcn)
    spec = module_spec(fqcn, source, utils)
    complex_args = dict(args)
    complex_args.update({"_ansible_module_name": fqcn, "_ansible_check_mode": False, "_ansible_diff": False})
    complex_args.update({f"_ansible_{k}": v for k, v in flags.items()})
    state = st.fresh_state("winsim")
    return validate(spec, complex_args, fqcn, lambda s: st.expand_env(s, state))


def _fails(fqcn: str, args: dict[str, t.Any], **flags: t.Any) -> str:
    with pytest.raises(ModuleFailed) as err:
        _validate(fqcn, args, **flags)
    return err.value.msg


# -- Ansible.Basic ------------------------------------------------------------------------------

def test_unknown_option() -> None:
    assert _fails("ansible.windows.win_stat", {"path": "C:\\x", "bogus": 1, "alpha": 2}) == (
        "Unsupported parameters for (ansible.windows.win_stat) module: alpha, bogus. "
        f"Supported parameters include: {STAT_SUPPORTED}")


def test_unknown_option_allowed_with_ignore_unknown_opts() -> None:
    result = _validate("ansible.windows.win_stat", {"path": "C:\\x", "bogus": 1}, ignore_unknown_opts=True)
    assert result.params["path"] == "C:\\x"
    assert "bogus" not in result.params


def test_wrong_choice() -> None:
    assert _fails("ansible.windows.win_stat", {"path": "C:\\x", "checksum_algorithm": "md4"}) == (
        "value of checksum_algorithm must be one of: md5, sha1, sha256, sha384, sha512. Got no match for: md4")


def test_choice_is_case_insensitive_and_keeps_the_given_case() -> None:
    assert _validate("ansible.windows.win_stat", {"path": "C:\\x", "checksum_algorithm": "SHA256"}
                     ).params["checksum_algorithm"] == "SHA256"


def test_bool_given_to_a_str_choice_is_rendered_as_dotnet_does() -> None:
    assert _fails("ansible.windows.win_stat", {"path": "C:\\x", "checksum_algorithm": True}).endswith(
        "Got no match for: True")


def test_missing_required() -> None:
    assert _fails("ansible.windows.win_stat", {}) == "missing required arguments: path"


@pytest.mark.parametrize(("value", "message"), [
    ("maybe", "argument for get_size is of type System.String and we were unable to convert to bool: The value "
              "'maybe' is not a valid boolean. Valid booleans include: y, yes, on, 1, true, t, 1.0, n, no, off, 0, "
              "false, f, 0.0"),
    (2, "argument for get_size is of type System.Int32 and we were unable to convert to bool: The value '2' is "
        "not a valid boolean. Valid booleans include: y, yes, on, 1, true, t, 1.0, n, no, off, 0, false, f, 0.0"),
])
def test_wrong_type_bool(value: t.Any, message: str) -> None:
    assert _fails("ansible.windows.win_stat", {"path": "C:\\x", "get_size": value}) == message


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", True), ("on", True), (1, True), ("1.0", True), ("T", True), ("no", False), ("0", False), (False, False),
])
def test_bool_conversions(value: t.Any, expected: bool) -> None:
    assert _validate("ansible.windows.win_stat", {"path": "C:\\x", "get_size": value}).params["get_size"] is expected


def test_wrong_type_int() -> None:
    assert _fails("lowlydba.sqlserver.database", {"sql_instance": "localhost", "database": "db", "maxdop": "x"}) == (
        "argument for maxdop is of type System.String and we were unable to convert to int: "
        "Input string was not in a correct format.")


def test_int_from_string() -> None:
    params = _validate("lowlydba.sqlserver.database", {"sql_instance": "localhost", "database": "db",
                                                       "maxdop": " 4 "}).params
    assert params["maxdop"] == 4


def test_defaults_and_missing_options() -> None:
    params = _validate("ansible.windows.win_stat", {"path": "C:\\x"}).params
    assert params == {"path": "C:\\x", "get_checksum": True, "get_size": True, "checksum_algorithm": "sha1",
                      "follow": False}


def test_string_default_is_converted_like_a_value() -> None:
    # lowlydba.sqlserver.database declares only_accessible default 'true' (a string) in its source;
    # the documentation says true: either way the module sees a bool.
    params = _validate("lowlydba.sqlserver.database", {"sql_instance": "localhost", "database": "db"}).params
    assert params["only_accessible"] is True


def test_alias_sets_the_option_and_stays_in_invocation() -> None:
    result = _validate("ansible.windows.win_stat", {"dest": "C:\\x"})
    assert result.params["path"] == "C:\\x"
    assert result.module_args["dest"] == "C:\\x"
    assert result.module_args["path"] == "C:\\x"


def test_option_names_are_case_insensitive() -> None:
    assert _validate("ansible.windows.win_stat", {"PATH": "C:\\x"}).params["path"] == "C:\\x"


def test_list_from_comma_separated_string() -> None:
    params = _validate("ansible.windows.win_feature", {"name": "Web-Server, Web-Asp-Net45"}).params
    assert params["name"] == ["Web-Server", "Web-Asp-Net45"]


def test_list_from_dict_fails() -> None:
    assert _fails("ansible.windows.win_feature", {"name": {"a": 1}}) == (
        "argument for name is of type System.Collections.Hashtable and we were unable to convert to list: "
        "System.Collections.Hashtable cannot be converted to a list")


def test_path_expands_host_environment() -> None:
    assert _validate("ansible.windows.win_stat", {"path": "%SystemRoot%\\notepad.exe"}).params["path"] == (
        "C:\\Windows\\notepad.exe")


def test_path_with_invalid_characters() -> None:
    assert _fails("ansible.windows.win_stat", {"path": "C:\\a<b"}) == (
        "argument for path is of type System.String and we were unable to convert to path: "
        "string value contains invalid path characters, cannot convert to path")


def test_suboption_missing_required_names_its_context() -> None:
    assert _fails("ansible.windows.win_credential", {"name": "n", "type": "generic_password", "username": "u",
                                                     "attributes": [{"data": "x"}]}) == (
        "missing required arguments: name found in attributes")


def test_suboption_unknown_option_names_its_context() -> None:
    assert _fails("ansible.windows.win_credential", {"name": "n", "type": "generic_password", "username": "u",
                                                     "attributes": [{"name": "a", "bogus": 1}]}) == (
        "Unsupported parameters for (ansible.windows.win_credential) module: bogus found in attributes. "
        "Supported parameters include: data, data_format, name")


def test_suboption_defaults_are_applied() -> None:
    params = _validate("ansible.windows.win_credential", {"name": "n", "type": "generic_password", "username": "u",
                                                          "attributes": [{"name": "a"}]}).params
    assert params["attributes"] == [{"name": "a", "data": None, "data_format": "text"}]


def test_no_log_option_values_are_collected() -> None:
    result = _validate("ansible.windows.win_credential", {"name": "n", "type": "generic_password", "username": "u",
                                                          "secret": "Sup3rSecret"})
    assert "Sup3rSecret" in list(result.secrets)


def test_no_log_option_of_a_doc_fragment_is_collected() -> None:
    result = _validate("lowlydba.sqlserver.database", {"sql_instance": "localhost", "database": "db",
                                                       "sql_username": "sa", "sql_password": "SqlPw!"})
    assert list(result.secrets) == ["SqlPw!"]


def test_required_if_from_the_module_source() -> None:
    assert _fails("ansible.windows.win_package", {"state": "present"}) == (
        "state is present but all of the following are missing: path")


def test_required_if_any_from_the_module_source() -> None:
    assert _fails("ansible.windows.win_package", {"state": "absent"}) == (
        "state is absent but any of the following are missing: path, product_id")


def test_mutually_exclusive_from_the_module_source() -> None:
    assert _fails("lowlydba.sqlserver.user_role", {"sql_instance": "x", "database": "db", "username": "u",
                                                   "role": "a", "roles": {"add": ["b"]}}) == (
        "parameters are mutually exclusive: role, roles")


def test_required_by_from_the_module_source() -> None:
    assert _fails("ansible.windows.win_service", {"name": "svc", "password": "pw"}) == (
        "missing parameter(s) required by 'password': username")


def test_check_mode_skip_for_a_module_without_check_mode() -> None:
    with pytest.raises(CheckModeSkip) as skip:
        _validate("ansible.windows.win_command", {"cmd": "whoami"}, check_mode=True)
    assert skip.value.msg == "remote module (ansible.windows.win_command) does not support check mode"


def test_unknown_option_is_reported_before_the_check_mode_skip() -> None:
    assert _fails("ansible.windows.win_command", {"cmd": "whoami", "bogus": 1}, check_mode=True).startswith(
        "Unsupported parameters for (ansible.windows.win_command) module: bogus.")


def test_missing_required_is_not_reported_in_check_mode_skip() -> None:
    with pytest.raises(CheckModeSkip):
        _validate("ansible.windows.win_command", {}, check_mode=True)


def test_flags_from_ansible_keys() -> None:
    flags = _validate("ansible.windows.win_stat", {"path": "C:\\x"}, diff=True, inject_invocation=True).flags
    assert flags["diff"] is True
    assert flags["inject_invocation"] is True


# -- Ansible.ModuleUtils.Legacy -------------------------------------------------------------------

def test_legacy_missing_required() -> None:
    assert _fails("ansible.windows.slurp", {}) == "Get-AnsibleParam: Missing required argument: src"


def test_legacy_alias() -> None:
    assert _validate("ansible.windows.slurp", {"path": "C:\\x"}).params["src"] == "C:\\x"


def test_legacy_choice_message_uses_the_source_validateset_order() -> None:
    assert _fails("ansible.windows.async_status", {"jid": "1", "mode": "kill", "_async_dir": "C:\\a"}) == (
        "Get-AnsibleParam: Argument mode needs to be one of status,cleanup but was kill.")


def test_legacy_accepts_unknown_options_and_keeps_internal_ones() -> None:
    params = _validate("ansible.windows.win_copy", {"dest": "C:\\x", "_copy_mode": "query", "files": []}).params
    assert params["_copy_mode"] == "query"
    assert params["files"] == []


def test_legacy_bool_is_lenient() -> None:
    assert _validate("ansible.windows.win_copy", {"dest": "C:\\x", "force": "maybe"}).params["force"] is False


def test_legacy_check_mode_declared_in_source() -> None:
    # win_copy passes -supports_check_mode $true to Parse-Args: it is not skipped.
    assert _validate("ansible.windows.win_copy", {"dest": "C:\\x"}, check_mode=True).flags["check_mode"] is True


def test_module_without_known_module_util_fails_loudly() -> None:
    with pytest.raises(SimulatorError, match=r"neither Ansible.Basic nor Ansible.ModuleUtils.Legacy"):
        module_spec("ansible.windows.win_stat", "#!powershell\nWrite-Output 1\n", {})


def test_check_mode_support_declared_by_the_module_util_that_creates_the_module() -> None:
    # microsoft.ad's object modules build their spec in the _ADObject util (Invoke-AnsibleADObject).
    source, utils = load_module_source("microsoft.ad.user")
    assert "ansible_collections.microsoft.ad.plugins.module_utils._ADObject" in utils
    spec = module_spec("microsoft.ad.user", source, utils)
    assert spec.supports_check_mode is True
    assert {"password"} <= spec.no_log_names


def test_check_mode_support_declared_in_a_module_util_is_found() -> None:
    # microsoft.ad's object modules let _ADObject.psm1 create the module.
    source, utils = load_module_source("microsoft.ad.user")
    assert module_spec("microsoft.ad.user", source, utils).supports_check_mode is True


def test_spec_cache_is_keyed_by_the_module_utils_too() -> None:
    # A spec built with the utils must not answer for one built without
    # them (and the reverse): the result would depend on call order.
    source, utils = load_module_source("microsoft.ad.group")
    with_utils = module_spec("microsoft.ad.group", source, utils)
    without = module_spec("microsoft.ad.group", source, {})
    assert (with_utils.supports_check_mode, without.supports_check_mode) == (True, False)
