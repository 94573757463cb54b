"""Drift records derived from module diffs (plugin_utils/_drift.py, docs/drift-check.md).

The diffs below have the shapes the upstream modules return on a real host:
microsoft.ad's Invoke-AnsibleADObject (module_utils/_ADObject.psm1) gives a
scalar for a one-value attribute (ADPropertyValueCollection.Value before,
Compare-AnsibleADIdempotentList's unrolled Value after), a sorted list for
more, the encryption types as the enum names before and as the task wrote
them after; win_firewall_rule.ps1 gives a ``prepared`` text.
"""

from __future__ import annotations

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _drift

GMSA = "microsoft.ad.service_account"
MSA = "CN=Managed Service Accounts,DC=corp,DC=mcms,DC=internal"
WEB01 = "CN=WEB01,OU=Web,OU=Servers,DC=corp,DC=mcms,DC=internal"
WEB02 = "CN=WEB02,OU=Web,OU=Servers,DC=corp,DC=mcms,DC=internal"


def _gmsa(**over: object) -> dict[str, object]:
    side = {"attributes": {}, "name": "svc_mcms_app", "path": MSA, "allowed_to_retrieve_password": [WEB01, WEB02],
            "dns_hostname": "svc_mcms_app.corp.mcms.internal", "description": "MCMS app pool",
            "kerberos_encryption_types": ["AES128", "AES256"], "sam_account_name": "svc_mcms_app$"}
    side.update(over)
    return side


def test_converged_gmsa_diff_gives_no_record() -> None:
    """Real AD: the encryption types read back as the enum names (AES128), the task's set as written (aes128)."""
    diff = {"before": _gmsa(), "after": _gmsa(kerberos_encryption_types=["aes128", "aes256"])}
    assert _drift.records_from_diff(diff, GMSA) == []


def test_one_value_is_a_scalar_on_one_side_and_a_list_on_the_other() -> None:
    diff = {"before": _gmsa(allowed_to_retrieve_password=WEB01, description="MCMS app pool"),
            "after": _gmsa(allowed_to_retrieve_password=[WEB01.lower()], description=["MCMS app pool"],
                           dns_hostname=["svc_mcms_app.corp.mcms.internal"], kerberos_encryption_types="aes256")}
    assert _drift.records_from_diff(diff, GMSA) == [
        ("kerberos_encryption_types", ["aes256"], ["AES128", "AES256"])]


def test_changed_description_is_the_only_record() -> None:
    diff = {"before": _gmsa(description="edited by hand"),
            "after": _gmsa(description="MCMS app pool", kerberos_encryption_types=["aes256", "aes128"],
                           allowed_to_retrieve_password=[WEB02, WEB01])}
    assert _drift.records_from_diff(diff, GMSA) == [("description", "MCMS app pool", "edited by hand")]


def test_description_compares_case_sensitively_as_the_module_does() -> None:
    diff = {"before": _gmsa(description="mcms app pool"), "after": _gmsa()}
    assert _drift.records_from_diff(diff, GMSA) == [("description", "MCMS app pool", "mcms app pool")]


def test_principals_compare_as_a_set_of_dns_case_insensitively() -> None:
    diff = {"before": _gmsa(allowed_to_retrieve_password=WEB01),
            "after": _gmsa(allowed_to_retrieve_password=[WEB02, WEB01.upper()])}
    assert _drift.records_from_diff(diff, GMSA) == [
        ("allowed_to_retrieve_password", sorted([WEB01.upper(), WEB02]), [WEB01])]


def test_path_and_sam_compare_case_insensitively() -> None:
    diff = {"before": _gmsa(path=MSA.lower(), sam_account_name="SVC_MCMS_APP$"), "after": _gmsa()}
    assert _drift.records_from_diff(diff, GMSA) == []


def test_missing_and_unwanted_objects_are_present_records() -> None:
    assert _drift.records_from_diff({"before": None, "after": _gmsa()}, GMSA) == [("present", True, False)]
    assert _drift.records_from_diff({"before": _gmsa(), "after": None}, GMSA) == [("present", False, True)]


def test_unknown_module_still_equates_a_one_item_list_with_its_item() -> None:
    assert _drift.records_from_diff({"before": {"a": "x", "b": [1, 2]}, "after": {"a": ["x"], "b": [2, 1]}}) == [
        ("b", [2, 1], [1, 2])]


FW_PREPARED = (
    "[World Wide Web Services (HTTP Traffic-In)]\n"
    "-Enabled='True'\n"
    "+Enabled='False'\n"
    "[World Wide Web Services (HTTPS Traffic-In)]\n"
)


def test_firewall_rule_re_enabled_gives_one_precise_record() -> None:
    records = _drift.diff_records("community.windows.win_firewall_rule", {"prepared": FW_PREPARED},
                                  "IIS-WebServerRole-HTTP-In-TCP")
    assert records == [{"resource_type": "firewall_rule", "resource": "World Wide Web Services (HTTP Traffic-In)",
                        "attribute": "enabled", "wanted": False, "found": True}]


def test_firewall_rule_ports_and_profiles_in_the_options_words() -> None:
    prepared = ("[MCMS IIS (TCP-In)]\n-Profiles='3'\n+Profiles='7'\n-LocalPorts='443'\n+LocalPorts='80,443'\n"
                "-Description='two\nlines'\n+Description='one'\n")
    records = _drift.records_from_prepared("community.windows.win_firewall_rule", prepared)
    assert [(r["attribute"], r["wanted"], r["found"]) for r in records] == [
        ("profiles", ["domain", "private", "public"], ["domain", "private"]),
        ("localport", "80,443", "443"),
        ("description", "one", "two\nlines")]


def test_firewall_rule_created_or_removed_is_a_present_record() -> None:
    created = "+[MCMS IIS (TCP-In)]\n+Enabled='True'\n+LocalPorts='443'\n"
    removed = "-[Old rule]\n-Enabled='True'\n"
    assert [(r["resource"], r["attribute"], r["wanted"], r["found"]) for r in
            _drift.records_from_prepared("community.windows.win_firewall_rule", created + removed)] == [
        ("MCMS IIS (TCP-In)", "present", True, False), ("Old rule", "present", False, True)]


@pytest.mark.parametrize("action", ["ansible.windows.win_copy", "community.windows.win_xml"])
def test_prepared_text_of_other_modules_gives_no_record(action: str) -> None:
    assert _drift.diff_records(action, {"prepared": FW_PREPARED}, "x") == []


def test_before_after_records_name_the_module_and_item() -> None:
    diff = {"before": _gmsa(description="old"), "after": _gmsa()}
    assert _drift.diff_records(GMSA, diff, "svc_mcms_app") == [
        {"resource_type": GMSA, "resource": "svc_mcms_app", "attribute": "description", "wanted": "MCMS app pool",
         "found": "old"}]


def test_the_collector_documentation_parses() -> None:
    """ansible-playbook loads the callback's DOCUMENTATION as YAML before any task: a broken one stops every run."""
    import yaml

    from ansible_collections.mcms.infra.plugins.callback import drift

    doc = yaml.safe_load(drift.DOCUMENTATION)
    assert doc["name"] == "drift"
    assert any("prepared" in line for line in doc["description"])
