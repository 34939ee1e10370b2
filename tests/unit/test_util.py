"""Unit tests for mod_python.util (FieldStorage, parse_qs(l), redirect, apply_fs_data)
against a small fake request object."""

import hashlib
import os

import pytest

from mod_python import _querystring, apache, util
from prefork_modpy.runtime.table import Table


class FakeReq:
    """Just what util needs: method, args, headers_in, read(n), write, status..."""

    def __init__(self, method="GET", args=None, body=b"", headers=None, read_size=None):
        self.method = method
        self.args = args
        self.headers_in = Table(headers or {})
        self.err_headers_out = Table()
        self.headers_out = Table()
        self._body = body
        self._read_size = read_size  # simulate short reads
        self.status = 200
        self.sent_bodyct = 0
        self.written = []
        self.reads = 0

    def read(self, n=-1):
        self.reads += 1
        if n is None or n < 0:
            n = len(self._body)
        if self._read_size:
            n = min(n, self._read_size)
        data, self._body = self._body[:n], self._body[n:]
        return data

    def write(self, data, flush=1):
        self.written.append(data)


def post(body, ctype="application/x-www-form-urlencoded", **kw):
    headers = {"Content-Type": ctype, "Content-Length": str(len(body))}
    return FakeReq("POST", body=body, headers=headers, **kw)


# ------------------------------------------------------------------------ parse_qs(l)


def test_parse_qsl_basic_and_separators():
    assert util.parse_qsl("a=1&b=2;c=3") == [("a", "1"), ("b", "2"), ("c", "3")]
    assert util.parse_qsl("x=10&y=20") == [("x", "10"), ("y", "20")]  # issue #117
    assert util.parse_qsl("a+b=c+d&e=%41%e2%82%ac") == [("a b", "c d"), ("e", "A\u20ac")]


def test_parse_qsl_blank_values_and_strict():
    assert util.parse_qsl("a=&b&c=1") == [("c", "1")]
    assert util.parse_qsl("a=&b&c=1", 1) == [("a", ""), ("b", ""), ("c", "1")]
    assert util.parse_qsl("a=1&&b=2") == [("a", "1"), ("b", "2")]
    with pytest.raises(ValueError):
        util.parse_qsl("a=1&b", 0, 1)


def test_parse_qsl_bytes_in_bytes_out():
    assert util.parse_qsl(b"k=%ff&j=2") == [(b"k", b"\xff"), (b"j", b"2")]
    with pytest.raises(TypeError):
        util.parse_qsl(5)


def test_parse_qs():
    assert util.parse_qs("a=1&a=2&b=3") == {"a": ["1", "2"], "b": ["3"]}
    assert util.parse_qs("a=", keep_blank_values=1) == {"a": [""]}


def test_parse_header():
    key, opts = util.parse_header(b'form-data; name="f"; filename="a b.txt"')
    assert key == b"form-data"
    assert opts == {b"name": "f", b"filename": "a b.txt"}
    with pytest.raises(TypeError):
        util.parse_header("str")


# ----------------------------------------------------------------------- FieldStorage


def test_query_string_fields_are_str():
    fs = util.FieldStorage(FakeReq(args="a=1&b=x+y&a=2"))
    assert fs.keys() == ["a", "b"]
    assert fs["b"] == "x y" and isinstance(fs["b"], str)
    assert isinstance(fs["b"], util.StringField) and fs["b"].value == "x y"
    assert fs["a"] == ["1", "2"]
    assert fs.getfirst("a") == "1" and fs.getlist("a") == ["1", "2"]
    assert fs.getfirst("zz", "d") == "d" and fs.getlist("zz") == []
    assert fs.get("zz") is None and fs.get("zz", 5) == 5
    assert "a" in fs and fs.has_key("b") and "zz" not in fs
    assert len(fs) == 2
    assert repr(fs["b"]) == "Field('b', 'x y')"


def test_get_ignores_body_and_repeated_keys_keep_order():
    req = FakeReq("GET", args="k=1", body=b"k=2", headers={"Content-Length": "3"})
    fs = util.FieldStorage(req)
    assert fs["k"] == "1"
    assert req.reads == 0


def test_urlencoded_post_matches_upstream_test():
    fs = util.FieldStorage(post(b"spam=1&spam=2&eggs=3&bacon=4"))
    assert repr(fs.list) == (
        "[Field('spam', '1'), Field('spam', '2'), Field('eggs', '3'), Field('bacon', '4')]")
    assert all(type(name) is str for name in fs.keys())
    assert fs.items()[0] == ("spam", "1")


def test_urlencoded_post_utf8_and_query_first():
    req = post("name=J%C3%BCrgen&q=\u00fc".encode())
    req.args = "first=1"
    fs = util.FieldStorage(req)
    assert [item.name for item in fs.list] == ["first", "name", "q"]
    assert fs["name"] == "J\u00fcrgen" and fs["q"] == "\u00fc"


def test_keep_blank_values_in_body():
    assert util.FieldStorage(post(b"a=&b=1")).keys() == ["b"]
    assert util.FieldStorage(post(b"a=&b=1"), keep_blank_values=1)["a"] == ""


@pytest.mark.parametrize("read_size", [1, 2, 3, 5, 7, None])
def test_urlencoded_body_split_anywhere_parses_the_same(read_size):
    """The body is parsed block by block as req.read() returns it (linear time, ISSUE 15
    finding 4): a field or an escape split across blocks, separators at a block's edge
    and empty fields give exactly what one parse of the whole body gives."""
    body = b"a=1&&bb=%C3%BC+x;c&d=&e=" + b"z" * 20 + b"&f=%2&g=last"
    whole = _querystring.parse_qsl_bytes(body, 1, 0)
    fs = util.FieldStorage(post(body, read_size=read_size), keep_blank_values=1)
    assert [(item.name, item.value) for item in fs.list] == \
        [(k.decode(), v.decode("utf-8", "replace")) for k, v in whole]
    assert fs["bb"] == "\u00fc x" and fs["e"] == "z" * 20 and fs["g"] == "last"


def test_urlencoded_strict_parsing_still_raises_in_blocks():
    with pytest.raises(ValueError):
        util.FieldStorage(post(b"a=1&broken&b=2", read_size=3), strict_parsing=1)


def test_post_without_content_length_is_411():
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    req = FakeReq("POST", body=b"a=1", headers=headers)
    with pytest.raises(apache.SERVER_RETURN) as info:
        util.FieldStorage(req)
    assert info.value.args[0] == apache.HTTP_LENGTH_REQUIRED
    req.headers_in["Content-Length"] = "bogus"
    with pytest.raises(apache.SERVER_RETURN):
        util.FieldStorage(req)


def test_chunked_post_is_read_without_content_length():
    req = FakeReq("POST", body=b"a=1&b=2", read_size=3,
                  headers={"Transfer-Encoding": "chunked",
                           "Content-Type": "application/x-www-form-urlencoded"})
    fs = util.FieldStorage(req)
    assert fs["a"] == "1" and fs["b"] == "2"


def test_unknown_content_type_is_501():
    with pytest.raises(apache.SERVER_RETURN) as info:
        util.FieldStorage(post(b"{}", "application/json"))
    assert info.value.args[0] == apache.HTTP_NOT_IMPLEMENTED


def test_multipart_without_boundary_is_400():
    with pytest.raises(apache.SERVER_RETURN) as info:
        util.FieldStorage(post(b"x", "multipart/form-data"))
    assert info.value.args[0] == apache.HTTP_BAD_REQUEST


def multipart(parts, boundary="----b0undary", preamble=b""):
    out = [preamble]
    for headers, content in parts:
        out.append(b"--" + boundary.encode() + b"\r\n")
        for h in headers:
            out.append(h.encode() + b"\r\n")
        out.append(b"\r\n" + content + b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), f'multipart/form-data; boundary="{boundary}"'


def test_multipart_fields_and_file_upload():
    payload = os.urandom(200_000) + b"\r\n--not-the-boundary\r\n" + b"\r" * 3
    body, ctype = multipart([
        (['Content-Disposition: form-data; name="test"'], b"abcd"),
        (['Content-Disposition: form-data; name="test"'], b"second"),
        (['Content-Disposition: form-data; name="testfile"; filename="t.bin"',
          "Content-Type: application/x-thing; charset=x"], payload),
        (['Content-Disposition: form-data; name="na\xc3\xafve"'.encode("latin-1").decode()],
         "caf\u00e9".encode()),
    ])
    req = post(body, ctype, read_size=7000)
    req.args = "q=1"
    fs = util.FieldStorage(req)
    assert fs.keys() == ["q", "test", "testfile", "na\u00efve"]
    assert fs["test"] == ["abcd", "second"]
    assert fs["na\u00efve"] == "caf\u00e9"
    upload = fs.getfirst("testfile")
    assert isinstance(upload, util.Field)
    assert upload.filename == "t.bin" and upload.name == "testfile"
    assert upload.type == "application/x-thing"
    assert upload.type_options == {"charset": "x"}
    assert upload.disposition == "form-data"
    assert upload.disposition_options == {"name": "testfile", "filename": "t.bin"}
    assert upload.headers["content-type"] == "application/x-thing; charset=x"
    assert hashlib.md5(upload.file.read()).hexdigest() == hashlib.md5(payload).hexdigest()
    assert upload.value == payload
    plain = fs.getfirst("test")
    assert plain.filename is None and plain.file.read() == b"abcd"
    assert plain.disposition_options == {"name": "test"}


@pytest.mark.parametrize("length", [util.readBlockSize - 1, util.readBlockSize,
                                    util.readBlockSize + 1])
@pytest.mark.parametrize("tail", [b"", b"\r", b"\r\n", b"\n"])
def test_multipart_block_boundaries(length, tail):
    # upstream's test_fileupload_embedded_cr / split_boundary cases
    content = b"x" * (length - 2) + b"\r" + b"y" + b"\nline\n" + b"z" * length + tail
    body, ctype = multipart([
        (['Content-Disposition: form-data; name="f"; filename="f.bin"'], content),
    ])
    fs = util.FieldStorage(post(body, ctype))
    assert fs["f"].value == content


def test_multipart_callbacks_and_preamble():
    files, fields = [], []

    def file_cb(filename):
        from io import BytesIO
        files.append(filename)
        return BytesIO()

    def field_cb():
        from io import BytesIO
        fields.append(1)
        return BytesIO()

    body, ctype = multipart([
        (['Content-Disposition: form-data; name="a"'], b"1"),
        (['Content-Disposition: form-data; name="f"; filename="x.txt"'], b"data"),
    ], preamble=b"ignored preamble\r\n")
    fs = util.FieldStorage(post(body, ctype), file_callback=file_cb, field_callback=field_cb)
    assert files == ["x.txt"] and fields == [1]
    assert fs["a"] == "1" and fs["f"].value == b"data"


def test_multipart_folded_header_and_missing_slash_type():
    body = (b"--B\r\nContent-Disposition: form-data;\r\n name=\"f\"; filename=\"n\"\r\n"
            b"Content-Type: weird\r\n\r\nDATA\r\n--B--\r\n")
    fs = util.FieldStorage(post(body, "multipart/form-data; boundary=B"))
    assert fs["f"].type == "application/octet-stream"
    assert fs["f"].value == b"DATA"


def test_field_storage_mutation_api():
    fs = util.FieldStorage(FakeReq(args="a=1&a=2&b=3"))
    fs.add_field("c", "4")
    assert fs["c"] == "4"
    fs["a"] = "9"
    assert fs["a"] == "9"
    assert [item.name for item in fs.list] == ["b", "c", "a"]
    del fs["b"]
    assert "b" not in fs
    fs.add_field(b"d", b"5")
    assert fs["d"] == "5"
    fs.clear()
    assert len(fs) == 0 and fs.keys() == []


def test_string_field_file_and_field_backcompat():
    sf = util.StringField(b"caf\xc3\xa9")
    assert sf == "caf\u00e9" and sf.file.read() == "caf\u00e9".encode()
    from io import BytesIO
    field = util.Field("n", BytesIO(b"xyz"), "text/plain", {}, "form-data",
                       {"filename": "f.txt"})
    assert field.filename == "f.txt" and field.value == b"xyz"


# -------------------------------------------------------------------------- redirect


def test_redirect_sets_location_status_and_raises_done():
    req = FakeReq()
    with pytest.raises(apache.SERVER_RETURN) as info:
        util.redirect(req, "/dummy?a=1&b=2")
    assert info.value.args[0] == apache.DONE
    assert req.err_headers_out["Location"] == "/dummy?a=1&b=2"
    assert req.status == 302
    assert req.written == ['<p>The document has moved <a href="/dummy?a=1&amp;b=2">here</a></p>\n']


def test_redirect_permanent_with_text():
    req = FakeReq()
    with pytest.raises(apache.SERVER_RETURN):
        util.redirect(req, "/x", permanent=1, text="test ok")
    assert req.status == 301 and req.written == ["test ok"]


def test_redirect_errors():
    req = FakeReq()
    with pytest.raises(ValueError):
        util.redirect(req, "/x\r\nSet-Cookie: evil=1")
    with pytest.raises(TypeError):
        util.redirect(req, b"/x")
    req.sent_bodyct = 1
    with pytest.raises(IOError, match="Cannot redirect after headers"):
        util.redirect(req, "/x")
    assert "Location" not in req.err_headers_out


# --------------------------------------------------------------------- apply_fs_data


def form(qs):
    return util.FieldStorage(FakeReq(args=qs))


def test_apply_fs_data_function_filters_and_collapses():
    def f(req, a, b=None):
        return (req, a, b)

    assert util.apply_fs_data(f, form("a=1&b=2&b=3&zz=9"), req="R") == ("R", "1", ["2", "3"])


def test_apply_fs_data_form_cannot_override_caller_args():
    def f(req, a=None):
        return req

    assert util.apply_fs_data(f, form("req=evil&a=1"), req="R") == "R"


def test_apply_fs_data_kwargs_method_class_callable_builtin():
    def kw(**kwargs):
        return kwargs

    assert util.apply_fs_data(kw, form("x=1")) == {"x": "1"}

    class K:
        def __init__(self, a):
            self.a = a

        def m(self, b):
            return b

        def __call__(self, c):
            return c

    assert util.apply_fs_data(K, form("a=1&q=2")).a == "1"
    obj = K("0")
    assert util.apply_fs_data(obj.m, form("b=5&a=1")) == "5"
    assert util.apply_fs_data(obj, form("c=7&a=1")) == "7"
    assert util.apply_fs_data(dict, form("a=1")) == {}


def test_apply_fs_data_passes_upload_fields():
    body, ctype = multipart([
        (['Content-Disposition: form-data; name="up"; filename="u"'], b"bytes"),
    ])

    def f(up):
        return up

    result = util.apply_fs_data(f, util.FieldStorage(post(body, ctype)))
    assert isinstance(result, util.Field) and result.value == b"bytes"
