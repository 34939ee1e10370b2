"""Handlers exercising each return value and request attribute (one function each)."""

import json

from mod_python import apache


def ok(req):
    req.content_type = "text/plain"
    req.write("ok")
    return apache.OK


def spam(req):
    req.content_type = "text/plain"
    req.write("spam")
    return apache.OK


def declined(req):
    return apache.DECLINED


def done(req):
    req.content_type = "text/plain"
    req.write("done")
    return apache.DONE


def forbidden(req):
    return apache.HTTP_FORBIDDEN


def not_found(req):
    return apache.HTTP_NOT_FOUND


def created(req):
    req.status = apache.HTTP_CREATED
    req.content_type = "text/plain"
    req.write("created")
    return apache.OK


def raise_404(req):
    raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)


def raise_ok(req):
    req.content_type = "text/plain"
    req.write("first;")
    raise apache.SERVER_RETURN(apache.OK)


def boom(req):
    raise ValueError("kaboom <b>")


def none_result(req):
    req.content_type = "text/plain"


def frozen(req):
    req.content_type = "text/plain"
    req.headers_out["X-Before"] = "yes"
    req.write("a")
    req.headers_out["X-After"] = "yes"
    req.content_type = "text/html"
    req.status = 404
    req.write("b")
    return apache.OK


def echo(req):
    body = req.read()
    req.content_type = "application/octet-stream"
    req.headers_out["X-Length"] = str(len(body))
    req.write(body)
    return apache.OK


def echo_lines(req):
    lines = req.readlines()
    req.content_type = "text/plain"
    req.write(json.dumps([line.decode() for line in lines]))
    return apache.OK


def options(req):
    req.content_type = "application/json"
    req.write(json.dumps(dict(req.get_options())))
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
        "hostname": req.hostname,
        "remote_ip": req.connection.remote_ip,
        "header_x_test": req.headers_in.get("x-TEST"),
        "has_host": "HOST" in req.headers_in,
        "interpreter": req.interpreter,
        "phase": req.phase,
        "handler": req.handler,
        "document_root": req.document_root(),
        "config_debug": req.get_config().get("PythonDebug"),
        "header_only": req.header_only,
    }
    req.log_error("attributes handler ran", apache.APLOG_NOTICE)
    req.write(json.dumps(data))
    return apache.OK


def readonly(req):
    try:
        req.method = "POST"
    except (AttributeError, TypeError) as exc:
        req.write(type(exc).__name__)
    return apache.OK


def stream(req):
    req.content_type = "text/plain"
    for index in range(5):
        req.write(f"part{index};")
        req.flush()
    return apache.OK


def big(req):
    req.content_type = "application/octet-stream"
    block = b"x" * 65536
    for _ in range(32):
        req.write(block)
    return apache.OK
