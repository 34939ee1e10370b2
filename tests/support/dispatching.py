"""A Dispatcher built from a config file, without sockets: a real config, a real Runtime.

Owns the one way the unit tests make one (and undo what it binds: mod_python.apache's
server object). Must not start processes.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mod_python import apache
from prefork_modpy.config.server import load_config
from prefork_modpy.modpy.dispatch import Dispatcher
from prefork_modpy.runtime.runtime import Runtime


@contextmanager
def dispatcher_for(conf: Path, text: str) -> Iterator[Dispatcher]:
    """Write `text` to `conf` and yield a Dispatcher serving that config."""
    conf.write_text(text)
    runtime = Runtime(load_config(str(conf)))
    try:
        yield Dispatcher(runtime)
    finally:
        apache._bind_server(None)
