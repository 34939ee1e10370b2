"""Handlers for test_deploy_compat.py: what a deployed WSGI site meets (issue 13)."""

import time

from mod_python import apache


def where(environ, start_response):
    """Says which request reached the application."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app saw " + (environ.get("PATH_INFO") or "").encode() + b"\n"]


def ticks(environ, start_response):
    """Lines meant for 0, 0.5 and 1.0 s."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    for n in range(3):
        if n:
            time.sleep(0.5)
        yield b"tick %d\n" % n


def no_content(req):
    """A native 204 whose handler set a Content-Type."""
    req.status = 204
    req.content_type = "text/html"
    return apache.OK
