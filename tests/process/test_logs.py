"""Access and error logs: LogFormat/CustomLog, escaping, JSON, SIGUSR1 reopen."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from tests.support.site import wait_until
from tests.support.wire import raw_exchange

from .helpers import APP, APP_CONF, get
from .loadgen import LoadGenerator


def log_conf(tmp_root: str) -> str:
    return APP_CONF + (
        'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\" '
        '%D %{{X-Trace}}i" custom\n'
        "CustomLog {root}/../access.log combined\n"
        "CustomLog {root}/../custom.log custom\n"
        "CustomLog {root}/../json.log json\n")


def read_lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_combined_common_and_json_lines(site):
    server = site(log_conf(""), {"app.py": APP})
    base = server.root.parent
    status, _, body = get(server.port, "/app/x?q=1", headers={
        "Referer": "http://ref/", "User-Agent": "tester/1.0", "X-Trace": "abc"})
    assert status == 200
    assert wait_until(lambda: read_lines(base / "json.log"))
    line = read_lines(base / "access.log")[0]
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                        r'"GET /app/x\?q=1 HTTP/1\.1" 200 \d+ "http://ref/" "tester/1\.0"',
                        line), line
    assert line.split('"')[2].split() == ["200", str(len(body))]
    custom = read_lines(base / "custom.log")[0]
    assert custom.endswith(" abc") and re.search(r'" \d+ abc$', custom)
    record = json.loads(read_lines(base / "json.log")[0])
    assert record["status"] == 200 and record["uri"] == "/app/x?q=1"
    assert record["bytes"] == len(body) and record["user_agent"] == "tester/1.0"
    assert record["duration_us"] >= 0 and record["method"] == "GET"


def test_custom_log_env_condition(site):
    """mod_log_config's `env=`: `env=!dontlog` skips what SetEnvIf marked, `env=name` logs
    only that (cobbler's public config logs this way)."""
    conf = APP_CONF + ('SetEnvIf Request_URI "\\.png$" dontlog\n'
                       "CustomLog {root}/../site.log common env=!dontlog\n"
                       "CustomLog {root}/../images.log common env=dontlog\n")
    server = site(conf, {"app.py": APP})
    base = server.root.parent
    for path in ("/app/page", "/app/logo.png", "/app/other"):
        assert get(server.port, path)[0] == 200
    assert wait_until(lambda: len(read_lines(base / "site.log")) == 2)
    assert wait_until(lambda: len(read_lines(base / "images.log")) == 1)
    # Each worker writes its line after its response: two workers may log out of order.
    assert sorted(line.split('"')[1] for line in read_lines(base / "site.log")) == \
        ["GET /app/other HTTP/1.1", "GET /app/page HTTP/1.1"]
    assert "GET /app/logo.png HTTP/1.1" in read_lines(base / "images.log")[0]


def test_headers_cannot_inject_log_lines(site):
    server = site(log_conf(""), {"app.py": APP})
    base = server.root.parent
    # Control bytes in a field value are refused by the engine (400, not logged); quotes,
    # backslashes and bytes above 0x7f get through and must be escaped.
    evil = 'x" 200 1 "fake\xe9'
    assert get(server.port, "/app/x", headers={"User-Agent": evil, "Referer": "a\\b"})[0] == 200
    # A raw request line with a control byte the engine still accepts in the target
    raw_exchange(server.port, b"GET /app/%0a\"x HTTP/1.0\r\n\r\n")
    assert wait_until(lambda: len(read_lines(base / "json.log")) == 2)
    lines = read_lines(base / "access.log")
    assert len(lines) == 2
    # Two workers may write their lines in either order (each after its response).
    evil_line, raw_line = sorted(lines, key=lambda line: "HTTP/1.0" in line)
    assert '"x\\" 200 1 \\"fake\\xe9"' in evil_line
    assert '"a\\\\b"' in evil_line
    assert '"GET /app/%0a\\"x HTTP/1.0"' in raw_line
    for line in read_lines(base / "json.log"):
        assert line.isascii() and json.loads(line)


def test_usr1_reopens_logs_and_loses_no_line(site):
    server = site(log_conf(""), {"app.py": APP}, workers=2)
    base = server.root.parent
    first = LoadGenerator(server.port, "/app/x", threads=2, duration=5,
                          max_requests=200).start().join()
    assert first.ok == 200
    assert wait_until(lambda: len(read_lines(base / "access.log")) == 200)
    os.rename(base / "access.log", base / "access.log.1")
    os.rename(server.log, str(server.log) + ".1")
    os.kill(server.pid, signal.SIGUSR1)
    # Each worker says so in the new error log once its files are reopened.
    assert wait_until(lambda: server.errors().count("log files reopened") == 2)
    second = LoadGenerator(server.port, "/app/x", threads=2, duration=5,
                           max_requests=300).start().join()
    assert second.ok == 300
    assert wait_until(lambda: len(read_lines(base / "access.log")) == 300)
    assert len(read_lines(base / "access.log.1")) == 200
    os.kill(server.pid, signal.SIGHUP)  # the master writes to the new error log too
    assert wait_until(lambda: "generation 2 is serving" in server.errors())


def test_usr1_while_workers_boot_kills_none(site):
    """SIGUSR1 reaches booting workers too, whose default action for it is to die: a worker
    must hold it until its handler is in place (under load one died and its reopen was
    lost). New workers boot here while SIGUSR1 keeps coming."""
    server = site(APP_CONF, {"app.py": APP}, workers=1)
    for _ in range(8):
        os.kill(server.pid, signal.SIGTTIN)
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            os.kill(server.pid, signal.SIGUSR1)
            time.sleep(0.002)
        os.kill(server.pid, signal.SIGTTOU)
        assert wait_until(lambda: len(server.workers()) == 1)
    deaths = [line for line in server.errors().splitlines() if "exited with signal" in line]
    assert not deaths, deaths


def test_bad_log_format_is_a_config_error(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text('Listen 127.0.0.1:1\nLogFormat "%h %Z" bad\n')
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1 and f"{conf}:2: LogFormat:" in result.stderr
    conf.write_text("Listen 127.0.0.1:1\nCustomLog /tmp/x.log nosuchnick\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1 and f"{conf}:2: CustomLog: unknown log format" in result.stderr
