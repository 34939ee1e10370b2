"""ISSUE 14: SSLVerifyDepth per location on prefork-modpy and Apache + mod_ssl (same config
and certificates as tests/compat/test_tls_client_compat.py): the host verifies paths of two
certificates, `/shallow` only one; a client whose CA is an intermediate."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.compat import test_tls_client_compat as base

FILES = base.FILES
APACHE_MODULES = base.APACHE_MODULES
APACHE_MODULES_BEFORE_PYTHON = base.APACHE_MODULES_BEFORE_PYTHON
FRAGMENT = base.FRAGMENT.replace("SSLVerifyClient optional\n", """SSLVerifyClient optional
SSLVerifyDepth 2
<Location /shallow>
    SSLVerifyDepth 1
</Location>
""", 1)


@pytest.mark.parametrize("version", base.VERSIONS)
def test_the_host_depth_lets_the_intermediates_client_in_on_both(pair, version,
                                                                 tmp_path: Path) -> None:
    ctx = base._context(version, base.DEEP, tmp_path)
    ours, theirs = base._get(pair.modpy_port, ctx, "/h"), base._get(pair.apache.port, ctx, "/h")
    assert ours[0] == theirs[0] == 200
    assert "SSL_CLIENT_VERIFY='SUCCESS'" in ours[1] and "SSL_CLIENT_VERIFY='SUCCESS'" in theirs[1]


def test_a_shallower_location_over_tls13_is_403_on_both(pair, tmp_path: Path) -> None:
    """Apache would ask again by post-handshake authentication, which the client does not
    offer: 403; prefork-modpy holds the location's depth per request: 403."""
    ctx = base._context(ssl.TLSVersion.TLSv1_3, base.DEEP, tmp_path)
    assert base._get(pair.modpy_port, ctx, "/shallow/h")[0] == 403
    assert base._get(pair.apache.port, ctx, "/shallow/h")[0] == 403


def test_a_shallower_location_over_tls12(pair, tmp_path: Path) -> None:
    """The documented difference (docs/migration.md): Apache 2.4.62 renegotiates on TLS 1.2
    and lets the client in (200) although its path is longer than the location allows;
    prefork-modpy answers 403 on both versions."""
    ctx = base._context(ssl.TLSVersion.TLSv1_2, base.DEEP, tmp_path)
    assert base._get(pair.modpy_port, ctx, "/shallow/h")[0] == 403
    assert base._get(pair.apache.port, ctx, "/shallow/h")[0] == 200
