"""systemd integration spoken by the master itself: the notify protocol and socket activation.

Owns sending `sd_notify` datagrams (`READY=1`, `RELOADING=1` + `MONOTONIC_USEC`,
`STOPPING=1`, `STATUS=`, `MAINPID=`, `WATCHDOG=1`) to `$NOTIFY_SOCKET`, reading the
watchdog interval from `$WATCHDOG_USEC`, and taking over sockets passed with `$LISTEN_FDS`.
No dependency on libsystemd; everything is a plain socket call. Without systemd (no
`NOTIFY_SOCKET`, no `LISTEN_FDS`) every function here is a no-op.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Mapping, Optional

# The first file descriptor systemd passes (SD_LISTEN_FDS_START).
LISTEN_FDS_START = 3


class Notifier:
    """Sends state changes to the service manager, if there is one."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # '@name' is an abstract socket; a leading NUL byte names it on Linux.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.sock: Optional[socket.socket] = None
        if self.address:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.watchdog_interval = _watchdog_interval(env)
        self.last_status = ""

    @property
    def enabled(self) -> bool:
        return self.sock is not None

    def send(self, *fields: str) -> bool:
        """One datagram with `fields` joined by newlines; False if it could not be sent."""
        if self.sock is None:
            return False
        try:
            self.sock.sendto("\n".join(fields).encode("utf-8", "replace"), self.address)
        except OSError:
            return False  # the manager went away; serving matters more than telling it
        return True

    def ready(self, status: str) -> None:
        self.last_status = status
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def reloading(self, status: str) -> None:
        # systemd ≥ 253 (Type=notify-reload) wants the reload's start time with RELOADING=1.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.last_status = status
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}", f"STATUS={status}")

    def stopping(self, status: str) -> None:
        self.last_status = status
        self.send("STOPPING=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        """STATUS= only when it changed (it is shown by `systemctl status`)."""
        if status != self.last_status:
            self.last_status = status
            self.send(f"STATUS={status}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _watchdog_interval(env: Mapping[str, str]) -> Optional[float]:
    """Seconds between WATCHDOG=1 pings (half the timeout, as sd_watchdog_enabled advises),
    or None when the watchdog is off or meant for another process."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6


def listen_sockets(environ: Optional[dict[str, str]] = None) -> list[socket.socket]:
    """Sockets passed by socket activation (`LISTEN_FDS`, checked against `LISTEN_PID`).

    The variables are removed from the environment so handler subprocesses do not think the
    sockets are theirs. Only stream sockets are accepted; anything else is a unit file error.
    """
    env = os.environ if environ is None else environ
    count, pid = env.get("LISTEN_FDS", ""), env.get("LISTEN_PID", "")
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(name, None)
    if not count.isdigit() or not pid.isdigit() or int(pid) != os.getpid():
        return []
    sockets = []
    for fd in range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)):
        sock = socket.socket(fileno=fd)
        if sock.type != socket.SOCK_STREAM:
            raise OSError(f"socket-activated fd {fd} is not a stream socket")
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets
