"""Named interpreters on one worker (issue 11): PythonImport runs in the interpreter it
names, handler modules autoreload per interpreter, and the server's own modules stay shared
while a handler's imports (standard library included) are the interpreter's own."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.support.site import Server, SiteFactory, wait_until
from tests.support.wire import Client, get

REPORT = """\
import json
import logging
import sys

import mod_python.apache
from mod_python import apache

VERSION = "v1"


def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "version": VERSION,
        "interpreter": apache.interpreter,
        "boot_mark": getattr(sys, "boot_mark", None),
        "boot_module": "boot_mark" in sys.modules,
        "logging": id(logging),
        "apache_shared": mod_python.apache is apache,
        # the server's own module, shared by every interpreter (mp_request's __module__
        # says builtins, as mod_python's C type)
        "request_class": type(req) is sys.modules["prefork_modpy.modpy.request"].Request,
    }))
    return apache.OK
"""

CONFIG = """\
PythonPath "sys.path + ['{root}/lib']"
PythonImport boot_mark app_a
<Directory {root}/a>
    SetHandler mod_python
    PythonHandler report
    PythonInterpreter app_a
    PythonPath "sys.path + ['{root}/lib', '{root}/a']"
</Directory>
<Directory {root}/b>
    SetHandler mod_python
    PythonHandler report
    PythonInterpreter app_b
    PythonPath "sys.path + ['{root}/lib', '{root}/b']"
</Directory>
"""

FILES = {
    "lib/boot_mark.py": "import sys\nsys.boot_mark = 'set by PythonImport'\n",
    "a/report.py": REPORT,
    "b/report.py": REPORT,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    factory = SiteFactory(tmp_path_factory.mktemp("interpreters"))
    try:
        yield factory.start(CONFIG, FILES, workers=1)
    finally:
        factory.close()


def reports(server: Server, paths: list[str]) -> list[dict]:
    """On one connection, hence one worker."""
    with Client(server.port) as client:
        answers = []
        for path in paths:
            client.send(get(path, host="127.0.0.1"))
            reply = client.response()
            assert reply.status == 200, reply.body[:2000]
            answers.append(json.loads(reply.body))
        return answers


def test_python_import_runs_in_the_interpreter_it_names(site: Server) -> None:
    a, b = reports(site, ["/a/x", "/b/x"])
    assert (a["interpreter"], a["boot_mark"], a["boot_module"]) == \
        ("app_a", "set by PythonImport", True)
    assert (b["interpreter"], b["boot_mark"], b["boot_module"]) == ("app_b", None, False)


def test_mod_python_is_shared_and_the_standard_library_is_not(site: Server) -> None:
    a, b, a_again = reports(site, ["/a/x", "/b/x", "/a/x"])
    assert a["apache_shared"] and b["apache_shared"]
    assert a["request_class"] is b["request_class"] is True
    assert a["logging"] != b["logging"]  # each interpreter imported its own `logging`
    assert a["logging"] == a_again["logging"]


def test_handler_autoreload_is_per_interpreter(site: Server) -> None:
    handler = site.root / "a" / "report.py"
    handler.write_text(REPORT.replace('VERSION = "v1"', 'VERSION = "v2"'))
    stamp = time.time() + 2
    os.utime(handler, (stamp, stamp))
    assert wait_until(lambda: reports(site, ["/a/x"])[0]["version"] == "v2")
    a, b = reports(site, ["/a/x", "/b/x"])
    assert (a["version"], b["version"]) == ("v2", "v1")
