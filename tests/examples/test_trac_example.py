"""examples/trac run as its README says (`python run.py`), with Trac from the package
index (the `examples` extra): the generated trac.wsgi named by path, the wiki, and Trac's
404 and 403 pages with their bodies (issue 13 point 5)."""

from __future__ import annotations

import pytest
import trac  # noqa: F401 - the `examples` extra (in `test`): a missing Trac fails collection

from tests.support.browser import Browser
from tests.support.examples import start_example
from tests.support.site import kill_server


@pytest.fixture(scope="module")
def trac_site(tmp_path_factory):
    server = start_example("trac", tmp_path_factory.mktemp("trac"))
    yield server
    kill_server(server)


def test_wiki_start_page(trac_site):
    page = Browser(trac_site.port).get("/trac/wiki/WikiStart")
    assert page.status == 200
    assert b"Welcome to Trac" in page.body
    assert b'href="/trac/chrome/common/css/trac.css"' in page.body


def test_front_page_is_the_wiki(trac_site):
    page = Browser(trac_site.port).get("/trac/")
    assert page.status == 200 and b"Welcome to Trac" in page.body


def test_unknown_path_is_a_404_with_trac_s_page(trac_site):
    page = Browser(trac_site.port).get("/trac/no-such-module")
    assert page.status == 404
    assert b"No handler matched request to /no-such-module" in page.body
    assert page.header("Content-Type").startswith("text/html")


def test_new_ticket_without_permission_is_a_403_with_trac_s_page(trac_site):
    """anonymous lacks TICKET_CREATE in a new environment."""
    page = Browser(trac_site.port).get("/trac/newticket")
    assert page.status == 403
    assert b"TICKET_CREATE" in page.body


def test_chrome_css_is_served_by_trac(trac_site):
    page = Browser(trac_site.port).get("/trac/chrome/common/css/trac.css")
    assert page.status == 200
    assert page.header("Content-Type").startswith("text/css")
    assert b"body" in page.body
