"""ISSUE 14: mod_python's view of a TLS request (req.is_https, req.ssl_var_lookup, HTTPS and
REQUEST_SCHEME in subprocess_env, construct_url) from prefork-modpy (rust/tls.rs) and from
Apache + mod_ssl + mod_python, on the same config and the same certificates (made when this
module is imported, tests/support/certs.py), over TLS 1.2 and 1.3."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import tempfile
from pathlib import Path

import pytest

from tests.support.certs import make_ca, make_server

_work = Path(tempfile.mkdtemp(prefix="tls-compat-"))
try:
    _ca = make_ca(_work)
    _host = make_server(_work, _ca, "a.test")
    CA_PEM = _ca.cert.read_text()
    FILES = {"a.test.pem": _host.cert.read_text(), "a.test.key": _host.key.read_text(),
             "h.py": '''
from mod_python import apache

NAMES = ("HTTPS", "SSL_PROTOCOL", "SSL_CIPHER", "SSL_SERVER_S_DN", "SSL_TLS_SNI",
         "SSL_NO_SUCH_VARIABLE", "NOT_SSL_AT_ALL")

def handler(req):
    req.content_type = "text/plain"
    out = ["is_https=%r" % req.is_https()]
    out += ["%s=%r" % (name, req.ssl_var_lookup(name)) for name in NAMES]
    req.add_common_vars()
    out.append("env.HTTPS=%r" % req.subprocess_env.get("HTTPS"))
    out.append("REQUEST_SCHEME=%r" % req.subprocess_env.get("REQUEST_SCHEME"))
    out.append("url=%r" % req.construct_url("/x"))
    req.write("\\n".join(out) + "\\n")
    return apache.OK
'''}
finally:
    shutil.rmtree(_work, ignore_errors=True)

APACHE_MODULES = (("ssl_module", "mod_ssl.so"),)
FRAGMENT = """
SSLEngine on
SSLCertificateFile {root}/a.test.pem
SSLCertificateKeyFile {root}/a.test.key
<Location /h>
    SetHandler mod_python
    PythonHandler h
    PythonPath "sys.path + ['{root}']"
</Location>
"""


class SNIConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI name a.test (the compat sites' host)."""

    def __init__(self, port: int, ctx: ssl.SSLContext) -> None:
        super().__init__("127.0.0.1", port, context=ctx, timeout=20)

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock,  # type: ignore[attr-defined]
                                              server_hostname="a.test")


def _get(port: int, version: ssl.TLSVersion) -> str:
    ctx = ssl.create_default_context(cadata=CA_PEM)
    ctx.minimum_version = ctx.maximum_version = version
    conn = SNIConnection(port, ctx)
    try:
        conn.request("GET", "/h", headers={"Host": "a.test"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_ssl_variables_match_apache(pair, version) -> None:
    ours = _get(pair.modpy_port, version)
    theirs = _get(pair.apache.port, version)
    assert ours == theirs
    assert "is_https=1" in ours and "SSL_SERVER_S_DN='CN=a.test,O=Tests,C=US'" in ours


def test_plain_http_to_the_tls_port_matches_apache(pair) -> None:
    def status_line_and_reason(port: int) -> tuple[bytes, bool]:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /h HTTP/1.1\r\nHost: a.test\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.split(b"\r\n", 1)[0], b"speaking plain HTTP to an SSL-enabled" in data
    assert status_line_and_reason(pair.modpy_port) == status_line_and_reason(pair.apache.port)
