"""Name-based virtual hosts and the server-level phases (PythonPostReadRequestHandler,
PythonInitHandler, PythonTransHandler), compared with Apache httpd + mod_python 3.5.

Once <VirtualHost> sections exist for an address, every request on it is served by one of
them (the first for a Host none names), in Apache and here."""

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

# An internal-only host: bound to an address neither server listens on.
FRAGMENT += """<VirtualHost 127.0.0.2:*>
    ServerName internal.test
    DocumentRoot {root}/internal
    <Directory {root}/internal>
        SetHandler mod_python
        PythonHandler vhost_handlers::report
        PythonPath "sys.path + ['{root}/lib']"
    </Directory>
</VirtualHost>
"""

FILES = {
    "lib/vhost_handlers.py": "handlers/vhost_handlers.py",
    "one.test/.keep": "",
    "two.test/page.txt": "page of two\n",
    "two.test/sub/.keep": "",
    "internal/.keep": "",
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


def test_unknown_host_goes_to_the_first_vhost_of_the_address(pair: Pair) -> None:
    """httpd (and prefork-modpy): a Host no vhost names is served by the first
    <VirtualHost> of the address the request came in on."""
    ours, theirs = pair.both("/x", headers={"Host": "nowhere.test"})
    assert json.loads(theirs.body)["server_hostname"] == "one.test"
    assert_same(ours, theirs, host("nowhere.test"))


@pytest.mark.parametrize("name", ["internal.test", "one.test"])
def test_host_bound_to_another_address_does_not_answer_here(pair: Pair, name: str) -> None:
    """<VirtualHost 127.0.0.2:*> answers only on that address: asked on 127.0.0.1 with its
    name, the request goes to the hosts of 127.0.0.1 (issue 9, silent change 4)."""
    ours, theirs = pair.both("/x", headers={"Host": name})
    assert json.loads(theirs.body)["server_hostname"] == "one.test"
    assert_same(ours, theirs, host(name))
