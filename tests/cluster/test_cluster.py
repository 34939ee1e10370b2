"""Several machines on one: three prefork-modpy nodes on loopback ports behind a real HAProxy
(Debian's), health-checked through `SetHandler server-health`, sessions in a real Redis.

During one bounded load run of session-backed counters through the balancer, node A is
SIGKILLed (master and workers: a machine lost), node B is stopped gracefully (SIGTERM with
`GracefulShutdownHealthDelay`) and started again, and node C reloads its configuration
(SIGHUP). Every session survives (a counter never resets or goes back), the only failed
requests are ones in flight on A when it died, and none fail around B's graceful stop.
The same run reports throughput through the balancer with one, two and three nodes.

haproxy comes from `make deps-haproxy` (tests/support/install_haproxy.sh), redis-server from
`make deps-redis`; without them this test fails, unless PREFORK_MODPY_NO_HAPROXY=1 (or
PREFORK_MODPY_NO_REDIS=1) says to skip it. docs/deployment.md shows the same HAProxy config.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from tests.integration.test_redis_session import RedisProcess, server_binary
from tests.support.site import (
    Server,
    SiteFactory,
    free_port,
    kill_server,
    start_server,
    wait_for_port,
    wait_until,
)

HANDLER = '''
from mod_python import Session, apache


def handler(req):
    sess = Session.Session(req)
    if req.uri.endswith("/count"):
        sess["n"] = sess.get("n", 0) + 1
        sess.save()
    req.content_type = "text/plain"
    req.write("n=%d node=%s port=%d" % (sess.get("n", 0), req.get_options()["node"],
                                        req.connection.remote_addr[1]))
    return apache.OK
'''

NODE_CONF = """
Listen 127.0.0.1:{proxy_port} proxy-protocol
Timeout 20
KeepAliveTimeout 5
GracefulShutdownTimeout 10
GracefulShutdownHealthDelay {delay}
TrustedProxies 127.0.0.1
<Location /health>
    SetHandler server-health
</Location>
<Directory {{root}}/app>
    SetHandler mod_python
    PythonHandler counter
    PythonOption node {node}
    PythonOption mod_python.session.session_type RedisSession
    PythonOption mod_python.session.redis_url redis://127.0.0.1:{redis_port}/0
    PythonOption mod_python.session.database_directory {key_dir}
    # A request killed on A while it held its session's lock leaves the lock in Redis until
    # it expires: that client's next request waits this long on another node, well within
    # HAProxy's `timeout server`, and then succeeds.
    PythonOption mod_python.session.redis_lock_timeout 4
</Directory>
"""

# The config docs/deployment.md shows, with one frontend per node count for the throughput
# figures. Health checks every 200 ms, down after 2 failures, up after 2 successes; a refused
# connection is retried on another node (`option redispatch`), a request cut by a dying node
# is not (it may have changed state). Each node is reached on its `proxy-protocol` listener
# with `send-proxy-v2` (health checks too), so it sees the client's own address and port.
# `http-server-close`: no idle connection to a node is
# reused, so a node lost between two requests costs nothing (HAProxy closes the client's
# connection without an answer when a reused server connection turns out dead).
HAPROXY_CONF = """
global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 20s
    timeout server 20s
    retries 3
    option redispatch 1
    option http-server-close
backend nodes3
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server check inter 200ms fall 2 rise 2
{servers3}
backend nodes2
    balance roundrobin
    option httpchk GET /health
    default-server check inter 200ms fall 2 rise 2
{servers2}
backend nodes1
    option httpchk GET /health
    default-server check inter 200ms fall 2 rise 2
{servers1}
frontend all
    bind 127.0.0.1:{port3}
    default_backend nodes3
frontend two
    bind 127.0.0.1:{port2}
    default_backend nodes2
frontend one
    bind 127.0.0.1:{port1}
    default_backend nodes1
"""

HEALTH_DELAY = 1.5
CLIENTS = 4
THROUGHPUT_SECONDS = 2.0


def haproxy_binary() -> str:
    path = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists(
        "/usr/sbin/haproxy") else None)
    if path:
        return path
    if os.environ.get("PREFORK_MODPY_NO_HAPROXY") == "1":
        pytest.skip("haproxy missing and PREFORK_MODPY_NO_HAPROXY=1")
    pytest.fail("haproxy missing: run `make deps-haproxy` (or set PREFORK_MODPY_NO_HAPROXY=1)")
    raise AssertionError  # unreachable


class Node:
    """One prefork-modpy "machine": its own directory, config and port."""

    def __init__(self, base: Path, name: str, redis_port: int, key_dir: Path) -> None:
        base.mkdir()
        self.name = name
        self.factory = SiteFactory(base)
        self.proxy_port = free_port()  # HAProxy connects here with send-proxy-v2
        config = NODE_CONF.format(delay=HEALTH_DELAY, node=name, redis_port=redis_port,
                                  key_dir=key_dir, proxy_port=self.proxy_port)
        self.server: Server = self.factory.start(config, {"app/counter.py": HANDLER},
                                                 workers=2)

    @property
    def port(self) -> int:
        return self.server.port

    def restart(self) -> None:
        old = self.server
        self.server = start_server(self.factory.base, old.conf, old.port, 2, old.root, old.log)
        self.factory.started.append(self.server)

    def close(self) -> None:
        self.factory.close()


class HAProxy:
    def __init__(self, base: Path, nodes: list[Node]) -> None:
        self.ports = [free_port() for _ in range(3)]
        lines = [f"    server {n.name} 127.0.0.1:{n.proxy_port} send-proxy-v2 check-send-proxy"
                 for n in nodes]
        self.conf = base / "haproxy.cfg"
        self.conf.write_text(HAPROXY_CONF.format(
            servers3="\n".join(lines), servers2="\n".join(lines[:2]),
            servers1="\n".join(lines[:1]),
            port1=self.ports[0], port2=self.ports[1], port3=self.ports[2]))
        self.log = base / "haproxy.log"
        with open(self.log, "wb") as output:
            self.proc = subprocess.Popen([haproxy_binary(), "-db", "-f", str(self.conf)],
                                         stdout=output, stderr=subprocess.STDOUT)
        for port in self.ports:
            wait_for_port(port, lambda: self.proc.poll() is None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def cluster(tmp_path: Path):
    redis_server = RedisProcess(server_binary("redis-server"), tmp_path / "redis")
    started: list[Node] = []
    haproxy: Optional[HAProxy] = None
    try:
        redis_server.start()
        key_dir = tmp_path / "keys"
        key_dir.mkdir(mode=0o700)
        for name in ("a", "b", "c"):
            started.append(Node(tmp_path / name, name, redis_server.port, key_dir))
        haproxy = HAProxy(tmp_path, started)
        yield started, haproxy, redis_server
    finally:
        if haproxy is not None:
            haproxy.stop()
        for node in started:
            node.close()
        redis_server.stop()


def request(conn: http.client.HTTPConnection, path: str,
            cookie: Optional[str]) -> tuple[int, str, Optional[str]]:
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    return response.status, response.read().decode(), response.getheader("Set-Cookie")


@dataclass
class Client:
    """One logged-in user hitting its counter through the balancer until told to stop."""

    port: int
    cookie: str = ""
    last: int = 0
    ok: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    wrong_address: list[str] = field(default_factory=list)
    nodes: set[str] = field(default_factory=set)

    def login(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        status, body, set_cookie = request(conn, "/app/count", None)
        conn.close()
        assert status == 200 and set_cookie, body
        self.cookie = set_cookie.split(";", 1)[0]
        self.last = int(body.split()[0][2:])

    def run(self, stop: threading.Event, deadline: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        while not stop.is_set() and time.monotonic() < deadline:
            sent = time.monotonic()
            try:
                status, body, _ = request(conn, "/app/count", self.cookie)
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append((sent, repr(exc)))
                conn.close()
                continue
            if status != 200:
                self.failures.append((sent, f"{status} {body[:80]!r}"))
                continue
            fields = dict(part.split("=", 1) for part in body.split())
            n = int(fields["n"])
            if conn.sock is not None and int(fields["port"]) != conn.sock.getsockname()[1]:
                self.wrong_address.append(body)  # the PROXY header's client is not ours
            if n <= self.last:
                self.regressions.append(f"{self.last} -> {n} on {fields['node']}")
            self.last = n
            self.ok += 1
            self.nodes.add(fields["node"])
        conn.close()


def load(port: int, clients: list[Client], seconds: float) -> tuple[threading.Event, list]:
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=c.run, args=(stop, deadline)) for c in clients]
    for thread in threads:
        thread.start()
    return stop, threads


def throughput(port: int, seconds: float) -> float:
    clients = [Client(port) for _ in range(CLIENTS)]
    for client in clients:
        client.login()
    stop, threads = load(port, clients, seconds)
    started = time.monotonic()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    assert not any(c.failures or c.regressions or c.wrong_address for c in clients), \
        [(c.failures[:2], c.regressions[:2], c.wrong_address[:2]) for c in clients]
    return sum(c.ok for c in clients) / elapsed


def backend_up(haproxy: HAProxy, node: Node) -> bool:
    """Whether HAProxy sends to `node` again: a fresh request per try until `node` answers."""
    for _ in range(6):
        conn = http.client.HTTPConnection("127.0.0.1", haproxy.ports[2], timeout=5)
        try:
            _, body, _ = request(conn, "/app/peek", None)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
        if f"node={node.name}" in body:
            return True
    return False


def test_nodes_lost_stopped_and_reloaded_under_load(cluster, record_property) -> None:
    nodes, haproxy, redis_server = cluster
    node_a, node_b, node_c = nodes

    rates = [throughput(port, THROUGHPUT_SECONDS) for port in haproxy.ports]
    for count, rate in enumerate(rates, start=1):
        record_property(f"throughput_{count}_nodes", round(rate))
    print(f"\nthroughput through HAProxy, {CLIENTS} keep-alive clients, session counter "
          f"in Redis, 2 workers per node: " +
          ", ".join(f"{n} node{'s' if n > 1 else ''} {r:.0f} req/s"
                    for n, r in enumerate(rates, start=1)) +
          " (one 2-core machine runs the client, HAProxy, Redis and every node: overhead, "
          "not scaling)")

    clients = [Client(haproxy.ports[2]) for _ in range(CLIENTS)]
    for client in clients:
        client.login()
    stop, threads = load(haproxy.ports[2], clients, 40)
    try:
        time.sleep(1.5)
        killed_at = time.monotonic()
        kill_server(node_a.server)  # the machine is gone: master and workers at once
        killed_done = time.monotonic()
        time.sleep(1.5)

        graceful_at = time.monotonic()
        node_b.server.proc.send_signal(signal.SIGTERM)
        assert node_b.server.proc.wait(HEALTH_DELAY + 15) == 0
        graceful_done = time.monotonic()
        node_b.restart()
        assert wait_until(lambda: backend_up(haproxy, node_b), timeout=10)

        conf = node_c.server.conf
        conf.write_text(conf.read_text().replace("PythonOption node c", "PythonOption node c2"))
        node_c.server.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("c2" in c.nodes for c in clients), timeout=10)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    failures = sorted(f for c in clients for f in c.failures)
    served = sum(c.ok for c in clients)
    print(f"chaos run: {served} requests served, {len(failures)} failed "
          f"(sent {[round(sent - killed_at, 3) for sent, _ in failures]} s after the kill began; "
          f"it took {killed_done - killed_at:.3f} s): "
          f"{sorted(set(why for _, why in failures))}")
    record_property("chaos_served", served)
    record_property("chaos_failed", len(failures))
    # Every session survived: no counter reset or went back, and Redis holds the last value.
    assert not [r for c in clients for r in c.regressions]
    # Each answer named the client's own port: the PROXY v2 header reached the request.
    assert not [w for c in clients for w in c.wrong_address][:5]
    for client in clients:
        status, body, _ = request(http.client.HTTPConnection(
            "127.0.0.1", haproxy.ports[2], timeout=10), "/app/peek", client.cookie)
        # A request cut by A's death may have saved before it died: at most one more each.
        stored = int(body.split()[0][2:]) if status == 200 else -1
        assert client.last <= stored <= client.last + len(client.failures), (client, body)
    # At most the requests in flight when A died failed (one per client at most), all of
    # them sent before A was gone (100 ms of slack: SIGKILL takes effect asynchronously, and
    # until A's last worker is gone its listening socket still queues what HAProxy forwards,
    # which the kernel then resets: requests in flight on A as well); none around
    # B's graceful stop.
    assert len(failures) <= CLIENTS
    assert all(sent <= killed_done + 0.1 for sent, _ in failures), \
        (killed_done - killed_at, failures)
    assert not [f for f in failures if graceful_at - 0.5 <= f[0] <= graceful_done + 1]
    # Every node served: A before it died, B before and after its restart, C after reload.
    seen = set().union(*(c.nodes for c in clients))
    assert {"a", "b", "c", "c2"} <= seen, seen
    assert served > 100
    # HAProxy took B out because its health check said 503 (the drain), not because its
    # socket closed; A was taken out on a refused connection.
    log = haproxy.log.read_text()
    assert "Server nodes3/b is DOWN, reason: Layer7 wrong status, code: 503" in log, log
    assert "Server nodes3/a is DOWN, reason: Layer4 connection problem" in log, log
    assert redis_server.proc is not None and redis_server.proc.poll() is None
