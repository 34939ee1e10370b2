"""Trusted proxies (`TrustedProxies`): the client's address behind nginx or HAProxy.

Owns deciding which address is the client when the peer is a configured proxy, as Apache's
mod_remoteip does: read RFC 7239 `Forwarded: for=` (or else `X-Forwarded-For`), walk the
chain from the hop nearest to us past the trusted proxies, and take the first address that
is not one. Forwarding headers from any other peer are never read, so a client cannot choose
its own address. The request then reports that client in `req.connection.remote_ip`,
`req.useragent_ip`, `%a`/`%h` and `Require ip`; the proxy stays visible as `peer_addr`.
Must not change anything else about the request.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable, Optional, Union

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


class TrustedProxies:
    """The configured proxy networks and the rule that picks the client."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self._peers: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        known = self._peers.get(address)
        if known is None:
            ip = _parse_ip(address)
            known = ip is not None and any(ip in network for network in self.networks)
            if len(self._peers) < 4096:
                self._peers[address] = known
        return known

    def client_of(self, raw: Any) -> Optional[tuple[str, int]]:
        """The client's (address, port) if the peer is trusted and names one."""
        if not self.trusts(raw.remote_addr[0]):
            return None
        forwarded = _all_values(raw, "forwarded")
        chain = _forwarded_for(forwarded) if forwarded else \
            _x_forwarded_for(_all_values(raw, "x-forwarded-for"))
        return self._pick(chain)

    def _pick(self, chain: list[tuple[str, int]]) -> Optional[tuple[str, int]]:
        nearest_trusted: Optional[tuple[str, int]] = None
        for address, port in reversed(chain):
            if _parse_ip(address) is None:
                return nearest_trusted  # "unknown", obfuscated or garbage: stop here
            if not self.trusts(address):
                return address, port
            nearest_trusted = (address, port)
        return nearest_trusted  # every hop is a proxy of ours: the first one is the client


class ProxiedRequest:
    """A RawRequest seen with the forwarded client as its remote address."""

    __slots__ = ("_raw", "remote_addr", "peer_addr")

    def __init__(self, raw: Any, client: tuple[str, int]) -> None:
        self._raw = raw
        self.remote_addr = client
        self.peer_addr = raw.remote_addr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _all_values(raw: Any, name: str) -> str:
    # A proxy may add its own field line instead of appending to the existing one.
    values = [value for key, value in raw.headers if key.lower() == name]
    return ", ".join(values)


def _x_forwarded_for(value: str) -> list[tuple[str, int]]:
    # Some proxies write "addr:port" or "[v6]:port" here too.
    return [_split_node(item.strip()) for item in value.split(",") if item.strip()]


def _forwarded_for(value: str) -> list[tuple[str, int]]:
    """`for=` of each element of RFC 7239 `Forwarded`, e.g. `for="[2001:db8::1]:4711"`."""
    chain = []
    for element in value.split(","):
        node = ""
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            if key.lower() == "for":
                node = val.strip().strip('"')
        if node:
            chain.append(_split_node(node))
    return chain


def _split_node(node: str) -> tuple[str, int]:
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif node.count(":") == 1:
        host, _, port = node.partition(":")
    else:
        host, port = node, ""
    return host, int(port) if port.isdigit() else 0


def _parse_ip(text: str) -> Optional[Address]:
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
