"""RedisSession against a real redis-server (and valkey-server where Debian packages it),
started by these tests on a free loopback port, with two prefork-modpy instances standing for
two machines: round trip through HTTP, Redis TTL expiry, signed records, the session lock
across instances, and Redis killed and restarted in the middle of a run.

redis-server comes from `make deps-redis` (tests/support/install_redis.sh); without it these
tests fail, unless PREFORK_MODPY_NO_REDIS=1 says to skip them.  valkey-server is packaged from
Debian 13 on; elsewhere the Valkey cases are skipped unless PREFORK_MODPY_VALKEY_SERVER names
a valkey-server binary (PREFORK_MODPY_REDIS_SERVER likewise picks another redis-server)."""

from __future__ import annotations

import http.client
import os
import pickle
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import pytest
import redis

from tests.support.site import SiteFactory, free_port, wait_until

HANDLER = '''
import os
import time

from mod_python import Session, apache, util


def handler(req):
    entered = time.time()
    args = util.parse_qs(req.args or "")
    timeout = int(args.get("timeout", ["0"])[0])
    sess = Session.Session(req, timeout=timeout)
    locked = time.time()
    action = req.uri.rsplit("/", 1)[-1]
    if action == "count":
        time.sleep(float(args.get("hold", ["0"])[0]))
        sess["n"] = sess.get("n", 0) + 1
        sess.save()
    elif action == "invalidate":
        sess.invalidate()
    req.content_type = "text/plain"
    req.write(f"n={sess.get('n', 0)} new={int(sess.is_new())} id={sess.id()} "
              f"type={type(sess).__name__} pid={os.getpid()} entered={entered:.6f} "
              f"locked={locked:.6f} done={time.time():.6f}")
    return apache.OK
'''

CONFIG = """
Timeout 20
<Directory {root}/app>
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type RedisSession
    PythonOption mod_python.session.redis_url redis://127.0.0.1:%(redis_port)d/0
    PythonOption mod_python.session.database_directory %(key_dir)s
    %(extra)s
</Directory>
"""

SERVERS = ["redis-server", "valkey-server"]


class RedisProcess:
    """A redis-server (or valkey-server) of our own: loopback only, its files in `data`,
    no snapshots; an append-only file fsynced on every write when `appendonly`."""

    def __init__(self, binary: str, data: Path, appendonly: bool = False) -> None:
        self.binary = binary
        self.data = data
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        data.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--protected-mode", "yes", "--dir", str(self.data), "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always",
             "--daemonize", "no", "--logfile", str(self.data / "server.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.client = redis.Redis(port=self.port, socket_timeout=2)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.binary} exited: {self.log()}")
            try:
                if self.client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.binary} did not answer PING: {self.log()}")

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def server_binary(name: str) -> str:
    """The server binary: PREFORK_MODPY_REDIS_SERVER / PREFORK_MODPY_VALKEY_SERVER when set
    (a build of your own), else the one on PATH or in /usr/bin."""
    variable = f"PREFORK_MODPY_{name.split('-')[0].upper()}_SERVER"
    chosen = os.environ.get(variable)
    if chosen:
        if not os.access(chosen, os.X_OK):
            pytest.fail(f"{variable}={chosen}: not an executable file")
        return chosen
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                  else None)
    if path:
        return path
    if os.environ.get("PREFORK_MODPY_NO_REDIS") == "1":
        pytest.skip(f"{name} missing and PREFORK_MODPY_NO_REDIS=1")
    if name == "valkey-server":
        # Debian packages Valkey from 13 (trixie) on; install_redis.sh installs it there.
        pytest.skip("valkey-server is not installed (not packaged for this Debian release)")
    pytest.fail(f"{name} missing: run `make deps-redis` (or set PREFORK_MODPY_NO_REDIS=1)")
    raise AssertionError  # unreachable: pytest.fail raises


@pytest.fixture(params=SERVERS)
def redis_binary(request: pytest.FixtureRequest) -> str:
    return server_binary(request.param)


@pytest.fixture
def start_redis(tmp_path: Path, redis_binary: str):
    started: list[RedisProcess] = []

    def start(appendonly: bool = False) -> RedisProcess:
        server = RedisProcess(redis_binary, tmp_path / f"redis{len(started)}", appendonly)
        started.append(server)
        server.start()
        return server
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def instances(tmp_path: Path):
    """start(redis, count) → `count` prefork-modpy instances (own config, own directory)
    on one Redis and one shared session key directory: machines of one cluster."""
    factories: list[SiteFactory] = []

    def start(server: RedisProcess, count: int = 2, workers: int = 2,
              key_dirs: Optional[list[Path]] = None, extra: str = "") -> list:
        started = []
        for i in range(count):
            base = tmp_path / f"node{len(factories)}"
            base.mkdir()
            factory = SiteFactory(base)
            factories.append(factory)
            key_dir = key_dirs[i] if key_dirs else tmp_path / "keys"
            config = CONFIG % {"redis_port": server.port, "key_dir": key_dir, "extra": extra}
            started.append(factory.start(config, {"app/sess.py": HANDLER}, workers=workers))
        return started
    yield start
    for factory in factories:
        factory.close()


class Reply:
    def __init__(self, status: int, body: str, set_cookie: Optional[str]) -> None:
        self.status = status
        self.body = body
        self.set_cookie = set_cookie
        self.fields = dict(part.split("=", 1) for part in body.split()) if status == 200 \
            else {}

    def __getitem__(self, name: str) -> str:
        return self.fields[name]


def get(port: int, path: str, cookie: Optional[str] = None, timeout: float = 30) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return Reply(response.status, body, response.getheader("Set-Cookie"))
    finally:
        conn.close()


def cookie_of(reply: Reply) -> str:
    assert reply.set_cookie, reply.body
    return reply.set_cookie.split(";", 1)[0]


def test_round_trip_across_instances(start_redis, instances) -> None:
    server = start_redis()
    node_a, node_b = instances(server)
    first = get(node_a.port, "/app/count")
    assert first.status == 200 and first["new"] == "1" and first["type"] == "RedisSession"
    cookie = cookie_of(first)
    sid = first["id"]
    assert cookie == f"pysid={sid}" and "httponly" in first.set_cookie
    for n, node in enumerate([node_b, node_a, node_b], start=2):
        reply = get(node.port, "/app/count", cookie)
        assert (reply["n"], reply["new"], reply["id"]) == (str(n), "0", sid)
        assert reply.set_cookie is None
    # Stored as a signed record with the default 30-minute TTL; the lock is released by the
    # request's cleanup, which runs just after the response.
    assert wait_until(lambda: server.client.keys("*") == [f"mp_sess:{sid}".encode()])
    assert 1790_000 < server.client.pttl(f"mp_sess:{sid}") <= 1800_000
    assert server.client.get(f"mp_sess:{sid}").startswith(b"MPS1")

    gone = get(node_b.port, "/app/invalidate", cookie)
    assert gone.status == 200 and "expires=" in gone.set_cookie
    assert server.client.exists(f"mp_sess:{sid}") == 0
    assert wait_until(lambda: server.client.keys("*") == [])
    again = get(node_a.port, "/app/count", cookie)
    assert again["new"] == "1" and again["id"] != sid and again["n"] == "1"


def test_ttl_expiry_is_redis(start_redis, instances) -> None:
    server = start_redis()
    (node,) = instances(server, count=1)
    first = get(node.port, "/app/count?timeout=1")
    cookie, key = cookie_of(first), f"mp_sess:{first['id']}"
    assert 0 < server.client.pttl(key) <= 1000
    assert get(node.port, "/app/count?timeout=1", cookie)["n"] == "2"  # the save renews it
    time.sleep(1.3)
    assert server.client.exists(key) == 0  # gone by Redis' expiry, no sweep ran
    late = get(node.port, "/app/count?timeout=1", cookie)
    assert late["new"] == "1" and late["id"] != first["id"] and late["n"] == "1"


def test_forged_and_foreign_records_are_not_loaded(tmp_path: Path, start_redis,
                                                   instances) -> None:
    server = start_redis()
    node_a, node_b = instances(server, key_dirs=[tmp_path / "key_a", tmp_path / "key_b"])
    first = get(node_a.port, "/app/count")
    cookie, sid = cookie_of(first), first["id"]
    # Another key (a machine that was not given the cluster's key file): no session there,
    # and the log says why.
    other = get(node_b.port, "/app/count", cookie)
    assert other["new"] == "1" and other["id"] != sid
    assert "is not signed with the key in" in node_b.errors()

    # A pickle planted in Redis by someone without the key is never unpickled.
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    server.client.set(f"mp_sess:{sid}", b"MPS1" + b"\0" * 32 + pickle.dumps(Evil(), 2))
    reply = get(node_a.port, "/app/count", cookie)
    assert reply["new"] == "1" and not marker.exists()


def test_lock_blocks_the_same_session_on_another_instance(start_redis, instances) -> None:
    server = start_redis()
    node_a, node_b = instances(server)
    cookie = cookie_of(get(node_a.port, "/app/count"))
    assert wait_until(lambda: not server.client.keys("mp_sess:lock:*"))
    hold = 1.5
    replies: dict[str, Reply] = {}

    def holder() -> None:
        replies["a"] = get(node_a.port, f"/app/count?hold={hold}", cookie)
    thread = threading.Thread(target=holder)
    thread.start()
    assert_until = time.monotonic() + 5  # wait until A holds the session lock
    while not server.client.keys("mp_sess:lock:*"):
        assert time.monotonic() < assert_until, "request A never took the lock"
        time.sleep(0.01)
    replies["b"] = get(node_b.port, "/app/count", cookie)
    thread.join(10)
    a, b = replies["a"], replies["b"]
    waited = float(b["locked"]) - float(b["entered"])
    after_release = float(b["locked"]) - float(a["done"])
    print(f"\nlock wait on the other instance: {waited:.3f} s (A held {hold} s); "
          f"B got the lock {after_release * 1000:.1f} ms after A's handler returned")
    # B waited for A (A saved n=2 before releasing, so B counts 3), and not much longer.
    assert (a["n"], b["n"]) == ("2", "3")
    assert float(b["locked"]) >= float(a["done"])
    assert waited > hold - 0.5 and after_release < 0.5

    # A different session is not held up by a locked one.
    other_cookie = cookie_of(get(node_b.port, "/app/count"))
    assert wait_until(lambda: not server.client.keys("mp_sess:lock:*"))
    thread = threading.Thread(target=holder)
    thread.start()
    time.sleep(0.3)
    free = get(node_b.port, "/app/count", other_cookie)
    thread.join(10)
    assert float(free["locked"]) - float(free["entered"]) < 0.2


def test_lock_of_a_killed_holder_expires(start_redis, instances) -> None:
    """A worker killed while it holds a session lock cannot release it: the session stays
    locked on every instance until the lock timeout, then the next request gets it."""
    server = start_redis()
    lock_timeout = 2.0
    node_a, node_b = instances(
        server, extra=f"PythonOption mod_python.session.redis_lock_timeout {lock_timeout}")
    cookie = cookie_of(get(node_a.port, "/app/count"))
    assert wait_until(lambda: not server.client.keys("mp_sess:lock:*"))
    outcome: list[object] = []

    def hold() -> None:
        try:
            outcome.append(get(node_a.port, "/app/count?hold=15", cookie))
        except (OSError, http.client.HTTPException) as exc:  # its worker is killed
            outcome.append(exc)
    holder = threading.Thread(target=hold)
    holder.start()
    assert wait_until(lambda: server.client.keys("mp_sess:lock:*"), interval=0.005)
    taken = time.time()
    for pid in node_a.workers():
        os.kill(pid, signal.SIGKILL)
    reply = get(node_b.port, "/app/count", cookie)
    holder.join(20)
    freed = float(reply["locked"]) - taken
    print(f"\nlock of a killed holder freed after {freed:.3f} s (lock timeout {lock_timeout} s)")
    assert reply["n"] == "2" and lock_timeout - 0.3 < freed < lock_timeout + 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], (OSError, http.client.HTTPException))


def test_redis_options(start_redis, instances) -> None:
    server = start_redis()
    (prefixed,) = instances(server, count=1,
                            extra="PythonOption mod_python.session.redis_key_prefix app1:")
    sid = get(prefixed.port, "/app/count")["id"]
    assert server.client.exists(f"app1:{sid}") == 1

    # A lock timeout or URL that can never work is refused at load (tests/unit/test_config.py);
    # an empty URL masks an inherited one, so only the request that opens a session can tell.
    (bare,) = instances(server, count=1,
                        extra="PythonOption mod_python.session.redis_url \"\"")
    assert get(bare.port, "/app/count").status == 500
    assert "RedisSession needs PythonOption mod_python.session.redis_url" in bare.errors()


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof", "no-persistence"])
def test_redis_killed_and_restarted(start_redis, instances, appendonly: bool) -> None:
    """Sessions counted through both instances while Redis is SIGKILLed and restarted on the
    same port and directory.  Requests running while Redis is down may fail; every request
    started after it answers PING again must succeed, and each counter goes up by one per
    successful request (plus at most one per failed request: a save that landed but whose
    reply was lost).  With an append-only file (fsync on every write) no session is lost at
    all; without persistence the sessions written before the kill are gone (each starts
    over once, as a new session with a new cookie) and none written after the restart is."""
    server = start_redis(appendonly=appendonly)
    node_a, node_b = instances(server, workers=2)
    sessions = [cookie_of(get(node_a.port, "/app/count")) for _ in range(4)]
    last_n = [1] * len(sessions)
    failed_since = [0] * len(sessions)
    renewed = [False] * len(sessions)
    log: list[tuple[float, float, int]] = []  # (start, duration, status)
    run_for, kill_at, down_for = 6.0, 2.0, 1.0
    started = time.monotonic()
    killed = restarted = None
    i = 0
    while time.monotonic() - started < run_for and i < 5000:
        now = time.monotonic() - started
        if killed is None and now >= kill_at:
            server.kill()
            killed = now
        if killed is not None and restarted is None and now >= killed + down_for:
            server.start()
            restarted = time.monotonic() - started
        which = i % len(sessions)
        node = (node_a, node_b)[i % 2]
        i += 1
        begun = time.monotonic() - started
        reply = get(node.port, "/app/count", sessions[which], timeout=15)
        log.append((begun, time.monotonic() - started - begun, reply.status))
        if reply.status != 200:
            failed_since[which] += 1
            continue
        if reply["new"] == "1":  # lost with the Redis that held it
            assert not appendonly and restarted is not None and not renewed[which], reply.body
            renewed[which] = True
            sessions[which], last_n[which], failed_since[which] = cookie_of(reply), 1, 0
            continue
        n = int(reply["n"])
        assert last_n[which] < n <= last_n[which] + 1 + failed_since[which], reply.body
        last_n[which], failed_since[which] = n, 0
    assert killed is not None and restarted is not None
    before = [(d, s) for t, d, s in log if t < killed]
    down = [(d, s) for t, d, s in log if killed <= t < restarted]
    after = [(d, s) for t, d, s in log if t >= restarted]
    print(f"\n{'AOF' if appendonly else 'no persistence'}: {len(log)} requests in {run_for} s; "
          f"Redis down {restarted - killed:.2f} s; before kill {len(before)} (failed "
          f"{sum(s != 200 for _, s in before)}), while down {len(down)} (failed "
          f"{sum(s != 200 for _, s in down)}, slowest {max(d for d, _ in down):.3f} s), after "
          f"restart {len(after)} (failed {sum(s != 200 for _, s in after)}, slowest "
          f"{max(d for d, _ in after):.3f} s)")
    assert all(s == 200 for _, s in before) and len(after) > 20
    assert all(s == 200 for _, s in after), [(round(t, 3), s) for t, _, s in log if s != 200]
    if appendonly:
        assert not any(renewed)
    else:  # every session started over once, just after the restart
        assert all(renewed)
    for which, cookie in enumerate(sessions):  # both instances see every session's last count
        assert get(node_b.port, "/app/count", cookie)["n"] == str(last_n[which] + 1)
        assert get(node_a.port, "/app/count", cookie)["n"] == str(last_n[which] + 2)
