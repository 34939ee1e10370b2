"""When each piece of a streamed response reaches the client.

Owns `arrivals`: send a request on a fresh connection and record, for each marker, the
seconds from sending until the marker's bytes had arrived. Must not decode leniently beyond
finding the markers: the caller checks the framing with `wire` when it matters.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


@dataclass
class Arrivals:
    times: dict[bytes, float]  # marker → seconds after the request was sent
    data: bytes  # everything received, head included
    total: float  # seconds until the server closed or the last marker arrived


def arrivals(port: int, request: bytes, markers: list[bytes], timeout: float = 20.0) -> Arrivals:
    """Read until every marker was seen and the server closed (or `timeout` passed)."""
    seen: dict[bytes, float] = {}
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.monotonic()
        sock.sendall(request)
        deadline = start + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(1 << 16)
            except socket.timeout:
                break
            now = time.monotonic() - start
            if not chunk:
                break
            received += chunk
            for marker in markers:
                if marker not in seen and marker in received:
                    seen[marker] = now
    return Arrivals(seen, received, time.monotonic() - start)


# How late a loaded 2-core machine (the CI runner, tests in parallel helpers) may run a
# process that woke up: an arrival may be this much later than planned, never earlier.
STALL = 1.0


def assert_paced(seen: Arrivals, markers: list[bytes], period: float,
                 first_within: float = 3.0) -> None:
    """Each marker reached the client when it was produced, `period` seconds after the one
    before it, not when the response ended.

    Measured between consecutive arrivals rather than from the request: the first marker
    also waits for the request's own work (a cold worker importing Django), which says
    nothing about streaming. A gap of at least half a period rules out buffering the
    response and holding a block back until the next one (either gives a gap near 0
    somewhere); a gap of at most period + STALL rules out sending late; the first marker
    within `first_within` seconds rules out holding everything back from the start."""
    assert set(markers) <= set(seen.times), (seen.times, seen.data[-500:])
    times = [seen.times[marker] for marker in markers]
    assert times[0] < first_within, seen.times
    for before, after in zip(times, times[1:]):
        assert period / 2 <= after - before <= period + STALL, seen.times
