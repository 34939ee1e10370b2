"""prefork-modpy: mod_python handlers, unchanged, on a standalone prefork server.

The master (`master`) binds and forks workers (`worker`); each worker's Rust engine
(`_core`) parses requests that `dispatch` walks through mod_python's phases.
"""

from ._core import __version__  # Cargo.toml's version, the one place it is written

__all__ = ["__version__"]
