"""``mod_python.python22``: Python 2.2 compatibility hacks; nothing on Python 3.

Owns only the module's existence. mod_python 3.5 still ships it, and handlers written for
old versions begin with ``from mod_python.python22 import *`` (mod_python's own test
handlers do). Its one hack, an ``enumerate`` builtin, applied only before Python 2.3, so on
any Python 3 the module defines nothing; an empty module here keeps that import working.
Must not define anything: a name here would shadow the handler's own via ``import *``.
"""

__all__: list[str] = []
