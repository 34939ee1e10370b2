"""The engine's TLS contexts for the config's TLS addresses (config/ssl.py's plan).

Owns: building one `_core.TlsContext` (rustls, rust/tls.rs) per TLS Listen address in the
master at config load, so that key files are read by the master (before any worker drops
its privileges) and a bad certificate or key is a `file:line` error that stops the start or
refuses a reload (the old generation keeps serving); the plain-HTTP-on-a-TLS-port page.
Must not: decide which address is TLS (config/ssl.py) or serve anything.
"""

from __future__ import annotations

from typing import Optional

from .. import _core
from ..config.server import ServerConfig
from ..config.ssl import TlsAddress
from ..config.syntax import ConfigError
from ..httpd import errorpages

Address = tuple[str, int]
Site = tuple[list[str], str, str, Optional[str]]  # TlsContext's (names, cert, key, chain)

# mod_ssl's ssl_io_filter_error note for plain HTTP on a TLS port (the 400 page's reason).
PLAIN_HTTP_NOTE = ("Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n"
                   " Instead use the HTTPS scheme to access this URL, please.<br />\n")


def build_contexts(config: ServerConfig) -> dict[Address, _core.TlsContext]:
    """One context per TLS address; each host's files are checked alone first so that the
    error names the line of that host's SSLCertificateFile."""
    contexts: dict[Address, _core.TlsContext] = {}
    for tls in config.tls_listen:
        protocols = list(tls.protocols)
        sites = [(list(site.names), site.cert_file, site.key_file, site.chain_file)
                 for site in tls.sites]
        suites = list(tls.suites) if tls.suites is not None else None
        for site, entry in zip(tls.sites, sites):
            try:
                _core.TlsContext([entry], protocols)
            except ValueError as exc:
                raise ConfigError(f"{site.where}: {exc}{_encrypted_hint(site.key_file)}") \
                    from None
        if tls.verify != "none":  # the CA files, then the CRLs, so that errors name a line
            _check_client_files(tls, sites[0], protocols)
        try:
            contexts[tls.address] = _core.TlsContext(
                sites, protocols, suites, tls.honor_order, tls.tickets, tls.verify,
                list(tls.ca_files), tls.verify_depth, tls.crl_check, list(tls.crl_files),
                tls.crl_unknown_ok)
        except ValueError as exc:  # no suite left for an enabled protocol
            raise ConfigError(f"{tls.where}: {exc}") from None
    return contexts


def _check_client_files(tls: TlsAddress, site: Site, protocols: list[str]) -> None:
    try:
        _core.TlsContext([site], protocols, verify=tls.verify, ca_files=list(tls.ca_files),
                         depth=tls.verify_depth)
    except ValueError as exc:
        raise ConfigError(f"{tls.verify_where or tls.where}: {exc}") from None
    try:
        _core.TlsContext([site], protocols, verify=tls.verify, ca_files=list(tls.ca_files),
                         depth=tls.verify_depth, crl_check=tls.crl_check,
                         crl_files=list(tls.crl_files), crl_unknown_ok=tls.crl_unknown_ok)
    except ValueError as exc:
        raise ConfigError(f"{tls.crl_where or tls.where}: {exc}") from None


def _encrypted_hint(key_file: str) -> str:
    """Why an encrypted key cannot be read: httpd would run SSLPassPhraseDialog for it."""
    try:
        with open(key_file, "rb") as handle:
            encrypted = b"ENCRYPTED" in handle.read(4096)
    except OSError:
        return ""
    return ("; the key is encrypted: prefork-modpy asks for no pass phrase "
            "(SSLPassPhraseDialog); decrypt it with `openssl pkey -in KEY -out KEY` and keep "
            "it readable by root only") if encrypted else ""


def plain_http_page() -> bytes:
    """The 400 page mod_ssl sends (unencrypted) to plain HTTP on a TLS port."""
    return errorpages.error_body(400, notes={"error-notes": PLAIN_HTTP_NOTE})
