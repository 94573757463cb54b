"""Filter computing the SCHANNEL hardening of the ``tls`` role.

``tls_schannel_values`` turns the role's protocol/cipher/hash lists into the
registry values under ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL``
that ``mcms.infra.win_schannel`` reads and converges in one round trip (in
check mode too, returning drift records), see docs/decisions.md section 14.
"""

from __future__ import annotations

import typing as t

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


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"tls_schannel_values": tls_schannel_values}
