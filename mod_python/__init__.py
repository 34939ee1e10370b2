"""mod_python compatibility package of prefork-modpy.

Handlers written for Apache + mod_python 3.5 import ``from mod_python import apache,
util, Cookie`` unchanged; these modules are reimplemented in pure Python on top of the
prefork-modpy server (see ``mod_python.apache`` for the server hook interface).
"""

version = "3.5.0-prefork-modpy"
# mod_python exposes the same string as mp_version (there it comes from version.py).
mp_version = version
