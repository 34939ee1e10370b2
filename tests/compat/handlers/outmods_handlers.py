"""Handlers for test_outmods_compat.py (mod_headers, mod_expires, mod_deflate)."""

import json

from mod_python import apache

TEXT = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n" for n in range(400))


def _args(req):
    return dict(part.split("=", 1) for part in (req.args or "").split("&") if "=" in part)


def fixuphandler(req):
    """Sets environment variables from the query (env=, no-gzip, gzip-only-text/html)."""
    for name, value in _args(req).items():
        if name.startswith("env_"):
            req.subprocess_env[name[4:]] = value
    return apache.OK


def page(req):
    """A text page; the query sets headers, type, status."""
    args = _args(req)
    req.content_type = args.get("type", "text/html").replace("%2F", "/")
    for name, value in args.items():
        if name.startswith("out_"):
            req.headers_out[name[4:]] = value
        elif name.startswith("err_"):
            req.err_headers_out[name[4:]] = value
    if "status" in args:
        return int(args["status"])
    size = int(args.get("size", len(TEXT)))
    req.write(TEXT[:size], 0)
    return apache.OK


def stream(req):
    """Flushed blocks: each must reach the client before the next is written."""
    req.content_type = "text/plain"
    for n in range(5):
        req.write(f"block {n} " + "x" * 200 + "\n")
        req.flush()
    return apache.OK


def headers_in(req):
    """The request headers as the handler sees them (RequestHeader)."""
    req.content_type = "application/json"
    req.write(json.dumps(sorted((k.lower(), v) for k, v in req.headers_in.items()
                                if k.lower().startswith("x-"))))
    return apache.OK


def outputfilter(filter):
    """A Python output filter that upper-cases (runs before DEFLATE)."""
    chunk = filter.read()
    while chunk:
        filter.write(chunk.upper())
        chunk = filter.read()
    if chunk is None:
        filter.close()


def adds_deflate(req):
    """req.add_output_filter("DEFLATE"): httpd's own filter, added by the handler."""
    req.add_output_filter("DEFLATE")
    req.content_type = "text/plain"
    req.write(TEXT)
    return apache.OK
