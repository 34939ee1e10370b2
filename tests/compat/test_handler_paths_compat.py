"""Handlers and PythonImport given as a file path (`PythonHandler /srv/code/byfile.py`,
`PythonImport /srv/lib/startup.py interp`), the form mod_python 3.3's importer took and the
public site configs of that time use: the file is the module, named `_mp_` + a digest of
its path, so two files of one name stay two modules.

Run side by side with Apache httpd + mod_python 3.5, which dropped that importer: it
answers 500 (ModuleNotFoundError for the path without `.py`). prefork-modpy loads the file
as 3.3 did (a deliberate difference, docs/compatibility.md)."""

from __future__ import annotations

import json

import pytest

from .conftest import Pair

FRAGMENT = """PythonImport {root}/lib/startup.py pathtest
<Directory {root}/one>
    SetHandler mod_python
    PythonInterpreter pathtest
    PythonHandler {root}/code/byfile.py
</Directory>
<Directory {root}/two>
    SetHandler mod_python
    PythonInterpreter pathtest
    PythonHandler {root}/other/byfile.py::named
</Directory>
"""

HANDLER = """import json
import os

from mod_python import apache

WHO = {who!r}


def handler(req):
    return named(req)


def named(req):
    req.content_type = "application/json"
    req.write(json.dumps({{"who": WHO, "mp_name": __name__.startswith("_mp_"),
                          "imported": os.environ.get("PATHTEST_IMPORTED")}}))
    return apache.OK
"""

FILES = {
    "lib/startup.py": "import os\nos.environ['PATHTEST_IMPORTED'] = 'yes'\n",
    "code/byfile.py": HANDLER.format(who="code"),
    "other/byfile.py": HANDLER.format(who="other"),
    "one/.keep": "",
    "two/.keep": "",
}

CASES = {"/one/x": {"who": "code", "mp_name": True, "imported": "yes"},
         "/two/x": {"who": "other", "mp_name": True, "imported": "yes"}}


@pytest.mark.parametrize("path", sorted(CASES))
def test_file_path_handler_loads_the_file(pair: Pair, path: str) -> None:
    ours, theirs = pair.both(path)
    assert ours.status == 200 and json.loads(ours.body) == CASES[path]
    assert theirs.status == 500  # mod_python 3.5
    assert "ModuleNotFoundError: No module named '" in pair.apache.error_log()
