"""The HTTP vector corpus (tests/vectors) over TLS: every vector, followed by its canary
request, gets the same responses (statuses, in order) through a TLS port as through a plain
port of the same server: TLS adds nothing to and takes nothing from the engine's parsing
(rust/tls.rs feeds decrypted bytes to the same state machine)."""

from __future__ import annotations

import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.http.test_live_vectors import HANDLER, SITE, parse_responses
from tests.http.vectorlib import VECTORS, Vector
from tests.support.certs import make_ca, make_server
from tests.support.site import SiteFactory, free_port

READ_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    base = tmp_path_factory.mktemp("tls-vectors")
    ca = make_ca(base / "pki")
    pair = make_server(base / "pki", ca, "one.test")
    tls_port = free_port()
    config = SITE + f"""
Listen 127.0.0.1:{tls_port}
<VirtualHost 127.0.0.1:{tls_port}>
    ServerName one.test
    SSLEngine on
    SSLCertificateFile {pair.cert}
    SSLCertificateKeyFile {pair.key}
</VirtualHost>
"""
    factory = SiteFactory(base)
    server = factory.start(config, {"lib/vecho.py": HANDLER.read_text()}, workers=2)
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    yield server.port, tls_port, ctx
    factory.close()


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    deadline = time.monotonic() + READ_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 16)
        except (socket.timeout, ConnectionError, ssl.SSLError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _statuses(v: Vector, data: bytes) -> list[int]:
    methods = [v["method"]] * (1 + v["extra_requests"]) if v.valid else []
    finals, _, _ = parse_responses(data, methods)
    return [r.status for r in finals]


def _payload(v: Vector) -> bytes:
    live = v.get("live") or {}
    raw = v.raw
    if "truncate_body" in live:
        raw = raw[:v["head_len"] + live["truncate_body"]]
    return raw + v.canary()


def _over(port: int, payload: bytes, ctx: ssl.SSLContext | None) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as raw:
        sock = ctx.wrap_socket(raw, server_hostname="one.test") if ctx else raw
        try:
            sock.sendall(payload)
        except OSError:
            pass  # refused early and closed; the answer is still readable
        return _read_all(sock)


def test_every_vector_is_answered_alike_over_tls(ports) -> None:
    plain_port, tls_port, ctx = ports
    # A vector that ends with the client's half-close has no TLS equivalent (a TLS client
    # cannot half-close without ending the session): those stay plain-only.
    vectors = [v for v in VECTORS if not (v.get("live") or {}).get("eof")]

    def both(v: Vector) -> tuple[str, list[int], list[int]]:
        payload = _payload(v)
        return (v.id, _statuses(v, _over(plain_port, payload, None)),
                _statuses(v, _over(tls_port, payload, ctx)))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(both, vectors))
    differing = [(vid, plain, tls) for vid, plain, tls in results if plain != tls]
    assert not differing, differing[:10]
    assert len(results) > 200
    assert sum(1 for _, plain, _ in results if plain) > 200  # answers, not silence
