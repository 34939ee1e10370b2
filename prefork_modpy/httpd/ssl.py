"""mod_ssl's view of a request on a TLS connection (rust/tls.rs terminates the TLS).

Owns: `req.ssl_var_lookup`'s variables (ssl_var_lookup: HTTPS, SSL_PROTOCOL, SSL_CIPHER,
SSL_TLS_SNI, SSL_CLIENT_VERIFY, SSL_CLIENT_* and SSL_SERVER_* of the certificates, formatted
by httpd/sslcert.py), ssl_hook_ReadReq's check that the Host header names a host the TLS
handshake's (SNI) certificate serves, else 421, ssl_hook_Access's SSLRequireSSL and
per-directory SSLVerifyClient require / SSLVerifyDepth (403), and ssl_hook_Fixup's
environment (SSLOptions +StdEnvVars/+ExportCertData). ssl_hook_UserCheck (FakeBasicAuth)
is auth.py's.
The scheme (`is_https`, `construct_url`, HTTPS=on) is forwardedproto.scheme_of's, which
reads the same connection state. Must not: parse SSL* directives (config/ssl.py) or touch
the TLS session.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from ..config.ssl import TlsAddress, TlsSite, site_for_name
from . import sslcert

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
    if name == "SSL_CLIENT_VERIFY":
        return client_of(req.raw)[0]
    if name in _SESSION_VARS:
        return _SESSION_VARS[name](req.raw, protocol, cipher)
    legacy = "legacydnstringformat" in _options(req)
    if name.startswith("SSL_CLIENT_"):
        return _client_variable(req, name[len("SSL_CLIENT_"):], legacy)
    if name.startswith("SSL_SERVER_"):
        site = handshake_site(req, sni)
        der = _server_der(site.cert_file) if site is not None else None
        value = sslcert.variable(der, name[len("SSL_SERVER_"):], legacy) if der else None
        return value or ""
    return ""


def _key_size(cipher: str) -> str:
    """SSL_CIPHER_USEKEYSIZE / _ALGKEYSIZE: the bulk cipher's key bits."""
    return "128" if "AES_128" in cipher else "256"


def _resumed(raw: Any) -> str:
    return "Resumed" if getattr(raw, "tls_resumed", None) else "Initial"


# ssl_var_lookup_ssl's session variables, from what rustls negotiated (rustls has no
# compression and no export suites).
_SESSION_VARS: dict[str, Callable[[Any, str, str], str]] = {
    "SSL_CIPHER_EXPORT": lambda _raw, _protocol, _cipher: "false",
    "SSL_CIPHER_USEKEYSIZE": lambda _raw, _protocol, cipher: _key_size(cipher),
    "SSL_CIPHER_ALGKEYSIZE": lambda _raw, _protocol, cipher: _key_size(cipher),
    "SSL_COMPRESS_METHOD": lambda _raw, _protocol, _cipher: "NULL",
    # OpenSSL says true on TLS 1.3 too for a client that offers RFC 5746 (all current ones)
    "SSL_SECURE_RENEG": lambda _raw, _protocol, _cipher: "true",
    "SSL_SESSION_RESUMED": lambda raw, _protocol, _cipher: _resumed(raw),
}


def client_of(raw: Any) -> tuple[str, list[bytes]]:
    """(SSL_CLIENT_VERIFY, the client's certificate chain in DER, its own first)."""
    found = getattr(raw, "tls_client", None)
    return (found[0], found[1]) if found is not None else ("NONE", [])


def _path_depth(raw: Any) -> Optional[int]:
    """The verified path's depth (the trust anchor's errdepth); None unless SUCCESS."""
    found = getattr(raw, "tls_client", None)
    return found[2] if found is not None else None


def _options(req: RequestRec) -> frozenset[str]:
    settings = getattr(req, "per_dir_config", None)
    return settings.ssl_options if settings is not None else frozenset()


def _client_variable(req: RequestRec, suffix: str, legacy: bool) -> str:
    """SSL_CLIENT_x of the client's certificate; SSL_CLIENT_CERT_CHAIN_n is the n-th
    certificate the client sent after its own (SSL_get_peer_cert_chain)."""
    _, chain = client_of(req.raw)
    if not chain:
        return ""
    if suffix.startswith("CERT_CHAIN_"):
        index = suffix[len("CERT_CHAIN_"):]
        if index.isdigit() and int(index) + 1 < len(chain):
            return sslcert.pem(chain[int(index) + 1])
        return ""
    return sslcert.variable(chain[0], suffix, legacy) or ""


@functools.lru_cache(maxsize=64)
def _server_der(cert_file: str) -> Optional[bytes]:
    """The DER of the first certificate in an SSLCertificateFile (read once per worker)."""
    import ssl

    try:
        with open(cert_file, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        return None
    return ssl.PEM_cert_to_DER_cert(text[start:end + len("-----END CERTIFICATE-----")])


def check_client(req: RequestRec, settings: Any) -> int:
    """ssl_hook_Access for a directory's SSLVerifyClient require / SSLVerifyDepth: httpd
    renegotiates there and answers 403 when the certificate is missing or its path is too
    long; here the handshake asked already (config/ssl.py plan), so such a request gets 403
    at once. 0 when allowed."""
    if tls_of(req.raw) is None:
        return 0
    verdict, chain = client_of(req.raw)
    if settings.ssl_user_name and req.user is None:
        set_user(req, settings.ssl_user_name)
    if settings.ssl_verify == "require" and verdict != "SUCCESS":
        reason = f"client certificate required (SSL_CLIENT_VERIFY {verdict})"
    elif verdict == "SUCCESS" and (depth := _path_depth(req.raw)) is not None and \
            depth > _depth_limit(req, settings):
        reason = (f"Certificate Chain too long (chain has {depth} certificates, but maximum "
                  f"allowed are only {_depth_limit(req, settings)})")
    else:
        return 0
    req.log_error(f"access to {req.filename or req.uri} failed, reason: {reason}")
    return FORBIDDEN


def set_user(req: RequestRec, name: str) -> None:
    """SSLUserName (ssl_hook_Access): req.user from the variable `name`
    (SSL_CLIENT_S_DN_CN, ...) when it has a value."""
    value = lookup(req, name)
    if value:
        req.user = value
    else:
        req.log_error(f"Failed to set r->user to '{name}'", apache.APLOG_INFO)


def _depth_limit(req: RequestRec, settings: Any) -> int:
    """SSLVerifyDepth here: the directory's, else the host's (default 1)."""
    if settings.ssl_verify_depth is not None:
        return int(settings.ssl_verify_depth)
    host_ssl = getattr(req.vhost, "ssl", None)
    depth = host_ssl.verify_depth if host_ssl is not None else None
    return depth if depth is not None else 1


# ssl_hook_Fixup's variables under SSLOptions +StdEnvVars (those prefork-modpy has).
_STD_VARS = ("SSL_PROTOCOL", "SSL_SECURE_RENEG", "SSL_COMPRESS_METHOD", "SSL_CIPHER",
             "SSL_CIPHER_EXPORT", "SSL_CIPHER_USEKEYSIZE", "SSL_CIPHER_ALGKEYSIZE",
             "SSL_CLIENT_VERIFY", "SSL_CLIENT_M_VERSION", "SSL_CLIENT_M_SERIAL",
             "SSL_CLIENT_V_START", "SSL_CLIENT_V_END", "SSL_CLIENT_V_REMAIN", "SSL_CLIENT_S_DN",
             "SSL_CLIENT_I_DN", "SSL_CLIENT_A_KEY", "SSL_CLIENT_A_SIG", "SSL_SERVER_M_VERSION",
             "SSL_SERVER_M_SERIAL", "SSL_SERVER_V_START", "SSL_SERVER_V_END",
             "SSL_SERVER_S_DN", "SSL_SERVER_I_DN", "SSL_SERVER_A_KEY", "SSL_SERVER_A_SIG",
             "SSL_SESSION_RESUMED")


def fixup_env(req: RequestRec) -> dict[str, str]:
    """ssl_hook_Fixup: HTTPS=on and SSL_TLS_SNI (the client's SNI name) always, and per
    directory the SSL_* variables (+StdEnvVars, only those with a value, and the DN
    components) and the PEM certificates (+ExportCertData) that go into subprocess_env."""
    tls = tls_of(req.raw)
    if tls is None:
        return {}
    options = _options(req)
    env = {"HTTPS": "on"}
    if tls[2]:
        env["SSL_TLS_SNI"] = tls[2]
    if "stdenvvars" in options:
        env.update((name, value) for name in _STD_VARS if (value := lookup(req, name)))
        _, chain = client_of(req.raw)
        if chain:
            env.update(sslcert.dn_components(chain[0], "SSL_CLIENT"))
            env.update(sslcert.alt_names(chain[0], "SSL_CLIENT"))
        site = handshake_site(req, tls[2])
        der = _server_der(site.cert_file) if site is not None else None
        if der:
            env.update(sslcert.dn_components(der, "SSL_SERVER"))
            env.update(sslcert.alt_names(der, "SSL_SERVER"))
    if "exportcertdata" in options:
        # set even when empty, as mod_ssl does for these two
        env.update((name, lookup(req, name)) for name in ("SSL_SERVER_CERT", "SSL_CLIENT_CERT"))
        _, chain = client_of(req.raw)
        for n, der in enumerate(chain[1:]):
            env[f"SSL_CLIENT_CERT_CHAIN_{n}"] = sslcert.pem(der)
    return env


def require_ssl(req: RequestRec) -> int:
    """SSLRequireSSL (ssl_hook_Access): 403 unless the request came over TLS; 0 if it did.
    A trusted proxy's X-Forwarded-Proto does not count, as for mod_ssl."""
    if tls_of(req.raw) is not None:
        return 0
    req.log_error(f"access to {req.filename or req.uri} failed, reason: SSL connection "
                  "required")
    return FORBIDDEN


# mod_ssl's note of a failed SSLRequireSSL, read by the access check (auth.py).
ACCESS_FORBIDDEN_NOTE = "ssl-access-forbidden"


def left_to_satisfy_any(req: RequestRec, settings: Any) -> bool:
    """A failed SSLRequireSSL is one access checker's 403: under `Satisfy Any` with Require
    lines an authenticated user still gets in (request.c's SATISFY_ANY). SSLOptions
    +StrictRequire does not change that on httpd 2.4: its ssl_hook_Auth runs after
    mod_authz_core has granted (tests/compat/test_ssl_require_compat.py). True: the 403 is
    left to the access check (auth.py, which reads the note)."""
    req.notes[ACCESS_FORBIDDEN_NOTE] = "1"
    access = settings.httpd.access if settings.httpd is not None else None
    satisfy_any = access is not None and access.satisfy_for(req.method) == "any"
    return bool(satisfy_any and settings.requires)


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
