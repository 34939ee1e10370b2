"""A CGI-style script (site file cgi/script.py) for mod_python.cgihandler."""

import os

print("Content-type: text/plain")
print("X-Cgi: yes")
print()
print("test ok")
print("method", os.environ.get("REQUEST_METHOD"))
print("query", os.environ.get("QUERY_STRING"))
print("gateway", os.environ.get("GATEWAY_INTERFACE"))
