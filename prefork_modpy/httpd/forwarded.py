"""The client's address behind trusted proxies, as Apache's mod_remoteip decides it.

Owns deciding which address is the client when the peer is a configured proxy
(`TrustedProxies` / `RemoteIPInternalProxy`, `RemoteIPTrustedProxy`): read the ONE header
the proxies are configured to set (`RemoteIPHeader`, default `X-Forwarded-For`; any other
forwarding header, `Forwarded` included, is ignored), walk its addresses from the right
(the hop nearest to us) while the address at hand is a trusted proxy, and take the first
that is not one (remoteip_modify_request). An address an external proxy
(`RemoteIPTrustedProxy`) reports is believed only if it is public: a private one ends the
walk, so an external proxy cannot present an internal client. Forwarding headers from any
other peer are never read, so a client cannot choose its own address. The request then
reports that client in `req.connection.remote_ip`, `req.useragent_ip`, `%a`/`%h` and
`Require ip`; the proxy stays visible as `peer_addr`. Must not change anything else about
the request.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

if TYPE_CHECKING:
    from ..config.server import ServerConfig

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DEFAULT_HEADER = "X-Forwarded-For"
# What mod_remoteip never takes from an external proxy (RFC 3330 local/private blocks;
# for IPv6 anything outside global unicast 2000::/3).
_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"))
_GLOBAL_V6 = ipaddress.ip_network("2000::/3")


class TrustedProxies:
    """The configured proxy networks, the header they set, and the rule that picks the
    client. `internal`: proxies whose reports are all believed (TrustedProxies,
    RemoteIPInternalProxy); `external`: proxies whose private addresses are not
    (RemoteIPTrustedProxy). `trust_all`: `RemoteIPHeader` without any proxy list, where
    mod_remoteip treats every peer as an external proxy."""

    def __init__(self, internal: Iterable[str], external: Iterable[str] = (),
                 header: str = DEFAULT_HEADER, trust_all: bool = False) -> None:
        self.internal = tuple(ipaddress.ip_network(n, strict=False) for n in internal)
        self.external = tuple(ipaddress.ip_network(n, strict=False) for n in external)
        self.header = header.lower()
        self.trust_all = trust_all and not (self.internal or self.external)
        self._peers: dict[str, Optional[bool]] = {}

    def __bool__(self) -> bool:
        return bool(self.internal or self.external or self.trust_all)

    def proxy_kind(self, address: str) -> Optional[bool]:
        """True: an internal proxy, False: an external one, None: not a proxy of ours."""
        if address in self._peers:
            return self._peers[address]
        ip = _parse_ip(address)
        kind: Optional[bool] = None
        if ip is not None:
            if any(ip in network for network in self.internal):
                kind = True
            elif self.trust_all or any(ip in network for network in self.external):
                kind = False
        if len(self._peers) < 4096:
            self._peers[address] = kind
        return kind

    def trusts(self, address: str) -> bool:
        return self.proxy_kind(address) is not None

    def client_of(self, raw: Any) -> Optional[tuple[str, int]]:
        """The client's (address, port) if the peer is trusted and the header names one."""
        peer_kind = self.proxy_kind(raw.remote_addr[0])
        if peer_kind is None:
            return None
        value = _all_values(raw, self.header)
        if not value:
            return None
        chain = _forwarded_for(value) if self.header == "forwarded" else _x_forwarded_for(value)
        return self._pick(chain, peer_kind)

    def _pick(self, chain: list[tuple[str, int]],
              internal: bool) -> Optional[tuple[str, int]]:
        """remoteip_modify_request: from the right, take each hop while the current
        address is a proxy of ours; stop at garbage or at a private address an external
        proxy reports. Returns the last address taken (None: the peer stays)."""
        taken: Optional[tuple[str, int]] = None
        for address, port in reversed(chain):
            ip = _parse_ip(address)
            if ip is None or (not internal and _is_private(ip)):
                break
            taken = (address, port)
            kind = self.proxy_kind(address)
            if kind is None:
                break  # the first address that is no proxy of ours: the client
            internal = internal and kind  # an external proxy cannot vouch for an internal one
        return taken


def proxies_of(config: ServerConfig) -> TrustedProxies:
    """The worker's rule from TrustedProxies/RemoteIP* (config/server.py)."""
    return TrustedProxies(config.trusted_proxies, config.remote_ip_trusted_proxies,
                          config.remote_ip_header or DEFAULT_HEADER,
                          trust_all=config.remote_ip_header is not None)


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
    # A proxy may add its own field line instead of appending to the existing one: the
    # lines are one list, the last line's last address being the nearest hop.
    values = [value for key, value in raw.headers if key.lower() == name]
    return ", ".join(values)


def _x_forwarded_for(value: str) -> list[tuple[str, int]]:
    # Some proxies write "addr:port" or "[v6]:port" here too.
    return [_split_node(item.strip()) for item in value.split(",") if item.strip()]


def _forwarded_for(value: str) -> list[tuple[str, int]]:
    """`for=` of each element of RFC 7239 `Forwarded`, e.g. `for="[2001:db8::1]:4711"`
    (only when `RemoteIPHeader Forwarded` names it). An element without `for=` counts as
    an unknown hop, which ends the walk."""
    chain = []
    for element in value.split(","):
        node = "unknown"
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            if key.lower() == "for":
                node = val.strip().strip('"')
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
        ip = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    # mod_remoteip maps IPv4-over-IPv6 addresses to IPv4 before its checks.
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped if mapped is not None else ip


def _is_private(ip: Address) -> bool:
    if ip.version == 4:
        return any(ip in network for network in _PRIVATE_V4)
    return ip not in _GLOBAL_V6
