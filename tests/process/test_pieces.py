"""The process-management pieces on their own (no server): log formats and escaping,
forwarded-for chains, the scoreboard, the notify socket, the status renderings."""

from __future__ import annotations

import os
import socket
import time
from types import SimpleNamespace

import pytest

from prefork_modpy.httpd import accesslog
from prefork_modpy.httpd.forwarded import ProxiedRequest, TrustedProxies
from prefork_modpy.server import systemd
from prefork_modpy.server.scoreboard import BUSY, READY, STARTING, BoardHeader, Scoreboard
from prefork_modpy.server.status import Snapshot


class FakeRaw:
    def __init__(self, headers: list[tuple[str, str]], peer: str = "127.0.0.1") -> None:
        self.headers = headers
        self.remote_addr = (peer, 5555)
        self.local_addr = ("127.0.0.1", 8080)
        self.bytes_sent = 0
        self.keepalive_count = 1
        self.target = "/x?y=1"

    def header(self, name: str):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def fake_request(**overrides):
    raw = FakeRaw([("User-Agent", 'a"b\\c'), ("Referer", "http://r/")])
    raw.bytes_sent = overrides.pop("bytes_sent", 12)
    values = dict(raw=raw, response=SimpleNamespace(head=(201, None, [("X-Out", "v1")])),
                  status=200,
                  request_time=1_700_000_000.25, useragent_ip="10.0.0.1", user=None,
                  the_request="GET /x?y=1 HTTP/1.1", method="GET", uri="/x", args="y=1",
                  protocol="HTTP/1.1", filename=None, handler="mod_python", hostname="h",
                  vhost=SimpleNamespace(server_name="site", server_port=0), notes={},
                  subprocess_env={})
    values.update(overrides)
    return SimpleNamespace(**values)


def test_escape_matches_apache():
    assert accesslog.escape("plain text") == "plain text"
    assert accesslog.escape('q"b\\') == 'q\\"b\\\\'
    assert accesslog.escape("a\nb\tc\x1b\x7f") == "a\\nb\\tc\\x1b\\x7f"
    assert accesslog.escape("\xe9\u20ac") == "\\xe9\\xe2\\x82\\xac"


def test_common_and_combined_render():
    req = fake_request()
    common = accesslog.compile_format(accesslog.BUILTIN_FORMATS["common"])(req)
    assert common.startswith('10.0.0.1 - - [') and common.endswith('] "GET /x?y=1 HTTP/1.1" 201 12')
    combined = accesslog.compile_format(accesslog.BUILTIN_FORMATS["combined"])(req)
    assert combined.endswith('"http://r/" "a\\"b\\\\c"')
    assert accesslog.compile_format("%b")(fake_request(bytes_sent=0)) == "-"
    assert accesslog.compile_format("%B")(fake_request(bytes_sent=0)) == "0"


def test_format_directives():
    req = fake_request()
    render = accesslog.compile_format
    assert render("%{X-Out}o %{x-missing}o %q %U %m %H %v %{remote}p %{local}p %k %%")(req) \
        == "v1 - ?y=1 /x GET HTTP/1.1 site 5555 8080 0 %"
    assert render("%{%Y}t")(req) == time.strftime("%Y", time.localtime(req.request_time))
    assert render("%{msec}t")(req) == "1700000000250"
    assert render(r"a\tb")(req) == "a\tb"
    assert int(render("%D")(req)) > 0


def test_the_canonical_port_is_servernames_else_the_schemes_default():
    """mod_log_config's %p: server_rec->port, else ap_default_port, not the socket's."""
    render = accesslog.compile_format
    assert render("%p %{canonical}p %{local}p")(fake_request()) == "80 80 8080"
    named = fake_request(vhost=SimpleNamespace(server_name="site", server_port=8443))
    assert render("%p")(named) == "8443"


@pytest.mark.parametrize("bad", ["%Z", "%{x}Z", "%400{User-agent}i", "trailing %", "%{us}Q"])
def test_unsupported_format_is_refused(bad):
    with pytest.raises(ValueError):
        accesslog.compile_format(bad)


def test_nickname_resolution():
    assert accesslog.resolve_format("combined", {}) == accesslog.BUILTIN_FORMATS["combined"]
    assert accesslog.resolve_format("mine", {"mine": "%h"}) == "%h"
    assert accesslog.resolve_format("%h %u", {}) == "%h %u"
    with pytest.raises(ValueError):
        accesslog.resolve_format("nosuch", {})


def test_json_line_is_one_escaped_object():
    import json

    line = accesslog.json_line(fake_request())
    record = json.loads(line)
    assert record["user_agent"] == 'a"b\\c' and record["status"] == 201
    assert "\n" not in line and line.isascii()


@pytest.mark.parametrize("headers, expected", [
    ([("X-Forwarded-For", "203.0.113.9")], ("203.0.113.9", 0)),
    ([("X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.0.0.2")], ("203.0.113.9", 0)),
    ([("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "203.0.113.9")],
     ("203.0.113.9", 0)),
    # Only the configured header (X-Forwarded-For by default) is read: ISSUE 15 finding 2.
    ([("Forwarded", "for=10.1.2.3")], None),
    ([("Forwarded", "for=10.1.2.3"), ("X-Forwarded-For", "203.0.113.9")],
     ("203.0.113.9", 0)),
    ([("X-Forwarded-For", "10.0.0.7, 10.0.0.3")], ("10.0.0.7", 0)),
    ([("X-Forwarded-For", "not-an-ip")], None),
    ([], None),
])
def test_forwarded_chains(headers, expected):
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client_of(FakeRaw(headers)) == expected


@pytest.mark.parametrize("headers, expected", [
    ([("Forwarded", 'for=192.0.2.60;proto=http;by=203.0.113.43')], ("192.0.2.60", 0)),
    ([("Forwarded", 'for="[2001:db8:cafe::17]:4711"')], ("2001:db8:cafe::17", 4711)),
    ([("Forwarded", "for=unknown, for=10.0.0.3")], ("10.0.0.3", 0)),
    ([("X-Forwarded-For", "203.0.113.9")], None),
])
def test_remote_ip_header_forwarded(headers, expected):
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"], header="Forwarded")
    assert proxies.client_of(FakeRaw(headers)) == expected


@pytest.mark.parametrize("chain, expected", [
    # An external proxy (RemoteIPTrustedProxy) cannot present a private client or proxy.
    ("198.51.100.7", ("198.51.100.7", 0)),
    ("10.9.9.9", None),
    ("203.0.113.5, 192.168.1.1", None),
    ("::1", None),
    ("2001:db8::5", ("2001:db8::5", 0)),
    ("8.8.8.8, 10.0.0.1", None),
])
def test_external_proxies_do_not_vouch_for_private_addresses(chain, expected):
    proxies = TrustedProxies(["10.0.0.0/8"], external=["127.0.0.1"])
    assert proxies.client_of(FakeRaw([("X-Forwarded-For", chain)])) == expected
    # An internal proxy may present an external one, which then vouches for public addresses.
    internal = TrustedProxies(["127.0.0.1"], external=["203.0.113.0/24"])
    assert internal.client_of(FakeRaw([("X-Forwarded-For", "10.1.1.1, 203.0.113.9")])) == \
        ("203.0.113.9", 0)


def test_untrusted_peer_headers_are_not_read():
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_of(FakeRaw([("X-Forwarded-For", "1.2.3.4")], peer="8.8.8.8")) is None
    raw = FakeRaw([])
    proxied = ProxiedRequest(raw, ("1.2.3.4", 0))
    assert proxied.remote_addr == ("1.2.3.4", 0) and proxied.peer_addr == raw.remote_addr
    assert proxied.target == "/x?y=1"


def test_scoreboard_slots_and_header():
    board = Scoreboard(8)
    assert board.slots() == []
    board.assign(3, generation=2, number=1)
    slot = board.worker_slot(3)
    slot.booting(4242)
    info = board.read(3)
    assert (info.pid, info.generation, info.number, info.state) == (4242, 2, 1, STARTING)
    slot.set_state(READY)
    slot.begin_request("GET", "/long/" + "x" * 500, "192.0.2.1")
    info = board.read(3)
    assert info.state == BUSY and info.url.startswith("/long/") and len(info.url) == 240
    assert info.busy_for() >= 0
    slot.end_request(100)
    slot.end_request(50)
    info = board.read(3)
    assert (info.state, info.requests, info.bytes, info.busy_since) == (READY, 2, 150, 0.0)
    # The engine's static answers since: counted, the last one is the worker's last request.
    slot.add_requests(5, 500, "192.0.2.7", "/static/a.css")
    info = board.read(3)
    assert (info.state, info.requests, info.bytes, info.method, info.client, info.url) == (
        READY, 7, 650, "GET", "192.0.2.7", "/static/a.css")
    assert [s.index for s in board.slots()] == [3]
    board.release(3)
    assert board.slots() == []
    board.publish(BoardHeader(1, 5, 8, 100.0, 4, 3, 2, 1, 200.0, 7, 9))
    assert board.header() == BoardHeader(1, 5, 8, 100.0, 4, 3, 2, 1, 200.0, 7, 9)
    assert board.words[board.offset(3) // 8] % 2 == 0  # every write left the seqlock even


def test_scoreboard_is_shared_with_a_forked_child():
    board = Scoreboard(4)
    board.assign(0, 1, 1)
    pid = os.fork()
    if pid == 0:
        slot = board.worker_slot(0)
        slot.booting(os.getpid())
        slot.end_request(7)
        os._exit(0)
    os.waitpid(pid, 0)
    info = board.read(0)
    assert (info.pid, info.requests, info.bytes) == (pid, 1, 7)


def test_status_renderings():
    board = Scoreboard(4)
    board.assign(0, 1, 1)
    board.worker_slot(0).booting(11)
    board.worker_slot(0).begin_request("GET", "/a<b>", "192.0.2.1")
    board.publish(BoardHeader(10, 1, 2, time.time() - 65, 0, 0, 0, 0, 0.0, 5, 2048))
    snapshot = Snapshot(board.header(), board.slots(), queued=3)
    assert "Total Accesses: 5" in snapshot.auto() and "Scoreboard: W" in snapshot.auto()
    assert "/a&lt;b&gt;" in snapshot.html() and "/a<b>" not in snapshot.html()
    metrics = snapshot.prometheus()
    assert "prefork_modpy_listen_queue 3" in metrics
    assert 'prefork_modpy_workers{state="busy"} 1' in metrics


def test_notifier_sends_datagrams(tmp_path):
    path = str(tmp_path / "n.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(path)
    notifier = systemd.Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"})
    assert notifier.enabled and notifier.watchdog_interval == 2.0
    notifier.ready("all good")
    assert receiver.recv(512).decode().split("\n")[:2] == ["READY=1", "STATUS=all good"]
    notifier.status("all good")  # unchanged: not sent again
    notifier.status("changed")
    assert receiver.recv(512) == b"STATUS=changed"
    notifier.close()
    receiver.close()
    assert not systemd.Notifier({}).enabled
    assert systemd.Notifier({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}).watchdog_interval \
        is None


def test_listen_sockets_require_our_pid():
    env = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid() + 1)}
    assert systemd.listen_sockets(env) == []
    assert "LISTEN_FDS" not in env and "LISTEN_PID" not in env
