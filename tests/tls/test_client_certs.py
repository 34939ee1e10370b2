"""ISSUE 14: client certificates (SSLVerifyClient, SSLVerifyDepth, SSLCACertificateFile/Path),
mod_ssl's SSL_CLIENT_* variables and SSLOptions (+StdEnvVars, +ExportCertData,
+LegacyDNStringFormat), over Python `ssl` clients on TLS 1.2 and 1.3, with a CA, a client
certificate it signed and one from another CA, all made at test time."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest

from tests.support.certs import (
    Pair,
    make_ca,
    make_client,
    make_crl,
    make_intermediate,
    make_server,
)
from tests.support.site import config_test
from tests.tls.test_tls import https_get

HANDLER = '''
from mod_python import apache

NAMES = ("SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN", "SSL_CLIENT_I_DN", "SSL_CLIENT_S_DN_CN",
         "SSL_CLIENT_S_DN_O", "SSL_CLIENT_S_DN_Email", "SSL_CLIENT_I_DN_CN",
         "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_M_VERSION", "SSL_CLIENT_V_START",
         "SSL_CLIENT_V_END", "SSL_CLIENT_V_REMAIN", "SSL_CLIENT_A_SIG", "SSL_CLIENT_A_KEY",
         "SSL_SERVER_S_DN", "SSL_SERVER_I_DN", "SSL_SERVER_A_KEY", "SSL_SERVER_M_VERSION",
         "SSL_CLIENT_SAN_Email_1", "SSL_CLIENT_SAN_DNS_0", "SSL_SERVER_SAN_DNS_0")

def handler(req):
    req.content_type = "text/plain"
    if req.args == "env":
        for key in sorted(req.subprocess_env.keys()):
            if key.startswith("SSL_") or key == "HTTPS":
                req.write("%s=%s\\n" % (key, req.subprocess_env[key].replace("\\n", "|")))
        return apache.OK
    if req.args == "cert":
        req.write(req.ssl_var_lookup("SSL_CLIENT_CERT"))
        return apache.OK
    for name in NAMES:
        req.write("%s=%s\\n" % (name, req.ssl_var_lookup(name)))
    return apache.OK
'''


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    base = tmp_path_factory.mktemp("pki")
    ca = make_ca(base)
    other = make_ca(base / "other", "another CA")
    middle = make_intermediate(base / "middle", ca)
    deep = make_client(base / "middle", middle, "deep")
    # the client sends its certificate and the intermediate's (SSL_CLIENT_CERT_CHAIN_0)
    deep.cert.write_text(deep.cert.read_text() + middle.cert.read_text())
    return {"ca": ca, "a.test": make_server(base, ca, "a.test"),
            "client": make_client(base, ca), "deep": deep,
            "stranger": make_client(base / "other", other, "stranger")}


def config(pki: dict[str, Pair], host: str = "", location: str = "") -> str:
    a, ca = pki["a.test"], pki["ca"]
    return f"""
ServerName a.test
<VirtualHost 127.0.0.1:{{port}}>
    ServerName a.test
    SSLEngine on
    SSLCertificateFile {a.cert}
    SSLCertificateKeyFile {a.key}
    SSLCACertificateFile {ca.cert}
    {host}
    <Location /h>
        SetHandler mod_python
        PythonHandler h
        PythonPath "sys.path + ['{{root}}']"
        {location}
    </Location>
</VirtualHost>
"""


def client_ctx(pki: dict[str, Pair], who: str | None = None,
               version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki["ca"].cert))
    if who is not None:
        ctx.load_cert_chain(str(pki[who].cert), str(pki[who].key))
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def fields(body: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in body.decode().splitlines())


def alert_of(port: int, ctx: ssl.SSLContext) -> str:
    """The TLS alert (OpenSSL's reason) a request without an accepted certificate meets."""
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)) as caught:
        status, _, _ = https_get(port, ctx, "/h")
        pytest.fail(f"answered {status}")
    return str(caught.value)


VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


@pytest.mark.parametrize("version", VERSIONS)
def test_require_accepts_the_cas_client_and_gives_its_variables(site, pki, version) -> None:
    server = site(config(pki, "SSLVerifyClient require"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "client", version), "/h")
    assert status == 200, body
    got = fields(body)
    assert got["SSL_CLIENT_VERIFY"] == "SUCCESS"
    assert got["SSL_CLIENT_S_DN"] == ("emailAddress=alice@a.test,CN=alice,OU=Clients,"
                                      "O=Tests\\, Inc.,ST=Berlin,C=DE")
    assert got["SSL_CLIENT_I_DN"] == "CN=prefork-modpy test CA,O=prefork-modpy tests"
    assert got["SSL_CLIENT_S_DN_CN"] == "alice"
    assert got["SSL_CLIENT_S_DN_O"] == "Tests, Inc."
    assert got["SSL_CLIENT_S_DN_Email"] == "alice@a.test"
    assert got["SSL_CLIENT_M_VERSION"] == "3"
    assert got["SSL_CLIENT_A_KEY"] == "rsaEncryption"
    assert got["SSL_CLIENT_A_SIG"] == "ecdsa-with-SHA256"
    assert got["SSL_CLIENT_V_REMAIN"] == "2"
    assert got["SSL_CLIENT_V_END"].endswith(" GMT")
    assert got["SSL_SERVER_S_DN"] == "CN=a.test,O=Tests,C=US"
    assert got["SSL_SERVER_A_KEY"] == "id-ecPublicKey"
    assert (got["SSL_CLIENT_SAN_Email_1"], got["SSL_CLIENT_SAN_DNS_0"],
            got["SSL_SERVER_SAN_DNS_0"]) == ("al@a.test", "alice.a.test", "a.test")
    serial = ssl._ssl._test_decode_cert(str(pki["client"].cert))["serialNumber"]  # type: ignore[attr-defined]
    assert got["SSL_CLIENT_M_SERIAL"] == serial.upper().lstrip("0").rjust(
        len(serial.upper().lstrip("0")) + len(serial.upper().lstrip("0")) % 2, "0")
    not_after = ssl._ssl._test_decode_cert(str(pki["client"].cert))["notAfter"]  # type: ignore[attr-defined]
    assert got["SSL_CLIENT_V_END"] == not_after


@pytest.mark.parametrize("version", VERSIONS)
def test_require_ends_the_handshake_without_or_with_a_foreign_certificate(
        site, pki, version) -> None:
    server = site(config(pki, "SSLVerifyClient require"), {"h.py": HANDLER})
    missing = alert_of(server.port, client_ctx(pki, None, version))
    foreign = alert_of(server.port, client_ctx(pki, "stranger", version))
    # rustls sends certificate_required (116) on both versions (OpenSSL: handshake_failure
    # on TLS 1.2; tests/compat/test_tls_require_compat.py)
    assert "CERTIFICATE_REQUIRED" in missing.upper(), missing
    assert "UNKNOWN_CA" in foreign.upper(), foreign


def test_optional_lets_a_client_without_certificate_in(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient optional"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki), "/h")
    assert status == 200 and fields(body)["SSL_CLIENT_VERIFY"] == "NONE"
    assert fields(body)["SSL_CLIENT_S_DN"] == ""
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert fields(body)["SSL_CLIENT_VERIFY"] == "SUCCESS"
    assert "UNKNOWN_CA" in alert_of(server.port, client_ctx(pki, "stranger")).upper()


def test_optional_no_ca_lets_a_foreign_certificate_in_as_generous(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient optional_no_ca"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "stranger"), "/h")
    assert status == 200
    got = fields(body)
    assert got["SSL_CLIENT_VERIFY"] == "GENEROUS"
    assert got["SSL_CLIENT_I_DN_CN"] == "another CA"
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert fields(body)["SSL_CLIENT_VERIFY"] == "SUCCESS"


@pytest.mark.parametrize("version", VERSIONS)
def test_per_location_require_is_403_without_a_certificate(site, pki, version) -> None:
    server = site(config(pki, "", "SSLVerifyClient require"), {"h.py": HANDLER,
                                                                "index.html": "open\n"})
    status, _, _ = https_get(server.port, client_ctx(pki, None, version), "/index.html")
    assert status == 200  # outside the location: no certificate needed
    status, _, _ = https_get(server.port, client_ctx(pki, None, version), "/h")
    assert status == 403
    status, body, _ = https_get(server.port, client_ctx(pki, "client", version), "/h")
    assert status == 200 and fields(body)["SSL_CLIENT_VERIFY"] == "SUCCESS"


def test_verify_depth_zero_refuses_a_ca_signed_client(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient require\n    SSLVerifyDepth 0"),
                  {"h.py": HANDLER})
    alert_of(server.port, client_ctx(pki, "client"))


def test_ca_certificate_path_reads_a_directory(site, pki, tmp_path: Path) -> None:
    cas = tmp_path / "cas"
    cas.mkdir()
    (cas / "ours.pem").write_bytes(pki["ca"].cert.read_bytes())
    host = f"SSLCACertificatePath {cas}\n    SSLVerifyClient require"
    text = config(pki, host).replace(f"SSLCACertificateFile {pki['ca'].cert}", "")
    server = site(text, {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert status == 200 and fields(body)["SSL_CLIENT_VERIFY"] == "SUCCESS"


def test_std_env_vars_and_export_cert_data_per_directory(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient require",
                         "SSLOptions +StdEnvVars +ExportCertData"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h?env")
    env = fields(body)
    assert env["HTTPS"] == "on" and env["SSL_CLIENT_VERIFY"] == "SUCCESS"
    assert env["SSL_CLIENT_S_DN_CN"] == "alice" and env["SSL_SERVER_S_DN_CN"] == "a.test"
    assert env["SSL_CLIENT_CERT"].startswith("-----BEGIN CERTIFICATE-----|")
    assert env["SSL_SERVER_CERT"].startswith("-----BEGIN CERTIFICATE-----|")
    assert env["SSL_PROTOCOL"] in ("TLSv1.2", "TLSv1.3")
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h?cert")
    assert ssl.PEM_cert_to_DER_cert(body.decode()) == ssl.PEM_cert_to_DER_cert(
        pki["client"].cert.read_text())


def test_without_std_env_vars_no_ssl_variable_is_set(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient require"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h?env")
    # mod_ssl's fixup sets HTTPS and SSL_TLS_SNI whatever SSLOptions say
    assert fields(body) == {"HTTPS": "on", "SSL_TLS_SNI": "a.test"}, body


def test_legacy_dn_string_format(site, pki) -> None:
    server = site(config(pki, "SSLVerifyClient require", "SSLOptions +LegacyDNStringFormat"),
                  {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert fields(body)["SSL_CLIENT_S_DN"] == (
        "/C=DE/ST=Berlin/O=Tests, Inc./OU=Clients/CN=alice/emailAddress=alice@a.test")


def _plain_status(port: int, path: str, user: str | None = None) -> int:
    import base64
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": "a.test"}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    conn.request("GET", path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.parametrize("strict", [False, True])
def test_ssl_require_ssl_under_satisfy_any_and_strict_require(site, pki, strict) -> None:
    """SSLRequireSSL is one access checker: under Satisfy Any a user who authenticates gets
    in over plain HTTP, with or without SSLOptions +StrictRequire, as on httpd 2.4
    (tests/compat/test_ssl_require_compat.py); StrictRequire is said in a warning."""
    import base64
    import hashlib

    sha = base64.b64encode(hashlib.sha1(b"secret").digest()).decode()
    option = "SSLOptions +StrictRequire" if strict else ""
    server = site(f"""
ServerName a.test
<Location /private>
    SSLRequireSSL
    {option}
    Satisfy Any
    Order allow,deny
    Allow from 192.0.2.1
    AuthType Basic
    AuthName "area"
    AuthUserFile {{root}}/users
    Require valid-user
</Location>
""", {"private/x.txt": "hidden\n", "users": f"bob:{{SHA}}{sha}\n"})
    assert _plain_status(server.port, "/private/x.txt") == 401
    assert _plain_status(server.port, "/private/x.txt", "bob:wrong") == 401
    assert _plain_status(server.port, "/private/x.txt", "bob:secret") == 200
    assert ("StrictRequire does not forbid" in server.errors()) is strict


def test_fake_basic_auth_logs_the_certificate_in(site, pki) -> None:
    """SSLOptions +FakeBasicAuth: the subject (X509_NAME_oneline form) with the password
    "password" goes to AuthUserFile; a client posing as one is refused (403)."""
    import base64
    import hashlib

    sha = base64.b64encode(hashlib.sha1(b"password").digest()).decode()
    subject = "/C=DE/ST=Berlin/O=Tests, Inc./OU=Clients/CN=alice/emailAddress=alice@a.test"
    location = ('SSLOptions +FakeBasicAuth\n        AuthType Basic\n        AuthName "c"\n'
                "        AuthUserFile {root}/users\n        Require valid-user")
    server = site(config(pki, "SSLVerifyClient optional", location),
                  {"h.py": HANDLER, "users": f"{subject}:{{SHA}}{sha}\n"})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert status == 200 and fields(body)["SSL_CLIENT_S_DN_CN"] == "alice"
    assert "Faking HTTP Basic Auth header" in server.errors()
    status, _, _ = https_get(server.port, client_ctx(pki), "/h")
    assert status == 401


def test_require_ssl_and_ssl_verify_client(site, pki) -> None:
    """mod_ssl's authz providers: `Require ssl-verify-client` grants a verified certificate
    only (not a GENEROUS one); `Require ssl` any TLS request."""
    server = site(config(pki, "SSLVerifyClient optional_no_ca", "Require ssl-verify-client"),
                  {"h.py": HANDLER})
    assert https_get(server.port, client_ctx(pki, "client"), "/h")[0] == 200
    assert https_get(server.port, client_ctx(pki, "stranger"), "/h")[0] == 403
    assert https_get(server.port, client_ctx(pki), "/h")[0] == 403
    plain = site("""
ServerName a.test
<Location /tls-only>
    Require ssl
</Location>
""", {"tls-only/x.txt": "x\n"})
    assert _plain_status(plain.port, "/tls-only/x.txt") == 403


def test_verify_depth_counts_the_intermediate(site, pki) -> None:
    """SSLVerifyDepth 1 (the default) refuses a client whose CA is an intermediate; 2
    accepts it, and the intermediate is SSL_CLIENT_CERT_CHAIN_0."""
    refusing = site(config(pki, "SSLVerifyClient require"), {"h.py": HANDLER})
    alert_of(refusing.port, client_ctx(pki, "deep"))
    server = site(config(pki, "SSLVerifyClient require\n    SSLVerifyDepth 2",
                         "SSLOptions +StdEnvVars +ExportCertData"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, "deep"), "/h?env")
    env = fields(body)
    assert status == 200 and env["SSL_CLIENT_VERIFY"] == "SUCCESS"
    assert env["SSL_CLIENT_CERT_CHAIN_0"].startswith("-----BEGIN CERTIFICATE-----|")


def test_optional_no_ca_does_not_forgive_a_path_too_long(site, pki) -> None:
    """ssl_verify_error_is_optional covers an unknown issuer only: a path longer than
    SSLVerifyDepth still ends the handshake under optional_no_ca."""
    server = site(config(pki, "SSLVerifyClient optional_no_ca"), {"h.py": HANDLER})
    assert "CERTIFICATE_UNKNOWN" in alert_of(server.port, client_ctx(pki, "deep")).upper()


def test_per_location_verify_depth(site, pki) -> None:
    """SSLVerifyDepth in a <Location>: the handshake verifies to the deepest one and each
    place holds its own (httpd renegotiates; here 403 where the path is too long)."""
    text = config(pki, "SSLVerifyClient require", "SSLVerifyDepth 2")
    server = site(text, {"h.py": HANDLER, "index.html": "open\n"})
    assert https_get(server.port, client_ctx(pki, "deep"), "/h")[0] == 200
    assert https_get(server.port, client_ctx(pki, "deep"), "/index.html")[0] == 403
    assert https_get(server.port, client_ctx(pki, "client"), "/index.html")[0] == 200
    assert "Certificate Chain too long" in server.errors()


def test_session_variables(site, pki) -> None:
    server = site(config(pki, "", "SSLOptions +StdEnvVars"), {"h.py": HANDLER})
    status, body, _ = https_get(server.port, client_ctx(pki, None, ssl.TLSVersion.TLSv1_2),
                                "/h?env")
    env = fields(body)
    assert env["SSL_SESSION_RESUMED"] == "Initial" and env["SSL_COMPRESS_METHOD"] == "NULL"
    assert env["SSL_CIPHER_USEKEYSIZE"] in ("128", "256") and env["SSL_SECURE_RENEG"] == "true"


def test_hosts_of_one_address_must_verify_alike(tmp_path: Path, pki) -> None:

    a, ca = pki["a.test"], pki["ca"]
    conf = tmp_path / "site.conf"
    conf.write_text(f"""Listen 127.0.0.1:1
<VirtualHost 127.0.0.1:1>
    ServerName a.test
    SSLEngine on
    SSLCertificateFile {a.cert}
    SSLCertificateKeyFile {a.key}
    SSLCACertificateFile {ca.cert}
    SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:1>
    ServerName b.test
    SSLEngine on
    SSLCertificateFile {a.cert}
    SSLCertificateKeyFile {a.key}
</VirtualHost>
""")
    out = config_test(conf)
    assert out.returncode == 1
    assert f"{conf}:8: the hosts of 127.0.0.1:1 differ in SSLVerifyClient" in out.stderr, \
        out.stderr


def test_htaccess_require_without_a_handshake_request_is_403(site, pki) -> None:
    """.htaccess is read per request, after the handshake: a `SSLVerifyClient require`
    there cannot have been asked for, so it is 403 (never served without the check)."""
    text = config(pki).replace("<Location /h>", "<Directory {root}>\n        AllowOverride "
                               "AuthConfig\n    </Directory>\n    <Location /h>")
    server = site(text, {"h.py": HANDLER, "locked/.htaccess": "SSLVerifyClient require\n",
                         "locked/x.txt": "x\n", "open.txt": "o\n"})
    assert https_get(server.port, client_ctx(pki, "client"), "/open.txt")[0] == 200
    assert https_get(server.port, client_ctx(pki, "client"), "/locked/x.txt")[0] == 403


def test_a_ca_file_without_certificates_names_its_line(tmp_path: Path, pki) -> None:

    a = pki["a.test"]
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:1\nSSLEngine on\nSSLCertificateFile {a.cert}\n"
                    f"SSLCertificateKeyFile {a.key}\nSSLCACertificateFile {empty}\n"
                    "SSLVerifyClient require\n")
    out = config_test(conf)
    assert out.returncode == 1
    assert f"{conf}:6: " in out.stderr and f"{empty} holds no PEM certificate" in out.stderr, \
        out.stderr


def test_a_resumed_session_keeps_its_client_certificate(site, pki) -> None:
    """A session resumed from a ticket still carries the certificate the full handshake
    verified (SSL_CLIENT_VERIFY SUCCESS, the subject), and SSL_SESSION_RESUMED says so."""
    import socket

    server = site(config(pki, "SSLVerifyClient require", "SSLOptions +StdEnvVars"),
                  {"h.py": HANDLER}, workers=1)
    ctx = client_ctx(pki, "client", ssl.TLSVersion.TLSv1_2)

    def env_over(session: ssl.SSLSession | None) -> tuple[dict[str, str], ssl.SSLSession]:
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with ctx.wrap_socket(raw, server_hostname="a.test", session=session) as sock:
            sock.sendall(b"GET /h?env HTTP/1.0\r\nHost: a.test\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return fields(data.split(b"\r\n\r\n", 1)[1]), sock.session
    first, session = env_over(None)
    again, _ = env_over(session)
    assert first["SSL_SESSION_RESUMED"] == "Initial"
    assert again["SSL_SESSION_RESUMED"] == "Resumed"
    assert again["SSL_CLIENT_VERIFY"] == "SUCCESS"
    assert again["SSL_CLIENT_S_DN_CN"] == "alice"


WSGI_APP = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    names = ("wsgi.url_scheme", "HTTPS", "SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN_CN")
    return ["".join("%s=%s\\n" % (name, environ.get(name)) for name in names).encode()]
'''


def test_std_env_vars_reach_a_wsgi_application(site, pki) -> None:
    location = ("SSLOptions +StdEnvVars\n        PythonOption mod_python.wsgi.application "
                "{root}/app.wsgi")
    text = config(pki, "SSLVerifyClient require", location).replace(
        "PythonHandler h", "PythonHandler mod_python.wsgi")
    server = site(text, {"h.py": HANDLER, "app.wsgi": WSGI_APP})
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert status == 200, body
    assert fields(body) == {"wsgi.url_scheme": "https", "HTTPS": "on",
                            "SSL_CLIENT_VERIFY": "SUCCESS", "SSL_CLIENT_S_DN_CN": "alice"}


@pytest.mark.parametrize("flag", ["--tlsv1.2 --tls-max 1.2", "--tlsv1.3"])
def test_curl_with_and_without_a_client_certificate(site, pki, flag: str) -> None:
    import subprocess

    server = site(config(pki, "SSLVerifyClient require"), {"h.py": HANDLER})

    def curl(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["curl", "-sS", *flag.split(), *extra, "--cacert", str(pki["ca"].cert),
             "--resolve", f"a.test:{server.port}:127.0.0.1", "-w", "\n%{http_code}",
             f"https://a.test:{server.port}/h"], capture_output=True, text=True, timeout=30)
    accepted = curl("--cert", str(pki["client"].cert), "--key", str(pki["client"].key))
    assert accepted.returncode == 0, accepted.stderr
    *lines, last = accepted.stdout.splitlines()
    assert last == "200" and "SSL_CLIENT_S_DN_CN=alice" in lines
    refused = curl()
    assert refused.returncode != 0
    assert "alert" in refused.stderr.lower() or "certificate" in refused.stderr.lower(), \
        refused.stderr


@pytest.fixture(scope="module")
def crl(pki: dict[str, Pair], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("crl")
    victim = make_client(base, pki["ca"], "victim")
    return {"crl": make_crl(base, pki["ca"], [victim]), "victim_cert": victim.cert,
            "victim_key": victim.key}


def _victim_ctx(pki: dict[str, Pair], crl: dict[str, Path]) -> ssl.SSLContext:
    ctx = client_ctx(pki)
    ctx.load_cert_chain(str(crl["victim_cert"]), str(crl["victim_key"]))
    return ctx


@pytest.mark.parametrize("check", ["chain", "leaf"])
def test_a_revoked_client_certificate_ends_the_handshake(site, pki, crl, check) -> None:
    host = (f"SSLVerifyClient require\n    SSLCARevocationFile {crl['crl']}\n"
            f"    SSLCARevocationCheck {check}")
    server = site(config(pki, host), {"h.py": HANDLER})
    assert "CERTIFICATE_REVOKED" in alert_of(server.port, _victim_ctx(pki, crl)).upper()
    status, body, _ = https_get(server.port, client_ctx(pki, "client"), "/h")
    assert status == 200 and fields(body)["SSL_CLIENT_VERIFY"] == "SUCCESS"


def test_crls_are_read_only_when_revocation_check_asks(site, pki, crl) -> None:
    """httpd 2.4's SSLCARevocationCheck defaults to none: a CRL file alone checks nothing."""
    host = f"SSLVerifyClient require\n    SSLCARevocationFile {crl['crl']}"
    server = site(config(pki, host), {"h.py": HANDLER})
    assert https_get(server.port, _victim_ctx(pki, crl), "/h")[0] == 200


def test_chain_check_needs_a_crl_for_every_ca_unless_no_crl_for_cert_ok(site, pki,
                                                                        crl) -> None:
    """The intermediate has no CRL: `chain` refuses its client; no_crl_for_cert_ok lets it
    in (X509_V_ERR_UNABLE_TO_GET_CRL forgiven)."""
    host = (f"SSLVerifyClient require\n    SSLVerifyDepth 2\n"
            f"    SSLCARevocationFile {crl['crl']}\n    SSLCARevocationCheck chain")
    strict = site(config(pki, host), {"h.py": HANDLER})
    alert_of(strict.port, client_ctx(pki, "deep"))
    lenient = site(config(pki, host + " no_crl_for_cert_ok"), {"h.py": HANDLER})
    assert https_get(lenient.port, client_ctx(pki, "deep"), "/h")[0] == 200
    assert "CERTIFICATE_REVOKED" in alert_of(lenient.port, _victim_ctx(pki, crl)).upper()


def test_revocation_check_without_a_crl_names_its_line(tmp_path: Path, pki) -> None:

    a, ca = pki["a.test"], pki["ca"]
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:1\nSSLEngine on\nSSLCertificateFile {a.cert}\n"
                    f"SSLCertificateKeyFile {a.key}\nSSLCACertificateFile {ca.cert}\n"
                    "SSLVerifyClient require\nSSLCARevocationCheck chain\n")
    out = config_test(conf)
    assert out.returncode == 1
    assert f"{conf}:7: CRL checking has been enabled, but neither" in out.stderr, out.stderr


def test_remain_counts_whole_days() -> None:
    from prefork_modpy.httpd import sslcert
    assert sslcert.days_remaining(10 * 86400, now=0) == "10"
    assert sslcert.days_remaining(10 * 86400 - 5, now=0) == "10"
    assert sslcert.days_remaining(0, now=time.time()) == "0"
    assert sslcert.asn1_time(1798761600) == "Jan  1 00:00:00 2027 GMT"
