"""Fixtures that serve one site with BOTH prefork-modpy and Apache httpd + mod_python.

A test module declares `FRAGMENT` (config text with `{root}` for the site directory; `Include`d
by the generated Apache config and appended to prefork-modpy's) and `FILES` (site path →
file text), then uses the module-scoped `pair` fixture: each server starts once per module.

Apache is installed by `make apache` (tests/compat/install_apache.sh, root + apt-get), a
step of `make test`; a test run never changes the machine. When Apache cannot run, every test
here fails with the reason, unless PREFORK_MODPY_NO_APACHE=1 (a local opt-out that CI never
sets) turns the failures into skips.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from tests.support.site import HANDLERS as SUPPORT_HANDLERS
from tests.support.site import SiteFactory, free_port

from .apache import ApacheServer, apache_available, make_shared_dir

HANDLERS = Path(__file__).parent / "handlers"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""  # the status line's reason phrase

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


def reply_of(response: http.client.HTTPResponse) -> Reply:
    data = response.read()
    merged: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return Reply(response.status, merged, data, response.getheaders(), response.reason)


def fetch(port: int, path: str, method: str = "GET", body: Optional[bytes] = None,
          headers: Optional[dict[str, str]] = None, timeout: float = 10.0) -> Reply:
    """One request on a fresh connection; the path is sent exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        return reply_of(conn.getresponse())
    finally:
        conn.close()


def raw_fetch(port: int, data: bytes, sock: Optional[socket.socket] = None,
              method: str = "GET", timeout: float = 10.0) -> Reply:
    """Send `data` as is (on `sock` when given, to keep a connection alive) and read one
    response; http.client does the framing (Content-Length, chunked or close)."""
    own = sock is None
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return reply_of(response)
    finally:
        if own:
            sock.close()


@dataclass
class Pair:
    """The same site served twice: `modpy` (prefork-modpy) and `apache` (httpd)."""

    root: Path
    modpy_port: int
    apache: ApacheServer
    modpy_errors: Callable[[], str]
    modpy_pid: int = 0  # prefork-modpy's master (its workers are the children)

    def both(self, path: str, **kwargs) -> tuple[Reply, Reply]:
        """(prefork-modpy's reply, Apache's reply) to the same request."""
        return fetch(self.modpy_port, path, **kwargs), fetch(self.apache.port, path, **kwargs)


# The local opt-out: without it, a machine that cannot run Apache fails the compat tests.
NO_APACHE = "PREFORK_MODPY_NO_APACHE"


@pytest.fixture(scope="session")
def apache_ready() -> None:
    ok, reason = apache_available()
    if ok:
        return
    if os.environ.get(NO_APACHE) == "1":
        pytest.skip(f"{NO_APACHE}=1 and Apache httpd + mod_python unavailable: {reason}")
    pytest.fail(f"Apache httpd + mod_python unavailable: {reason}. Install them with "
                f"`make apache` (root), or set {NO_APACHE}=1 to skip tests/compat locally.",
                pytrace=False)


def site_files(files: dict[str, str]) -> dict[str, str]:
    """FILES values naming 'handlers/X' (tests/compat/handlers), 'support/X' (the handlers
    the other tests use, tests/support/handlers) or 'tutorial/X' (the bundled example site)
    become that file's text; anything else is literal text."""
    tutorial = Path(__file__).parents[2] / "examples" / "tutorial" / "srv"
    resolved = {}
    for target, source in files.items():
        if source.startswith("handlers/"):
            source = (HANDLERS / source.split("/", 1)[1]).read_text()
        elif source.startswith("support/"):
            source = (SUPPORT_HANDLERS / source.split("/", 1)[1]).read_text()
        elif source.startswith("tutorial/"):
            source = (tutorial / source.split("/", 1)[1]).read_text()
        resolved[target] = source
    return resolved


@pytest.fixture(scope="module")
def pair(request: pytest.FixtureRequest, apache_ready: None) -> Iterator[Pair]:
    fragment: str = request.module.FRAGMENT
    files: dict[str, str] = request.module.FILES
    # Apache's workers run as www-data: the site must live in a world-readable tree, which
    # pytest's 0700 tmp dirs are not.
    base = make_shared_dir("compat-site-")
    factory = SiteFactory(base)
    apache: Optional[ApacheServer] = None
    try:
        modpy = factory.start(fragment, site_files(files), workers=2)
        # A module may need more of httpd (e.g. authz_user for `Require valid-user`).
        modules = getattr(request.module, "APACHE_MODULES", ())
        # Modules that Debian loads before mod_python (their hooks run first).
        first = getattr(request.module, "APACHE_MODULES_BEFORE_PYTHON", ())
        apache = ApacheServer(modpy.root, fragment.format(root=modpy.root, port=0),
                              free_port(), extra_modules=modules,
                              modules_before_python=first)
        apache.start()
        yield Pair(modpy.root, modpy.port, apache, modpy.errors, modpy.pid)
    finally:
        if apache is not None:
            apache.stop()
        factory.close()
        shutil.rmtree(base, ignore_errors=True)
