"""The mod_python manual's section 3.3 example, served end to end."""

import http.client
import re
import urllib.request
from pathlib import Path

import pytest

from tests.support.site import free_port, kill_server, start_server

REPO = Path(__file__).resolve().parents[2]

TUTORIAL_CONF = """
<Directory {root}/mywebdir>
    AddHandler mod_python .py
    PythonHandler myscript
    PythonDebug On
</Directory>
"""


@pytest.fixture
def tutorial(site):
    return site(TUTORIAL_CONF, {"mywebdir/myscript.py": "handlers/myscript.py"}, workers=2)


def get(server, path, method="GET", headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


@pytest.mark.parametrize("path", ["/mywebdir/myscript.py", "/mywebdir/montypython.py"])
def test_tutorial_urls_say_hello_world(tutorial, path):
    response, body = get(tutorial, path)
    assert response.status == 200
    assert body == b"Hello World!"
    assert response.getheader("Content-Type") == "text/plain"
    assert response.getheader("Content-Length") == "12"


def test_tutorial_with_urllib(tutorial):
    with urllib.request.urlopen(tutorial.url("/mywebdir/myscript.py"), timeout=10) as response:
        assert response.read() == b"Hello World!"


def test_keep_alive_serves_many_requests_on_one_connection(tutorial):
    conn = http.client.HTTPConnection("127.0.0.1", tutorial.port, timeout=10)
    for _ in range(20):
        conn.request("GET", "/mywebdir/myscript.py")
        response = conn.getresponse()
        assert response.read() == b"Hello World!"
        assert not response.will_close
    conn.close()


def test_http_10_closes_after_response(tutorial):
    from tests.support.wire import raw_exchange

    reply = raw_exchange(tutorial.port, b"GET /mywebdir/x.py HTTP/1.0\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    assert body == b"Hello World!"


def test_head_has_headers_but_no_body(tutorial):
    response, body = get(tutorial, "/mywebdir/myscript.py", method="HEAD")
    assert response.status == 200
    assert body == b""
    assert response.getheader("Content-Type") == "text/plain"


def test_non_python_extension_is_not_handled(tutorial):
    (tutorial.root / "mywebdir" / "notes.txt").write_text("plain text file")
    response, body = get(tutorial, "/mywebdir/notes.txt")
    assert response.status == 200
    assert body == b"plain text file"
    assert response.getheader("Content-Type").startswith("text/plain")


def test_the_config_make_run_serves(tmp_path):
    """`make run` serves examples/tutorial/site.conf: that file, unchanged, answers the
    tutorial's two URLs (only the port moves, by --bind, as 8080 may be taken here)."""
    run = re.search(r"^run:.*\n\t.*--config (\S+)", (REPO / "Makefile").read_text(), re.M)
    assert run is not None, "the Makefile's run target names no --config"
    conf = REPO / run.group(1)
    port = free_port()
    server = start_server(tmp_path, conf, port, 2, conf.parent / "srv", tmp_path / "error.log",
                          ("--bind", f"127.0.0.1:{port}"))
    try:
        for path in ("/mywebdir/myscript.py", "/mywebdir/montypython.py"):
            with urllib.request.urlopen(server.url(path), timeout=10) as response:
                assert (response.status, response.read()) == (200, b"Hello World!")
                assert response.headers["Content-Type"] == "text/plain"
    finally:
        kill_server(server)
