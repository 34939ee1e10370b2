"""mod_rewrite and .htaccess, compared with Apache httpd 2.4 + mod_rewrite + mod_python.

The server-context rules are the examples of mod_rewrite's documentation (the rewrite
guide's remapping, access-control, query-string and RewriteMap pages); the per-directory
ones live in .htaccess files, with mod_python's directives beside them as MoinMoin and
shared hosts configure it."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

APACHE_MODULES = (("rewrite_module", "mod_rewrite.so"),)

FRAGMENT = r"""
RewriteEngine On
RewriteMap lowercase int:tolower
RewriteMap products txt:{root}/maps/products.txt
# Canonical hostnames (remapping guide)
RewriteCond %{{HTTP_HOST}} ^example\.com$ [NC]
RewriteRule ^/?(.*) http://www.example.com/$1 [L,R=301,NE]
# Moving the DocumentRoot
RewriteRule ^/$ /about/ [R]
# Old to new, internally and externally
RewriteRule ^/foo\.html$ /bar.html [PT]
RewriteRule ^/old\.html$ /bar.html [R=301,L]
# Resource moved to another server
RewriteRule ^/docs/(.+) http://new.example.com/docs/$1 [R,L]
# Blocking robots by user agent, image hotlinking by referer
RewriteCond %{{HTTP_USER_AGENT}} ^BadBot [NC]
RewriteRule ^/area/ - [F]
RewriteCond %{{HTTP_REFERER}} !^$
RewriteCond %{{HTTP_REFERER}} !^http://(www\.)?example\.com/ [NC]
RewriteRule \.(gif|jpg|png)$ - [F,NC]
RewriteRule ^/gone - [G]
# Query strings: QSA, a trailing ? drops it, QSD, %N from the query
RewriteRule ^/pages/(.+)$ /echo.py?page=$1 [QSA,PT]
RewriteRule ^/drop$ /bar.html? [R,L]
RewriteRule ^/discard$ /bar.html [R,QSD,L]
RewriteCond %{{QUERY_STRING}} ^id=(\d+)$
RewriteRule ^/item$ /items/%1? [R=301,L]
# Maps: txt with a default, int:tolower
RewriteRule ^/product/(.*)$ /echo.py?id=${{products:$1|NOTFOUND}} [PT]
RewriteRule ^/lower/(.*)$ /echo.py?l=${{lowercase:$1}} [PT]
# Environment, skip, chain, type, method, header, THE_REQUEST, integer comparison
RewriteRule ^/withenv/(.*)$ /echo.py [E=FROM_REWRITE:$1,PT]
RewriteRule ^/skip/ - [S=1]
RewriteRule ^/skip/ /nowhere [L]
RewriteRule ^/skip/(.*)$ /echo.py?skipped=$1 [PT]
RewriteRule ^/chain/a - [C]
RewriteRule ^/chain/(.*)$ /echo.py?chained=$1 [PT]
RewriteRule ^/typed\.txt$ /bar.html [T=text/x-special]
RewriteCond %{{REQUEST_METHOD}} =POST
RewriteRule ^/post-only$ /echo.py?was=post [PT]
RewriteCond %{{HTTP:X-Level}} -gt10
RewriteRule ^/level$ /echo.py?level=high [PT]
RewriteCond %{{THE_REQUEST}} "^GET /the-request HTTP/1\.1$"
RewriteRule ^/the-request$ /bar.html [R]
RewriteRule ^/ne/(.*)$ /bar.html#$1 [NE,R]
RewriteRule ^/esc/(.*)$ /bar/$1 [R]
RewriteCond %{{DOCUMENT_ROOT}}/static%{{REQUEST_URI}} -f
RewriteRule ^(.*)$ /static$1 [L]
<Directory {root}>
    AddHandler mod_python .py
    PythonHandler rewrite_echo
    PythonOption site.level root
</Directory>
<Directory {root}/blog>
    AllowOverride All
</Directory>
<Directory {root}/shop>
    AllowOverride FileInfo
</Directory>
<Directory {root}/locked>
    AllowOverride AuthConfig
</Directory>
<Directory {root}/opts>
    AllowOverride Options=Indexes
</Directory>
<Directory {root}/filesec>
    AllowOverride All
</Directory>
<Directory {root}/listed>
    AllowOverride None
    AllowOverrideList RewriteEngine RewriteRule
</Directory>
"""

BLOG_HTACCESS = r"""# a front controller, as CMSs and MoinMoin set it up
RewriteEngine On
RewriteBase /blog/
RewriteRule ^old\.html$ new.html [R=301,L]
RewriteCond %{REQUEST_FILENAME} -d
RewriteRule ^(.+[^/])$ $1/ [R=301,L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule ^(.*)$ index.py/$1 [L]
PythonHandler blog_echo
PythonOption site.level blog
"""

SHOP_HTACCESS = r"""RewriteEngine On
RewriteRule ^item-(\d+)\.html$ show.py?id=$1 [QSA,L]
RewriteRule ^secret - [F]
RewriteRule ^env/(.*)$ show.py [E=FROM_SHOP:$1,L]
PythonOption site.level shop
"""

FILES_HTACCESS = r"""<Files "secret.txt">
    Require all denied
</Files>
<FilesMatch "^run\.py$">
    SetHandler mod_python
    PythonHandler fs_echo
    PythonOption site.level files
</FilesMatch>
"""

FILES = {
    "rewrite_echo.py": "handlers/rewrite_echo.py",
    "echo.py": "",
    "bar.html": "<p>bar</p>\n",
    "about/index.html": "<p>about</p>\n",
    "static/only-static.txt": "from the static tree\n",
    "pic.gif": "GIF89a",
    "maps/products.txt": "# product map\nwidget 1001\ngadget 1002\n",
    "blog/.htaccess": BLOG_HTACCESS,
    "blog/blog_echo.py": "handlers/rewrite_echo.py",
    "blog/index.py": "",
    "blog/real.txt": "a real file\n",
    "blog/sub/page.txt": "sub page\n",
    "shop/.htaccess": SHOP_HTACCESS,
    "shop/show.py": "",
    "locked/.htaccess": "RewriteEngine On\n",
    "locked/page.txt": "locked\n",
    "opts/.htaccess": "Options +ExecCGI\n",
    "opts/page.txt": "opts\n",
    "filesec/.htaccess": FILES_HTACCESS,
    "filesec/secret.txt": "secret\n",
    "filesec/open.txt": "open\n",
    "filesec/fs_echo.py": "handlers/rewrite_echo.py",
    "filesec/run.py": "",
    "listed/.htaccess": "RewriteEngine On\nRewriteRule ^a\\.txt$ b.txt\n",
    "listed/b.txt": "b\n",
    "listed2/.htaccess": "this is not a directive file\n",
    "listed2/page.txt": "not read\n",
}

SAME = [
    Case("canonical-host", "/some/page?q=1", headers={"Host": "Example.COM"}),
    Case("moved-docroot", "/", mode="stock"),
    Case("old-to-new-internal", "/foo.html"),
    Case("old-to-new-external", "/old.html", mode="stock"),
    Case("moved-to-other-server", "/docs/a%20b/c", mode="stock"),
    Case("bad-robot", "/area/x", headers={"User-Agent": "badbot/1.0"}, mode="stock"),
    Case("good-robot", "/area/x", headers={"User-Agent": "Mozilla"}, mode="stock"),
    Case("hotlink-foreign", "/pic.gif", headers={"Referer": "http://other.test/"},
         mode="stock"),
    Case("hotlink-own", "/pic.gif", headers={"Referer": "http://www.example.com/x"},
         also=("vary",)),
    Case("hotlink-no-referer", "/pic.gif"),
    Case("gone", "/gone/now", mode="stock"),
    Case("qsa", "/pages/intro?lang=en", also=("vary",)),
    Case("qsa-without-query", "/pages/intro"),
    Case("question-mark-drops-query", "/drop?x=1", mode="stock"),
    Case("qsd", "/discard?x=1", mode="stock"),
    Case("query-to-path", "/item?id=42", mode="stock"),
    Case("query-no-match", "/item?id=abc", mode="stock"),
    Case("txt-map", "/product/gadget"),
    Case("txt-map-default", "/product/unknown"),
    Case("int-tolower", "/lower/MiXeD"),
    Case("env-flag", "/withenv/value"),
    Case("skip", "/skip/x"),
    Case("chain-matches", "/chain/a"),
    Case("chain-broken", "/chain/b", mode="stock"),
    Case("forced-type", "/typed.txt"),
    Case("method-post", "/post-only", method="POST", body=b"", also=("vary",)),
    Case("method-get", "/post-only", mode="stock"),
    Case("header-int-high", "/level", headers={"X-Level": "12"}, also=("vary",)),
    Case("header-int-low", "/level", headers={"X-Level": "9"}, mode="stock"),
    Case("the-request", "/the-request", mode="stock"),
    Case("noescape", "/ne/frag", mode="stock"),
    Case("escaped-redirect", "/esc/a%20b", mode="stock"),
    Case("static-fallback", "/only-static.txt"),
    # .htaccess with mod_rewrite and mod_python
    Case("htaccess-front-controller", "/blog/2024/hello?x=1"),
    Case("htaccess-real-file", "/blog/real.txt"),
    Case("htaccess-redirect-rewritebase", "/blog/old.html", mode="stock"),
    Case("htaccess-trailing-slash", "/blog/sub", mode="stock"),
    Case("htaccess-directory", "/blog/sub/page.txt"),
    Case("htaccess-internal-qsa", "/shop/item-42.html?x=1"),
    Case("htaccess-forbidden", "/shop/secret.txt", mode="stock"),
    Case("htaccess-env", "/shop/env/abc"),
    Case("htaccess-not-allowed", "/locked/page.txt", mode="stock"),
    Case("htaccess-option-not-allowed", "/opts/page.txt", mode="stock"),
    Case("htaccess-override-list", "/listed/a.txt"),
    Case("htaccess-none-not-read", "/listed2/page.txt"),
    Case("htaccess-files-denied", "/filesec/secret.txt", mode="stock"),
    Case("htaccess-files-other", "/filesec/open.txt"),
    Case("htaccess-filesmatch-handler", "/filesec/run.py/extra?q=1"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_not_allowed_is_logged(pair: Pair) -> None:
    """httpd's error-log line for a directive the override class does not allow."""
    pair.both("/locked/page.txt")
    assert "/locked/.htaccess: RewriteEngine not allowed here" in pair.modpy_errors()
    assert "/locked/.htaccess: RewriteEngine not allowed here" in pair.apache.error_log()
