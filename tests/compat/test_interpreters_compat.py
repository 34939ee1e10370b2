"""Named interpreters (issue 11): each interpreter name has its own sys.modules, sys.path and
module state, compared with Apache httpd + mod_python 3.5 (real sub-interpreters).

Two directories with PythonInterpreter and their own PythonPath each import their own
`settings`; two name-based virtual hosts without PythonInterpreter are isolated by default;
PythonInterpPerDirectory gives each directory its own interpreter (PythonInterpPerDirective
the directive's). State one interpreter sets (`sys.some_flag`, a `logging` handler) is
checked from the other on the same keep-alive connection, hence in the same worker process."""

from __future__ import annotations

import http.client
import json
from typing import Any

from .conftest import Pair, fetch

PROBE = "    SetHandler mod_python\n    PythonHandler interp_probe\n    PythonDebug On\n"

FRAGMENT = (
    "ServerName 127.0.0.1\n"
    "<Directory {root}/a>\n" + PROBE +
    "    PythonInterpreter app_a\n    PythonPath \"['{root}/a', '{root}/a_lib'] + sys.path\"\n"
    "</Directory>\n"
    "<Directory {root}/b>\n" + PROBE +
    "    PythonInterpreter app_b\n    PythonPath \"['{root}/b', '{root}/b_lib'] + sys.path\"\n"
    "</Directory>\n"
    "<Directory {root}/pd>\n" + PROBE + "    PythonInterpPerDirectory On\n</Directory>\n"
    "<Directory {root}/vh>\n" + PROBE + "</Directory>\n"
    "<Directory {root}/pdir>\n" + PROBE + "    PythonInterpPerDirective On\n</Directory>\n"
    "<VirtualHost *>\n    ServerName one.test\n    DocumentRoot {root}\n</VirtualHost>\n"
    "<VirtualHost *>\n    ServerName two.test\n    DocumentRoot {root}\n</VirtualHost>\n"
)

FILES = {
    "a/interp_probe.py": "handlers/interp_probe.py",
    "b/interp_probe.py": "handlers/interp_probe.py",
    "pd/interp_probe.py": "handlers/interp_probe.py",
    "vh/interp_probe.py": "handlers/interp_probe.py",
    "pdir/interp_probe.py": "handlers/interp_probe.py",
    "a_lib/settings.py": "NAME = 'A'\n",
    "b_lib/settings.py": "NAME = 'B'\n",
    "pd/settings.py": "NAME = 'pd'\n",
    "vh/settings.py": "NAME = 'vh'\n",
    "pd/one/page.txt": "one\n",
    "pd/two/page.txt": "two\n",
}

ROUNDS = 40  # interleaved request pairs per server, each on a fresh connection


def report(port: int, path: str, host: str = "one.test") -> dict[str, Any]:
    reply = fetch(port, path, headers={"Host": host})
    assert reply.status == 200, reply.body[:2000]
    return json.loads(reply.body)


def on_one_connection(port: int, requests: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Requests (host, path) on one keep-alive connection: one worker serves them all."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        answers = []
        for host, path in requests:
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, body[:2000]
            answers.append(json.loads(body))
        return answers
    finally:
        conn.close()


def ports(pair: Pair) -> dict[str, int]:
    return {"prefork-modpy": pair.modpy_port, "apache": pair.apache.port}


def test_each_directory_imports_its_own_settings(pair: Pair) -> None:
    for server, port in ports(pair).items():
        seen = set()
        for _ in range(ROUNDS):
            a, b = report(port, "/a/x"), report(port, "/b/x")
            assert (a["settings"], a["interpreter"]) == ("A", "app_a"), server
            assert (b["settings"], b["interpreter"]) == ("B", "app_b"), server
            assert a["settings_file"].endswith("/a_lib/settings.py"), server
            seen.add((json.dumps(a["path_counts"]), json.dumps(b["path_counts"])))
        assert len(seen) == 1, (server, seen)  # sys.path does not grow request by request


def test_python_path_is_applied_once_per_interpreter(pair: Pair) -> None:
    for server, port in ports(pair).items():
        for _ in range(4):
            a, b = report(port, "/a/x"), report(port, "/b/x")
        root = str(pair.root)
        assert a["path_counts"].get(f"{root}/a_lib") == 1, (server, a)
        assert f"{root}/b_lib" not in a["path_counts"], (server, a)
        assert b["path_counts"].get(f"{root}/b_lib") == 1, (server, b)
        assert f"{root}/a_lib" not in b["path_counts"], (server, b)


def test_state_set_in_one_interpreter_is_invisible_in_another(pair: Pair) -> None:
    for server, port in ports(pair).items():
        a_set, b_after, a_again, b_set, a_last = on_one_connection(port, [
            ("one.test", "/a/x?set=from_a"), ("one.test", "/b/x"), ("one.test", "/a/x"),
            ("one.test", "/b/x?set=from_b"), ("one.test", "/a/x")])
        assert a_set["flag"] == "from_a" and a_set["log_handlers"] >= 1, server
        assert b_after["flag"] is None and b_after["log_handlers"] == 0, (server, b_after)
        assert a_again["flag"] == "from_a", (server, a_again)
        assert a_again["log_handlers"] == a_set["log_handlers"], server
        assert b_set["flag"] == "from_b" and b_set["log_handlers"] == 1, server
        assert a_last["flag"] == "from_a", server
        assert a_set["server_return_shared"] and b_set["server_return_shared"], server


def test_virtual_hosts_are_isolated_by_default(pair: Pair) -> None:
    for server, port in ports(pair).items():
        one_set, two, one = on_one_connection(port, [
            ("one.test", "/vh/x?set=one"), ("two.test", "/vh/x"), ("one.test", "/vh/x")])
        assert one_set["interpreter"] == "one.test" and two["interpreter"] == "two.test"
        assert two["flag"] is None and two["log_handlers"] == 0, (server, two)
        assert one["flag"] == "one", (server, one)
        assert one["settings"] == two["settings"] == "vh", server


def test_interp_per_directory(pair: Pair) -> None:
    root = str(pair.root)
    for server, port in ports(pair).items():
        one_set, two, one = on_one_connection(port, [
            ("one.test", "/pd/one/page.txt?set=pd_one"), ("one.test", "/pd/two/page.txt"),
            ("one.test", "/pd/one/page.txt")])
        assert one_set["interpreter"] == f"{root}/pd/one/", (server, one_set)
        assert two["interpreter"] == f"{root}/pd/two/", (server, two)
        assert two["flag"] is None and one["flag"] == "pd_one", (server, two, one)


def test_same_reports_on_both_servers(pair: Pair) -> None:
    """Apart from the state of earlier tests, both servers report the same interpreter view."""
    for path, host in (("/a/x", "one.test"), ("/b/x", "two.test"), ("/vh/x", "two.test"),
                       ("/pdir/x", "one.test"), ("/pd/two/page.txt", "two.test")):
        ours, theirs = report(pair.modpy_port, path, host), report(pair.apache.port, path, host)
        for key in ("interpreter", "settings", "settings_file", "server_return_shared"):
            assert ours[key] == theirs[key], (path, key, ours[key], theirs[key])
        site = str(pair.root)  # the server's own start directory may also be on sys.path
        assert {entry: count for entry, count in ours["path_counts"].items()
                if entry.startswith(site)} == theirs["path_counts"], path
