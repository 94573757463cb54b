"""Local test servers for the app role's controller-side network calls (no internet, nothing but 127.0.0.1).

* :func:`make_ca`: a throw-away CA and a server certificate for ``localhost`` / ``127.0.0.1``
  (``cryptography``), written as PEM files; the CA bundle is what ``app_artifact_ca_path`` points at.
* :class:`Server`: ``http.server`` in a thread, https with that certificate (or plain http), serving a
  directory (the internal artifact repository) and recording every POST (the notification receiver).
  ``status`` sets the answer to POSTs (e.g. 500), every request is logged in ``requests``.

Used by the unit tests of ``plugin_utils/_app.py`` and by the playbook tests of the app role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.server
import json
import pathlib
import ssl
import threading
import typing as t


@dataclasses.dataclass
class LabCA:
    ca_pem: pathlib.Path
    cert_pem: pathlib.Path
    key_pem: pathlib.Path


def make_ca(directory: pathlib.Path, names: t.Sequence[str] = ("localhost",)) -> LabCA:
    """A CA (``ca.pem``) and a server certificate it issued for ``names`` and 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MCMS test internal CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    out = LabCA(ca_pem=directory / "ca.pem", cert_pem=directory / "server.pem", key_pem=directory / "server.key")
    out.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    return out


class Server:
    """A threaded HTTP(S) server on 127.0.0.1: GET serves ``directory``, POST bodies are kept in ``posts``."""

    def __init__(self, directory: pathlib.Path | None = None, ca: LabCA | None = None, status: int = 200) -> None:
        self.posts: list[t.Any] = []
        self.requests: list[tuple[str, str]] = []
        self.status = status
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: t.Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                owner.requests.append(("GET", self.path))
                super().do_GET()

            def do_POST(self) -> None:
                owner.requests.append(("POST", self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    owner.posts.append(json.loads(body))
                except ValueError:
                    owner.posts.append(body.decode("utf-8", "replace"))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        handler = functools.partial(Handler, directory=str(directory or pathlib.Path.cwd()))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.scheme = "http"
        if ca is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(ca.cert_pem), str(ca.key_pem))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
