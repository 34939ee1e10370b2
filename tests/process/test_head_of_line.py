"""ISSUE 15 finding 6: head-of-line blocking across keep-alive connections.

Twenty keep-alive clients spread over two workers, then one 8 s request: before the fix the
clients whose connections the busy worker held waited behind it for the whole 8 s while the
other worker sat idle (behind nginx's upstream `keepalive 32` this is the normal case). The
engine now hands the busy worker's other connections to a worker that is free (handoff.rs):
the p99 of the fast requests made while the slow one runs must stay under 50 ms, and none
may take a second (behind the slow one it would wait up to 8 s).

The p99 is taken in two 2 s windows and the better one counts: the 19 client threads share
the test machine, and on a loaded one a stall of the client process alone has pushed the
p99 of a whole run past 50 ms (86 ms, with a p50 of 0.6 ms and every connection served).
Blocking behind the slow request would spoil both windows.
"""

from __future__ import annotations

import http.client
import threading
import time

from tests.support.site import wait_until

from .helpers import APP, APP_CONF, slow_started

SLOW_CONF = APP_CONF + """
<Location /slow>
    SetHandler mod_python
    PythonHandler app::slow
    PythonPath "sys.path + ['{root}']"
</Location>
"""

CLIENTS = 20
SLOW_SECONDS = 8.0
MEASURE_SECONDS = 4.0  # fast requests are timed during this part of the slow request
WINDOWS = 2  # the p99 is taken in each part of MEASURE_SECONDS
THINK = 0.005  # each client pauses this long between requests (a 2-core test machine)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def windowed_p99(latencies: list[list[float]], sent_at: list[list[float]],
                 begin: float) -> list[float]:
    """The p99 of the requests sent in each of the WINDOWS parts of the measurement."""
    width = MEASURE_SECONDS / WINDOWS
    parts: list[list[float]] = [[] for _ in range(WINDOWS)]
    for per_latency, per_sent in zip(latencies, sent_at):
        for latency, sent in zip(per_latency, per_sent):
            parts[min(WINDOWS - 1, max(0, int((sent - begin) / width)))].append(latency)
    return [percentile(part, 0.99) for part in parts if part]


def test_a_slow_request_does_not_hold_other_keepalive_clients(site):
    server = site(SLOW_CONF, {"app.py": APP}, workers=2)
    conns = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
             for _ in range(CLIENTS)]
    owners: dict[int, str] = {}
    for index, conn in enumerate(conns):  # open every connection; note its worker
        conn.request("GET", "/app/x")
        owners[index] = conn.getresponse().read().decode().split()[1]
    # The worst case: the slow request runs in the worker that holds the most clients,
    # on one of their own connections; the others there must not wait behind it.
    busy_pid = max(set(owners.values()), key=list(owners.values()).count)
    slow_index = next(i for i, pid in owners.items() if pid == busy_pid)
    held = [i for i, pid in owners.items() if pid == busy_pid and i != slow_index]
    slow_conn = conns[slow_index]
    fast = [i for i in range(CLIENTS) if i != slow_index]
    slow_done = threading.Event()
    slow_result: list[object] = []

    def slow() -> None:
        slow_conn.request("GET", f"/slow?{SLOW_SECONDS}")
        slow_result.append((slow_conn.getresponse().status, time.monotonic()))
        slow_done.set()

    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    sent_at: list[list[float]] = [[] for _ in range(CLIENTS)]
    stop_at: list[float] = []

    def client(index: int) -> None:
        conn = conns[index]
        while time.monotonic() < stop_at[0]:
            started = time.monotonic()
            conn.request("GET", "/app/x")
            body = conn.getresponse().read()
            latencies[index].append(time.monotonic() - started)
            sent_at[index].append(started)
            assert body.startswith(b"ok ")
            time.sleep(THINK)

    slow_thread = threading.Thread(target=slow)
    slow_began = time.monotonic()
    slow_thread.start()
    assert wait_until(lambda: slow_started(server))  # running in the busiest worker
    stop_at.append(time.monotonic() + MEASURE_SECONDS)
    threads = [threading.Thread(target=client, args=(i,)) for i in fast]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MEASURE_SECONDS + 20)
    assert slow_done.wait(SLOW_SECONDS + 10)
    status, finished = slow_result[0]  # type: ignore[misc]
    all_latencies = [value for per_client in latencies for value in per_client]
    p50, p99 = percentile(all_latencies, 0.5), percentile(all_latencies, 0.99)
    print(f"\n{len(all_latencies)} fast requests from {len(fast)} keep-alive clients "
          f"while one {SLOW_SECONDS:g} s request ran on 2 workers ({len(held)} of the "
          f"clients on the busy worker): p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {max(all_latencies) * 1000:.1f} ms")
    window_p99 = windowed_p99(latencies, sent_at, stop_at[0] - MEASURE_SECONDS)
    print(f"p99 by {MEASURE_SECONDS / WINDOWS:g} s window: "
          + ", ".join(f"{value * 1000:.1f} ms" for value in window_p99))
    assert status == 200 and finished - slow_began >= SLOW_SECONDS
    assert len(held) >= CLIENTS // 2 - 1
    assert all(latencies[i] for i in fast), "a client made no request"
    assert max(all_latencies) < 1.0
    assert min(window_p99) < 0.050
    for conn in conns:
        conn.close()
