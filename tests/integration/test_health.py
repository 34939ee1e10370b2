"""`SetHandler server-health` and `GracefulShutdownHealthDelay`: a balancer's health check
turns 503 as soon as a graceful stop begins, while the node still serves."""

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError
from tests.support.site import wait_until

HEALTH_CONF = """
GracefulShutdownHealthDelay {delay}
<Location /health>
    SetHandler server-health
</Location>
"""


def get(server, path):
    """(status, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(server.url(path), timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_health_is_ok_while_serving(site):
    server = site(HEALTH_CONF.replace("{delay}", "0"), {"index.html": "hello"})
    assert get(server, "/health") == (200, b"OK\n")


def test_health_turns_503_during_the_delay_and_the_node_still_serves(site):
    """503 well within the delay (2 s of the 4), and the node serves the delay out: the
    margin is what a loaded machine needs for the checks in between."""
    server = site(HEALTH_CONF.replace("{delay}", "4"), {"index.html": "hello"})
    assert get(server, "/health")[0] == 200
    server.proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert wait_until(lambda: get(server, "/health")[0] == 503, timeout=2.0)
    noticed = time.monotonic() - started
    assert get(server, "/health") == (503, b"DRAINING\n")
    # Still accepting and serving everything else until the delay ends.
    assert get(server, "/index.html") == (200, b"hello")
    assert server.proc.poll() is None
    assert server.proc.wait(timeout=10) == 0
    assert time.monotonic() - started >= 4.0
    assert noticed < 2.0
    assert "GracefulShutdownHealthDelay" in server.errors() + server.master_output()


def test_health_delay_is_cut_short_by_a_fast_stop(site):
    server = site(HEALTH_CONF.replace("{delay}", "30"), {"index.html": "hello"})
    server.proc.send_signal(signal.SIGTERM)
    assert wait_until(lambda: get(server, "/health")[0] == 503)  # within the 30 s delay
    started = time.monotonic()
    server.proc.send_signal(signal.SIGINT)
    server.proc.wait(timeout=10)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", ["-1", "abc", "nan", "inf", "3601"])
def test_bad_health_delay_is_refused_with_file_and_line(tmp_path: Path, value):
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:1\n\nGracefulShutdownHealthDelay {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(conf))
    assert f"{conf}:3:" in str(caught.value)
    assert "GracefulShutdownHealthDelay" in str(caught.value)
