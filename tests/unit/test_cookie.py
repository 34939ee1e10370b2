"""Unit tests for mod_python.Cookie: parsing, output format, signed and marshalled
cookies (including tampering) and the request helpers, with a fake request."""

import hashlib
import hmac
import time

import pytest

from mod_python import Cookie
from prefork_modpy.runtime.table import Table


class FakeReq:
    def __init__(self, cookie_headers=()):
        pairs = [("Cookie", value) for value in cookie_headers]
        self.headers_in = Table._from_pairs(pairs)
        self.headers_out = Table()


def test_parse_like_upstream_cookie_test():
    cookies = Cookie.Cookie.parse("spam=foo; path=blah;;eggs=bar;")
    assert sorted(cookies) == ["eggs", "path", "spam"]
    assert cookies["spam"].value == "foo" and cookies["path"].value == "blah"
    assert all(type(c) is Cookie.Cookie for c in cookies.values())


def test_parse_dollar_names_quotes_commas_and_names_filter():
    cookies = Cookie.Cookie.parse('$Version=1; a="x y"; b=2;, c=3')
    assert sorted(cookies) == ["a", "b", "c"]
    assert cookies["a"].value == '"x y"'  # quotes kept
    # like mod_python, a comma only separates cookies after a ';'
    assert Cookie.Cookie.parse("a=1, b=2")["a"].value == "1, b=2"
    only = Cookie.Cookie.parse("a=1; b=2", names=["b"])
    assert list(only) == ["b"]


def test_output_format_and_attribute_order():
    c = Cookie.Cookie("two", "2", secure=1, httponly=1)
    assert str(c) == "two=2; secure; httponly"
    c = Cookie.Cookie("n", "v", HttpOnly=1, path="/", domain="d", max_age=5, samesite="Lax",
                      version=1)
    assert str(c) == "n=v; version=1; path=/; domain=d; max_age=5; samesite=Lax; httponly"
    assert repr(Cookie.Cookie("a", "b")) == "<Cookie: a=b>"


def test_unknown_attribute_rejected():
    with pytest.raises(AttributeError):
        Cookie.Cookie("a", "b", bogus=1)
    c = Cookie.Cookie("a", "b")
    with pytest.raises(AttributeError):
        c.other = 1


def test_expires_number_and_string():
    c = Cookie.Cookie("a", "b", expires=0)
    assert c.expires == "Thu, 01-Jan-1970 00:00:00 GMT"
    assert str(c) == "a=b; expires=Thu, 01-Jan-1970 00:00:00 GMT"
    c.expires = "Fri, 27-Nov-2026 01:30:00 GMT"
    assert c.expires == "Fri, 27-Nov-2026 01:30:00 GMT"
    with pytest.raises(ValueError):
        c.expires = "tomorrow"
    c.expires = time.time() + 3600
    assert c.expires.endswith(" GMT")
    assert not hasattr(Cookie.Cookie("a", "b"), "expires")


def _py2_signature(secret, name, value):
    mac = hmac.new(secret.encode(), name.encode(), hashlib.md5)
    mac.update(value.encode())
    return mac.hexdigest()


def test_signed_cookie_roundtrip_and_format():
    c = Cookie.SignedCookie("user", "alice", "s3cret", path="/")
    out = str(c)
    assert out == "user=" + _py2_signature("s3cret", "user", "alice") + "alice; path=/"
    parsed = Cookie.SignedCookie.parse(out, "s3cret")
    assert type(parsed["user"]) is Cookie.SignedCookie
    assert parsed["user"].value == "alice"


def test_signed_cookie_tampered_per_mismatch_policy():
    good = str(Cookie.SignedCookie("user", "alice", "k"))
    tampered = good.replace("alice", "admin")
    down = Cookie.SignedCookie.parse(tampered, "k")
    assert type(down["user"]) is Cookie.Cookie
    assert down["user"].value.endswith("admin")
    assert Cookie.SignedCookie.parse(tampered, "k", Cookie.Cookie.IGNORE) == {}
    with pytest.raises(Cookie.CookieError):
        Cookie.SignedCookie.parse(tampered, "k", Cookie.Cookie.EXCEPTION)
    assert Cookie.SignedCookie.parse(good, "wrong key", Cookie.Cookie.IGNORE) == {}
    assert Cookie.SignedCookie.parse("user=short", "k", Cookie.Cookie.IGNORE) == {}


def test_signing_without_secret_fails():
    with pytest.raises(Cookie.CookieError):
        str(Cookie.SignedCookie("a", "b"))


def test_marshal_cookie_roundtrip():
    value = {"a": [1, 2, 3], "b": ("x", 1.5), "c": None}
    out = str(Cookie.MarshalCookie("data", value, "k"))
    assert "\n" not in out and " " not in out
    parsed = Cookie.MarshalCookie.parse(out, "k")
    assert parsed["data"].value == value


def test_marshal_cookie_tampered_is_never_unmarshalled(monkeypatch):
    out = str(Cookie.MarshalCookie("data", [1, 2], "k"))
    name, _, rest = out.partition("=")
    tampered = f"{name}={rest[:32]}{rest[33:]}A"

    def boom(_data):
        raise AssertionError("unmarshalled unverified data")

    monkeypatch.setattr(Cookie.marshal, "loads", boom)
    assert Cookie.MarshalCookie.parse(tampered, "k", Cookie.Cookie.IGNORE) == {}
    with pytest.raises(Cookie.CookieError):
        Cookie.MarshalCookie.parse(tampered, "k", Cookie.Cookie.EXCEPTION)


def test_marshal_cookie_bad_payload_with_valid_signature():
    sig = _py2_signature("k", "d", "!!notbase64")
    assert Cookie.MarshalCookie.parse(f"d={sig}!!notbase64", "k", Cookie.Cookie.IGNORE) == {}
    sig = _py2_signature("k", "d", "AAAA")
    with pytest.raises(Cookie.CookieError, match="Unmarshal"):
        Cookie.MarshalCookie.parse(f"d={sig}AAAA", "k", Cookie.Cookie.EXCEPTION)


def test_add_cookie_headers():
    req = FakeReq()
    Cookie.add_cookie(req, "spam", "foo", path="/")
    Cookie.add_cookie(req, Cookie.Cookie("eggs", "bar"))
    assert req.headers_out.items() == [
        ("Cache-Control", 'no-cache="set-cookie"'),
        ("Set-Cookie", "spam=foo; path=/"),
        ("Set-Cookie", "eggs=bar"),
    ]
    with pytest.raises(ValueError):
        Cookie.add_cookie(req, "x", "a\r\nSet-Cookie: evil=1")


def test_get_cookies_and_get_cookie():
    assert Cookie.get_cookies(FakeReq()) == {}
    req = FakeReq(["spam=foo; path=blah;;eggs=bar;", "bar=foo"])  # two headers -> list
    cookies = Cookie.get_cookies(req)
    assert sorted(cookies) == ["bar", "eggs", "path", "spam"]
    assert Cookie.get_cookie(req, "bar").value == "foo"
    assert Cookie.get_cookie(req, "nope") is None


def test_get_cookie_signed_class():
    signed = str(Cookie.SignedCookie("sid", "abc", "k"))
    req = FakeReq([signed + "; other=1"])
    cookie = Cookie.get_cookie(req, "sid", Cookie.SignedCookie, secret="k")
    assert type(cookie) is Cookie.SignedCookie and cookie.value == "abc"


def test_marshal_roundtrip_through_request():
    req = FakeReq()
    Cookie.add_cookie(req, Cookie.MarshalCookie("m", {"n": 1}, "k"))
    header = req.headers_out.getall("Set-Cookie")[0]
    back = Cookie.get_cookie(FakeReq([header]), "m", Cookie.MarshalCookie, secret="k")
    assert back.value == {"n": 1}


@pytest.mark.parametrize("secret", [None, "", b""])
def test_verifying_without_secret_raises_instead_of_accepting(secret):
    """ISSUE 15 finding 9: an HMAC under an empty key is a forgery anybody can make."""
    forged = hmac.new(b"", b"useradmin", hashlib.md5).hexdigest() + "admin"
    for kind in (Cookie.SignedCookie, Cookie.MarshalCookie):
        with pytest.raises(TypeError, match="need a secret"):
            kind.parse(f"user={forged}", secret, Cookie.Cookie.IGNORE)
    with pytest.raises(TypeError):
        Cookie.SignedCookie("user", "admin").unsign(secret)
