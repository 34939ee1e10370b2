"""A client that keeps cookies and shows redirects, for the example applications' forms
(Django's admin, Flask's session, mod_python's Session).

Owns `Browser` (urllib with a cookie jar; a 3xx or 4xx/5xx is returned, never followed or
raised) and `multipart` (a form body with files). Must not follow redirects on its own:
the tests check where they point.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Optional


@dataclass
class Page:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
        return None


class Browser:
    def __init__(self, port: int, timeout: float = 20.0) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def cookie(self, name: str) -> Optional[str]:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(self, path: str, method: str = "GET", data: Optional[bytes] = None,
                headers: Optional[dict[str, str]] = None) -> Page:
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return Page(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Page(error.code, error.headers, error.read())

    def get(self, path: str, headers: Optional[dict[str, str]] = None) -> Page:
        return self.request(path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str],
                  headers: Optional[dict[str, str]] = None) -> Page:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(path, "POST", body, {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_multipart(self, path: str, fields: dict[str, str],
                       files: dict[str, tuple[str, bytes]],
                       headers: Optional[dict[str, str]] = None) -> Page:
        content_type, body = multipart(fields, files)
        return self.request(path, "POST", body,
                            {"Content-Type": content_type, **(headers or {})})


def multipart(fields: dict[str, str],
              files: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart/form-data form: fields, then files
    (name → (filename, bytes))."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                     f"\r\n\r\n{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                     "\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)
