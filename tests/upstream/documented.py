"""The documented behaviour, where a test of mod_python's suite encodes a mod_python bug or
a format prefork-modpy deliberately changes (see DELIBERATE in test_upstream.py).

Each check sends test.py's own requests to test.py's own virtual host (on the per-request
server of each target) and asserts what mod_python's documentation promises. Results are
recorded in the report as "<test> (documented)" by test_upstream.test_documented.
"""

from __future__ import annotations

import http.client
import os
from typing import Callable, Optional

from .harness import Outcome, Target


def fetch(target: Target, vhost: str, method: str = "GET", body: Optional[str] = None,
          headers: Optional[dict[str, str]] = None) -> tuple[bytes, Optional[str]]:
    """(body, Set-Cookie) of one request to `vhost` on `target`, as test.py sends it."""
    conn = http.client.HTTPConnection("127.0.0.1", target.module.PORT, timeout=30)
    try:
        conn.putrequest(method, "/tests.py", skip_host=True)
        conn.putheader("Host", f"{vhost}:{target.module.PORT}")
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        data = body.encode() if body is not None else None
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        response = conn.getresponse()
        return response.read(), response.getheader("Set-Cookie")
    finally:
        conn.close()


def fieldstorage_keys_are_str(target: Target) -> None:
    """util.FieldStorage: names and values are str (mod_python's documented API; 3.5's
    bytes on Python 3 is a porting bug). Same request as test_util_fieldstorage."""
    body = "spam=1&spam=2&eggs=3&bacon=4"
    text, _ = fetch(target, "test_util_fieldstorage", method="POST", body=body,
                    headers={"Content-type": "application/x-www-form-urlencoded",
                             "Accept": "text/plain"})
    expected = b"[Field('spam', '1'), Field('spam', '2'), Field('eggs', '3'), Field('bacon', '4')]"
    assert text == expected, text


def private_session_directory(target: Target) -> None:
    """test.py makes its session directory (TMP_DIR) with the umask's 0755; prefork-modpy
    keeps sessions only in a directory others cannot list (docs/migration.md), so the
    checks below make it 0700 first, as the error message asks an administrator to."""
    os.chmod(target.module.TMP_DIR, 0o700)


def same_test_with_private_sessions(name: str) -> Callable[[Target], None]:
    """test.py's own test `name`, unchanged, once the session directory is private."""
    def check(target: Target) -> None:
        private_session_directory(target)
        outcome = target.run_per_request(name)
        assert outcome.passed, outcome.detail
    return check


def session_cookie_round_trip(target: Target) -> None:
    """Session.Session: the cookie carries the configured path and domain, and sending it
    back reaches the same session. Same requests as test_Session_Session; attributes
    without a value (HttpOnly, Secure) are allowed, as RFC 6265 has them."""
    private_session_directory(target)
    text, cookie = fetch(target, "test_Session_Session")
    assert text == b"test ok" and cookie, (text, cookie)
    attributes = dict(part.split("=", 1) if "=" in part else (part, "")
                      for part in cookie.split("; "))
    assert attributes.get("path") == "/path", cookie
    assert attributes.get("domain") == "test_Session_Session", cookie
    text, _ = fetch(target, "test_Session_Session", headers={"Cookie": cookie})
    assert text == b"test ok", text


CHECKS: dict[str, Callable[[Target], None]] = {
    "test_util_fieldstorage": fieldstorage_keys_are_str,
    "test_Session_Session": session_cookie_round_trip,
    "test_Session_illegal_sid": same_test_with_private_sessions("test_Session_illegal_sid"),
    "test_psp_error": same_test_with_private_sessions("test_psp_error"),
}


def outcome_of(check: Callable[[Target], None], target: Target) -> Outcome:
    try:
        check(target)
    except Exception as exc:  # an assertion or a transport error: both are a failure here
        return Outcome("fail", f"{type(exc).__name__}: {exc}")
    return Outcome("pass")
