"""mod_python's library handlers — `mod_python.publisher`, `mod_python.wsgi` and
`mod_python.cgihandler` — compared with Apache httpd + mod_python 3.5 (pages, apps and
scripts in handlers/pub_*.py, wsgi_apps.py and cgi_*.py).

Where Debian's mod_python 3.5 is broken (its publisher.py predates the Python 3.11
`co_consts` fix and calls `base64.decodestring`; its urlencoded form fields have bytes
names; its CGI stdin mixes `str` and `bytes`) or where prefork-modpy is stricter on purpose
(process-faults 4.2), the case says why and checks prefork-modpy's answer against the
manual instead of Apache's.
"""

from __future__ import annotations

import base64
import time

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, fetch

COMMON = """    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonDebug On
"""

FRAGMENT = "".join([
    "ServerName 127.0.0.1\n",
    "<Directory {root}/pub>\n" + COMMON + "    PythonHandler mod_python.publisher\n"
    "</Directory>\n",
    "<Directory {root}/wsgi>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps::environ_app\n</Directory>\n",
    "<Directory {root}/wsgidefault>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps\n</Directory>\n",
    "<Directory {root}/wsginone>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps::no_such_app\n</Directory>\n",
    "<Location /wloc>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps::environ_app\n</Location>\n",
    "<Location /wbase>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps::environ_app\n"
    "    PythonOption mod_python.wsgi.base_uri /wbase/app\n</Location>\n",
    *(f"<Location /w{name}>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
      f"    PythonOption mod_python.wsgi.application wsgi_apps::{name}_app\n</Location>\n"
      for name in ("post", "exc", "status", "write", "closing")),
    "<Location /whello>\n" + COMMON + "    PythonHandler mod_python.wsgi\n"
    "    PythonOption mod_python.wsgi.application wsgi_apps::hello\n</Location>\n",
    "<Directory {root}/wenv>\n" + COMMON + "    PythonHandler wsgi_apps::req_env_handler\n"
    "</Directory>\n",
    "<Directory {root}/cgi>\n" + COMMON + "    PythonHandler mod_python.cgihandler\n"
    "</Directory>\n",
])

FILES = {
    "pub/index.py": "handlers/pub_index.py",
    "pub/page.py": "handlers/pub_page.py",
    "pub/sub/index.py": "handlers/pub_index.py",
    "wsgi/index.html": "unused\n",
    "wsgidefault/x": "",
    "wsginone/x": "",
    "wenv/x": "",
    "lib/wsgi_apps.py": "handlers/wsgi_apps.py",
    "cgi/script.py": "handlers/cgi_script.py",
    "cgi/status.py": "handlers/cgi_status.py",
    "cgi/post.py": "handlers/cgi_post.py",
}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}

PUBLISHER = [
    Case("pub-dir-index", "/pub/"),
    Case("pub-index-function", "/pub/foobar"),
    Case("pub-missing-in-index", "/pub/nosuch", mode="stock"),
    Case("pub-module-default", "/pub/page.py"),
    Case("pub-module-without-ext", "/pub/page"),
    Case("pub-module-index", "/pub/page.py/index"),
    Case("pub-module-index-slash", "/pub/page.py/index/"),
    Case("pub-subdir-index", "/pub/sub/"),
    Case("pub-query-args", "/pub/page.py/hello?name=bob&count=3"),
    Case("pub-query-default", "/pub/page.py/hello"),
    Case("pub-query-repeated", "/pub/page.py/hello?name=a&name=b"),
    Case("pub-query-blank", "/pub/page.py/hello?name=&count=1"),
    Case("pub-query-unknown-dropped", "/pub/page.py/hello?zzz=1"),
    Case("pub-req-not-overridden", "/pub/page.py/whoami?req=x"),
    Case("pub-missing-argument", "/pub/page.py/needs", mode="debug"),
    Case("pub-instance-callable", "/pub/page.py/instance"),
    Case("pub-instance-method", "/pub/page.py/instance/method?word=2"),
    Case("pub-nested-instance", "/pub/page.py/instance/traverse"),
    Case("pub-nested-instance-method", "/pub/page.py/instance/traverse/page"),
    Case("pub-dots-are-slashes", "/pub/page.py/a.page"),
    Case("pub-html-guess", "/pub/page.py/html"),
    Case("pub-html-guess-case", "/pub/page.py/upper_html"),
    Case("pub-html-start-is-plain", "/pub/page.py/starts_html"),
    Case("pub-content-type-set", "/pub/page.py/settype"),
    Case("pub-none-empty", "/pub/page.py/nothing"),
    Case("pub-direct-write", "/pub/page.py/writes"),
    Case("pub-number-str", "/pub/page.py/number"),
    Case("pub-head", "/pub/page.py/index", method="HEAD"),
    Case("pub-missing-object", "/pub/page.py/nosuch", mode="stock"),
    Case("pub-missing-nested", "/pub/page.py/instance/nosuch", mode="stock"),
    Case("pub-missing-module-dir", "/pub/nosuchdir/x.py", mode="stock"),
    Case("pub-underscore", "/pub/page.py/_SECRET_PASSWORD", mode="stock"),
    Case("pub-dunder", "/pub/page.py/__ANSWER", mode="stock"),
    Case("pub-dot-underscore", "/pub/page.py/a._b", mode="stock"),
    Case("pub-method-func", "/pub/page.py/instance/method/__func__", mode="stock"),
    Case("pub-function-code", "/pub/page.py/index/__code__", mode="stock"),
    Case("pub-module", "/pub/page.py/re", mode="stock"),
    Case("pub-module-traverse", "/pub/page.py/os/system", mode="stock"),
    Case("pub-class", "/pub/page.py/InstanceTest", mode="stock"),
    Case("pub-function-not-traversable", "/pub/page.py/index/x", mode="stock"),
    Case("pub-dict-builtin-traverse", "/pub/page.py/test_dict/keys", mode="stock"),
    Case("pub-builtin-method", "/pub/page.py/test_dict_keys", mode="stock"),
    Case("pub-put-405", "/pub/page.py/index", method="PUT", body=b"x", mode="stock",
         as_set=("allow",)),
    Case("pub-auth-object-no-credentials", "/pub/page.py/guarded", mode="stock",
         also=("www-authenticate",)),
    Case("pub-auth-digest-ignored", "/pub/page.py/index",
         headers={"Authorization": 'Digest username="spam"'}),
]


@pytest.mark.parametrize("case", params(PUBLISHER))
def test_publisher(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_publisher_urlencoded_post_follows_the_manual(pair: Pair) -> None:
    """Debian's mod_python 3.5 gives urlencoded POST fields bytes names, which never match
    an argument (spec 5.4 step 8): `name` keeps its default. The manual: POST fields are
    arguments like query fields."""
    body = b"name=carol&count=7"
    ours, theirs = pair.both("/pub/page.py/hello", method="POST", body=body, headers=FORM)
    assert (theirs.status, theirs.body) == (200, b"hello world None")
    assert (ours.status, ours.body) == (200, b"hello carol '7'")
    assert ours.header("content-type") == theirs.header("content-type") == "text/plain"


def test_publisher_multipart_post(pair: Pair) -> None:
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ndave\r\n"
            b"--XyZ--\r\n")
    headers = {"Content-Type": "multipart/form-data; boundary=XyZ"}
    ours, theirs = pair.both("/pub/page.py/hello", method="POST", body=body, headers=headers)
    assert (ours.status, ours.body) == (200, b"hello dave None")
    # Documented difference (util.FieldStorage): mod_python 3.5 on Python 3 hands out bytes.
    assert (theirs.status, theirs.body) == (200, b"hello b'dave' None")


def test_publisher_auth_with_credentials_follows_the_manual(pair: Pair) -> None:
    """Debian's publisher decodes credentials with `base64.decodestring` (gone since
    Python 3.9): every request with Basic credentials to a protected object is 400."""
    ours, theirs = pair.both("/pub/page.py/guarded", headers=basic("spam", "eggs"))
    assert theirs.status == 400
    assert (ours.status, ours.body) == (200, b"guarded ok")
    wrong = fetch(pair.modpy_port, "/pub/page.py/guarded", headers=basic("spam", "ham"))
    assert wrong.status == 401
    assert wrong.header("www-authenticate") == 'Basic realm = "Guarded"'


def test_publisher_nested_auth_follows_the_manual(pair: Pair) -> None:
    """`__auth__`/`__access__`/`__auth_realm__` nested in a function: Debian's publisher
    reads `co_consts` with pre-3.11 offsets (and cannot decode credentials): a 500 debug
    page whatever is sent. The manual: 401 with the nested realm without credentials, 200
    with the right ones."""
    for headers in ({}, basic("spam", "eggs")):
        theirs = fetch(pair.apache.port, "/pub/page.py/protected", headers=headers)
        assert theirs.status == 500
        assert theirs.body.startswith(b'\n<pre>\nMod_python error: "PythonHandler '
                                      b'mod_python.publisher"')
    port = pair.modpy_port
    none = fetch(port, "/pub/page.py/protected")
    assert none.status == 401
    assert none.header("www-authenticate") == 'Basic realm="Nested"'
    assert fetch(port, "/pub/page.py/protected", headers=basic("spam", "ham")).status == 401
    good = fetch(port, "/pub/page.py/protected", headers=basic("spam", "eggs"))
    assert (good.status, good.body) == (200, b"nested auth ok")
    bad = fetch(port, "/pub/page.py/protected", headers={"Authorization": "Basic !!!"})
    assert bad.status == 400


def test_publisher_imported_function_is_refused(pair: Pair) -> None:
    """process-faults PB8 (differs, security): a function the page imported
    (`from platform import system`) is published by mod_python, refused by prefork-modpy."""
    ours, theirs = pair.both("/pub/page.py/system")
    assert theirs.status == 200
    assert ours.status == 403


def test_publisher_empty_path_element(pair: Pair) -> None:
    """process-faults PB7: mod_python indexes `obj_str[0]` of an empty element (500).
    httpd merges the slashes first (`MergeSlashes On`), so `index//x` is `index/x`: 403,
    the same stock page from both servers."""
    ours, theirs = pair.both("/pub/page.py/index//x")
    assert theirs.status == 403
    assert_same(ours, theirs, Case("pub-empty-path-element", "/pub/page.py/index//x",
                                   mode="stock"))


def test_publisher_page_cache_reloads_on_mtime(pair: Pair) -> None:
    page = pair.root / "pub" / "cached.py"
    page.write_text("def index(req):\n    return 'one'\n")
    page.chmod(0o644)
    for port in (pair.modpy_port, pair.apache.port):
        assert fetch(port, "/pub/cached.py").body == b"one"
    page.write_text("def index(req):\n    return 'two'\n")
    future = time.time() + 5
    import os

    os.utime(page, (future, future))
    for port in (pair.modpy_port, pair.apache.port):
        assert fetch(port, "/pub/cached.py").body == b"two"


WSGI = [
    Case("wsgi-hello", "/whello", also=("x-app",)),
    Case("wsgi-hello-path", "/whello/deeper/path?x=1", also=("x-app",)),
    Case("wsgi-directory", "/wsgi/some/file?q=1&r=2", headers={"X-Test": "t"}),
    Case("wsgi-location", "/wloc/bar"),
    Case("wsgi-location-root", "/wloc"),
    Case("wsgi-base-uri", "/wbase/app/rest?z=9"),
    Case("wsgi-base-uri-outside", "/wbase/other", mode="stock"),
    Case("wsgi-default-callable", "/wsgidefault/x"),
    Case("wsgi-post-body", "/wpost", method="POST", body=b"posted data",
         headers={"Content-Type": "text/plain"}),
    Case("wsgi-post-environ", "/wloc/p", method="POST", body=b"abc",
         headers={"Content-Type": "application/octet-stream"}),
    Case("wsgi-write-callable", "/wwrite"),
    Case("wsgi-head", "/whello", method="HEAD", also=("x-app",)),
]


@pytest.mark.parametrize("case", params(WSGI))
def test_wsgi(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_request_wsgi_methods(pair: Pair) -> None:
    """req.build_wsgi_env() and req.wsgi_start_response() as mod_python 3.4+ has them."""
    ours, theirs = pair.both("/wenv/x?a=1")
    # mod_python 3.5 sets only the status line (see test_wsgi_status_follows_the_manual).
    assert (ours.status, theirs.status) == (202, 200)
    assert ours.header("X-Env") == theirs.header("X-Env") == "GET"
    assert ours.body == theirs.body


def test_wsgi_status_follows_the_manual(pair: Pair) -> None:
    """mod_python 3.5's start_response sets only the status line, so httpd sends 200
    whatever the application said. PEP 3333 and the manual: the application's status."""
    ours, theirs = pair.both("/wstatus")
    assert theirs.status == 200
    assert (ours.status, ours.body) == (404, b"custom not found\n")
    assert ours.header("content-type") == theirs.header("content-type") == "text/plain"


def test_wsgi_content_type_follows_the_manual(pair: Pair) -> None:
    """mod_python 3.5 adds the application's Content-Type to headers_out, where httpd
    replaces it with mod_mime's type of the file (`/wsgi/` → index.html → text/html).
    PEP 3333: the application's header."""
    ours, theirs = pair.both("/wsgi/")
    assert theirs.header("content-type") == "text/html"
    assert ours.header("content-type") == "application/json"
    assert ours.status == theirs.status == 200
    assert ours.body == theirs.body


def test_wsgi_exc_info_replaces_the_response_before_it_is_sent(pair: Pair) -> None:
    """start_response(..., exc_info) before any body was sent: mod_python 3.5 re-raises
    (PythonDebug's traceback page); PEP 3333 replaces the status and headers, so the
    application's own error page goes out (Trac's 404/500 pages are made this way)."""
    ours, theirs = pair.both("/wexc")
    assert theirs.status == 500 and b"ValueError: app failure" in theirs.body
    assert (ours.status, ours.body) == (500, b"the application's error page\n")
    assert ours.header("content-type") == "text/html"
    assert ours.header("x-first-call") is None


def test_wsgi_missing_callable_declines(pair: Pair) -> None:
    """A callable the module lacks: a warning and DECLINED, so the default handler
    serves (or 404s) the file; prefork-modpy never serves handler directories' files
    differently from httpd here (a plain empty file)."""
    ours, theirs = pair.both("/wsginone/x")
    assert ours.status == theirs.status
    assert ours.body == theirs.body


def test_wsgi_iterable_close_is_called(pair: Pair) -> None:
    ours, theirs = pair.both("/wclosing")
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, b"closing body\n")
    deadline = time.monotonic() + 5
    while "closing_app_closed" not in pair.modpy_errors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "closing_app_closed" in pair.modpy_errors()


CGI = [
    Case("cgi-script", "/cgi/script.py?a=1", also=("x-cgi",)),
    Case("cgi-script-head", "/cgi/script.py", method="HEAD", also=("x-cgi",)),
    Case("cgi-status-header", "/cgi/status.py"),
    Case("cgi-missing-script", "/cgi/nope.py", mode="stock"),
]


@pytest.mark.parametrize("case", params(CGI))
def test_cgihandler(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_cgihandler_post_follows_the_manual(pair: Pair) -> None:
    """mod_python 3.5's CGIStdin mixes a `str` buffer with `bytes` reads on Python 3, so a
    script reading its body fails. The manual: stdin is the request body."""
    ours, theirs = pair.both("/cgi/post.py", method="POST", body=b"x=1&y=2",
                             headers=FORM)
    assert theirs.status == 500
    assert (ours.status, ours.body) == (200, b"body=x=1&y=2\n")
    assert ours.header("content-type") == "text/plain"


def test_cgihandler_leaves_the_process_environment(pair: Pair) -> None:
    """Two requests in a row see their own QUERY_STRING (no leftovers between scripts),
    as under Apache."""
    replies = [pair.both(path) for path in ("/cgi/script.py?one=1", "/cgi/script.py")]
    for ours, theirs in replies:
        assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert b"query one=1" in replies[0][0].body
    assert b"query \n" in replies[1][0].body
