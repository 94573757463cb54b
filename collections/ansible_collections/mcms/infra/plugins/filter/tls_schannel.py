"""Filters rendering and checking the SCHANNEL hardening of the ``tls`` role.

``tls_schannel_values`` turns the role's protocol/cipher/hash lists into the
registry values under ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL``;
``tls_schannel_reg`` renders them as the ``.reg`` text one
``community.windows.win_regmerge`` call merges (laid out as ``reg export``
writes it, so ``compare_to`` reports no change once applied);
``tls_schannel_drift`` compares them with ``ansible.windows.win_reg_stat``
results, which is how drift stays visible in check mode where
``win_regmerge`` (no check-mode support) is skipped.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mcms.infra.plugins.plugin_utils import _tls


def tls_schannel_values(protocols_enabled: list[str], protocols_disabled: list[str], ciphers_enabled: list[str],
                        ciphers_disabled: list[str], hashes_enabled: list[str], hashes_disabled: list[str],
                        key_exchanges: dict[str, dict[str, int]] | None = None,
                        event_logging: int = 1) -> dict[str, dict[str, int]]:
    """SCHANNEL subkey -> value name -> DWORD for the given profile."""
    return _tls.schannel_values(protocols_enabled=list(protocols_enabled), protocols_disabled=list(protocols_disabled),
                                ciphers_enabled=list(ciphers_enabled), ciphers_disabled=list(ciphers_disabled),
                                hashes_enabled=list(hashes_enabled), hashes_disabled=list(hashes_disabled),
                                key_exchanges=key_exchanges, event_logging=int(event_logging))


def tls_schannel_reg(values: dict[str, dict[str, int]]) -> str:
    """The ``.reg`` text of the SCHANNEL subtree."""
    return _tls.schannel_reg(values)


def tls_schannel_drift(values: dict[str, dict[str, int]], stats: list[dict[str, t.Any]]) -> list[str]:
    """Human-readable differences between desired values and ``win_reg_stat`` loop results."""
    try:
        return _tls.schannel_drift(values, stats)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"tls_schannel_drift: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"tls_schannel_values": tls_schannel_values, "tls_schannel_reg": tls_schannel_reg,
                "tls_schannel_drift": tls_schannel_drift}
