"""Name-based virtual hosts and the server-level phases (PythonPostReadRequestHandler,
PythonInitHandler, PythonTransHandler), compared with Apache httpd + mod_python 3.5.

In Apache, once <VirtualHost> sections exist for an address, every request on it is served
by one of them; here each case names its vhost with a Host header."""

from __future__ import annotations

import json

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

VHOST = """<VirtualHost *>
    ServerName {name}
    {aliases}
    DocumentRoot {{root}}/{name}
    PythonPath "sys.path + ['{{root}}/lib']"
    PythonOption where {name}
    PythonOption vhost_only yes
    PythonDebug On
    SetHandler mod_python
{body}</VirtualHost>
"""

FRAGMENT = "ServerName 127.0.0.1\nPythonOption where main\nPythonOption main_only yes\n" + \
    VHOST.format(name="one.test", aliases="ServerAlias alias.one.test *.wild.test",
                 body="    PythonHandler vhost_handlers::report\n"
                      "    PythonPostReadRequestHandler vhost_handlers::postread\n"
                      "    PythonInitHandler vhost_handlers::init\n"
                      "    PythonTransHandler vhost_handlers::trans\n") + \
    VHOST.format(name="two.test", aliases="",
                 body="    PythonTransHandler vhost_handlers::trans\n"
                      "    <Directory {root}/two.test/sub>\n"
                      "        PythonHandler vhost_handlers::report\n"
                      "        PythonOption where sub\n        PythonDebug Off\n"
                      "    </Directory>\n")

FILES = {
    "lib/vhost_handlers.py": "handlers/vhost_handlers.py",
    "one.test/.keep": "",
    "two.test/page.txt": "page of two\n",
    "two.test/sub/.keep": "",
}


def host(name: str, path: str = "/x", **kwargs) -> Case:
    return Case(kwargs.pop("id", f"{name}{path}"), path, headers={"Host": name}, **kwargs)


SAME = [
    host("one.test"),
    host("ONE.test", id="host-case-insensitive"),
    host("alias.one.test"),
    host("x.wild.test", id="wildcard-alias"),
    host("one.test", "/done", id="postread-done"),
    host("one.test", "/forbid", id="postread-forbidden", mode="stock"),
    host("one.test", "/t/anything", id="trans-sets-filename"),
    host("two.test", "/t/page", id="trans-then-static"),
    host("two.test", "/t/missing", id="trans-then-404", mode="stock"),
    host("two.test", "/sub/x", id="directory-in-vhost"),
    host("two.test", "/x", id="vhost-without-handler", mode="stock"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_unknown_host_goes_to_main_server(pair: Pair) -> None:
    """docs/compatibility.md: a Host no vhost names is served by the main server here;
    httpd serves it with the first <VirtualHost> of the address."""
    ours, theirs = pair.both("/x", headers={"Host": "nowhere.test"})
    assert json.loads(theirs.body)["server_hostname"] == "one.test"
    assert ours.status == 404  # the main server has no handler for /x
