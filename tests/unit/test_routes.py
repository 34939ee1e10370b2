"""Which URIs take a route (modpy/dispatch.py `_route_for`): a route skips the phase walk,
so it may exist only where nothing before the content phase acts per request. Debian's own
`<Directory /var/www/>` (Options Indexes FollowSymLinks, Require all granted) is such a
place; any other access rule, a `<Limit>`, symlink checks or another module setting is not.
What a route answers is checked against Apache by tests/compat and against the walk by the
integration suites; this checks the decision itself."""

from __future__ import annotations

from typing import Iterator

import pytest

from prefork_modpy.httpd import translate
from prefork_modpy.modpy.dispatch import Dispatcher
from tests.support.dispatching import dispatcher_for

CONFIG = """
Listen 127.0.0.1:8080
ServerName localhost
DocumentRoot {root}
ErrorLog {root}/../error.log
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<Directory {root}/>
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
<Directory {root}/ip>
    Require ip 10.0.0.0/8
</Directory>
<Directory {root}/limited>
    <Limit POST>
        Require all denied
    </Limit>
</Directory>
<Directory {root}/nolinks>
    Options -FollowSymLinks
</Directory>
<Directory {root}/ownerlinks>
    Options SymLinksIfOwnerMatch
</Directory>
<Directory {root}/container>
    <RequireAll>
        Require all granted
    </RequireAll>
</Directory>
<Directory {root}/twolines>
    Require ip 10.0.0.1
    Require all granted
</Directory>
<Directory {root}/env>
    SetEnv SOMETHING 1
</Directory>
<Directory {root}/auth>
    AuthType Basic
    AuthName private
    AuthUserFile {root}/../users
    Require valid-user
</Directory>
<Directory {root}/denied>
    Require all denied
</Directory>
<Directory {root}/compat>
    Order deny,allow
    Deny from 10.0.0.0/8
</Directory>
<Directory {root}/bodylimit>
    LimitRequestBody 10
</Directory>
<Directory {root}/python>
    PythonAccessHandler nobody
</Directory>
"""
PLACES = ("plain", "ip", "limited", "nolinks", "ownerlinks", "container", "twolines", "env",
          "auth", "denied", "compat", "bodylimit", "python")


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory) -> Iterator[Dispatcher]:
    base = tmp_path_factory.mktemp("routes")
    root = base / "www"
    for place in PLACES:
        (root / place).mkdir(parents=True)
        (root / place / "a.txt").write_text("a\n")
    (base / "users").write_text("")
    with dispatcher_for(base / "site.conf", CONFIG.format(root=root)) as dispatcher:
        yield dispatcher


def route(dispatcher: Dispatcher, uri: str):
    vhost = dispatcher.config.main
    mapped = translate.map_to_file(vhost.document_root, uri)
    return dispatcher._route_for(vhost, uri, mapped)


def test_debians_document_root_takes_routes(dispatcher):
    """Options Indexes FollowSymLinks and Require all granted alone act on nothing per
    request: the file's route is kept."""
    found = route(dispatcher, "/plain/a.txt")
    assert found is not None and found.whole_file and found.handler is None


@pytest.mark.parametrize("place", [p for p in PLACES if p != "plain"])
def test_what_acts_per_request_takes_the_walk(dispatcher, place):
    """An address rule, a method limit, symlink checks, a container or a second Require
    line (which may decide per request: left to the walk), mod_env, authentication, a
    denial, mod_access_compat, LimitRequestBody, a Python access phase: no route."""
    assert route(dispatcher, f"/{place}/a.txt") is None
