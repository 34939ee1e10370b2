"""The version is written once, in Cargo.toml: the extension, the package and the
installed distribution all report that one."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import prefork_modpy
from prefork_modpy import _core

ROOT = Path(__file__).resolve().parents[2]


def test_one_version_from_cargo_toml():
    cargo = re.search(r'(?m)^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text())
    assert cargo is not None
    assert _core.__version__ == prefork_modpy.__version__ == cargo.group(1)
    assert importlib.metadata.version("prefork-modpy") == cargo.group(1)
    assert "\nversion =" not in (ROOT / "pyproject.toml").read_text()


def test_version_option_names_package_python_and_engine():
    import platform
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "prefork_modpy", "--version"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.startswith(f"prefork-modpy {prefork_modpy.__version__} (CPython ")
    assert platform.python_version() in out and _core.__build__ in out
    assert re.search(r"engine \w+-linux (release|debug), ", out)
