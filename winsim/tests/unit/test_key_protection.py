"""Private keys and PFX passwords are never in clear in a file winsim
writes (state format 2, ``winsim/secrets.py``).  On the old code the key
file's content in the state document was the clear PKCS#8 DER."""

from __future__ import annotations

import base64
import json
import os
import stat
import typing as t
from pathlib import Path

import pytest
from conftest import NOW
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from winsim import secrets
from winsim import state as st
from winsim.models import certificates
from winsim.models._base import SimulatorError
from winsim.store import HostStore, canonical_json

PFX_PASSWORD = "Pfx-Passw0rd-Never-Stored"
STORE = "ansible.windows.win_certificate_store"


def _pfx() -> tuple[bytes, bytes, bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web01.corp.example")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1000).not_valid_before(NOW.replace(year=2026, month=1, day=1))
            .not_valid_after(NOW.replace(year=2027)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pfx = pkcs12.serialize_key_and_certificates(b"web", key, cert, None,
                                                serialization.BestAvailableEncryption(PFX_PASSWORD.encode()))
    return pfx, pem, der, cert.fingerprint(hashes.SHA1()).hex().upper()


def _forbidden(pem: bytes, der: bytes) -> list[bytes]:
    body = b"".join(pem.splitlines()[1:-1])
    return [PFX_PASSWORD.encode(), PFX_PASSWORD.encode("utf-16-le"), body[:64], der[-64:],
            base64.b64encode(der)[16:80]]


def _scan(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {n[:20]!r}" for n in needles if n in data]
    return hits


def _import(run_module: t.Any, host_store: HostStore, pfx: bytes, **extra: t.Any) -> dict[str, t.Any]:
    state = st.fresh_state("winsim")
    st.write_file(state, "C:\\Windows\\Temp\\web.pfx", pfx, st.iso(NOW))
    result, state = run_module(STORE, {"path": "C:\\Windows\\Temp\\web.pfx", "password": PFX_PASSWORD,
                                       "key_exportable": True, **extra}, state=state)
    assert result["changed"], result
    host_store.save_state(state)
    return state


def test_no_private_key_or_password_in_clear_after_pfx_import(run_module: t.Any, host_store: HostStore) -> None:
    pfx, pem, der, thumb = _pfx()
    state = _import(run_module, host_store, pfx)
    state_dir = host_store.state_path.parent
    assert _scan(state_dir, _forbidden(pem, der)) == []
    key_file = certificates.find_certificate(state, "LocalMachine", "My", thumb)["key_file"]
    assert secrets.is_sealed(st.read_file(state, key_file))
    key = state_dir / "_lab" / "key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # the key is still usable: export it as a PFX (decrypts through load_private_key)
    result, state = run_module(STORE, {"path": "C:\\out.pfx", "thumbprint": thumb, "state": "exported",
                                       "file_type": "pkcs12", "password": "other"}, state=state)
    assert result["changed"], result
    exported = pkcs12.load_pkcs12(st.read_file(state, "C:\\out.pfx"), b"other")
    assert exported.key is not None
    assert exported.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()) == der


def test_sealing_is_reproducible_per_lab(tmp_path: Path) -> None:
    key = secrets.lab_key(tmp_path)
    assert secrets.seal_with(key, b"data") == secrets.seal_with(key, b"data")
    assert secrets.unseal_with(key, secrets.seal_with(key, b"data")) == b"data"
    with pytest.raises(SimulatorError, match="another lab key"):
        secrets.unseal_with(os.urandom(32), secrets.seal_with(key, b"data"))


def test_format_1_document_is_migrated_on_load(run_module: t.Any, host_store: HostStore,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    pfx, pem, der, thumb = _pfx()
    state = _import(run_module, host_store, pfx)
    # rebuild what format 1 wrote: the clear DER in the key file
    key_file = certificates.find_certificate(state, "LocalMachine", "My", thumb)["key_file"]
    item = st.get_item(state, key_file)
    item.update(content=base64.b64encode(der).decode(), size=len(der))
    state["winsim_format"] = 1
    host_store.state_path.write_bytes(canonical_json(state))
    loaded = host_store.load_state()
    assert loaded["winsim_format"] == st.FORMAT_VERSION == 2
    assert "migrated from state format 1 to 2: sealed 1 private key file(s)" in capsys.readouterr().err
    assert json.loads(host_store.state_path.read_bytes())["winsim_format"] == 2
    assert _scan(host_store.state_path.parent, _forbidden(pem, der)) == []
    assert secrets.is_sealed(st.read_file(loaded, key_file))


def test_newer_format_is_refused(host_store: HostStore) -> None:
    doc = st.fresh_state("winsim")
    doc["winsim_format"] = 99
    host_store.state_path.parent.mkdir(parents=True, exist_ok=True)
    host_store.state_path.write_bytes(canonical_json(doc))
    with pytest.raises(SimulatorError, match="state format 99 is not supported"):
        host_store.load_state()


def test_one_digest_convention_reads_both_forms() -> None:
    """``secrets.matches`` checks a password against either stored form;
    the IIS and AD models' equality digest is unchanged (no migration)."""
    from winsim.models import iis

    salted = secrets.digest("Pa55word!")
    assert salted.startswith("pbkdf2_sha256$")
    assert secrets.matches("Pa55word!", salted)
    assert not secrets.matches("other", salted)
    legacy = "sha256:" + __import__("hashlib").sha256(b"Pa55word!").hexdigest()
    assert secrets.equality_digest("Pa55word!") == legacy == iis.password_digest("Pa55word!")
    assert secrets.matches("Pa55word!", legacy)
    assert secrets.equality_digest("") is None
    assert iis.password_digest("") == ""


def test_one_powershell_string_rendering() -> None:
    from winsim.models import ad, firewall, iis
    from winsim.pwsh import ps_str

    for value, text in ((None, ""), (True, "True"), ([1, "a"], "1 a"), ({"a": 1}, "System.Collections.Hashtable"),
                        (2.0, "2"), (2.5, "2.5"), ("x", "x")):
        assert ps_str(value) == iis._ps_str(value) == ad._ps_str(value) == firewall._ps(value) == text


def test_drift_add_cert_seals_with_the_lab_key(tmp_path: Path) -> None:
    """``winsim drift HOST add-cert`` runs the store model without a runtime:
    its key must be sealed with the lab's key, not a per-process one (the old
    code of this branch left it unreadable by the next process)."""
    from winsim import cli

    state_dir = tmp_path / "state"
    assert cli.main(["--state-dir", str(state_dir), "drift", "web01", "add-cert", "--subject", "CN=drift.lab",
                     "--days", "30"]) == 0
    doc = json.loads((state_dir / "web01.json").read_text())
    entry = next(e for e in doc["certificates"]["LocalMachine"]["My"].values() if e["subject"] == "CN=drift.lab")
    blob = st.read_file(doc, entry["key_file"])
    der = secrets.unseal_with(secrets.lab_key(state_dir), blob)
    assert serialization.load_der_private_key(der, None) is not None
