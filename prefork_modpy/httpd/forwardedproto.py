"""The scheme a trusted proxy says the client used (`X-Forwarded-Proto`, RFC 7239 `proto=`).

Owns turning `X-Forwarded-Proto: https` (or `Forwarded: proto=https`) from a peer in
`TrustedProxies` into the request's scheme, and reading that scheme back: `req.is_https()`,
`req.construct_url()`, `HTTPS=on`/`REQUEST_SCHEME` in subprocess_env (so `wsgi.url_scheme`
and `%{HTTPS}e` in the access log) follow it, as they would behind mod_ssl. The header of any
other peer is never read. Must not change the client address (that is forwarded.py's).
"""

from __future__ import annotations

from typing import Any

from .forwarded import TrustedProxies

HTTP, HTTPS = "http", "https"


class SchemedRequest:
    """A RawRequest (or a ProxiedRequest) whose client reached the proxy over https."""

    __slots__ = ("_raw", "url_scheme")

    def __init__(self, raw: Any, scheme: str) -> None:
        self._raw = raw
        self.url_scheme = scheme

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def with_forwarded_scheme(raw: Any, proxies: TrustedProxies) -> Any:
    """`raw`, wrapped to say https when a trusted peer says the client used it."""
    peer = getattr(raw, "peer_addr", None) or raw.remote_addr
    if not proxies.trusts(peer[0]):
        return raw
    if _forwarded_proto(raw, proxies.header == "forwarded") == HTTPS:
        return SchemedRequest(raw, HTTPS)
    return raw


def scheme_of(raw: Any) -> str:
    """"https" on a TLS connection (mod_ssl: rust/tls.rs) or when a trusted proxy said so,
    else "http"."""
    if type(raw) is SchemedRequest:
        return HTTPS
    return HTTP if getattr(raw, "tls", None) is None else HTTPS


def _forwarded_proto(raw: Any, use_forwarded: bool) -> str:
    """The scheme of the hop nearest to us, from the header family the proxies are
    configured to set (as the client address, mod_remoteip's RemoteIPHeader): the last
    `proto=` of `Forwarded` with `RemoteIPHeader Forwarded`, else the last item of
    `X-Forwarded-Proto` (a proxy appends to what the client may have sent). The other
    family, which the proxies do not set, is the client's own and never believed."""
    wanted = "forwarded" if use_forwarded else "x-forwarded-proto"
    found = ""
    for key, value in raw.headers:
        if key.lower() == wanted:
            found = value
    last = found.split(",")[-1]
    if not use_forwarded:
        return last.strip().lower()
    for pair in last.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() == "proto":
            return value.strip().strip('"').lower()
    return ""
