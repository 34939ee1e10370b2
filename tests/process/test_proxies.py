"""TrustedProxies / mod_remoteip: the client address from the one configured forwarding header
(X-Forwarded-For by default), only from proxies."""

from __future__ import annotations

import subprocess
import sys

from tests.support.site import wait_until

from .helpers import APP, APP_CONF, get

WHOIS = APP_CONF.replace("PythonHandler app\n", "PythonHandler app::whois\n") + """
LogFormat "%a %{{c}}a %h" addresses
CustomLog {root}/../access.log addresses
<Location /app/only-doc-net>
    Require ip 203.0.113.0/24
</Location>
"""


def whois(port: int, **headers: str) -> str:
    names = {key.replace("_", "-"): value for key, value in headers.items()}
    return get(port, "/app/x", headers=names)[2].decode()


def test_forwarded_client_from_a_trusted_proxy(site):
    server = site(WHOIS + "TrustedProxies 127.0.0.0/8 10.0.0.0/8\n", {"app.py": APP})
    assert whois(server.port, X_Forwarded_For="203.0.113.9") == "203.0.113.9 203.0.113.9 0"
    # A chain through another proxy of ours: the first untrusted hop from the right.
    assert whois(server.port, X_Forwarded_For="203.0.113.9, 10.1.2.3").startswith(
        "203.0.113.9 ")
    # The client can write anything on the left; only the hop our proxy saw counts.
    assert whois(server.port, X_Forwarded_For="6.6.6.6, 203.0.113.9").startswith(
        "203.0.113.9 ")
    assert whois(server.port, X_Forwarded_For="[2001:db8::1]:4711") == \
        "2001:db8::1 2001:db8::1 4711"
    assert whois(server.port, X_Forwarded_For="198.51.100.1:8443") == \
        "198.51.100.1 198.51.100.1 8443"
    assert whois(server.port, X_Forwarded_For="unknown").startswith("127.0.0.1 ")
    assert whois(server.port).startswith("127.0.0.1 ")
    base = server.root.parent
    assert wait_until(lambda: (base / "access.log").exists()
                      and len((base / "access.log").read_text().splitlines()) == 7)
    first = (base / "access.log").read_text().splitlines()[0]
    assert first == "203.0.113.9 127.0.0.1 203.0.113.9"


def test_a_client_sent_forwarded_header_is_not_read(site):
    """ISSUE 15 finding 2: the proxy sets X-Forwarded-For; the client's own `Forwarded`
    must neither pass `Require ip` nor be logged as the client."""
    server = site(WHOIS + "TrustedProxies 127.0.0.1\n", {"app.py": APP})
    spoof = {"Forwarded": "for=203.0.113.7", "X-Forwarded-For": "198.51.100.1"}
    assert get(server.port, "/app/only-doc-net", headers=spoof)[0] == 403
    assert whois(server.port, **{k.replace("-", "_"): v for k, v in spoof.items()}) == \
        "198.51.100.1 198.51.100.1 0"


def test_remote_ip_header_forwarded_reads_rfc7239(site):
    server = site(WHOIS + "RemoteIPHeader Forwarded\nRemoteIPInternalProxy 127.0.0.1\n",
                  {"app.py": APP})
    assert whois(server.port, Forwarded='for="[2001:db8::1]:4711";proto=https',
                 X_Forwarded_For="203.0.113.9") == "2001:db8::1 2001:db8::1 4711"


def test_require_ip_sees_the_forwarded_client(site):
    server = site(WHOIS + "TrustedProxies 127.0.0.1\n", {"app.py": APP})
    assert get(server.port, "/app/only-doc-net")[0] == 403
    ok = get(server.port, "/app/only-doc-net", headers={"X-Forwarded-For": "203.0.113.7"})
    assert ok[0] == 200


def test_forwarding_headers_ignored_without_trusted_proxies(site):
    server = site(WHOIS, {"app.py": APP})
    assert whois(server.port, X_Forwarded_For="203.0.113.9").startswith("127.0.0.1 127.0.0.1")
    assert get(server.port, "/app/only-doc-net",
               headers={"X-Forwarded-For": "203.0.113.7"})[0] == 403


def test_forwarding_headers_ignored_from_untrusted_peers(site):
    server = site(WHOIS + "TrustedProxies 10.0.0.0/8\n", {"app.py": APP})
    assert whois(server.port, X_Forwarded_For="203.0.113.9").startswith("127.0.0.1 ")


def test_remote_ip_header_alone_trusts_every_peer_with_a_warning(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:1\nRemoteIPHeader X-Real-IP\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert f"{conf}:2: RemoteIPHeader without" in result.stdout + result.stderr


def test_bad_trusted_proxies_is_a_config_error(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:1\nTrustedProxies 10.0.0.0/33\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1 and f"{conf}:2: TrustedProxies" in result.stderr
