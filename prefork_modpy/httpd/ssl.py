"""mod_ssl's view of a request on a TLS connection (rust/tls.rs terminates the TLS).

Owns: `req.ssl_var_lookup`'s variables (ssl_var_lookup: HTTPS, SSL_PROTOCOL, SSL_CIPHER,
SSL_SERVER_S_DN, SSL_TLS_SNI), and ssl_hook_ReadReq's check that the Host header names a
host the TLS handshake's (SNI) certificate serves, else 421. The scheme (`is_https`,
`construct_url`, HTTPS=on) is forwardedproto.scheme_of's, which reads the same connection
state. Must not: parse SSL* directives (config/ssl.py) or touch the TLS session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..config.ssl import TlsAddress, TlsSite, site_for_name

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

MISDIRECTED = 421
FORBIDDEN = 403

# mod_ssl's SSL_CIPHER is OpenSSL's name of the suite; rustls gives the IANA one.
_OPENSSL_NAMES = {
    "TLS13_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
    "TLS13_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
    "TLS13_CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}


def tls_of(raw: Any) -> Optional[tuple[str, str, Optional[str]]]:
    """(protocol, cipher, SNI name) of the request's TLS connection; None for plain HTTP."""
    return getattr(raw, "tls", None)


def _address_of(tls_listen: tuple[TlsAddress, ...],
                local: tuple[str, int]) -> Optional[TlsAddress]:
    ip, port = local[0].removeprefix("::ffff:"), local[1]
    found = [t for t in tls_listen if t.address[1] == port]
    exact = [t for t in found if t.address[0] == ip]
    chosen = exact or found
    return chosen[0] if chosen else None


def handshake_site(req: RequestRec, sni: Optional[str]) -> Optional[TlsSite]:
    """The site whose certificate the handshake used (rust/tls.rs BySni's choice)."""
    tls = _address_of(req.runtime.config.tls_listen, req.raw.local_addr)
    return site_for_name(tls.sites, sni) if tls is not None else None


def lookup(req: RequestRec, name: str) -> str:
    """ssl_var_lookup for `name`: "" for a name it does not know and for SSL_* on a plain
    connection (mod_ssl answers "" where it has no value; compared in tests/compat)."""
    tls = tls_of(req.raw)
    if name == "HTTPS":
        return "on" if tls is not None else "off"
    if tls is None:
        return ""
    protocol, cipher, sni = tls
    if name == "SSL_PROTOCOL":
        return protocol
    if name == "SSL_CIPHER":
        return _OPENSSL_NAMES.get(cipher, cipher)
    if name == "SSL_TLS_SNI":
        return sni or ""
    if name == "SSL_SERVER_S_DN":
        site = handshake_site(req, sni)
        return site.subject_dn if site is not None else ""
    return ""


def require_ssl(req: RequestRec) -> int:
    """SSLRequireSSL (ssl_hook_Access): 403 unless the request came over TLS; 0 if it did.
    A trusted proxy's X-Forwarded-Proto does not count, as for mod_ssl."""
    if tls_of(req.raw) is not None:
        return 0
    req.log_error(f"access to {req.filename or req.uri} failed, reason: SSL connection "
                  "required")
    return FORBIDDEN


def check_sni(req: RequestRec, hostname: Optional[str]) -> int:
    """ssl_hook_ReadReq: a Host naming a host whose certificate is not the handshake's
    (SNI) one gets 421 Misdirected Request; 0 when all is well."""
    tls = tls_of(req.raw)
    if tls is None or not tls[2] or not hostname or hostname.lower() == tls[2]:
        return 0
    by_sni = handshake_site(req, tls[2])
    by_host = handshake_site(req, hostname)
    if by_sni is None or by_host is None or by_sni.same_setup(by_host):
        return 0
    return MISDIRECTED
