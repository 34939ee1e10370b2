"""Handler modules: autoreload really reloads, the same module name in two directories gives
two modules, interpreter names keep separate module caches, PythonImport feeds the named
interpreter, apache.import_module(path=...) loads from there (docs/compatibility.md)."""

from __future__ import annotations

import os
import time
import urllib.request

import pytest

from tests.support.site import SiteFactory

VERSIONED = "from mod_python import apache\n\nVERSION = {v}\n\n" \
            "def handler(req):\n    req.content_type = 'text/plain'\n" \
            "    req.write('{name} version %d' % VERSION)\n    return apache.OK\n"

COUNTER = "from mod_python import apache\n\nhits = 0\nstarted = False\n\n" \
          "def start():\n    global started\n    started = True\n\n" \
          "def handler(req):\n    global hits\n    hits += 1\n" \
          "    req.content_type = 'text/plain'\n" \
          "    req.write('%s hits=%d started=%s' % (req.interpreter, hits, started))\n" \
          "    return apache.OK\n"

IMPORTER = "import os\nfrom mod_python import apache\n\n" \
           "def handler(req):\n" \
           "    where = os.path.join(req.document_root(), 'elsewhere')\n" \
           "    mod = apache.import_module('s', path=[where])\n" \
           "    req.content_type = 'text/plain'\n" \
           "    req.write(mod.__file__.rsplit('/', 2)[-2])\n    return apache.OK\n"

CONFIG = """
<Directory {root}/reload>
    SetHandler mod_python
    PythonHandler s
</Directory>
<Directory {root}/noreload>
    SetHandler mod_python
    PythonAutoReload Off
    PythonHandler s
</Directory>
<Directory {root}/one>
    SetHandler mod_python
    PythonHandler s
</Directory>
<Directory {root}/two>
    SetHandler mod_python
    PythonHandler s
</Directory>
<Directory {root}/importer>
    SetHandler mod_python
    PythonHandler importer
</Directory>
"""

# A server-level PythonPath turns off directory prepending everywhere (as in mod_python),
# so the interpreter tests have a server of their own.
INTERPRETERS = """
PythonPath "sys.path + ['{root}/lib']"
PythonImport counter::start shared_interp
<Directory {root}/ia>
    SetHandler mod_python
    PythonInterpreter interp_a
    PythonHandler counter
</Directory>
<Directory {root}/ib>
    SetHandler mod_python
    PythonInterpreter interp_b
    PythonHandler counter
</Directory>
<Directory {root}/shared>
    SetHandler mod_python
    PythonInterpreter shared_interp
    PythonHandler counter
</Directory>
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    factory = SiteFactory(tmp_path_factory.mktemp("modules"))
    files = {
        "reload/s.py": VERSIONED.format(v=1, name="reload"),
        "noreload/s.py": VERSIONED.format(v=1, name="noreload"),
        "one/s.py": VERSIONED.format(v=1, name="one"),
        "two/s.py": VERSIONED.format(v=2, name="two"),
        "importer/importer.py": IMPORTER,
        "elsewhere/s.py": VERSIONED.format(v=7, name="elsewhere"),
    }
    # One worker: every request sees the same module caches.
    yield factory.start(CONFIG, files, workers=1)
    factory.close()


@pytest.fixture(scope="module")
def interpreters(tmp_path_factory):
    factory = SiteFactory(tmp_path_factory.mktemp("interpreters"))
    files = {"lib/counter.py": COUNTER, "ia/.keep": "", "ib/.keep": "", "shared/.keep": ""}
    yield factory.start(INTERPRETERS, files, workers=1)
    factory.close()


def get(server, path: str) -> str:
    with urllib.request.urlopen(server.url(path), timeout=10) as response:
        return response.read().decode()


def rewrite(path, text: str) -> None:
    """Write new source with an mtime certainly different from the old one."""
    before = os.stat(path).st_mtime
    path.write_text(text)
    os.utime(path, (before + 5, before + 5))


def test_autoreload_reexecutes_an_edited_module_within_three_seconds(server):
    """mod_python checks an imported module's mtime at most once a second; 3 s leaves room
    for a loaded machine."""
    assert get(server, "/reload/x") == "reload version 1"
    rewrite(server.root / "reload" / "s.py", VERSIONED.format(v=2, name="reload"))
    deadline = time.monotonic() + 3
    while get(server, "/reload/x") != "reload version 2":
        assert time.monotonic() < deadline, "the edit was never picked up"
        time.sleep(0.1)
    assert time.monotonic() < deadline


def test_autoreload_off_keeps_the_first_import(server):
    assert get(server, "/noreload/x") == "noreload version 1"
    rewrite(server.root / "noreload" / "s.py", VERSIONED.format(v=2, name="noreload"))
    time.sleep(1.2)
    assert get(server, "/noreload/x") == "noreload version 1"


def test_same_module_name_in_two_directories_does_not_collide(server):
    for _ in range(2):
        assert get(server, "/one/x") == "one version 1"
        assert get(server, "/two/x") == "two version 2"


def test_each_interpreter_has_its_own_module_globals(interpreters):
    server = interpreters
    first_a = get(server, "/ia/x")
    first_b = get(server, "/ib/x")
    assert first_a.startswith("interp_a hits=") and first_b.startswith("interp_b hits=")
    hits_a = int(first_a.split("hits=")[1].split()[0])
    assert get(server, "/ia/x").startswith(f"interp_a hits={hits_a + 1} ")
    assert get(server, "/ib/x").startswith("interp_b hits=2 ")


def test_python_import_runs_in_the_named_interpreter(interpreters):
    assert get(interpreters, "/shared/x").endswith("started=True")
    assert get(interpreters, "/ia/x").endswith("started=False")


def test_import_module_with_path(server):
    assert get(server, "/importer/x") == "elsewhere"
