"""Piped logs: `ErrorLog "|command"` and `CustomLog "|command" format`, as httpd runs them.

Owns the log programs: each distinct command is started once, by the master, with its
standard input the read end of a pipe the master keeps; processes forked after that
(the workers) inherit the pipe and write their lines to a duplicate of its write end.
A program that exits is started again on the same pipe, so no worker has to reopen
anything (httpd's piped_log_maintenance); a program no configuration names any more is
released after a reload, and all of them at shutdown. `|cmd` and `|$cmd` run through
/bin/sh, `||cmd` without a shell (httpd 2.4's forms). Must not know about requests.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from typing import Optional

STOP_WAIT = 5.0  # seconds a program gets to drain its pipe at shutdown


def is_piped(target: Optional[str]) -> bool:
    return bool(target) and target.startswith("|")  # type: ignore[union-attr]


def argv(target: str) -> list[str]:
    """The program of a `|...` log target (httpd's ap_open_piped_log forms)."""
    command = target[1:]
    if command.startswith("|"):
        return shlex.split(command[1:])
    return ["/bin/sh", "-c", command.removeprefix("$")]


class PipedLogger:
    """One log program and the pipe that feeds it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.read_fd, self.write_fd = os.pipe()
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        # close_fds: the program must not hold the write end, or it never sees EOF.
        self.proc = subprocess.Popen(argv(self.target), stdin=self.read_fd, close_fds=True)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def exited(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def stop(self, deadline: Optional[float]) -> None:
        """Close the pipe (the program reads EOF once the workers that still write to it
        are gone too), then wait until `deadline`; None: do not wait (the master's
        waitpid reaps it)."""
        for fd in (self.write_fd, self.read_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc is None or deadline is None:
            return
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_WAIT)
        except ChildProcessError:
            pass  # already reaped by the master's waitpid(-1)


_LOGGERS: dict[str, PipedLogger] = {}


def writer_fd(target: str) -> int:
    """A new fd on the pipe of `target`'s program, which is started here if this process
    (or the master it was forked from) has not started it yet."""
    logger = _LOGGERS.get(target)
    if logger is None:
        logger = _LOGGERS[target] = PipedLogger(target)
    return os.dup(logger.write_fd)


def start(targets: list[str]) -> None:
    """The master, before forking workers: every piped target of the configuration."""
    for target in targets:
        if target not in _LOGGERS:
            _LOGGERS[target] = PipedLogger(target)


def restart_exited() -> list[str]:
    """Start again every program that ended; returns one message per restart."""
    messages = []
    for target, logger in _LOGGERS.items():
        if logger.exited():
            code = logger.proc.returncode if logger.proc is not None else None
            logger.start()
            messages.append(f"piped log program '{target[1:]}' exited (status {code}); "
                            f"started again (pid {logger.pid})")
    return messages


def owns(pid: int) -> bool:
    return any(logger.pid == pid for logger in _LOGGERS.values())


def keep_only(targets: set[str]) -> None:
    """After a reload: release the programs the configuration no longer names (they end
    when the old generation's workers have closed the pipe)."""
    for target in [t for t in _LOGGERS if t not in targets]:
        _LOGGERS.pop(target).stop(None)


def stop_all() -> None:
    """At shutdown, after the workers are gone: each program drains and ends."""
    deadline = time.monotonic() + STOP_WAIT
    for target in list(_LOGGERS):
        _LOGGERS.pop(target).stop(deadline)
