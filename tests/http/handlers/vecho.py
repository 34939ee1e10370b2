"""Handler for tests/http/test_live_vectors.py, set for the whole site.

Every request is answered 200 with JSON describing what the handler saw (method, uri,
unparsed_uri, args, protocol, body length, header names, hostname and the ``site``
PythonOption of the virtual host). ``GET /canary?id=X`` first records
that it ran by appending to the marker file ``markers/X`` next to this module. Paths under
``/noread`` answer without reading the request body; ``/stream`` sends its body in two
flushed pieces (no Content-Length); ``/nocontent`` answers 204 but writes a body anyway.
"""

import json
import os

from mod_python import apache

MARKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "markers")


def handler(req):
    if req.uri == "/canary":
        wanted = (req.args or "").partition("id=")[2]
        name = "".join(ch for ch in wanted if ch.isalnum() or ch == "-") or "_"
        os.makedirs(MARKERS, exist_ok=True)
        with open(os.path.join(MARKERS, name), "a") as marker:
            marker.write(req.the_request + "\n")
    if req.uri == "/stream":
        req.content_type = "text/plain"
        req.write("chunk-1;")
        req.flush()
        req.write("chunk-2")
        req.flush()
        return apache.OK
    if req.uri == "/nocontent":
        req.status = apache.HTTP_NO_CONTENT
        req.write("a 204 response has no content")
        return apache.OK
    body = b"" if req.uri.startswith("/noread") else req.read()
    info = {
        "method": req.method,
        "uri": req.uri,
        "unparsed_uri": req.unparsed_uri,
        "args": req.args,
        "protocol": req.protocol,
        "body_len": len(body),
        "header_names": list(req.headers_in.keys()),
        "hostname": req.hostname,
        "site": req.get_options().get("site"),
    }
    req.content_type = "application/json"
    req.write(json.dumps(info))
    return apache.OK
