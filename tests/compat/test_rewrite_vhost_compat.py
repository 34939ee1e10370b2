"""mod_rewrite in <VirtualHost> and <Directory> context, compared with Apache httpd 2.4.

A virtual host has its own rules and maps; the main server's rules and maps only with
RewriteOptions Inherit; a <Directory> rule set strips its directory prefix, and without a
RewriteBase the DocumentRoot is stripped from the result before the internal redirect."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

APACHE_MODULES = (("rewrite_module", "mod_rewrite.so"),)

FRAGMENT = r"""
RewriteEngine On
RewriteMap upper int:toupper
RewriteRule ^/main-only - [F]
<Directory {root}>
    AddHandler mod_python .py
    PythonHandler rewrite_echo
</Directory>
<VirtualHost *>
    ServerName one.test
    DocumentRoot {root}
    RewriteEngine On
    RewriteRule ^/shout/(.*)$ /echo.py?u=${{upper:$1}} [PT]
    RewriteRule ^/legacy/(.*)$ /new/$1 [R=permanent,L]
    RewriteRule ^/to-file$ {root}/page.txt [L]
    RewriteRule ^/status$ - [R=404]
    Alias /aliased {root}/aliased-dir
    Alias /outside {root}-outside
    <Directory {root}/aliased-dir>
        AllowOverride FileInfo
    </Directory>
    <Directory {root}-outside>
        AllowOverride FileInfo
        Require all granted
        AddHandler mod_python .py
        PythonHandler rewrite_echo
    </Directory>
</VirtualHost>
<VirtualHost *>
    ServerName two.test
    DocumentRoot {root}
    RewriteEngine On
    RewriteOptions Inherit
    RewriteRule ^/two-only - [G]
    RewriteRule ^/shout/(.*)$ /echo.py?u=${{upper:$1}} [PT]
    <Directory {root}/dir>
        RewriteEngine On
        RewriteRule ^(\w+)\.html$ show.py?name=$1 [L]
        RewriteRule ^go/(.*)$ /elsewhere/$1 [R,L]
        RewriteRule ^end$ show.py?ended=1 [END]
    </Directory>
</VirtualHost>
"""

FILES = {
    "rewrite_echo.py": "handlers/rewrite_echo.py",
    "echo.py": "",
    "page.txt": "the page\n",
    "dir/show.py": "",
    "dir/real.txt": "real\n",
    "aliased-dir/.htaccess": "RewriteEngine On\nRewriteRule ^(\\w+)\\.html$ show.py?n=$1 "
                             "[L]\nRewriteCond %{CONTEXT_PREFIX} =/aliased\n"
                             "RewriteRule ^prefix$ real.txt [L]\n",
    "aliased-dir/show.py": "",
    "aliased-dir/real.txt": "aliased real\n",
    "../srv-outside/.htaccess": "RewriteEngine On\nRewriteRule ^(\\w+)\\.html$ show.py?o=$1 "
                                "[L]\n",
    "../srv-outside/show.py": "",
    "../srv-outside/rewrite_echo.py": "handlers/rewrite_echo.py",
}


def host(name: str, path: str, **kwargs) -> Case:
    return Case(kwargs.pop("id", f"{name}{path}"), path, headers={"Host": name}, **kwargs)


SAME = [
    host("one.test", "/shout/hello", id="vhost-main-map-not-inherited"),
    host("two.test", "/shout/hello", id="vhost-main-map-inherited"),
    host("one.test", "/legacy/a/b", id="vhost-permanent", mode="stock"),
    host("one.test", "/to-file", id="vhost-file-path"),
    host("one.test", "/status", id="vhost-r-non-redirect", mode="stock"),
    host("one.test", "/main-only", id="vhost-no-main-rules", mode="stock"),
    host("two.test", "/main-only", id="vhost-inherit", mode="stock"),
    host("two.test", "/two-only", id="vhost-own-rule", mode="stock"),
    host("two.test", "/dir/widget.html?x=1", id="directory-internal"),
    host("two.test", "/dir/real.txt", id="directory-no-match"),
    host("two.test", "/dir/go/x", id="directory-redirect", mode="stock"),
    host("two.test", "/dir/end", id="directory-end"),
    host("one.test", "/aliased/thing.html", id="htaccess-under-alias"),
    host("one.test", "/aliased/prefix", id="context-prefix"),
    host("one.test", "/outside/thing.html", id="htaccess-under-alias-outside-docroot"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
