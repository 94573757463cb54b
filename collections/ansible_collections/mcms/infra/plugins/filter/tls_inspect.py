"""Filters reading certificates on the controller and checking the ``tls`` role's input.

``tls_certificate_facts`` (PEM) and ``tls_pfx_facts`` (base64 PFX + password)
give the thumbprint Windows will show, the SANs and the validity of a
certificate before it reaches any host, so the role can tell whether the host
already holds it without copying anything.  ``tls_input_errors`` returns every
problem in the role's variables, each naming the variable and the fix.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _tls


def tls_certificate_facts(pem: str) -> dict[str, t.Any]:
    """Thumbprint, subject, issuer, SANs and validity of a PEM certificate."""
    try:
        return _tls.certificate_facts(pem)
    except _tls.TlsError as exc:
        raise AnsibleFilterError(f"tls_certificate_facts: {exc}") from exc


def tls_pfx_facts(pfx_b64: str, password: str | None) -> dict[str, t.Any]:
    """Facts of the certificate in a base64 PFX; fails on a wrong password."""
    try:
        return _tls.pfx_facts(pfx_b64, password)
    except _tls.TlsError as exc:
        raise AnsibleFilterError(f"tls_pfx_facts: the PFX {exc}") from exc


def tls_normalize_sites(sites: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``tls_sites`` with every option filled in (app pool, key reader, normalised thumbprint)."""
    return _tls.normalize_sites(sites)


def tls_pfx_offers(sites: list[dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """Site name -> facts of the site's vaulted PFX, for ``tls_plan``'s ``offered``."""
    try:
        return _tls.pfx_offers(sites)
    except _tls.TlsError as exc:
        raise AnsibleFilterError(f"tls_pfx_offers: the PFX {exc}") from exc


def tls_input_errors(config: dict[str, t.Any], iis_sites: list[str] | None = None) -> list[str]:
    """Every problem in the ``tls`` role's variables (empty when the input is good)."""
    if not isinstance(config, dict):
        raise AnsibleFilterError("tls_input_errors: expects a dict of the role's variables")
    return _tls.input_errors(config, iis_sites)


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"tls_certificate_facts": tls_certificate_facts, "tls_pfx_facts": tls_pfx_facts,
                "tls_input_errors": tls_input_errors, "tls_normalize_sites": tls_normalize_sites,
                "tls_pfx_offers": tls_pfx_offers}
