"""ISSUE 14: SSLCARevocationCheck chain with a CRL, prefork-modpy (rustls) beside Apache +
mod_ssl (OpenSSL): a revoked client certificate ends the handshake on both, with the same
alert; a certificate the CRL does not list gets in (certificates and CRL made at import)."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path

import pytest

from tests.compat import test_tls_client_compat as base
from tests.support.certs import make_ca, make_client, make_crl, make_server

_work = Path(tempfile.mkdtemp(prefix="tls-crl-compat-"))
try:
    _ca = make_ca(_work)
    _host = make_server(_work, _ca, "a.test")
    _good = make_client(_work, _ca, "good")
    _victim = make_client(_work, _ca, "victim")
    CA_PEM = _ca.cert.read_text()
    GOOD = (_good.cert.read_text(), _good.key.read_text())
    VICTIM = (_victim.cert.read_text(), _victim.key.read_text())
    FILES = {"a.test.pem": _host.cert.read_text(), "a.test.key": _host.key.read_text(),
             "ca.pem": CA_PEM, "crl.pem": make_crl(_work, _ca, [_victim]).read_text(),
             "h.py": base.FILES["h.py"], "users": base.FILES["users"]}
finally:
    shutil.rmtree(_work, ignore_errors=True)

APACHE_MODULES = base.APACHE_MODULES
APACHE_MODULES_BEFORE_PYTHON = base.APACHE_MODULES_BEFORE_PYTHON
FRAGMENT = base.FRAGMENT.replace("SSLVerifyClient optional\n", """SSLVerifyClient require
SSLCARevocationFile {root}/crl.pem
SSLCARevocationCheck chain
""", 1)


def _context(version: ssl.TLSVersion, who: tuple[str, str], tmp: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=CA_PEM)
    ctx.minimum_version = ctx.maximum_version = version
    (tmp / "c.pem").write_text(who[0])
    (tmp / "c.key").write_text(who[1])
    ctx.load_cert_chain(str(tmp / "c.pem"), str(tmp / "c.key"))
    return ctx


@pytest.mark.parametrize("version", base.VERSIONS)
def test_a_revoked_certificate_gets_the_same_alert(pair, version, tmp_path: Path) -> None:
    ctx = _context(version, VICTIM, tmp_path)
    reasons = []
    for port in (pair.modpy_port, pair.apache.port):
        with pytest.raises(ssl.SSLError) as caught:
            base._get(port, ctx, "/h")
        reasons.append(str(caught.value))
    assert all("ALERT_CERTIFICATE_REVOKED" in reason for reason in reasons), reasons


@pytest.mark.parametrize("version", base.VERSIONS)
def test_a_certificate_not_listed_gets_in_on_both(pair, version, tmp_path: Path) -> None:
    ctx = _context(version, GOOD, tmp_path)
    ours, theirs = base._get(pair.modpy_port, ctx, "/h"), base._get(pair.apache.port, ctx, "/h")
    assert ours[0] == theirs[0] == 200
    assert "SSL_CLIENT_VERIFY='SUCCESS'" in ours[1] and "SSL_CLIENT_VERIFY='SUCCESS'" in theirs[1]
