"""A bounded asyncio client for issue 16's "10,000 concurrent keep-alive connections".

`hold(port, path, n, ...)` opens `n` connections (at most `batch` connects in flight), sends
one keep-alive GET on each and reads the answer, so that every connection is established and
idle in the server; calls `on_idle()` (the benchmark samples the server's memory there);
then runs `rounds` rounds in which every connection sends one more GET, all at once, and
times each request. Everything is bounded by `deadline` seconds. It returns the counts of
connections opened, requests answered 200, errors by kind, and latency percentiles.

The process's open-file limit is raised to its hard limit first (10,000 sockets need it).
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class HoldResult:
    wanted: int
    opened: int = 0
    answered: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    open_seconds: float = 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def raise_nofile() -> int:
    """The soft open-file limit raised to the hard one; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> int:
    """One GET on an open connection; returns the status. Reads exactly the body
    (Content-Length) so the connection stays usable."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer


async def _open_one(port: int, request: bytes, limit: asyncio.Semaphore,
                    result: HoldResult, timeout: float) -> Optional[_Conn]:
    async with limit:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout)
            status = await asyncio.wait_for(_exchange(reader, writer, request), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            result.error(f"open: {type(exc).__name__}")
            return None
    if status != 200:
        result.error(f"status {status}")
    result.opened += 1
    return _Conn(reader, writer)


async def _timed(conn: _Conn, request: bytes, result: HoldResult, timeout: float) -> None:
    start = time.perf_counter()
    try:
        status = await asyncio.wait_for(_exchange(conn.reader, conn.writer, request), timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        result.error(f"request: {type(exc).__name__}")
        return
    result.latencies_ms.append((time.perf_counter() - start) * 1000)
    if status == 200:
        result.answered += 1
    else:
        result.error(f"status {status}")


async def _hold(result: HoldResult, port: int, path: str, n: int, rounds: int, batch: int,
                timeout: float, on_idle: Callable[[], None]) -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "User-Agent: bench-manyconn\r\n\r\n").encode()
    limit = asyncio.Semaphore(batch)
    start = time.perf_counter()
    opened = await asyncio.gather(*(_open_one(port, request, limit, result, timeout)
                                    for _ in range(n)))
    result.open_seconds = time.perf_counter() - start
    conns = [c for c in opened if c is not None]
    await asyncio.sleep(1.0)  # let the workers settle with every connection idle
    on_idle()
    for _ in range(rounds):
        await asyncio.gather(*(_timed(c, request, result, timeout) for c in conns))
    for conn in conns:
        conn.writer.close()


def hold(port: int, path: str, n: int, rounds: int = 3, batch: int = 500,
         timeout: float = 30.0, deadline: float = 240.0,
         on_idle: Callable[[], None] = lambda: None) -> HoldResult:
    """See the module docstring. Past `deadline` seconds the result so far is returned with
    an error "deadline" counted."""
    raise_nofile()
    result = HoldResult(wanted=n)

    async def bounded() -> None:
        try:
            await asyncio.wait_for(_hold(result, port, path, n, rounds, batch, timeout,
                                         on_idle), deadline)
        except asyncio.TimeoutError:
            result.error(f"deadline {deadline:.0f} s")

    asyncio.run(bounded())
    return result
