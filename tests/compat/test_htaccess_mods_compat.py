"""Issue 10's directives in .htaccess files, compared with Apache httpd: SetEnv, SetEnvIf,
Order/Allow/Deny, <Limit>, Require (with <RequireAll>), AuthUserFile (written by htpasswd),
ErrorDocument, Redirect, DirectorySlash, each under the AllowOverride class httpd gives it,
and httpd's 500 when the class is not allowed."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

APACHE_MODULES_BEFORE_PYTHON = (
    ("access_compat_module", "mod_access_compat.so"),
    ("authz_host_module", "mod_authz_host.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("env_module", "mod_env.so"),
)
APACHE_MODULES = (("setenvif_module", "mod_setenvif.so"),
                  ("auth_basic_module", "mod_auth_basic.so"),
                  ("authn_core_module", "mod_authn_core.so"),
                  ("authn_file_module", "mod_authn_file.so"))

HANDLER = """    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
"""

FRAGMENT = """
ServerName 127.0.0.1
<Directory {root}/ht>
""" + HANDLER + """    AllowOverride AuthConfig FileInfo Limit Indexes
</Directory>
<Directory {root}/nolimit>
""" + HANDLER + """    AllowOverride FileInfo
</Directory>
"""

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    "ht/.htaccess": "SetEnv T_A from-htaccess\nSetEnvIf X-Test ^yes T_HDR=htaccess\n"
                    "ErrorDocument 404 \"missing here\"\nRedirect /ht/old http://x.test/new\n",
    "ht/closed/.htaccess": "Order deny,allow\nDeny from all\n",
    "ht/post/.htaccess": "<Limit POST>\n  Require all denied\n</Limit>\n",
    "ht/auth/.htaccess": "AuthType Basic\nAuthName \"ht realm\"\n"
                         "AuthUserFile {root}/users\n<RequireAll>\n  Require valid-user\n"
                         "  Require not user bob\n</RequireAll>\n",
    "nolimit/.htaccess": "Order deny,allow\nDeny from all\n",
}


@pytest.fixture(scope="module", autouse=True)
def passwords(pair: Pair) -> Iterator[None]:
    tool = shutil.which("htpasswd")
    assert tool, "htpasswd (apache2-utils) is missing: run tests/compat/install_apache.sh"
    path = Path(pair.root) / "users"
    subprocess.run([tool, "-b", "-c", "-B", str(path), "alice", "wonder"], check=True,
                   capture_output=True, timeout=60)
    subprocess.run([tool, "-b", "-m", str(path), "bob", "builder"], check=True,
                   capture_output=True, timeout=60)
    path.chmod(0o644)
    # the .htaccess names the file by the site's real path
    auth = Path(pair.root) / "ht" / "auth" / ".htaccess"
    auth.write_text(auth.read_text().replace("{root}", str(pair.root)))
    yield


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


AUTH = ("www-authenticate",)
SAME = [
    Case("setenv-and-setenvif", "/ht/x", headers={"X-Test": "yes"}),
    Case("error-document", "/ht/missing"),
    Case("redirect", "/ht/old/page"),
    Case("order-deny", "/ht/closed/x", mode="stock"),
    Case("limit-get-free", "/ht/post/x"),
    Case("limit-post-denied", "/ht/post/x", method="POST", body=b"", mode="stock"),
    Case("auth-file-user", "/ht/auth/x", headers=basic("alice", "wonder")),
    Case("auth-not-user", "/ht/auth/x", headers=basic("bob", "builder"), mode="stock",
         also=AUTH),
    Case("auth-no-credentials", "/ht/auth/x", mode="stock", also=AUTH),
    Case("class-not-allowed", "/nolimit/x", mode="stock"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
