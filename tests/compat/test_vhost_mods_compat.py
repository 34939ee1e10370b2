"""Issue 10's modules in <VirtualHost> context, compared with Apache httpd: a virtual host's
own SetEnv, SetEnvIf (post-read-request), Redirect/RedirectMatch, AliasMatch, ErrorDocument,
Order/Deny and LimitRequestBody, beside a virtual host that inherits the main server's. Each
request names its virtual host (in Apache the first <VirtualHost> of the address serves
every other name)."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

APACHE_MODULES_BEFORE_PYTHON = (("access_compat_module", "mod_access_compat.so"),
                                ("env_module", "mod_env.so"))
APACHE_MODULES = (("setenvif_module", "mod_setenvif.so"),)

HANDLER = """    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
"""

FRAGMENT = """
ServerName 127.0.0.1
SetEnv T_SRV main
SetEnvIf User-Agent "^probe" T_UA=main-probe
ErrorDocument 404 "main's 404"
<VirtualHost *>
    ServerName one.test
    DocumentRoot {root}/one
    SetEnv T_SRV one
    SetEnv T_A vhost-a
    SetEnvIf User-Agent "^probe/(\\d)" T_UA=one-$1
    Redirect /moved http://elsewhere.test/moved
    RedirectMatch ^/rm/(.*)$ /target/$1
    AliasMatch ^/files/(.*)$ {root}/shared/$1
    ErrorDocument 404 /err.html
    LimitRequestBody 4
    <Directory {root}/one/app>
""" + HANDLER + """    </Directory>
    <Directory {root}/one/closed>
        Order allow,deny
        Deny from all
    </Directory>
</VirtualHost>
<VirtualHost *>
    ServerName two.test
    DocumentRoot {root}/two
    <Directory {root}/two/app>
""" + HANDLER + """    </Directory>
</VirtualHost>
"""

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    "one/app/.keep": "", "one/closed/page.txt": "closed\n", "one/err.html": "<p>one's 404</p>\n",
    "one/page.txt": "page\n", "two/app/.keep": "", "two/page.txt": "page\n",
    "shared/data.txt": "shared data\n",
}


def host(name: str, path: str, **kwargs) -> Case:
    headers = {"Host": name, **kwargs.pop("headers", {})}
    return Case(kwargs.pop("id"), path, headers=headers, **kwargs)


SAME = [
    host("one.test", "/app/x", id="vhost-env", headers={"User-Agent": "probe/7"}),
    host("two.test", "/app/x", id="inherited-env", headers={"User-Agent": "probe/7"}),
    host("one.test", "/moved/a?b=1", id="vhost-redirect"),
    host("two.test", "/moved/a", id="no-redirect-in-other-vhost"),
    host("one.test", "/rm/z", id="vhost-redirectmatch"),
    host("one.test", "/files/data.txt", id="vhost-aliasmatch"),
    host("one.test", "/missing", id="vhost-error-document"),
    host("two.test", "/missing", id="inherited-error-document"),
    host("one.test", "/closed/page.txt", id="vhost-deny", mode="stock"),
    host("one.test", "/page.txt", id="vhost-body-limit", method="POST", body=b"123456",
         mode="stock"),
    host("two.test", "/page.txt", id="other-vhost-no-body-limit", method="POST",
         body=b"123456"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
