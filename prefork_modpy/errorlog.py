"""The error log: Apache's line format and `LogLevel` names.

Owns formatting and writing error-log lines (one `write(2)` per line to an `O_APPEND` fd, so
lines from several workers never interleave) and reopening the file. Non-printable characters
in messages are escaped so a request cannot forge log lines.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Optional

LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "error": 3, "warn": 4, "notice": 5,
          "info": 6, "debug": 7}
LEVEL_NAMES = {number: name for name, number in LEVELS.items()}
APLOG_ERR = 3

_ESCAPES = {i: f"\\x{i:02x}" for i in range(32)} | {0x7F: "\\x7f", 0x5C: "\\\\"}
_ESCAPES[9] = "\\t"


def escape(text: str) -> str:
    """Make `text` one printable line (Apache escapes control bytes the same way)."""
    return text.translate(_ESCAPES)


def parse_level(name: str) -> int:
    level = LEVELS.get(name.split()[0].lower() if name else "")
    if level is None:
        raise ValueError(f"LogLevel must be one of {', '.join(LEVELS)}")
    return level


class ErrorLog:
    """An error log bound to a path (or stderr when path is None)."""

    def __init__(self, path: Optional[str], level: int = LEVELS["warn"]) -> None:
        self.path = path
        self.level = level
        self.fd = self._open()

    def _open(self) -> int:
        if self.path is None:
            return sys.stderr.fileno()
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def reopen(self) -> None:
        """Open the path again (after logrotate moved it); the old fd is closed after."""
        if self.path is None:
            return
        old, self.fd = self.fd, self._open()
        os.close(old)

    def log(self, message: str, level: int = APLOG_ERR, module: str = "",
            client: Optional[str] = None) -> None:
        # mod_python quirk kept on purpose: level 0 means "default", i.e. error.
        level = level or APLOG_ERR
        if level > self.level:
            return
        now = time.time()
        local = time.localtime(now)
        clock = time.strftime("%a %b %d %H:%M:%S", local)
        stamp = f"{clock}.{int(now % 1 * 1e6):06d} {local.tm_year}"
        prefix = f"[{stamp}] [{module}:{LEVEL_NAMES.get(level, 'error')}] [pid {os.getpid()}]"
        if client:
            prefix += f" [client {client}]"
        line = f"{prefix} {escape(message)}\n".encode("utf-8", "backslashreplace")
        try:
            os.write(self.fd, line)
        except OSError:
            pass  # a full disk must not take the worker down with it
