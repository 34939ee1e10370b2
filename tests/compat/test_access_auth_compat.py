"""mod_access_compat, mod_authz_core's containers and Require forms, mod_authn_file and
mod_authz_groupfile, compared with Apache httpd. The password files are written at test
time by Debian's `htpasswd` (apache2-utils) with each hash kind: bcrypt (-B), apr1-MD5 (-m),
SHA1 (-s), crypt (-d).

Module order: the access and authz modules load before mod_python as in Debian; mod_auth_basic
and the file provider load after it, so that PythonAuthenHandler runs first and a declining
handler lets the file provider decide (prefork-modpy's order; docs/directives.md says how a
stock Debian order, auth_basic first, differs)."""

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
    ("authz_groupfile_module", "mod_authz_groupfile.so"),
    ("authz_host_module", "mod_authz_host.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("env_module", "mod_env.so"),
)
APACHE_MODULES = (("setenvif_module", "mod_setenvif.so"),
                  ("auth_basic_module", "mod_auth_basic.so"),
                  ("authn_core_module", "mod_authn_core.so"),
                  ("authn_file_module", "mod_authn_file.so"))

COMMON = """    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler httpdmods_handlers::report
"""
BASIC = """    AuthType Basic
    AuthName "the realm"
    AuthUserFile {root}/auth/passwords
    AuthGroupFile {root}/auth/groups
"""


def section(path: str, body: str) -> str:
    return f"<Directory {{root}}/{path}>\n{COMMON}{body}</Directory>\n"


FRAGMENT = "ServerName 127.0.0.1\nSetEnvIf X-Key ^secret$ LET_IN\n" + "".join([
    section("deny", "    Order allow,deny\n    Allow from all\n    Deny from 127.0.0.1\n"),
    section("allow", "    Order deny,allow\n    Deny from all\n    Allow from 127.0.0\n"),
    section("cidr", "    Order deny,allow\n    Deny from all\n    Allow from 10.0.0.0/8 "
                    "127.0.0.0/255.0.0.0\n"),
    section("mutual", "    Order mutual-failure\n    Allow from 127.0.0.1\n"
                      "    Deny from env=LET_IN\n"),
    section("envallow", "    Order deny,allow\n    Deny from all\n    Allow from env=LET_IN\n"),
    section("orderonly", "    Order allow,deny\n"),
    section("user", BASIC + "    Require valid-user\n"),
    section("group", BASIC + "    Require group admins\n"),
    section("notuser", BASIC + "    <RequireAll>\n        Require valid-user\n"
                               "        Require not user bob\n    </RequireAll>\n"),
    section("anyof", BASIC + "    <RequireAny>\n        Require env LET_IN\n"
                             "        Require user carol\n    </RequireAny>\n"),
    section("none", "    <RequireAll>\n        Require all granted\n"
                    "        <RequireNone>\n            Require ip 127.0.0.1\n"
                    "        </RequireNone>\n    </RequireAll>\n"),
    section("method", "    Require method GET\n"),
    section("limit", BASIC + "    <Limit POST>\n        Require valid-user\n    </Limit>\n"),
    section("limitexcept", BASIC + "    <LimitExcept GET>\n        Require user alice\n"
                                   "    </LimitExcept>\n"),
    section("satisfyany", BASIC + "    Require valid-user\n    Order deny,allow\n"
                                  "    Deny from all\n    Allow from 127.0.0.1\n"
                                  "    Satisfy Any\n"),
    section("satisfyall", BASIC + "    Require valid-user\n    Order deny,allow\n"
                                  "    Deny from all\n    Allow from 127.0.0.1\n"
                                  "    Satisfy All\n"),
    section("satisfyanydeny", BASIC + "    Require valid-user\n    Order allow,deny\n"
                                      "    Deny from all\n    Satisfy Any\n"),
    section("pyauthen", BASIC + "    PythonAuthenHandler httpdmods_handlers::authen_decline\n"
                                "    Require valid-user\n"),
    section("host", "    Require host localhost\n"),
    section("local", "    Require local\n"),
    section("hostname", "    Order deny,allow\n    Deny from all\n    Allow from localhost\n"),
    section("domain", "    Order allow,deny\n    Allow from all\n    Deny from .example.invalid\n"),
    section("limitorder", "    <Limit POST>\n        Order deny,allow\n        Deny from all\n"
                          "    </Limit>\n"),
    section("nofile", "    AuthType Basic\n    AuthName nofile\n    AuthBasicProvider file\n"
                      "    Require valid-user\n"),
    section("direnv", "    SetEnvIf X-Dir-Key ^ok$ DIR_OK\n    Require env DIR_OK\n"),
])

FILES = {
    "lib/httpdmods_handlers.py": "handlers/httpdmods_handlers.py",
    **{f"{name}/.keep": "" for name in (
        "deny", "allow", "cidr", "mutual", "envallow", "orderonly", "user", "group", "notuser",
        "anyof", "none", "method", "limit", "limitexcept", "satisfyany", "satisfyall",
        "satisfyanydeny", "pyauthen", "host", "local", "hostname", "domain", "limitorder",
        "direnv", "nofile")},
    "auth/groups": "admins: alice carol\nstaff: bob\n",
}

# user -> (htpasswd flag, password)
USERS = {"alice": ("-B", "wonder"), "bob": ("-m", "builder"), "carol": ("-s", "singer"),
         "dave": ("-d", "diver")}


@pytest.fixture(scope="module", autouse=True)
def passwords(pair: Pair) -> Iterator[None]:
    """The password file, written by Debian's htpasswd with each hash kind."""
    tool = shutil.which("htpasswd")
    assert tool, "htpasswd (apache2-utils) is missing: run tests/compat/install_apache.sh"
    path = Path(pair.root) / "auth" / "passwords"
    for index, (user, (flag, password)) in enumerate(USERS.items()):
        create = ["-c"] if index == 0 else []
        subprocess.run([tool, "-b", *create, flag, str(path), user, password], check=True,
                       capture_output=True, timeout=60)
    path.chmod(0o644)
    yield


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def ok(user: str) -> dict[str, str]:
    return basic(user, USERS[user][1])


AUTH = ("www-authenticate",)
SAME = [
    Case("order-allow-deny-denies", "/deny/x", mode="stock"),
    Case("order-deny-allow-partial-ip", "/allow/x"),
    Case("cidr-and-netmask", "/cidr/x"),
    Case("mutual-failure-allowed", "/mutual/x"),
    Case("mutual-failure-env-denies", "/mutual/x", headers={"X-Key": "secret"}, mode="stock"),
    Case("allow-from-env", "/envallow/x", headers={"X-Key": "secret"}),
    Case("allow-from-env-missing", "/envallow/x", mode="stock"),
    Case("order-alone-denies", "/orderonly/x", mode="stock"),
    Case("no-credentials", "/user/x", mode="stock", also=AUTH),
    Case("bcrypt", "/user/x", headers=ok("alice"), also=AUTH),
    Case("apr1-md5", "/user/x", headers=ok("bob"), also=AUTH),
    Case("sha1", "/user/x", headers=ok("carol"), also=AUTH),
    Case("crypt", "/user/x", headers=ok("dave"), also=AUTH),
    Case("wrong-password", "/user/x", headers=basic("alice", "nope"), mode="stock", also=AUTH),
    Case("unknown-user", "/user/x", headers=basic("zed", "x"), mode="stock", also=AUTH),
    Case("group-member", "/group/x", headers=ok("carol")),
    Case("group-non-member", "/group/x", headers=ok("bob"), mode="stock", also=AUTH),
    Case("require-not-user-granted", "/notuser/x", headers=ok("alice")),
    Case("require-not-user-denied", "/notuser/x", headers=ok("bob"), mode="stock", also=AUTH),
    Case("require-any-env", "/anyof/x", headers={"X-Key": "secret"}),
    Case("require-any-user", "/anyof/x", headers=ok("carol")),
    Case("require-any-other-user", "/anyof/x", headers=ok("alice"), mode="stock", also=AUTH),
    Case("require-none-denies", "/none/x", mode="stock"),
    Case("require-method-get", "/method/x"),
    Case("require-method-post", "/method/x", method="POST", body=b"", mode="stock"),
    Case("limit-post-get-free", "/limit/x"),
    Case("limit-post-needs-user", "/limit/x", method="POST", body=b"", mode="stock",
         also=AUTH),
    Case("limitexcept-get-free", "/limitexcept/x"),
    Case("limitexcept-put-user", "/limitexcept/x", method="PUT", body=b"",
         headers=ok("alice")),
    Case("limitexcept-put-other", "/limitexcept/x", method="PUT", body=b"",
         headers=ok("bob"), mode="stock", also=AUTH),
    Case("satisfy-any-by-address", "/satisfyany/x"),
    Case("satisfy-all-needs-user", "/satisfyall/x", mode="stock", also=AUTH),
    Case("satisfy-all-with-user", "/satisfyall/x", headers=ok("alice")),
    Case("satisfy-any-denied-address-user", "/satisfyanydeny/x", headers=ok("bob")),
    Case("satisfy-any-denied-address-nouser", "/satisfyanydeny/x", mode="stock", also=AUTH),
    Case("python-authen-accepts", "/pyauthen/x", headers=basic("py", "python")),
    Case("python-authen-declines-file-decides", "/pyauthen/x", headers=ok("carol")),
    Case("python-authen-declines-file-refuses", "/pyauthen/x", headers=basic("py", "x"),
         mode="stock", also=AUTH),
    Case("require-host-localhost", "/host/x"),
    Case("require-local", "/local/x"),
    Case("allow-from-host-name", "/hostname/x"),
    Case("deny-from-other-domain", "/domain/x"),
    Case("limit-order-get-free", "/limitorder/x"),
    Case("limit-order-post-denied", "/limitorder/x", method="POST", body=b"", mode="stock"),
    Case("require-env-from-directory-setenvif", "/direnv/x", headers={"X-Dir-Key": "ok"}),
    Case("require-env-missing", "/direnv/x", mode="stock"),
    Case("provider-file-without-user-file", "/nofile/x", headers=ok("alice"), mode="stock",
         also=AUTH),
    Case("group-file-missing-user", "/group/x", headers=basic("nobody", "x"), mode="stock",
         also=AUTH),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)
