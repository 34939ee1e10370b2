"""httpd rules ported without a server: error pages, Allow, error-log escaping, mod_mime,
byte ranges and conditionals, Basic credentials, CGI names, <DirectoryMatch> directories."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from prefork_modpy.config.directives import DirSettings, HandlerEntry, resolve_directory
from prefork_modpy.httpd import auth, cgienv, conditional, errorpages, mime
from prefork_modpy.runtime import errorlog
from prefork_modpy.runtime.table import Table


def test_error_page_is_httpd_24s():
    page = errorpages.error_body(404, "GET").decode()
    assert page.startswith('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
                           '"http://www.w3.org/TR/html4/strict.dtd">\n')
    assert "<title>404 Not Found</title>" in page and "<h1>Not Found</h1>" in page


def test_error_page_title_from_status_line_and_unknown_status():
    assert "<title>404 Gone Fishing</title>" in errorpages.error_body(
        404, status_line="404 Gone Fishing").decode()
    # A status line for another status is ignored; unknown statuses read as 500.
    assert "<title>404 Not Found</title>" in errorpages.error_body(
        404, status_line="403 Nope").decode()
    page = errorpages.error_body(418).decode()
    assert "<title>500 Internal Server Error</title>" in page
    assert "The server encountered an internal error" in page


def test_error_page_escapes_like_ap_escape_html():
    page = errorpages.error_body(302, location="/a?b=1&c=\"'<").decode()
    assert 'href="/a?b=1&amp;c=&quot;\'&lt;"' in page


def test_make_allow_lists_head_with_get_and_trace_only_when_answered():
    mask = (1 << 0) | (1 << 2)
    assert errorpages.make_allow(mask, trace=False) == "GET,HEAD,POST"
    assert errorpages.make_allow(mask) == "GET,HEAD,POST,TRACE"  # TraceEnable On: httpd's
    assert errorpages.make_allow(0, trace=False) == ""


@pytest.mark.parametrize("text, logged", [
    ("plain", "plain"),
    ("a\nb", "a\\nb"),
    ("tab\there", "tab\\there"),
    ("back\\slash", "back\\\\slash"),
    ('quote"', 'quote"'),
    ("caf\u00e9", "caf\\xc3\\xa9"),
    ("\x01\x7f", "\\x01\\x7f"),
])
def test_error_log_escapes_like_apache(text, logged):
    assert errorlog.escape(text) == logged


@pytest.mark.parametrize("name, kind, encoding", [
    ("archive.tar.gz", "application/gzip", None),
    ("page.html", "text/html", None),
    (".hidden.txt", "text/plain", None),
    ("noext", None, None),
    ("x.unknownext", None, None),
])
def test_mod_mime_walks_every_extension(name, kind, encoding):
    assert mime.find_type("/srv/" + name, DirSettings()) == (kind, encoding, None)


def test_add_type_and_add_encoding():
    settings = DirSettings(mime_types={"gz": "application/x-forced"},
                           encodings={"gz": "x-gzip"})
    assert mime.find_type("/srv/a.tar.gz", settings) == ("application/x-forced", "x-gzip",
                                                          None)


def test_add_charset_and_add_language_as_find_ct():
    """AddCharset replaces the type's charset in place (the last one wins); AddLanguage
    values add up in the order of the extensions; a charset without a type is dropped."""
    settings = DirSettings(mime_types={"x": "text/x-thing; q=1; charset=ascii"},
                           charsets={"utf8": "UTF-8", "l1": "ISO-8859-1"},
                           languages={"en": "en", "fr": "fr"})
    assert mime.find_type("/srv/a.html.en.utf8", settings) == (
        "text/html; charset=UTF-8", None, "en")
    assert mime.find_type("/srv/a.x.fr.en.l1.utf8", settings) == (
        "text/x-thing; q=1; charset=UTF-8", None, "fr,en")
    assert mime.find_type("/srv/a.unknownext.utf8", settings) == (None, None, None)


def test_types_config_reads_that_file_only(tmp_path):
    types = tmp_path / "mime.types"
    types.write_text("# comment\ntext/x-one\tone uno\nTEXT/X-Two two one\n")
    assert mime.read_types_config(str(types)) == {"one": "text/x-two", "uno": "text/x-one",
                                                   "two": "text/x-two"}


def request(headers=None, status=200, method_number=0, mtime=0.0, request_time=1e9 + 3600):
    return SimpleNamespace(headers_in=Table(headers or {}), headers_out=Table(), status=status,
                           method_number=method_number, mtime=mtime, no_local_copy=0,
                           request_time=request_time)


@pytest.mark.parametrize("spec, ranges", [
    ("bytes=0-3", [(0, 3)]),
    ("bytes=-5", [(25, 29)]),
    ("bytes=25-", [(25, 29)]),
    ("bytes=0-", [(0, 29)]),
    ("bytes=0-3,2-6", [(0, 6)]),
    ("bytes=0-1,5-6", [(0, 1), (5, 6)]),
    ("bytes=100-200", []),
    ("bytes=x-1", None),
    ("bytes=5-2", None),
    ("items=0-1", None),
])
def test_byte_ranges(spec, ranges):
    assert conditional.byte_ranges(request({"Range": spec}), 30) == ranges


def test_etag_is_size_and_mtime_in_hex_weak_within_a_second():
    assert conditional.make_etag(100.0, 50 * 1_000_000, 13) == '"d-2faf080"'
    assert conditional.make_etag(100.5, 100 * 1_000_000, 13).startswith('W/"')


def test_meets_conditions():
    req = request({"If-None-Match": '"a", W/"b"'})
    req.headers_out["ETag"] = '"b"'
    assert conditional.meets_conditions(req) == 304  # weak comparison for GET
    req = request({"If-Match": '"a"'})
    req.headers_out["ETag"] = '"b"'
    assert conditional.meets_conditions(req) == 412
    req = request({"If-Modified-Since": "Sun, 09 Sep 2001 01:46:40 GMT"}, mtime=1e9)
    assert conditional.meets_conditions(req) == 304
    req = request({"If-Modified-Since": "Sun, 09 Sep 2001 01:46:39 GMT"}, mtime=1e9)
    assert conditional.meets_conditions(req) == 0
    assert conditional.meets_conditions(request({"If-None-Match": "*"}, status=404)) == 0


@pytest.mark.parametrize("encoded, decoded", [
    ("YWxpY2U6c2VjcmV0", b"alice:secret"),
    ("YWxpY2U6c2VjcmV0!!", b"alice:secret"),  # stops at the first non-alphabet char
    ("YWxpY2U", b"alice"),
    ("", b""),
])
def test_lenient_base64(encoded, decoded):
    assert auth._b64decode(encoded) == decoded


@pytest.mark.parametrize("name, env", [
    ("X-Forwarded-For", "HTTP_X_FORWARDED_FOR"),
    ("host", "HTTP_HOST"),
    ("X_Under", None),
    ("X.Dot", None),
])
def test_http2env(name, env):
    assert cgienv.http2env(name) == env


def test_script_name_and_host_port():
    assert cgienv.script_name("/a/b.py/extra/x", "/extra/x") == "/a/b.py"
    assert cgienv.host_port("example.test:8080") == 8080
    assert cgienv.host_port("[::1]:81") == 81
    assert cgienv.host_port("[::1]") is None
    assert cgienv.host_port(None) is None


def test_directory_match_resolves_the_shortest_matching_prefix():
    entry = HandlerEntry("m", "m", "handler", None, False, dir_pattern=re.compile("/srv/d[0-9]"))
    resolved = resolve_directory(entry, "/srv/d1/sub/file.py")
    assert resolved.directory == "/srv/d1/"
    assert resolved.dir_pattern is None


def test_signature_footer_as_ap_psignature():
    from prefork_modpy.httpd.errorpages import signature_footer

    assert signature_footer("off", "prefork-modpy", "a.test", 80, "x@a.test") == ""
    assert signature_footer("on", "prefork-modpy", "a<b>.test", 8080, "x") == (
        "<hr>\n<address>prefork-modpy Server at a&lt;b&gt;.test Port 8080</address>\n")
    assert signature_footer("email", "P", "a.test", 80, "web@a.test") == (
        '<hr>\n<address>P Server at <a href="mailto:web@a.test">a.test</a> Port 80'
        "</address>\n")
    # ap_is_url: an admin given as a URL is linked as it is.
    assert 'href="https://a.test/contact"' in signature_footer(
        "email", "P", "a.test", 80, "https://a.test/contact")


def test_add_default_charset_as_ap_make_content_type():
    from prefork_modpy.runtime.record import with_default_charset

    assert with_default_charset("text/html", "utf-8") == "text/html; charset=utf-8"
    assert with_default_charset("text/plain; format=flowed", "x") == \
        "text/plain; format=flowed; charset=x"
    assert with_default_charset("text/html; charset=koi8-r", "x") == "text/html; charset=koi8-r"
    assert with_default_charset("application/json", "x") == "application/json"
    assert with_default_charset("TEXT/HTML", "x") == "TEXT/HTML"  # apr_strmatch: case as is
