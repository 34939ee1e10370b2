"""The master's decisions without forking (gunicorn's tests/test_arbiter.py approach): the
real `Master` methods, on a real config and a real scoreboard, with the kernel replaced at
its edge: `os.fork` hands out made-up pids, `os.kill` is recorded, `os.waitpid` returns the
exits a test queues, and the clock only moves when a test moves it.

A test plays the workers' part through their scoreboard slots, as a worker process does
(`booting`, `set_state`, `begin_request`, `end_request`, `note`), then checks what the
master decided: whom it spawns, signals, retires or replaces, its back-off, its generations,
its spare-worker count and its watchdog. tests/process checks the same decisions with real
processes, more slowly and with less control over timing.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Optional

import pytest

from prefork_modpy.server import master as master_module
from prefork_modpy.server import scoreboard as scoreboard_module
from prefork_modpy.server.master import (
    BOOT_ATTEMPTS,
    BOOT_GRACE,
    MAX_BACKOFF,
    TIMEOUT_KILL_GRACE,
    Generation,
    HaltServer,
    Master,
    MasterOptions,
)
from prefork_modpy.server.scoreboard import BUSY, READY, STARTING, Scoreboard
from prefork_modpy.server.worker import EXIT_BOOT_ERROR


class FakeKernel:
    """What the master asks the kernel, answered without processes; the rest of `os` is the
    real module (getpid, waitstatus_to_exitcode, ...)."""

    def __init__(self) -> None:
        self.last_pid = 1000
        self.forks = 0
        self.signals: list[tuple[int, int]] = []
        self.exits: list[tuple[int, int]] = []

    def fork(self) -> int:
        self.forks += 1
        self.last_pid += 1
        return self.last_pid  # never 0: the master never becomes a worker here

    def kill(self, pid: int, sig: int) -> None:
        self.signals.append((pid, sig))

    def waitpid(self, pid: int, options: int) -> tuple[int, int]:
        return self.exits.pop(0) if self.exits else (0, 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def exit(self, pid: int, code: int = 0, sig: int = 0) -> None:
        """Queue a wait status: killed by `sig`, else exited with `code`."""
        self.exits.append((pid, sig if sig else code << 8))

    def sent(self, sig: int) -> list[int]:
        return [pid for pid, s in self.signals if s == sig]


class FakeClock:
    """`time` for the master and the scoreboard: monotonic() moves only on `advance`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    """A master on `config_text` with two target workers, its kernel and its clock."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_text: str,
                 workers: Optional[int]) -> None:
        self.kernel = FakeKernel()
        self.clock = FakeClock()
        monkeypatch.setattr(master_module, "os", self.kernel)
        monkeypatch.setattr(master_module, "time", self.clock)
        monkeypatch.setattr(scoreboard_module, "time", self.clock)
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "LISTEN_PID", "LISTEN_FDS"):
            monkeypatch.delenv(name, raising=False)
        self.conf = tmp_path / "site.conf"
        self.write_config(config_text)
        self.master = Master(MasterOptions(str(self.conf), workers=workers))
        config = self.master.load()
        if not workers and config.processes.start_servers:
            self.master.num_workers = config.processes.start_servers
        self.master.board = Scoreboard(self.master.scoreboard_capacity(config))
        # As under socket activation: the listeners are there, nothing is bound here.
        self.master.listeners.activated = True
        self.master.pending = Generation(1, config)

    def write_config(self, text: str) -> None:
        self.conf.write_text(f"Listen 127.0.0.1:8080\nDocumentRoot {self.conf.parent}\n{text}")

    @property
    def board(self) -> Scoreboard:
        assert self.master.board is not None
        return self.master.board

    def tick(self) -> None:
        """One pass of Master.loop() without the wait: reap, then the supervision steps."""
        master = self.master
        master.reap_workers()
        master.check_generations()
        master.manage_spares()
        master.maintain_workers()
        master.murder_workers()

    def pids(self, generation: int) -> list[int]:
        return sorted(w.pid for w in self.master.active(generation))

    def slot(self, pid: int):
        return self.board.worker_slot(self.master.workers[pid].slot)

    def ready(self, *pids: int) -> None:
        """These workers booted and accept connections."""
        for pid in pids:
            slot = self.slot(pid)
            slot.booting(pid)
            slot.set_state(READY)

    def heartbeat(self, *pids: int) -> None:
        """What an idle worker's loop does: tell the master it is alive."""
        for pid in pids:
            self.slot(pid).heartbeat()

    def serve_one(self, pid: int) -> None:
        slot = self.slot(pid)
        slot.begin_request("GET", "/x", "127.0.0.1")
        slot.end_request(10)

    def serving(self) -> list[int]:
        """Start the first generation: spawn, all workers ready, promoted."""
        self.tick()
        pids = self.pids(1)
        self.ready(*pids)
        self.tick()
        assert self.master.current is not None and self.master.current.number == 1
        return pids


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture):
    def make(config_text: str = "", workers: Optional[int] = 2) -> Harness:
        return Harness(tmp_path, monkeypatch, config_text, workers)

    return make


# -- start and generations -----------------------------------------------------------------


def test_first_generation_is_promoted_only_once_every_worker_accepts(harness):
    h = harness()
    h.tick()
    first, second = h.pids(1)
    assert h.kernel.forks == 2
    h.ready(first)
    h.tick()
    assert h.master.current is None and h.master.pending is not None
    h.ready(second)
    h.tick()
    assert h.master.current is not None and h.master.current.number == 1
    assert h.master.pending is None
    assert h.kernel.signals == []


def test_reload_retires_the_old_generation_gracefully_once_the_new_one_accepts(harness):
    h = harness()
    old = h.serving()
    h.write_config("KeepAlive Off\n")
    h.master.handle_hup()
    h.tick()
    new = h.pids(2)
    assert len(new) == 2 and h.kernel.signals == []
    h.ready(*new)
    h.tick()
    assert h.master.current is not None and h.master.current.number == 2
    assert h.master.current.config.limits.keepalive is False
    # SIGWINCH: finish the requests in hand, then exit (httpd's graceful stop).
    assert sorted(h.kernel.sent(signal.SIGWINCH)) == old
    assert h.master.counters["reloads"] == 1
    for pid in old:
        h.kernel.exit(pid, 0)
    h.clock.advance(BOOT_GRACE)
    h.tick()
    assert sorted(h.master.workers) == new
    assert h.master.counters["crashes"] == 0 and h.kernel.forks == 4


def test_reload_whose_workers_cannot_boot_keeps_the_old_generation(harness, capfd):
    h = harness()
    old = h.serving()
    h.master.handle_hup()
    for _ in range(BOOT_ATTEMPTS):
        h.tick()
        for pid in h.pids(2):
            h.slot(pid).note("ImportError: no module named broken")
            h.kernel.exit(pid, EXIT_BOOT_ERROR)
        h.clock.advance(MAX_BACKOFF)
        h.tick()
    assert h.master.pending is None
    assert h.master.current is not None and h.master.current.number == 1
    assert h.pids(1) == old
    assert all(pid not in old for pid, _ in h.kernel.signals)
    assert ("reload refused, generation 1 keeps serving: the new workers could not start: "
            "ImportError: no module named broken") in capfd.readouterr().err


def test_invalid_config_on_reload_starts_no_generation(harness, capfd):
    h = harness()
    h.serving()
    h.write_config("NoSuchDirective x\n")
    h.master.handle_hup()
    h.tick()
    assert h.master.pending is None and h.kernel.forks == 2
    assert "reload refused, old config keeps serving" in capfd.readouterr().err


# -- reaping and back-off ------------------------------------------------------------------


def test_failed_boots_back_off_doubling_then_the_start_is_fatal(harness):
    h = harness(workers=1)
    delays = []
    for attempt in range(1, BOOT_ATTEMPTS + 1):
        h.tick()
        (pid,) = h.pids(1)
        h.slot(pid).note("SyntaxError: bad handler")
        h.kernel.exit(pid, EXIT_BOOT_ERROR)
        if attempt == BOOT_ATTEMPTS:
            break
        h.tick()
        delays.append(round(h.master.next_spawn_at - h.clock.now, 6))
        assert h.pids(1) == []  # nothing is spawned before the back-off ends
        h.clock.advance(delays[-1])
    assert delays == [0.2, 0.4]
    with pytest.raises(HaltServer, match=r"no worker could start \(3 attempts\): "
                                         r"SyntaxError: bad handler"):
        h.tick()
    assert h.kernel.forks == BOOT_ATTEMPTS


def test_back_off_is_capped(harness):
    h = harness(workers=1)
    h.master.failed_boots = 20
    h.tick()
    (pid,) = h.pids(1)
    h.kernel.exit(pid, EXIT_BOOT_ERROR)
    h.tick()
    assert h.master.next_spawn_at - h.clock.now == MAX_BACKOFF


def test_worker_killed_after_serving_is_a_crash_replaced_at_once(harness, capfd):
    h = harness()
    first, second = h.serving()
    h.serve_one(first)
    h.clock.advance(BOOT_GRACE + 1)
    h.kernel.exit(first, sig=signal.SIGKILL)
    h.tick()
    assert first not in h.master.workers and len(h.pids(1)) == 2
    assert h.master.counters["crashes"] == 1
    assert h.master.failed_boots == 0 and h.master.next_spawn_at <= h.clock.now
    assert (f"worker 1 (pid {first}, generation 1) exited with signal SIGKILL (not by the "
            "master: out of memory?)") in capfd.readouterr().err


def test_crash_in_a_request_names_the_request(harness, capfd):
    h = harness()
    first, _ = h.serving()
    h.clock.advance(BOOT_GRACE + 1)
    h.slot(first).begin_request("POST", "/upload", "10.0.0.7")
    h.kernel.exit(first, sig=signal.SIGSEGV)
    h.tick()
    assert "exited with signal SIGSEGV while serving POST /upload for 10.0.0.7" in \
        capfd.readouterr().err


def test_recycled_worker_is_replaced_and_counted_not_as_a_crash(harness):
    h = harness()
    first, _ = h.serving()
    h.serve_one(first)
    h.slot(first).note("MaxRequestsPerChild reached")
    h.kernel.exit(first, 0)
    h.tick()
    assert h.master.counters == {**h.master.counters, "recycles": 1, "crashes": 0,
                                 "exited_requests": 1, "exited_bytes": 10}
    assert len(h.pids(1)) == 2 and h.kernel.forks == 3
    # The new worker took the freed slot: the scoreboard does not grow with recycling.
    assert sorted(w.slot for w in h.master.workers.values()) == [0, 1]


def test_worker_the_master_killed_is_not_a_crash(harness, capfd):
    h = harness()
    first, _ = h.serving()
    h.master.workers[first].killed = True
    h.kernel.exit(first, sig=signal.SIGKILL)
    h.tick()
    assert h.master.counters["crashes"] == 0
    assert f"worker 1 (pid {first}) killed" in capfd.readouterr().err


# -- sizing ----------------------------------------------------------------------------------


def test_surplus_retires_idle_workers_before_busy_ones(harness):
    h = harness(workers=3)
    pids = h.serving()
    h.slot(pids[0]).begin_request("GET", "/slow", "127.0.0.1")
    h.master.handle_ttou()
    h.master.handle_ttou()
    h.tick()
    retired = h.kernel.sent(signal.SIGWINCH)
    assert len(retired) == 2 and pids[0] not in retired


def test_spare_workers_grow_doubling_up_to_max_request_workers(harness):
    h = harness("StartServers 1\nMinSpareServers 8\nMaxSpareServers 10\n"
                "MaxRequestWorkers 6\n", workers=None)
    h.serving()  # the first maintenance runs as the generation is promoted
    targets = [h.master.num_workers]
    for _ in range(4):
        h.ready(*h.pids(1))
        h.clock.advance(1.0)
        h.tick()
        targets.append(h.master.num_workers)
    # Apache's idle-server maintenance: 1, 2, 4 ... more per second, never past the ceiling.
    assert targets == [2, 4, 6, 6, 6]
    assert len(h.pids(1)) == 6


def test_spare_workers_shrink_one_a_second_above_max_spare(harness):
    h = harness("StartServers 5\nMinSpareServers 1\nMaxSpareServers 2\n", workers=None)
    h.serving()  # the first maintenance runs as the generation is promoted
    targets = [h.master.num_workers]
    for _ in range(3):
        h.clock.advance(1.0)
        h.tick()
        targets.append(h.master.num_workers)
    assert targets == [4, 3, 2, 2]
    h.clock.advance(0.5)
    h.tick()  # less than a second since the last maintenance: nothing changes
    assert h.master.num_workers == 2


# -- the Timeout watchdog --------------------------------------------------------------------


def test_worker_busy_past_timeout_gets_its_stack_dumped_then_is_killed(harness, capfd):
    h = harness("Timeout 5\n")
    first, second = h.serving()
    h.slot(first).begin_request("GET", "/spin", "127.0.0.1")
    h.clock.advance(5.0)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == []  # at Timeout, not yet past it
    h.clock.advance(0.1)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2)]
    h.clock.advance(TIMEOUT_KILL_GRACE)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2), (first, signal.SIGKILL)]
    assert h.master.counters["timeouts"] == 1
    assert "busy for 5.1s (Timeout 5s) serving GET /spin for 127.0.0.1" in \
        capfd.readouterr().err


def test_worker_that_leaves_the_stuck_request_is_not_killed(harness):
    h = harness("Timeout 5\n")
    first, second = h.serving()
    h.slot(first).begin_request("GET", "/slow", "127.0.0.1")
    h.clock.advance(5.5)
    h.heartbeat(second)
    h.tick()
    h.slot(first).end_request(0)  # the abort worked
    h.clock.advance(TIMEOUT_KILL_GRACE)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2)]
    assert h.master.workers[first].kill_at is None


def test_streaming_worker_is_judged_by_its_last_progress(harness):
    """httpd's Timeout bounds a wait, not a request: a handler whose batches keep going
    out is left alone however long it runs; one that stops is flagged Timeout later."""
    h = harness("Timeout 5\n")
    first, second = h.serving()
    h.slot(first).begin_request("GET", "/download", "127.0.0.1")
    for _ in range(4):  # 16 s in all, a batch every 4 s
        h.clock.advance(4.0)
        h.slot(first).progress(False)
        h.heartbeat(second)
        h.tick()
    assert h.kernel.signals == []
    h.clock.advance(5.1)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2)]


def test_worker_inside_the_engines_io_is_left_to_the_engine(harness):
    """In a blocking transfer the engine applies Timeout to each wait itself."""
    h = harness("Timeout 5\n")
    first, second = h.serving()
    h.slot(first).begin_request("GET", "/big-file", "127.0.0.1")
    h.slot(first).progress(True)
    h.clock.advance(60.0)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == []
    h.slot(first).progress(False)
    h.clock.advance(5.1)
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2)]


def test_silent_idle_worker_is_flagged(harness):
    h = harness("Timeout 2\n")
    first, second = h.serving()
    h.clock.advance(5.5)  # max(Timeout, 5 s) without a heartbeat
    h.heartbeat(second)
    h.tick()
    assert h.kernel.signals == [(first, signal.SIGUSR2)]


def test_starting_worker_is_stopped_with_sigterm_when_retired(harness):
    """A worker still booting may not handle SIGWINCH yet: SIGTERM stops it either way."""
    h = harness()
    h.tick()
    first, second = h.pids(1)
    h.ready(first)
    assert h.master.slot_state(h.master.workers[second]) == STARTING
    h.master.retire(h.master.workers[second])
    h.master.retire(h.master.workers[first])
    assert h.kernel.signals == [(second, signal.SIGTERM), (first, signal.SIGWINCH)]
    assert h.master.slot_state(h.master.workers[first]) in (READY, BUSY)
