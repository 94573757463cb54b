"""Bad input to the ``tls`` role fails before any host is touched, naming the variable.

Each case runs the role with ``ansible-playbook`` against a simulated host
(winsim) whose state file does not exist, i.e. a fresh host.  The run must
fail, its output must name the variable (and the fix), and the host must have
received no module run at all: no state file was written and winsim counted
no round trip.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.playbook

REPO = pathlib.Path(__file__).resolve().parents[2]
SITE = {"name": "MCMS", "hostnames": ["mcms.lab.example"], "port": 443}


def _pfx(password: str | None) -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mcms.lab.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=20))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("mcms.lab.example")]), False)
            .sign(key, hashes.SHA256()))
    enc = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return base64.b64encode(pkcs12.serialize_key_and_certificates(b"x", key, cert, None, enc)).decode()


CASES = [
    pytest.param({"tls_sites": [dict(SITE, thumbprint="12AB")]},
                 ["tls_sites[0] (MCMS).thumbprint", "40 hexadecimal"], id="thumbprint-not-40-hex"),
    pytest.param({"tls_renew_before_days": 400},
                 ["tls_renew_before_days (400)", "tls_ownca_certificate_days"], id="renewal-window-too-long"),
    pytest.param({"tls_certificate_source": "pfx",
                  "tls_sites": [dict(SITE, pfx_b64=_pfx(None), pfx_password="")]},
                 ["tls_sites[0] (MCMS).pfx_password", "without a password"], id="pfx-without-password"),
    pytest.param({"tls_certificate_source": "pfx", "tls_renew_before_days": 30,
                  "tls_sites": [dict(SITE, pfx_b64=_pfx("pw"), pfx_password="pw")]},
                 ["tls_renew_before_days (30)", "lifetime of the certificate"], id="pfx-renewal-window"),
    pytest.param({"tls_protocols_enabled": ["TLS 1.2", "TLS 1.4"]},
                 ["tls_protocols_enabled", "TLS 1.4"], id="unknown-protocol"),
    pytest.param({"tls_sites": [dict(SITE, port=70000)]},
                 ["tls_sites[0] (MCMS).port is 70000", "between 1 and 65535"], id="invalid-port"),
    pytest.param({"tls_sites": [dict(SITE, hostnames=["https://mcms.lab.example"])]},
                 ["tls_sites[0] (MCMS).hostnames[0]", "has a scheme"], id="hostname-with-scheme"),
    pytest.param({"tls_certificate_store": "Personal"},
                 ["tls_certificate_store", "My, WebHosting"], id="unknown-store"),
    pytest.param({"tls_sites": [{"name": "MCMS"}]},
                 ["hostnames"], id="site-without-hostnames"),
]


def _ansible_bin(name: str) -> str:
    for candidate in (REPO / ".venv" / "bin" / name, pathlib.Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    return name


@pytest.mark.parametrize(("extra_vars", "expected"), CASES)
def test_bad_input_fails_before_the_host_is_touched(tmp_path: pathlib.Path, extra_vars: dict,
                                                    expected: list[str]) -> None:
    state_dir = tmp_path / "state"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent(f"""\
        all:
          hosts:
            web01:
              ansible_connection: mcms.winsim.sim
              ansible_shell_type: powershell
              winsim_state_dir: {state_dir}
        """))
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Run the tls role with bad input
          hosts: all
          gather_facts: false
          roles:
            - role: tls
              vars:
                tls_sites: [{name: MCMS, hostnames: [mcms.lab.example]}]
        """))
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(dict({"tls_ownca_dir": str(tmp_path / "pki")}, **extra_vars)))
    config = tmp_path / "ansible.cfg"
    config.write_text(textwrap.dedent(f"""\
        [defaults]
        roles_path = {REPO / "roles"}
        collections_path = {REPO / "collections"}
        stdout_callback = ansible.builtin.default
        retry_files_enabled = false
        """))
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([_ansible_bin("ansible-playbook"), "-i", str(inventory), str(playbook),
                           "-e", f"@{vars_file}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    for words in expected:
        assert words in output, f"{words!r} not in output:\n{output}"
    assert not (state_dir / "web01.json").exists(), "a module ran on the host"
    touched = [p.name for p in state_dir.glob("*")] if state_dir.exists() else []
    assert not any(name.startswith("web01") for name in touched), touched
    assert "pki" not in [p.name for p in tmp_path.iterdir()], "the controller CA was touched"
