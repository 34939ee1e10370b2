"""prefork_modpy.runtime.interpreters: module namespaces per interpreter name.

Each case runs in a fresh Python (a subprocess): switching namespaces rewrites the process's
sys.modules, which pytest's own process must keep."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, body: str) -> None:
    (tmp_path / "lib_a").mkdir()
    (tmp_path / "lib_b").mkdir()
    (tmp_path / "lib_a" / "settings.py").write_text("NAME = 'A'\n")
    (tmp_path / "lib_b" / "settings.py").write_text("NAME = 'B'\n")
    script = "import sys\nfrom prefork_modpy.runtime.interpreters import Namespaces\n" \
        f"TMP = {str(tmp_path)!r}\nnamespaces = Namespaces()\n" + textwrap.dedent(body) + \
        "\nprint('done')\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=60, env={"PYTHONPATH": str(REPO)})
    assert result.returncode == 0 and result.stdout.endswith("done\n"), result.stderr


def test_modules_path_and_sys_attributes_are_per_interpreter(tmp_path: Path) -> None:
    run(tmp_path, """
        namespaces.enter("a")
        sys.path.insert(0, TMP + "/lib_a")
        import settings, logging
        logging.getLogger("x").addHandler(logging.NullHandler())
        sys.some_flag = "a"
        a_logging = logging
        namespaces.enter("b")
        assert TMP + "/lib_a" not in sys.path and "settings" not in sys.modules
        assert not hasattr(sys, "some_flag")
        sys.path.insert(0, TMP + "/lib_b")
        import settings, logging
        assert settings.NAME == "B" and logging is not a_logging
        assert logging.getLogger("x").handlers == []
        namespaces.enter("a")
        import settings, logging
        assert settings.NAME == "A" and logging is a_logging and sys.some_flag == "a"
        assert sys.path.count(TMP + "/lib_a") == 1
    """)


def test_server_extension_and_startup_modules_are_shared(tmp_path: Path) -> None:
    run(tmp_path, """
        import os, _json
        import mod_python.apache as boot_apache
        from prefork_modpy import _core
        namespaces.enter("a")
        import mod_python.apache, _json as a_json, os as a_os
        from prefork_modpy import _core as a_core
        assert mod_python.apache is boot_apache and a_core is _core
        assert a_json is _json and a_os is os
        assert mod_python.apache.__spec__.name == "mod_python.apache"
    """)


def test_modules_loaded_later_are_promoted_to_shared(tmp_path: Path) -> None:
    run(tmp_path, """
        assert "_csv" not in sys.modules and "mod_python.cgihandler" not in sys.modules
        namespaces.enter("a")
        import _csv as a_csv                 # a C extension first loaded in "a"
        import mod_python.cgihandler as a_cgi  # a server module first loaded in "a"
        import csv as a_csv_py                 # pure Python: per interpreter
        namespaces.enter("b")
        import _csv, csv, mod_python.cgihandler
        assert _csv is a_csv and mod_python.cgihandler is a_cgi and csv is not a_csv_py
        assert mod_python.cgihandler.__spec__.origin.endswith("cgihandler.py")
    """)


def test_the_switch_holds_the_import_lock_and_a_thread_sees_the_installed_namespace(
        tmp_path: Path) -> None:
    """The documented limit: a handler's thread imports in the namespace installed now."""
    run(tmp_path, """
        import threading
        namespaces.enter("a")
        sys.path.insert(0, TMP + "/lib_a")
        go, seen = threading.Event(), []
        def later():
            go.wait(10)
            import settings
            seen.append(settings.NAME)
        thread = threading.Thread(target=later)
        thread.start()
        namespaces.enter("b")
        sys.path.insert(0, TMP + "/lib_b")
        go.set()
        thread.join(10)
        assert seen == ["B"], seen
    """)
