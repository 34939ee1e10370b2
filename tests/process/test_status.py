"""`SetHandler server-status`: HTML, ?auto and Prometheus views of the scoreboard, and
`Require local` / `Require ip` restricting who may read them."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.site import wait_until

from .helpers import APP, APP_CONF, Background, get

STATUS_CONF = APP_CONF + """
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
<Location /status-remote-only>
    SetHandler server-status
    Require ip 192.0.2.0/24 2001:db8::/32
</Location>
"""


def test_status_page_shows_workers_and_current_request(site):
    server = site(STATUS_CONF, {"app.py": APP}, workers=2)
    for _ in range(5):
        assert get(server.port, "/app/x")[0] == 200
    slow = Background(server.port, "/slow?3")
    slow.start()
    replies = []

    def shows_the_slow_request() -> bool:
        replies.append(get(server.port, "/server-status"))
        return "GET /slow?3" in replies[-1][2].decode()
    # The other worker's current request, once it has reached it (within its 3 s).
    assert wait_until(shows_the_slow_request, timeout=3), replies[-1][2].decode()
    status, headers, body = replies[-1]
    page = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    for pid in server.workers():
        assert f"<td>{pid}</td>" in page
    assert re.search(r"<pre>[_WG]{2}</pre>", page), page
    slow.join(5)


def test_status_auto_and_prometheus(site):
    server = site(STATUS_CONF, {"app.py": APP}, workers=2)
    for _ in range(7):
        get(server.port, "/app/x")

    def auto() -> dict[str, str]:
        text = get(server.port, "/server-status?auto")[2].decode()
        return dict(line.split(": ", 1) for line in text.splitlines())
    # The worker that answered the previous request may not have marked itself idle yet
    # when the next one reads the scoreboard: wait for the steady state.
    assert wait_until(lambda: auto()["BusyWorkers"] == "1")  # the one answering
    fields = auto()
    assert int(fields["Total Accesses"]) >= 7
    assert fields["Scoreboard"].count("_") + fields["Scoreboard"].count("W") == 2
    assert wait_until(lambda: 'prefork_modpy_workers{state="busy"} 1' in get(
        server.port, "/server-status?format=prometheus")[2].decode())
    status, headers, body = get(server.port, "/server-status?format=prometheus")
    text = body.decode()
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    assert re.search(r'^prefork_modpy_workers\{state="ready"\} [01]$', text, re.M)
    total = int(re.search(r"^prefork_modpy_requests_total (\d+)$", text, re.M).group(1))
    assert total >= 8
    assert "# TYPE prefork_modpy_worker_timeouts_total counter" in text
    assert re.search(r'^prefork_modpy_worker_requests_total\{slot="\d+",worker="\d+"\} \d+$',
                     text, re.M)
    for line in text.splitlines():  # every sample line is "name{labels} number"
        assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? [0-9.]+", line)


def test_status_totals_survive_recycling(site):
    server = site(STATUS_CONF + "MaxRequestsPerChild 5\n", {"app.py": APP}, workers=1)
    for _ in range(12):
        assert get(server.port, "/app/x")[0] == 200
    asked: list[int] = []

    def counted_all() -> bool:
        """The status requests count too: the nth sees 11 + n or 12 + n (itself or not
        yet), once the counts of the recycled workers are in."""
        auto = get(server.port, "/server-status?auto")[2].decode()
        asked.append(int(dict(line.split(": ", 1) for line in auto.splitlines())
                         ["Total Accesses"]))
        return asked[-1] - len(asked) in (11, 12)
    assert wait_until(counted_all), asked


def test_status_is_refused_to_clients_the_location_does_not_allow(site):
    server = site(STATUS_CONF, {"app.py": APP}, workers=1)
    assert get(server.port, "/status-remote-only")[0] == 403
    assert get(server.port, "/server-status")[0] == 200


def test_status_only_where_configured(site):
    server = site(APP_CONF, {"app.py": APP}, workers=1)
    assert get(server.port, "/server-status")[0] == 404


def test_bad_require_ip_is_a_config_error(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:1\n<Location /s>\nRequire ip 10.0.0.300\n</Location>\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1 and f"{conf}:3: Require ip" in result.stderr


def test_extended_status_off_gives_the_reduced_page(site):
    """ExtendedStatus Off (mod_status): no totals, no worker's client or request."""
    server = site("ExtendedStatus Off\n" + STATUS_CONF, {"app.py": APP}, workers=2)
    for _ in range(3):
        assert get(server.port, "/app/x")[0] == 200
    slow = Background(server.port, "/slow?3")
    slow.start()

    def auto() -> dict[str, str]:
        text = get(server.port, "/server-status?auto")[2].decode()
        return dict(line.split(": ", 1) for line in text.splitlines())
    # Both workers busy: the slow request and the status request asking.
    assert wait_until(lambda: auto()["BusyWorkers"] == "2", timeout=3), auto()
    page = get(server.port, "/server-status")[2].decode()
    assert "/slow" not in page and "<td>" not in page
    assert "ExtendedStatus On" in page and re.search(r"<pre>[_WG]{2}</pre>", page), page
    fields = dict(line.split(": ", 1) for line in
                  get(server.port, "/server-status?auto")[2].decode().splitlines())
    assert "Total Accesses" not in fields and "BusyWorkers" in fields
    metrics = get(server.port, "/server-status?format=prometheus")[2].decode()
    assert "worker_requests_total" not in metrics and "prefork_modpy_workers{" in metrics
    slow.join(5)
