"""ISSUE 14: `SSLRequireSSL` over plain HTTP under `Satisfy Any`, with and without
`SSLOptions +StrictRequire`, on prefork-modpy and on Apache + mod_ssl (same config): an
authenticated user gets in, StrictRequire or not (httpd 2.4's mod_authz_core grants before
mod_ssl's ssl_hook_Auth could forbid again)."""

from __future__ import annotations

import base64
import hashlib
import http.client
from typing import Optional

import pytest

_SHA = base64.b64encode(hashlib.sha1(b"secret").digest()).decode()
FILES = {"loose/x.txt": "loose\n", "strict/x.txt": "strict\n", "users": f"bob:{{SHA}}{_SHA}\n"}
APACHE_MODULES_BEFORE_PYTHON = (("access_compat_module", "mod_access_compat.so"),
                                ("authz_host_module", "mod_authz_host.so"),
                                ("authz_user_module", "mod_authz_user.so"))
APACHE_MODULES = (("ssl_module", "mod_ssl.so"), ("auth_basic_module", "mod_auth_basic.so"),
                  ("authn_core_module", "mod_authn_core.so"),
                  ("authn_file_module", "mod_authn_file.so"))
_AREA = """
    SSLRequireSSL
    Satisfy Any
    Order allow,deny
    Allow from 192.0.2.1
    AuthType Basic
    AuthName "area"
    AuthUserFile {root}/users
    Require valid-user
"""
FRAGMENT = f"""
<Directory {{root}}/loose>
{_AREA}
</Directory>
<Directory {{root}}/strict>
{_AREA}
    SSLOptions +StrictRequire
</Directory>
"""


def _status(port: int, path: str, user: Optional[str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/loose/x.txt", "/strict/x.txt"])
@pytest.mark.parametrize("user", [None, "bob:secret", "bob:wrong"])
def test_satisfy_any_and_strict_require_match_apache(pair, path, user) -> None:
    assert _status(pair.modpy_port, path, user) == _status(pair.apache.port, path, user) == \
        (200 if user == "bob:secret" else 401)
