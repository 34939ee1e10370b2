"""examples/publisher run as its README says (`python run.py`): the manual's publisher
form, its PSP page and sessions in both, on the real server."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import Browser
from tests.support.examples import start_example
from tests.support.site import kill_server


@pytest.fixture(scope="module")
def publisher_site(tmp_path_factory):
    server = start_example("publisher", tmp_path_factory.mktemp("publisher"))
    yield server
    kill_server(server)


def test_form_page(publisher_site):
    page = Browser(publisher_site.port).get("/form.html")
    assert page.status == 200
    assert b'action="form.py/email"' in page.body


def test_posted_form_reaches_the_published_function(publisher_site):
    page = Browser(publisher_site.port).post_form(
        "/form.py/email", {"name": "Alice", "email": "alice@example.test",
                           "comment": "<b>works</b> & well"})
    assert page.status == 200
    assert page.header("Content-Type") == "text/html"
    assert b"Dear Alice," in page.body
    assert b"&lt;b&gt;works&lt;/b&gt; &amp; well" in page.body
    assert b"From: alice@example.test" in page.body


def test_missing_field_gets_the_manual_s_answer(publisher_site):
    page = Browser(publisher_site.port).post_form(
        "/form.py/email", {"name": "Alice", "email": "", "comment": "x"})
    assert page.status == 200
    assert page.body.startswith(b"A required parameter is missing")


def test_psp_page_greets_from_the_query_string(publisher_site):
    browser = Browser(publisher_site.port)
    assert b"<h1>Hello, World!</h1>" in browser.get("/hello.psp?name=world").body
    assert b"<h1>Hello there!</h1>" in browser.get("/hello.psp").body


def hits(page) -> int:
    match = re.search(rb"seen this page (\d+) time", page.body)
    assert match, page.body
    return int(match.group(1))


def test_psp_session_counts_per_client(publisher_site):
    browser = Browser(publisher_site.port)
    assert [hits(browser.get("/hello.psp")) for _ in range(3)] == [1, 2, 3]
    assert browser.cookie("pysid")
    assert hits(Browser(publisher_site.port).get("/hello.psp")) == 1


def test_published_function_session(publisher_site):
    browser = Browser(publisher_site.port)
    bodies = [browser.get("/form.py/visits").body for _ in range(3)]
    assert bodies == [b"visits in this session: %d\n" % n for n in (1, 2, 3)]
    sessions = publisher_site.root / "var" / "sessions"
    assert any(sessions.rglob("*")), "FileSession wrote nothing under var/sessions"
