"""The master's listening sockets: bound from `Listen`, or taken over from systemd.

Owns binding, socket activation (which then replaces `Listen` entirely), keeping the sockets
two configs share open across a reload while binding what the new one adds and closing what
it drops, and which sockets a generation's workers get. Must not accept connections: workers
do (their engine also answers how many connections wait in the accept queues).
"""

from __future__ import annotations

import socket
from typing import Any, Callable, Iterable

from . import systemd

Address = tuple[str, int]
BACKLOG = 1024
# httpd's TCP_DEFER_ACCEPT period (listen.c, ap_apply_accept_filter): how long the kernel
# holds a connection whose client sends nothing before handing it over anyway.
DEFER_ACCEPT_SECONDS = 30


class BindError(OSError):
    """A `Listen` address that cannot be bound: `host:port: reason` (httpd's AH00072)."""

    def __init__(self, address: Address, cause: OSError) -> None:
        host, port = address
        shown = f"[{host}]" if ":" in host else host
        reason = (cause.strerror or str(cause)).lower()
        super().__init__(cause.errno, f"{shown}:{port}: {reason}")
        self.address = address


class Listeners:
    """Listening sockets by address."""

    def __init__(self) -> None:
        self.sockets: dict[Address, socket.socket] = {}
        self.activated = False

    def open(self, wanted: Iterable[Address]) -> list[Address]:
        """Bind what `wanted` lists and is not bound yet; returns the bound addresses it does
        not list (closed by the caller once no worker needs them)."""
        if not self.sockets and not self.activated:
            for sock in systemd.listen_sockets():
                self.sockets[address_of(sock)] = sock
                self.activated = True
        if self.activated:
            return []
        wanted = list(dict.fromkeys(wanted))
        for address in wanted:
            if address not in self.sockets:
                try:
                    self.sockets[address] = bind_socket(address)
                except OSError as exc:
                    raise BindError(address, exc) from exc
        return [address for address in self.sockets if address not in wanted]

    def apply_accept_filters(self, defers: Callable[[Address], bool]) -> list[str]:
        """AcceptFilter on every socket, bound here or by systemd: TCP_DEFER_ACCEPT where
        `defers(address)`, none elsewhere (set each time, so that a reload that changes
        the filter applies it to the sockets it keeps). Returns what could not be set
        (`host:port: reason`; httpd logs AH00076 and goes on, as the caller does)."""
        failed = []
        for address, sock in self.sockets.items():
            seconds = DEFER_ACCEPT_SECONDS if defers(address) else 0
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, seconds)
            except OSError as exc:
                failed.append(f"{address[0]}:{address[1]}: {exc.strerror or exc}")
        return failed

    def close(self, addresses: Iterable[Address]) -> None:
        for address in list(addresses):
            sock = self.sockets.pop(address, None)
            if sock is not None:
                sock.close()

    def close_all(self) -> None:
        self.close(list(self.sockets))

    def fds_for(self, wanted: Iterable[Address]) -> list[int]:
        """The fds a worker serving `wanted` accepts on (every socket under activation)."""
        wanted = set(wanted)
        return [sock.fileno() for address, sock in self.sockets.items()
                if self.activated or address in wanted]

    def proxy_protocol_fds(self, wanted: Iterable[Address]) -> tuple[int, ...]:
        """The fds of `Listen ... proxy-protocol` (matched by address under activation)."""
        wanted = set(wanted)
        return tuple(sock.fileno() for address, sock in self.sockets.items()
                     if address in wanted)

    # -- mod_ssl --
    def tls_fds(self, contexts: dict) -> tuple[tuple[int, Any], ...]:
        """(fd, TlsContext) of the listeners whose address speaks TLS."""
        return tuple((sock.fileno(), contexts[address])
                     for address, sock in self.sockets.items() if address in contexts)

    def close_except(self, fds: list[int]) -> None:
        """In a new worker: a copy of a listener nobody accepts on would keep its port open
        and its queued clients waiting forever."""
        for sock in self.sockets.values():
            if sock.fileno() not in fds:
                sock.close()

    def describe(self) -> str:
        text = ", ".join(f"{host}:{port}" for host, port in self.sockets)
        return text + (" (socket activation)" if self.activated else "")


def address_of(sock: socket.socket) -> Address:
    name = sock.getsockname()
    return (name[0], name[1]) if isinstance(name, tuple) else (str(name), 0)


def bind_socket(address: Address) -> socket.socket:
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Before listen(2), so that every connection inherits it (Linux copies TCP_NODELAY to
    # accepted sockets): the engine then sets nothing per connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock

