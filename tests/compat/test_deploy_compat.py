"""What deploying a WSGI application meets (issue 13), compared with Apache httpd +
mod_python 3.5: static files beside an application mounted with `<Location>`, a streamed
generator response, a 204's headers.

Apache's rule for the standard layout: an `Alias` maps the file, but `<Location /mysite>`'s
`SetHandler mod_python` still applies to /mysite/static/ (Location sections merge by URL,
after translation), so the application gets those requests unless a nested
`<Location /mysite/static/>` says `SetHandler None` (the mod_python deployment recipe).
"""

from __future__ import annotations

from tests.support.stream import arrivals, assert_paced
from tests.support.wire import get

from .conftest import Pair

APP = ("    SetHandler mod_python\n    PythonHandler mod_python.wsgi\n"
       "    PythonOption mod_python.wsgi.application deploy_apps::{name}\n")

FRAGMENT = (
    "PythonPath \"['{root}/lib'] + sys.path\"\n"
    "Alias /bare/static/ {root}/static/\n"
    "<Location /bare>\n" + APP.replace("{name}", "where") + "</Location>\n"
    "Alias /mysite/static/ {root}/static/\n"
    "<Directory {root}/static>\n    Require all granted\n</Directory>\n"
    "<Location /mysite>\n" + APP.replace("{name}", "where") + "</Location>\n"
    "<Location /mysite/static/>\n    SetHandler None\n</Location>\n"
    "<Location /ticks>\n" + APP.replace("{name}", "ticks") + "</Location>\n"
    "<Location /nocontent>\n    SetHandler mod_python\n"
    "    PythonHandler deploy_apps::no_content\n</Location>\n"
)

FILES = {
    "lib/deploy_apps.py": "handlers/deploy_apps.py",
    "static/site.css": "body { color: black }\n",
}


def test_alias_inside_a_handler_location_still_reaches_the_application(pair: Pair) -> None:
    """Without `SetHandler None` the Location's handler claims the aliased URL in Apache
    too: the Alias alone does not serve static files under a mounted application."""
    ours, theirs = pair.both("/bare/static/site.css")
    assert theirs.body == b"app saw /static/site.css\n"
    assert (ours.status, ours.body) == (theirs.status, theirs.body)


def test_set_handler_none_serves_the_aliased_static_file(pair: Pair) -> None:
    """mod_alias's translate hook runs before mod_python's: the Alias maps the file even
    under a <Location> with Python handlers (issue 13 point 1)."""
    ours, theirs = pair.both("/mysite/static/site.css")
    assert (theirs.status, theirs.body) == (200, b"body { color: black }\n")
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert ours.header("content-type") == theirs.header("content-type") == "text/css"


def test_the_application_still_gets_the_rest_of_its_mount(pair: Pair) -> None:
    ours, theirs = pair.both("/mysite/admin/")
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (
        200, b"app saw /admin/\n")


def test_generator_blocks_arrive_on_time_in_both(pair: Pair) -> None:
    """Apache + mod_python sends each yielded block when it is yielded; so must we."""
    markers = [b"tick 0", b"tick 1", b"tick 2"]
    request = get("/ticks", extra="Connection: close\r\n")
    for port in (pair.modpy_port, pair.apache.port):
        assert_paced(arrivals(port, request, markers), markers, period=0.5)


def test_no_content_drops_the_content_type(pair: Pair) -> None:
    ours, theirs = pair.both("/nocontent")
    assert ours.status == theirs.status == 204
    assert theirs.header("content-type") is None
    assert ours.header("content-type") is None
