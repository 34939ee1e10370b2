"""Handler lookup, return values, PythonDebug pages and the request object."""

import http.client
import json
import socket

import pytest

from tests.support.site import SiteFactory
from tests.support.wire import raw_exchange, read_until_close

BEHAVIOURS = ["ok", "spam", "declined", "done", "forbidden", "not_found", "created",
              "raise_404", "boom", "none_result", "frozen", "echo", "echo_lines", "options",
              "attributes", "readonly", "stream", "big"]


def site_config() -> str:
    parts = ["""
<Directory {root}/b>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonDebug On
    PythonOption color blue
    PythonOption shape round
</Directory>
<Directory {root}/quiet>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler behaviours::boom
</Directory>
<Directory {root}/stack>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler behaviours::raise_ok behaviours::spam
</Directory>
<Directory {root}/stackdecl>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler behaviours::declined behaviours::spam
</Directory>
<Directory {root}/tut>
    AddHandler mod_python .py
    PythonHandler myscript::handler
</Directory>
<Directory {root}/pk>
    AddHandler mod_python .py
    PythonHandler sub.pkg_myscript
</Directory>
"""]
    for name in BEHAVIOURS:
        parts.append(f"<Directory {{root}}/b/{name}>\n    PythonHandler behaviours::{name}\n"
                     "</Directory>\n")
    parts.append("<Directory {root}/b/options>\n    PythonOption shape\n"
                 "    PythonOption size big\n</Directory>\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    factory = SiteFactory(tmp_path_factory.mktemp("dispatch"))
    files = {"lib/behaviours.py": "handlers/behaviours.py",
             "tut/myscript.py": "handlers/myscript.py",
             "pk/sub/pkg_myscript.py": "handlers/pkg_myscript.py",
             "stackdecl/static.txt": "static file body",
             "b/declined/file.txt": "declined to static",
             "quiet/.keep": "", "stack/.keep": "",
             "plain/example.py": "print('an example')\n", "plain/notes.txt~": "old notes\n",
             "plain/.hidden": "dot-file\n"}
    for name in BEHAVIOURS:
        files[f"b/{name}/.keep"] = ""
    yield factory.start(site_config(), files, workers=2)
    factory.close()


def request(server, path, method="GET", body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_module_function_notation(server):
    response, body = request(server, "/b/spam/anything")
    assert (response.status, body) == (200, b"spam")


def test_explicit_default_function(server):
    response, body = request(server, "/tut/x.py")
    assert (response.status, body) == (200, b"Hello World!")


def test_package_notation(server):
    response, body = request(server, "/pk/whatever.py")
    assert (response.status, body) == (200, b"from the package")


def test_ok(server):
    response, body = request(server, "/b/ok/")
    assert (response.status, body) == (200, b"ok")


def test_done_sends_what_was_written(server):
    response, body = request(server, "/b/done/x")
    assert (response.status, body) == (200, b"done")


@pytest.mark.parametrize("name,status", [("forbidden", 403), ("not_found", 404),
                                         ("raise_404", 404)])
def test_http_codes_give_apache_error_pages(server, name, status):
    response, body = request(server, f"/b/{name}/x")
    assert response.status == status
    assert response.getheader("Content-Type") == "text/html; charset=iso-8859-1"
    assert b"<title>%d " % status in body


def test_req_status_with_ok(server):
    response, body = request(server, "/b/created/x")
    assert (response.status, body) == (201, b"created")


def test_declined_falls_to_static_file(server):
    response, body = request(server, "/b/declined/file.txt")
    assert (response.status, body) == (200, b"declined to static")


def test_declined_falls_to_404_when_no_file(server):
    response, _ = request(server, "/b/declined/missing.txt")
    assert response.status == 404


def test_declined_never_serves_handler_source(server):
    # The directory holds behaviours.py under lib/, but a DECLINED .py must never leak.
    (server.root / "b" / "declined" / "secret.py").write_text("password = 1\n")
    response, body = request(server, "/b/declined/secret.py")
    assert response.status == 404
    assert b"password" not in body


def test_plain_directory_serves_python_named_files(server):
    """Issue 13 point 7: only handler source is refused; a directory with no Python
    handler serves `.py` and backup names as Apache does (dot-files stay refused)."""
    assert request(server, "/plain/example.py")[1] == b"print('an example')\n"
    assert request(server, "/plain/notes.txt~")[1] == b"old notes\n"
    assert request(server, "/plain/.hidden")[0].status == 404


def test_loaded_handler_module_is_never_served(server):
    """lib/ has no handler, but behaviours.py is the module the handlers load."""
    assert request(server, "/b/spam/anything")[0].status == 200
    response, body = request(server, "/lib/behaviours.py")
    assert response.status == 404 and b"def " not in body


def test_server_return_ok_lets_next_handler_run(server):
    response, body = request(server, "/stack/x")
    assert (response.status, body) == (200, b"first;spam")


def test_declined_stops_content_phase_list(server):
    # mod_python 3.3+: only OK continues a PythonHandler list; DECLINED goes to the default.
    response, body = request(server, "/stackdecl/static.txt")
    assert (response.status, body) == (200, b"static file body")


def test_debug_on_shows_escaped_traceback(server):
    response, body = request(server, "/b/boom/x")
    assert response.status == 500
    assert response.getheader("Content-Type") == "text/html"
    text = body.decode()
    assert text.startswith('\n<pre>\nMod_python error: "PythonHandler behaviours::boom"\n\n')
    assert "Traceback (most recent call last):" in text
    assert "ValueError: kaboom &lt;b&gt;" in text
    assert text.endswith("</pre>\n")


def test_debug_off_gives_plain_500_and_logs_traceback(server):
    response, body = request(server, "/quiet/x")
    assert response.status == 500
    assert b"Traceback" not in body and b"kaboom" not in body
    assert b"Internal Server Error" in body
    log = server.errors()
    assert "PythonHandler behaviours::boom: Traceback (most recent call last):" in log
    assert "ValueError: kaboom <b>" in log


def test_non_int_result_is_an_error(server):
    response, body = request(server, "/b/none_result/x")
    assert response.status == 500
    assert b"non integer type" in body


def test_headers_frozen_at_first_write(server):
    response, body = request(server, "/b/frozen/x")
    assert response.status == 200
    assert body == b"ab"
    assert response.getheader("Content-Type") == "text/plain"
    assert response.getheader("X-Before") == "yes"
    assert response.getheader("X-After") is None


def test_post_body_read(server):
    payload = bytes(range(256)) * 40
    response, body = request(server, "/b/echo/x", method="POST", body=payload)
    assert response.status == 200
    assert body == payload
    assert response.getheader("X-Length") == str(len(payload))


def test_post_large_body_read(server):
    payload = b"0123456789" * 50_000
    response, body = request(server, "/b/echo/x", method="POST", body=payload)
    assert body == payload


def test_readlines(server):
    response, body = request(server, "/b/echo_lines/x", method="POST", body=b"a\nbb\nccc")
    assert json.loads(body) == ["a\n", "bb\n", "ccc"]


def test_get_options_merge_and_unset(server):
    response, body = request(server, "/b/options/x")
    assert json.loads(body) == {"color": "blue", "size": "big"}


def test_request_attributes(server):
    response, body = request(server, "/b/attributes/some/path%20x?q=1&r=2",
                             headers={"X-Test": "hello", "Host": "example.test:8080"})
    data = json.loads(body)
    root = str(server.root)
    assert data["method"] == "GET"
    assert data["uri"] == "/b/attributes/some/path x"
    assert data["unparsed_uri"] == "/b/attributes/some/path%20x?q=1&r=2"
    assert data["args"] == "q=1&r=2"
    assert data["protocol"] == "HTTP/1.1"
    assert data["proto_num"] == 1001
    assert data["the_request"] == "GET /b/attributes/some/path%20x?q=1&r=2 HTTP/1.1"
    assert data["filename"] == f"{root}/b/attributes/some"
    assert data["path_info"] == "/path x"
    assert data["hostname"] == "example.test"
    assert data["remote_ip"] == "127.0.0.1"
    assert data["header_x_test"] == "hello"
    assert data["has_host"] is True
    assert data["phase"] == "PythonHandler"
    assert data["handler"] == "mod_python"
    assert data["document_root"] == root
    assert data["config_debug"] == "1"
    assert "attributes handler ran" in server.errors()


def test_args_none_without_query(server):
    _, body = request(server, "/b/attributes/x")
    assert json.loads(body)["args"] is None


def test_readonly_attribute(server):
    _, body = request(server, "/b/readonly/x")
    assert body in (b"AttributeError", b"TypeError")


def test_streamed_response_is_chunked(server):
    response, body = request(server, "/b/stream/x")
    assert body == b"part0;part1;part2;part3;part4;"
    assert response.getheader("Transfer-Encoding") == "chunked"


def test_large_response(server):
    response, body = request(server, "/b/big/x")
    assert len(body) == 32 * 65536


def test_static_file_content_type_and_404(server):
    (server.root / "page.html").write_text("<p>hi</p>")
    response, body = request(server, "/page.html")
    assert (response.status, body) == (200, b"<p>hi</p>")
    assert response.getheader("Content-Type") == "text/html"
    response, _ = request(server, "/nope.html")
    assert response.status == 404


@pytest.mark.parametrize("target", [b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd",
                                    b"/b/..%2f..%2fetc/passwd", b"/%00", b"/%c0%ae%c0%ae/"])
def test_traversal_refused(server, target):
    reply = raw_exchange(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n")
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 403, 404)
    assert b"root:" not in reply


def test_symlink_out_of_root_is_forbidden(server):
    link = server.root / "etc-link"
    if not link.exists():
        link.symlink_to("/etc")
    response, body = request(server, "/etc-link/hostname")
    assert response.status == 403


def test_directory_without_slash_redirects(server):
    (server.root / "adir").mkdir(exist_ok=True)
    response, _ = request(server, "/adir?x=1")
    assert response.status == 301
    assert response.getheader("Location").endswith("/adir/?x=1")


def test_malformed_request_line_gets_400_and_worker_lives(server):
    workers_before = server.workers()
    reply = raw_exchange(server.port, b"GARBAGE\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400")
    for _ in range(10):
        response, body = request(server, "/b/ok/")
        assert body == b"ok"
    assert server.workers() == workers_before


def test_pipelined_requests_answered_in_order(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /b/ok/ HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /b/spam/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = read_until_close(sock)
    assert data.count(b"HTTP/1.1 200") == 2
    assert data.index(b"\r\n\r\nok") < data.index(b"\r\n\r\nspam")


def test_options_star_answers_for_the_server(server):
    reply = raw_exchange(server.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"\r\nAllow: GET,HEAD,POST,OPTIONS\r\n" in reply
