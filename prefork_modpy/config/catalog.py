"""What prefork-modpy does with each Apache module and directive it does not simply honour.

Owns the one table behind every refusal and warning about httpd's modules and directives
(and the "Apache directives" section of docs/directives.md, rendered by `render_markdown`):
for each module, whether prefork-modpy implements it; for each directive, whether it is
accepted (and why that is safe), accepted with a warning, refused until its request-side
wiring lands, or refused, with what to do instead. Must not parse files or know the settings
model; syntax.py and server.py ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional


class Status(str, Enum):
    ACCEPTED = "accepted"  # prefork-modpy already behaves as asked; the reason says how
    WARNED = "accepted, one warning"  # not applied; the difference is cosmetic or capacity
    PENDING = "accepted for some values; others refused until wired"  # see PENDING_FIELDS
    REFUSED = "refused"  # prefork-modpy lacks the feature


@dataclass(frozen=True)
class ModuleInfo:
    """One httpd module: implemented by prefork-modpy itself or not, and why."""

    name: str  # "mod_ssl"
    implemented: bool
    reason: str = ""  # for a missing module: what it did and why prefork-modpy lacks it
    instead: str = ""  # what to do instead


@dataclass(frozen=True)
class DirectiveInfo:
    name: str
    module: str  # "mod_ssl", "core", ...
    status: Status
    reason: str
    instead: str = ""

    def message(self) -> str:
        """`Name: reason; instead` for a refusal or warning."""
        text = f"{self.name}: {self.reason}"
        return f"{text}; {self.instead}" if self.instead else text


# -- modules --------------------------------------------------------------------------------

_IMPLEMENTED = {
    "core": "core", "so": "mod_so", "python": "mod_python", "mime": "mod_mime",
    "dir": "mod_dir", "alias": "mod_alias", "log_config": "mod_log_config",
    "authz_core": "mod_authz_core", "authz_host": "mod_authz_host",
    "authz_user": "mod_authz_user", "authn_core": "mod_authn_core",
    "auth_basic": "mod_auth_basic", "status": "mod_status", "reqtimeout": "mod_reqtimeout",
    "mpm_prefork": "prefork", "unixd": "mod_unixd", "version": "mod_version",
    # -- mod_rewrite --
    "rewrite": "mod_rewrite",
    # -- mod_headers / mod_expires / mod_deflate (mod_filter: AddOutputFilterByType only) --
    "headers": "mod_headers", "expires": "mod_expires", "deflate": "mod_deflate",
    "filter": "mod_filter", "autoindex": "mod_autoindex",
    "include": "mod_include",
    "remoteip": "mod_remoteip",
    # issue 10 (config/httpdmods.py and the httpd/ modules it names)
    "env": "mod_env", "setenvif": "mod_setenvif", "access_compat": "mod_access_compat",
    "authn_file": "mod_authn_file", "authz_groupfile": "mod_authz_groupfile",
    # -- mod_ssl (config/ssl.py, rust/tls.rs) --
    "ssl": "mod_ssl",
}

_HTTPD_MODULE = ("this httpd module is not implemented yet (a separate issue); prefork-modpy "
                 "refuses its directives rather than drop them",
                 "do it in a Python*Handler, or in a proxy in front, until then")
_OTHER_LANGUAGE = ("prefork-modpy runs mod_python handlers only",
                   "serve this application with its own server behind a proxy")

_MISSING: dict[str, tuple[str, str]] = {
    "gnutls": ("mod_gnutls is not implemented; TLS is configured with mod_ssl's directives",
               "use SSLEngine, SSLCertificateFile and SSLCertificateKeyFile"),
    "http2": ("HTTP/2 is not spoken by prefork-modpy",
                                          "terminate HTTP/2 in a proxy in front"),
    "auth_digest": _HTTPD_MODULE, "actions": _HTTPD_MODULE, "userdir": _HTTPD_MODULE,
    "negotiation": ("content negotiation (MultiViews, type maps) is not implemented",
                    "link to the variant files themselves"),
    "mpm_event": ("prefork-modpy runs the prefork model: one request per worker process",
                  "size workers with StartServers/MaxRequestWorkers (or --workers)"),
    "mpm_worker": ("prefork-modpy runs the prefork model: one request per worker process",
                   "size workers with StartServers/MaxRequestWorkers (or --workers)"),
    "cgi": ("CGI scripts are not run", "port the script to a mod_python handler"),
    "cgid": ("CGI scripts are not run", "port the script to a mod_python handler"),
    "proxy": ("prefork-modpy is not a proxy", "proxy in a server in front"),
    "proxy_http": ("prefork-modpy is not a proxy", "proxy in a server in front"),
    "wsgi": _OTHER_LANGUAGE, "php": _OTHER_LANGUAGE, "php5": _OTHER_LANGUAGE,
    "php7": _OTHER_LANGUAGE, "perl": _OTHER_LANGUAGE, "fcgid": _OTHER_LANGUAGE,
    "dav": ("WebDAV is not implemented", "serve DAV (and Subversion) from Apache"),
    "dav_fs": ("WebDAV is not implemented", "serve DAV (and Subversion) from Apache"),
    "dav_svn": ("WebDAV is not implemented", "serve DAV (and Subversion) from Apache"),
    "authz_svn": ("WebDAV is not implemented", "serve DAV (and Subversion) from Apache"),
    "auth_kerb": ("only Basic authentication by Python handlers exists",
                  "authenticate in a PythonAuthenHandler or a proxy in front"),
    "authnz_ldap": ("only Basic authentication by Python handlers exists",
                    "authenticate in a PythonAuthenHandler or a proxy in front"),
    "info": ("the server-info page is not implemented", "use prefork-modpy --print-config"),
}


def module_key(name: str) -> str:
    """`mod_ssl.c`, `ssl_module`, `mod_ssl` -> `ssl`; `prefork.c` -> `mpm_prefork`."""
    key = name.strip().lower()
    key = key.removesuffix(".c").removesuffix(".so")
    key = key.removeprefix("mod_").removesuffix("_module")
    if key in ("prefork", "worker", "event"):
        key = f"mpm_{key}"
    return key


def module_info(name: str) -> ModuleInfo:
    key = module_key(name)
    if key in _IMPLEMENTED:
        return ModuleInfo(_IMPLEMENTED[key], True)
    reason, instead = _MISSING.get(key, ("prefork-modpy does not implement this module", ""))
    return ModuleInfo(f"mod_{key}", False, reason, instead)


def implemented_modules() -> list[str]:
    return sorted(_IMPLEMENTED.values())


# -- directives ------------------------------------------------------------------------------

DIRECTIVES: dict[str, DirectiveInfo] = {}


def _add(module: str, status: Status, reason: str, instead: str, *names: str) -> None:
    for name in names:
        DIRECTIVES[name.lower()] = DirectiveInfo(name, module, status, reason, instead)


def _add_module(module_name: str, *names: str, status: Status = Status.REFUSED) -> None:
    info = module_info(module_name)
    _add(info.name, status, f"{info.name} is not part of prefork-modpy: {info.reason}",
         info.instead, *names)


_add("core", Status.ACCEPTED, "prefork-modpy has no accept mutex or other lock files", "",
     "Mutex")
_add("core", Status.ACCEPTED, "has no effect since httpd 2.4 (a warning there too)", "",
     "NameVirtualHost")
_add("core", Status.ACCEPTED, "prefork-modpy keeps no run-time files of its own there", "",
     "DefaultRuntimeDir")
_add("core", Status.ACCEPTED, "prefork-modpy needs no compile-time process limit; "
     "MaxRequestWorkers bounds the workers", "", "ServerLimit")
_add("core", Status.ACCEPTED, "versions are never advertised: the Server header is "
     "'prefork-modpy' whatever the value; Full (httpd's default) names mod_python and Python "
     "in SERVER_SOFTWARE and the ServerSignature footer, any other value the product alone",
     "", "ServerTokens")
_add("core", Status.ACCEPTED, "the names of the .htaccess files read where AllowOverride or "
     "AllowOverrideList is not None (httpd/htaccess.py)", "", "AccessFileName")
_add("core", Status.ACCEPTED, "prefork-modpy needs no DNS; only the default Off is accepted",
     "", "HostnameLookups")
_add("core", Status.ACCEPTED, "has no effect in httpd 2.4 either (a warning there too)", "",
     "DefaultType")
_add("core", Status.ACCEPTED, "prefork-modpy already sends files without mmap/sendfile "
     "tuning; the bytes on the wire are the same", "", "EnableMMAP", "EnableSendfile")
_add("core", Status.REFUSED, "the server's own content ETag rules are fixed "
     "(inode-free, size and mtime)", "remove the line", "FileETag")
_add("mod_authz_core", Status.REFUSED, "not implemented: sections replace their parent's "
     "Require lines (AuthMerging Off), a failed authorization of a user answers 401, and "
     "provider aliases do not exist", "write the combined Require lines (or <RequireAll>) in "
     "the section itself", "AuthMerging", "AuthzSendForbiddenOnFailure", "AuthzProviderAlias",
     "AuthnProviderAlias")
_add("mod_dir", Status.REFUSED, "not implemented: a directory URL is redirected with a "
     "trailing slash and DirectoryIndex is served in place (no external redirect, no "
     "handler check)", "remove the line", "DirectoryIndexRedirect", "DirectoryCheckHandler")
_add("mod_setenvif", Status.REFUSED, "httpd's ap_expr language is not implemented",
     "use SetEnvIf/SetEnvIfNoCase, or set variables in a PythonHeaderParserHandler",
     "SetEnvIfExpr")

for _threads in ("ThreadsPerChild", "MinSpareThreads", "MaxSpareThreads", "ThreadLimit",
                 "ThreadStackSize", "AsyncRequestWorkerFactor"):
    _add("mpm_event/mpm_worker", Status.WARNED, "prefork-modpy runs one request per worker "
         "process, without threads; thread sizing does not apply",
         "size workers with StartServers/MaxRequestWorkers", _threads)

AUTOINDEX_LOOK: tuple[str, ...] = ()  # -- mod_autoindex: implemented (config/autoindex.py) --
NEGOTIATION_META = ("LanguagePriority", "ForceLanguagePriority", "CacheNegotiatedDocs")
_add("mod_negotiation", Status.WARNED, "language preferences for content negotiation, which "
     "prefork-modpy does not do", "", *NEGOTIATION_META)
# -- mod_headers / mod_expires / mod_deflate --
_add("mod_deflate", Status.WARNED, "prefork-modpy compresses with httpd's default window (15) "
     "and memory level (9) and flushes per block it sends; these tune only the size of the "
     "compressed bytes, not what the client decodes", "remove the line",
     "DeflateBufferSize", "DeflateMemLevel", "DeflateWindowSize")
_add("mod_deflate", Status.REFUSED, "only compression of responses (the DEFLATE output "
     "filter) is implemented", "decompress request bodies in the handler",
     "DeflateInflateLimitRequestBody", "DeflateInflateRatioLimit", "DeflateInflateRatioBurst")
_add("mod_deflate", Status.REFUSED, "notes for the access log of compression ratios are not "
     "kept", "remove the line", "DeflateFilterNote")
_add("mod_filter", Status.REFUSED, "only AddOutputFilterByType DEFLATE is implemented from "
     "mod_filter (dynamic filter chains are not)", "use SetOutputFilter/AddOutputFilter, or "
     "AddOutputFilterByType DEFLATE", "FilterDeclare", "FilterProvider", "FilterChain",
     "FilterProtocol", "FilterTrace")

# -- mod_ssl: SSLEngine, SSLCertificate(Key|Chain)File, SSLProtocol, SSLVerifyClient,
# SSLVerifyDepth, SSLCACertificate(File|Path), SSLCARevocation(File|Path|Check), SSLOptions
# and SSLUserName are implemented
# (config/ssl.py, config/directives.py); these are not --
_add("mod_ssl", Status.ACCEPTED, "rustls draws its randomness from the kernel (getrandom); "
     "there is no pool to seed", "", "SSLRandomSeed")
_add("mod_ssl", Status.ACCEPTED, "httpd runs the dialog (builtin, exec: or a pipe) only for "
     "an encrypted key; prefork-modpy asks no pass phrase and reads unencrypted keys only "
     "(readable by root only; the master reads them): an encrypted key is an error naming "
     "its SSLCertificateFile line", "", "SSLPassPhraseDialog")
_add("mod_ssl", Status.ACCEPTED, "rustls keeps an in-memory session cache per worker (256 "
     "sessions); resumption across workers is by session tickets (SSLSessionTickets on, the "
     "default: one ticket key made by the master for all workers)", "",
     "SSLSessionCache", "SSLSessionCacheTimeout")
_add("mod_ssl", Status.ACCEPTED, "rustls never renegotiates (client certificates are asked "
     "for during the handshake), so there is no renegotiation to allow or buffer for", "",
     "SSLInsecureRenegotiation", "SSLRenegBufferSize")
_add("mod_ssl", Status.REFUSED, "OCSP checks of client certificates are not implemented: a "
     "revoked certificate would be accepted", "issue short-lived client certificates",
     "SSLOCSPEnable", "SSLOCSPDefaultResponder", "SSLOCSPOverrideResponder",
     "SSLOCSPResponderTimeout", "SSLOCSPResponseMaxAge", "SSLOCSPResponseTimeSkew",
     "SSLOCSPUseRequestNonce", "SSLOCSPProxyURL", "SSLOCSPNoVerify",
     "SSLOCSPResponderCertificateFile")
_add("mod_ssl", Status.REFUSED, "the certificate request names the CAs of "
     "SSLCACertificateFile/Path; another list of names is not implemented",
     "remove the line (clients then see the CAs they are verified against)",
     "SSLCADNRequestFile", "SSLCADNRequestPath")
_add("mod_ssl", Status.REFUSED, "without SNI a client gets the address's first host, whose "
     "certificate may not match; refusing such clients per host is not implemented",
     "remove the line (every current client sends SNI)", "SSLStrictSNIVHostCheck")
_add("mod_ssl", Status.REFUSED, "OpenSSL configuration commands have no rustls equivalent",
     "use SSLProtocol/SSLCipherSuite/SSLHonorCipherOrder", "SSLOpenSSLConfCmd")
_add("mod_ssl", Status.REFUSED, "SSLRequire's expressions are not implemented (SSLRequireSSL "
     "is)", "use SSLRequireSSL, or check req.ssl_var_lookup() in the handler", "SSLRequire")
_add("mod_ssl", Status.REFUSED, "OCSP stapling, crypto devices, TLS compression and TLS to "
     "back-ends are not implemented", "remove the line (compression is insecure anyway: "
     "CRIME)", "SSLCryptoDevice", "SSLStaplingCache", "SSLUseStapling", "SSLCompression",
     "SSLProxyEngine")
# -- mod_rewrite (config/rewrite.py refuses its unimplemented flags, maps and options) --
_add("mod_rewrite", Status.REFUSED, "removed in httpd 2.4 (mod_rewrite logs through the "
     "error log)", "remove the line; httpd 2.4 uses LogLevel rewrite:traceN",
     "RewriteLog", "RewriteLogLevel", "RewriteLock")
_add_module("mod_auth_digest", "AuthDigestProvider", "AuthDigestDomain",
            "AuthDigestEnableQueryStringHack")
_add("mod_auth_basic", Status.REFUSED, "only the 'file' provider (AuthBasicProvider file, "
     "AuthUserFile) and PythonAuthenHandler exist; non-authoritative fall-through to other "
     "providers is not implemented", "check other sources in a PythonAuthenHandler",
     "AuthAuthoritative", "AuthzUserAuthoritative")
_add("mod_auth_basic", Status.ACCEPTED, "PythonAuthenHandler runs before the file provider "
     "and either may authenticate the user: what Off's fall-through to mod_python gives "
     "(cobbler's and Trac's recipes set Off for this); with On httpd would answer 401 from "
     "the file without asking mod_python (docs/migration.md)", "", "AuthBasicAuthoritative")
_add("mod_alias", Status.REFUSED, "ScriptAlias runs CGI programs (mod_cgi); prefork-modpy runs "
     "no CGI programs, and mod_python.cgihandler runs Python scripts in the interpreter, "
     "which differs from a CGI process (environment, exit, stdin), so the mapping is refused "
     "rather than served differently", "use Alias with SetHandler mod_python and "
     "PythonHandler mod_python.cgihandler for Python CGI scripts", "ScriptAlias",
     "ScriptAliasMatch")
_add_module("mod_proxy", "ProxyPass", "ProxyPassReverse", "ProxyRequests", "ProxyPreserveHost",
            "ProxyStatus", "ProxyTimeout", "ProxyVia", "ProxyPassMatch", "BalancerMember")
_add_module("mod_wsgi", "WSGIScriptAlias", "WSGIScriptAliasMatch", "WSGIDaemonProcess",
            "WSGIProcessGroup", "WSGIApplicationGroup", "WSGIPassAuthorization",
            "WSGISocketPrefix", "WSGIPythonHome", "WSGIPythonPath", "WSGIRestrictStdout")
_add_module("mod_dav", "DAV", "DAVLockDB", "DAVMinTimeout", "DavDepthInfinity")
_add_module("mod_dav_svn", "SVNPath", "SVNParentPath", "SVNListParentPath", "SVNAutoversioning",
            "SVNIndexXSLT")
_add_module("mod_authz_svn", "AuthzSVNAccessFile")
_add_module("mod_auth_kerb", "KrbMethodNegotiate", "KrbMethodK5Passwd", "KrbServiceName",
            "KrbAuthRealm", "Krb5Keytab", "KrbSaveCredentials", "KrbAuthRealms")
_add_module("mod_authnz_ldap", "AuthLDAPURL", "AuthLDAPBindDN", "AuthLDAPBindPassword")
_add_module("mod_negotiation", "MultiviewsMatch")
_add_module("mod_userdir", "UserDir")
_add_module("mod_actions", "Action", "Script")
_add("mod_include", Status.REFUSED, "files are parsed by AddOutputFilter/SetOutputFilter "
     "INCLUDES only, not by their execute bit", "name the files .shtml and add "
     "`AddOutputFilter INCLUDES .shtml`", "XBitHack")
_add("mod_include", Status.REFUSED, "only ap_expr's syntax is read in #if expressions (httpd "
     "2.4's default)", "write the expressions in ap_expr syntax (v('name'), %{NAME}, ==, =~ /re/)",
     "SSILegacyExprParser")
_add("mod_include", Status.REFUSED, "the SSI start/end tags, messages and formats are "
     "httpd's defaults (a page sets errmsg/timefmt/sizefmt with `<!--#config -->`)",
     "use `<!--#config -->` in the page", "SSIStartTag", "SSIEndTag", "SSIErrorMsg",
     "SSITimeFormat", "SSIUndefinedEcho", "SSIETag", "SSILastModified")
_add("mod_remoteip", Status.REFUSED, "only RemoteIPHeader, RemoteIPInternalProxy and "
     "RemoteIPTrustedProxy (addresses, not host names) are implemented",
     "list the proxies' addresses on RemoteIPInternalProxy/RemoteIPTrustedProxy lines",
     "RemoteIPInternalProxyList", "RemoteIPTrustedProxyList", "RemoteIPProxiesHeader")
_add("mod_remoteip", Status.REFUSED, "the PROXY protocol is not spoken by prefork-modpy",
     "let the proxy in front send X-Forwarded-For instead", "RemoteIPProxyProtocol",
     "RemoteIPProxyProtocolExceptions")
_add("mod_python", Status.REFUSED, "mod_python 3.x's Apache 1.3 directive; Apache 2 and "
     "prefork-modpy load modules with LoadModule only", "remove the line", "AddModule",
     "ClearModuleList")


# Parsed, validated and stored on the model (the field named), but not yet applied by the
# request path; refused with this reason for the values that differ from what prefork-modpy
# does now (docs/directives.md lists which values are accepted today).
_WIRING = "prefork-modpy reads it but does not apply it to requests yet"
PENDING_FIELDS = {
    "LogLevel": "VirtualHost.log_level (per-module levels: LogLevel module:level)",
}
for _name, _field in PENDING_FIELDS.items():
    DIRECTIVES.setdefault(_name.lower(), DirectiveInfo(
        _name, "core", Status.PENDING, _WIRING, f"the follow-up wires {_field}"))


# Names from PENDING_FIELDS whose request side is wired: their values are then accepted.
WIRED: frozenset[str] = frozenset()


def pending(name: str, detail: str = "") -> str:
    """The refusal text for a directive whose value is stored but not applied yet."""
    field = PENDING_FIELDS[name]
    extra = f" ({detail})" if detail else ""
    return (f"{name}{extra}: {_WIRING}, so it is refused rather than ignored "
            f"(to be wired: {field})")


def directive_info(name: str) -> Optional[DirectiveInfo]:
    return DIRECTIVES.get(name.lower())


def render_markdown() -> str:
    """The docs/directives.md table of every directive this catalog knows."""
    lines = ["| directive | module | what prefork-modpy does | why / instead |",
             "|---|---|---|---|"]
    for info in sorted(DIRECTIVES.values(), key=lambda item: (item.module, item.name.lower())):
        why = f"{info.reason}; {info.instead}" if info.instead else info.reason
        lines.append(f"| `{info.name}` | {info.module} | {info.status.value} | {why} |")
    return "\n".join(lines) + "\n"
