#!/usr/bin/env python3
"""What named interpreters cost (issue 11): the switch, and RSS per worker.

1. `switch`: in one process, two interpreter namespaces (prefork_modpy.runtime.interpreters)
   that each imported the same Django stack (~380 modules of their own); time
   Namespaces.enter() alternating between them, the exact code a worker runs when a request
   names another interpreter than the last one.
2. `wire`: the real server (`python -m prefork_modpy`, 1 worker) with two directories under
   PythonInterpreter a / b, each handler importing that stack; one keep-alive client sends
   requests to a only, then a,b,a,b...; the difference of the mean latencies is what a
   switch adds end to end (loopback noise included, so look at the median too).
3. `handover`: the other design's price: a connection's socket handed to another worker
   process over a Unix socket (SCM_RIGHTS, socket.send_fds) and an acknowledgement back,
   timed per round trip (the receiver blocks in recv_fds as an idle worker would).
4. `rss`: the same server with 5 interpreters; VmRSS of its worker after requests to 1, 2
   and 5 of them.

    PYTHONPATH=. python bench/interpreters.py [--rounds N]

Needs Django (the `test` extra). Bounded: every loop has a count, every socket a timeout.
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STACK = ("json", "logging", "decimal", "email.message", "http.client", "django.http",
         "django.db.models", "django.template", "django.urls", "django.forms",
         "django.core.handlers.wsgi")

HANDLER = """\
import {stack}
from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("ok " + apache.interpreter)
    return apache.OK
"""


def import_stack() -> None:
    for name in STACK:
        importlib.import_module(name)


def bench_switch(rounds: int) -> None:
    from prefork_modpy.runtime.interpreters import Namespaces

    namespaces = Namespaces()
    sizes = {}
    for name in ("a", "b"):
        namespaces.enter(name)
        import_stack()
        sizes[name] = len(sys.modules)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        namespaces.enter("a")
        namespaces.enter("b")
        samples.append((time.perf_counter_ns() - start) / 2000)
    samples.sort()
    print(f"switch: sys.modules sizes {sizes}, shared {len(namespaces.shared)}; "
          f"per switch median {statistics.median(samples):.1f} us, "
          f"p90 {samples[int(len(samples) * 0.9)]:.1f} us, min {samples[0]:.1f} us "
          f"({rounds} round trips)")


def write_site(base: Path, names: list[str]) -> tuple[Path, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = [f"Listen 127.0.0.1:{port}", f"DocumentRoot {base}", f"ErrorLog {base}/error.log",
              "ServerName 127.0.0.1"]
    for name in names:
        directory = base / name
        directory.mkdir()
        (directory / "probe.py").write_text(HANDLER.format(stack=", ".join(STACK)))
        config += [f"<Directory {directory}>", "    SetHandler mod_python",
                   "    PythonHandler probe", f"    PythonInterpreter {name}",
                   "</Directory>"]
    conf = base / "site.conf"
    conf.write_text("\n".join(config) + "\n")
    return conf, port


def start(conf: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
    proc = subprocess.Popen([sys.executable, "-m", "prefork_modpy", "--config", str(conf),
                             "--workers", "1"], env=env, cwd=conf.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            if Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
                time.sleep(1.0)  # the worker has forked; let it finish booting
                return proc
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> float:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        begin = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        took = time.perf_counter() - begin
        if response.status != 200 or not body.startswith(b"ok "):
            raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
        return took
    finally:
        if own:
            conn.close()


def worker_rss_kib(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS")


def bench_wire(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conf, port = write_site(Path(tmp), ["a", "b"])
        proc = start(conf, port)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for path in ("/a/probe.py", "/b/probe.py") * 20:
                get(port, path, conn)
            same, mixed = [], []
            for _ in range(rounds):  # alternate the two patterns so drift hits both
                same += [get(port, "/a/probe.py", conn) for _ in range(2)]
                mixed += [get(port, p, conn) for p in ("/b/probe.py", "/a/probe.py")]
            conn.close()
        finally:
            proc.terminate()
            proc.wait(20)
    us = 1e6
    difference = (statistics.median(mixed) - statistics.median(same)) * us
    print(f"wire: same interpreter mean {statistics.mean(same) * us:.1f} us median "
          f"{statistics.median(same) * us:.1f} us; switching every request mean "
          f"{statistics.mean(mixed) * us:.1f} us median {statistics.median(mixed) * us:.1f}"
          f" us; difference of medians {difference:.1f} us ({2 * rounds} requests each)")


def bench_handover(rounds: int) -> None:
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the receiving "worker": take the socket, acknowledge, close it
        parent_end.close()
        for _ in range(rounds):
            _, fds, _, _ = socket.recv_fds(child_end, 16, 1)
            os.close(fds[0])
            child_end.send(b"k")
        os._exit(0)
    child_end.close()
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=5)
    accepted, _ = listener.accept()
    samples = []
    for _ in range(rounds):
        begin = time.perf_counter_ns()
        socket.send_fds(parent_end, [b"h"], [accepted.fileno()])
        parent_end.recv(1)
        samples.append((time.perf_counter_ns() - begin) / 1000)
    os.waitpid(pid, 0)
    for sock in (client, accepted, listener, parent_end):
        sock.close()
    samples.sort()
    print(f"handover: SCM_RIGHTS round trip median {statistics.median(samples):.1f} us, "
          f"p90 {samples[int(len(samples) * 0.9)]:.1f} us ({rounds} sockets)")


def bench_rss() -> None:
    names = ["a", "b", "c", "d", "e"]
    with tempfile.TemporaryDirectory() as tmp:
        conf, port = write_site(Path(tmp), names)
        proc = start(conf, port)
        try:
            figures = [f"0 (booted, no request yet): {worker_rss_kib(proc.pid) / 1024:.1f} MiB"]
            loaded = 0
            for count in (1, 2, 5):
                for name in names[loaded:count]:
                    for _ in range(3):
                        get(port, f"/{name}/probe.py")
                loaded = count
                figures.append(f"{count}: {worker_rss_kib(proc.pid) / 1024:.1f} MiB")
        finally:
            proc.terminate()
            proc.wait(20)
    print("rss per worker with N interpreters loaded (each importing the stack): "
          + "; ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--only", choices=("switch", "wire", "handover", "rss"))
    args = parser.parse_args()
    print(f"stack: {', '.join(STACK)}")
    if args.only in (None, "switch"):
        bench_switch(args.rounds)
    if args.only in (None, "wire"):
        bench_wire(args.rounds)
    if args.only in (None, "handover"):
        bench_handover(args.rounds)
    if args.only in (None, "rss"):
        bench_rss()


if __name__ == "__main__":
    main()
