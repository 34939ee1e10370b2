"""Small helpers shared by the process tests: handler sources, HTTP calls, waiting."""

from __future__ import annotations

import http.client
import threading
from typing import Optional

# Handler modules written into test sites (literal sources, see SiteFactory.start).
APP = '''\
import os
import time

from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("ok %d" % os.getpid())
    return apache.OK


def slow(req):
    # For started(): the request is in a worker now.
    open(os.path.join(os.path.dirname(__file__), "slow-started"), "a").close()
    time.sleep(float(req.args or "1"))
    req.content_type = "text/plain"
    req.write("slow done")
    return apache.OK


def spin(req):
    while True:
        pass


def read_slowly(req):
    # Almost all its time is spent inside the engine's body read (a Rust call).
    while req.read(1):
        pass
    return apache.OK


def sleep_forever(req):
    time.sleep(10**6)
    return apache.OK


def whoami(req):
    req.content_type = "text/plain"
    req.write("%d %d %s" % (os.getuid(), os.getgid(), sorted(os.getgroups())))
    return apache.OK


def whois(req):
    req.content_type = "text/plain"
    conn = req.connection
    req.write("%s %s %s" % (conn.remote_ip, req.useragent_ip, conn.remote_addr[1]))
    return apache.OK


HOG = []


def hog(req):
    HOG.append(bytearray(64 * 1024 * 1024))
    req.content_type = "text/plain"
    req.write("hogging")
    return apache.OK
'''

APP_CONF = """
<Location /app>
    SetHandler mod_python
    PythonHandler app
    PythonPath "sys.path + ['{root}']"
</Location>
<Location /slow>
    SetHandler mod_python
    PythonHandler app::slow
    PythonPath "sys.path + ['{root}']"
</Location>
"""


def get(port: int, path: str, timeout: float = 10.0,
        headers: Optional[dict[str, str]] = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        conn.close()


def answers(port: int, path: str, status: int = 200) -> bool:
    """For wait_until: whether `path` answers `status` now (False on a connection error)."""
    try:
        return get(port, path, timeout=5)[0] == status
    except OSError:
        return False


def slow_started(server) -> bool:
    """For wait_until: whether a worker has begun an `app::slow` request of `server`."""
    return (server.root / "slow-started").exists()


class Background(threading.Thread):
    """One request in a thread (a slow request in flight during a signal)."""

    def __init__(self, port: int, path: str, timeout: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.timeout = port, path, timeout
        self.result: Optional[tuple[int, dict[str, str], bytes]] = None
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            self.result = get(self.port, self.path, self.timeout)
        except BaseException as exc:  # reported by the test
            self.error = exc

