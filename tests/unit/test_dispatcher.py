"""The dispatcher driven without sockets: a real config, a real Runtime and Dispatcher, and
a recording stand-in for the engine's RawRequest (tests/support/fakeraw.py). What is checked
is what the dispatcher hands the engine: status, headers, body, framing (complete or
streamed), for the phase walk and the error paths.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Iterator

import pytest

from prefork_modpy.modpy.dispatch import Dispatcher
from tests.support.dispatching import dispatcher_for
from tests.support.fakeraw import FakeRawRequest

HANDLERS = '''
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("Hello World!")
    return apache.OK

def forbidden(req):
    return apache.HTTP_FORBIDDEN

def broken(req):
    raise RuntimeError("boom in the handler")

def streaming(req):
    req.content_type = "text/plain"
    req.write("first")
    req.flush()
    req.write("second")
    return apache.OK

def deny(req):
    return apache.HTTP_FORBIDDEN

def echo(req):
    req.content_type = "text/plain"
    req.write(req.read())
    return apache.OK

def redirect(req):
    req.internal_redirect("/app/hello.py")
    return apache.OK
'''

CONFIG = """
Listen 127.0.0.1:8080
ServerName localhost
DocumentRoot {root}
ErrorLog {root}/../error.log
<Directory {root}/app>
    AddHandler mod_python .py
    PythonHandler handlers
    PythonDebug Off
    <Files forbidden.py>
        PythonHandler handlers::forbidden
    </Files>
    <Files broken.py>
        PythonHandler handlers::broken
    </Files>
    <Files debug.py>
        PythonHandler handlers::broken
        PythonDebug On
    </Files>
    <Files streaming.py>
        PythonHandler handlers::streaming
    </Files>
    <Files guarded.py>
        PythonAccessHandler handlers::deny
    </Files>
    <Files echo.py>
        PythonHandler handlers::echo
    </Files>
    <Files redirect.py>
        PythonHandler handlers::redirect
    </Files>
</Directory>
"""


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory) -> Iterator[Dispatcher]:
    base = tmp_path_factory.mktemp("dispatch")
    root = base / "htdocs"
    app = root / "app"
    app.mkdir(parents=True)
    (app / "handlers.py").write_text(HANDLERS)
    for name in ("hello", "forbidden", "broken", "debug", "streaming", "guarded", "echo",
                 "redirect"):
        (app / f"{name}.py").write_text("# served by handlers.py\n")
    (root / "static.txt").write_text("static body\n")
    with dispatcher_for(base / "site.conf", CONFIG.format(root=root)) as dispatcher:
        yield dispatcher


def serve(dispatcher: Dispatcher, target: str, **kwargs) -> FakeRawRequest:
    """One request, dispatched in a forked child as a worker would: entering a named
    interpreter swaps sys.modules, which must not happen to pytest's own process."""
    raw = FakeRawRequest(target, **kwargs)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: serve, send back what reached the "wire", leave at once
        try:
            os.close(read_end)
            dispatcher.handle(raw)
            with os.fdopen(write_end, "wb") as out:
                pickle.dump(raw.__dict__, out)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as result:
        data = result.read()
    os.waitpid(pid, 0)
    raw.__dict__.update(pickle.loads(data))
    assert not raw.aborted
    return raw


def test_tutorial_handler_goes_out_whole(dispatcher):
    raw = serve(dispatcher, "/app/hello.py")
    assert (raw.status, raw.body, raw.complete) == (200, b"Hello World!", True)
    assert raw.sent_header("Content-Type") == "text/plain"


def test_head_request_runs_the_handler_without_a_body(dispatcher):
    raw = serve(dispatcher, "/app/hello.py", method="HEAD")
    assert (raw.status, raw.body) == (200, b"")


def test_returned_status_becomes_apaches_error_page(dispatcher):
    raw = serve(dispatcher, "/app/forbidden.py")
    assert raw.status == 403
    assert b"<title>403 Forbidden</title>" in raw.body
    assert raw.sent_header("Content-Type") == "text/html; charset=iso-8859-1"


def test_exception_without_debug_is_a_plain_500(dispatcher):
    raw = serve(dispatcher, "/app/broken.py")
    assert raw.status == 500
    assert b"boom in the handler" not in raw.body
    assert b"Internal Server Error" in raw.body


def test_exception_with_python_debug_shows_the_traceback(dispatcher):
    raw = serve(dispatcher, "/app/debug.py")
    assert raw.status == 500
    assert b"RuntimeError: boom in the handler" in raw.body
    assert b'Mod_python error: "PythonHandler handlers::broken"' in raw.body


def test_flush_streams_the_response(dispatcher):
    raw = serve(dispatcher, "/app/streaming.py")
    assert (raw.status, raw.complete, raw.finished) == (200, False, True)
    assert raw.body == b"firstsecond"


def test_access_phase_refusal_skips_the_content_handler(dispatcher):
    raw = serve(dispatcher, "/app/guarded.py")
    assert raw.status == 403
    assert b"Hello World!" not in raw.body


def test_request_body_reaches_the_handler(dispatcher):
    raw = serve(dispatcher, "/app/echo.py", method="POST", body=b"posted bytes")
    assert (raw.status, raw.body) == (200, b"posted bytes")


def test_internal_redirect_answers_with_the_target(dispatcher):
    raw = serve(dispatcher, "/app/redirect.py")
    assert (raw.status, raw.body) == (200, b"Hello World!")


def test_static_file_and_missing_file(dispatcher):
    raw = serve(dispatcher, "/static.txt")
    assert (raw.status, raw.body) == (200, b"static body\n")
    assert serve(dispatcher, "/missing.txt").status == 404


def test_handler_source_is_never_served_statically(dispatcher):
    raw = serve(dispatcher, "/app/handlers.py")
    assert raw.body != Path(dispatcher.config.main.document_root, "app/handlers.py").read_bytes()


def test_bad_target_is_refused_before_any_phase(dispatcher):
    raw = serve(dispatcher, "/app/%00.py")
    assert raw.status in (400, 404)
