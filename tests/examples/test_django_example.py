"""examples/django run as its README says (`python run.py`), with Django from the package
index (the `examples` extra): the admin under /mysite with its CSRF-protected login, adding
an object with a file upload, a StreamingHttpResponse, and the static and media files the
server serves beside the application (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

# The `examples` extra of pyproject.toml (in `test`): a missing Django fails collection.
import django  # noqa: F401
import pytest

from tests.support.browser import Browser
from tests.support.examples import start_example
from tests.support.site import kill_server
from tests.support.stream import arrivals, assert_paced
from tests.support.wire import get

PASSWORD = "example-admin-password"  # run.py's default
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
LOGIN = "/mysite/admin/login/?next=/mysite/admin/"


@pytest.fixture(scope="module")
def mysite(tmp_path_factory):
    server = start_example("django", tmp_path_factory.mktemp("django"))
    yield server
    kill_server(server)


def csrf_token(page) -> str:
    match = CSRF_FIELD.search(page.body)
    assert match, page.body[:500]
    return match.group(1).decode()


def logged_in(server) -> Browser:
    browser = Browser(server.port)
    token = csrf_token(browser.get(LOGIN))
    page = browser.post_form(LOGIN, {"csrfmiddlewaretoken": token, "username": "admin",
                                     "password": PASSWORD, "next": "/mysite/admin/"})
    assert page.status == 302, page.body[:1000]
    assert page.header("Location") == "/mysite/admin/"
    return browser


def test_admin_redirects_to_its_login_under_the_mount_point(mysite):
    page = Browser(mysite.port).get("/mysite/admin/")
    assert page.status == 302
    assert page.header("Location") == LOGIN


def test_login_page_links_its_css_under_the_mount_point(mysite):
    page = Browser(mysite.port).get(LOGIN)
    assert page.status == 200
    assert b'href="/mysite/static/admin/css/base.css"' in page.body


def test_login_without_the_csrf_token_is_refused_with_a_page(mysite):
    browser = Browser(mysite.port)
    browser.get(LOGIN)  # the csrftoken cookie, but no token in the form
    page = browser.post_form(LOGIN, {"username": "admin", "password": PASSWORD})
    assert page.status == 403
    assert b"CSRF verification failed" in page.body


def test_admin_login_with_csrf_reaches_the_index(mysite):
    browser = logged_in(mysite)
    page = browser.get("/mysite/admin/")
    assert page.status == 200
    assert b"Site administration" in page.body
    assert b"/mysite/admin/notes/note/" in page.body


def test_adding_a_note_uploads_its_file(mysite):
    browser = logged_in(mysite)
    add = "/mysite/admin/notes/note/add/"
    token = csrf_token(browser.get(add))
    data = bytes(range(256)) * 400  # 100 KiB, every byte value
    page = browser.post_multipart(add, {"csrfmiddlewaretoken": token, "title": "upload test",
                                        "_save": "Save"},
                                  {"attachment": ("upload-test.bin", data)})
    assert page.status == 302, page.body[:2000]
    assert page.header("Location") == "/mysite/admin/notes/note/"
    stored = Path(mysite.root) / "var" / "media" / "attachments" / "upload-test.bin"
    assert stored.read_bytes() == data
    listing = browser.get("/mysite/admin/notes/note/")
    assert b"upload test" in listing.body


def test_streaming_http_response_lines_arrive_when_yielded(mysite):
    """Issue 13 point 2 with Django's StreamingHttpResponse: line n is yielded at n * 0.5 s
    and reaches the client then. The first line may wait a while: the worker that takes
    the request may be importing Django for its first request."""
    markers = [b"line %d" % n for n in range(5)]
    seen = arrivals(mysite.port, get("/mysite/stream/", host="127.0.0.1",
                                             extra="Connection: close\r\n"),
                    markers)
    assert_paced(seen, markers, period=0.5, first_within=5.0)


def test_static_css_is_served_with_validators_304_and_range(mysite):
    browser = Browser(mysite.port)
    path = "/mysite/static/admin/css/base.css"
    on_disk = (Path(mysite.root) / "var" / "static" / "admin" / "css" / "base.css").read_bytes()
    page = browser.get(path)
    assert page.status == 200
    assert page.header("Content-Type").startswith("text/css")
    assert page.body == on_disk
    etag, modified = page.header("ETag"), page.header("Last-Modified")
    assert etag and modified
    assert browser.get(path, {"If-None-Match": etag}).status == 304
    assert browser.get(path, {"If-Modified-Since": modified}).status == 304
    part = browser.get(path, {"Range": "bytes=0-99"})
    assert part.status == 206
    assert part.header("Content-Range") == f"bytes 0-99/{len(on_disk)}"
    assert part.body == on_disk[:100]


def test_uploaded_media_is_served_by_the_server(mysite):
    media = Path(mysite.root) / "var" / "media" / "attachments"
    media.mkdir(parents=True, exist_ok=True)
    (media / "served.txt").write_bytes(b"served by the server\n")
    page = Browser(mysite.port).get("/mysite/media/attachments/served.txt")
    assert (page.status, page.body) == (200, b"served by the server\n")
