"""Readings from /proc and process limits: a server's workers, a process's memory and fds."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def _stat_fields(pid: str) -> list[str]:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, ...]."""
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def children(parent_pid: int) -> list[int]:
    """Live (non-zombie) children of `parent_pid`, sorted."""
    return _live_matching(lambda fields: int(fields[1]) == parent_pid)


def process_group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is `pgid`, sorted."""
    return _live_matching(lambda fields: int(fields[2]) == pgid)


def _live_matching(wanted) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = _stat_fields(entry)
        except OSError:
            continue
        if fields[0] != "Z" and wanted(fields):
            pids.append(int(entry))
    return sorted(pids)


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
