"""Fixtures that run the real `prefork-modpy` server as a separate process.

Each test writes its own site (config + handler files) under tmp_path, starts the server on
a free loopback port and talks HTTP to it over real sockets (tests/support/site.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.site import SiteFactory


@pytest.fixture
def site(tmp_path: Path):
    """Factory fixture: site(config, files, workers=2) → a started Server."""
    factory = SiteFactory(tmp_path)
    yield factory.start
    factory.close()
