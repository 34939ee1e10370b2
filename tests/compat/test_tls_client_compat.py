"""ISSUE 14: client certificates on prefork-modpy (rust/tls.rs) and on Apache + mod_ssl +
mod_python, same config and certificates (made when this module is imported): the
SSL_CLIENT_* variables through req.ssl_var_lookup, SSLOptions +StdEnvVars in
subprocess_env, and a per-location `SSLVerifyClient require` without a certificate."""

from __future__ import annotations

import base64
import hashlib
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Optional

import pytest

from tests.support.certs import make_ca, make_client, make_intermediate, make_server

from .test_tls_compat import SNIConnection

_work = Path(tempfile.mkdtemp(prefix="tls-client-compat-"))
try:
    _ca = make_ca(_work)
    _host = make_server(_work, _ca, "a.test")
    _client = make_client(_work, _ca)
    _other = make_ca(_work / "other", "another CA")
    _stranger = make_client(_work / "other", _other, "stranger")
    CA_PEM = _ca.cert.read_text()
    _middle = make_intermediate(_work / "middle", _ca)
    _deep = make_client(_work / "middle", _middle, "deep")
    DEEP = (_deep.cert.read_text() + _middle.cert.read_text(), _deep.key.read_text())
    # FakeBasicAuth's user: the subject in X509_NAME_oneline's form, password "password".
    _PASSWORD = base64.b64encode(hashlib.sha1(b"password").digest()).decode()
    USERS = ("/C=DE/ST=Berlin/O=Tests, Inc./OU=Clients/CN=alice/emailAddress=alice@a.test:"
             f"{{SHA}}{_PASSWORD}\n")
    CLIENT = (_client.cert.read_text(), _client.key.read_text())
    STRANGER = (_stranger.cert.read_text(), _stranger.key.read_text())
    FILES = {"a.test.pem": _host.cert.read_text(), "a.test.key": _host.key.read_text(),
             "ca.pem": CA_PEM, "users": USERS, "h.py": '''
from mod_python import apache

NAMES = ("SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN", "SSL_CLIENT_I_DN", "SSL_CLIENT_S_DN_CN",
         "SSL_CLIENT_S_DN_O", "SSL_CLIENT_S_DN_OU", "SSL_CLIENT_S_DN_C", "SSL_CLIENT_S_DN_ST",
         "SSL_CLIENT_S_DN_Email", "SSL_CLIENT_I_DN_CN", "SSL_CLIENT_I_DN_O",
         "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_M_VERSION", "SSL_CLIENT_V_START",
         "SSL_CLIENT_V_END", "SSL_CLIENT_V_REMAIN", "SSL_CLIENT_A_SIG", "SSL_CLIENT_A_KEY",
         "SSL_CLIENT_CERT", "SSL_CLIENT_CERT_CHAIN_0", "SSL_SERVER_I_DN",
         "SSL_SERVER_M_VERSION", "SSL_SERVER_A_KEY", "SSL_SERVER_A_SIG", "SSL_SERVER_CERT",
         "SSL_SECURE_RENEG", "SSL_COMPRESS_METHOD", "SSL_CIPHER_EXPORT",
         "SSL_CIPHER_USEKEYSIZE", "SSL_CIPHER_ALGKEYSIZE", "SSL_SESSION_RESUMED",
         "SSL_CLIENT_SAN_Email_0", "SSL_CLIENT_SAN_Email_1", "SSL_CLIENT_SAN_Email_2",
         "SSL_CLIENT_SAN_DNS_0", "SSL_SERVER_SAN_DNS_0", "SSL_CLIENT_SAN_DNS_x")
ENV = ("HTTPS", "SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN", "SSL_CLIENT_S_DN_CN",
       "SSL_CLIENT_I_DN_O", "SSL_SERVER_S_DN_CN", "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_V_END",
       "SSL_CLIENT_CERT", "SSL_CLIENT_A_KEY", "SSL_TLS_SNI", "SSL_CLIENT_V_REMAIN",
       "SSL_CLIENT_SAN_Email_0", "SSL_CLIENT_SAN_Email_1", "SSL_CLIENT_SAN_DNS_0",
       "SSL_SERVER_SAN_DNS_0", "SSL_CLIENT_S_DN_Email")

def handler(req):
    req.content_type = "text/plain"
    out = ["%s=%r" % (name, req.ssl_var_lookup(name)) for name in NAMES]
    out.append("user=%r" % req.user)
    if req.uri.startswith("/env") or req.args == "env":
        out += ["env.%s=%r" % (name, req.subprocess_env.get(name)) for name in ENV]
    req.write("\\n".join(out) + "\\n")
    return apache.OK
'''}
finally:
    shutil.rmtree(_work, ignore_errors=True)

APACHE_MODULES = (("ssl_module", "mod_ssl.so"), ("auth_basic_module", "mod_auth_basic.so"),
                  ("authn_core_module", "mod_authn_core.so"),
                  ("authn_file_module", "mod_authn_file.so"))
APACHE_MODULES_BEFORE_PYTHON = (("authz_user_module", "mod_authz_user.so"),)
FRAGMENT = """
SSLEngine on
SSLCertificateFile {root}/a.test.pem
SSLCertificateKeyFile {root}/a.test.key
SSLCACertificateFile {root}/ca.pem
SSLVerifyClient optional
<Location />
    SetHandler mod_python
    PythonHandler h
    PythonPath "sys.path + ['{root}']"
</Location>
<Location /env>
    SSLOptions +StdEnvVars +ExportCertData
</Location>
<Location /strict>
    SSLVerifyClient require
</Location>
<Location /env-two>
    SSLOptions StdEnvVars ExportCertData
</Location>
<Location /named>
    SSLUserName SSL_CLIENT_S_DN_CN
</Location>
<Location /verified>
    Require ssl-verify-client
</Location>
<Location /fake>
    SSLOptions +FakeBasicAuth
    AuthType Basic
    AuthName "certificates"
    AuthUserFile {root}/users
    Require valid-user
</Location>
"""


def _context(version: ssl.TLSVersion, who: Optional[tuple[str, str]],
             tmp: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=CA_PEM)
    ctx.minimum_version = ctx.maximum_version = version
    if who is not None:
        (tmp / "c.pem").write_text(who[0])
        (tmp / "c.key").write_text(who[1])
        ctx.load_cert_chain(str(tmp / "c.pem"), str(tmp / "c.key"))
    return ctx


def _get(port: int, ctx: ssl.SSLContext, path: str,
         authorization: Optional[str] = None) -> tuple[int, str]:
    conn = SNIConnection(port, ctx)
    headers = {"Host": "a.test"}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("latin-1")
    finally:
        conn.close()


VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", ["/h", "/env", "/h?env", "/env-two"])
def test_client_variables_match_apache(pair, version, path, tmp_path: Path) -> None:
    ctx = _context(version, CLIENT, tmp_path)
    ours, theirs = _get(pair.modpy_port, ctx, path), _get(pair.apache.port, ctx, path)
    assert ours[0] == theirs[0]
    assert [line for line in ours[1].splitlines() if line not in theirs[1].splitlines()] == \
        [line for line in theirs[1].splitlines() if line not in ours[1].splitlines()]
    assert "SSL_CLIENT_VERIFY='SUCCESS'" in ours[1]


@pytest.mark.parametrize("version", VERSIONS)
def test_no_client_certificate_matches_apache(pair, version, tmp_path: Path) -> None:
    ctx = _context(version, None, tmp_path)
    ours, theirs = _get(pair.modpy_port, ctx, "/env"), _get(pair.apache.port, ctx, "/env")
    assert ours[0] == theirs[0]
    assert [line for line in ours[1].splitlines() if line not in theirs[1].splitlines()] == \
        [line for line in theirs[1].splitlines() if line not in ours[1].splitlines()]
    assert "SSL_CLIENT_VERIFY='NONE'" in ours[1]


def test_per_location_require_without_certificate_over_tls13_is_403_on_both(
        pair, tmp_path: Path) -> None:
    """Apache asks by post-handshake authentication, which the client does not offer."""
    ctx = _context(ssl.TLSVersion.TLSv1_3, None, tmp_path)
    assert _get(pair.modpy_port, ctx, "/strict")[0] == 403
    assert _get(pair.apache.port, ctx, "/strict")[0] == 403


def test_per_location_require_without_certificate_over_tls12(pair, tmp_path: Path) -> None:
    """The documented difference (docs/migration.md): Apache renegotiates, and the client's
    empty answer ends the connection with a handshake_failure alert; prefork-modpy asked
    during the handshake already and answers 403."""
    ctx = _context(ssl.TLSVersion.TLSv1_2, None, tmp_path)
    assert _get(pair.modpy_port, ctx, "/strict")[0] == 403
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        _get(pair.apache.port, ctx, "/strict")


@pytest.mark.parametrize("version", VERSIONS)
def test_an_untrusted_certificate_ends_the_handshake_on_both(pair, version,
                                                            tmp_path: Path) -> None:
    ctx = _context(version, STRANGER, tmp_path)
    reasons = []
    for port in (pair.modpy_port, pair.apache.port):
        with pytest.raises((ssl.SSLError, ConnectionError)) as caught:
            _get(port, ctx, "/h")
        reasons.append(str(caught.value))
    assert all("UNKNOWN_CA" in reason.upper() for reason in reasons), reasons


@pytest.mark.parametrize("version", VERSIONS)
def test_fake_basic_auth_matches_apache(pair, version, tmp_path: Path) -> None:
    """SSLOptions +FakeBasicAuth: the certificate's subject logs in through AuthUserFile."""
    ctx = _context(version, CLIENT, tmp_path)
    ours, theirs = _get(pair.modpy_port, ctx, "/fake"), _get(pair.apache.port, ctx, "/fake")
    assert ours == theirs
    assert ours[0] == 200 and "user='/C=DE/ST=Berlin/O=Tests, Inc." in ours[1]


def test_fake_basic_auth_without_certificate_and_a_spoof_match_apache(pair,
                                                                      tmp_path: Path) -> None:
    ctx = _context(ssl.TLSVersion.TLSv1_3, None, tmp_path)
    assert _get(pair.modpy_port, ctx, "/fake")[0] == _get(pair.apache.port, ctx,
                                                          "/fake")[0] == 401
    spoof = "Basic " + base64.b64encode(b"/C=DE/CN=alice:password").decode()
    assert _get(pair.modpy_port, ctx, "/fake", spoof)[0] == \
        _get(pair.apache.port, ctx, "/fake", spoof)[0] == 403


@pytest.mark.parametrize("who", ["client", None])
def test_require_ssl_verify_client_matches_apache(pair, who, tmp_path: Path) -> None:
    ctx = _context(ssl.TLSVersion.TLSv1_3, CLIENT if who else None, tmp_path)
    ours = _get(pair.modpy_port, ctx, "/verified")[0]
    assert ours == _get(pair.apache.port, ctx, "/verified")[0] == (200 if who else 403)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_path_longer_than_verify_depth_ends_the_handshake_on_both(pair, version,
                                                                    tmp_path: Path) -> None:
    """SSLVerifyDepth 1 (the default) and a client certificate issued by an intermediate:
    OpenSSL sends internal_error (80), rustls certificate_unknown (46), a documented
    difference (docs/migration.md)."""
    ctx = _context(version, DEEP, tmp_path)
    reasons = []
    for port in (pair.modpy_port, pair.apache.port):
        with pytest.raises(ssl.SSLError) as caught:
            _get(port, ctx, "/h")
        reasons.append(str(caught.value))
    assert "ALERT_CERTIFICATE_UNKNOWN" in reasons[0], reasons
    assert "ALERT_INTERNAL_ERROR" in reasons[1], reasons


@pytest.mark.parametrize("who", ["client", None])
def test_ssl_user_name_matches_apache(pair, who, tmp_path: Path) -> None:
    ctx = _context(ssl.TLSVersion.TLSv1_3, CLIENT if who else None, tmp_path)
    ours, theirs = _get(pair.modpy_port, ctx, "/named"), _get(pair.apache.port, ctx, "/named")
    assert ours == theirs
    assert ("user='alice'" if who else "user=None") in ours[1]
