"""Tests of ``mcms.infra.tls_select_certificate`` and ``mcms.infra.tls_plan``."""

from __future__ import annotations

import pytest
from _tls_certs import NOW, https, iis_site, info_entry
from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.filter.tls_select_certificate import (
    FilterModule,
    tls_plan,
    tls_select_certificate,
    tls_unbindable,
)

A = "A" * 40
B = "B" * 40
C = "C" * 40
HOST = "mcms.lab.example"
SITE = {"name": "MCMS", "hostnames": [HOST], "port": 443, "ip": "*"}


def test_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {"tls_select_certificate", "tls_plan", "tls_unbindable",
                                             "tls_proof_failures"}


def test_picks_the_certificate_valid_longest() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=300),
             info_entry(C, [HOST], days_left=100)]
    chosen = tls_select_certificate(certs, [HOST], NOW)
    assert chosen["thumbprint"] == B
    assert chosen["days_left"] == 300


@pytest.mark.parametrize(("entry", "why"), [
    (info_entry(B, [HOST], days_left=300, private_key=False), "no private key"),
    (info_entry(B, ["other.lab.example"], days_left=300), "other names"),
    (info_entry(B, [HOST], days_left=-1), "expired"),
    (info_entry(B, [HOST], days_left=800, lifetime=30), "not valid yet"),
    (info_entry(B, [HOST], days_left=300, purposes=["Client Authentication"]), "client-only EKU"),
])
def test_unusable_certificates_are_never_selected(entry: dict, why: str) -> None:
    certs = [info_entry(A, [HOST], days_left=50), entry]
    assert tls_select_certificate(certs, [HOST], NOW)["thumbprint"] == A, why


def test_returns_none_without_a_candidate() -> None:
    assert tls_select_certificate([info_entry(A, ["x.example"], days_left=50)], [HOST], NOW) is None


def test_all_hostnames_must_be_covered() -> None:
    certs = [info_entry(A, [HOST], days_left=300), info_entry(B, [HOST, "api.lab.example"], days_left=100)]
    assert tls_select_certificate(certs, [HOST, "api.lab.example"], NOW)["thumbprint"] == B


@pytest.mark.parametrize(("san", "hostname", "matches"), [
    ("*.lab.example", "mcms.lab.example", True),
    ("*.lab.example", "a.b.lab.example", False),
    ("*.lab.example", "lab.example", False),
    ("MCMS.LAB.EXAMPLE", "mcms.lab.example", True),
])
def test_wildcard_matching_follows_rfc6125(san: str, hostname: str, matches: bool) -> None:
    chosen = tls_select_certificate([info_entry(A, [san], days_left=50)], [hostname], NOW)
    assert (chosen is not None) is matches


def test_pinned_thumbprint_limits_the_choice() -> None:
    certs = [info_entry(A, [HOST], days_left=50), info_entry(B, [HOST], days_left=300)]
    pinned = " ".join(A.lower()[i:i + 2] for i in range(0, 40, 2))
    assert tls_select_certificate(certs, [HOST], NOW, thumbprint=pinned)["thumbprint"] == A


def test_issuer_filter() -> None:
    certs = [info_entry(A, [HOST], days_left=50), info_entry(B, [HOST], days_left=300, issuer="CN=Other CA")]
    assert tls_select_certificate(certs, [HOST], NOW, issuer="CN=MCMS Test CA")["thumbprint"] == A


def test_accepts_iso_and_epoch_now() -> None:
    certs = [info_entry(A, [HOST], days_left=50)]
    assert tls_select_certificate(certs, HOST, NOW.isoformat())["days_left"] == 50
    assert tls_select_certificate(certs, HOST, NOW.timestamp())["days_left"] == 50


def test_bad_time_is_a_filter_error() -> None:
    with pytest.raises(AnsibleFilterError, match="tls_select_certificate"):
        tls_select_certificate([info_entry(A, [HOST], days_left=5)], [HOST], "yesterday")


# -- plan ---------------------------------------------------------------------------
def test_plan_fresh_host_needs_issue_and_no_binding() -> None:
    plan = tls_plan([SITE], [], [iis_site("MCMS", [])], NOW)
    site = plan["sites"][0]
    assert plan["issue"] == ["MCMS"]
    assert site["selected"] is None
    assert site["rebind"] == []
    assert "no valid certificate" in site["reason"]


def test_plan_noop_when_bound_to_the_selected_certificate() -> None:
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=200)], [iis_site("MCMS", [https(HOST, A)])], NOW)
    assert plan["issue"] == []
    assert plan["rebind"] == []
    assert plan["removable"] == []


def test_plan_renewal_due_within_window() -> None:
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=10)], [iis_site("MCMS", [https(HOST, A)])], NOW,
                    renew_before_days=30)
    assert plan["issue"] == ["MCMS"]
    assert "expires in 10 days" in plan["sites"][0]["reason"]
    assert plan["rebind"] == []


def test_plan_rebinds_to_newer_and_keeps_old_until_unbound() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=365)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, A)])], NOW)
    site = plan["sites"][0]
    assert plan["issue"] == []
    assert site["rebind"] == [{"protocol": "https", "ip": "*", "port": 443, "hostname": HOST, "use_sni": True,
                               "certificate_hash": B, "certificate_store_name": "My"}]
    assert site["previous"] == [{"protocol": "https", "ip": "*", "port": 443, "hostname": HOST, "use_sni": True,
                                 "certificate_hash": A, "certificate_store_name": "My"}]
    assert plan["removable"] == [], "the old certificate is still bound"


def test_plan_removes_replaced_certificate_once_unbound() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=365)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, B)])], NOW)
    assert plan["removable"] == [A]


def test_plan_never_removes_a_certificate_bound_by_another_site() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=365)]
    sites = [iis_site("MCMS", [https(HOST, B)]), iis_site("Legacy", [https(HOST, A, port=8443)])]
    assert tls_plan([SITE], certs, sites, NOW)["removable"] == []


def test_plan_never_removes_unrelated_certificates() -> None:
    certs = [info_entry(A, ["other.example"], days_left=10), info_entry(B, [HOST], days_left=365),
             info_entry(C, [HOST, "api.example"], days_left=5)]
    assert tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, B)])], NOW)["removable"] == []


def test_plan_detects_binding_moved_to_another_certificate() -> None:
    certs = [info_entry(A, [HOST], days_left=300), info_entry(B, [HOST], days_left=100)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, B)])], NOW)
    assert plan["rebind"] == ["MCMS"]
    assert plan["sites"][0]["previous"][0]["certificate_hash"] == B


def test_plan_rebinds_when_store_or_sni_differs() -> None:
    certs = [info_entry(A, [HOST], days_left=300)]
    binding = https(HOST, A, store="WebHosting")
    assert tls_plan([SITE], certs, [iis_site("MCMS", [binding])], NOW)["rebind"] == ["MCMS"]
    binding = dict(https(HOST, A), use_sni=False)
    assert tls_plan([SITE], certs, [iis_site("MCMS", [binding])], NOW)["rebind"] == ["MCMS"]


def test_plan_imports_offered_certificate_only_when_better() -> None:
    certs = [info_entry(A, [HOST], days_left=200)]
    iis = [iis_site("MCMS", [https(HOST, A)])]
    newer = info_entry(B, [HOST], days_left=365)
    older = info_entry(C, [HOST], days_left=100)
    assert tls_plan([SITE], certs, iis, NOW, offered={"MCMS": newer})["sites"][0]["import_offer"] is True
    assert tls_plan([SITE], certs, iis, NOW, offered={"MCMS": older})["issue"] == []


def test_plan_reports_missing_site_and_rejections() -> None:
    certs = [info_entry(A, [HOST], days_left=200, private_key=False)]
    plan = tls_plan([SITE], certs, [], NOW)
    assert plan["missing_sites"] == ["MCMS"]
    assert plan["sites"][0]["rejected"] == {A: "has no private key"}


def test_plan_bad_site_is_a_filter_error() -> None:
    with pytest.raises(AnsibleFilterError, match="tls_plan"):
        tls_plan([{"hostnames": [HOST]}], [], [], NOW)


def test_plan_new_binding_has_no_previous_and_keeps_site_state() -> None:
    http = {"protocol": "http", "ip": "*", "port": 80, "hostname": HOST, "certificate_hash": ""}
    iis = [dict(iis_site("MCMS", [http]), state="Stopped")]
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=300)], iis, NOW)
    site = plan["sites"][0]
    assert site["previous"] == []
    assert site["state"] == "stopped", "binding a stopped site must not start it"
    assert site["key_reader"] == "IIS APPPOOL\\MCMS"


def test_plan_first_binding_starts_a_site_iis_could_not_start() -> None:
    # An HTTPS-only site is created stopped by the iis role (no binding yet):
    # its first binding starts it, so one run converges it.
    iis = [dict(iis_site("MCMS", []), state="Stopped")]
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=300)], iis, NOW)
    assert plan["sites"][0]["state"] == "started"


def test_plan_declared_site_state_wins() -> None:
    iis = [dict(iis_site("MCMS", []), state="Stopped")]
    plan = tls_plan([dict(SITE, state="stopped")], [info_entry(A, [HOST], days_left=300)], iis, NOW)
    assert plan["sites"][0]["state"] == "stopped"


def test_plan_removes_https_bindings_nobody_declared() -> None:
    # an operator moved the https binding to :8443 and added a bare-IP one
    moved = [https(HOST, A, port=8443), https("", A, ip="10.0.0.5")]
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=300)], [iis_site("MCMS", moved)], NOW)
    site = plan["sites"][0]
    assert site["stray"] == [{"ip": "*", "port": 8443, "hostname": HOST}, {"ip": "10.0.0.5", "port": 443,
                                                                            "hostname": ""}]
    assert site["rebind"][0]["port"] == 443
    assert plan["reconcile"] == ["MCMS"]


def test_plan_stray_binding_alone_needs_reconcile_but_no_rebind() -> None:
    bindings = [https(HOST, A), https(HOST, A, port=8443)]
    plan = tls_plan([SITE], [info_entry(A, [HOST], days_left=300)], [iis_site("MCMS", bindings)], NOW)
    assert (plan["rebind"], plan["reconcile"]) == ([], ["MCMS"])
    assert plan["sites"][0]["stray_labels"] == [f"*:8443:{HOST}"]


def test_plan_keeps_stray_bindings_while_no_certificate_is_selected() -> None:
    # without a certificate to bind, removing the only https binding would leave the site without one
    plan = tls_plan([SITE], [], [iis_site("MCMS", [https(HOST, A, port=8443)])], NOW)
    assert plan["sites"][0]["stray"] == []


def test_plan_keeps_the_old_certificate_while_a_stray_binding_uses_it() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=365)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, B), https(HOST, A, port=8443)])], NOW)
    assert plan["removable"] == []


def test_plan_key_reader_follows_app_pool() -> None:
    site = dict(SITE, app_pool="MCMSPool")
    plan = tls_plan([site], [], [], NOW)
    assert plan["sites"][0]["key_reader"] == "IIS APPPOOL\\MCMSPool"
    site = dict(SITE, key_reader="LAB\\gmsa_mcms$")
    assert tls_plan([site], [], [], NOW)["sites"][0]["key_reader"] == "LAB\\gmsa_mcms$"


# -- after an import -------------------------------------------------------------------
def test_unbindable_new_certificate_without_key_keeps_old_binding() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=397, lifetime=397, private_key=False)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, A)])], NOW)
    messages = tls_unbindable(plan, ["MCMS"], "ownca")
    assert len(messages) == 1
    assert f"{B} has no private key" in messages[0]
    assert f"the https bindings stay on {A} (10 days left)" in messages[0]


def test_unbindable_empty_when_the_new_certificate_is_selected() -> None:
    certs = [info_entry(A, [HOST], days_left=10), info_entry(B, [HOST], days_left=397, lifetime=397)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, A)])], NOW)
    assert tls_unbindable(plan, ["MCMS"], "ownca") == []


def test_unbindable_pfx_not_newer_is_left_to_the_report() -> None:
    certs = [info_entry(A, [HOST], days_left=10)]
    plan = tls_plan([SITE], certs, [iis_site("MCMS", [https(HOST, A)])], NOW)
    assert tls_unbindable(plan, ["MCMS"], "pfx", offered={"MCMS": certs[0]}) == []
    assert "within tls_renew_before_days" in tls_unbindable(plan, ["MCMS"], "ownca")[0]


def test_unbindable_without_any_certificate() -> None:
    plan = tls_plan([SITE], [], [iis_site("MCMS", [])], NOW)
    message = tls_unbindable(plan, ["MCMS"], "store")[0]
    assert "no certificate for these names in LocalMachine\\My" in message
    assert "gets no https binding" in message


def test_plan_removal_ignores_duplicate_names_windows_lists() -> None:
    old = info_entry(A, [HOST, HOST, "api.lab.example"], days_left=10)
    new = info_entry(B, [HOST, "api.lab.example"], days_left=365)
    site = dict(SITE, hostnames=[HOST, "api.lab.example"])
    iis = [iis_site("MCMS", [https(HOST, B), https("api.lab.example", B)])]
    assert tls_plan([site], [old, new], iis, NOW)["removable"] == [A]
