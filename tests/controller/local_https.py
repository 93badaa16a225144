"""A local HTTPS endpoint of the deployed shape, for the controller's probe: a real socket
on 127.0.0.1 (an ephemeral port) serving TLS with a certificate for the application's
record name, issued by a test CA, answering 200 on ``PLACEHOLDER_DEEP_HEALTH_PATH`` and 503
elsewhere, as the load balancer's HTTPS listener does. It records the SNI name and the
Host header each request arrived with. Nothing here touches any other network."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from switchyard.adapters.health import HttpProbe
from switchyard.config import PLACEHOLDER_DEEP_HEALTH_PATH

LOOPBACK = "127.0.0.1"
Responder = Callable[[str], int]


@dataclass(frozen=True)
class LocalPki:
    """A test CA and a server certificate it issued for ``hostname`` (PEM files)."""

    hostname: str
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """What the probe trusts in tests: this CA only (the default trusts the system store)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def issue_test_pki(directory: Path, hostname: str) -> LocalPki:
    """A CA and a leaf for ``hostname`` (SAN, serverAuth), valid for a day, ECDSA P-256."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchyard test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pki = LocalPki(hostname, directory / "ca.pem", directory / "server.pem", directory / "server.key")
    pki.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def health_path_only(path: str) -> int:
    """The load balancer's HTTPS listener: 200 on the health path, 503 elsewhere."""
    return 200 if path == PLACEHOLDER_DEEP_HEALTH_PATH else 503


@dataclass
class SeenRequest:
    path: str
    host: str | None


@dataclass
class LocalHttpsEndpoint:
    """A running local endpoint: where it listens, for which name, and what it saw."""

    hostname: str
    port: int = 0
    requests: list[SeenRequest] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)  # SNI, one per handshake

    def probe(self, trust: ssl.SSLContext | None, *, timeout_seconds: float = 2.0) -> HttpProbe:
        """The controller's probe, with ``hostname`` resolved to this endpoint and ``trust``
        as its trust store (None: the probe's default, the system trust store)."""
        return HttpProbe(timeout_seconds, ssl_context=trust, resolve={self.hostname: (LOOPBACK, self.port)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext, respond: Responder, seen: LocalHttpsEndpoint) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.tls = tls
        self.respond = respond
        self.seen = seen

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake in the request's own thread, so a stalled client blocks no one."""
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate or went away
        with tls:
            _Handler(tls, client_address, self)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is part of the tests, not an error."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.seen.requests.append(SeenRequest(self.path, self.headers.get("Host")))
        status = self.server.respond(self.path)
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", f"https://{self.headers.get('Host')}{PLACEHOLDER_DEEP_HEALTH_PATH}?redirected")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: what a test needs is in ``LocalHttpsEndpoint``."""


@contextmanager
def local_https_endpoint(pki: LocalPki, respond: Responder = health_path_only) -> Iterator[LocalHttpsEndpoint]:
    """Serve HTTPS on 127.0.0.1 with ``pki``'s certificate until the block ends."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki.cert_file, pki.key_file)
    seen = LocalHttpsEndpoint(pki.hostname)
    tls.sni_callback = lambda _sock, name, _ctx: seen.server_names.append(name)
    server = _Server(tls, respond, seen)
    seen.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        yield int(sock.getsockname()[1])


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel's backlog) and never speaks:
    a TLS handshake there waits forever, as against a region that black-holes traffic."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def resolve_loopback_only(monkeypatch: Any) -> None:
    """Make every name but 127.0.0.1 fail to resolve, as an unknown name would, so no test
    can send a DNS query (or anything after it) past the loopback interface."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (tests resolve loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
