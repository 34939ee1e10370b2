"""The `server-status` handler (Apache's mod_status), served by any worker from the scoreboard.

Owns rendering the scoreboard as an HTML page, as mod_status's machine-readable `?auto`
text, and as Prometheus text (`?format=prometheus`). It is reachable only where a section
says `SetHandler server-status`; who may read it is that section's `Require` (for example
`Require local`). Reads shared memory only; never changes what it shows.
"""

from __future__ import annotations

import html
import os
import time
from typing import TYPE_CHECKING, Callable

from mod_python import apache

from .. import __version__
from .scoreboard import (
    BUSY,
    DEAD,
    GRACEFUL,
    READY,
    STARTING,
    STATE_LETTERS,
    STATE_NAMES,
    BoardHeader,
    Scoreboard,
    SlotInfo,
)

if TYPE_CHECKING:
    from ..modpy.request import Request

HANDLER_NAME = "server-status"
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StatusPage:
    """`SetHandler server-status`: one handler bound to this server's scoreboard."""

    def __init__(self, board: Scoreboard, queued: Callable[[], int],
                 extended: bool = True) -> None:
        self.board = board
        self.queued = queued  # connections waiting in the listening sockets' accept queues
        self.extended = extended  # ExtendedStatus: per-request figures and the worker table

    def handle(self, req: Request) -> int:
        if req.method not in ("GET", "HEAD"):
            req.allow_methods(("GET", "HEAD"))
            return apache.HTTP_METHOD_NOT_ALLOWED
        args = set((req.args or "").split("&"))
        snapshot = Snapshot(self.board.header(), self.board.slots(), self.queued(),
                            self.extended)
        req.headers_out["Cache-Control"] = "no-store"
        if "format=prometheus" in args:
            req.content_type = PROMETHEUS_TYPE
            req.write(snapshot.prometheus())
        elif "auto" in args:
            req.content_type = "text/plain; charset=ISO-8859-1"
            req.write(snapshot.auto())
        else:
            req.content_type = "text/html; charset=utf-8"
            req.write(snapshot.html())
        return apache.OK


class Snapshot:
    """One reading of the scoreboard, rendered three ways."""

    def __init__(self, header: BoardHeader, slots: list[SlotInfo], queued: int,
                 extended: bool = True) -> None:
        self.header = header
        self.extended = extended
        self.slots = [s for s in slots if s.state != DEAD]
        self.queued = queued
        self.now = time.time()
        self.mono = time.monotonic()

    @property
    def uptime(self) -> float:
        return max(0.0, self.now - self.header.started) if self.header.started else 0.0

    @property
    def total_requests(self) -> int:
        return self.header.exited_requests + sum(s.requests for s in self.slots)

    @property
    def total_bytes(self) -> int:
        return self.header.exited_bytes + sum(s.bytes for s in self.slots)

    def count(self, state: int) -> int:
        return sum(1 for s in self.slots if s.state == state)

    def letters(self) -> str:
        return "".join(STATE_LETTERS.get(s.state, "?") for s in self.slots)

    def auto(self) -> str:
        """mod_status's `?auto` keys that apply here (the totals only with ExtendedStatus
        On, as mod_status)."""
        lines = [
            f"ServerVersion: prefork-modpy/{__version__}",
            "ServerMPM: prefork",
            f"ServerUptimeSeconds: {int(self.uptime)}",
            *([f"Total Accesses: {self.total_requests}",
               f"Total kBytes: {self.total_bytes // 1024}"] if self.extended else []),
            f"BusyWorkers: {self.count(BUSY)}",
            f"IdleWorkers: {self.count(READY)}",
            f"GracefulWorkers: {self.count(GRACEFUL)}",
            f"Generation: {self.header.generation}",
            f"ListenQueue: {self.queued}",
            f"Scoreboard: {self.letters()}",
        ]
        return "\n".join(lines) + "\n"

    def prometheus(self) -> str:
        header = self.header
        out: list[str] = []
        metric = _Metrics(out)
        metric.gauge("workers", "Worker processes by scoreboard state.",
                     [({"state": STATE_NAMES[state]}, self.count(state))
                      for state in (STARTING, READY, BUSY, GRACEFUL)])
        metric.gauge("workers_target", "Workers the master keeps running.",
                     [({}, header.target_workers)])
        if self.extended:
            metric.counter("requests_total", "Requests served since the master started.",
                           [({}, self.total_requests)])
            metric.counter("response_body_bytes_total", "Response body bytes sent.",
                           [({}, self.total_bytes)])
        metric.gauge("uptime_seconds", "Seconds since the master started.",
                     [({}, round(self.uptime, 3))])
        metric.gauge("generation", "Config generation in force (1 + successful reloads).",
                     [({}, header.generation)])
        metric.gauge("listen_queue", "Connections waiting to be accepted.",
                     [({}, self.queued)])
        for name, value, text in (
                ("reloads_total", header.reloads, "Successful reloads (SIGHUP)."),
                ("worker_crashes_total", header.crashes, "Workers that died unexpectedly."),
                ("worker_timeouts_total", header.timeouts, "Workers killed past Timeout."),
                ("worker_recycles_total", header.recycles,
                 "Workers recycled by MaxRequestsPerChild or MaxMemoryPerChild.")):
            metric.counter(name, text, [({}, value)])
        if not self.extended:  # ExtendedStatus Off: no per-worker figures
            return "\n".join(out) + "\n"
        per_worker = [(s, {"slot": str(s.index), "worker": str(s.number)}) for s in self.slots]
        metric.counter("worker_requests_total", "Requests served by this worker process.",
                       [(labels, s.requests) for s, labels in per_worker])
        metric.gauge("worker_busy_seconds", "Seconds spent in the current request.",
                     [(labels, round(s.busy_for(self.mono), 3)) for s, labels in per_worker])
        metric.gauge("worker_resident_memory_bytes", "Resident memory of the worker.",
                     [(labels, s.rss_kb * 1024) for s, labels in per_worker])
        return "\n".join(out) + "\n"

    def html(self) -> str:
        header = self.header
        if not self.extended:
            return self._reduced_html()
        rows = "".join(self._row(s) for s in self.slots)
        return self._page_top() + f"""\
<dt>{self.total_requests} requests, {self.total_bytes // 1024} kB sent</dt>
<dt>{self.count(BUSY)} busy, {self.count(READY)} idle, {self.count(GRACEFUL)} finishing;
target {header.target_workers} workers; {self.queued} connection(s) waiting</dt>
<dt>Worker crashes {header.crashes}, timeouts {header.timeouts},
recycled {header.recycles}</dt>
</dl>
<pre>{self.letters()}</pre>
<p>"<b><code>_</code></b>" waiting, "<b><code>S</code></b>" starting,
"<b><code>W</code></b>" busy, "<b><code>G</code></b>" gracefully finishing</p>
<table border="1">
<tr><th>Slot</th><th>Worker</th><th>PID</th><th>Gen</th><th>State</th><th>Age</th>
<th>Requests</th><th>kB</th><th>RSS kB</th><th>Busy s</th><th>Client</th><th>Request</th>
<th>Note</th></tr>
{rows}</table>
<p>pid of this page's worker: {os.getpid()}</p>
</body></html>
"""

    def _page_top(self) -> str:
        """The start both HTML pages share: version, start time, generation."""
        header = self.header
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(header.started))
        return f"""<!DOCTYPE html>
<html><head><title>prefork-modpy status</title></head><body>
<h1>prefork-modpy server status</h1>
<dl>
<dt>Server version: prefork-modpy/{__version__}, master pid {header.master_pid}</dt>
<dt>Started: {started}; uptime {_duration(self.uptime)}</dt>
<dt>Generation {header.generation}; {header.reloads} reload(s)</dt>
"""

    def _reduced_html(self) -> str:
        """ExtendedStatus Off: mod_status's short page (no totals, no client or request of
        any worker), with its hint."""
        header = self.header
        return self._page_top() + f"""\
<dt>{self.count(BUSY)} busy, {self.count(READY)} idle, {self.count(GRACEFUL)} finishing;
target {header.target_workers} workers; {self.queued} connection(s) waiting</dt>
</dl>
<pre>{self.letters()}</pre>
<p>"<b><code>_</code></b>" waiting, "<b><code>S</code></b>" starting,
"<b><code>W</code></b>" busy, "<b><code>G</code></b>" gracefully finishing</p>
<hr />To obtain a full report with current status information you need to use the
<code>ExtendedStatus On</code> directive.
</body></html>
"""

    def _row(self, slot: SlotInfo) -> str:
        busy = slot.state == BUSY
        request = html.escape(f"{slot.method} {slot.url}") if busy else ""
        age = _duration(self.now - slot.started) if slot.started else ""
        cells = [slot.index, slot.number, slot.pid, slot.generation, slot.state_name, age,
                 slot.requests, slot.bytes // 1024, slot.rss_kb,
                 f"{slot.busy_for(self.mono):.1f}" if busy else "",
                 html.escape(slot.client) if busy else "", request, html.escape(slot.note)]
        return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>\n"


class _Metrics:
    """Prometheus text exposition: HELP/TYPE once, then one line per labelled value."""

    def __init__(self, out: list[str]) -> None:
        self.out = out

    def gauge(self, name: str, text: str, values: list) -> None:
        self._emit(name, "gauge", text, values)

    def counter(self, name: str, text: str, values: list) -> None:
        self._emit(name, "counter", text, values)

    def _emit(self, name: str, kind: str, text: str, values: list) -> None:
        full = f"prefork_modpy_{name}"
        self.out.append(f"# HELP {full} {text}")
        self.out.append(f"# TYPE {full} {kind}")
        for labels, value in values:
            label_text = ",".join(f'{key}="{value}"' for key, value in labels.items())
            self.out.append(f"{full}{{{label_text}}} {value}" if labels else f"{full} {value}")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"
