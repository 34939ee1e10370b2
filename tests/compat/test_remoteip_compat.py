"""ISSUE 15 finding 2: the client's address behind a trusted proxy, compared with Apache
httpd + mod_remoteip on the same config lines.

Only the header the proxy is configured to set (`RemoteIPHeader`, X-Forwarded-For) is read,
right to left through trusted hops only. A client that sends its own `Forwarded: for=` (or
another header) next to the proxy's X-Forwarded-For must not become that address: before
the fix prefork-modpy preferred `Forwarded`, so `Require ip` let the client in and the log
named the spoofed address. An external proxy (`RemoteIPTrustedProxy`) cannot present a
private address.
"""

from __future__ import annotations

import pytest

from .conftest import Pair

APACHE_MODULES = (("remoteip_module", "mod_remoteip.so"),
                  ("authz_host_module", "mod_authz_host.so"))

FRAGMENT = """ServerName 127.0.0.1
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
RemoteIPTrustedProxy 198.51.100.0/24
<Directory {root}/who>
    SetHandler mod_python
    PythonHandler who
</Directory>
<Directory {root}/inside>
    Require ip 10.0.0.0/8
</Directory>
"""

WHO = '''from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write(req.useragent_ip)
    return apache.OK
'''

FILES = {"who/who.py": WHO, "inside/secret.txt": "inside\n"}

CASES = [
    # (headers, the client both servers must see)
    ({"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    ({"Forwarded": "for=10.1.2.3", "X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    ({"Forwarded": "for=10.1.2.3"}, "127.0.0.1"),
    ({"X-Real-IP": "10.1.2.3", "X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    ({"X-Forwarded-For": "10.1.2.3, 203.0.113.9"}, "203.0.113.9"),
    ({"X-Forwarded-For": "10.1.2.3"}, "10.1.2.3"),
    ({"X-Forwarded-For": "garbage"}, "127.0.0.1"),
    # 198.51.100.0/24 is an external proxy: it may name a public client, not a private one.
    ({"X-Forwarded-For": "203.0.113.9, 198.51.100.4"}, "203.0.113.9"),
    ({"X-Forwarded-For": "10.1.2.3, 198.51.100.4"}, "198.51.100.4"),
]


@pytest.mark.parametrize("headers, client", CASES, ids=[str(i) for i in range(len(CASES))])
def test_client_address_as_mod_remoteip(pair: Pair, headers: dict[str, str],
                                        client: str) -> None:
    ours, theirs = pair.both("/who/x", headers=headers)
    assert theirs.body.decode() == client
    assert ours.body.decode() == client


@pytest.mark.parametrize("headers, status", [
    ({"Forwarded": "for=10.1.2.3", "X-Forwarded-For": "203.0.113.9"}, 403),
    ({"X-Real-IP": "10.1.2.3"}, 403),
    ({"X-Forwarded-For": "10.1.2.3, 198.51.100.4"}, 403),
    ({"X-Forwarded-For": "10.1.2.3"}, 200),
])
def test_require_ip_cannot_be_spoofed(pair: Pair, headers: dict[str, str],
                                      status: int) -> None:
    ours, theirs = pair.both("/inside/secret.txt", headers=headers)
    assert (ours.status, theirs.status) == (status, status)
