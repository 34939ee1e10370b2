"""core's ErrorDocument (text, local URL as an internal redirect keeping the status, remote
URL as 302, `default`) in server, <Directory> and <Location> context, for static files and
mod_python handlers, including an ErrorDocument whose own request fails; mod_dir's
DirectorySlash; compared with Apache httpd."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

APACHE_MODULES_BEFORE_PYTHON = (("env_module", "mod_env.so"),)

FRAGMENT = """
ServerName 127.0.0.1
ErrorDocument 404 /errors/404.html
ErrorDocument 403 "Forbidden, says the server"
<Directory {root}/text>
    ErrorDocument 404 "Nothing here at all"
</Directory>
<Directory {root}/remote>
    ErrorDocument 404 http://example.test/missing
</Directory>
<Directory {root}/plain>
    ErrorDocument 404 default
</Directory>
<Directory {root}/broken>
    ErrorDocument 404 /errors/none.html
</Directory>
<Directory {root}/py>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
    ErrorDocument 500 /errors/500.html
</Directory>
<Directory {root}/py/env>
    ErrorDocument 404 /pyerr/env
</Directory>
<Directory {root}/pyerr>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::error_page
</Directory>
<Directory {root}/denied>
    Require all denied
</Directory>
<Location /loc>
    ErrorDocument 404 "from the location"
</Location>
<Directory {root}/noslash>
    DirectorySlash Off
</Directory>
"""

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    "errors/404.html": "<h1>custom 404</h1>\n",
    "errors/500.html": "<h1>custom 500</h1>\n",
    "text/.keep": "", "remote/.keep": "", "plain/.keep": "", "broken/.keep": "",
    "py/.keep": "", "py/env/.keep": "", "pyerr/.keep": "", "denied/page.txt": "x\n",
    "loc/.keep": "", "noslash/index.html": "index\n", "slash/index.html": "index\n",
}

SAME = [
    Case("server-local-404", "/nowhere.html"),
    Case("server-local-404-post", "/nowhere.html", method="POST", body=b"x=1"),
    Case("server-local-404-head", "/nowhere.html", method="HEAD"),
    Case("server-text-403", "/denied/page.txt"),
    Case("directory-text", "/text/missing"),
    Case("directory-remote", "/remote/missing"),
    Case("directory-default", "/plain/missing", mode="stock"),
    Case("broken-error-document", "/broken/missing", mode="stock"),
    Case("location-text", "/loc/missing"),
    Case("python-handler-500", "/py/raise"),
    Case("python-error-page", "/py/env/missing"),
    Case("directory-slash-on", "/slash?q=1"),
    Case("directory-slash-off", "/noslash", mode="stock"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


# -- LimitRequestBody per directory and location, FallbackResource -------------------------

LIMITS = """
<Directory {root}/small>
    LimitRequestBody 10
</Directory>
<Directory {root}/small/big>
    LimitRequestBody 0
</Directory>
<Location /pysmall>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::read_body
    LimitRequestBody 5
</Location>
<Location /pynoread>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
    LimitRequestBody 5
</Location>
<Directory {root}/fb>
    FallbackResource /fb/front.html
</Directory>
"""
FRAGMENT += LIMITS
FILES.update({"small/page.txt": "small\n", "small/big/page.txt": "big\n",
              "fb/front.html": "<p>front</p>\n", "fb/real.html": "<p>real</p>\n",
              "pysmall/.keep": "", "pynoread/.keep": ""})

SAME_LIMITS = [
    Case("body-under-directory-limit", "/small/page.txt", method="POST", body=b"123"),
    Case("body-over-directory-limit", "/small/page.txt", method="POST", body=b"x" * 20,
         mode="stock"),
    Case("nested-directory-unlimited", "/small/big/page.txt", method="POST", body=b"x" * 20),
    Case("handler-under-location-limit", "/pysmall/x", method="POST", body=b"abc"),
    Case("handler-over-location-limit", "/pysmall/x", method="POST", body=b"abcdefgh",
         mode="stock"),
    Case("handler-not-reading-over-limit", "/pynoread/x", method="POST", body=b"abcdefgh"),
    Case("fallback-for-missing", "/fb/missing/route?x=1"),
    Case("fallback-not-for-existing", "/fb/real.html"),
]


@pytest.mark.parametrize("case", params(SAME_LIMITS))
def test_same_reply_limits(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
