"""ISSUE 14: `SSLVerifyClient require` for a whole host, prefork-modpy (rustls) beside Apache
+ mod_ssl (OpenSSL): the TLS alert a client without a certificate, or with one from an
unknown CA, receives over TLS 1.2 and 1.3 (certificates made when this module is
imported)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.compat import test_tls_client_compat as base

CA_PEM, CLIENT, STRANGER = base.CA_PEM, base.CLIENT, base.STRANGER
FILES = base.FILES
APACHE_MODULES = base.APACHE_MODULES
APACHE_MODULES_BEFORE_PYTHON = base.APACHE_MODULES_BEFORE_PYTHON
FRAGMENT = base.FRAGMENT.replace("SSLVerifyClient optional", "SSLVerifyClient require")


def _alert(port: int, ctx: ssl.SSLContext) -> str:
    with pytest.raises((ssl.SSLError, ConnectionError)) as caught:
        base._get(port, ctx, "/h")
    return str(caught.value)


# OpenSSL's names for the alerts both servers send (as Python's ssl reports them).
EXPECTED = {(ssl.TLSVersion.TLSv1_2, None): "SSLV3_ALERT_HANDSHAKE_FAILURE",
            (ssl.TLSVersion.TLSv1_3, None): "TLSV13_ALERT_CERTIFICATE_REQUIRED",
            (ssl.TLSVersion.TLSv1_2, "stranger"): "TLSV1_ALERT_UNKNOWN_CA",
            (ssl.TLSVersion.TLSv1_3, "stranger"): "TLSV1_ALERT_UNKNOWN_CA"}

# The one difference (docs/migration.md): rustls sends certificate_required (116) for a
# missing certificate on TLS 1.2 too, where OpenSSL sends handshake_failure (40).
OURS = {(ssl.TLSVersion.TLSv1_2, None): "TLSV13_ALERT_CERTIFICATE_REQUIRED"}


@pytest.mark.parametrize("version, who", list(EXPECTED))
def test_the_alert_matches_apache(pair, version, who, tmp_path: Path) -> None:
    ctx = base._context(version, STRANGER if who else None, tmp_path)
    ours, theirs = _alert(pair.modpy_port, ctx), _alert(pair.apache.port, ctx)
    assert EXPECTED[(version, who)] in theirs, theirs
    assert OURS.get((version, who), EXPECTED[(version, who)]) in ours, ours


def test_the_cas_client_gets_in_on_both(pair, tmp_path: Path) -> None:
    ctx = base._context(ssl.TLSVersion.TLSv1_3, CLIENT, tmp_path)
    assert base._get(pair.modpy_port, ctx, "/h")[0] == base._get(pair.apache.port, ctx,
                                                                 "/h")[0] == 200
