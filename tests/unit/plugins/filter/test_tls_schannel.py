"""Tests of ``mcms.infra.tls_schannel_values``, ``tls_schannel_reg`` and ``tls_schannel_drift``."""

from __future__ import annotations

import pytest

from ansible_collections.mcms.infra.plugins.filter.tls_schannel import (
    tls_schannel_drift,
    tls_schannel_reg,
    tls_schannel_values,
)

ROOT = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"


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


def test_reg_text_is_laid_out_like_reg_export() -> None:
    text = tls_schannel_reg(profile())
    lines = text.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    assert lines[1] == ""
    assert lines[2] == f"[{ROOT}]"
    assert lines[3] == '"EventLogging"=dword:00000001'
    assert "\n" not in text.replace("\r\n", "")
    assert text.endswith("\r\n\r\n")
    assert f"[{ROOT}\\Ciphers\\RC4 128/128]\r\n\"Enabled\"=dword:00000000\r\n" in text
    assert f"[{ROOT}\\Ciphers\\AES 256/256]\r\n\"Enabled\"=dword:ffffffff\r\n" in text
    assert '"ServerMinKeyBitLength"=dword:00000800' in text


def test_reg_keys_sorted_case_insensitively_with_parents() -> None:
    keys = [line for line in tls_schannel_reg(profile()).split("\r\n") if line.startswith("[")]
    assert keys == sorted(keys, key=lambda k: [p.lower() for p in k.strip("[]").split("\\")])
    assert f"[{ROOT}\\Protocols\\TLS 1.0]" in keys, "parent keys are exported as empty sections"
    assert f"[{ROOT}\\CipherSuites]" in keys


def test_reg_text_is_deterministic() -> None:
    assert tls_schannel_reg(profile()) == tls_schannel_reg(profile())


def _stat(item: str, exists: bool = True, **props: int) -> dict:
    return {"item": item, "exists": exists,
            "properties": {k: {"type": "REG_DWORD", "value": v, "raw_value": v} for k, v in props.items()}}


def test_drift_none_when_values_match() -> None:
    values = profile()
    stats = [_stat(k, **v) for k, v in values.items()]
    assert tls_schannel_drift(values, stats) == []


@pytest.mark.parametrize(("stat", "expected"), [
    (_stat("Protocols\\TLS 1.0\\Server", Enabled=1, DisabledByDefault=0),
     "Protocols\\TLS 1.0\\Server\\Enabled is 1 (want 0)"),
    (_stat("Protocols\\TLS 1.0\\Server", exists=False), "Protocols\\TLS 1.0\\Server is missing"),
    (_stat("Protocols\\TLS 1.0\\Server", DisabledByDefault=1), "Enabled is missing (want 0)"),
])
def test_drift_names_the_value(stat: dict, expected: str) -> None:
    values = profile()
    stats = [_stat(k, **v) for k, v in values.items() if k != stat["item"]] + [stat]
    drift = tls_schannel_drift(values, stats)
    assert len(drift) == 1 + (expected.endswith("want 0)") and "is 1" in expected)
    assert any(expected in d for d in drift), drift


def test_drift_compares_dwords_unsigned() -> None:
    values = {"Ciphers\\AES 128/128": {"Enabled": 0xFFFFFFFF}}
    assert tls_schannel_drift(values, [_stat("Ciphers\\AES 128/128", Enabled=-1)]) == []
