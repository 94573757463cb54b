"""Unit tests of the ``mcms.infra.preflight`` action and its checks (``plugin_utils/_preflight.py``).

Each test proves one behaviour. Roles are built in a temporary roles path with
their own ``meta/argument_specs.yml`` and ``defaults/main.yml``; the action is
driven with a stand-in for Ansible's ``hostvars`` (raw variables plus a
resolver), which is all it reads from the inventory.
"""

from __future__ import annotations

import pathlib
import re
import typing as t
from unittest import mock

import pytest
import yaml
from ansible.errors import AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader

from ansible_collections.mcms.infra.plugins.action.preflight import ActionModule
from ansible_collections.mcms.infra.plugins.plugin_utils import _preflight as pf

WEB_SPEC = {
    "argument_specs": {
        "main": {
            "short_description": "A web role",
            "options": {
                "web_port": {"type": "int", "default": 443, "description": "HTTPS port."},
                "web_mode": {"type": "str", "choices": ["fast", "safe"], "default": "safe"},
                "web_owner": {"type": "str", "required": True, "description": "Who owns it."},
                "web_enabled": {"type": "bool", "default": True},
                "web_source": {"type": "str", "default": ""},
                "web_token": {"type": "str", "default": "", "no_log": True},
                "web_sites": {
                    "type": "list", "elements": "dict", "default": [],
                    "options": {
                        "name": {"type": "str", "required": True},
                        "password": {"type": "str", "no_log": True, "default": ""},
                    },
                },
            },
        },
    },
}
WEB_DEFAULTS = {"web_port": 443, "web_mode": "safe", "web_enabled": True, "web_source": "", "web_token": "",
                "web_sites": []}
VALID_WEB = {"web_owner": "ops"}


def _make_role(root: pathlib.Path, name: str, spec: dict | None, defaults: dict | None) -> None:
    role = root / name
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("---\n[]\n", encoding="utf-8")
    if spec is not None:
        (role / "meta").mkdir()
        (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    if defaults is not None:
        (role / "defaults").mkdir()
        (role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults), encoding="utf-8")


@pytest.fixture
def roles_path(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "roles"
    _make_role(root, "web", WEB_SPEC, WEB_DEFAULTS)
    return root


@pytest.fixture
def web_role(roles_path: pathlib.Path) -> pf.RoleSpec:
    return pf.load_role("web", [str(roles_path)], lambda p: yaml.safe_load(pathlib.Path(p).read_text()))


def _resolver(values: dict[str, t.Any], broken: t.Iterable[str] = ()) -> pf.Resolver:
    broken = set(broken)

    def resolve(name: str) -> t.Any:
        if name in broken:
            raise pf.Unresolvable(f"'{name}' references an undefined variable")
        return values[name]

    return resolve


def _names(problems: list[pf.Problem]) -> list[tuple[str, str]]:
    return [(p.host, p.variable) for p in problems]


# -- role input -------------------------------------------------------------------------------


def test_valid_role_input_has_no_problem(web_role: pf.RoleSpec) -> None:
    values = {"web_owner": "ops", "web_port": 8443, "web_sites": [{"name": "MCMS"}]}
    assert pf.check_role_input("web01", web_role, values, _resolver(values)) == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        pytest.param("web_port", "not-a-port", "int", id="wrong-type"),
        pytest.param("web_mode", "reckless", "one of: fast, safe", id="not-a-choice"),
        pytest.param("web_sites", [{"name": "MCMS", "colour": "red"}], "colour", id="unknown-nested-key"),
        pytest.param("web_sites", [{"password": ""}], "name", id="nested-required-missing"),
    ],
)
def test_invalid_role_input_names_the_variable(web_role: pf.RoleSpec, variable: str, value: t.Any,
                                               expected: str) -> None:
    values = dict(VALID_WEB, **{variable: value})
    problems = pf.check_role_input("web01", web_role, values, _resolver(values))
    assert _names(problems) == [("web01", variable)]
    assert expected in problems[0].problem
    assert "roles/web/meta/argument_specs.yml" in problems[0].fix


def test_required_option_without_default_must_be_defined(web_role: pf.RoleSpec) -> None:
    problems = pf.check_role_input("web01", web_role, {}, _resolver({}))
    assert _names(problems) == [("web01", "web_owner")]
    assert "required by role web and not defined" in problems[0].problem


def test_options_left_out_are_filled_by_role_defaults(web_role: pf.RoleSpec) -> None:
    # Only web_owner (required, no default) is defined: every other option comes from the role.
    assert pf.check_role_input("web01", web_role, VALID_WEB, _resolver(VALID_WEB)) == []


@pytest.mark.parametrize(
    ("variable", "hint"),
    [
        pytest.param("web_prot", "did you mean web_port?", id="typo-suggests-option"),
        pytest.param("web_zzzzzzzzzzzz", "argument_specs.yml", id="no-close-option"),
    ],
)
def test_unknown_role_prefixed_variable_is_reported(web_role: pf.RoleSpec, variable: str, hint: str) -> None:
    values = dict(VALID_WEB, **{variable: 1})
    problems = pf.check_role_input("web01", web_role, values, _resolver(values))
    assert _names(problems) == [("web01", variable)]
    assert "not an option of role web" in problems[0].problem
    assert hint in problems[0].fix


def test_prefixed_variable_of_another_role_is_not_reported(web_role: pf.RoleSpec) -> None:
    values = dict(VALID_WEB, web_proxy_port=1)
    problems = pf.check_role_input("web01", web_role, values, _resolver(values), other_options={"web_proxy_port"})
    assert problems == []


def test_unresolvable_variable_is_reported_not_raised(web_role: pf.RoleSpec) -> None:
    values = dict(VALID_WEB, web_source="{{ undefined_thing }}")
    problems = pf.check_role_input("web01", web_role, values, _resolver(values, broken={"web_source"}))
    assert _names(problems) == [("web01", "web_source")]
    assert problems[0].problem.startswith("cannot be resolved")


# -- tier requirements ---------------------------------------------------------------------------


TIER = pf.Tier(name="web", hosts="webservers", roles=("web",),
               required=(pf.Requirement(var="web_source", when="web_enabled", why="the artifact"),))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({}, "not defined", id="missing-while-default-enables-it"),
        pytest.param({"web_source": ""}, "empty", id="empty"),
        pytest.param({"web_enabled": True, "web_source": []}, "empty", id="empty-list"),
    ],
)
def test_required_tier_variable_must_be_set(web_role: pf.RoleSpec, values: dict, expected: str) -> None:
    problems = pf.check_requirements("web01", TIER, {"web": web_role}, values, _resolver(values))
    assert _names(problems) == [("web01", "web_source")]
    assert expected in problems[0].problem
    assert "(the artifact)" in problems[0].problem


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"web_source": "https://artifacts/x.exe"}, id="set"),
        pytest.param({"web_enabled": False}, id="condition-false"),
        pytest.param({"web_enabled": "no"}, id="condition-false-string"),
    ],
)
def test_required_tier_variable_satisfied_or_not_applicable(web_role: pf.RoleSpec, values: dict) -> None:
    assert pf.check_requirements("web01", TIER, {"web": web_role}, values, _resolver(values)) == []


# -- secrets -----------------------------------------------------------------------------------------


def test_referenced_secret_must_be_defined() -> None:
    raw = {"ansible_password": "{{ vault_ansible_password }}"}
    problems = pf.check_secrets("web01", raw, _resolver(raw))
    assert _names(problems) == [("web01", "vault_ansible_password")]
    assert "referenced by ansible_password is not defined" in problems[0].problem
    assert "vault.yml" in problems[0].fix


def test_referenced_secret_must_not_be_empty() -> None:
    raw = {"web_sites": [{"password": "{{ vault_pw | default('') }}"}], "vault_pw": ""}
    problems = pf.check_secrets("web01", raw, _resolver(raw))
    assert _names(problems) == [("web01", "vault_pw")]
    assert "referenced by web_sites is empty" in problems[0].problem


def test_defined_secret_passes() -> None:
    raw = {"ansible_password": "{{ vault_ansible_password }}", "vault_ansible_password": "s3cret"}
    assert pf.check_secrets("web01", raw, _resolver(raw)) == []


def test_vault_name_in_plain_text_is_not_a_reference() -> None:
    raw = {"note": "rotate vault_ansible_password yearly"}
    assert pf.check_secrets("web01", raw, _resolver(raw)) == []


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        pytest.param({"web_token": "hunter2"}, "web_token", id="top-level-no-log-option"),
        pytest.param({"web_sites": [{"name": "a"}, {"name": "b", "password": "hunter2"}]}, "web_sites[1].password",
                     id="nested-no-log-option"),
    ],
)
def test_plaintext_secret_is_refused(web_role: pf.RoleSpec, raw: dict, path: str) -> None:
    problems = pf.check_plaintext_secrets("web01", web_role, raw)
    assert _names(problems) == [("web01", path)]
    assert problems[0].problem == "secret given in plain text"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"web_token": "{{ vault_web_token }}"}, id="from-vault"),
        pytest.param({"web_token": ""}, id="empty"),
        pytest.param({"web_sites": [{"name": "a", "password": "{{ vault_a }}"}]}, id="nested-from-vault"),
    ],
)
def test_vaulted_or_empty_secret_is_accepted(web_role: pf.RoleSpec, raw: dict) -> None:
    assert pf.check_plaintext_secrets("web01", web_role, raw) == []


# -- connection -------------------------------------------------------------------------------------

GOOD_PSRP = {
    "ansible_psrp_protocol": "https",
    "ansible_psrp_auth": "kerberos",
    "ansible_psrp_cert_validation": "validate",
    "ansible_psrp_ca_cert": "/etc/pki/mcms/ca.pem",
}


def _optional(values: dict[str, t.Any]) -> t.Callable[[str], t.Any]:
    return lambda name: values.get(name)


def test_simulated_host_has_no_connection_requirement() -> None:
    assert pf.check_connection("web01", "mcms.winsim.sim", _optional({})) == []


def test_good_psrp_settings_pass() -> None:
    assert pf.check_connection("web01", "ansible.builtin.psrp", _optional(GOOD_PSRP), lambda p: True) == []


@pytest.mark.parametrize(
    ("connection", "override", "variable", "expected"),
    [
        pytest.param("ansible.builtin.winrm", {}, "ansible_connection", "not psrp", id="winrm"),
        pytest.param(None, {}, "ansible_connection", "not set", id="no-connection"),
        pytest.param("psrp", {"ansible_psrp_protocol": "http"}, "ansible_psrp_protocol", "not https", id="http"),
        pytest.param("psrp", {"ansible_psrp_cert_validation": "ignore"}, "ansible_psrp_cert_validation",
                     "not authenticated", id="validation-ignored"),
        pytest.param("psrp", {"ansible_psrp_auth": "credssp"}, "ansible_psrp_auth", "never allowed", id="credssp"),
        pytest.param("psrp", {"ansible_psrp_auth": "ntlm"}, "ansible_psrp_auth", "NTLM", id="ntlm"),
        pytest.param("psrp", {"ansible_psrp_auth": None}, "ansible_psrp_auth", "negotiate", id="auth-default"),
        pytest.param("psrp", {"ansible_psrp_ca_cert": ""}, "ansible_psrp_ca_cert", "empty", id="ca-empty"),
    ],
)
def test_unsafe_connection_is_refused(connection: str | None, override: dict, variable: str, expected: str) -> None:
    values = dict(GOOD_PSRP, **override)
    problems = pf.check_connection("prd-web01", connection, _optional(values), lambda p: True)
    assert _names(problems) == [("prd-web01", variable)]
    assert expected in problems[0].problem


def test_missing_ca_bundle_on_controller_is_refused() -> None:
    problems = pf.check_connection("prd-web01", "psrp", _optional(GOOD_PSRP), lambda p: False)
    assert _names(problems) == [("prd-web01", "ansible_psrp_ca_cert")]
    assert "mcms_ca_bundle_path" in problems[0].fix


# -- tiers and roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param([], "non-empty list", id="empty"),
        pytest.param([{"name": "web", "roles": ["iis"]}], "hosts", id="no-hosts"),
        pytest.param([{"name": "web", "hosts": "webservers", "roles": "iis"}], "roles", id="roles-not-list"),
        pytest.param([{"name": "web", "hosts": "webservers", "roles": [], "extra": 1}], "unknown keys",
                     id="unknown-key"),
        pytest.param([{"name": "web", "hosts": "w", "roles": [], "required": [{"when": "x"}]}], "required[0]",
                     id="requirement-without-var"),
    ],
)
def test_malformed_tiers_are_refused(data: t.Any, expected: str) -> None:
    with pytest.raises(pf.PreflightError, match=re.escape(expected)):
        pf.parse_tiers(data)


def test_role_without_argument_specs_is_refused(tmp_path: pathlib.Path) -> None:
    _make_role(tmp_path, "bare", None, None)
    with pytest.raises(pf.PreflightError, match=re.escape("no meta/argument_specs.yml")):
        pf.load_role("bare", [str(tmp_path)], yaml.safe_load)


def test_missing_role_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(pf.PreflightError, match="role ghost not found"):
        pf.load_role("ghost", [str(tmp_path)], yaml.safe_load)


def test_report_lists_every_problem_once_sorted() -> None:
    problems = [pf.Problem("web02", "b", "bad", "fix b"), pf.Problem("web01", "a", "bad", "fix a"),
                pf.Problem("web02", "b", "bad", "fix b")]
    report = pf.format_report(problems, host_count=4)
    assert report.splitlines() == [
        "Preflight found 2 problem(s) on 2 of 4 host(s); nothing was run on any host:",
        "  - web01: a: bad → fix a",
        "  - web02: b: bad → fix b",
    ]


# -- the action -------------------------------------------------------------------------------------


class FakeHostVars:
    """What the action reads from Ansible's ``hostvars``: raw vars and templated access."""

    def __init__(self, hosts: dict[str, dict[str, t.Any]], undefined: dict[str, set[str]] | None = None) -> None:
        self._hosts = hosts
        self._undefined = undefined or {}

    def raw_get(self, host: str) -> dict[str, t.Any]:
        return self._hosts[host]

    def __getitem__(self, host: str) -> t.Mapping[str, t.Any]:
        values, undefined = self._hosts[host], self._undefined.get(host, set())

        class View(dict):
            def __getitem__(self, name: str) -> t.Any:
                if name in undefined:
                    raise AnsibleUndefinedVariable(f"'{name}' is undefined")
                return values[name]

        return View(values)


def _run_action(roles_path: pathlib.Path, hosts: dict[str, dict], groups: dict[str, list[str]],
                tiers: list[dict] | None = None, undefined: dict[str, set[str]] | None = None) -> dict:
    task = mock.MagicMock()
    task.async_val = 0
    task.args = {"tiers": tiers or [{"name": "web", "hosts": "webservers", "roles": ["web"]}],
                 "roles_path": [str(roles_path)]}
    action = ActionModule(task=task, connection=mock.MagicMock(), play_context=mock.MagicMock(),
                          loader=DataLoader(), templar=None, shared_loader_obj=None)
    task_vars = {"hostvars": FakeHostVars(hosts, undefined), "groups": groups,
                 "ansible_play_hosts_all": list(hosts)}
    return action.run(task_vars=task_vars)


SIM = {"ansible_connection": "mcms.winsim.sim"}


def test_action_passes_when_every_host_is_valid(roles_path: pathlib.Path) -> None:
    hosts = {"web01": dict(SIM, **VALID_WEB), "sql01": dict(SIM)}
    result = _run_action(roles_path, hosts, {"webservers": ["web01"], "sqlservers": ["sql01"]})
    assert not result.get("failed"), result.get("msg")
    assert result["checked"] == {"web01": ["web"], "sql01": []}
    assert result["changed"] is False


def test_action_fails_once_listing_problems_of_every_host(roles_path: pathlib.Path) -> None:
    hosts = {
        "web01": dict(SIM, web_owner="ops", web_port="eighty"),
        "web02": dict(SIM, web_mode="reckless"),
    }
    result = _run_action(roles_path, hosts, {"webservers": ["web01", "web02"]})
    assert result["failed"] is True
    assert [(p["host"], p["variable"]) for p in result["problems"]] == [
        ("web01", "web_port"), ("web02", "web_mode"), ("web02", "web_owner"),
    ]
    assert "3 problem(s) on 2 of 2 host(s)" in result["msg"]
    assert "web02: web_owner: required by role web and not defined" in result["msg"]


def test_action_checks_only_roles_of_the_hosts_tiers(roles_path: pathlib.Path) -> None:
    # sql01 is not a web server: the web role's required web_owner does not apply to it.
    result = _run_action(roles_path, {"sql01": dict(SIM)}, {"webservers": [], "sqlservers": ["sql01"]})
    assert not result.get("failed"), result.get("msg")


def test_action_reports_unresolvable_secret(roles_path: pathlib.Path) -> None:
    hosts = {"web01": dict(SIM, web_owner="ops", web_token="{{ vault_token }}", vault_token="{{ missing }}")}
    result = _run_action(roles_path, hosts, {"webservers": ["web01"]}, undefined={"web01": {"vault_token",
                                                                                             "web_token"}})
    variables = {p["variable"] for p in result["problems"]}
    assert variables == {"web_token", "vault_token"}


def test_action_checks_connection_of_real_hosts(roles_path: pathlib.Path) -> None:
    hosts = {"prd-web01": dict(VALID_WEB, ansible_connection="winrm")}
    result = _run_action(roles_path, hosts, {"webservers": ["prd-web01"]})
    assert [(p["host"], p["variable"]) for p in result["problems"]] == [("prd-web01", "ansible_connection")]


def test_action_cannot_run_without_the_role(tmp_path: pathlib.Path) -> None:
    result = _run_action(tmp_path, {"web01": dict(SIM)}, {"webservers": ["web01"]})
    assert result["failed"] is True
    assert result["msg"].startswith("Preflight cannot run: role web not found")



# -- vaulted secrets ---------------------------------------------------------------------------------

def _vaulted(text: str = "x") -> t.Any:
    """An inline !vault value as the inventory loader returns it (never decrypted here)."""
    from ansible.parsing.vault import EncryptedString

    return EncryptedString(ciphertext="$ANSIBLE_VAULT;1.2;AES256;sim\n6162636465666768\n")


@pytest.mark.parametrize(
    ("raw", "variable"),
    [
        pytest.param({"ansible_password": "Passw0rd!"}, "ansible_password", id="password-in-clear"),
        pytest.param({"ansible_password": "{{ vault_ansible_password }}", "vault_ansible_password": "Passw0rd!"},
                     "vault_ansible_password", id="vault-variable-not-encrypted"),
        pytest.param({"ansible_become_password": "{{ pw }}", "pw": "Passw0rd!"}, "pw", id="via-another-variable"),
    ],
)
def test_connection_password_in_clear_is_refused(raw: dict, variable: str) -> None:
    problems = pf.check_connection_secrets("web01", raw)
    assert _names(problems) == [("web01", variable)]
    assert "plain text" in problems[0].problem


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"ansible_password": _vaulted()}, id="inline-vault"),
        pytest.param({"ansible_password": "{{ vault_ansible_password }}", "vault_ansible_password": _vaulted()},
                     id="vault-variable-encrypted"),
        pytest.param({"ansible_password": "{{ vault_ansible_password }}"}, id="reference-only"),
        pytest.param({}, id="kerberos-ticket-no-password"),
    ],
)
def test_vaulted_connection_password_is_accepted(raw: dict) -> None:
    assert pf.check_connection_secrets("web01", raw) == []


def test_role_secret_from_unencrypted_vault_variable_is_refused(web_role: pf.RoleSpec) -> None:
    raw = {"web_token": "{{ vault_web_token }}", "vault_web_token": "hunter2"}
    assert _names(pf.check_plaintext_secrets("web01", web_role, raw)) == [("web01", "vault_web_token")]
    raw["vault_web_token"] = _vaulted()
    assert pf.check_plaintext_secrets("web01", web_role, raw) == []


def test_vaulted_role_secret_is_accepted(web_role: pf.RoleSpec) -> None:
    assert pf.check_plaintext_secrets("web01", web_role, {"web_token": _vaulted()}) == []


# -- Kerberos delegation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("setting", ["ansible_psrp_negotiate_delegate", "ansible_winrm_kerberos_delegation"])
def test_kerberos_delegation_is_refused(setting: str) -> None:
    problems = pf.check_delegation("web01", _optional({setting: True}))
    assert _names(problems) == [("web01", setting)]
    assert "mcms_allow_kerberos_delegation" in problems[0].fix


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        pytest.param({"ansible_psrp_negotiate_delegate": True,
                      "mcms_allow_kerberos_delegation": {"reason": "the app reads a share as the caller"}}, False,
                     id="allowed-with-reason"),
        pytest.param({"ansible_psrp_negotiate_delegate": True, "mcms_allow_kerberos_delegation": {"reason": " "}},
                     True, id="empty-reason"),
        pytest.param({"ansible_psrp_negotiate_delegate": True, "mcms_allow_kerberos_delegation": True}, True,
                     id="no-reason"),
        pytest.param({"ansible_psrp_negotiate_delegate": False}, False, id="off"),
    ],
)
def test_kerberos_delegation_needs_an_allowance_with_a_reason(values: dict, refused: bool) -> None:
    assert bool(pf.check_delegation("web01", _optional(values))) is refused


# -- the roles' own validation functions ------------------------------------------------------------------

REPO = pathlib.Path(__file__).resolve().parents[4]
WEB_TIER = [{"name": "web", "hosts": "webservers", "roles": ["iis", "tls"]}]
GOOD_WEB = {
    "iis_hosting_bundle_source": "https://artifacts.example/dotnet-hosting-8.0.11-win.exe",
    "iis_hosting_bundle_product_id": "{26839EEE-DB8F-52EA-8A81-B752A6602FA0}",
    "iis_group_sites": [{"name": "MCMS", "hostnames": ["mcms.example.internal"]}],
    "tls_sites": [{"name": "MCMS", "hostnames": ["mcms.example.internal"]}],
}


@pytest.mark.parametrize(
    ("override", "variable", "words"),
    [
        pytest.param({"tls_cipher_suites": ["TLS_AES_256_GCM_SHA348"]}, "tls_cipher_suites",
                     "did you mean TLS_AES_256_GCM_SHA384?", id="tls-cipher-suite-typo"),
        pytest.param({"tls_sites": [{"name": "MCSM", "hostnames": ["mcms.example.internal"]}]}, "tls_sites",
                     "'MCSM' is not a site of the iis role", id="tls-site-not-an-iis-site"),
        pytest.param({"iis_firewall_profiles": ["domain", "privat"]}, "iis_firewall_profiles",
                     "'privat' is not a firewall profile", id="firewall-profile-typo"),
        pytest.param({"iis_firewall_remote_ip": "10.0.0.0/33"}, "iis_firewall_remote_ip",
                     "'10.0.0.0/33' is neither", id="firewall-remote-ip-typo"),
        pytest.param({"iis_sites_root": "inetpub\\sites"}, "iis_sites_root",
                     "iis_sites_root 'inetpub\\sites' must be an absolute path", id="relative-sites-root"),
    ],
)
def test_action_runs_each_roles_validation_function(override: dict, variable: str, words: str) -> None:
    hosts = {"web01": {**SIM, **GOOD_WEB, **override}}
    result = _run_action(REPO / "roles", hosts, {"webservers": ["web01"]}, tiers=WEB_TIER)
    assert result.get("failed"), result["msg"]
    assert [p["variable"] for p in result["problems"]] == [variable], result["msg"]
    assert words in result["problems"][0]["problem"]


def test_action_passes_the_good_web_tier_input() -> None:
    result = _run_action(REPO / "roles", {"web01": dict(SIM, **GOOD_WEB)}, {"webservers": ["web01"]},
                         tiers=WEB_TIER)
    assert not result.get("failed"), result["msg"]


def test_action_refuses_a_pfx_in_clear() -> None:
    site = {"name": "MCMS", "hostnames": ["mcms.example.internal"], "pfx_b64": "MIIKcQIBAzCCCjcGCSqGSIb3DQ",
            "pfx_password": "{{ vault_pfx_password }}"}
    hosts = {"web01": {**SIM, **GOOD_WEB, "tls_sites": [site], "vault_pfx_password": _vaulted()}}
    result = _run_action(REPO / "roles", hosts, {"webservers": ["web01"]}, tiers=WEB_TIER)
    assert ("web01", "tls_sites[0].pfx_b64") in {(p["host"], p["variable"]) for p in result["problems"]}


def test_validator_crash_is_reported_without_quoting_values(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(_values: t.Any, _others: t.Any, _inventory: t.Any) -> list[str]:
        raise ValueError("invalid literal for int(): 's3cret'")

    monkeypatch.setitem(pf.ROLE_VALIDATORS, "web", crash)
    problems = pf.check_role_semantics("web01", {"web": {"web_token": "s3cret"}})
    assert _names(problems) == [("web01", "(role web)")]
    assert "ValueError" in problems[0].problem
    assert "s3cret" not in problems[0].line()
