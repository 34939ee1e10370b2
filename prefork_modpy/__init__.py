"""prefork-modpy: mod_python handlers, unchanged, on a standalone prefork server.

The master (`master`) binds and forks workers (`worker`); each worker's Rust engine
(`_core`) parses requests that `dispatch` walks through mod_python's phases.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
