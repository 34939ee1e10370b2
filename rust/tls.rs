//! TLS for `SSLEngine on` addresses (mod_ssl's job), on rustls with the `ring` provider.
//!
//! Owns: `TlsContext` (a rustls `ServerConfig` built from PEM files once, in the master at
//! config load, with an SNI resolver choosing among one address's virtual hosts), client
//! certificate verification (`ClientAuth`: SSLVerifyClient/SSLVerifyDepth against the
//! SSLCACertificate* roots, and SSL_CLIENT_VERIFY's verdict), the per-connection
//! `Session`, and the non-blocking (engine loop) and blocking (request,
//! GIL released) I/O through a session. Must not: make system calls itself (sys.rs does),
//! or know HTTP (conn.rs/engine.rs/request.rs do).
//!
//! A session's plaintext is always drained into the connection's buffer as soon as it is
//! decrypted, so an idle TLS connection holds no state the engine cannot see; files are
//! copied through the session in 64 KiB `pread`s (sendfile(2) cannot encrypt; no kTLS).

use std::io::{self, Read, Write};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
// `ring` rather than `aws-lc-rs`: maintained, built by `cc` in seconds (aws-lc needs a long
// C build), and enough for TLS 1.2/1.3 with X25519/P-256/P-384; rustls 0.23.48 deprecated
// its `default_provider` only because ring lacks the post-quantum X25519MLKEM768 group.
use rustls::client::danger::HandshakeSignatureValid;
#[allow(deprecated)]
use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    ServerConnection, SignatureScheme,
};

use crate::pyio::drive;
use crate::sys::{self, ReadOutcome};

/// First byte of a TLS handshake record; anything else opening a connection is not TLS.
const HANDSHAKE_RECORD: u8 = 0x16;
/// The most plaintext one TLS record carries.
const RECORD_PLAINTEXT: usize = 16 * 1024;
/// How much of a file one copy through the session reads at a time.
const FILE_CHUNK: usize = 64 * 1024;

/// One virtual host's certificate and the names (ServerName, ServerAlias; `*.` wildcards)
/// SNI selects it by.
#[derive(Debug)]
struct Site {
    names: Vec<String>,
    key: Arc<CertifiedKey>,
}

/// rustls' `ResolvesServerCert` by SNI name among the hosts of one address; the first host
/// answers a client without SNI or with an unknown name (httpd's default vhost of the
/// address).
#[derive(Debug)]
struct BySni {
    sites: Vec<Site>,
}

fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == suffix)
        }
        None => pattern == name,
    }
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let wanted = hello.server_name().map(str::to_ascii_lowercase);
        let chosen = wanted.and_then(|name| {
            self.sites.iter().find(|s| s.names.iter().any(|p| name_matches(p, &name)))
        });
        chosen.or(self.sites.first()).map(|s| s.key.clone())
    }
}

#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    default_provider()
}

fn bad(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

fn read_certs(path: &str) -> PyResult<Vec<CertificateDer<'static>>> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read certificates from {path}: {e}")))?
        .collect();
    let certs = certs.map_err(|e| bad(format!("{path}: bad PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(bad(format!("{path} holds no PEM certificate")));
    }
    Ok(certs)
}

/// SSLCertificateFile (+ optional SSLCertificateChainFile) and SSLCertificateKeyFile (the
/// key may also sit in the certificate file, as mod_ssl allows) → a checked key pair.
fn load_site(cert: &str, key: &str, chain: Option<&str>) -> PyResult<Arc<CertifiedKey>> {
    let mut certs = read_certs(cert)?;
    if let Some(chain) = chain {
        certs.extend(read_certs(chain)?);
    }
    let der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| bad(format!("cannot read a PEM private key from {key}: {e}")))?;
    let signing = ring_provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| bad(format!("{key}: unusable private key: {e}")))?;
    let pair = CertifiedKey::new(certs, signing);
    pair.keys_match()
        .map_err(|e| bad(format!("the key in {key} does not match the certificate {cert}: {e}")))?;
    Ok(Arc::new(pair))
}

/// SSLCipherSuite: the provider's suites named (rustls' names), in the order given.
fn chosen_suites(
    offered: &[rustls::SupportedCipherSuite],
    names: &[String],
) -> PyResult<Vec<rustls::SupportedCipherSuite>> {
    names
        .iter()
        .map(|name| {
            offered
                .iter()
                .find(|s| s.suite().as_str() == Some(name.as_str()))
                .copied()
                .ok_or_else(|| bad(format!("unknown cipher suite {name}")))
        })
        .collect()
}

fn protocol_versions(names: &[String]) -> PyResult<Vec<&'static rustls::SupportedProtocolVersion>> {
    names
        .iter()
        .map(|n| match n.as_str() {
            "TLSv1.2" => Ok(&rustls::version::TLS12),
            "TLSv1.3" => Ok(&rustls::version::TLS13),
            other => Err(bad(format!("unsupported protocol {other}"))),
        })
        .collect()
}

/// SSLVerifyClient's levels that ask for a certificate (`none` asks for nothing).
#[derive(Clone, Copy, Debug, PartialEq)]
enum VerifyMode {
    /// `optional`: a certificate may be sent; one that is sent must verify.
    Optional,
    /// `require`: the handshake fails without a certificate that verifies.
    Require,
    /// `optional_no_ca`: a certificate whose issuer is unknown passes (SSL_CLIENT_VERIFY
    /// GENEROUS); other failures (expired, bad signature) still end the handshake.
    OptionalNoCa,
}

fn verify_mode(name: &str) -> PyResult<Option<VerifyMode>> {
    match name {
        "none" => Ok(None),
        "optional" => Ok(Some(VerifyMode::Optional)),
        "require" => Ok(Some(VerifyMode::Require)),
        "optional_no_ca" => Ok(Some(VerifyMode::OptionalNoCa)),
        other => Err(bad(format!("unknown SSLVerifyClient level {other}"))),
    }
}

/// SSLVerifyClient + SSLCACertificateFile/Path + SSLVerifyDepth: rustls' own WebPKI verifier
/// decides (so its alerts are rustls' standard ones), then the path it verifies is held to
/// SSLVerifyDepth as ssl_callback_SSLVerify does (`errdepth > depth`: the trust anchor sits
/// at depth intermediates + 1).
#[derive(Debug)]
pub struct ClientAuth {
    webpki: Arc<dyn ClientCertVerifier>,
    roots: Arc<RootCertStore>,
    mode: VerifyMode,
    depth: usize,
}

/// SSLCARevocationCheck (`chain`, `leaf`; `none` is no `Revocation`) with its
/// `no_crl_for_cert_ok` flag, over the CRLs of SSLCARevocationFile/Path.
pub struct Revocation {
    pub crl_files: Vec<String>,
    pub leaf_only: bool,
    pub unknown_ok: bool,
}

fn read_crls(path: &str) -> PyResult<Vec<CertificateRevocationListDer<'static>>> {
    let crls: Result<Vec<_>, _> = CertificateRevocationListDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read CRLs from {path}: {e}")))?
        .collect();
    let crls = crls.map_err(|e| bad(format!("{path}: bad PEM CRL: {e}")))?;
    if crls.is_empty() {
        return Err(bad(format!("{path} holds no PEM CRL (X509 CRL)")));
    }
    Ok(crls)
}

impl ClientAuth {
    fn new(
        mode: VerifyMode,
        ca_files: &[String],
        depth: usize,
        revocation: Option<&Revocation>,
    ) -> PyResult<Self> {
        let mut roots = RootCertStore::empty();
        for path in ca_files {
            for cert in read_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("{path}: unusable CA certificate: {e}")))?;
            }
        }
        if roots.is_empty() {
            return Err(bad("SSLVerifyClient needs SSLCACertificateFile or \
                            SSLCACertificatePath (no CA certificate to verify against)"
                .into()));
        }
        let roots = Arc::new(roots);
        let builder =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), Arc::new(ring_provider()));
        let mut builder =
            if mode == VerifyMode::Require { builder } else { builder.allow_unauthenticated() };
        if let Some(revocation) = revocation {
            // X509_V_FLAG_CRL_CHECK(_ALL): a certificate whose issuer has no CRL fails
            // unless no_crl_for_cert_ok (rustls: unknown revocation status).
            for path in &revocation.crl_files {
                builder = builder.with_crls(read_crls(path)?);
            }
            if revocation.leaf_only {
                builder = builder.only_check_end_entity_revocation();
            }
            if revocation.unknown_ok {
                builder = builder.allow_unknown_revocation_status();
            }
        }
        let webpki = builder.build().map_err(|e| bad(format!("SSLVerifyClient: {e}")))?;
        Ok(ClientAuth { webpki, roots, mode, depth })
    }

    /// The full check: WebPKI against the CA certificates, then the depth of the path.
    /// Ok: the number of intermediate certificates on the verified path.
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<usize, rustls::Error> {
        self.webpki.verify_client_cert(end_entity, intermediates, now)?;
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let algorithms = ring_provider().signature_verification_algorithms;
        let depth = self.depth;
        let within_depth = move |path: &webpki::VerifiedPath<'_>| {
            if path.intermediate_certificates().count() + 1 > depth {
                Err(webpki::Error::MaximumPathDepthExceeded)
            } else {
                Ok(())
            }
        };
        cert.verify_for_usage(
            algorithms.all,
            &self.roots.roots,
            intermediates,
            now,
            webpki::KeyUsage::client_auth(),
            None,
            Some(&within_depth),
        )
        .map(|path| path.intermediate_certificates().count())
        .map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(e),
            )))
        })
    }

    /// mod_ssl's SSL_CLIENT_VERIFY for a session whose handshake completed: NONE without a
    /// certificate, SUCCESS when it verifies (with the depth of its path: the trust anchor's
    /// errdepth, intermediates + 1), GENEROUS when optional_no_ca let it through.
    fn verdict(&self, chain: Option<&[CertificateDer<'_>]>) -> Verdict {
        match chain {
            Some([end_entity, intermediates @ ..]) => {
                match self.check(end_entity, intermediates, UnixTime::now()) {
                    Ok(count) => ("SUCCESS", Some(count + 1)),
                    Err(_) => ("GENEROUS", None),
                }
            }
            _ => ("NONE", None),
        }
    }
}

/// SSL_CLIENT_VERIFY and, for a verified certificate, the depth of its path.
pub type Verdict = (&'static str, Option<usize>);

/// optional_no_ca's tolerance (ssl_verify_error_is_optional): an issuer the CA
/// certificates do not know; an expired or malformed certificate, or a path longer than
/// SSLVerifyDepth, still fails.
fn issuer_unknown(err: &rustls::Error) -> bool {
    matches!(err, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
}

impl ClientCertVerifier for ClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == VerifyMode::Require
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.check(end_entity, intermediates, now) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(e) if self.mode == VerifyMode::OptionalNoCa && issuer_unknown(&e) => {
                within_validity(end_entity, now)?;
                Ok(ClientCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// An unverifiable (unknown issuer) certificate under optional_no_ca must still be within
/// its validity period, as OpenSSL checks it after the issuer error mod_ssl forgives.
fn within_validity(end_entity: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(end_entity)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYet));
    }
    if now > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}

/// The TLS configuration of one listening address, built once in the master (key files are
/// read there, before any privilege drop) and inherited by the workers.
#[pyclass(module = "prefork_modpy._core", frozen)]
pub struct TlsContext {
    pub config: Arc<ServerConfig>,
    /// SSLVerifyClient's verifier, when the address asks for client certificates.
    client_auth: Option<Arc<ClientAuth>>,
}

#[pymethods]
impl TlsContext {
    /// TlsContext(sites, protocols): `sites` is `[(names, cert_file, key_file, chain_file or
    /// None)]`, the first being the default host; `protocols` a subset of
    /// `["TLSv1.2", "TLSv1.3"]`; `verify`: SSLVerifyClient's level against the CA
    /// certificates in `ca_files` with SSLVerifyDepth `depth`; `crl_check`:
    /// SSLCARevocationCheck (none, chain, leaf) over the CRLs in `crl_files`, a certificate
    /// without a CRL for its issuer passing only with `crl_unknown_ok`. ValueError names
    /// the file and what is wrong with it.
    #[new]
    #[pyo3(signature = (sites, protocols, suites = None, honor_order = false, tickets = true,
                        verify = "none", ca_files = Vec::new(), depth = 1,
                        crl_check = "none", crl_files = Vec::new(), crl_unknown_ok = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        sites: Vec<(Vec<String>, String, String, Option<String>)>,
        protocols: Vec<String>,
        suites: Option<Vec<String>>,
        honor_order: bool,
        tickets: bool,
        verify: &str,
        ca_files: Vec<String>,
        depth: usize,
        crl_check: &str,
        crl_files: Vec<String>,
        crl_unknown_ok: bool,
    ) -> PyResult<Self> {
        if sites.is_empty() {
            return Err(bad("no certificate".into()));
        }
        let mut loaded = Vec::with_capacity(sites.len());
        for (names, cert, key, chain) in &sites {
            let key = load_site(cert, key, chain.as_deref())?;
            let names = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            loaded.push(Site { names, key });
        }
        let versions = protocol_versions(&protocols)?;
        let mut provider = ring_provider();
        if let Some(names) = &suites {
            provider.cipher_suites = chosen_suites(&provider.cipher_suites, names)?;
        }
        let revocation = match crl_check {
            "none" => None,
            "chain" | "leaf" => Some(Revocation {
                crl_files,
                leaf_only: crl_check == "leaf",
                unknown_ok: crl_unknown_ok,
            }),
            other => return Err(bad(format!("unknown SSLCARevocationCheck mode {other}"))),
        };
        let client_auth = match verify_mode(verify)? {
            Some(mode) => {
                Some(Arc::new(ClientAuth::new(mode, &ca_files, depth, revocation.as_ref())?))
            }
            None => None,
        };
        let builder = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&versions)
            .map_err(|e| bad(format!("SSLProtocol: {e}")))?;
        let builder = match &client_auth {
            Some(auth) => builder.with_client_cert_verifier(auth.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(BySni { sites: loaded }));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.ignore_client_order = honor_order;
        if tickets {
            // SSLSessionTickets on (httpd's default): stateless tickets under a key made here,
            // in the master, so every worker forked from it can resume every other's
            // sessions (until each rotates its key after 6 hours).
            config.ticketer =
                rustls::crypto::ring::Ticketer::new().map_err(|e| bad(format!("tickets: {e}")))?;
        }
        Ok(TlsContext { config: Arc::new(config), client_auth })
    }
}

/// One connection's TLS session.
pub struct Session {
    conn: ServerConnection,
    client_auth: Option<Arc<ClientAuth>>,
    /// SSL_CLIENT_VERIFY (and the verified path's depth), worked out once after the
    /// handshake.
    verdict: Option<Verdict>,
    /// No byte received yet (the plain-HTTP check looks at the first one).
    fresh: bool,
    /// The engine watches the socket for writability (handshake output was blocked).
    pub out_armed: bool,
    /// Bytes the last `read_nowait` took from the socket (the handshake clock counts them).
    pub last_read: usize,
}

/// What a non-blocking read through the session gave.
pub enum Got {
    /// This many plaintext bytes appended (possibly 0: handshake progress only).
    Data(usize),
    /// The peer closed (TCP end or close_notify).
    Eof,
    /// The first bytes are not TLS but look like an HTTP request.
    PlainHttp,
    /// The socket would block before anything arrived.
    Blocked,
    /// A TLS or socket error: close the connection.
    Failed,
}

impl Session {
    pub fn new(ctx: &TlsContext) -> Option<Box<Self>> {
        let conn = ServerConnection::new(ctx.config.clone()).ok()?;
        let client_auth = ctx.client_auth.clone();
        Some(Box::new(Session {
            conn,
            client_auth,
            verdict: None,
            fresh: true,
            out_armed: false,
            last_read: 0,
        }))
    }

    /// The handshake is not complete yet.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Whether TLS records are waiting to be sent.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// The SNI name the client sent, lower-case.
    pub fn sni(&self) -> Option<String> {
        self.conn.server_name().map(str::to_ascii_lowercase)
    }

    /// The SNI name the client sent, as sent.
    pub fn server_name(&self) -> Option<&str> {
        self.conn.server_name()
    }

    /// The client sent a certificate (whatever its verdict).
    pub fn has_client_certificate(&self) -> bool {
        self.conn.peer_certificates().is_some_and(|chain| !chain.is_empty())
    }

    /// (protocol as mod_ssl names it, cipher suite as IANA names it).
    pub fn describe(&self) -> (String, String) {
        let protocol = match self.conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(v) => format!("{v:?}"),
            None => String::new(),
        };
        let cipher = self
            .conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or_default()
            .to_string();
        (protocol, cipher)
    }

    /// The client's certificate chain (its own first, DER) and mod_ssl's SSL_CLIENT_VERIFY
    /// for it (NONE, SUCCESS or GENEROUS) with the verified path's depth.
    pub fn client(&mut self) -> (Verdict, Vec<Vec<u8>>) {
        let chain = self.conn.peer_certificates();
        let certs = chain.map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect());
        let verdict = match (self.verdict, &self.client_auth) {
            (Some(v), _) => v,
            (None, Some(auth)) => auth.verdict(chain),
            (None, None) => ("NONE", None),
        };
        self.verdict = Some(verdict);
        (verdict, certs.unwrap_or_default())
    }

    /// The handshake resumed an earlier session (SSL_SESSION_RESUMED).
    pub fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Feed received TLS bytes to the session and append the plaintext to `out`.
    fn absorb(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> io::Result<bool> {
        let mut closed = false;
        while !input.is_empty() {
            self.conn.read_tls(&mut input)?;
            let state = self
                .conn
                .process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            closed |= state.peer_has_closed();
            match self.conn.reader().read_to_end(out) {
                Ok(_) => closed = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    /// Send pending TLS records without blocking. Ok(true): nothing left to send.
    pub fn flush(&mut self, fd: RawFd) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut sys::FdWriter(fd)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// One non-blocking read of the socket (through `scratch`) for the engine loop:
    /// handshake progress, plaintext into `out`, replies (handshake, alerts) sent.
    pub fn read_nowait(&mut self, fd: RawFd, scratch: &mut [u8], out: &mut Vec<u8>) -> Got {
        let n = match sys::read_slice(fd, scratch) {
            Ok(0) => return Got::Eof,
            Ok(n) => n,
            Err(e)
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
            {
                return if self.flush(fd).is_ok() { Got::Blocked } else { Got::Failed };
            }
            Err(_) => return Got::Failed,
        };
        self.last_read = n;
        if std::mem::take(&mut self.fresh) && looks_like_http(&scratch[..n]) {
            return Got::PlainHttp;
        }
        let before = out.len();
        let r = self.absorb(&scratch[..n], out);
        // Send what the session has to say (handshake, or the alert of a failure).
        let flushed = self.flush(fd);
        match (r, flushed) {
            (Ok(true), _) if out.len() == before => Got::Eof,
            (Ok(_), Ok(_)) => Got::Data(out.len() - before),
            _ => Got::Failed,
        }
    }

    /// Blocking read for a request body (run with the GIL released): until some plaintext
    /// arrives, the peer closes, or `until`.
    pub fn read_until(
        &mut self,
        fd: RawFd,
        out: &mut Vec<u8>,
        until: Instant,
    ) -> io::Result<ReadOutcome> {
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match sys::read_until(fd, &mut raw, FILE_CHUNK, until)? {
                ReadOutcome::Data(_) => {}
                other => return Ok(other),
            }
            let before = out.len();
            let closed = self.absorb(&raw, out)?;
            self.flush(fd)?;
            let got = out.len() - before;
            if got > 0 {
                return Ok(ReadOutcome::Data(got));
            }
            if closed {
                return Ok(ReadOutcome::Eof);
            }
        }
    }

    /// Send all pending records, waiting for writability until `until`. Ok(false): time up.
    fn flush_until(&mut self, fd: RawFd, until: Instant) -> io::Result<bool> {
        while !self.flush(fd)? {
            if !sys::poll_fd(fd, libc::POLLOUT, until)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Encrypt and send `parts` after their first `*sent` bytes (as `sys::write_until`):
    /// the session takes plaintext up to its buffer limit, which is sent before more is
    /// taken. Ok(true): all sent; Ok(false): `until` passed first.
    pub fn write_until(
        &mut self,
        fd: RawFd,
        parts: &[&[u8]],
        sent: &mut usize,
        until: Instant,
    ) -> io::Result<bool> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if *sent == 0 && parts.len() > 1 && total <= RECORD_PLAINTEXT {
            // A head and a small body: one record (and one send) rather than one per part.
            let joined = parts.concat();
            return self.write_until(fd, &[&joined], sent, until);
        }
        let mut skip = *sent;
        for part in parts {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            let mut rest = &part[skip..];
            skip = 0;
            while !rest.is_empty() {
                let n = self.conn.writer().write(rest)?;
                *sent += n;
                rest = &rest[n..];
                // The session took less than offered: its buffer is full, send it first.
                if !rest.is_empty() && !self.flush_until(fd, until)? {
                    return Ok(false);
                }
            }
        }
        self.flush_until(fd, until)
    }

    /// Encrypt `data` and send what the socket takes at once (an engine refusal's page).
    pub fn send_nowait(&mut self, fd: RawFd, data: &[u8]) {
        let _ = self.conn.writer().write_all(data);
        let _ = self.flush(fd);
    }

    /// Send a close_notify alert without blocking (before the write side is shut down).
    pub fn close_notify(&mut self, fd: RawFd) {
        self.conn.send_close_notify();
        let _ = self.flush(fd);
    }
}

/// An HTTP request line's first bytes where a TLS record should start (mod_ssl's
/// "speaking plain HTTP to an SSL-enabled server port" check).
fn looks_like_http(first: &[u8]) -> bool {
    first.first().is_some_and(|&b| b != HANDSHAKE_RECORD && b.is_ascii_uppercase())
}

/// Write `parts` through the session, blocking with the GIL released in slices; `timeout`
/// bounds a stall as for plain writes.
pub fn write_blocking(
    py: Python<'_>,
    session: &mut Session,
    fd: RawFd,
    parts: &[&[u8]],
    timeout: f64,
) -> PyResult<()> {
    let mut sent = 0usize;
    drive(py, timeout, |until| {
        let before = sent;
        let r = session.write_until(fd, parts, &mut sent, until);
        (r, sent > before)
    })
}

/// Send `count` bytes of `file` from `offset` through the session: 64 KiB `pread`s, each
/// encrypted and written (sendfile(2) cannot encrypt).
pub fn copy_file_blocking(
    py: Python<'_>,
    session: &mut Session,
    fd: RawFd,
    file: RawFd,
    offset: u64,
    count: u64,
    timeout: f64,
) -> PyResult<()> {
    let mut done = 0u64;
    while done < count {
        let take = usize::try_from(count - done).unwrap_or(FILE_CHUNK).min(FILE_CHUNK);
        let data = sys::pread_exact(file, offset + done, take)?;
        write_blocking(py, session, fd, &[&data], timeout)?;
        done += take as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_names_match_exactly_or_by_one_wildcard_label() {
        assert!(name_matches("a.test", "a.test"));
        assert!(!name_matches("a.test", "b.test"));
        assert!(name_matches("*.b.test", "www.b.test"));
        assert!(!name_matches("*.b.test", "b.test"));
        assert!(!name_matches("*.b.test", "x.www.b.test"));
        assert!(!name_matches("*.b.test", ".b.test"));
    }

    #[test]
    fn plain_http_is_told_from_a_tls_record() {
        assert!(looks_like_http(b"GET / HTTP/1.1\r\n"));
        assert!(looks_like_http(b"POST"));
        assert!(!looks_like_http(&[HANDSHAKE_RECORD, 3, 1]));
        assert!(!looks_like_http(b""));
        assert!(!looks_like_http(b"\x80\x01")); // an SSLv2-style hello is not HTTP either
    }

    #[test]
    fn verify_levels_are_mod_ssls() {
        assert!(verify_mode("none").unwrap().is_none());
        assert_eq!(verify_mode("optional_no_ca").unwrap(), Some(VerifyMode::OptionalNoCa));
        assert!(verify_mode("sometimes").is_err());
    }

    #[test]
    fn optional_no_ca_forgives_an_unknown_issuer_only() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let too_long = rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(webpki::Error::MaximumPathDepthExceeded)),
        ));
        assert!(issuer_unknown(&unknown));
        assert!(!issuer_unknown(&expired));
        assert!(!issuer_unknown(&too_long));
    }

    #[test]
    fn only_tls12_and_tls13_are_known() {
        assert_eq!(protocol_versions(&["TLSv1.3".into()]).unwrap().len(), 1);
        assert!(protocol_versions(&["TLSv1.1".into()]).is_err());
    }
}
