"""Zero-drop reload and stop under load: SIGHUP, SIGTERM, SIGINT, a worker SIGKILL, Listen
changes, SIGTTIN/SIGTTOU. Every load loop is bounded (see loadgen.py for what it counts)."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.support.site import free_port, wait_until

from .helpers import APP, APP_CONF, Background, get, slow_started
from .loadgen import LoadGenerator

BASE = APP_CONF + "MaxKeepAliveRequests 0\nPythonOption generation one\n"


@pytest.fixture
def app(site):
    return site(BASE, {"app.py": APP}, workers=2)


def set_option(server, value: str) -> None:
    text = server.conf.read_text()
    start = text.index("PythonOption generation ")
    end = text.index("\n", start)
    server.conf.write_text(text[:start] + f"PythonOption generation {value}" + text[end:])


def test_sighup_under_load_drops_nothing(app):
    # The load lasts until the third reload serves (at most 60 s), however long that takes.
    load = LoadGenerator(app.port, "/app/x", threads=4, duration=60.0).start()
    slow = Background(app.port, "/slow?1.5")
    time.sleep(0.3)
    slow.start()
    assert wait_until(lambda: slow_started(app))  # in flight during the first reload
    first_workers = set(app.workers())
    listening = socket_inodes(app.pid)
    for round_number in range(3):
        set_option(app, f"round{round_number}")
        os.kill(app.pid, signal.SIGHUP)
        # The next reload once this one serves: one sent while a generation is still
        # starting supersedes it (and takes its number), which would be another test.
        serving = f"generation {round_number + 2} is serving"
        assert wait_until(lambda s=serving: s in app.errors()), app.errors()[-2000:]
    time.sleep(0.5)  # and a little more load while the last old workers finish
    counts = load.stop()
    slow.join(10)
    print(f"HUP x3 under load: {counts}")
    assert counts.failed == 0 and counts.refused == 0 and counts.bad_status == 0, counts
    assert counts.ok > 100
    assert slow.error is None and slow.result is not None and slow.result[0] == 200
    assert wait_until(lambda: not set(app.workers()) & first_workers and
                      len(app.workers()) == 2)
    assert socket_inodes(app.pid) == listening  # the same listening socket throughout


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            inodes.add(target)
    return inodes


def test_sigterm_under_load_finishes_in_flight_requests(app):
    load = LoadGenerator(app.port, "/app/x", threads=4, duration=3.0).start()
    slow = Background(app.port, "/slow?1")
    time.sleep(0.5)
    slow.start()
    assert wait_until(lambda: slow_started(app))  # in flight when the stop begins
    load.stop_connecting()
    started = time.monotonic()
    os.kill(app.pid, signal.SIGTERM)
    assert app.proc.wait(15) == 0
    elapsed = time.monotonic() - started
    counts = load.join()
    slow.join(5)
    print(f"TERM under load: {counts}, master exited after {elapsed:.2f}s")
    assert counts.failed == 0 and counts.refused == 0 and counts.bad_status == 0, counts
    assert slow.result is not None and slow.result[0] == 200, slow.error
    assert not app.workers()


def test_worker_sigkill_under_load_refuses_nothing(app):
    load = LoadGenerator(app.port, "/app/x", threads=4, duration=2.5).start()
    time.sleep(0.3)
    for victim in app.workers():
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.5)
    counts = load.join()
    print(f"worker SIGKILL x2 under load: {counts}")
    # A killed worker's keep-alive connections die with it: the client resends once on a
    # new connection (counted as retried); nothing may be refused or lost.
    assert counts.failed == 0 and counts.refused == 0 and counts.bad_status == 0, counts
    assert wait_until(lambda: len(app.workers()) == 2)
    assert "exited with signal SIGKILL" in app.errors()


def test_keepalive_client_is_told_to_close_during_reload(app):
    conn = socket.create_connection(("127.0.0.1", app.port))
    request = b"GET /app/x HTTP/1.1\r\nHost: t\r\n\r\n"
    conn.sendall(request)
    first = conn.recv(65536)
    assert b"200 OK" in first and b"Connection: close" not in first
    old = set(app.workers())
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: "generation 2 is serving" in app.errors())
    conn.sendall(request)  # on the old worker's kept-alive connection, while it drains
    second = conn.recv(65536)
    conn.close()
    assert b"200 OK" in second and b"Connection: close" in second
    assert wait_until(lambda: not set(app.workers()) & old)


def test_sigint_stops_without_waiting_for_the_request_in_flight(app):
    """A 20 s request is in flight; SIGINT ends master and workers within 4 s."""
    slow = Background(app.port, "/slow?20")
    slow.start()
    assert wait_until(lambda: slow_started(app))
    started = time.monotonic()
    os.kill(app.pid, signal.SIGINT)
    assert app.proc.wait(10) == 0
    assert time.monotonic() - started < 4
    assert not app.workers()


def test_graceful_shutdown_timeout_bounds_the_drain(site):
    server = site(BASE + "GracefulShutdownTimeout 1\n", {"app.py": APP}, workers=1)
    slow = Background(server.port, "/slow?30")
    slow.start()
    assert wait_until(lambda: slow_started(server))
    started = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert time.monotonic() - started < 5


def test_changed_listen_opens_and_closes_the_difference(app):
    other = free_port()
    original = app.conf.read_text()
    app.conf.write_text(original + f"Listen 127.0.0.1:{other}\n")
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: "generation 2 is serving" in app.errors())
    assert get(other, "/app/x")[0] == 200
    assert get(app.port, "/app/x")[0] == 200
    app.conf.write_text(original.replace(f"127.0.0.1:{app.port}", f"127.0.0.1:{other}"))
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: "generation 3 is serving" in app.errors())
    assert get(other, "/app/x")[0] == 200

    def closed() -> bool:
        try:
            get(app.port, "/app/x", timeout=2)
        except ConnectionRefusedError:
            return True
        return False
    assert wait_until(closed)


def test_broken_python_import_on_reload_keeps_old_generation(app):
    # The server runs in the site's base directory, which `python -m` puts on sys.path.
    (app.root.parent / "broken.py").write_text("def oops(:\n")
    old = app.workers()
    app.conf.write_text(app.conf.read_text() + "PythonImport broken main_interpreter\n")
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: "the new workers could not start" in app.errors())
    assert "SyntaxError" in app.errors()
    assert get(app.port, "/app/x")[0] == 200
    # A new worker retired while booting may take a moment to exit.
    assert wait_until(lambda: app.workers() == old), (app.workers(), old)
    assert "reload refused" in app.master_output()


def test_ttin_and_ttou_change_the_worker_count(app):
    os.kill(app.pid, signal.SIGTTIN)
    assert wait_until(lambda: len(app.workers()) == 3)
    for expected in (2, 1):  # one at a time: two pending signals of a kind merge into one
        os.kill(app.pid, signal.SIGTTOU)
        assert wait_until(lambda n=expected: len(app.workers()) == n)
    assert get(app.port, "/app/x")[0] == 200


def test_static_plans_under_reload_and_stop_drop_nothing(site):
    """A static file the engine answers itself (static plans): two SIGHUPs and a SIGTERM
    while clients keep asking for it; every answer is a whole 200, none is refused or
    lost, and every answer has its access line (the old workers' engines write theirs to
    the log they opened)."""
    body = "static\n" * 100
    server = site(BASE + "CustomLog {root}/../access.log common\n",
                  {"app.py": APP, "static.txt": body}, workers=2)
    past = time.time() - 3600
    os.utime(server.root / "static.txt", (past, past))
    load = LoadGenerator(server.port, "/static.txt", threads=4, duration=60.0).start()
    time.sleep(0.5)
    for round_number in range(2):
        set_option(server, f"round{round_number}")
        os.kill(server.pid, signal.SIGHUP)
        serving = f"generation {round_number + 2} is serving"
        assert wait_until(lambda s=serving: s in server.errors()), server.errors()[-2000:]
        time.sleep(0.3)
    load.stop_connecting()
    os.kill(server.pid, signal.SIGTERM)
    assert server.proc.wait(15) == 0
    counts = load.join()
    print(f"static plans, HUP x2 then TERM under load: {counts}")
    assert counts.failed == 0 and counts.refused == 0 and counts.bad_status == 0, counts
    assert counts.ok > 100
    lines = (server.root.parent / "access.log").read_text().splitlines()
    assert len(lines) >= counts.ok and all('"GET /static.txt HTTP/1.1" 200 700' in line
                                            for line in lines), (len(lines), counts)
