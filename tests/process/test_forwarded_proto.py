"""X-Forwarded-Proto / `Forwarded: proto=` from a trusted proxy: is_https(), construct_url,
HTTPS/REQUEST_SCHEME in subprocess_env, wsgi.url_scheme and `%{HTTPS}e` in the access log."""

from __future__ import annotations

from tests.support.site import wait_until

from .helpers import get

SCHEME_APP = '''\
from mod_python import apache


def handler(req):
    req.add_common_vars()
    env = req.subprocess_env
    req.content_type = "text/plain"
    req.write("%d %s %s %s" % (req.is_https(), req.construct_url("/x"),
                               env.get("HTTPS", "-"), env["REQUEST_SCHEME"]))
    return apache.OK


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["wsgi.url_scheme"].encode()]
'''

SCHEME_CONF = """
PythonPath "sys.path + ['{root}']"
<Location /scheme>
    SetHandler mod_python
    PythonHandler scheme_app
</Location>
<Location /wsgi>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application scheme_app::application
</Location>
LogFormat "%{{HTTPS}}e %a" scheme
CustomLog {root}/../access.log scheme
"""


def scheme(port: int, path: str = "/scheme", **headers: str) -> str:
    names = {key.replace("_", "-"): value for key, value in headers.items()}
    return get(port, path, headers={"Host": "www.example.com", **names})[2].decode()


def test_https_from_a_trusted_proxy(site):
    server = site(SCHEME_CONF + "TrustedProxies 127.0.0.1\n", {"scheme_app.py": SCHEME_APP})
    port = server.port
    assert scheme(port, X_Forwarded_Proto="https") == \
        "1 https://www.example.com/x on https"
    assert scheme(port, X_Forwarded_Proto="https", X_Forwarded_For="203.0.113.5") == \
        "1 https://www.example.com/x on https"
    # Forwarded is not the header the proxies set here (RemoteIPHeader's default is
    # X-Forwarded-For): a client's own Forwarded is believed for neither address nor scheme.
    assert scheme(port, Forwarded="for=203.0.113.5;proto=https") == \
        "0 http://www.example.com/x - http"
    # The hop nearest to us decides; a client cannot talk its way into https.
    assert scheme(port, X_Forwarded_Proto="https, http") == "0 http://www.example.com/x - http"
    assert scheme(port) == "0 http://www.example.com/x - http"
    assert scheme(port, "/wsgi", X_Forwarded_Proto="https") == "https"
    assert scheme(port, "/wsgi") == "http"
    log = server.root.parent / "access.log"
    assert wait_until(lambda: log.exists() and len(log.read_text().splitlines()) == 7)
    # Two workers write the log (each buffered): compare as a multiset.
    assert sorted(log.read_text().splitlines()) == sorted(
        ["on 127.0.0.1", "on 203.0.113.5", "- 127.0.0.1", "- 127.0.0.1", "- 127.0.0.1",
         "on 127.0.0.1", "- 127.0.0.1"])


def test_forwarded_proto_with_remote_ip_header_forwarded(site):
    server = site(SCHEME_CONF + "TrustedProxies 127.0.0.1\nRemoteIPHeader Forwarded\n",
                  {"scheme_app.py": SCHEME_APP})
    assert scheme(server.port, Forwarded="for=203.0.113.5;proto=https") == \
        "1 https://www.example.com/x on https"
    # X-Forwarded-Proto is then not the proxies' header
    assert scheme(server.port, X_Forwarded_Proto="https") == "0 http://www.example.com/x - http"


def test_https_header_ignored_from_an_untrusted_peer(site):
    server = site(SCHEME_CONF + "TrustedProxies 10.0.0.0/8\n", {"scheme_app.py": SCHEME_APP})
    assert scheme(server.port, X_Forwarded_Proto="https") == \
        "0 http://www.example.com/x - http"
    assert scheme(server.port, "/wsgi", X_Forwarded_Proto="https") == "http"


def test_https_header_ignored_without_trusted_proxies(site):
    server = site(SCHEME_CONF, {"scheme_app.py": SCHEME_APP})
    assert scheme(server.port, X_Forwarded_Proto="https") == \
        "0 http://www.example.com/x - http"
