"""Unit tests for mod_python.psp: the parser against mod_python's C scanner (`_psp`, outputs
recorded from Debian's mod_python 3.5), the manual's indentation rules, includes, and pages
run with a fake request (expressions, loops, form, session, error pages, caching,
display_code, the handler)."""
# ruff: noqa: E501

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from mod_python import apache, psp
from prefork_modpy.runtime.table import Table

ORACLE = [
    ('\ra\r\\r-:',
     'req.write("""\ra\r\\\\r-:""",0)\n'),
    ('x<%--\t"',
     'req.write("""x'),
    ('é<>a--%>\t',
     'req.write("""é<>a--%>\t""",0)\n'),
    ('\r\n\r<%--%>x',
     'req.write("""\n\r'),
    ('%><%=xx<%=\n',
     'req.write("""%>""",0); req.write(str(xx<%=\n'),
    ('\\nif 1><%--',
     'req.write("""\\\\nif 1>'),
    ('<%-- if 1%><%--',
     'req.write("""'),
    ('%>-<%@\r\n---%>éx',
     'req.write("""%>-éx""",0)\n'),
    ('"\\r%<%@\r\n  =<%\r\n',
     'req.write("""\\"\\\\r%'),
    ('<%=%\nx<%=:%\r=<%--',
     'req.write("""""",0); req.write(str(%\nx<%=:%\n=<%--'),
    ('\t\t\t<%--\\na\t%>:<%=:"',
     'req.write("""\t\t\t'),
    ('\\"  \r\n=<%@<-\n<%=\\\r\\r',
     'req.write("""\\\\"  \n='),
    (':   <%=>  <% \\t""<<%',
     'req.write(""":   """,0); req.write(str(>  <% \\t""<<%'),
    ('--%>\ta%><%=é\\t<%--  \\',
     'req.write("""--%>\ta%>""",0); req.write(str(é\\t<%--  \\'),
    ('%>é--%><%<%=a>\r\nx<%@%>',
     'req.write("""%>é--%>""",0);<%=a>\nx<%@req.write("""""",0)\n'),
    ('\n--%><%=<%@--%>\n%\n<%\\né\\',
     'req.write("""\n--%>""",0); req.write(str(<%@--),0); req.write("""\n%\n""",0);\\né\\'),
    ('<%=<%@"\t\\t\r\n--%>éx\\t\r\n<x  %',
     'req.write("""""",0); req.write(str(<%@"\t\\t\n--),0); req.write("""éx\\\\t\n<x  %""",0)\n'),
    (' \\rif 1\r\\r<%=<%--=\n<%--<%=\r\n',
     'req.write(""" \\\\rif 1\r\\\\r""",0); req.write(str(<%--=\n<%--<%=\n'),
    ('=é  <  if 1\\n\\="<%=é<%=\r\n\\n<%',
     'req.write("""=é  <  if 1\\\\n\\=\\"""",0); req.write(str(é<%=\n\\n<%'),
    ('%> %\\r\\r\\t\\n=-<%--\\t%>\n:\r\n%>-',
     'req.write("""%> %\\\\r\\\\r\\\\t\\\\n=-'),
    ('if 1if 1é<%\\na  =a<%=é%<%--\t=',
     'req.write("""if 1if 1é""",0);\\na  =a<%=é%<%--\t='),
    ('\r<%=--%><%--> >\r\n\\né<<%@\\r<%:',
     'req.write("""\r""",0); req.write(str(--),0); req.write("""'),
    (' >"\rif 1<%=<%--\\rx<%@- --%>\\nx',
     'req.write(""" >\\"\rif 1""",0); req.write(str(<%--\\rx<%@- --),0); req.write("""\\\\nx""",0)\n'),
    ('  if 1\\ --%><\\rif 1a%>%>"-%=\\t',
     'req.write("""  if 1\\ --%><\\\\rif 1a%>%>\\"-%=\\\\t""",0)\n'),
    ('<% \\tx\r\nif 1--%>%>\\r<\n<%--<%@\r\n',
     'req.write("""""",0); \\tx\nif 1--req.write("""%>\\\\r<\n'),
    ('  --%><\\t<%-\\r\ra<%=<\r\n\\r  <%@  ',
     'req.write("""  --%><\\\\t""",0);-\\r\na<%=<\n\\r  <%@  '),
    ('<%--\naa\\%>\\\\\t%>\n%>\\t--%>\rx--%>\\t',
     'req.write("""\rx--%>\\\\t""",0)\n'),
    ('<%--\\r>--%>x:é:<%\r\n:\r\\r\n-\\ \r\n\\tx',
     'req.write("""x:é:""",0);\n:\n\\r\n-\\ \n\\tx'),
    ('\\r\\t:\\r\\n\n"<%--%éax%\\n\\té\t\\r\r<:\n ',
     'req.write("""\\\\r\\\\t:\\\\r\\\\n\n\\"'),
    ('\n\\t\\t-\\r a\nif 1==-:=\né\t>=\n:\\r\\n  ',
     'req.write("""\n\\\\t\\\\t-\\\\r a\nif 1==-:=\né\t>=\n:\\\\r\\\\n  """,0)\n'),
    ('\ra\\%é"\r<\t%  <%"  <%@if 1<%--\\n%>:-\r',
     'req.write("""\ra\\%é\\"\r<\t%  """,0);"  <%@if 1<%--\\n;req.write(""":-\r""",0)\n'),
    ('é\r\n\t--%>\\t\\r\\\\n< <%=\r\n%>=<<%@x<%=\r\n<%a',
     'req.write("""é\n\t--%>\\\\t\\\\r\\\\\\n< """,0); req.write(str(\n),0); req.write("""=<'),
    ('<%@<%--\\\\a:  <%--\\t<<%=\\%>if 1:\\n%\\tx- ',
     'req.write("""if 1:\\\\n%\\\\tx- """,0)\n'),
    ('"=a--%>if 1éif 1\\n%  --%>\\t\\t--%><%<%=>',
     'req.write("""\\"=a--%>if 1éif 1\\\\n%  --%>\\\\t\\\\t--%>""",0);<%=>'),
    ('<%<%=\r\n\\n\r\n:<if 1  "=>    <%=\n<%--\n\\n: :',
     'req.write("""""",0);<%=\n\\n\n:<if 1  "=>    <%=\n<%--\n\\n: :'),
    ('-:\\n<%@x=a <%==>\t"\t><%=><%@<%@--%><%--%>',
     'req.write("""-:\\\\n'),
    ('<%=" if 1\\rif 1\\r:<\r\n"\\r\\t=\\n\\r\n<\\r\r\n\\t:é"',
     'req.write("""""",0); req.write(str(" if 1\\rif 1\\r:<\n"\\r\\t=\\n\\r\n<\\r\n\\t:é"'),
    ('\\é\\rxé\\r--%>\\t--%>\\r\\r<%"-<%@if 1<%-=--%><%@',
     'req.write("""\\é\\\\rxé\\\\r--%>\\\\t--%>\\\\r\\\\r""",0);"-<%@if 1<%-=--;req.write("""'),
    ('--%><a%  --%>\r\n--%>"\n><%--\t\\n<%@%é\n<%@<x\\r\t ',
     'req.write("""--%><a%  --%>\n--%>\\"\n>'),
    ('--%>\\t<%--  if 1<%<%=:if 1\t--%>a\r\n  if 1  \\n<%--',
     'req.write("""--%>\\\\ta\n  if 1  \\\\n'),
]

MANUAL = [
    # the upstream psptest page
    ('<%\nif 1:\n    req.write("t")\n%>est<%=" "+"ok"%>',
     'req.write("""""",0);\nif 1:\n    req.write("t")\n    req.write("""est""",0); req.write(str(" "+"ok"),0); req.write("""""",0)\n'),
    ('<% for i in range(3): %>x<%= i %>\n<% %>end',
     'req.write("""""",0); for i in range(3): ;req.write("""x""",0); req.write(str( i ),0); req.write("""\n""",0); ;req.write("""end""",0)\n'),
    ('<%for i in [1]:\r\n  if i:\r\n    pass\r\n%>y\r\n<%\n%>z<%%>w',
     'req.write("""""",0);for i in [1]:\n  if i:\n    pass\n    req.write("""y\n""",0);\nreq.write("""z""",0);;req.write("""w""",0)\n'),
    ('', ''),
    ('\n', 'req.write("""\n""",0)\n'),
    ('a<%@ foo %>b', 'req.write("""ab""",0)\n'),
    ('<%x=1\rprint(x)%>', 'req.write("""""",0);x=1\nprint(x)req.write("""""",0)\n'),
    ('<% if 1:\n  x=1\n%>a<%\n%>b',
     'req.write("""""",0); if 1:\n  x=1\n  req.write("""a""",0);\nreq.write("""b""",0)\n'),
    ('<% "%>" %>', 'req.write("""""",0); ";req.write("""\\" %>""",0)\n'),
    ('a\\rb\\tc\\\\n', 'req.write("""a\\\\rb\\\\tc\\\\\\n""",0)\n'),
    ('<%-- x --%>', 'req.write("""""",0)\n'),
    ('<% if 1:\n  x=1\n  %>a', 'req.write("""""",0); if 1:\n  x=1\n    req.write("""a""",0)\n'),
    ('<% if 1:\n%>a<% %>b', 'req.write("""""",0); if 1:\n\treq.write("""a""",0); ;req.write("""b""",0)\n'),
    ('<% if 1:\n  if 2:\n%>a\n<%\n  pass\n%>b',
     'req.write("""""",0); if 1:\n  if 2:\n  \treq.write("""a\n""",0);\n  pass\n  req.write("""b""",0)\n'),
    ('<%=\nx\n%>y', 'req.write("""""",0); req.write(str(\nx\n),0); req.write("""y""",0)\n'),
    ('a<%-x%>', 'req.write("""a""",0);-x;req.write("""""",0)\n'),
]


@pytest.mark.parametrize("text,expected", ORACLE + MANUAL)
def test_parser_matches_mod_python(text: str, expected: str) -> None:
    assert psp.parsestring(text) == expected


def test_include_relative_to_page_dir(tmp_path: Path) -> None:
    (tmp_path / "inc.txt").write_text('inc "q"\n<%= 1 %>')
    (tmp_path / "page.psp").write_text('a<%@ include file="inc.txt" %>b\n<%@include  file = "inc.txt"%>c')
    assert psp.parse("page.psp", str(tmp_path) + "/") == (
        'req.write("""ainc \\"q\\"\n""",0); req.write(str( 1 ),0); req.write("""b\ninc \\"q\\"\n""",0); req.write(str( 1 ),0); req.write("""c""",0)\n')
    (tmp_path / "bad.psp").write_text('<%@ include file="missing.txt" %>')
    with pytest.raises(OSError):
        psp.parse("bad.psp", str(tmp_path) + "/")


class FakeReq:
    def __init__(self, filename: str, args: Optional[str] = None, debug: bool = False,
                 docroot: str = "/") -> None:
        self.filename = filename
        self.args = args
        self.method = "GET"
        self.headers_in = Table()
        self.headers_out = Table()
        self.err_headers_out = Table()
        self.written: list[str] = []
        self.content_type = None
        self.debug = debug
        self.docroot = docroot
        self.uri = "/page.psp"

    def write(self, data: Any, flush: int = 1) -> None:
        self.written.append(data if isinstance(data, str) else data.decode())

    def flush(self) -> None:
        pass

    def get_config(self) -> dict:
        return {"PythonDebug": "1"} if self.debug else {}

    def get_options(self) -> dict:
        return {}

    def document_root(self) -> str:
        return self.docroot

    def read(self, n: int = -1) -> bytes:
        return b""

    @property
    def body(self) -> str:
        return "".join(self.written)


def page(tmp_path: Path, text: str, name: str = "page.psp") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(tmp_path: Path, text: str, **kw: Any) -> FakeReq:
    req = FakeReq(page(tmp_path, text), **kw)
    assert psp.handler(req) == apache.OK
    assert req.content_type == "text/html"
    return req


def test_hello_and_expressions(tmp_path: Path) -> None:
    req = run(tmp_path, '<%\nif 1:\n    req.write("t")\n%>est<%=" "+"ok"%>\n')
    assert req.body == "test ok\n"
    assert run(tmp_path, 'a "b" \\n <%= 6*7 %> <%-- gone --%>c').body == 'a "b" \\n 42 c'


def test_loop_with_indentation(tmp_path: Path) -> None:
    text = "<ul>\n<%\nfor i in range(3):\n    if i % 2:\n%><li>odd <%= i %></li>\n<%\n    else:\n%><li>even <%= i %></li>\n<%\n%></ul>\n"
    assert run(tmp_path, text).body == (
        "<ul>\n<li>even 0</li>\n<li>odd 1</li>\n<li>even 2</li>\n</ul>\n")


def test_form_variables(tmp_path: Path) -> None:
    req = run(tmp_path, "Hello <%= form.getfirst('name', 'nobody') %>!", args="name=Ann")
    assert req.body == "Hello Ann!" and req.form.getfirst("name") == "Ann"


def test_apply_data_and_vars(tmp_path: Path) -> None:
    req = FakeReq(page(tmp_path, "<%= psp.apply_data(f) %> <%= extra %>"), args="a=1&b=2")
    psp.PSP(req, vars={"f": lambda a, b: a + b}).run({"extra": "x"})
    assert req.body == "12 x"


def test_error_page_gets_exception(tmp_path: Path) -> None:
    page(tmp_path, "fail <%= exception[1] %>", "error.psp")
    req = run(tmp_path, "<%\npsp.set_error_page('error.psp')\n%>okay\n<%\nraise ValueError('boom')\n%>")
    assert req.body.split() == ["okay", "fail", "boom"]
    with pytest.raises(ZeroDivisionError):
        run(tmp_path, "<%= 1/0 %>")


def test_string_pages_and_str(tmp_path: Path) -> None:
    req = FakeReq(str(tmp_path / "x.psp"))
    p = psp.PSP(req, string="<%= 1+1 %>")
    assert str(p) == "" and req.body == "2"
    with pytest.raises(ValueError):
        psp.PSP(req, filename="a", string="b")


def test_missing_page_is_404(tmp_path: Path) -> None:
    with pytest.raises(apache.SERVER_RETURN) as info:
        psp.handler(FakeReq(str(tmp_path / "nope.psp")))
    assert info.value.args[0] == apache.HTTP_NOT_FOUND


def test_cache_follows_mtime_of_page_and_includes(tmp_path: Path) -> None:
    inc = tmp_path / "part.txt"
    inc.write_text("one")
    path = page(tmp_path, '<%@ include file="part.txt" %>!')
    assert run(tmp_path, '<%@ include file="part.txt" %>!').body == "one!"
    code = psp.PSP(FakeReq(path)).code
    assert psp.PSP(FakeReq(path)).code is code  # cached
    inc.write_text("two")
    later = time.time() + 5
    os.utime(inc, (later, later))
    req = FakeReq(path)
    psp.PSP(req).run()
    assert req.body == "two!"


def test_display_code_in_debug(tmp_path: Path) -> None:
    path = page(tmp_path, "<%= 1 %>")
    req = FakeReq(path + "_", debug=True)
    assert psp.handler(req) == apache.OK
    assert req.body.startswith("<table>\n<tr><td><tt></tt></td><td><tt>&nbsp;PSP-produced Python Code:")
    assert "req.write(str(&nbsp;1&nbsp;),0)" in req.body
    # without PythonDebug the `_` name is just a missing file
    with pytest.raises(apache.SERVER_RETURN):
        psp.handler(FakeReq(path + "_"))
