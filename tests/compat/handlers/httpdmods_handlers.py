"""Handlers for the httpd-module compat tests (issue 10): report what the request saw."""

import json

from mod_python import apache

# The variables the tests set: reported with their values (None when absent).
NAMES = ("T_A", "T_B", "T_C", "T_D", "T_SRV", "T_DIR", "T_UA", "T_METHOD", "T_URI", "T_ADDR",
         "T_PROTO", "T_HDR", "T_RE", "T_SUB", "T_NOCASE", "T_CHAIN", "T_PASS", "T_LOC",
         "T_FILES", "T_UNSET", "T_SERVER_ADDR", "T_HOST", "T_FIX")


def report(req):
    """The T_* variables in req.subprocess_env, and the user; /raise fails, /missing is 404."""
    if req.uri.endswith("/raise"):
        raise RuntimeError("the handler fails")
    if req.uri.endswith("/missing"):
        return apache.HTTP_NOT_FOUND
    env = req.subprocess_env
    seen = {name: env.get(name) for name in NAMES}
    req.content_type = "application/json"
    req.write(json.dumps({"env": seen, "user": req.user, "fixup": req.notes.get("fixup_saw"),
                          "postread": req.notes.get("postread_saw")}, sort_keys=True))
    return apache.OK


def trans(req):
    """A PythonTransHandler that maps /old/trans and /am/trans/* to a file of its own."""
    if req.uri.startswith(("/old/trans", "/am/trans/")):
        req.filename = req.document_root() + "/m/keep.txt"
        return apache.OK
    return apache.DECLINED


def postread(req):
    """What PythonPostReadRequestHandler sees of the server's SetEnvIf (hook order)."""
    req.notes["postread_saw"] = str(req.subprocess_env.get("T_URI"))
    return apache.OK


def headerparser(req):
    """What the header-parser phase sees of a section's SetEnvIf (hook order)."""
    req.notes["fixup_saw"] = "headerparser saw " + str(req.subprocess_env.get("T_SUB"))
    return apache.OK


def fixup(req):
    """What the fixup phase sees: mod_env's variables are already set (mod_env runs first)."""
    req.notes["fixup_saw"] = str(req.subprocess_env.get("T_FIX"))
    return apache.OK


def authen_decline(req):
    """A PythonAuthenHandler that lets the file provider decide, except for user 'py'."""
    password = req.get_basic_auth_pw()
    if req.user == "py" and password == "python":
        return apache.OK
    return apache.DECLINED


def wsgi_env(environ, start_response):
    """mod_python.wsgi: the T_* variables the WSGI environment carries."""
    body = json.dumps({name: environ.get(name) for name in NAMES}, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def error_page(req):
    """A handler serving an ErrorDocument: what the redirected request looks like."""
    req.content_type = "text/plain"
    env = req.subprocess_env
    req.write(f"status={req.status} method={req.method} uri={req.uri} "
              f"redirect_status={env.get('REDIRECT_STATUS')} "
              f"redirect_url={env.get('REDIRECT_URL')} "
              f"redirect_method={env.get('REDIRECT_REQUEST_METHOD')}\n")
    return apache.OK


def read_body(req):
    """Reads the whole body (LimitRequestBody applies when it is read)."""
    data = req.read()
    req.content_type = "text/plain"
    req.write(f"read {len(data)} bytes\n")
    return apache.OK
