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
