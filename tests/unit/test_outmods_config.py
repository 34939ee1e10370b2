"""mod_headers, mod_expires, mod_deflate and mod_autoindex: directive parsing (httpd's
messages, refusals with the reason), merging, and the pure helpers (Accept-Encoding scan,
header edit/merge, apr_strfsize, path escaping)."""

import pytest

from prefork_modpy.config.outputmods import HeaderAction, parse_format
from prefork_modpy.config.regex import compile_regex
from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError, Node
from prefork_modpy.httpd import autoindex, deflate, headers


def load(tmp_path, text):
    path = tmp_path / "site.conf"
    path.write_text(text)
    return load_config(str(path))


@pytest.mark.parametrize("line,message", [
    ("Header set X-A v early", "early .*refused rather than ignored"),
    ("Header set X-A v \"expr=req('X') == 'a'\"", "functions and parentheses are not"),
    ("Header set X-A v \"expr=%{UNIQUE_ID} == 'a'\"", "%{UNIQUE_ID} is not available"),
    ("Header set X-A v \"expr=-n %{HTTP_HOST} && true || false\"", "&& and || mixed"),
    ("Header set X-A v \"expr=%{HTTP_HOST} -ipmatch '127.0.0.0/8'\"", "'-ipmatch' is not"),
    ("Header set X-A expr=%{REQUEST_URI}", "a value given as expr="),
    ('Header set X-A "%{HTTPS}s"', "format tag %s .SSL variables"),
    # httpd names the character before the unknown tag (parse_format_tag's s[-1])
    ('Header set X-A "%Q"', "Unrecognized header format %%"),
    ("Header edit X-A ^a", "Header edit requires a match and a substitution"),
    ("Header frob X-A v", "first argument must be 'add', 'set'"),
    ("RequestHeader echo ^X", "Header echo only valid on Header directives"),
    ("Header set X-A v env=", "missing environment variable name"),
    ("Header set X-A v bogus", "Unknown parameter: bogus"),
    ("Header set X-A", "Header requires three arguments"),
    ("ExpiresDefault \"later plus 1 day\"", "unrecognised <base> 'later'"),
    ("ExpiresDefault \"access plus 1 fortnight\"", "unrecognised <type>'fortnight'"),
    ("ExpiresDefault \"access plus one day\"", "numeric value expected <num> 'one'"),
    ("ExpiresByType text/html", "takes two arguments"),
    ("AddOutputFilterByType MYFILTER text/html", "only DEFLATE is supported by type"),
    ("DeflateCompressionLevel 5", "not allowed here .server config and virtual host only"),
    ("FilterDeclare COMPRESS", "only AddOutputFilterByType DEFLATE is implemented"),
    ("IndexOptions ScanHTMLTitles", "ScanHTMLTitles: reading each HTML file's <title>"),
    ("IndexOptions Fancy", "Invalid directory indexing option"),
    ("IndexOptions NameWidth=3", "NameWidth value must be greater than 5"),
    ("IndexOptions +None", "Cannot combine '\\+' or '-' with 'None' keyword"),
    ("IndexOrderDefault Up Name", "First keyword must be 'Ascending' or 'Descending'"),
])
def test_refusals_and_httpd_messages(tmp_path, line, message):
    with pytest.raises(ConfigError, match=rf"site.conf:2: .*{message}"):
        load(tmp_path, f"<Directory {tmp_path}>\n{line}\n</Directory>\n")


def test_compression_level_is_server_wide(tmp_path):
    assert load(tmp_path, "DeflateCompressionLevel 9\n").main.settings.deflate_level == 9
    with pytest.raises(ConfigError, match="site.conf:1: DeflateCompressionLevel must be "
                                          "between 1 and 9"):
        load(tmp_path, "DeflateCompressionLevel 10\n")


def test_expires_codes_both_syntaxes(tmp_path):
    config = load(tmp_path, "ExpiresActive On\n"
                            'ExpiresByType text/css "access plus 1 month 2 days"\n'
                            "ExpiresByType image/png M3600\n"
                            'ExpiresDefault "modification 1 year 1 hour 1 minute 1 second"\n')
    settings = config.main.settings
    assert settings.expires_by_type == {"text/css": ("A", 32 * 86400), "image/png": ("M", 3600)}
    assert settings.expires_default == ("M", 365 * 86400 + 3661)
    assert settings.httpd_output


def test_header_lists_concatenate_parent_first(tmp_path):
    config = load(tmp_path, f"Header set X-A 1\n<Directory {tmp_path}>\nHeader always add X-B 2"
                            "\n</Directory>\n")
    merged = config.main.effective_settings(str(tmp_path / "f"), "/f")
    assert [(a.header, a.always) for a in merged.header_actions] == [("X-A", False),
                                                                    ("X-B", True)]


def test_no_module_setting_keeps_the_hot_path_flag_off(tmp_path):
    config = load(tmp_path, f"<Directory {tmp_path}>\nExpiresActive On\n</Directory>\n")
    settings = config.main.effective_settings(str(tmp_path / "f"), "/f")
    assert not settings.httpd_output  # active without any code: nothing to do
    assert not config.main.settings.httpd_output


def test_index_options_amend_or_replace(tmp_path):
    config = load(tmp_path, "IndexOptions FancyIndexing HTMLTable\n"
                            f"<Directory {tmp_path}/a>\nIndexOptions -HTMLTable +FoldersFirst\n"
                            f"</Directory>\n<Directory {tmp_path}/b>\nIndexOptions VersionSort\n"
                            "</Directory>\n")
    host = config.main
    a = host.effective_settings(str(tmp_path / "a") + "/", "/a/").autoindex
    b = host.effective_settings(str(tmp_path / "b") + "/", "/b/").autoindex
    assert a.effective_options == {"fancyindexing", "foldersfirst"}
    assert b.effective_options == {"versionsort"}


def test_index_options_merge_in_httpds_walk_order(tmp_path):
    """httpd merges the matching sections with each other first: under a parent section
    that has a mod_autoindex directive, a child's +keywords replace the server's options."""
    config = load(tmp_path, "IndexOptions FancyIndexing HTMLTable\n"
                            f"<Directory {tmp_path}/p>\nAddDescription x a.txt\n</Directory>\n"
                            f"<Directory {tmp_path}/p/c>\nIndexOptions +FoldersFirst\n"
                            "</Directory>\n")
    conf = config.main.effective_settings(str(tmp_path / "p" / "c") + "/", "/p/c/").autoindex
    assert conf.effective_options == {"foldersfirst"}
    parent = config.main.effective_settings(str(tmp_path / "p") + "/", "/p/").autoindex
    assert parent.effective_options == {"fancyindexing", "htmltable"}


@pytest.mark.parametrize("text,values,expected", [
    ("%{REQUEST_STATUS} -ge 400", {"REQUEST_STATUS": "404"}, True),
    ("%{REQUEST_STATUS} -ge 400", {"REQUEST_STATUS": "200"}, False),
    ("%{REQUEST_URI} =~ m#\\.(css|js)$#", {"REQUEST_URI": "/a/b.js"}, True),
    ("%{REQUEST_URI} !~ /^\\/static/", {"REQUEST_URI": "/static/x"}, False),
    ("! %{QUERY_STRING} == 'a=1' || -z %{QUERY_STRING}", {"QUERY_STRING": ""}, True),
    ("%{HTTP_HOST} == 'x' && %{REQUEST_METHOD} != \"GET\"",
     {"HTTP_HOST": "x", "REQUEST_METHOD": "POST"}, True),
])
def test_simple_ap_expr(text, values, expected):
    from prefork_modpy.config import apexpr

    assert apexpr.parse(text).evaluate(values.__getitem__) is expected


def node(text):
    return Node("Header", [text], "t.conf", 1)


def test_format_escapes_and_tags():
    parts = parse_format(node("x"), "a\\tb %% %{HOME}e %t")
    assert [(p.tag, p.text) for p in parts] == [("", "a\tb "), ("", "%"), ("", " "),
                                                 ("e", "HOME"), ("", " "), ("t", "")]


@pytest.mark.parametrize("value,expected", [
    ("gzip", True), ("GZIP", True), ("deflate, gzip", True), ("gzip;q=0", False),
    ("gzip;q=0.0", False), ("gzip;q=0.000", False), ("gzip;q=0.001", True),
    ("gzip ; q=0", False), ("gzip;Q=0", True),  # the q-value is compared literally
    ("br", False), ("x-gzip", False), (", gzip", False), ("identity;q=1, gzip;q=0.5", True),
    (None, False),
])
def test_accept_encoding_scan(value, expected):
    assert deflate.accepts_gzip(value) is expected


def test_edit_and_edit_star():
    action = HeaderAction("edit", "X", (), compile_regex("o"))
    assert headers.edit_value(action, "foo boo", "0") == "f0o boo"
    star = HeaderAction("edit*", "X", (), compile_regex("o"))
    assert headers.edit_value(star, "foo boo", "0") == "f00 b00"
    groups = HeaderAction("edit", "X", (), compile_regex("^(\\w+)-(\\w+)$"))
    assert headers.edit_value(groups, "ab-cd", "$2-$1 &") == "cd-ab ab-cd"


def test_merge_tokens_respect_quotes():
    assert headers._tokens('a, "b, c", d') == ["a", '"b, c"', "d"]


@pytest.mark.parametrize("size,text", [(-1, "  - "), (0, "  0 "), (972, "972 "),
                                       (973, "1.0K"), (5000, "4.9K"), (10240, " 10K"),
                                       (300000, "293K"), (1 << 20, "1.0M"),
                                       (5 * (1 << 30), "5.0G")])
def test_strfsize(size, text):
    assert autoindex.strfsize(size) == text


def test_escape_path():
    assert autoindex.escape_path("we ird&<x>.txt") == "we%20ird&%3cx%3e.txt"
    assert autoindex.escape_path("co:lon") == "./co:lon"
    assert autoindex.escape_path("dir/") == "dir/"


def test_gzip_stream_flushes_decodable_blocks():
    """Each sync-flushed block decodes on its own (streaming), the trailer closes the stream,
    and the header is httpd's (mtime 0, OS unix)."""
    import gzip
    import zlib

    from prefork_modpy import _core

    stream = _core.GzipStream(6)
    first = stream.compress(b"hello " * 100, True)
    assert first[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    decoder = zlib.decompressobj(31)
    assert decoder.decompress(first) == b"hello " * 100
    rest = stream.compress(b"world", True) + stream.finish(b"!")
    assert decoder.decompress(rest) == b"world!" and decoder.eof
    assert gzip.decompress(first + rest) == b"hello " * 100 + b"world!"
    with pytest.raises(ValueError):
        stream.finish(b"")
    with pytest.raises(ValueError):
        _core.GzipStream(0)
