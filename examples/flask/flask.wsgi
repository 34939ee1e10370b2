# The WSGI script site.conf names (mod_wsgi users keep one like it): the application's
# directory on sys.path, then Flask's app object as `application`.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from app import app as application  # noqa: E402,F401
