"""A bounded load generator for the process tests: client threads on 127.0.0.1.

Each thread sends GET requests in a loop over one keep-alive connection (http.client), for
at most `duration` seconds and `max_requests` requests, and counts what happened:

- ok: a response with the expected status;
- bad_status: a response with another status;
- refused: connect() refused (the listening socket was closed);
- retried: the server closed a *reused* keep-alive connection before any byte of the
  response. That is the normal HTTP race on idle connections (RFC 9112 §9.3.1), and like
  browsers and urllib3 the client resends the idempotent request once on a new connection;
- failed: anything else — a reset or timeout on a fresh connection, a second failure after
  a retry, a truncated body. A zero-drop reload must keep this at 0.

After `stop_connecting()` (the test sent SIGTERM) a refused connect ends the thread instead
of counting as refused, and no new connection is opened: a stopping server may refuse.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

_RESET = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
          ConnectionAbortedError)


@dataclass
class Counts:
    ok: int = 0
    bad_status: int = 0
    refused: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.ok += other.ok
        self.bad_status += other.bad_status
        self.refused += other.refused
        self.retried += other.retried
        self.failed += other.failed
        self.errors.extend(other.errors)

    @property
    def total(self) -> int:
        return self.ok + self.bad_status + self.failed

    def __str__(self) -> str:
        return (f"total={self.total} ok={self.ok} bad_status={self.bad_status} "
                f"failed={self.failed} refused={self.refused} retried={self.retried} "
                f"errors={self.errors[:5]}")


class LoadGenerator:
    """`threads` clients hammering `path` on 127.0.0.1:`port`."""

    def __init__(self, port: int, path: str, threads: int = 4, duration: float = 3.0,
                 max_requests: int = 20000, expect_status: int = 200) -> None:
        self.port = port
        self.path = path
        self.duration = duration
        self.max_requests = max_requests
        self.expect_status = expect_status
        self.stop_event = threading.Event()
        self.no_new_connections = threading.Event()
        self.counts = [Counts() for _ in range(threads)]
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True)
                        for c in self.counts]
        self.lock = threading.Lock()
        self.sent = 0

    def start(self) -> LoadGenerator:
        for thread in self.threads:
            thread.start()
        return self

    def stop_connecting(self) -> None:
        self.no_new_connections.set()

    def join(self) -> Counts:
        deadline = time.monotonic() + self.duration + 20
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.stop_event.set()
        total = Counts()
        for counts in self.counts:
            total.add(counts)
        return total

    def stop(self) -> Counts:
        self.stop_event.set()
        return self.join()

    def _budget_left(self) -> bool:
        with self.lock:
            if self.sent >= self.max_requests:
                return False
            self.sent += 1
            return True

    def _run(self, counts: Counts) -> None:
        deadline = time.monotonic() + self.duration
        conn: Optional[http.client.HTTPConnection] = None
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            if not self._budget_left():
                break
            conn, keep_going = self._one(conn, counts)
            if not keep_going:
                break
        if conn is not None:
            conn.close()

    def _one(self, conn: Optional[http.client.HTTPConnection],
             counts: Counts) -> tuple[Optional[http.client.HTTPConnection], bool]:
        """One request (plus at most one retry); returns the connection to reuse."""
        for attempt in (1, 2):
            reused = conn is not None
            if conn is None:
                if self.no_new_connections.is_set():
                    return None, False
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            try:
                conn.request("GET", self.path)
                response = conn.getresponse()
                response.read()
            except ConnectionRefusedError:
                conn.close()
                if self.no_new_connections.is_set():
                    return None, False
                counts.refused += 1
                return None, True
            except _RESET as exc:
                conn.close()
                conn = None
                if reused and attempt == 1:
                    counts.retried += 1
                    continue
                counts.failed += 1
                counts.errors.append(f"{type(exc).__name__}: {exc}")
                return None, True
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                counts.failed += 1
                counts.errors.append(f"{type(exc).__name__}: {exc}")
                return None, True
            if response.status == self.expect_status:
                counts.ok += 1
            else:
                counts.bad_status += 1
                counts.errors.append(f"status {response.status}")
            if response.will_close:
                conn.close()
                conn = None
            return conn, True
        return None, True
