"""Handlers run unchanged under Apache + mod_python 3.5 and under prefork-modpy.

Each function is one comparison case (see tests/compat/test_tutorial_compat.py). They only
use what real mod_python offers, and their output must not depend on the server (no pids,
no absolute paths beyond the shared site directory, no server software names). The plain
return values and errors (boom, declined, not_found, forbidden, raise_404, frozen, done) are
tests/support/handlers/behaviours.py's, which the integration tests run too.
"""

import json

from mod_python import apache, util


def hello(req):
    req.content_type = "text/plain"
    req.write("Hello World!")
    return apache.OK


def created(req):
    req.status = 201
    req.content_type = "text/plain"
    req.write("created")
    return apache.OK


def echo(req):
    body = req.read()
    req.content_type = "application/octet-stream"
    req.write(body)
    return apache.OK


def echo_parts(req):
    # read(n) then readline() then the rest: the body must come back in the same order.
    first = req.read(3)
    line = req.readline()
    rest = req.read()
    req.content_type = "application/json"
    req.write(json.dumps([first.decode(), line.decode(), rest.decode()]))
    return apache.OK


def options(req):
    req.content_type = "application/json"
    # mod_python.* keys are the server's own tuning knobs (set in the Apache-only part of the
    # generated config), not the site's options.
    opts = {k: v for k, v in req.get_options().items() if not k.startswith("mod_python.")}
    req.write(json.dumps(opts, sort_keys=True))
    return apache.OK


def attributes(req):
    req.content_type = "application/json"
    data = {
        "method": req.method,
        "uri": req.uri,
        "unparsed_uri": req.unparsed_uri,
        "args": req.args,
        "protocol": req.protocol,
        "proto_num": req.proto_num,
        "the_request": req.the_request,
        "filename": req.filename,
        "path_info": req.path_info,
        "header_x_test": req.headers_in.get("x-TEST"),
        "has_host": "HOST" in req.headers_in,
        "handler": req.handler,
        "phase": req.phase,
        "header_only": req.header_only,
        "config_debug": req.get_config().get("PythonDebug"),
        "remote_ip": req.connection.remote_ip,
        "document_root": req.document_root(),
        "method_number": req.method_number,
        "assbackwards": req.assbackwards,
    }
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


def redirect(req):
    util.redirect(req, "/mywebdir/myscript.py")


def location(req):
    req.headers_out["Location"] = "/elsewhere"
    return apache.HTTP_MOVED_TEMPORARILY


def form(req):
    fields = util.FieldStorage(req, keep_blank_values=1)
    req.content_type = "application/json"
    data = {key: [str(v) for v in fields.getlist(key)] for key in sorted(fields.keys())}
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


def unicode_text(req):
    req.content_type = "text/plain; charset=utf-8"
    req.write("caf\u00e9 \u2713")
    return apache.OK


def none_result(req):
    req.content_type = "text/plain"
    req.write("partial")


def no_content(req):
    req.status = apache.HTTP_NO_CONTENT
    return apache.OK


def custom_header(req):
    req.content_type = "text/plain"
    req.headers_out["X-Custom"] = "one"
    req.headers_out.add("X-Multi", "a")
    req.headers_out.add("X-Multi", "b")
    req.err_headers_out["X-Err"] = "kept"
    req.write("headers")
    return apache.OK


def err_headers_on_error(req):
    req.headers_out["X-Lost"] = "gone"
    req.err_headers_out["X-Err"] = "kept"
    return apache.HTTP_FORBIDDEN


def content_length(req):
    req.content_type = "text/plain"
    req.set_content_length(5)
    req.write("12345")
    return apache.OK


def head_aware(req):
    req.content_type = "text/plain"
    if not req.header_only:
        req.write("body for GET")
    return apache.OK


def cookies(req):
    from mod_python import Cookie

    got = Cookie.get_cookies(req)
    req.content_type = "application/json"
    Cookie.add_cookie(req, "answer", "42", path="/")
    req.write(json.dumps({k: v.value for k, v in sorted(got.items())}))
    return apache.OK


def bytes_write(req):
    req.content_type = "application/octet-stream"
    req.write(b"\x00\x01raw")
    return apache.OK


def log_and_ok(req):
    req.log_error("compat handler logs a line", apache.APLOG_NOTICE)
    req.content_type = "text/plain"
    req.write("logged")
    return apache.OK


def stacked_first(req):
    req.content_type = "text/plain"
    req.write("first;")
    return apache.OK


def stacked_second(req):
    req.write("second")
    return apache.OK


def returns_string(req):
    return "not an int"


CGI_KEYS = ("GATEWAY_INTERFACE", "SERVER_PROTOCOL", "REQUEST_METHOD", "QUERY_STRING",
            "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO", "SCRIPT_FILENAME", "DOCUMENT_ROOT",
            "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT", "REMOTE_ADDR", "HTTP_HOST",
            "HTTP_X_TEST", "CONTENT_TYPE", "CONTENT_LENGTH")


def env_report(req):
    # SERVER_PORT is each server's own port: report whether it is the one the client used.
    env = req.subprocess_env
    data = {key: env.get(key) for key in CGI_KEYS}
    data["SERVER_PORT"] = env.get("SERVER_PORT") == req.headers_in["Host"].rpartition(":")[2]
    data["REMOTE_PORT"] = env.get("REMOTE_PORT", "").isdigit()
    data["count_before"] = req.notes.get("count_before")
    req.content_type = "application/json"
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


def common_vars(req):
    req.notes["count_before"] = str(len(req.subprocess_env))
    req.add_common_vars()
    return env_report(req)


def cgi_vars(req):
    req.notes["count_before"] = str(len(req.subprocess_env))
    req.add_cgi_vars()
    return env_report(req)


def internal_redirect(req):
    req.internal_redirect("/mywebdir/myscript.py")
    return apache.OK


def sendfile(req):
    req.content_type = "text/plain"
    req.sendfile(req.document_root() + "/static/hello.txt")
    return apache.OK


def urls(req):
    req.content_type = "application/json"
    data = {
        "construct_url": req.construct_url("/a/b"),
        "hostname": req.hostname,
        "server_hostname": req.server.server_hostname,
        "is_https": req.is_https(),
        "local_ip": req.connection.local_ip,
    }
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


# -- phases, authentication, sections --------------------------------------------------


def authen(req):
    # get_basic_auth_pw() must come first: it fills req.user.
    password = req.get_basic_auth_pw()
    if req.user == "alice" and password == "secret":
        return apache.OK
    return apache.HTTP_UNAUTHORIZED


def authen_manual(req):
    # The same check without get_basic_auth_pw(): decodes the header itself and sets req.user.
    import base64

    header = req.headers_in.get("Authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if (user, password) == ("alice", "secret"):
            req.user = user
            return apache.OK
    return apache.HTTP_UNAUTHORIZED


def whoami(req):
    req.content_type = "text/plain"
    req.write(f"user={req.user} type={req.ap_auth_type}")
    return apache.OK


def fixup_note(req):
    req.notes["fixup"] = "ran"
    return apache.OK


def show_note(req):
    req.content_type = "text/plain"
    req.write(f"fixup={req.notes.get('fixup')}")
    return apache.OK


def where(req):
    req.content_type = "application/json"
    data = {"filename": req.filename, "path_info": req.path_info, "uri": req.uri,
            "interpreter": req.interpreter}
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


# -- responses ---------------------------------------------------------------------------


def write_then_404(req):
    req.content_type = "text/plain"
    req.write("already sent")
    return apache.HTTP_NOT_FOUND


def empty_ok(req):
    req.content_type = "text/plain"
    return apache.OK


def server_error(req):
    return apache.HTTP_INTERNAL_SERVER_ERROR


def unauthorized_plain(req):
    return apache.HTTP_UNAUTHORIZED


def method_not_allowed(req):
    req.allow_methods(["GET", "POST"])
    return apache.HTTP_METHOD_NOT_ALLOWED


def status_line(req):
    req.status_line = "299 Custom Thing"
    req.content_type = "text/plain"
    req.write("custom")
    return apache.OK


def streamed(req):
    req.content_type = "application/octet-stream"
    block = bytes(range(256)) * 512  # 128 KiB, past any small-reply buffering
    for _ in range(4):
        req.write(block)
        req.flush()
    return apache.OK


def sendfile_range(req):
    req.content_type = "text/plain"
    req.sendfile(req.document_root() + "/static/hello.txt", 2, 5)
    return apache.OK


def manual_length(req):
    req.content_type = "text/plain"
    req.headers_out["Content-Length"] = "4"
    req.write("four")
    return apache.OK


def headers_in_merge(req):
    req.content_type = "application/json"
    data = {"x_dup": req.headers_in.get("X-Dup"), "cookie": req.headers_in.get("Cookie"),
            "count": len(req.headers_in.keys())}
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


def read_chunks(req):
    parts = []
    while True:
        part = req.read(4)
        if not part:
            break
        parts.append(part.decode())
    req.content_type = "application/json"
    req.write(json.dumps(parts))
    return apache.OK


def readlines(req):
    req.content_type = "application/json"
    req.write(json.dumps([line.decode() for line in req.readlines()]))
    return apache.OK


def multipart(req):
    fields = util.FieldStorage(req)
    upload = fields["file"]
    req.content_type = "application/json"
    data = {"filename": upload.filename, "content": upload.file.read().decode(),
            "note": str(fields.getfirst("note"))}
    req.write(json.dumps(data, sort_keys=True))
    return apache.OK


def missing_function_module_ok(req):
    req.write("never called")
    return apache.OK


def no_content_type(req):
    req.write("what type am I")
    return apache.OK


def header_content_type(req):
    req.headers_out["Content-Type"] = "application/x-custom"
    req.write("typed by header")
    return apache.OK


def raw_header(req):
    req.content_type = "application/json"
    value = req.headers_in.get("X-Raw")
    req.write(json.dumps({"x_raw": value, "type": type(value).__name__}))
    return apache.OK
