"""The request object, the apache module, every phase with its stacking rules,
authentication, filters, PythonHandlerModule, sections and static files, compared with
Apache httpd + mod_python 3.5 (handlers in handlers/api_handlers.py).

Where mod_python 3.5 is wrong, the case says why (`broken_in_modpython`) and checks
prefork-modpy's answer against the manual instead of Apache's.
"""

from __future__ import annotations

import re
import time

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, fetch

APACHE_MODULES = (("authn_core_module", "mod_authn_core.so"),
                  ("auth_basic_module", "mod_auth_basic.so"),
                  ("authz_user_module", "mod_authz_user.so"),
                  ("autoindex_module", "mod_autoindex.so"))

A_CASES = ["members", "readonly", "parsed", "finfo", "finfo_real", "urls", "tables",
           "headers_in_multi", "write_counts", "set_content_length", "no_cache", "validators",
           "etag_file", "allow", "allow_reset", "not_implemented", "gone", "precondition",
           "see_other", "created", "status_line_error", "status_line_ok", "error_notes",
           "not_modified", "server_return_tuple", "sendfile_part", "sendfile_missing",
           "read_parts", "discard", "config", "server", "connection", "interp",
           "module_funcs", "env_after_common", "build_cgi_env", "log_levels",
           "register_cleanup", "redirect_from", "redirect_missing", "sysargv"]

COMMON = """
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonDebug On
"""


def section(path: str, body: str, kind: str = "Directory") -> str:
    return f"<{kind} {path}>\n{body}</{kind.split()[0]}>\n"


FRAGMENT = "".join([
    "ServerName 127.0.0.1\n",
    "PythonOption global_opt g\n",
    "PythonOutputFilter api_handlers UPPER\n",
    "PythonOutputFilter api_handlers::broken_filter BROKEN\n",
    "PythonInputFilter api_handlers::input_a AUP\n",
    "Alias /aliased {root}/aliasdir\n",
    section("{root}/a", COMMON + "    PythonHandler api_handlers\n"
            "    PythonOption dir_opt d\n    PythonOption global_opt\n"),
    section("{root}/phases", COMMON + "    PythonHandler api_handlers::phases_handler\n"
            "    PythonHeaderParserHandler api_handlers\n    PythonInitHandler api_handlers\n"
            "    PythonAccessHandler api_handlers\n    PythonTypeHandler api_handlers\n"
            "    PythonFixupHandler api_handlers\n    PythonLogHandler api_handlers\n"
            "    PythonCleanupHandler api_handlers\n"),
    section("{root}/cleanerr", COMMON + "    PythonHandler api_handlers::boom\n"
            "    PythonCleanupHandler api_handlers::cleanup_after_error\n"),
    section("{root}/authd", COMMON + "    AuthType dummy\n    AuthName blah\n"
            "    Require valid-user\n    PythonAuthenHandler api_handlers\n"
            "    PythonAuthzHandler api_handlers\n    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authuser", COMMON + "    AuthType dummy\n    AuthName blah\n"
            "    Require user bob\n    PythonAuthenHandler api_handlers::authen_wrong_user\n"
            "    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authnouser", COMMON + "    AuthType dummy\n    AuthName blah\n"
            "    Require valid-user\n    PythonAuthenHandler api_handlers::authen_ok_no_user\n"
            "    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authzforbid", COMMON + "    AuthType dummy\n    AuthName blah\n"
            "    Require valid-user\n    PythonAuthenHandler api_handlers\n"
            "    PythonAuthzHandler api_handlers::authz_forbid\n"
            "    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authbasic", COMMON + "    AuthType Basic\n    AuthName realm1\n"
            "    Require valid-user\n    PythonAuthenHandler api_handlers::authen_basic\n"
            "    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authgranted", COMMON + "    AuthType Basic\n    AuthName realm2\n"
            "    Require all granted\n    PythonHandler api_handlers::auth_report\n"),
    section("{root}/authdenied", COMMON + "    Require all denied\n"
            "    PythonHandler api_handlers::auth_report\n"),
    section("{root}/phasestatus", COMMON + "    AuthType bogus\n    AuthName bogus\n"
            "    Require valid-user\n"
            "    PythonAuthenHandler api_handlers::phase_status_1 api_handlers::phase_status_2"
            " api_handlers::phase_status_3\n    PythonAuthzHandler api_handlers::phase_status_4\n"
            "    PythonFixupHandler api_handlers::phase_status_5 api_handlers::phase_status_6"
            " api_handlers::phase_status_7\n    PythonHandler api_handlers::phase_status_8\n"),
    section("{root}/accerr", COMMON + "    PythonAccessHandler api_handlers::boom\n"
            "    PythonHandler api_handlers::phases_handler\n"),
    section("{root}/fixerr", COMMON.replace("PythonDebug On", "PythonDebug Off")
            + "    PythonFixupHandler api_handlers::boom\n"
            "    PythonHandler api_handlers::phases_handler\n"),
    section("{root}/srvret", COMMON + "    PythonHandler api_handlers::server_return_ok\n"
            "    PythonHandler api_handlers::second\n"),
    section("{root}/addh", COMMON + "    PythonHandler api_handlers::add_later\n"),
    section("{root}/addbad", COMMON + "    PythonHandler api_handlers::add_bad\n"),
    section("{root}/addphase", COMMON + "    PythonHandler api_handlers::add_invalid_phase\n"),
    section("{root}/fixadd", "    PythonPath \"sys.path + ['{root}/lib']\"\n"
            "    PythonFixupHandler api_handlers::fixup_adds_handler\n"),
    section("{root}/pipe", COMMON + "    PythonHandler api_handlers::pipe_py | .py\n"
            "    PythonHandler api_handlers::pipe_plain\n"),
    section("{root}/klass", COMMON + "    PythonHandler api_handlers::Klass.method\n"),
    section("{root}/nonehandler", COMMON + "    PythonHandler api_handlers::none_handler\n"),
    section("{root}/boolresult", COMMON + "    PythonHandler api_handlers::bool_result\n"),
    section("{root}/f", COMMON + "    PythonHandler api_handlers::filtered\n"
            "    AddOutputFilter UPPER .up\n"),
    section("{root}/f/set", "    SetOutputFilter UPPER\n"),
    section("{root}/f/two", "    SetOutputFilter UPPER;BROKEN\n"),
    section("{root}/f/add", "    PythonHandler api_handlers::add_filter_at_runtime\n"),
    section("{root}/f/reg", "    PythonHandler api_handlers::register_filter_at_runtime\n"),
    section("{root}/f/brk", "    SetOutputFilter BROKEN\n"),
    section("{root}/f/in", "    PythonHandler api_handlers::echo\n    SetInputFilter AUP\n"),
    section("{root}/hm", COMMON + "    PythonHandlerModule handler_module\n"),
    section("{root}/opts", COMMON + "    PythonHandler api_handlers::h_config\n"
            "    PythonDebug Off\n    PythonOption global_opt \"\"\n    PythonOption o2 two\n"),
    section("^/lm/", "    SetHandler mod_python\n    PythonPath \"sys.path + ['{root}/lib']\"\n"
            "    PythonHandler api_handlers::where\n", "LocationMatch"),
    section("{root}/dm[0-9]", COMMON + "    PythonHandler api_handlers::where\n",
            "DirectoryMatch"),
    section("{root}/fm", section(r"\.fm$", "    SetHandler mod_python\n"
                                 "    PythonPath \"sys.path + ['{root}/lib']\"\n"
                                 "    PythonHandler api_handlers::where\n", "FilesMatch")),
    section("{root}/aliasdir", COMMON + "    PythonHandler api_handlers::where\n"),
    section("{root}/idx", "    DirectoryIndex start.txt\n"),
    section("{root}/perdir", COMMON + "    PythonInterpPerDirectory On\n"
            "    PythonHandler api_handlers::interp_where\n"),
    section("{root}/perdirective", COMMON + "    PythonInterpPerDirective On\n"
            "    PythonHandler api_handlers::interp_where\n"),
    section("{root}/named", COMMON + "    PythonInterpreter my_interp\n"
            "    PythonHandler api_handlers::interp_where\n"),
])

FILES = {
    "lib/api_handlers.py": "handlers/api_handlers.py",
    # PythonHandlerModule: a module with only two of the phase functions.
    "lib/handler_module.py": ("from mod_python import apache\n\n"
                              "def fixuphandler(req):\n    req.notes['fixup'] = 'ran'\n"
                              "    return apache.OK\n\n"
                              "def handler(req):\n    req.content_type = 'text/plain'\n"
                              "    req.write('fixup ' + req.notes['fixup'] + ', dir '"
                              " + req.hlist.directory.rsplit('/', 2)[1])\n"
                              "    return apache.OK\n"),
    "static/hello.txt": "static hello\n",
    "static/digits.txt": "0123456789" * 3,
    "aliasdir/file.txt": "aliased static\n",
    "idx/start.txt": "index by DirectoryIndex\n",
    "f/page.txt": "static page\n",
    "fm/thing.fm": "", "fm/other.txt": "not matched\n",
    "dm1/.keep": "",
    **{f"{d}/.keep": "" for d in ["a", "phases", "cleanerr", "authd", "authuser", "authnouser",
                                  "authzforbid", "authbasic", "authgranted", "authdenied",
                                  "phasestatus", "srvret", "accerr", "fixerr", "addh", "addbad",
                                  "addphase",
                                  "fixadd", "pipe", "klass", "nonehandler", "boolresult",
                                  "f/set", "f/two", "f/add", "f/reg", "f/brk", "f/in", "hm",
                                  "opts", "perdir", "perdirective", "named", "perdir/sub"]},
}

BASIC_ALICE = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}  # alice:secret
# "spám:éggs" in Latin-1 bytes, as http.client sends str header values as Latin-1.
BASIC_LATIN1 = {"Authorization": "Basic c3DhbTrpZ2dz"}

MODPYTHON_ALLOW_ORDER = "httpd lists `Allow` in the order of a randomly seeded hash"

SAME = [
    *[Case(f"a-{name}", f"/a/{name}", mode="exact") for name in A_CASES
      if name not in ("allow", "allow_reset", "not_implemented", "gone", "precondition",
                      "see_other", "created", "status_line_error", "error_notes",
                      "not_modified", "server_return_tuple", "redirect_missing", "no_cache",
                      "read_parts", "discard")],
    Case("a-members-query", "/a/members/extra?x=1&y", headers={"X-Test": "t"}),
    Case("a-allow", "/a/allow", mode="stock", as_set=("allow",), also=("x-allowed",)),
    Case("a-allow-reset", "/a/allow_reset", mode="stock", as_set=("allow",)),
    Case("a-not-implemented", "/a/not_implemented", mode="stock", as_set=("allow",)),
    Case("a-gone", "/a/gone", mode="stock"),
    Case("a-teapot-is-500", "/a/teapot", mode="stock"),
    Case("a-notes", "/a/notes"),
    Case("a-precondition", "/a/precondition", mode="stock"),
    Case("a-see-other", "/a/see_other", mode="stock"),
    Case("a-created", "/a/created", mode="stock"),
    Case("a-status-line-error", "/a/status_line_error", mode="stock"),
    Case("a-error-notes", "/a/error_notes", mode="stock"),
    Case("a-not-modified", "/a/not_modified", also=("etag", "x-kept")),
    Case("a-server-return-tuple", "/a/server_return_tuple", mode="stock"),
    Case("a-no-cache", "/a/no_cache", also=()),
    Case("a-read-parts", "/a/read_parts", method="POST", body=b"one\ntwo\nthree"),
    Case("a-discard", "/a/discard", method="POST", body=b"abcdefgh"),
    Case("a-head-members", "/a/members", method="HEAD"),
    Case("a-head-error", "/a/gone", method="HEAD", also=("content-length",)),
    Case("static-head-404", "/static/nothing", method="HEAD", also=("content-length",)),
    Case("a-validators-ims", "/a/validators",
         headers={"If-Modified-Since": "Sun, 09 Sep 2001 01:46:40 GMT"}),
    Case("a-validators-ims-old", "/a/validators",
         headers={"If-Modified-Since": "Sun, 09 Sep 2001 01:46:39 GMT"}),
    Case("a-validators-ius", "/a/validators", mode="stock",
         headers={"If-Unmodified-Since": "Sun, 09 Sep 2001 01:46:39 GMT"}),
    Case("a-etag-if-none-match-star", "/a/etag_file", headers={"If-None-Match": "*"},
         also=("etag",)),
    Case("a-etag-if-match-other", "/a/etag_file", headers={"If-Match": '"nope"'},
         mode="stock"),
    Case("a-env-headers", "/a/env_after_common",
         headers={"Authorization": "Basic eDp5", "Proxy": "p", "X_Under_Score": "u",
                  "X-Dash-Ed": "d", "Content-Type": "text/x", "Content-Length": "0"}),
    Case("a-build-cgi-env", "/a/build_cgi_env/more?k=v",
         headers={"Authorization": "Basic eDp5"}),
    Case("a-redirect-missing", "/a/redirect_missing", mode="stock"),
    Case("phases-order", "/phases/x"),
    Case("auth-dummy", "/authd/x"),
    Case("auth-require-user-mismatch", "/authuser/x", mode="stock",
         also=("www-authenticate",)),
    Case("auth-ok-without-user", "/authnouser/x", mode="stock"),
    Case("authz-forbidden", "/authzforbid/x", mode="stock"),
    Case("auth-basic-none", "/authbasic/x", mode="stock", also=("www-authenticate",)),
    Case("auth-basic-ok", "/authbasic/x", headers=BASIC_ALICE),
    Case("auth-basic-latin1", "/authbasic/x", headers=BASIC_LATIN1),
    Case("auth-basic-wrong-scheme", "/authbasic/x", headers={"Authorization": "Digest x"},
         mode="stock", also=("www-authenticate",)),
    Case("auth-granted-pw", "/authgranted/x", headers=BASIC_ALICE),
    Case("auth-granted-no-credentials", "/authgranted/x", also=("www-authenticate",)),
    Case("auth-all-denied", "/authdenied/x", mode="stock"),
    Case("phase-status", "/phasestatus/x"),
    Case("access-handler-error-debug-page", "/accerr/x", mode="debug"),
    Case("fixup-handler-error-plain-500", "/fixerr/x", mode="stock"),
    Case("server-return-ok-continues", "/srvret/x"),
    Case("add-handler-same-phase", "/addh/x"),
    Case("add-handler-bad", "/addbad/x", mode="debug"),
    Case("add-handler-invalid-phase", "/addphase/x"),
    Case("fixup-adds-content-handler", "/fixadd/"),
    Case("pipe-ext-py", "/pipe/x.py"),
    Case("pipe-ext-other", "/pipe/x.txt"),
    Case("pipe-ext-none", "/pipe/x"),
    Case("class-method-handler", "/klass/x"),
    Case("none-handler", "/nonehandler/x", mode="debug"),
    Case("bool-result", "/boolresult/x", mode="debug"),
    Case("filter-by-extension", "/f/x.up"),
    Case("filter-not-for-other-ext", "/f/x.txt"),
    Case("filter-set", "/f/set/x"),
    Case("filter-added", "/f/add/x"),
    Case("filter-registered", "/f/reg/x"),
    Case("filter-error", "/f/brk/x", mode="debug"),
    Case("filter-chain-error", "/f/two/x", mode="debug"),
    Case("filter-input", "/f/in/x", method="POST", body=b"banana papaya"),
    Case("location-match", "/lm/a/b"),
    Case("directory-match", "/dm1/x"),
    Case("files-match", "/fm/thing.fm"),
    Case("files-match-other", "/fm/other.txt"),
    Case("alias-static", "/aliased/file.txt"),
    Case("alias-handler", "/aliased/run/x"),
    Case("alias-dir-slash", "/aliased", mode="stock"),
    Case("directory-index", "/idx/"),
    Case("interp-per-directory", "/perdir/sub/x"),
    Case("interp-per-directive", "/perdirective/x"),
    Case("interp-named", "/named/x"),
    Case("options-unset-and-debug-off", "/opts/x"),
    Case("static-if-none-match", "/static/hello.txt", headers={"If-None-Match": "*"},
         also=("etag",)),
    Case("static-if-match-fails", "/static/hello.txt", headers={"If-Match": '"x"'},
         mode="stock"),
    Case("static-range-suffix", "/static/digits.txt", headers={"Range": "bytes=-5"},
         also=("content-range",)),
    Case("static-range-open", "/static/digits.txt", headers={"Range": "bytes=25-"},
         also=("content-range",)),
    Case("static-range-unsatisfiable", "/static/digits.txt",
         headers={"Range": "bytes=100-200"}, mode="stock"),
    Case("static-range-bad-syntax", "/static/digits.txt", headers={"Range": "bytes=x-1"}),
    Case("static-range-merged", "/static/digits.txt", headers={"Range": "bytes=0-3,2-6"},
         also=("content-range",)),
    Case("static-options", "/static/hello.txt", method="OPTIONS", as_set=("allow",)),
    Case("static-post", "/static/hello.txt", method="POST", body=b""),
    Case("static-put", "/static/hello.txt", method="PUT", body=b"x", mode="stock",
         as_set=("allow",)),
    Case("static-etag", "/static/hello.txt", also=("etag", "last-modified")),
]

@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_etag_if_none_match_gives_304(pair: Pair) -> None:
    etag = fetch(pair.modpy_port, "/static/hello.txt").header("ETag")
    assert etag == fetch(pair.apache.port, "/static/hello.txt").header("ETag")
    ours, theirs = pair.both("/static/hello.txt", headers={"If-None-Match": etag})
    assert ours.status == theirs.status == 304
    assert (ours.header("etag"), ours.header("last-modified"), ours.body) == (
        theirs.header("etag"), theirs.header("last-modified"), theirs.body)


def test_multiple_ranges(pair: Pair) -> None:
    """The boundary is random on both servers: compare the parts."""
    ours, theirs = pair.both("/static/digits.txt", headers={"Range": "bytes=0-1,5-6"})
    assert ours.status == theirs.status == 206

    def parts(reply):
        boundary = reply.header("content-type").split("boundary=")[1]
        return reply.body.replace(boundary.encode(), b"BOUNDARY")

    assert parts(ours) == parts(theirs)


def test_handler_module_follows_the_manual(pair: Pair) -> None:
    """mod_python 3.5: 500 (UnboundLocalError, issue #74). The manual: phases the module
    has no function for are skipped, so the fixup and content handlers run."""
    ours, theirs = pair.both("/hm/x")
    assert theirs.status == 500
    assert b"UnboundLocalError" in theirs.body
    assert (ours.status, ours.body) == (200, b"fixup ran, dir hm")


def logged(read, pattern: str, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = re.findall(pattern, read())
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_log_and_cleanup_phases(pair: Pair) -> None:
    pair.both("/phases/x")
    pattern = r"api (loghandler|cleanuphandler) phase=(\w+) \w+=(\d+)"
    ours = logged(pair.modpy_errors, pattern)
    theirs = logged(pair.apache.error_log, pattern)
    assert ours[:2] == theirs[:2] == [("loghandler", "PythonLogHandler", "200"),
                                      ("cleanuphandler", "PythonCleanupHandler", "200")]


def test_cleanup_handler_runs_after_an_error(pair: Pair) -> None:
    ours, theirs = pair.both("/cleanerr/x")
    assert ours.status == theirs.status == 500
    assert logged(pair.modpy_errors, "api cleanup after error ran")
    assert logged(pair.apache.error_log, "api cleanup after error ran")


def test_register_cleanup_runs_last_registered_first(pair: Pair) -> None:
    pair.both("/a/register_cleanup")
    pattern = r"api cleanup order (first|second)"
    assert logged(pair.modpy_errors, pattern)[:2] == ["second", "first"]
    assert logged(pair.apache.error_log, pattern)[:2] == ["second", "first"]


@pytest.mark.parametrize("declared", ["length", "none"])
def test_streamed_response_records_its_framing(pair: Pair, declared: str) -> None:
    """A flushed write with a Content-Length goes out framed by length: r->chunked stays 0
    and no Transfer-Encoding is recorded (ap_http_header_filter); without one, chunked."""
    ours, theirs = pair.both(f"/a/chunked_framing?{declared}")
    assert ours.body == theirs.body == b"abcd"
    pattern = rf"api framing {declared} (chunked=\d te=\w+)"
    assert logged(pair.modpy_errors, pattern)[-1:] == logged(pair.apache.error_log, pattern)[-1:]
    expected = "chunked=0 te=None" if declared == "length" else "chunked=1 te=chunked"
    assert logged(pair.modpy_errors, pattern)[-1:] == [expected]


def test_log_error_levels(pair: Pair) -> None:
    pair.both("/a/log_levels")
    pattern = r"\[\w*:(\w+)\] \[pid \d+(?::tid \d+)?\]( \[client [^\]]+\])? (api [\w. -]+)"
    ours = logged(pair.modpy_errors, pattern)
    theirs = logged(pair.apache.error_log, pattern)
    def shape(found):  # (level, has a client address, message)
        return [(level, bool(client), text) for level, client, text in found
                if "log_error" in text or "log " in text]

    assert len(shape(ours)) >= 5  # the same lines may also come from the a-log_levels case
    assert shape(ours)[-5:] == shape(theirs)[-5:]


def test_debug_page_structure_for_every_phase(pair: Pair) -> None:
    """`Mod_python error: "PHASE HANDLER"` names the phase that failed."""
    ours, theirs = pair.both("/addbad/x")
    for reply in (ours, theirs):
        assert b'Mod_python error: "PythonHandler api_handlers::no_such_thing"' in reply.body
