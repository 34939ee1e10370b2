"""More of mod_python's surface, compared with Apache httpd + mod_python 3.5: the other
request phases and authentication, <Location>/<Files> sections, handler import errors,
response corner cases, request-body reading, and the static files DECLINED falls back to."""

from __future__ import annotations

import json

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, fetch

# What a stock Debian Apache also loads: AuthType/Basic and `Require valid-user` for the
# PythonAuthenHandler case, autoindex for what a directory without an index answers.
APACHE_MODULES = (("authn_core_module", "mod_authn_core.so"),
                  ("auth_basic_module", "mod_auth_basic.so"),
                  ("authz_user_module", "mod_authz_user.so"),
                  ("autoindex_module", "mod_autoindex.so"))

HANDLER_CASES = ["write_then_404", "empty_ok", "server_error", "unauthorized_plain",
                 "method_not_allowed", "status_line", "streamed", "sendfile_range",
                 "manual_length", "headers_in_merge", "read_chunks", "readlines", "multipart",
                 "no_content_type", "header_content_type", "raw_header"]

FRAGMENT = """
ServerName 127.0.0.1
<Directory {root}/p>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonDebug On
</Directory>
<Directory {root}/p/auth>
    AuthType Basic
    AuthName "compat"
    Require valid-user
    PythonAuthenHandler compat_handlers::authen
    PythonHandler compat_handlers::whoami
</Directory>
<Directory {root}/p/authmanual>
    AuthType Basic
    AuthName "compat"
    Require valid-user
    PythonAuthenHandler compat_handlers::authen_manual
    PythonHandler compat_handlers::whoami
</Directory>
<Directory {root}/p/deny>
    PythonAccessHandler behaviours::forbidden
    PythonHandler compat_handlers::hello
</Directory>
<Directory {root}/p/fixup>
    PythonFixupHandler compat_handlers::fixup_note
    PythonHandler compat_handlers::show_note
</Directory>
<Directory {root}/p/nomod>
    PythonHandler no_such_module
</Directory>
<Directory {root}/p/nofunc>
    PythonHandler compat_handlers::no_such_function
</Directory>
<Directory {root}/p/broken>
    PythonHandler broken_module
</Directory>
<Directory {root}/p/stackdecl>
    PythonHandler behaviours::declined compat_handlers::hello
</Directory>
<Directory {root}/files>
    <Files "*.mp">
        SetHandler mod_python
        PythonPath "sys.path + ['{root}/lib']"
        PythonHandler compat_handlers::where
    </Files>
</Directory>
<Location /loc>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler compat_handlers::where
</Location>
""" + "".join(f"<Directory {{root}}/p/{name}>\n    PythonHandler compat_handlers::{name}\n"
              "</Directory>\n" for name in HANDLER_CASES)

FILES = {
    "lib/compat_handlers.py": "handlers/compat_handlers.py",
    "lib/behaviours.py": "support/behaviours.py",
    "lib/broken_module.py": "def handler(req)\n    return 0\n",
    "files/thing.mp": "never served as is\n",
    "files/plain.txt": "plain in files\n",
    "static/hello.txt": "static hello\n",
    "static/a b.txt": "space in name\n",
    "static/data.json": "{}\n",
    "static/style.css": "p {}\n",
    "static/app.js": "1;\n",
    "static/pic.svg": "<svg/>\n",
    "static/page.htm": "<p>htm</p>\n",
    "static/table.csv": "a,b\n",
    "static/doc.xml": "<a/>\n",
    "static/blob.unknownext": "what am I\n",
    "static/noext": "no extension\n",
    "static/archive.tar.gz": "not really gzip\n",
    "emptydir/.keep": "",
    **{f"p/{name}/.keep": "" for name in ["auth", "authmanual", "deny", "fixup", "nomod",
                                          "nofunc", "broken", "stackdecl", *HANDLER_CASES]},
}


def p(name: str, suffix: str = "/x", **kwargs) -> Case:
    return Case(kwargs.pop("id", name), f"/p/{name}{suffix}", **kwargs)


ALICE = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}  # alice:secret
MALLORY = {"Authorization": "Basic bWFsbG9yeTpndWVzcw=="}  # mallory:guess

# http.client sends header values as latin-1: this puts the UTF-8 bytes of "café" on the wire.
UTF8_ON_THE_WIRE = "caf\u00e9".encode().decode("latin-1")

SAME = [
    p("auth", id="auth-no-credentials", mode="stock", also=("www-authenticate",)),
    p("auth", id="auth-wrong-password", headers=MALLORY, mode="stock",
      also=("www-authenticate",)),
    p("auth", id="auth-ok", headers=ALICE),
    p("authmanual", id="auth-manual-no-credentials", mode="stock",
      also=("www-authenticate",)),
    p("authmanual", id="auth-manual-wrong-password", headers=MALLORY, mode="stock",
      also=("www-authenticate",)),
    p("authmanual", id="auth-manual-ok", headers=ALICE),
    p("deny", id="access-handler-forbids", mode="stock"),
    p("fixup", id="fixup-handler-runs-first"),
    p("nomod", id="missing-module", mode="debug"),
    p("nofunc", id="missing-function", mode="debug"),
    p("broken", id="syntax-error-in-module", mode="debug"),
    p("stackdecl", id="stacked-declined-then-ok", mode="stock"),
    Case("files-section", "/files/thing.mp"),
    Case("files-section-other-file", "/files/plain.txt"),
    Case("location-section", "/loc/a/b"),
    Case("location-utf8-path", "/loc/caf%C3%A9/%E2%9C%93"),
    p("no_content_type"),
    p("header_content_type"),
    p("raw_header", id="raw-header-utf8", headers={"X-Raw": UTF8_ON_THE_WIRE}),
    p("write_then_404", mode="stock"),
    p("empty_ok", also=("content-length",)),
    p("server_error", mode="stock"),
    p("unauthorized_plain", mode="stock", also=("www-authenticate",)),
    p("method_not_allowed", mode="stock", as_set=("allow",)),
    p("status_line"),
    p("streamed"),
    p("sendfile_range"),
    p("manual_length", also=("content-length",)),
    p("headers_in_merge", headers={"X-Dup": "1", "Cookie": "a=1"}),
    p("read_chunks", method="POST", body=b"0123456789"),
    p("readlines", method="POST", body=b"one\ntwo\nthree"),
    Case("static-space-in-name", "/static/a%20b.txt"),
    Case("static-range", "/static/hello.txt", headers={"Range": "bytes=0-5"},
         also=("content-range",)),
    Case("static-head", "/static/hello.txt", method="HEAD", also=("content-length",)),
    Case("directory-without-index", "/emptydir/", mode="stock"),
    Case("handler-directory-without-index", "/p/fixup/", mode="stock"),
    *[Case(f"type-{name.replace('.', '-')}", f"/static/{name}")
      for name in ("data.json", "style.css", "app.js", "pic.svg", "page.htm", "table.csv",
                   "doc.xml", "blob.unknownext", "noext")],
    Case("type-archive-tar-gz", "/static/archive.tar.gz", also=("content-encoding",)),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


MULTIPART = (b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
             b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n"
             b"Content-Type: text/plain\r\n\r\nfile body\r\n--XyZ--\r\n")


def test_multipart_upload_fields_are_str(pair: Pair) -> None:
    """migration.md: FieldStorage values are `str` (mod_python 3.5 on Python 3: bytes)."""
    ours, theirs = pair.both("/p/multipart/x", method="POST", body=MULTIPART,
                             headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert ours.status == theirs.status == 200
    assert json.loads(ours.body) == {"content": "file body", "filename": "f.txt", "note": "hi"}
    assert json.loads(theirs.body)["note"] == "b'hi'"


def test_percent_encoded_latin1_path(pair: Pair) -> None:
    """docs/compatibility.md (differs): a path that is not UTF-8 once decoded is refused
    (400) before any handler; mod_python 3.5 fails decoding it inside the handler call
    (500)."""
    ours, theirs = pair.both("/loc/caf%E9")
    assert ours.status == 400
    assert theirs.status == 500


def test_static_conditional_get(pair: Pair) -> None:
    last_modified = fetch(pair.modpy_port, "/static/hello.txt").header("Last-Modified")
    ours, theirs = pair.both("/static/hello.txt", headers={"If-Modified-Since": last_modified})
    assert theirs.status == 304
    assert ours.status == 304
