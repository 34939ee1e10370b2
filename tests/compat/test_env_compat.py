"""mod_env and mod_setenvif, compared with Apache httpd (both modules loaded): SetEnv,
UnsetEnv, PassEnv in server, <Directory>, <Location> and <Files> context, SetEnvIf on the
special attributes, headers, header-name regexes and earlier variables, BrowserMatch,
NoCase, `!var` and `var=value` with $N; what req.subprocess_env, a PythonFixupHandler and
mod_python.wsgi see."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

# Debian's order: mods-enabled/env.load before python.load, setenvif.load after it.
APACHE_MODULES_BEFORE_PYTHON = (("env_module", "mod_env.so"),)
APACHE_MODULES = (("setenvif_module", "mod_setenvif.so"),)

COMMON = """    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
"""

FRAGMENT = """
ServerName 127.0.0.1
SetEnv T_SRV server
PythonPath "sys.path + ['{root}/lib']"
PythonPostReadRequestHandler httpdmods_handlers::postread
SetEnv T_UNSET from-server
PassEnv T_PASS
SetEnvIf Request_URI "^/e/(\\w+)" T_URI=uri-$1
SetEnvIf Remote_Addr "^127\\." T_ADDR
SetEnvIf Request_Method "^(GET|POST)$" T_METHOD=$1
SetEnvIf Request_Protocol "HTTP/1\\.1" T_PROTO=one-one
SetEnvIf Server_Addr "^127\\.0\\.0\\.1$" T_SERVER_ADDR
SetEnvIf Remote_Host "^127\\." T_HOST=host
SetEnvIf X-Test "^yes" T_HDR=header
SetEnvIf "^X-Re-.*" "^match" T_RE=regex
SetEnvIf T_HDR "^header$" T_CHAIN=chained
SetEnvIfNoCase X-Case "^abc$" T_NOCASE
BrowserMatch "^Mozilla/(\\d)" T_UA=moz$1
BrowserMatchNoCase "^curl" T_UA=curl
SetEnvIf X-Drop "." !T_HDR
<Directory {root}/e>
""" + COMMON + """    SetEnv T_DIR dir
    SetEnv T_A "a b"
    UnsetEnv T_UNSET
    SetEnvIf X-Dir "^(.*)$" T_SUB=[$1]
    PythonFixupHandler httpdmods_handlers::fixup
    SetEnv T_FIX fixed
</Directory>
<Directory {root}/e/sub>
    SetEnv T_A inner
    SetEnv T_B b
    UnsetEnv T_DIR
</Directory>
<Location /e/loc>
    SetEnv T_LOC location
    SetEnv T_DIR from-location
</Location>
<Files "*.f">
    SetEnv T_FILES files
</Files>
<Directory {root}/hp>
""" + COMMON + """    SetEnvIf X-Dir "^(.*)$" T_SUB=[$1]
    PythonHeaderParserHandler httpdmods_handlers::headerparser
</Directory>
<Directory {root}/w>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application httpdmods_handlers::wsgi_env
    SetEnv T_A wsgi
</Directory>
<Directory {root}/cgi>
    AddHandler mod_python .py
    PythonHandler mod_python.cgihandler
    SetEnv T_A cgi
    UnsetEnv T_SRV
</Directory>
"""

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    "e/.keep": "",
    "e/sub/.keep": "",
    "e/loc/.keep": "",
    "w/.keep": "",
    "hp/.keep": "",
    "cgi/env.py": "import os\nprint('Content-type: text/plain')\nprint()\n"
                  "print(sorted((k, v) for k, v in os.environ.items() if k.startswith('T_')))\n",
}

SAME = [
    Case("server-and-directory", "/e/page"),
    Case("nested-directory-unset", "/e/sub/page"),
    Case("location-overrides", "/e/loc/page"),
    Case("files-section", "/e/page.f"),
    Case("header", "/e/x", headers={"X-Test": "yes please"}),
    Case("header-regex-name", "/e/x", headers={"X-Re-Thing": "matching"}),
    Case("nocase", "/e/x", headers={"X-Case": "ABC"}),
    Case("browser-match", "/e/x", headers={"User-Agent": "Mozilla/5.0 (X11)"}),
    Case("browser-match-nocase", "/e/x", headers={"User-Agent": "CURL/8"}),
    Case("unset-with-bang", "/e/x", headers={"X-Test": "yes", "X-Drop": "1"}),
    Case("dir-level-setenvif-substitution", "/e/x", headers={"X-Dir": "v"}),
    Case("post-method", "/e/x", method="POST", body=b""),
    Case("head-method", "/e/x", method="HEAD"),
    Case("header-parser-order", "/hp/x", headers={"X-Dir": "v"}),
    Case("wsgi-environ", "/w/app"),
    Case("cgihandler-environ", "/cgi/env.py", headers={"X-Test": "yes"}),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_variables_are_really_set(pair: Pair) -> None:
    """Guard against both servers agreeing on nothing: the values are there."""
    import json

    ours, _ = pair.both("/e/sub/page", headers={"X-Test": "yes"})
    env = json.loads(ours.body)["env"]
    assert env["T_A"] == "inner" and env["T_SRV"] == "server" and env["T_DIR"] is None
    assert env["T_HDR"] == "header" and env["T_CHAIN"] == "chained"
    assert env["T_URI"] == "uri-sub" and env["T_METHOD"] == "GET"
