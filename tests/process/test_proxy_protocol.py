"""`Listen addr:port proxy-protocol`: HAProxy's PROXY header (v1 text, v2 binary) read first;
the client it names is the request's remote address everywhere (connection.remote_ip,
useragent_ip, %a/%h, Require ip). Strict: no valid header, no request."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError
from tests.support.site import free_port, wait_until

from .helpers import APP, APP_CONF

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
WHOIS = APP_CONF.replace("PythonHandler app\n", "PythonHandler app::whois\n") + """
LogFormat "%a %h" addresses
CustomLog {root}/../access.log addresses
<Location /app/only-doc-net>
    Require ip 203.0.113.0/24
</Location>
"""
REQUEST = b"GET /app/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def v2(command: int, family: int, body: bytes) -> bytes:
    return V2_SIGNATURE + bytes([0x20 | command, family]) + struct.pack("!H", len(body)) + body


def v2_tcp4(src: str, sport: int) -> bytes:
    block = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", sport, 80)
    return v2(1, 0x11, block + b"\x04\x00\x02hi")  # with a NOOP TLV, which is skipped


def exchange(port: int, *pieces: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for piece in pieces:
            sock.sendall(piece)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def body(reply: bytes) -> str:
    return reply.partition(b"\r\n\r\n")[2].decode()


@pytest.fixture
def proxied(site):
    proxy_port = free_port()
    server = site(WHOIS + f"Listen 127.0.0.1:{proxy_port} proxy-protocol\n", {"app.py": APP})
    return server, proxy_port


def test_v1_and_v2_name_the_client(proxied):
    server, port = proxied
    v1 = b"PROXY TCP4 203.0.113.9 127.0.0.1 4711 80\r\n"
    assert body(exchange(port, v1 + REQUEST)) == "203.0.113.9 203.0.113.9 4711"
    assert body(exchange(port, v2_tcp4("203.0.113.10", 5000) + REQUEST)) == \
        "203.0.113.10 203.0.113.10 5000"
    six = b"PROXY TCP6 2001:db8::5 ::1 6000 80\r\n"
    assert body(exchange(port, six + REQUEST)) == "2001:db8::5 2001:db8::5 6000"
    # The header split over several packets, and the request in its own.
    header = v2_tcp4("203.0.113.11", 5001)
    assert body(exchange(port, header[:5], header[5:20], header[20:], REQUEST)) == \
        "203.0.113.11 203.0.113.11 5001"
    # LOCAL (the balancer's own check) and UNKNOWN keep the socket's address.
    assert body(exchange(port, v2(0, 0, b"") + REQUEST)).startswith("127.0.0.1 127.0.0.1 ")
    assert body(exchange(port, b"PROXY UNKNOWN\r\n" + REQUEST)).startswith("127.0.0.1 ")
    log = server.root.parent / "access.log"
    assert wait_until(lambda: log.exists() and len(log.read_text().splitlines()) == 6)
    assert "203.0.113.9 203.0.113.9" in log.read_text().splitlines()


def test_require_ip_sees_the_proxied_client(proxied):
    server, port = proxied
    allowed = b"PROXY TCP4 203.0.113.9 127.0.0.1 4711 80\r\n"
    denied = b"PROXY TCP4 198.51.100.9 127.0.0.1 4711 80\r\n"
    path = REQUEST.replace(b"/app/x", b"/app/only-doc-net")
    assert exchange(port, allowed + path).startswith(b"HTTP/1.1 200 ")
    assert exchange(port, denied + path).startswith(b"HTTP/1.1 403 ")


@pytest.mark.parametrize("start", [
    REQUEST,                                                   # no header at all
    b"PROXY TCP4 203.0.113.9 127.0.0.1 4711\r\n" + REQUEST,    # a port missing
    b"PROXY TCP4 203.0.113.9 127.0.0.1 99999 80\r\n" + REQUEST,
    b"PROXY " + b"x" * 120 + b"\r\n" + REQUEST,                # longer than 107 bytes
    V2_SIGNATURE + b"\x22\x11\x00\x0c" + b"\x00" * 12 + REQUEST,  # v2 command 2
    V2_SIGNATURE + b"\x21\x21\x00\x0c" + b"\x00" * 12 + REQUEST,  # v6 block too short
])
def test_a_connection_without_a_valid_header_is_closed(proxied, start):
    _, port = proxied
    assert exchange(port, start) == b""


def test_only_the_proxy_protocol_listener_reads_headers(proxied):
    server, port = proxied
    plain = exchange(server.port, b"PROXY TCP4 203.0.113.9 127.0.0.1 4711 80\r\n" + REQUEST)
    assert plain.startswith(b"HTTP/1.1 400 ")
    assert body(exchange(server.port, REQUEST)).startswith("127.0.0.1 ")
    # Keep-alive on the proxied listener: one header, then several requests.
    keep = REQUEST.replace(b"Connection: close\r\n", b"")
    reply = exchange(port, b"PROXY TCP4 203.0.113.9 127.0.0.1 4711 80\r\n" + keep + REQUEST)
    assert reply.count(b"203.0.113.9 203.0.113.9 4711") == 2


def test_one_address_both_ways_is_refused(tmp_path: Path):
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:8081\nListen 127.0.0.1:8081 proxy-protocol\n")
    with pytest.raises(ConfigError, match=f"{conf}:2: Listen 127.0.0.1:8081 appears both"):
        load_config(str(conf))
    conf.write_text("Listen 127.0.0.1:8081 proxy-protocol\n")
    assert load_config(str(conf)).proxy_protocol_listen == (("127.0.0.1", 8081),)
