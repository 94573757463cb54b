"""Tests of the ``win_certificate_store`` and ``win_certificate_info`` models."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from winsim_files_support import fresh, run

from winsim import secrets
from winsim import state as st
from winsim.models import certificates as certs
from winsim.models._base import MODELS

STORE = "ansible.windows.win_certificate_store"
INFO = "ansible.windows.win_certificate_info"
PFX_PATH = "C:\\Windows\\Temp\\web.pfx"


class Pki:
    """A lab CA and a server certificate (RSA key, so the CAPI provider)."""

    def __init__(self) -> None:
        self.ca_key, self.ca_der = certs.self_signed_for_tests("MCMS Lab CA", ca=True, days=3650)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _, self.der = certs.self_signed_for_tests(
            "web01.corp.example", dns_names=["web01.corp.example", "mcms.corp.example"], days=90,
            issuer=(self.ca_key, "MCMS Lab CA"), key=self.key)
        self.thumb = hashlib.sha1(self.der).hexdigest().upper()
        self.ca_thumb = hashlib.sha1(self.ca_der).hexdigest().upper()

    def pfx(self, password: str | None = "S3cret!", chain: bool = True, key: bool = True) -> bytes:
        cert = x509.load_der_x509_certificate(self.der)
        cas = [x509.load_der_x509_certificate(self.ca_der)] if chain else None
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        return pkcs12.serialize_key_and_certificates(b"mcms web", self.key if key else None, cert, cas, enc)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _with_file(state, path, data):
    st.write_file(state, path, data, "2026-03-01T00:00:00Z")
    return state


@pytest.mark.parametrize("fqcn", [STORE, INFO])
def test_models_name_upstream_version(fqcn):
    assert MODELS[fqcn].upstream == "ansible.windows 3.8.0"


def test_fresh_host_root_store_holds_real_roots_and_my_is_empty():
    state = fresh()
    roots = state["certificates"]["LocalMachine"]["Root"]
    assert len(roots) >= 5
    for thumb, entry in roots.items():
        assert hashlib.sha1(base64.b64decode(entry["der"])).hexdigest().upper() == thumb
    assert state["certificates"]["LocalMachine"]["My"] == {}
    assert "WebHosting" not in state["certificates"]["LocalMachine"]


def test_import_pfx_check_apply_idempotent(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    args = {"path": PFX_PATH, "password": "S3cret!", "key_storage": "machine", "key_exportable": False}
    checked = run(STORE, state, check=True, **args)
    assert checked["changed"] is True
    assert checked.untouched
    assert sorted(checked["thumbprints"]) == sorted([pki.thumb, pki.ca_thumb])
    applied = run(STORE, state, **args)
    assert applied["changed"] is True
    my = state["certificates"]["LocalMachine"]["My"]
    assert set(my) == {pki.thumb, pki.ca_thumb}  # the whole PFX goes into the store, as on Windows
    entry = my[pki.thumb]
    assert entry["has_private_key"] is True
    assert entry["key_exportable"] is False
    assert entry["dns_names"] == ["web01.corp.example", "mcms.corp.example"]
    assert entry["subject"] == "CN=web01.corp.example"
    assert entry["friendly_name"] == "mcms web"
    assert my[pki.ca_thumb]["has_private_key"] is False
    again = run(STORE, state, **args)
    assert again["changed"] is False


@pytest.mark.parametrize(("storage", "prefix"), [
    ("machine", "C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\"),
    ("default", "C:\\Users\\Administrator\\AppData\\Roaming\\Microsoft\\Crypto\\RSA\\S-1-5-21-"),
    ("user", "C:\\Users\\Administrator\\AppData\\Roaming\\Microsoft\\Crypto\\RSA\\S-1-5-21-"),
])
def test_private_key_is_a_real_file_where_windows_keeps_it(pki, storage, prefix):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!", key_storage=storage)
    entry = state["certificates"]["LocalMachine"]["My"][pki.thumb]
    assert entry["key_file"].startswith(prefix)
    assert entry["key_provider"] == certs.CAPI_PROVIDER
    key_item = st.get_item(state, entry["key_file"])
    assert key_item["inherit"] is False
    # sealed like a DPAPI blob (with the per-process key: this run has no state directory)
    sealed = st.read_file(state, entry["key_file"])
    loaded = serialization.load_der_private_key(secrets.unseal_with(secrets.lab_key(None), sealed), None)
    assert loaded.private_numbers() == pki.key.private_numbers()
    owner = "BUILTIN\\Administrators" if storage == "machine" else "WEB01\\Administrator"
    assert [a["identity"] for a in certs.key_acl(state, entry)] == ["NT AUTHORITY\\SYSTEM", owner]


def test_ec_key_goes_to_cng_key_storage_provider():
    key = ec.generate_private_key(ec.SECP256R1())
    _, der = certs.self_signed_for_tests("ecc.corp.example", key=key)
    pfx = pkcs12.serialize_key_and_certificates(None, key, x509.load_der_x509_certificate(der), None,
                                                serialization.BestAvailableEncryption(b"pw"))
    state = _with_file(fresh(), PFX_PATH, pfx)
    run(STORE, state, path=PFX_PATH, password="pw", key_storage="machine")
    entry = next(iter(state["certificates"]["LocalMachine"]["My"].values()))
    assert entry["key_file"].startswith("C:\\ProgramData\\Microsoft\\Crypto\\Keys\\")
    assert entry["key_provider"] == certs.CNG_PROVIDER
    assert entry["public_key_algorithm"] == "ECC"


@pytest.mark.parametrize("password", [None, "wrong"])
def test_wrong_pfx_password_fails_with_windows_message(pki, password):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    res = run(STORE, state, path=PFX_PATH, password=password)
    assert res["failed"] is True
    assert res["msg"] == ('Failed to load cert from file: Exception calling "Import" with "3" argument(s): '
                          '"The specified network password is not correct.\r\n"')
    assert res.untouched


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_import_public_certificate_files(pki, encoding):
    data = pki.ca_der if encoding == "der" else x509.load_der_x509_certificate(pki.ca_der).public_bytes(
        serialization.Encoding.PEM)
    state = _with_file(fresh(), "C:\\Windows\\Temp\\ca.cer", data)
    res = run(STORE, state, path="C:\\Windows\\Temp\\ca.cer", store_name="Root")
    assert res["changed"] is True
    assert res["thumbprints"] == [pki.ca_thumb]
    assert state["certificates"]["LocalMachine"]["Root"][pki.ca_thumb]["has_private_key"] is False


def test_garbage_file_fails(pki):
    state = _with_file(fresh(), "C:\\Windows\\Temp\\x.cer", b"not a certificate")
    res = run(STORE, state, path="C:\\Windows\\Temp\\x.cer")
    assert res["msg"] == ('Failed to load cert from file: Exception calling "Import" with "3" argument(s): '
                          '"Cannot find the requested object.\r\n"')


def test_missing_file_fails():
    res = run(STORE, fresh(), path="C:\\nope.pfx", password="x")
    assert res["msg"] == "File at 'C:\\nope.pfx' either does not exist or is not a file"


def test_unknown_store_fails(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    res = run(STORE, state, path=PFX_PATH, password="S3cret!", store_name="WebHosting")
    assert res["msg"] == ("unable to find store 'WebHosting': (CertOpenStore failed (The system cannot find the "
                          "file specified, Win32ErrorCode 2 - 0x00000002))")


def test_webhosting_store_exists_once_iis_is_installed(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    state["features"]["Web-Server"]["install_state"] = "Installed"
    res = run(STORE, state, path=PFX_PATH, password="S3cret!", store_name="WebHosting", key_storage="machine")
    assert res["changed"] is True
    assert pki.thumb in state["certificates"]["LocalMachine"]["WebHosting"]


def test_bad_store_location_fails():
    res = run(STORE, fresh(), path="C:\\x.pfx", store_location="Machine")
    assert res["msg"] == ("value of store_location must be one of: CurrentUser, LocalMachine. Got no match for: "
                          "Machine")


def test_absent_by_thumbprint_keeps_key_file(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!", key_storage="machine")
    key_file = state["certificates"]["LocalMachine"]["My"][pki.thumb]["key_file"]
    checked = run(STORE, state, check=True, state="absent", thumbprint=pki.thumb.lower())
    assert checked["changed"] is True
    assert checked.untouched
    assert run(STORE, state, state="absent", thumbprint=pki.thumb)["changed"] is True
    assert pki.thumb not in state["certificates"]["LocalMachine"]["My"]
    assert st.exists(state, key_file)  # X509Store.Remove leaves the key container
    assert run(STORE, state, state="absent", thumbprint=pki.thumb)["changed"] is False


def test_absent_by_path_removes_every_certificate_of_the_file(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!")
    res = run(STORE, state, state="absent", path=PFX_PATH, password="S3cret!")
    assert res["changed"] is True
    assert state["certificates"]["LocalMachine"]["My"] == {}


def test_reimport_when_stored_copy_has_no_key(pki):
    state = _with_file(fresh(), "C:\\Windows\\Temp\\web.cer", pki.der)
    _with_file(state, PFX_PATH, pki.pfx(chain=False))
    run(STORE, state, path="C:\\Windows\\Temp\\web.cer")
    assert state["certificates"]["LocalMachine"]["My"][pki.thumb]["has_private_key"] is False
    res = run(STORE, state, path=PFX_PATH, password="S3cret!", key_storage="machine")
    assert res["changed"] is True
    assert state["certificates"]["LocalMachine"]["My"][pki.thumb]["has_private_key"] is True


@pytest.mark.parametrize("file_type", ["der", "pem"])
def test_export_public_formats_idempotent(pki, file_type):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!")
    dest = f"C:\\Windows\\Temp\\out.{file_type}"
    args = {"state": "exported", "thumbprint": pki.thumb, "path": dest, "file_type": file_type}
    checked = run(STORE, state, check=True, **args)
    assert checked["changed"] is True
    assert checked.untouched
    assert run(STORE, state, **args)["changed"] is True
    data = st.read_file(state, dest)
    if file_type == "pem":
        assert data.startswith(b"-----BEGIN CERTIFICATE-----\r\n")
        assert x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER) == pki.der
    else:
        assert data == pki.der
    assert run(STORE, state, **args)["changed"] is False


def test_export_pkcs12_of_non_exportable_key_fails(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!", key_exportable=False)
    res = run(STORE, state, state="exported", thumbprint=pki.thumb, path="C:\\Windows\\Temp\\o.pfx",
              file_type="pkcs12", password="x")
    assert res["msg"] == ('Failed to export certificate as bytes: Exception calling "Export" with "2" argument(s): '
                          '"Key not valid for use in specified state.\r\n"')


def test_export_pkcs12_roundtrip_with_exportable_key(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!", key_exportable=True)
    res = run(STORE, state, state="exported", thumbprint=pki.thumb, path="C:\\Windows\\Temp\\o.pfx",
              file_type="pkcs12", password="n3w")
    assert res["changed"] is True
    assert res["key_exported"] is False
    assert res["key_exportable"] is True
    bundle = pkcs12.load_pkcs12(st.read_file(state, "C:\\Windows\\Temp\\o.pfx"), b"n3w")
    assert bundle.key.private_numbers() == pki.key.private_numbers()


def test_export_unknown_thumbprint_fails():
    res = run(STORE, fresh(), state="exported", thumbprint="AB" * 20, path="C:\\Windows\\Temp\\o.der")
    assert res["msg"] == "Found 0 certs when only expecting 1"


def test_password_never_stored(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx(password="Very-Secret-42"))
    run(STORE, state, path=PFX_PATH, password="Very-Secret-42", key_storage="machine")
    assert "Very-Secret-42" not in repr(state)


# -- win_certificate_info --------------------------------------------------------

def test_info_on_fresh_my_store():
    res = run(INFO, fresh())
    assert res["changed"] is False
    assert res["exists"] is False
    assert res["certificates"] == []


def test_info_returns_module_keys_and_values(pki):
    state = _with_file(fresh(), PFX_PATH, pki.pfx())
    run(STORE, state, path=PFX_PATH, password="S3cret!", key_storage="machine")
    res = run(INFO, state, thumbprint=pki.thumb.lower())
    assert res["exists"] is True
    (info,) = res["certificates"]
    assert set(info) == {
        "archived", "dns_names", "extensions", "friendly_name", "has_private_key", "intended_purposes", "is_ca",
        "issued_by", "issued_to", "issuer", "path_length_constraint", "public_key", "raw", "serial_number",
        "signature_algorithm", "subject", "thumbprint", "valid_from", "valid_from_iso8601", "valid_to",
        "valid_to_iso8601", "version"}
    assert info["dns_names"] == ["web01.corp.example", "web01.corp.example", "mcms.corp.example"]
    assert info["issued_by"] == "MCMS Lab CA"
    assert info["intended_purposes"] == ["Server Authentication"]
    assert info["is_ca"] is False
    assert info["has_private_key"] is True
    assert info["signature_algorithm"] == "sha256ECDSA"
    assert info["valid_to_iso8601"] == "2026-04-01T00:00:00Z"
    assert info["valid_to"] == int(dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp())
    assert {"critical": False, "field": "Subject Alternative Name",
            "value": "DNS Name=web01.corp.example, DNS Name=mcms.corp.example"} in info["extensions"]
    assert base64.b64decode(info["raw"]) == pki.der


def test_info_lists_store_sorted_by_thumbprint():
    res = run(INFO, fresh(), store_name="Root")
    thumbs = [c["thumbprint"] for c in res["certificates"]]
    assert thumbs == sorted(thumbs)
    assert all(c["is_ca"] for c in res["certificates"])


def test_info_unknown_store_is_unhandled():
    res = run(INFO, fresh(), store_name="Nope")
    assert res["msg"].startswith("Unhandled exception while executing module: Exception calling \"Open\"")
