"""Masking of secrets (Ansible.Basic RemoveNoLogValues semantics, and
winsim's stricter masking for what it writes beside a host) and the salted
digest models store instead of passwords."""

from __future__ import annotations

import pytest

from winsim.masking import (
    NO_LOG_MASK,
    SecretSet,
    is_secret_name,
    mask,
    remove_no_log_values,
    secret_digest,
    secret_matches,
)


def test_equal_value_is_replaced_and_contained_value_is_starred() -> None:
    secrets = SecretSet(["hunter2"])
    assert remove_no_log_values({"a": "hunter2", "b": "pw=hunter2;", "c": ["x", "hunter2"]}, secrets) == {
        "a": NO_LOG_MASK, "b": "pw=********;", "c": ["x", NO_LOG_MASK]}


def test_numbers_and_bools_containing_a_secret_are_masked() -> None:
    secrets = SecretSet([1234])
    assert remove_no_log_values({"port": 1234, "big": 912345, "other": 5}, secrets) == {
        "port": NO_LOG_MASK, "big": NO_LOG_MASK, "other": 5}


def test_empty_and_none_are_never_secrets() -> None:
    secrets = SecretSet(["", None])
    assert not secrets
    assert remove_no_log_values({"a": ""}, secrets) == {"a": ""}


def test_mask_also_hides_values_under_secret_names() -> None:
    assert mask({"name": "svc", "password": "unlisted", "nested": {"sql_password": "x"}}) == {
        "name": "svc", "password": NO_LOG_MASK, "nested": {"sql_password": NO_LOG_MASK}}


@pytest.mark.parametrize(("name", "secret"), [
    ("password", True), ("sql_password", True), ("BecomePassword", True), ("client_secret", True),
    ("api_key", True), ("passphrase", True), ("username", False), ("path", False), ("key_id", False),
    ("secret_format", False),
])
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_digest_verifies_and_never_contains_the_secret() -> None:
    digest = secret_digest("P@ssw0rd")
    assert "P@ssw0rd" not in digest
    assert digest.startswith("pbkdf2_sha256$")
    assert secret_matches("P@ssw0rd", digest)
    assert not secret_matches("p@ssw0rd", digest)
    assert not secret_matches("P@ssw0rd", None)


def test_digests_are_salted() -> None:
    assert secret_digest("same") != secret_digest("same")
    assert secret_digest("same", salt=b"0" * 16) == secret_digest("same", salt=b"0" * 16)
