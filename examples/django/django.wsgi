# The WSGI script site.conf names (PythonOption mod_python.wsgi.application django.wsgi),
# as a mod_wsgi user keeps one: it puts the project directory on sys.path, then hands over
# to the mysite/wsgi.py Django generated.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mysite.wsgi import application  # noqa: E402,F401
