"""ISSUE 15 finding 9: SignedCookie/MarshalCookie with no secret (None or "") must not
accept a cookie anybody can sign (HMAC under an empty key, or under the text "None").
mod_python raises (its `hmac.new(secret, name)` fails: 500); so does prefork-modpy, never
answering with the forged value."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from .conftest import Pair

FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/c>
    SetHandler mod_python
    PythonHandler cookie_probe
</Directory>
"""

PROBE = '''from mod_python import apache, Cookie


def handler(req):
    secret = None if req.args == "none" else ""
    kind = Cookie.MarshalCookie if req.path_info == "/marshal" else Cookie.SignedCookie
    cookie = Cookie.get_cookie(req, "user", Class=kind, secret=secret,
                               mismatch=Cookie.Cookie.IGNORE)
    req.content_type = "text/plain"
    req.write("user=%r" % (cookie.value if cookie is not None else None))
    return apache.OK
'''

FILES = {"c/cookie_probe.py": PROBE}


def forged(key: bytes, value: str) -> str:
    """`user` signed the way SignedCookie signs, under a key the attacker guessed."""
    return hmac.new(key, b"user" + value.encode(), hashlib.md5).hexdigest() + value


@pytest.mark.parametrize("secret", ["none", "empty"])
@pytest.mark.parametrize("key", [b"", b"None"])
def test_signed_cookie_without_secret_refuses_forgeries(pair: Pair, secret: str,
                                                        key: bytes) -> None:
    headers = {"Cookie": f"user={forged(key, 'admin')}"}
    ours, theirs = pair.both(f"/c/x?{secret}", headers=headers)
    assert theirs.status == 500
    assert ours.status == 500
    assert b"user='admin'" not in ours.body
    assert "need a secret" in pair.modpy_errors()


def test_marshal_cookie_without_secret_refuses_forgeries(pair: Pair) -> None:
    import base64
    import marshal

    value = base64.b64encode(marshal.dumps("admin")).decode()
    headers = {"Cookie": f"user={forged(b'', value)}"}
    ours, theirs = pair.both("/c/x/marshal?empty", headers=headers)
    assert (ours.status, theirs.status) == (500, 500)
    assert b"user='admin'" not in ours.body
