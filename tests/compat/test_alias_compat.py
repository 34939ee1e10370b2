"""mod_alias's redirects and AliasMatch, compared with Apache httpd: Redirect (prefix, with
the rest of the path and the query string), RedirectPermanent/RedirectTemp, status words
and numbers, gone (410), RedirectMatch with $N, the same in a virtual host, in <Directory>
and <Location> (mod_alias's fixup), and AliasMatch mapping to files."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

FRAGMENT = """
ServerName 127.0.0.1
PythonPath "sys.path + ['{root}/lib']"
PythonTransHandler httpdmods_handlers::trans
Redirect /old http://example.test/new
Redirect permanent /perm/ http://example.test/p/
RedirectPermanent /rp /target
RedirectTemp /rt http://example.test/temp
Redirect seeother /so http://example.test/seen
Redirect 307 /r307 http://example.test/kept
Redirect gone /gone
Redirect 410 /gone2
RedirectMatch "^/m/(\\w+)\\.html$" "http://example.test/match/$1"
RedirectMatch 301 "(?i)^/case/(.*)" "/lower/$1"
AliasMatch "^/am/(\\w+)/(.*)$" "{root}/aliased/$1/$2"
<Directory {root}/aliased>
    Require all granted
</Directory>
<Directory {root}/d>
    Redirect /d/in-dir http://example.test/from-dir
</Directory>
<Location /loc>
    Redirect /loc/x http://example.test/from-location
</Location>
"""

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    "aliased/one/file.txt": "one's file\n",
    "aliased/two/index.html": "<p>two</p>\n",
    "d/page.txt": "page\n",
    "m/keep.txt": "not redirected\n",
}

SAME = [
    Case("prefix-rest", "/old/a/b"),
    Case("prefix-exact", "/old"),
    Case("prefix-not-partial-word", "/older", mode="stock"),
    Case("prefix-query", "/old/q?x=1&y=2"),
    Case("permanent-trailing-slash", "/perm/x"),
    Case("redirect-permanent-relative", "/rp/a"),
    Case("redirect-temp", "/rt"),
    Case("seeother", "/so/z"),
    Case("status-number", "/r307"),
    Case("gone", "/gone/thing", mode="stock"),
    Case("gone-number", "/gone2", mode="stock"),
    Case("match", "/m/page.html"),
    Case("match-not", "/m/keep.txt"),
    Case("match-case-insensitive-relative", "/CASE/Thing?q=1"),
    Case("aliasmatch-file", "/am/one/file.txt"),
    Case("aliasmatch-missing", "/am/one/none.txt", mode="stock"),
    Case("directory-redirect", "/d/in-dir/more"),
    Case("directory-other-file", "/d/page.txt"),
    Case("location-redirect", "/loc/x/y", mode="stock"),
    Case("head-redirect", "/old/h", method="HEAD"),
    Case("redirect-and-python-trans", "/old/trans"),
    Case("aliasmatch-and-python-trans", "/am/trans/file.txt"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
