"""mod_ssl's directives for the engine's TLS (rust/tls.rs): SSLEngine, SSLCertificateFile,
SSLCertificateKeyFile, SSLCertificateChainFile, SSLProtocol, and the no-op SSLRandomSeed,
SSLPassPhraseDialog builtin, SSLSessionCache(Timeout).

Owns: parsing those directives per host (server config and <VirtualHost>), their merge
(a <VirtualHost> inherits what it does not set, as ssl_config_server_merge), and the TLS
plan: which Listen addresses speak TLS, with which certificate for which SNI names. Must
not: read key files (the master builds the engine's TlsContext from the plan, at config
load: server/tls.py) or know requests (httpd/ssl.py does).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from .syntax import ConfigError, Node

# server.py imports this module (its host table and plan), so its classes are not imported
# back here: a host is server.VirtualHost, a config server.ServerConfig.
VirtualHost = Any
ServerConfig = Any

TLS12, TLS13 = "TLSv1.2", "TLSv1.3"
SUPPORTED = (TLS12, TLS13)
# SSLProtocol names mod_ssl knows that rustls does not speak (RFC 8996 deprecated them).
_OBSOLETE = {"sslv2", "sslv3", "tlsv1", "tlsv1.1"}
_OBSOLETE_WHY = ("rustls speaks TLS 1.2 and 1.3 only; SSLv3, TLSv1 and TLSv1.1 are broken or "
                 "deprecated (RFC 8996), and Debian's OpenSSL refuses them too")


@dataclass(frozen=True)
class SSLHost:
    """The SSL* settings one host wrote (None: not set here; inherited from the main server)."""

    engine: Optional[bool] = None
    engine_where: str = ""
    cert_file: Optional[str] = None
    cert_where: str = ""
    key_file: Optional[str] = None
    chain_file: Optional[str] = None
    protocols: Optional[tuple[str, ...]] = None
    protocol_where: str = ""
    # -- SSLCipherSuite (OpenSSL names, in order) and SSLHonorCipherOrder --
    ciphers12: Optional[tuple[str, ...]] = None
    ciphers13: Optional[tuple[str, ...]] = None
    honor_order: Optional[bool] = None
    cipher_where: str = ""
    tickets: Optional[bool] = None  # SSLSessionTickets (default on, as httpd)
    # -- client certificates: SSLVerifyDepth, SSLCACertificateFile/Path (SSLVerifyClient is
    # a per-directory setting: DirSettings.ssl_verify) --
    verify_depth: Optional[int] = None
    ca_file: Optional[str] = None
    ca_path: Optional[str] = None
    ca_where: str = ""
    # -- SSLCARevocationFile/Path and SSLCARevocationCheck (none, chain, leaf) --
    crl_file: Optional[str] = None
    crl_path: Optional[str] = None
    crl_check: Optional[str] = None
    crl_unknown_ok: Optional[bool] = None  # the no_crl_for_cert_ok flag
    crl_where: str = ""

    def merged_over(self, base: SSLHost) -> SSLHost:
        """ssl_config_server_merge: what this host sets wins, the rest is the base's."""
        fields = {name: getattr(self, name) if getattr(self, name) is not None
                  else getattr(base, name)
                  for name in ("engine", "cert_file", "key_file", "chain_file", "protocols",
                               "ciphers12", "ciphers13", "honor_order", "tickets",
                               "verify_depth", "ca_file", "ca_path", "crl_file", "crl_path",
                               "crl_check", "crl_unknown_ok")}
        return replace(self, **fields,
                       engine_where=self.engine_where or base.engine_where,
                       cert_where=self.cert_where or base.cert_where,
                       protocol_where=self.protocol_where or base.protocol_where,
                       cipher_where=self.cipher_where or base.cipher_where,
                       ca_where=self.ca_where or base.ca_where,
                       crl_where=self.crl_where or base.crl_where)

    @property
    def suites(self) -> Optional[tuple[str, ...]]:
        """rustls' names of the suites to offer, in order; None: rustls' defaults."""
        if self.ciphers12 is None and self.ciphers13 is None:
            return None
        tls13 = self.ciphers13 if self.ciphers13 is not None else _TLS13_SUITES
        tls12 = self.ciphers12 if self.ciphers12 is not None else tuple(_TLS12_SUITES)
        return tuple(RUSTLS_NAMES[name] for name in (*tls13, *tls12))

    @property
    def effective_protocols(self) -> tuple[str, ...]:
        """mod_ssl's default is `all`: here TLS 1.2 and 1.3."""
        return self.protocols if self.protocols is not None else SUPPORTED


@dataclass(frozen=True)
class TlsSite:
    """One host's certificate on a TLS address, with the names SNI picks it by."""

    names: tuple[str, ...]
    cert_file: str
    key_file: str
    chain_file: Optional[str]
    where: str  # the SSLCertificateFile line (key and certificate errors name it)

    def same_setup(self, other: TlsSite) -> bool:
        """ssl_server_compatible, for what prefork-modpy configures: the same key pair."""
        return (self.cert_file, self.key_file, self.chain_file) == \
            (other.cert_file, other.key_file, other.chain_file)


def _name_matches(pattern: str, name: str) -> bool:
    """rust/tls.rs name_matches: exact, or `*.suffix` for one more label."""
    if pattern.startswith("*."):
        first, _, rest = name.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == name


def site_for_name(sites: tuple[TlsSite, ...], name: Optional[str]) -> TlsSite:
    """The site SNI `name` selects (rust/tls.rs BySni): the first whose names match, else
    the address's default (first) one."""
    if name:
        lower = name.lower()
        for site in sites:
            if any(_name_matches(pattern, lower) for pattern in site.names):
                return site
    return sites[0]


@dataclass(frozen=True)
class TlsAddress:
    """A Listen address whose connections are TLS; the first site is the default."""

    address: tuple[str, int]
    sites: tuple[TlsSite, ...]
    protocols: tuple[str, ...]
    where: str  # the SSLEngine line
    suites: Optional[tuple[str, ...]] = None  # rustls names in order; None: its defaults
    honor_order: bool = False  # SSLHonorCipherOrder: the server's order wins
    tickets: bool = True  # SSLSessionTickets
    # SSLVerifyClient at the TLS level (none, optional, require, optional_no_ca), the CA
    # certificate files it verifies against and SSLVerifyDepth.
    verify: str = "none"
    ca_files: tuple[str, ...] = ()
    verify_depth: int = 1
    verify_where: str = ""  # the SSLVerifyClient (or SSLCACertificate*) line
    # SSLCARevocationCheck: none, chain or leaf; the CRL files; no_crl_for_cert_ok
    crl_check: str = "none"
    crl_files: tuple[str, ...] = ()
    crl_unknown_ok: bool = False
    crl_where: str = ""


def _set(host: VirtualHost, **changes: Any) -> None:
    host.ssl = replace(host.ssl or SSLHost(), **changes)


def _one(node: Node) -> str:
    if len(node.args) != 1:
        raise ConfigError.at(node, f"{node.name} takes one argument")
    return node.args[0]


def _engine(_builder: object, host: VirtualHost, node: Node) -> None:
    value = _one(node).lower()
    if value == "optional":
        raise ConfigError.at(node, "SSLEngine optional (RFC 2817 upgrade to TLS) is not "
                                   "implemented: no browser uses it; use SSLEngine on")
    if value not in ("on", "off"):
        raise ConfigError.at(node, "SSLEngine takes on or off")
    _set(host, engine=value == "on", engine_where=node.where)


def _file_setter(field_name: str) -> Callable[[object, VirtualHost, Node], None]:
    def apply(builder: Any, host: VirtualHost, node: Node) -> None:
        changes: dict[str, Any] = {field_name: builder.resolve_path(_one(node))}
        if field_name == "cert_file":
            changes["cert_where"] = node.where
        _set(host, **changes)
    return apply


def parse_protocols(node: Node) -> tuple[str, ...]:
    """ssl_cmd_protocol_parse: words with an optional +/-; a word without sign replaces
    what came before. `all` is what rustls speaks (TLS 1.2 and 1.3)."""
    chosen: set[str] = set()
    for word in node.args:
        sign, name = (word[0], word[1:]) if word[:1] in "+-" else ("", word)
        lower = name.lower()
        if lower == "all":
            these = set(SUPPORTED)
        elif lower in ("tlsv1.2", "tlsv1.3"):
            these = {TLS12 if lower == "tlsv1.2" else TLS13}
        elif lower in _OBSOLETE:
            if sign != "-":
                raise ConfigError.at(node, f"SSLProtocol {word}: {_OBSOLETE_WHY}; write "
                                           "TLSv1.2 and/or TLSv1.3 (or all)")
            these = set()
        else:
            raise ConfigError.at(node, f"SSLProtocol: Illegal protocol '{name}'")
        if sign == "-":
            chosen -= these
        elif sign == "+":
            chosen |= these
        else:
            chosen = these
    if not chosen:
        raise ConfigError.at(node, "SSLProtocol leaves no protocol: TLSv1.2 and/or TLSv1.3 "
                                   "must remain")
    return tuple(p for p in SUPPORTED if p in chosen)


def _protocol(_builder: object, host: VirtualHost, node: Node) -> None:
    if not node.args:
        raise ConfigError.at(node, "SSLProtocol needs at least one protocol")
    _set(host, protocols=parse_protocols(node), protocol_where=node.where)


def _cipher_suite(builder: Any, host: VirtualHost, node: Node) -> None:
    """`SSLCipherSuite [SSL|TLSv1.3] spec` (mod_ssl 2.4: the protocol word picks the list)."""
    if len(node.args) == 2 and node.args[0].upper() in ("SSL", "TLSV1.3"):
        if node.args[0].upper() == "TLSV1.3":
            _set(host, ciphers13=parse_tls13_ciphers(node, node.args[1]),
                 cipher_where=node.where)
            return
        text = node.args[1]
    elif len(node.args) == 1:
        text = node.args[0]
    else:
        raise ConfigError.at(node, "SSLCipherSuite takes [SSL|TLSv1.3] and a cipher list")
    _set(host, ciphers12=parse_tls12_ciphers(node, text, builder.warnings),
         cipher_where=node.where)


def _honor_cipher_order(_builder: object, host: VirtualHost, node: Node) -> None:
    value = _one(node).lower()
    if value not in ("on", "off"):
        raise ConfigError.at(node, "SSLHonorCipherOrder takes on or off")
    _set(host, honor_order=value == "on", cipher_where=host.ssl.cipher_where
         if host.ssl is not None and host.ssl.cipher_where else node.where)


def _session_tickets(_builder: object, host: VirtualHost, node: Node) -> None:
    value = _one(node).lower()
    if value not in ("on", "off"):
        raise ConfigError.at(node, "SSLSessionTickets takes on or off")
    _set(host, tickets=value == "on")


def _protocols(_builder: object, _host: VirtualHost, node: Node) -> None:
    """core's `Protocols`: prefork-modpy speaks HTTP/1.1 only (ALPN http/1.1)."""
    other = [word for word in node.args if word.lower() != "http/1.1"]
    if not node.args or other:
        raise ConfigError.at(node, f"Protocols {' '.join(other or node.args)}: prefork-modpy "
                                   "speaks HTTP/1.1 only (no h2/h2c: HTTP/2 is not part of "
                                   "it); write Protocols http/1.1 or remove the line")


def _verify_depth(_builder: object, host: VirtualHost, node: Node) -> None:
    value = _one(node)
    if not value.isdigit():
        raise ConfigError.at(node, "SSLVerifyDepth: Invalid argument: a number of "
                                   "certificates (0 or more)")
    _set(host, verify_depth=int(value))


def _ca_setter(field_name: str) -> Callable[[object, VirtualHost, Node], None]:
    """SSLCACertificateFile / SSLCARevocationFile (one PEM file) and SSLCACertificatePath /
    SSLCARevocationPath (a directory of them)."""
    def apply(builder: Any, host: VirtualHost, node: Node) -> None:
        path = builder.resolve_path(_one(node))
        is_dir = field_name.endswith("_path")
        if not (os.path.isdir(path) if is_dir else os.path.isfile(path)):
            kind = "directory" if is_dir else "file"
            raise ConfigError.at(node, f"{node.name}: {path} is not an existing {kind}")
        where = "crl_where" if field_name.startswith("crl") else "ca_where"
        _set(host, **{field_name: path, where: node.where})
    return apply


def _pem_files(single: Optional[str], directory: Optional[str]) -> tuple[str, ...]:
    """A *File directive's file, then each file of the *Path directory (OpenSSL reads its
    hash links; the files themselves here)."""
    files = [single] if single else []
    if directory:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files.append(path)
    return tuple(files)


def ca_files(ssl: SSLHost) -> tuple[str, ...]:
    """The PEM files of the CA certificates: SSLCACertificateFile, SSLCACertificatePath."""
    return _pem_files(ssl.ca_file, ssl.ca_path)


def crl_files(ssl: SSLHost) -> tuple[str, ...]:
    """The PEM files of the CRLs: SSLCARevocationFile, SSLCARevocationPath."""
    return _pem_files(ssl.crl_file, ssl.crl_path)


def _revocation_check(_builder: object, host: VirtualHost, node: Node) -> None:
    """`SSLCARevocationCheck chain|leaf|none [no_crl_for_cert_ok]`
    (ssl_cmd_SSLCARevocationCheck)."""
    words = [word.lower() for word in node.args]
    if not words or words[0] not in ("none", "chain", "leaf") or \
            any(flag != "no_crl_for_cert_ok" for flag in words[1:]):
        raise ConfigError.at(node, "SSLCARevocationCheck: Invalid argument "
                                   f"'{' '.join(node.args)}' (chain, leaf or none, optionally "
                                   "no_crl_for_cert_ok)")
    _set(host, crl_check=words[0], crl_unknown_ok=len(words) > 1, crl_where=node.where)


HOST_DIRECTIVES: dict[str, Callable[[object, VirtualHost, Node], None]] = {
    "sslverifydepth": _verify_depth,
    "sslcacertificatefile": _ca_setter("ca_file"),
    "sslcacertificatepath": _ca_setter("ca_path"),
    "sslcarevocationfile": _ca_setter("crl_file"),
    "sslcarevocationpath": _ca_setter("crl_path"),
    "sslcarevocationcheck": _revocation_check,
    "sslsessiontickets": _session_tickets,
    "protocols": _protocols,
    "sslciphersuite": _cipher_suite,
    "sslhonorcipherorder": _honor_cipher_order,
    "sslengine": _engine,
    "sslcertificatefile": _file_setter("cert_file"),
    "sslcertificatekeyfile": _file_setter("key_file"),
    "sslcertificatechainfile": _file_setter("chain_file"),
    "sslprotocol": _protocol,
}


def _pass_phrase_dialog_ok(args: list[str]) -> bool:
    """httpd runs the dialog only for an encrypted key; prefork-modpy reads unencrypted keys
    only (an encrypted one is an error naming it, server/tls.py), so for the keys it loads
    every form does what httpd does: nothing."""
    if len(args) != 1:
        return False
    word = args[0]
    return word.lower() == "builtin" or (word.startswith(("exec:/", "|/")) and len(word) > 6)


def check_accepted(node: Node) -> None:
    """Values of the SSL* directives the catalog accepts as no-ops."""
    key = node.key
    if key == "sslpassphrasedialog" and not _pass_phrase_dialog_ok(node.args):
        raise ConfigError.at(node, "SSLPassPhraseDialog takes builtin, exec:/path/to/program "
                                   "or |/path/to/program")
    if key == "sslrandomseed" and len(node.args) not in (2, 3):
        raise ConfigError.at(node, "SSLRandomSeed takes a context, a source and an "
                                   "optional byte count")


def merge_into_vhosts(main: VirtualHost, vhosts: list[VirtualHost]) -> None:
    """A <VirtualHost> inherits the main server's SSL* settings it does not set."""
    if main.ssl is None:
        return
    for vhost in vhosts:
        vhost.ssl = (vhost.ssl or SSLHost()).merged_over(main.ssl)


def _engine_on(host: VirtualHost) -> bool:
    return bool(host.ssl is not None and host.ssl.engine)


def _site(host: VirtualHost) -> TlsSite:
    ssl = host.ssl
    assert ssl is not None
    if not ssl.cert_file:
        raise ConfigError(f"{ssl.engine_where}: SSLEngine on for {host.server_name} but no "
                          "certificate: SSLCertificateFile is needed (mod_ssl: \"Server "
                          "should be SSL-aware but has no certificate configured\")")
    names = (host.server_name.lower(), *(a.lower() for a in host.aliases))
    return TlsSite(names, ssl.cert_file, ssl.key_file or ssl.cert_file, ssl.chain_file,
                   ssl.cert_where)


def _hosts_on(config: ServerConfig, address: tuple[str, int]) -> list[VirtualHost]:
    """The hosts a Listen address may serve: on a wildcard address, every host of its port
    (whichever local IP the connection arrives on)."""
    ip, port = address
    if ip not in ("0.0.0.0", "::", ""):
        return config.vhosts_for_address(address)
    return [vhost for vhost in config.vhosts
            if any(bind_port in (0, port) for _, bind_port in vhost.binds)
            or any(p in (0, port) for p in vhost.default_ports)]


def plan(config: ServerConfig) -> tuple[TlsAddress, ...]:
    """The Listen addresses whose hosts say SSLEngine on. One address serves either TLS or
    plain HTTP: hosts that disagree on one address are a config error."""
    found = []
    for address in config.listen:
        hosts = _hosts_on(config, address) or [config.main]
        on = [host for host in hosts if _engine_on(host)]
        if not on:
            continue
        if len(on) != len(hosts):
            off = next(host for host in hosts if not _engine_on(host))
            where = on[0].ssl.engine_where if on[0].ssl else ""
            raise ConfigError(f"{where}: {address[0]}:{address[1]} has hosts with and without "
                              f"SSLEngine on ({off.server_name} has it off): one port "
                              "speaks TLS or plain HTTP, not both")
        protocols = {host.ssl.effective_protocols for host in on if host.ssl}
        if len(protocols) > 1:
            where = next(h.ssl.protocol_where for h in on if h.ssl and h.ssl.protocol_where)
            raise ConfigError(f"{where}: the hosts of {address[0]}:{address[1]} differ in "
                              "SSLProtocol; one TLS address negotiates one set of versions")
        ciphers = {(host.ssl.suites, bool(host.ssl.honor_order), host.ssl.tickets is not False)
                   for host in on if host.ssl}
        if len(ciphers) > 1:
            where = next(h.ssl.cipher_where for h in on if h.ssl and h.ssl.cipher_where)
            raise ConfigError(f"{where}: the hosts of {address[0]}:{address[1]} differ in "
                              "SSLCipherSuite/SSLHonorCipherOrder/SSLSessionTickets; one TLS "
                              "address has one setting")
        suites, honor_order, tickets = ciphers.pop()
        assert on[0].ssl is not None
        (verify, cas, depth, crl), verify_where = _client_auth(config, address, on)
        found.append(TlsAddress(address, tuple(_site(host) for host in on),
                                protocols.pop(), on[0].ssl.engine_where, suites, honor_order,
                                tickets, verify, cas, depth, verify_where, *crl))
    return tuple(found)


# -- SSLVerifyClient --
# The order of strictness at the TLS level: the handshake asks as the strictest says.
_ASK_ORDER = ("none", "optional_no_ca", "optional", "require")


def _host_verify(config: ServerConfig, host: VirtualHost) -> tuple[str, str]:
    """(level, where) of SSLVerifyClient at the host's top level (a <VirtualHost> inherits
    the main server's)."""
    for settings in (host.settings, config.main.settings):
        if settings.ssl_verify is not None:
            return settings.ssl_verify, settings.ssl_verify_where
    return "none", ""


def _handshake_ask(config: ServerConfig, host: VirtualHost) -> tuple[str, str]:
    """What the handshake asks for this host: its own level, or, when one of its sections
    says SSLVerifyClient (httpd renegotiates there; rustls cannot), at least `optional`
    (optional_no_ca if that is what the sections say), enforced per request."""
    level, where = _host_verify(config, host)
    if level == "require":
        return level, where
    inherited = config.main.sections if host is not config.main else []
    for section in (*host.sections, *inherited):
        inner = section.settings.ssl_verify
        if inner in ("require", "optional") and _ASK_ORDER.index(level) < 2:
            level, where = "optional", section.settings.ssl_verify_where
        elif inner == "optional_no_ca" and level == "none":
            level, where = inner, section.settings.ssl_verify_where
    return level, where


def _handshake_depth(config: ServerConfig, host: VirtualHost) -> int:
    """The handshake verifies to the deepest SSLVerifyDepth of the host and its sections;
    a shallower one (the host's elsewhere, or a section's) is held per request
    (httpd/ssl.py check_client), as httpd's renegotiation would."""
    depth = host.ssl.verify_depth if host.ssl.verify_depth is not None else 1
    inherited = config.main.sections if host is not config.main else []
    for section in (*host.sections, *inherited):
        if section.settings.ssl_verify_depth is not None:
            depth = max(depth, section.settings.ssl_verify_depth)
    return int(depth)


Revocation = tuple[str, tuple[str, ...], bool, str]


def _revocation(ssl: SSLHost) -> Revocation:
    """(SSLCARevocationCheck, the CRL files, no_crl_for_cert_ok, its line). httpd 2.4
    checks CRLs only when SSLCARevocationCheck says chain or leaf (the default is none)."""
    check = ssl.crl_check or "none"
    files = crl_files(ssl) if check != "none" else ()
    if check != "none" and not files:
        raise ConfigError(f"{ssl.crl_where}: CRL checking has been enabled, but neither "
                          "SSLCARevocationFile nor SSLCARevocationPath is configured")
    return check, files, bool(ssl.crl_unknown_ok), ssl.crl_where


def _client_auth(config: ServerConfig, address: tuple[str, int], hosts: list[VirtualHost]
                 ) -> tuple[tuple[str, tuple[str, ...], int, Revocation], str]:
    """((level, CA files, depth, revocation), the line that set it) of one TLS address: its
    hosts must agree (rustls verifies with one configuration per address, chosen before
    SNI is read)."""
    asks = {}
    for host in hosts:
        level, where = _handshake_ask(config, host)
        ssl = host.ssl
        assert ssl is not None
        cas = ca_files(ssl) if level != "none" else ()
        if level != "none" and not cas:
            raise ConfigError(f"{where}: SSLVerifyClient {level} for {host.server_name} "
                              "needs SSLCACertificateFile or SSLCACertificatePath (mod_ssl: "
                              "\"Required CA certificates not configured\")")
        depth = _handshake_depth(config, host)
        crl = _revocation(ssl) if level != "none" else ("none", (), False, "")
        asks[(level, cas, depth if level != "none" else 1, crl)] = where or ssl.ca_where
    if len(asks) > 1:
        where = next(w for w in asks.values() if w)
        raise ConfigError(f"{where}: the hosts of {address[0]}:{address[1]} differ in "
                          "SSLVerifyClient/SSLCACertificate*/SSLVerifyDepth/SSLCARevocation*; "
                          "the TLS "
                          "handshake asks for a client certificate one way per address "
                          "(rustls chooses its verifier before SNI is read)")
    return next(iter(asks.items()))


# -- SSLCipherSuite / SSLHonorCipherOrder --
# The suites rustls (ring) offers, by OpenSSL name (what SSLCipherSuite and SSL_CIPHER say),
# in OpenSSL's order for them, with the OpenSSL cipher-string keywords each one matches
# (checked against `openssl ciphers` in tests/unit/test_ssl_ciphers.py).
_TLS12_SUITES: dict[str, frozenset[str]] = {
    "ECDHE-ECDSA-AES256-GCM-SHA384": frozenset({"AES256", "AES", "AESGCM", "FIPS", "aECDSA",
                                                "ECDSA"}),
    "ECDHE-RSA-AES256-GCM-SHA384": frozenset({"AES256", "AES", "AESGCM", "FIPS", "aRSA"}),
    "ECDHE-ECDSA-CHACHA20-POLY1305": frozenset({"CHACHA20", "aECDSA", "ECDSA"}),
    "ECDHE-RSA-CHACHA20-POLY1305": frozenset({"CHACHA20", "aRSA"}),
    "ECDHE-ECDSA-AES128-GCM-SHA256": frozenset({"AES128", "AES", "AESGCM", "FIPS", "aECDSA",
                                                "ECDSA"}),
    "ECDHE-RSA-AES128-GCM-SHA256": frozenset({"AES128", "AES", "AESGCM", "FIPS", "aRSA"}),
}
# Keywords every one of them matches (ephemeral ECDH, AEAD, TLS 1.2, strong).
_ALL_MATCH = frozenset({"ALL", "DEFAULT", "HIGH", "ECDHE", "EECDH", "kECDHE", "kEECDH", "ECDH",
                        "kECDH", "TLSv1.2"})
# OpenSSL keywords none of them matches (weak, other key exchanges, other versions).
_NONE_MATCH = frozenset({
    "COMPLEMENTOFDEFAULT", "COMPLEMENTOFALL", "MEDIUM", "LOW", "EXP", "EXPORT", "aNULL",
    "eNULL", "NULL", "MD5", "RC4", "DES", "3DES", "SHA1", "SHA", "RSA", "kRSA", "DH", "DHE",
    "EDH", "kDHE", "kEDH", "ADH", "AECDH", "PSK", "kPSK", "aPSK", "ECDHEPSK", "DHEPSK",
    "RSAPSK", "SRP", "kSRP", "aSRP", "CAMELLIA", "CAMELLIA128", "CAMELLIA256", "ARIA",
    "ARIA128", "ARIA256", "SEED", "IDEA", "RC2", "aDSS", "DSS", "aDH", "aECDH", "kDHr",
    "kDHd", "kECDHr", "kECDHe", "GOST94", "GOST89MAC", "kGOST", "aGOST", "aGOST01", "AESCCM",
    "AESCCM8", "CBC", "SHA256", "SHA384", "AEAD", "SSLv3", "TLSv1", "TLSv1.0", "SUITEB128",
    "SUITEB128ONLY", "SUITEB192"})
_TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                 "TLS_CHACHA20_POLY1305_SHA256")
# OpenSSL's name → rustls' (IANA) name, for the engine.
RUSTLS_NAMES = {
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_256_GCM_SHA384": "TLS13_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256": "TLS13_AES_128_GCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256": "TLS13_CHACHA20_POLY1305_SHA256",
}
# An OpenSSL suite name rustls does not have (DHE-RSA-AES256-GCM-SHA384, AES128-SHA, ...):
# like OpenSSL, which skips names it lacks, the rest of the list still applies.
_SUITE_NAME = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")


def _matches(term: str, node: Node, skipped: list[str]) -> list[str]:
    """The TLS 1.2 suites one term (`KEY` or `KEY1+KEY2`, or a suite name) selects."""
    if term in _TLS12_SUITES:
        return [term]
    selected = list(_TLS12_SUITES)
    for key in term.split("+"):
        if key in _ALL_MATCH:
            continue
        if key in _NONE_MATCH:
            return []
        if any(key in tags for tags in _TLS12_SUITES.values()):
            selected = [s for s in selected if key in _TLS12_SUITES[s]]
            continue
        if "+" not in term and _SUITE_NAME.fullmatch(key):
            skipped.append(key)
            return []
        raise ConfigError.at(node, f"SSLCipherSuite: unknown cipher or keyword '{key}'")
    return selected


def parse_tls12_ciphers(node: Node, text: str, warnings: list[str]) -> tuple[str, ...]:
    """OpenSSL's cipher-string rules (ssl_ciph.c) over the suites rustls offers: `X` adds,
    `-X` removes, `!X` removes for good, `+X` moves to the end, `A+B` intersects,
    `@STRENGTH` sorts by key length. The order matters under SSLHonorCipherOrder on."""
    active: list[str] = []
    banned: set[str] = set()
    skipped: list[str] = []
    for word in re.split(r"[:, ]+", text.strip()):
        if not word:
            continue
        if word == "@STRENGTH":
            active.sort(key=lambda s: 1 if "128" in s else 0)  # 256-bit keys first
            continue
        if word.startswith("@"):
            raise ConfigError.at(node, f"SSLCipherSuite {word}: rustls has no security "
                                       "levels or other @ options (its suites are all strong)")
        op, term = (word[0], word[1:]) if word[0] in "!-+" else ("", word)
        chosen = _matches(term, node, skipped)
        if op == "!":
            banned.update(chosen)
            active = [s for s in active if s not in banned]
        elif op == "-":
            active = [s for s in active if s not in chosen]
        elif op == "+":
            active = [s for s in active if s not in chosen] + [s for s in active if s in chosen]
        else:
            active += [s for s in chosen if s not in active and s not in banned]
    if skipped:
        warnings.append(f"{node.where}: SSLCipherSuite: rustls does not offer "
                        f"{', '.join(skipped)}; skipped as OpenSSL skips names it lacks")
    if not active:
        raise ConfigError.at(node, "SSLCipherSuite leaves no TLS 1.2 suite rustls offers "
                                   f"({', '.join(_TLS12_SUITES)})")
    return tuple(active)


def parse_tls13_ciphers(node: Node, text: str) -> tuple[str, ...]:
    """`SSLCipherSuite TLSv1.3 name:name`: OpenSSL's TLS 1.3 list, names only."""
    chosen = tuple(name for name in re.split(r"[:, ]+", text.strip()) if name)
    for name in chosen:
        if name not in _TLS13_SUITES:
            raise ConfigError.at(node, f"SSLCipherSuite TLSv1.3: unknown suite '{name}' "
                                       f"(rustls offers {', '.join(_TLS13_SUITES)})")
    if not chosen:
        raise ConfigError.at(node, "SSLCipherSuite TLSv1.3 needs at least one suite")
    return chosen
