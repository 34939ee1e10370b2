"""The error log: Apache's line format and `LogLevel` names.

Owns formatting and writing error-log lines (one `write(2)` per line to an `O_APPEND` fd, so
lines from several workers never interleave) and reopening the file. Non-printable characters
in messages are escaped so a request cannot forge log lines.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Optional

from ..config.logformat import syslog_facility
from . import pipedlogs

LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "error": 3, "warn": 4, "notice": 5,
          "info": 6, "debug": 7}
LEVEL_NAMES = {number: name for name, number in LEVELS.items()}
APLOG_ERR = 3

# ap_escape_errorlog_item: \b \n \r \t \v and backslash get C escapes, other control
# bytes and every byte >= 0x7f (the message's UTF-8) become \xHH; double quotes stay.
_BYTE_ESCAPES = [chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in range(256)]
for _byte, _letter in ((8, "b"), (10, "n"), (13, "r"), (9, "t"), (11, "v"), (0x5C, "\\")):
    _BYTE_ESCAPES[_byte] = "\\" + _letter
_NEEDS_ESCAPE = re.compile(r"[^\x20-\x5b\x5d-\x7e]")


def escape(text: str) -> str:
    """Make `text` one printable ASCII line, byte for byte as Apache's error log does."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")  # bytes a handler decoded that way
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return "".join([_BYTE_ESCAPES[byte] for byte in data])


def parse_level(name: str) -> int:
    level = LEVELS.get(name.split()[0].lower() if name else "")
    if level is None:
        raise ValueError(f"LogLevel must be one of {', '.join(LEVELS)}")
    return level


class ErrorLog:
    """An error log bound to a path (or stderr when path is None), a piped log program
    (`|command`, pipedlogs.py) or syslog (`syslog[:facility]`)."""

    def __init__(self, path: Optional[str], level: int = LEVELS["warn"]) -> None:
        self.path = path
        self.level = level
        self.facility = syslog_facility(path)
        self.fd = self._open()

    @property
    def owns_fd(self) -> bool:
        """Whether `fd` is this log's own (not stderr shared with the process)."""
        return self.path is not None and self.facility is None

    def _open(self) -> int:
        if self.facility is not None:
            import syslog

            # httpd's openlog(ap_server_argv0, LOG_NDELAY|LOG_CONS|LOG_PID, facility)
            syslog.openlog("prefork-modpy", syslog.LOG_NDELAY | syslog.LOG_CONS
                           | syslog.LOG_PID, self.facility)
        if self.path is None or self.facility is not None:
            return sys.stderr.fileno()
        if pipedlogs.is_piped(self.path):
            return pipedlogs.writer_fd(self.path)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def reopen(self) -> None:
        """Open the path again (after logrotate moved it); the old fd is closed after.
        A pipe or syslog has nothing to reopen."""
        if not self.owns_fd or pipedlogs.is_piped(self.path):
            return
        old, self.fd = self.fd, self._open()
        os.close(old)

    def close(self) -> None:
        if self.owns_fd:
            os.close(self.fd)

    def log(self, message: str, level: int = APLOG_ERR, module: str = "",
            client: Optional[str] = None) -> None:
        # mod_python quirk kept on purpose: level 0 means "default", i.e. error.
        level = level or APLOG_ERR
        if level > self.level:
            return
        prefix = f"[{module}:{LEVEL_NAMES.get(level, 'error')}] [pid {os.getpid()}]"
        if client:
            prefix += f" [client {client}]"
        if self.facility is not None:  # syslog stamps the time itself
            import syslog

            syslog.syslog(level, f"{prefix} {escape(message)}")
            return
        now = time.time()
        local = time.localtime(now)
        clock = time.strftime("%a %b %d %H:%M:%S", local)
        prefix = f"[{clock}.{int(now % 1 * 1e6):06d} {local.tm_year}] {prefix}"
        line = f"{prefix} {escape(message)}\n".encode("ascii", "backslashreplace")
        try:
            os.write(self.fd, line)
        except OSError:
            pass  # a full disk must not take the worker down with it
