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
