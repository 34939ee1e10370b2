"""<VirtualHost addr:port> matched against the listener a request came in on (issue 9,
silent change 4), with two loopback addresses; and `--bind`, which replaces Listen and
leaves the hosts chosen by name only."""

from __future__ import annotations

import http.client

from tests.support.site import SiteFactory, free_port, kill_server, start_server

HANDLER = """from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write(req.server.server_hostname)
    return apache.OK
"""


def vhost(address: str, name: str) -> str:
    return (f"<VirtualHost {address}>\n    ServerName {name}\n    SetHandler mod_python\n"
            "    PythonHandler who\n    PythonPath \"sys.path + ['{root}']\"\n"
            "</VirtualHost>\n")


# SiteFactory adds `Listen 127.0.0.1:{port}`; the same port on 127.0.0.2 is added here.
CONFIG = ("Listen 127.0.0.2:{port}\n" + vhost("127.0.0.1:{port}", "one.test")
          + vhost("*:{port}", "any.test") + vhost("127.0.0.2:*", "internal.test")
          + vhost("*:80", "port80.test"))


def ask(address: str, port: int, host: str) -> str:
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.request("GET", "/x", headers={"Host": host})
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_hosts_answer_only_on_their_address(tmp_path):
    factory = SiteFactory(tmp_path)
    try:
        server = factory.start(CONFIG, {"who.py": HANDLER}, workers=1)
        port = server.port
        assert ask("127.0.0.1", port, "one.test") == "one.test"
        # The exact address's hosts are the only candidates on 127.0.0.1 ...
        assert ask("127.0.0.1", port, "any.test") == "one.test"
        # ... so the internal host never answers there, whatever the Host says.
        assert ask("127.0.0.1", port, "internal.test") == "one.test"
        assert ask("127.0.0.2", port, "internal.test") == "internal.test"
        assert ask("127.0.0.2", port, "nowhere.test") == "internal.test"
    finally:
        factory.close()


def test_bind_replaces_listen_and_hosts_go_by_name(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    (root / "who.py").write_text(HANDLER)
    port, other = free_port(), free_port()
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:{port}\nErrorLog {tmp_path}/error.log\nLogLevel info\n"
                    + CONFIG.format(port=port, root=root))
    server = start_server(tmp_path, conf, other, 1, root, tmp_path / "error.log",
                          ("--bind", f"127.0.0.1:{other}"))
    try:
        assert ask("127.0.0.1", other, "port80.test") == "port80.test"
        assert ask("127.0.0.1", other, "internal.test") == "internal.test"
        assert ask("127.0.0.1", other, "nowhere.test") == "one.test"  # the first host
        assert "virtual hosts are chosen by name only" in server.errors()
    finally:
        kill_server(server)
