"""The tutorial's "Hello World!" handler as a WSGI app, for gunicorn and granian.

Same bytes on the wire as mod_python's tutorial handler: status 200, Content-Type text/plain,
body `Hello World!` (12 bytes).
"""

from typing import Callable, Iterable

BODY = b"Hello World!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]
