"""Filters choosing the certificate each IIS site is bound to (``mcms.infra.tls_*``).

``tls_select_certificate`` picks, from ``ansible.windows.win_certificate_info``
output, the certificate a set of host names should be served with;
``tls_plan`` turns that choice plus ``microsoft.iis.website_info`` output into
the per-site plan the ``tls`` role executes (issue, rebind, remove);
``tls_proof_failures`` judges the ``mcms.infra.win_tls_probe`` answers after
a rebind.  The
logic lives in ``plugin_utils/_tls.py`` so it is unit-tested once.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _tls


def tls_select_certificate(certificates: list[dict[str, t.Any]], hostnames: list[str] | str, now: t.Any,
                           thumbprint: str | None = None, issuer: str | None = None) -> dict[str, t.Any] | None:
    """The certificate to bind for ``hostnames`` (see ``_tls.select_certificate``)."""
    try:
        return _tls.select_certificate(certificates, hostnames, now, thumbprint or None, issuer or None)
    except (_tls.TlsError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"tls_select_certificate: {exc}") from exc


def tls_plan(sites: list[dict[str, t.Any]], certificates: list[dict[str, t.Any]],
             iis_sites: list[dict[str, t.Any]], now: t.Any, renew_before_days: int = 30, store: str = "My",
             issuer: str | None = None, offered: dict[str, dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    """The per-site plan of the ``tls`` role (see ``_tls.binding_plan``)."""
    try:
        return _tls.binding_plan(sites, certificates, iis_sites, now, renew_before_days=int(renew_before_days),
                                 store=store, issuer=issuer or None, offered=offered or None)
    except (_tls.TlsError, ValueError, TypeError, KeyError) as exc:
        raise AnsibleFilterError(f"tls_plan: {exc}") from exc


def tls_unbindable(plan: dict[str, t.Any], issued_for: list[str], source: str, store: str = "My",
                   offered: dict[str, dict[str, t.Any]] | None = None) -> list[str]:
    """Sites that still have no certificate to bind after an issue/import (see ``_tls.unbindable``)."""
    try:
        return _tls.unbindable(plan, list(issued_for or []), source, store, offered or None)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"tls_unbindable: {exc}") from exc


def tls_proof_failures(results: list[dict[str, t.Any]], wanted: str) -> list[str]:
    """Why ``mcms.infra.win_tls_probe`` results do not prove a binding (see ``_tls.proof_failures``)."""
    if not isinstance(results, list):
        raise AnsibleFilterError("tls_proof_failures: expects the results list of a win_tls_probe loop")
    return _tls.proof_failures(results, wanted)


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"tls_select_certificate": tls_select_certificate, "tls_plan": tls_plan,
                "tls_unbindable": tls_unbindable, "tls_proof_failures": tls_proof_failures}
