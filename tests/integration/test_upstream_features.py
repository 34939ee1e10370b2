"""What mod_python's own suite needed beyond the request API (issue 12), on the real server:
server-side includes (mod_include's INCLUDES filter with mod_python's #python element),
PythonConnectionHandler, a handler's stderr in the ErrorLog, per-virtual-host ErrorLog and
LogLevel, ServerAdmin, ServerPath, conn.keepalive/keepalives, req.chunked, the body read
timeout as mod_python's IOError."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time

import pytest

from tests.support.site import SiteFactory, wait_until

SSI_HANDLER = """from mod_python import apache

def fixup(req):
    req.ssi_globals = {"data": "test"}
    return apache.OK
"""

SSI_PAGE = """<!--#set var="who" value="world" -->\
[<!--#echo var="who" -->]\
[<!--#echo var="nothing" -->]\
<!--#if expr="v('who') == 'world'" -->[yes]<!--#elif expr="-n v('who')" -->[no]<!--#else -->\
[never]<!--#endif -->\
<!--#if expr="!(v('who') =~ /^w/)" -->[wrong]<!--#else -->[re]<!--#endif -->\
[<!--#include file="part.txt" -->]\
[<!--#include virtual="/ssi/part.txt" -->]\
[<!--#include virtual="/aliased/other.txt" -->]\
[<!--#python exec="
filter.write(data[:1])
filter.write(data[1:])
" -->]\
[<!--#python eval="6 * 7" -->]\
[<!--#exec cmd="id" -->]\
[<!--#include virtual="/ssi/h.py" -->]\
[<!--#bogus -->]
"""

SSI_CONFIG = """
Alias /aliased {root}/../elsewhere
AddType text/html .shtml
<Directory {root}/ssi>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    PythonFixupHandler h::fixup
</Directory>
<Directory {root}/noexec>
    Options +IncludesNOEXEC
    SetOutputFilter INCLUDES
</Directory>
<Directory {root}/off>
    SetOutputFilter INCLUDES
</Directory>
"""

ERROR = "[an error occurred while processing this directive]"


def get(server, path: str, host: str = "") -> tuple[int, dict, bytes]:
    """One HTTP/1.1 request on a connection the client would keep alive."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def ssi_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("ssi")
    (base / "elsewhere").mkdir()
    (base / "elsewhere" / "other.txt").write_text("OTHER")
    factory = SiteFactory(base)
    files = {"ssi/h.py": SSI_HANDLER, "ssi/page.shtml": SSI_PAGE, "ssi/part.txt": "PART",
             "ssi/loop.shtml": '<!--#include file="loop.shtml" -->.',
             "noexec/page.shtml": '<!--#python eval="1" -->|<!--#echo var="DOCUMENT_URI" -->',
             "off/page.shtml": '<!--#echo var="DOCUMENT_URI" -->'}
    yield factory.start(SSI_CONFIG, files)
    factory.close()


def test_ssi_elements(ssi_server):
    status, headers, body = get(ssi_server, "/ssi/page.shtml")
    assert status == 200 and headers["Content-Type"].startswith("text/html"), headers
    assert "Last-Modified" not in headers and "ETag" not in headers, headers
    expected = (f"[world][(none)][yes][re][PART][PART][OTHER][test][42][{ERROR}][{ERROR}]"
                f"[{ERROR}]\n")
    assert body.decode() == expected
    errors = ssi_server.errors()
    assert "exec is not supported" in errors and 'unknown directive "bogus"' in errors
    assert "no subrequests" in errors


def test_ssi_include_loop_is_refused(ssi_server):
    _, _, body = get(ssi_server, "/ssi/loop.shtml")
    assert body.decode() == f"{ERROR}."
    assert "recursive or too deep include" in ssi_server.errors()


def test_ssi_noexec_refuses_python_and_off_passes_text(ssi_server):
    _, _, body = get(ssi_server, "/noexec/page.shtml")
    assert body.decode() == f"{ERROR}|/noexec/page.shtml"
    assert "#python used but not allowed" in ssi_server.errors()
    _, _, body = get(ssi_server, "/off/page.shtml")
    assert body.decode() == '<!--#echo var="DOCUMENT_URI" -->'


CONN_HANDLER = """from mod_python import apache

def connectionhandler(conn):
    line = conn.readline()
    conn.write("echo:" + line.decode())
    conn.write(b"local=%d" % conn.local_addr[1])
    return apache.OK
"""


def test_connection_handler_owns_its_port(tmp_path):
    factory = SiteFactory(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        other = probe.getsockname()[1]
    config = (f"Listen {other}\n<VirtualHost 127.0.0.1:{other}>\n"
              f"    PythonPath \"['{{root}}'] + sys.path\"\n"
              "    PythonConnectionHandler conn\n</VirtualHost>\n")
    try:
        server = factory.start(config, {"conn.py": CONN_HANDLER})
        with socket.create_connection(("127.0.0.1", other), timeout=10) as sock:
            sock.sendall(b"hello there\nrest")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data == f"echo:hello there\nlocal={other}".encode()
        status, _, _ = get(server, "/")  # the other listener still speaks HTTP
        assert status in (200, 403, 404)
    finally:
        factory.close()


HANDLERS = """import logging
import sys
from mod_python import apache

def handler(req):
    print("printed-to-stderr", file=sys.stderr)
    logging.getLogger("app").warning("logged-by-app")
    req.log_error("vhost-log-line " + req.hostname, apache.APLOG_INFO)
    req.write("1234")
    chunked = req.chunked
    conn = req.connection
    req.write(" %s %s %s %s %s" % (chunked, conn.keepalive, conn.keepalives, conn.id,
                                  type(conn).__name__))
    req.write(" %s|%s|%s|%s" % (req.server.server_admin, req.server.path,
                               req.subprocess_env.get("SERVER_ADMIN"), str(type(req))))
    req.add_common_vars()
    req.write(" %s" % req.subprocess_env["SERVER_ADMIN"])
    return apache.OK

def slow(req):
    try:
        req.read()
    except IOError as exc:
        req.write("caught %s" % exc)
    return apache.OK
"""

VHOSTS = """
ServerAdmin main@example.com
Timeout 2
PythonPath "['{root}'] + sys.path"
<VirtualHost *>
    ServerName one.test
    ServerPath /one
    ErrorLog {root}/../one.log
    LogLevel debug
    <Location />
        SetHandler mod_python
        PythonHandler h
    </Location>
    <Location /slow>
        SetHandler mod_python
        PythonHandler h::slow
    </Location>
</VirtualHost>
<VirtualHost *>
    ServerName two.test
    ServerAdmin two@example.com
    <Location />
        SetHandler mod_python
        PythonHandler h
    </Location>
</VirtualHost>
"""


@pytest.fixture(scope="module")
def vhost_server(tmp_path_factory):
    factory = SiteFactory(tmp_path_factory.mktemp("vhosts"))
    yield factory.start(VHOSTS, {"h.py": HANDLERS})
    factory.close()


def test_connection_fields_server_admin_and_chunked(vhost_server):
    _, _, body = get(vhost_server, "/x", host="two.test")
    words = body.decode().split(" ", 6)
    # chunked, AP_CONN_KEEPALIVE, one response kept alive, the worker's slot
    assert words[:4] == ["1234", "1", "2", "1"], body
    assert int(words[4]) < 100 and words[5] == "mp_conn", body
    assert words[6] == ("two@example.com|None|None|<class 'mp_request'> two@example.com")
    _, _, body = get(vhost_server, "/x", host="one.test")
    assert body.decode().endswith("main@example.com|/one|None|<class 'mp_request'> "
                                  "main@example.com")


def test_stderr_and_logging_reach_the_error_log_and_vhost_log(vhost_server):
    get(vhost_server, "/x", host="one.test")
    one_log = vhost_server.root.parent / "one.log"
    assert wait_until(lambda: one_log.exists()
                      and "vhost-log-line one.test" in one_log.read_text())
    assert wait_until(lambda: "printed-to-stderr\n" in vhost_server.errors())
    errors = vhost_server.errors()
    assert "logged-by-app" in errors and "vhost-log-line one.test" not in errors
    # raw lines, as httpd writes a child's stderr
    assert any(line == "printed-to-stderr" for line in errors.splitlines())


def test_server_path_selects_the_vhost_without_host(vhost_server):
    with socket.create_connection(("127.0.0.1", vhost_server.port), timeout=10) as sock:
        sock.sendall(b"GET /one/x HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.endswith(b"main@example.com|/one|None|<class 'mp_request'> "
                         b"main@example.com"), data


def test_stalled_body_is_the_handlers_ioerror(vhost_server):
    with socket.create_connection(("127.0.0.1", vhost_server.port), timeout=10) as sock:
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: one.test\r\nContent-Length: 10\r\n\r\n123")
        start = time.monotonic()
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
            if b"caught" in data:
                break
    assert b"200 OK" in data and b"caught Client read error (Timeout?)" in data, data
    assert 1.5 < time.monotonic() - start < 8


def test_stderr_follows_the_error_log_across_usr1(tmp_path):
    factory = SiteFactory(tmp_path)
    config = "PythonPath \"['{root}'] + sys.path\"\n<Location />\n    SetHandler mod_python\n" \
             "    PythonHandler h\n</Location>\n"
    try:
        server = factory.start(config, {"h.py": HANDLERS}, workers=1)
        rotated = server.log.with_name("error.log.1")
        server.log.rename(rotated)
        os.kill(server.pid, signal.SIGUSR1)
        # the worker says so in the new file once it reopened (LogLevel info)
        assert wait_until(lambda: "log files reopened" in server.errors())
        assert get(server, "/x")[0] == 200
        assert wait_until(lambda: "printed-to-stderr" in server.errors())
        assert "printed-to-stderr" not in rotated.read_text()
    finally:
        factory.close()
