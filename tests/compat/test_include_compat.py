"""Server-side includes (mod_include's INCLUDES filter) with mod_python's #python element,
compared with Apache httpd + mod_include + mod_python 3.5: the same .shtml pages, byte for
byte. (`exec cmd=` is left out: Apache runs the command, prefork-modpy refuses it by name.)"""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

FRAGMENT = """ServerName 127.0.0.1
LoadModule include_module /usr/lib/apache2/modules/mod_include.so
AddType text/html .shtml
<Directory {root}/ssi>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    PythonPath "sys.path + ['{root}/lib']"
    PythonFixupHandler ssi_fixup
</Directory>
<Directory {root}/plain>
    SetOutputFilter INCLUDES
</Directory>
"""

FILES = {
    "lib/ssi_fixup.py": (
        "from mod_python import apache\n\n"
        "def fixuphandler(req):\n"
        "    req.ssi_globals = {'data': 'test'}\n"
        "    return apache.OK\n"),
    "ssi/vars.shtml": (
        '<!--#set var="x" value="a<b&c" -->[<!--#echo var="x" -->]'
        '[<!--#echo encoding="none" var="x" -->][<!--#echo var="unset" -->]'
        '[<!--#echo var="DOCUMENT_URI" -->][<!--#echo var="DOCUMENT_NAME" -->]'
        '<!--#set var="y" value="${x}-$x" -->[<!--#echo encoding="none" var="y" -->]\n'),
    "ssi/cond.shtml": (
        '<!--#set var="v" value="two" -->'
        '<!--#if expr="v(\'v\') == \'one\'" -->1<!--#elif expr="v(\'v\') =~ /^t/" -->2'
        '<!--#else -->3<!--#endif -->'
        '<!--#if expr="-z v(\'nothing\') && !(v(\'v\') != \'two\')" -->[a]<!--#endif -->'
        '<!--#if expr="v(\'v\') = \'x\' || -n %{REQUEST_URI}" -->[b]<!--#else -->[c]'
        '<!--#endif -->'
        '<!--#if expr="%{REQUEST_METHOD} == \'POST\'" -->[d]<!--#elif '
        'expr="%{HTTP_HOST} =~ /^127/ && %{QUERY_STRING} == \'q=1\'" -->[e]<!--#endif -->'
        '<!--#if expr="%{v} == \'one\'" -->[f]<!--#else -->[g]<!--#endif -->\n'),
    "ssi/incl.shtml": ('[<!--#include file="part.txt" -->]'
                       '[<!--#include virtual="/ssi/part.txt" -->]'
                       '[<!--#include virtual="part.txt" -->]\n'),
    "ssi/part.txt": "PART",
    "ssi/python.shtml": ('<!--#python exec="\nfilter.write(data[:1])\nfilter.write(data[1:])\n"'
                         ' --> <!--#python eval="\'ok\'" --> <!--#python eval="None" -->'
                         '[<!--#python eval="len(data) * 2" -->]\n'),
    "ssi/errors.shtml": ('<!--#nosuch -->|<!--#config errmsg="[oops]" --><!--#nosuch -->|'
                         '<!--#include file="../etc" -->|<!--#echo bogus="1" -->\n'),
    "plain/off.shtml": '<!--#echo var="DOCUMENT_URI" -->\n',
}

CASES = [Case(name, f"/ssi/{name}.shtml")
         for name in ("vars", "incl", "python", "errors")] + [
    Case("cond", "/ssi/cond.shtml?q=1"),
    Case("without-options-includes", "/plain/off.shtml")]


@pytest.mark.parametrize("case", params(CASES))
def test_ssi_page(pair: Pair, case: Case) -> None:
    ours, theirs = both(pair, case)
    assert_same(ours, theirs, case)
    assert ours.body == theirs.body
    assert "last-modified" not in ours.headers or case.id == "without-options-includes"
