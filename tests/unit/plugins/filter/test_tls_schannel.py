"""Tests of ``mcms.infra.tls_schannel_values``."""

from __future__ import annotations

import pytest

from ansible_collections.mcms.infra.plugins.filter.tls_schannel import tls_schannel_values
from ansible_collections.mcms.infra.plugins.plugin_utils import _tls


def profile() -> dict:
    return tls_schannel_values(["TLS 1.2", "TLS 1.3"], ["SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"],
                               ["AES 128/128", "AES 256/256"], ["RC4 128/128", "Triple DES 168"],
                               ["SHA256"], ["MD5"], {"Diffie-Hellman": {"Enabled": 0xFFFFFFFF,
                                                                         "ServerMinKeyBitLength": 2048}})


def test_protocols_disabled_for_server_and_client() -> None:
    values = profile()
    for proto in ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"):
        for side in ("Server", "Client"):
            assert values[f"Protocols\\{proto}\\{side}"] == {"DisabledByDefault": 1, "Enabled": 0}
    for side in ("Server", "Client"):
        assert values[f"Protocols\\TLS 1.3\\{side}"] == {"DisabledByDefault": 0, "Enabled": 1}



def test_ciphers_hashes_and_key_exchanges_as_dwords() -> None:
    values = profile()
    assert values["Ciphers\\AES 256/256"] == {"Enabled": 0xFFFFFFFF}
    assert values["Ciphers\\RC4 128/128"] == {"Enabled": 0}
    assert values["Hashes\\MD5"] == {"Enabled": 0}
    assert values["KeyExchangeAlgorithms\\Diffie-Hellman"] == {"Enabled": 0xFFFFFFFF, "ServerMinKeyBitLength": 2048}
    assert values[""] == {"EventLogging": 1}


def test_only_keys_holding_a_managed_value_are_listed() -> None:
    # win_schannel touches exactly these values; an empty key would only be
    # noise (the module creates a missing key with its first value).
    assert all(profile().values())
    assert "Protocols\\TLS 1.0" not in profile()


@pytest.mark.parametrize("logging", [0, 1, 7])
def test_event_logging_is_passed_through(logging: int) -> None:
    values = tls_schannel_values(["TLS 1.2"], [], [], [], [], [], None, logging)
    assert values[""] == {"EventLogging": logging}


@pytest.mark.parametrize(("kex", "logging", "expected"), [
    ({"ECDH": {"Enabled": 4294967296}}, 1, "tls_key_exchanges['ECDH']['Enabled'] is 4294967296: a DWORD"),
    ({"ECDH": {"Enabled": -1}}, 1, "tls_key_exchanges['ECDH']['Enabled'] is -1: a DWORD"),
    ({"ECDH": {"Enabled": "on"}}, 1, "tls_key_exchanges['ECDH']['Enabled'] is 'on'"),
    ({"ECDH": 1}, 1, "tls_key_exchanges['ECDH'] is 1: map value names to DWORDs"),
    ({}, -3, "tls_schannel_event_logging is -3: a DWORD"),
])
def test_schannel_values_that_are_not_dwords_fail_validation(kex: dict, logging: int, expected: str) -> None:
    errors = _tls._schannel_dword_errors({"tls_key_exchanges": kex, "tls_schannel_event_logging": logging})
    assert len(errors) == 1
    assert expected in errors[0]


def test_default_schannel_values_are_dwords() -> None:
    assert _tls._schannel_dword_errors({"tls_key_exchanges": {"Diffie-Hellman": {
        "Enabled": 4294967295, "ServerMinKeyBitLength": 2048}}, "tls_schannel_event_logging": 1}) == []
