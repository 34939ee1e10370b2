"""The default handler and symbolic links over HTTP: a symlinked DocumentRoot (a deploy's
`current`) is served and a switch of the link is seen by the next request; links inside
the root are followed (FollowSymLinks, httpd's default); links that leave it are 403."""

from __future__ import annotations

import http.client
import os

import pytest

from tests.support.links import make_release
from tests.support.site import Server, SiteFactory


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("links")
    make_release(base, "release 1\n")
    factory = SiteFactory(base / "site")
    (base / "site").mkdir()
    # a second DocumentRoot replaces the factory's, as in httpd
    yield factory.start(f"DocumentRoot {base / 'current'}\n", workers=1)
    factory.close()


def get(server: Server, path: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


@pytest.mark.parametrize("path, body", [("/a.txt", b"release 1\n"), ("/rel-link.txt", b"b\n"),
                                        ("/abs-link.txt", b"release 1\n")])
def test_files_inside_the_linked_root_are_served(server: Server, path: str, body: bytes):
    status, got, headers = get(server, path)
    assert (status, got) == (200, body)
    assert headers["Content-Length"] == str(len(body)) and headers["ETag"]
    status, got, headers = get(server, path, "HEAD")
    assert (status, got, headers["Content-Length"]) == (200, b"", str(len(body)))


def test_a_link_leaving_the_root_is_forbidden(server: Server):
    status, body, _ = get(server, "/escape.txt")
    assert status == 403 and b"secret" not in body


def test_a_switched_deploy_link_is_served_at_once(server: Server):
    base = server.root.parent.parent
    (base / "release2").mkdir()
    (base / "release2" / "a.txt").write_text("release 2, longer\n")
    assert get(server, "/a.txt")[1] == b"release 1\n"
    (base / "next").symlink_to("release2")
    os.replace(base / "next", base / "current")
    assert get(server, "/a.txt")[:2] == (200, b"release 2, longer\n")
