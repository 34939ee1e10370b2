"""Static plans over TLS (httpd/staticplan.py, rust/staticplan.rs): the engine answers
repeats of a static request on a TLS connection too, keyed on the SNI name as well as Host
(mod_ssl's 421 depends on both), and only on connections without a client certificate
(mod_ssl's SSLVerifyDepth and SSLUserName may answer otherwise per connection). First the
engine alone (Python never sees a planned request), then the whole server against the same
site served by Python alone: the same answers and access lines, 421s and a per-directory
SSLVerifyDepth's 403 included. Certificates are made at test time; every wait is bounded."""

from __future__ import annotations

import os
import re
import socket
import ssl
import threading
import time

import pytest

from prefork_modpy import _core
from prefork_modpy.config.server import Limits
from prefork_modpy.httpd import errorpages
from tests.support.certs import Pair, make_ca, make_client, make_server
from tests.support.site import SiteFactory, wait_until
from tests.tls.test_tls import SNIConnection

BODY = b"static over tls\n" * 20
PIECES = [b"", "peer", b' "GET /f HTTP/1.1" 200 ', "bytes", b"\n"]
SETTLED = int(time.time()) - 3600


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    base = tmp_path_factory.mktemp("pki")
    ca = make_ca(base)
    return {"ca": ca, "a.test": make_server(base, ca, "a.test"),
            "b.test": make_server(base, ca, "b.test"), "client": make_client(base, ca)}


def client_ctx(pki: dict[str, Pair], who: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki["ca"].cert))
    if who is not None:
        ctx.load_cert_chain(str(pki[who].cert), str(pki[who].key))
    return ctx


# -- the engine alone -------------------------------------------------------------------


class TlsRig:
    """An engine with one TLS listener (a.test and b.test, client certificates optional),
    a planned file and an access log."""

    def __init__(self, tmp_path, pki: dict[str, Pair]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        sites = [([name], str(pki[name].cert), str(pki[name].key), None)
                 for name in ("a.test", "b.test")]
        context = _core.TlsContext(sites, ["TLSv1.2", "TLSv1.3"], verify="optional",
                                   ca_files=[str(pki["ca"].cert)])
        self.engine = _core.Engine([self.sock.fileno()], Limits(), errorpages.STATUS_LINES,
                                   errorpages.error_body, tls=[(self.sock.fileno(), context)])
        self.file = tmp_path / "f.txt"
        self.file.write_bytes(BODY)
        self.log_path = tmp_path / "access.log"
        self.log_fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.python: list[str] = []

    def plan(self, sni: str | None) -> None:
        info = os.stat(self.file)
        self.engine.add_static_plan(
            ("127.0.0.1", self.port), "a.test", "/f", str(self.file),
            (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns),
            None, [("Content-Type", "text/plain")], [(self.log_fd, PIECES)], sni)

    def exchange(self, ctx: ssl.SSLContext, sni: str, count: int) -> list[bytes]:
        """`count` GETs of /f (Host a.test) on one TLS connection with SNI `sni`; the
        bodies. Python's share is answered "py"."""
        result: dict[str, list[bytes]] = {}

        def client() -> None:
            conn = SNIConnection(self.port, ctx, sni)
            try:
                got = []
                for _ in range(count):
                    conn.putrequest("GET", "/f", skip_host=True)
                    conn.putheader("Host", "a.test")
                    conn.endheaders()
                    got.append(conn.getresponse().read())
                result["bodies"] = got
            finally:
                conn.close()

        thread = threading.Thread(target=client)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline:
            raw = self.engine.next_request(0.05)
            if raw is not None:
                self.python.append(raw.tls[2] or "")
                raw.send_response(200, None, [("Content-Type", "text/plain")], b"py", True)
        thread.join(1)
        return result.get("bodies", [])

    def close(self) -> None:
        os.close(self.log_fd)
        self.sock.close()


@pytest.fixture
def rig(tmp_path, pki):
    rig = TlsRig(tmp_path, pki)
    yield rig
    rig.close()


def test_the_engine_answers_tls_repeats_itself(rig, pki) -> None:
    rig.plan("a.test")
    assert rig.exchange(client_ctx(pki), "a.test", 3) == [BODY] * 3
    assert rig.python == []
    lines = rig.log_path.read_text().splitlines()
    assert lines == [f'127.0.0.1 "GET /f HTTP/1.1" 200 {len(BODY)}'] * 3


def test_another_sni_name_goes_to_python(rig, pki) -> None:
    rig.plan("a.test")
    assert rig.exchange(client_ctx(pki), "b.test", 2) == [b"py"] * 2
    assert rig.python == ["b.test", "b.test"]


def test_a_connection_with_a_client_certificate_goes_to_python(rig, pki) -> None:
    rig.plan("a.test")
    assert rig.exchange(client_ctx(pki, "client"), "a.test", 2) == [b"py"] * 2
    assert rig.python == ["a.test", "a.test"]


def test_a_plain_plan_does_not_answer_tls(rig, pki) -> None:
    rig.plan(None)
    assert rig.exchange(client_ctx(pki), "a.test", 1) == [b"py"]


# -- the whole server --------------------------------------------------------------------

LOG_FORMAT = '%V %v %p %{{local}}p \\"%r\\" %>s %b %u \\"%{{User-Agent}}i\\" %f'


def site_config(pki: dict[str, Pair], extra: str) -> str:
    hosts = ""
    for name in ("a.test", "b.test"):
        hosts += f"""
<VirtualHost 127.0.0.1:{{port}}>
    ServerName {name}
    SSLEngine on
    SSLCertificateFile {pki[name].cert}
    SSLCertificateKeyFile {pki[name].key}
    SSLCACertificateFile {pki["ca"].cert}
    SSLVerifyClient optional
</VirtualHost>
"""
    return f"""
ServerName a.test
SSLSessionCache none
LogFormat "{LOG_FORMAT}" tlsplan
CustomLog {{root}}/../access.log tlsplan
<Directory {{root}}/locked>
    SSLVerifyDepth 0
</Directory>
<Directory {{root}}/required>
    SSLVerifyClient require
</Directory>
<Directory {{root}}/named>
    SSLUserName SSL_CLIENT_S_DN_CN
</Directory>
{extra}
{hosts}"""


def start(tmp_path_factory, pki, name: str, extra: str):
    factory = SiteFactory(tmp_path_factory.mktemp(name))
    files = {"static/a.txt": BODY.decode(), "locked/c.txt": "locked\n",
             "required/d.txt": "required\n", "named/e.txt": "named\n"}
    server = factory.start(site_config(pki, extra), files, workers=1)
    for path in files:  # both sites: the same Last-Modified
        os.utime(server.root / path, (SETTLED, SETTLED))
    return factory, server


def session(server, ctx: ssl.SSLContext, sni: str, host: str, path: str,
            count: int) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """`count` GETs on one connection: (status, headers but Date, body) of each."""
    conn = SNIConnection(server.port, ctx, sni)
    answers = []
    try:
        for n in range(count):
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", host)
            conn.putheader("User-Agent", f"{sni} {host} {n}")
            conn.endheaders()
            resp = conn.getresponse()
            # The ETag holds the inode, which differs between the two sites.
            headers = [(k, "ETAG" if k == "ETag" else v) for k, v in resp.getheaders()
                       if k != "Date"]
            answers.append((resp.status, headers, resp.read()))
            if resp.will_close:
                conn.close()
    finally:
        conn.close()
    return answers


def scenario(server, pki) -> list:
    no_cert, with_cert = client_ctx(pki), client_ctx(pki, "client")
    return [
        session(server, no_cert, "a.test", "a.test", "/static/a.txt", 3),
        session(server, no_cert, "b.test", "b.test", "/static/a.txt", 3),
        session(server, no_cert, "a.test", "b.test", "/static/a.txt", 2),  # 421
        session(server, no_cert, "b.test", "a.test", "/static/a.txt", 2),  # 421
        session(server, no_cert, "a.test", "a.test", "/locked/c.txt", 3),
        session(server, with_cert, "a.test", "a.test", "/locked/c.txt", 2),  # 403: depth 0
        session(server, with_cert, "a.test", "a.test", "/static/a.txt", 2),
        # A directory that requires a certificate: its 200s never answer one without.
        session(server, with_cert, "a.test", "a.test", "/required/d.txt", 2),
        session(server, no_cert, "a.test", "a.test", "/required/d.txt", 2),  # 403
        # SSLUserName: each request without a certificate logs that no user was set.
        session(server, no_cert, "a.test", "a.test", "/named/e.txt", 3),
    ]


def access_lines(server) -> list[str]:
    path = server.root.parent / "access.log"
    text = path.read_text() if path.exists() else ""
    return [line.replace(str(server.root), "ROOT").replace(str(server.port), "PORT")
            for line in text.splitlines()]


def test_tls_repeats_answer_and_log_as_python_alone(tmp_path_factory, pki) -> None:
    planned_factory, planned = start(tmp_path_factory, pki, "planned", "LogLevel debug")
    python_factory, python = start(tmp_path_factory, pki, "python",
                                   "MaxRequestsPerChild 1000000")
    try:
        ours, theirs = scenario(planned, pki), scenario(python, pki)
        statuses = [[status for status, _, _ in answers] for answers in ours]
        assert statuses == [[200] * 3, [200] * 3, [421] * 2, [421] * 2, [200] * 3,
                            [403] * 2, [200] * 2, [200] * 2, [403] * 2, [200] * 3]
        assert ours == theirs
        total = sum(len(answers) for answers in ours)
        assert wait_until(lambda: len(access_lines(planned)) == total
                          and len(access_lines(python)) == total, timeout=10)
        assert access_lines(planned) == access_lines(python)
        unset = "Failed to set r->user to 'SSL_CLIENT_S_DN_CN'"
        assert planned.errors().count(unset) == python.errors().count(unset) == 3
        # The engine was given plans for TLS requests: one per (Host, SNI) answered 200.
        plans = re.findall(r"static plan: the engine answers (\S+) \(Host (\S+)\)",
                           planned.errors())
        assert ("/static/a.txt", "a.test") in plans and ("/locked/c.txt", "a.test") in plans
    finally:
        planned_factory.close()
        python_factory.close()
