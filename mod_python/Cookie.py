"""``mod_python.Cookie`` for prefork-modpy: one-cookie objects, signing and parsing.

This module owns ``Cookie``, ``SignedCookie``, ``MarshalCookie``, the ``Cookie:``
header parser and the ``add_cookie``/``get_cookies``/``get_cookie`` helpers (spec 5.2).
Output is mod_python's: ``name=value`` then ``; attr=value`` for each set attribute in
mod_python's order, ``secure``/``discard``/``httponly`` as bare words, no quoting.

mod_python 3.5 signs with ``hmac.new(secret, name)`` and base64 via ``encodestring``,
both broken on Python 3 (spec 5.2).  Here the documented intent is implemented:
HMAC-MD5 keyed by the UTF-8 secret over ``name + value`` (the digest Python 2 used, so
signatures are the same as before), constant-time comparison, and ``MarshalCookie``
checks the signature before anything is unmarshalled.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import hmac
import marshal
import re
import time
from typing import Any, Dict, Iterable, Optional

__all__ = [
    "Cookie", "CookieError", "MarshalCookie", "SignedCookie", "add_cookie", "get_cookie",
    "get_cookies",
]


class CookieError(Exception):
    pass


_EXPIRES_FORMAT = "%a, %d-%b-%Y %H:%M:%S GMT"
_FLAG_ATTRS = ("secure", "discard", "httponly")


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class Cookie:
    """A single cookie (unlike the standard library's collection of Morsels)."""

    DOWNGRADE = 0
    IGNORE = 1
    EXCEPTION = 3

    _valid_attr = (
        "version", "path", "domain", "secure", "comment", "expires", "max_age",
        "samesite",
        # RFC 2965
        "commentURL", "discard", "port",
        # Microsoft extension
        "httponly",
    )
    # __slots__ makes any other attribute an AttributeError, as in mod_python
    __slots__ = tuple(a for a in _valid_attr if a != "expires") + (
        "name", "value", "_expires", "__data__")
    # The slots above, spelled out for the type checker.
    version: Any
    path: Any
    domain: Any
    secure: Any
    comment: Any
    max_age: Any
    samesite: Any
    commentURL: Any
    discard: Any
    port: Any
    httponly: Any
    name: str
    value: Any

    def __init__(self, name: str, value: Any, **kw: Any) -> None:
        self.name, self.value = name, value
        for key, attr_value in kw.items():
            setattr(self, key.lower(), attr_value)
        self.__data__: Dict[str, Any] = {}  # for subclasses' internal state

    @property
    def expires(self) -> str:
        try:
            return self._expires
        except AttributeError:
            raise AttributeError("expires") from None

    @expires.setter
    def expires(self, value: Any) -> None:
        """A Netscape-format string (validated) or epoch seconds (formatted)."""
        if isinstance(value, str):
            try:
                time.strptime(value, _EXPIRES_FORMAT)
            except ValueError:
                raise ValueError(f"Invalid expires time: {value}") from None
        else:
            value = time.strftime(_EXPIRES_FORMAT, time.gmtime(value))
        self._expires = str(value)

    @classmethod
    def parse(cls, str: str, **kw: Any) -> Dict[str, Cookie]:
        """Parse a ``Cookie`` header value into a dict name -> cookie of this class."""
        return _parse_cookie(str, cls, **kw)

    def _attributes(self) -> list:
        result = []
        for name in self._valid_attr:
            if hasattr(self, name):
                if name in _FLAG_ATTRS:
                    result.append(name)
                else:
                    result.append(f"{name}={getattr(self, name)}")
        return result

    def _output(self, value: Any) -> str:
        return "; ".join([f"{self.name}={value}"] + self._attributes())

    def __str__(self) -> str:
        """The ``Set-Cookie`` header value (without the header name)."""
        return self._output(self.value)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: {self}>"


class SignedCookie(Cookie):
    """A cookie whose value carries an HMAC (32 hex digits prefix) so tampering on the
    client side is detected.  The value itself stays readable."""

    __slots__ = ()

    @classmethod
    def parse(cls, s: str, secret: Any, mismatch: int = Cookie.DOWNGRADE,  # type: ignore[override]
              **kw: Any) -> Dict[str, Cookie]:
        return _parse_verified(cls, s, secret, mismatch, "unsign", **kw)

    def __init__(self, name: str, value: Any, secret: Any = None, **kw: Any) -> None:
        Cookie.__init__(self, name, value, **kw)
        self.__data__["secret"] = secret

    def hexdigest(self, str: Any) -> str:
        secret = self.__data__["secret"]
        if not secret:
            raise CookieError("Cannot sign without a secret")
        return _signature(secret, self.name, str)

    def __str__(self) -> str:
        value = str(self.value)
        return self._output(self.hexdigest(value) + value)

    def unsign(self, secret: Any) -> None:
        """Check and strip the signature; CookieError if it does not match."""
        value = str(self.value)
        sig, val = value[:32], value[32:]
        expected = _signature(secret, self.name, val)
        if not hmac.compare_digest(expected.encode("ascii"), sig.encode("utf-8", "replace")):
            raise CookieError(f"Incorrectly Signed Cookie: {self.name}={self.value}")
        self.value = val
        self.__data__["secret"] = secret


class MarshalCookie(SignedCookie):
    """A signed cookie holding any marshallable object (base64 of ``marshal.dumps``).

    The signature is verified before the data is unmarshalled, so only data this
    server signed is ever passed to ``marshal.loads``."""

    __slots__ = ()

    @classmethod
    def parse(cls, s: str, secret: Any, mismatch: int = Cookie.DOWNGRADE,  # type: ignore[override]
              **kw: Any) -> Dict[str, Cookie]:
        return _parse_verified(cls, s, secret, mismatch, "unmarshal", **kw)

    def __str__(self) -> str:
        encoded = base64.b64encode(marshal.dumps(self.value)).decode("ascii")
        return self._output(self.hexdigest(encoded) + encoded)

    def unmarshal(self, secret: Any) -> None:
        self.unsign(secret)
        try:
            data = base64.b64decode("".join(str(self.value).split()), validate=True)
        except (binascii.Error, ValueError):
            raise CookieError(f"Cannot base64 Decode Cookie: {self.name}={self.value}") from None
        try:
            self.value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            raise CookieError(f"Cannot Unmarshal Cookie: {self.name}={self.value}") from None


def _signature(secret: Any, name: str, value: Any) -> str:
    """HMAC-MD5(key=secret, msg=name+value) hex digest, as mod_python on Python 2.

    No secret (None or empty) raises TypeError, as mod_python's `hmac.new(secret, ...)`
    does: an HMAC under an empty key is one anybody can compute, so verifying with it
    would accept forged cookies (and `str(None)` would be a key anybody can guess)."""
    if secret is None or not _to_bytes(secret):
        raise TypeError("SignedCookie/MarshalCookie need a secret (got "
                        f"{secret!r}): refusing to sign or verify with no key")
    mac = hmac.new(_to_bytes(secret), _to_bytes(name), "md5")
    mac.update(_to_bytes(value))
    return mac.hexdigest()


def _parse_verified(cls: type, s: str, secret: Any, mismatch: int, check: str,
                    **kw: Any) -> Dict[str, Cookie]:
    """Parse with ``cls`` and verify each cookie with ``getattr(cookie, check)``;
    failures are downgraded to plain Cookies, dropped or raised per ``mismatch``."""
    cookies = _parse_cookie(s, cls, **kw)
    for name in list(cookies):
        try:
            getattr(cookies[name], check)(secret)
        except CookieError:
            if mismatch == Cookie.EXCEPTION:
                raise
            if mismatch == Cookie.IGNORE:
                del cookies[name]
            else:
                cookies[name] = Cookie(name, cookies[name].value)
    return cookies


# A simplified, corrected pattern from the standard library's Cookie module (as
# mod_python's): spaces/commas before a pair are eaten, values may be double-quoted.
_cookiePattern = re.compile(
    r"(?x)"
    r"[,\ ]*"
    r"(?P<key>[^;\ =]+)"
    r"\ *(=\ *)?"
    r'(?P<val>"(?:[^\\"]|\\.)*"|[^;]*)'
    r"\s*;?"
)


def _parse_cookie(str: str, Class: Any, names: Optional[Iterable[str]] = None
                  ) -> Dict[str, Cookie]:
    result: Dict[builtins.str, Cookie] = {}  # `str` is mod_python's parameter name here
    for match in _cookiePattern.finditer(str):
        key, val = match.group("key"), match.group("val")
        # names starting with $ are RFC 2965 attributes, not cookies (MODPYTHON-3)
        if key[0] != "$" and (names is None or key in names):
            result[key] = Class(key, val)
    return result


def add_cookie(req: Any, cookie: Any, value: Any = "", **kw: Any) -> None:
    """Add a ``Set-Cookie`` header (and, for the first one, a Cache-Control directive
    keeping caches from storing it)."""
    if not isinstance(cookie, Cookie):
        cookie = Cookie(cookie, value, **kw)
    text = str(cookie)
    if "\r" in text or "\n" in text:
        raise ValueError("cookie must not contain CR or LF (response splitting)")
    if "Set-Cookie" not in req.headers_out:
        req.headers_out.add("Cache-Control", 'no-cache="set-cookie"')
    req.headers_out.add("Set-Cookie", text)


def get_cookies(req: Any, Class: Any = Cookie, **kw: Any) -> Dict[str, Cookie]:
    """All cookies of the request parsed with ``Class`` (extra ``kw`` go to its parse)."""
    if "cookie" not in req.headers_in:
        return {}
    cookies = req.headers_in["cookie"]
    if isinstance(cookies, list):
        cookies = "; ".join(cookies)
    return Class.parse(cookies, **kw)


def get_cookie(req: Any, name: str, Class: Any = Cookie, **kw: Any) -> Optional[Cookie]:
    """One cookie by name, or None."""
    return get_cookies(req, Class, names=[name], **kw).get(name)
