"""mod_python compatibility package of prefork-modpy.

Handlers written for Apache + mod_python 3.5 import ``from mod_python import apache,
util, Cookie`` unchanged; these modules are reimplemented in pure Python on top of the
prefork-modpy server (see ``mod_python.apache`` for the server hook interface).
"""

version = "3.5.0-prefork-modpy"
# mod_python exposes the same string as mp_version (there it comes from version.py).
mp_version = version


def _register_apache_module() -> None:
    """Make ``import _apache`` work, as mod_python's C code does in every interpreter
    before a handler runs (handlers and mod_python's own modules use it)."""
    import sys

    from mod_python import _apache

    sys.modules.setdefault("_apache", _apache)


_register_apache_module()
