"""The scoreboard: one fixed-size slot per worker in anonymous shared memory (Apache's idea).

Owns the memory layout, the worker's writes to its own slot, the master's writes to the
header and to slots it hands out or takes back, and everyone's reads. The master creates the
mapping before it forks (an anonymous `MAP_SHARED` mmap: no file, nothing under /tmp, so a
slow or full disk can never make a healthy worker look hung). A worker writes only its own
slot; the master reads every slot for its watchdog, its spare-worker census and readiness;
the status page (in any worker) reads everything.

Each slot and the header start with a sequence number used as a seqlock: the writer makes it
odd, writes, makes it even again; a reader retries until it sees the same even number before
and after its copy, so it never acts on a half-written slot.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from dataclasses import dataclass
from typing import Optional

# Slot states, named after Apache's scoreboard.h.
DEAD, STARTING, READY, BUSY, GRACEFUL = 0, 1, 2, 3, 4
STATE_NAMES = {DEAD: "dead", STARTING: "starting", READY: "ready", BUSY: "busy",
               GRACEFUL: "graceful"}
# mod_status's one-letter codes.
STATE_LETTERS = {DEAD: ".", STARTING: "S", READY: "_", BUSY: "W", GRACEFUL: "G"}

SLOT_SIZE = 512
_SEQ = struct.Struct("<Q")
# Slot layout. Written once per boot: pid..started; per request: state..url.
_IDENTITY = struct.Struct("<iIId")            # pid, generation, number, started (epoch)
_IDENTITY_AT = 8
# state, in the engine's I/O (busy only), heartbeat (busy: last progress), busy_since;
# times are monotonic.
_ACTIVITY = struct.Struct("<BB6xdd")
_ACTIVITY_AT = 32
_HEARTBEAT = struct.Struct("<d")  # the activity's heartbeat alone (progress, heartbeat)
_COUNTERS = struct.Struct("<QQQ")             # requests, bytes, rss in KiB
_COUNTERS_AT = 56
_REQUEST = struct.Struct("<16s48s240s")       # method, client, url
_REQUEST_AT = 80
# activity and counters are adjacent: end_request writes both with one pack_into.
_ACTIVITY_COUNTERS = struct.Struct("<BB6xddQQQ")
assert _ACTIVITY_AT + _ACTIVITY.size == _COUNTERS_AT
# and the request follows: begin_request writes all three with one pack_into (the counters
# as they are).
_ACTIVITY_COUNTERS_REQUEST = struct.Struct("<BB6xddQQQ16s48s240s")
assert _COUNTERS_AT + _COUNTERS.size == _REQUEST_AT
# The encoded (method, client, url) of recent requests: a worker sees the same few again and
# again (keep-alive clients, one URL), so their encoding is done once. Bounded: cleared
# when full.
_REQUEST_CACHE_SIZE = 256
_NOTE = struct.Struct("<128s")                # boot failure or retirement reason
_NOTE_AT = 384
_FULL = struct.Struct("<Q iIId 4x BB6xdd QQQ 16s48s240s 128s")
assert _FULL.size == SLOT_SIZE

# Header (slot -1): what the master publishes for the status page.
_HEADER = struct.Struct("<iIId QQQQ d QQ")
_HEADER_AT = 8
# master pid, generation, target workers, started (epoch),
# reloads, crashes, timeouts, recycles, last reload (epoch),
# requests and bytes of workers that have exited (so totals survive recycling)
# One byte in the header slot, outside the seqlocked header: set by the master when a graceful
# stop begins, read by `server-health` in every worker (a single byte store is atomic).
_DRAINING_AT = 256


@dataclass(frozen=True)
class SlotInfo:
    """A consistent copy of one slot."""

    index: int
    pid: int
    generation: int
    number: int
    started: float
    state: int
    heartbeat: float
    busy_since: float
    requests: int
    bytes: int
    rss_kb: int
    method: str
    client: str
    url: str
    note: str
    # Busy inside the engine's blocking I/O, whose waits `Timeout` bounds by itself.
    in_io: bool = False

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, "dead")

    def busy_for(self, now: Optional[float] = None) -> float:
        """Seconds spent in the current request (0 when not busy)."""
        if self.state != BUSY or not self.busy_since:
            return 0.0
        return max(0.0, (now or time.monotonic()) - self.busy_since)


@dataclass(frozen=True)
class BoardHeader:
    master_pid: int
    generation: int
    target_workers: int
    started: float
    reloads: int
    crashes: int
    timeouts: int
    recycles: int
    last_reload: float
    exited_requests: int = 0
    exited_bytes: int = 0


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def _bytes(text: str, size: int) -> bytes:
    # Cut on a byte count; a split UTF-8 sequence is replaced when read back.
    return text.encode("utf-8", "backslashreplace")[:size]


class Scoreboard:
    """`capacity` slots plus a header in one anonymous shared mapping."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.mem = mmap.mmap(-1, SLOT_SIZE * (capacity + 1))
        # One aligned 8-byte store per sequence update (struct.pack_into may copy bytewise).
        self.words = memoryview(self.mem).cast("Q")

    def offset(self, index: int) -> int:
        return SLOT_SIZE * (index + 1)

    # -- writing (one writer per slot at a time) ------------------------------------------

    def _begin(self, offset: int) -> None:
        word = offset // 8
        self.words[word] = self.words[word] + 1

    def _end(self, offset: int) -> None:
        word = offset // 8
        self.words[word] = self.words[word] + 1

    def assign(self, index: int, generation: int, number: int) -> None:
        """Master, before fork: the slot now belongs to a starting worker."""
        base = self.offset(index)
        self._begin(base)
        self.mem[base + 8:base + SLOT_SIZE] = bytes(SLOT_SIZE - 8)
        _IDENTITY.pack_into(self.mem, base + _IDENTITY_AT, 0, generation, number, time.time())
        _ACTIVITY.pack_into(self.mem, base + _ACTIVITY_AT, STARTING, 0, time.monotonic(), 0.0)
        self._end(base)

    def release(self, index: int) -> None:
        """Master, after reaping: the slot is free again."""
        base = self.offset(index)
        self._begin(base)
        _ACTIVITY.pack_into(self.mem, base + _ACTIVITY_AT, DEAD, 0, 0.0, 0.0)
        self._end(base)

    def worker_slot(self, index: int) -> WorkerSlot:
        return WorkerSlot(self, index)

    def publish(self, header: BoardHeader) -> None:
        """Master: update the header the status page shows."""
        self._begin(0)
        _HEADER.pack_into(self.mem, _HEADER_AT, header.master_pid, header.generation,
                          header.target_workers, header.started, header.reloads,
                          header.crashes, header.timeouts, header.recycles, header.last_reload,
                          header.exited_requests, header.exited_bytes)
        self._end(0)

    def set_draining(self) -> None:
        """Master: a graceful stop has begun (`server-health` answers 503 from now on)."""
        self.mem[_DRAINING_AT] = 1

    # -- reading --------------------------------------------------------------------------

    def draining(self) -> bool:
        return self.mem[_DRAINING_AT] != 0

    def _stable_copy(self, offset: int, size: int) -> bytes:
        word = offset // 8
        for _ in range(100):
            before = self.words[word]
            if before & 1:
                continue
            data = self.mem[offset:offset + size]
            if self.words[word] == before:
                return data
        return self.mem[offset:offset + size]  # a writer stuck mid-write: take what is there

    def read(self, index: int) -> SlotInfo:
        fields = _FULL.unpack(self._stable_copy(self.offset(index), SLOT_SIZE))
        (_, pid, generation, number, started, state, in_io, heartbeat, busy_since, requests,
         nbytes, rss_kb, method, client, url, note) = fields
        return SlotInfo(index, pid, generation, number, started, state, heartbeat, busy_since,
                        requests, nbytes, rss_kb, _text(method), _text(client), _text(url),
                        _text(note), bool(in_io))

    def slots(self) -> list[SlotInfo]:
        """Every slot in use, in slot order."""
        found = []
        for index in range(self.capacity):
            base = self.offset(index) + _ACTIVITY_AT
            if self.mem[base] != DEAD:
                found.append(self.read(index))
        return found

    def header(self) -> BoardHeader:
        data = self._stable_copy(0, _HEADER_AT + _HEADER.size)
        return BoardHeader(*_HEADER.unpack_from(data, _HEADER_AT))


class WorkerSlot:
    """The calling worker's own slot. Every method is one seqlocked write."""

    __slots__ = ("board", "mem", "base", "requests", "bytes", "rss_kb", "words", "seq_word",
                 "request_fields")

    def __init__(self, board: Scoreboard, index: int) -> None:
        self.board = board
        self.mem = board.mem
        self.base = board.offset(index)
        self.requests = 0
        self.bytes = 0
        self.rss_kb = 0
        # The slot's sequence word, for the per-request writes (Scoreboard._begin/_end
        # inlined: two calls fewer per request).
        self.words = board.words
        self.seq_word = self.base // 8
        self.request_fields: dict[tuple[str, str, str], tuple[bytes, bytes, bytes]] = {}

    def booting(self, pid: int) -> None:
        base = self.base
        self.board._begin(base)
        _, generation, number, started = _IDENTITY.unpack_from(self.mem, base + _IDENTITY_AT)
        _IDENTITY.pack_into(self.mem, base + _IDENTITY_AT, pid, generation, number, started)
        self.board._end(base)

    def set_state(self, state: int) -> None:
        self.board._begin(self.base)
        _ACTIVITY.pack_into(self.mem, self.base + _ACTIVITY_AT, state, 0, time.monotonic(), 0.0)
        self.board._end(self.base)

    def note(self, text: str) -> None:
        self.board._begin(self.base)
        _NOTE.pack_into(self.mem, self.base + _NOTE_AT, _bytes(text, 128))
        self.board._end(self.base)

    def heartbeat(self) -> None:
        # A lone 8-byte float: written without the seqlock, a torn read only skews a
        # liveness check by a fraction of a second on weakly ordered CPUs.
        _HEARTBEAT.pack_into(self.mem, self.base + _ACTIVITY_AT + 8, time.monotonic())

    def progress(self, in_io: bool) -> None:
        """During a request: the handler made progress (a streamed batch, a file, a body
        read), entering (True) or leaving (False) the engine's blocking I/O. The heartbeat
        becomes the time of the last progress, which the master's watchdog measures a
        stall from. Two plain stores, like heartbeat(): a torn read is harmless."""
        at = self.base + _ACTIVITY_AT
        _HEARTBEAT.pack_into(self.mem, at + 8, time.monotonic())
        self.mem[at + 1] = in_io

    def begin_request(self, method: str, url: str, client: str) -> None:
        base = self.base
        now = time.monotonic()
        key = (method, client, url)
        fields = self.request_fields.get(key)
        if fields is None:
            if len(self.request_fields) >= _REQUEST_CACHE_SIZE:
                self.request_fields.clear()
            fields = self.request_fields[key] = (_bytes(method, 16), _bytes(client, 48),
                                                  _bytes(url, 240))
        words, word = self.words, self.seq_word
        words[word] += 1
        _ACTIVITY_COUNTERS_REQUEST.pack_into(self.mem, base + _ACTIVITY_AT, BUSY, 0, now, now,
                                             self.requests, self.bytes, self.rss_kb, *fields)
        words[word] += 1

    def end_request(self, sent: int, state: int = READY) -> None:
        requests = self.requests = self.requests + 1
        total = self.bytes = self.bytes + sent
        words, word = self.words, self.seq_word
        words[word] += 1
        _ACTIVITY_COUNTERS.pack_into(self.mem, self.base + _ACTIVITY_AT, state, 0,
                                     time.monotonic(), 0.0, requests, total, self.rss_kb)
        words[word] += 1

    def add_requests(self, count: int, sent: int, client: str, url: str) -> None:
        """Requests the engine answered by itself (static plans) between two of Python's,
        counted as end_request counts one; the last one (a GET of `url` from `client`) is
        the worker's last request. The state stays what it is."""
        requests = self.requests = self.requests + count
        total = self.bytes = self.bytes + sent
        words, word = self.words, self.seq_word
        state = self.mem[self.base + _ACTIVITY_AT]
        now = time.monotonic()
        words[word] += 1
        _ACTIVITY_COUNTERS_REQUEST.pack_into(
            self.mem, self.base + _ACTIVITY_AT, state, 0, now, 0.0, requests, total,
            self.rss_kb, b"GET", _bytes(client, 48), _bytes(url, 240))
        words[word] += 1


def read_rss_kb() -> int:
    """Resident set size of this process in KiB, from /proc/self/statm (one read)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            resident_pages = int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident_pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
