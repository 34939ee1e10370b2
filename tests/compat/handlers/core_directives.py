"""Handlers for tests/compat/test_core_directives_compat.py: what a response looks like
once httpd's core directives (AddDefaultCharset, ServerSignature, TraceEnable) apply."""

from mod_python import apache


def handler(req):
    """/py/<kind>: a body typed as <kind> says; /py/denied answers 403 (the error page)."""
    kind = req.uri.rsplit("/", 1)[-1].split(".")[0]
    if kind == "denied":
        return apache.HTTP_FORBIDDEN
    if kind == "missing":
        return apache.HTTP_NOT_FOUND
    types = {"html": "text/html", "plain": "text/plain", "json": "application/json",
             "charset": "text/html; charset=koi8-r", "upper": "TEXT/HTML"}
    req.content_type = types.get(kind, "text/plain")
    req.write(f"{req.method} reached the handler for {kind}\n")
    return apache.OK
