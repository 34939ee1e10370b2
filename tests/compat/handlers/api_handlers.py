"""Handlers for tests/compat/test_api_compat.py: the request object, the apache module,
every phase, filters and sections, run unchanged under Apache + mod_python 3.5 and under
prefork-modpy.

`handler` serves `/a/<name>` by calling `h_<name>`; the other functions are named in the
config. Output never depends on the server (no pids, ports, software names).
"""

import json
import os

from mod_python import apache

# -- helpers -------------------------------------------------------------------------------


def dump(req, data):
    req.content_type = "application/json"
    req.write(json.dumps(data, sort_keys=True, default=repr))
    return apache.OK


def local(req, value):
    """A path or URL without the site directory or the server's own port."""
    if isinstance(value, str):
        value = value.replace(req.document_root(), "ROOT")
        port = req.headers_in.get("Host", "").rpartition(":")[2]
        if port.isdigit():
            value = value.replace(":" + port, ":PORT")
    return value


def attempt(action):
    try:
        return ["ok", action()]
    except Exception as exc:  # the type and message are what is compared
        return [type(exc).__name__, str(exc)]


def handler(req):
    name = req.uri.split("/")[2].split(".")[0]
    return globals()["h_" + name](req)


# -- request members -----------------------------------------------------------------------


def h_members(req):
    return dump(req, {
        "the_request": req.the_request, "protocol": req.protocol, "proto_num": req.proto_num,
        "hostname": req.hostname, "status": req.status, "status_line": req.status_line,
        "method": req.method, "method_number": req.method_number, "allowed": req.allowed,
        "allowed_xmethods": req.allowed_xmethods, "allowed_methods": req.allowed_methods,
        "sent_bodyct": req.sent_bodyct, "bytes_sent": req.bytes_sent, "mtime": req.mtime,
        "chunked": req.chunked, "range": req.range, "clength": req.clength,
        "remaining": req.remaining, "read_length": req.read_length,
        "read_body": req.read_body, "read_chunked": req.read_chunked,
        "expecting_100": req.expecting_100, "content_type": req.content_type,
        "_content_type_set": req._content_type_set, "handler": req.handler,
        "content_encoding": req.content_encoding,
        "content_languages": req.content_languages, "vlist_validator": req.vlist_validator,
        "user": req.user, "ap_auth_type": req.ap_auth_type, "no_cache": req.no_cache,
        "no_local_copy": req.no_local_copy, "unparsed_uri": req.unparsed_uri, "uri": req.uri,
        "filename": local(req, req.filename),
        "canonical_filename": local(req, req.canonical_filename),
        "path_info": req.path_info, "args": req.args, "used_path_info": req.used_path_info,
        "eos_sent": req.eos_sent, "phase": req.phase, "extension": req.extension,
        "assbackwards": req.assbackwards, "proxyreq": req.proxyreq,
        "header_only": req.header_only, "next": req.next, "prev": req.prev, "main": req.main,
        "useragent_ip": req.useragent_ip, "type": type(req).__name__,
        "hlist": [req.hlist.handler, local(req, req.hlist.directory), req.hlist.is_location],
        "request_time_is_float": isinstance(req.request_time, float),
    })


def h_readonly(req):
    names = ["method", "phase", "interpreter", "extension", "hlist", "the_request",
             "headers_in", "notes", "connection", "server", "mtime", "allowed", "parsed_uri",
             "_content_type_set", "clength", "range", "hostname", "protocol"]
    out = {name: attempt(lambda name=name: setattr(req, name, "x")) for name in names}
    out["status_str"] = attempt(lambda: setattr(req, "status", "x"))[0]
    out["finfo_str"] = attempt(lambda: setattr(req, "finfo", "x"))
    for name in ("uri", "user", "filename", "path_info", "args", "handler"):
        old = getattr(req, name)
        out[name] = attempt(lambda name=name: setattr(req, name, "/y"))
        if old is not None:
            setattr(req, name, old)
    out["args_none"] = attempt(lambda: setattr(req, "args", None))
    return dump(req, out)


def h_parsed(req):
    uri = list(req.parsed_uri)
    port = req.headers_in["Host"].rpartition(":")[2]
    uri[apache.URI_PORT] = uri[apache.URI_PORT] == int(port)
    return dump(req, {"parsed_uri": uri, "path": req.parsed_uri[apache.URI_PATH],
                      "query": req.parsed_uri[apache.URI_QUERY]})


def h_finfo(req):
    info = req.finfo
    return dump(req, {"filetype": info.filetype, "fname": local(req, info.fname),
                      "size": info.size, "nofile": info.filetype == apache.APR_NOFILE})


def h_finfo_real(req):
    req.filename = req.document_root() + "/static/hello.txt"
    info = apache.stat(req.filename, apache.APR_FINFO_MIN)
    req.finfo = info
    return dump(req, {"filetype": req.finfo.filetype, "size": req.finfo.size,
                      "index": req.finfo[apache.FINFO_SIZE], "reg": apache.APR_REG})


def h_urls(req):
    return dump(req, {"construct_url": local(req, req.construct_url("/x/y?z")),
                      "remote_host": req.get_remote_host(apache.REMOTE_HOST),
                      "remote_name": req.get_remote_host(),
                      "remote_noip": req.get_remote_host(apache.REMOTE_NOLOOKUP, 1),
                      "is_https": req.is_https(), "document_root": local(req, req.document_root())})


def h_tables(req):
    t = apache.table()
    t["A"] = "1"
    t.add("a", "2")
    t["b"] = "3"
    out = {"getitem": t["a"], "get": t.get("A"), "len": len(t), "keys": list(t.keys()),
           "items": list(t.items()), "in": "B" in t, "repr_type": type(t).__name__}
    del t["A"]
    out["after_del"] = list(t.items())
    out["setdefault"] = t.setdefault("c")
    out["bad_value"] = attempt(lambda: t.__setitem__("d", 3))
    out["copy_type"] = type(t.copy()).__name__
    out["make_table"] = apache.make_table is apache.table
    out["headers_in_type"] = type(req.headers_in).__name__
    out["notes_empty_writable"] = attempt(lambda: req.notes.__setitem__("n", "v"))
    return dump(req, out)


def h_headers_in_multi(req):
    return dump(req, {"x_multi": req.headers_in.get("X-Multi"),
                      "missing": attempt(lambda: req.headers_in["x-missing"])})


def h_write_counts(req):
    req.content_type = "text/plain"
    before = (req.bytes_sent, req.sent_bodyct)
    req.write("1234", 0)
    req.write(b"56", 0)
    req.write("\n")
    after = (req.bytes_sent, req.sent_bodyct)
    req.write(json.dumps({"before": before, "after": after}))
    return apache.OK


def h_set_content_length(req):
    req.content_type = "text/plain"
    req.set_content_length(5)
    req.write("12345")
    return apache.OK


def h_chunked_framing(req):
    """r->chunked and the Transfer-Encoding httpd records once a flushing write has sent the
    head: chunked only when the handler declared no Content-Length."""
    req.content_type = "text/plain"
    if req.args == "length":
        req.set_content_length(4)
    req.write("abcd")  # flush=1: the head leaves now
    chunked = req.chunked  # asked first: asking commits a buffered write to the wire
    encoding = req.headers_out.get("Transfer-Encoding")
    req.log_error(f"api framing {req.args} chunked={chunked} te={encoding}",
                  apache.APLOG_NOTICE)
    return apache.OK


def h_no_cache(req):
    req.no_cache = 1
    req.content_type = "text/plain"
    req.write("no cache")
    return apache.OK


def h_validators(req):
    before = req.mtime
    req.update_mtime(1_000_000_000)
    req.update_mtime(10)  # never backwards
    req.set_last_modified()
    result = req.meets_conditions()
    if result != apache.OK:
        return result
    req.content_type = "text/plain"
    req.write(json.dumps({"before": before, "mtime": req.mtime,
                          "last_modified": req.headers_out.get("Last-Modified")}))
    return apache.OK


def h_etag_file(req):
    req.filename = req.document_root() + "/static/hello.txt"
    req.finfo = apache.stat(req.filename, apache.APR_FINFO_MIN)
    req.update_mtime(req.finfo.mtime)
    req.set_last_modified()
    req.set_etag()
    result = req.meets_conditions()
    if result != apache.OK:
        return result
    req.content_type = "text/plain"
    req.write("etag " + str(req.headers_out.get("ETag")))
    return apache.OK


def h_allow(req):
    req.allow_methods(["GET", "MKWORKSPACE", "BREW"])
    req.err_headers_out["X-Allowed"] = repr((req.allowed, req.allowed_methods))
    return apache.HTTP_METHOD_NOT_ALLOWED


def h_allow_reset(req):
    req.allow_methods(["PUT"])
    req.allow_methods(["DELETE"], 1)
    return apache.HTTP_METHOD_NOT_ALLOWED


def h_not_implemented(req):
    return apache.HTTP_NOT_IMPLEMENTED


def h_teapot(req):
    return apache.HTTP_IM_A_TEAPOT


def h_notes(req):
    return dump(req, dict(req.notes.items()))


def h_gone(req):
    return apache.HTTP_GONE


def h_precondition(req):
    return apache.HTTP_PRECONDITION_FAILED


def h_see_other(req):
    req.headers_out["Location"] = "/other"
    return apache.HTTP_SEE_OTHER


def h_created(req):
    req.headers_out["Location"] = "/new"
    return apache.HTTP_CREATED


def h_status_line_error(req):
    req.status_line = "404 Gone Fishing"
    return apache.HTTP_NOT_FOUND


def h_status_line_ok(req):
    req.status_line = "299 Custom"
    req.status = 299
    req.content_type = "text/plain"
    req.write("custom")
    return apache.OK


def h_error_notes(req):
    req.notes["error-notes"] = "a note"
    return apache.HTTP_BAD_REQUEST


def h_not_modified(req):
    req.headers_out["ETag"] = '"x"'
    req.headers_out["X-Kept"] = "yes"
    req.content_type = "text/plain"
    return apache.HTTP_NOT_MODIFIED


def h_server_return_tuple(req):
    raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN, 410)


def h_sendfile_part(req):
    req.content_type = "text/plain"
    sent = req.sendfile(req.document_root() + "/static/digits.txt", 2, 7)
    req.write(f" sent={sent}")
    return apache.OK


def h_sendfile_missing(req):
    return dump(req, {"error": attempt(lambda: req.sendfile("/no/such/file"))})


def h_read_parts(req):
    first = req.readline()
    rest = req.readlines()
    return dump(req, {"first": first.decode(), "rest": [line.decode() for line in rest],
                      "after": req.read().decode(), "remaining": req.remaining})


def h_discard(req):
    first = req.read(3)
    result = req.discard_request_body()
    return dump(req, {"first": first.decode(), "discard": result, "after": req.read().decode()})


# -- config, options, server and connection -----------------------------------------------


def h_config(req):
    options = {k: v for k, v in req.get_options().items() if not k.startswith("mod_python.")}
    return dump(req, {"config": dict(req.get_config().items()), "options": options,
                      "server_options": sorted(k for k in req.server.get_options().keys()
                                               if not k.startswith("mod_python."))})


def h_server(req):
    s = req.server
    return dump(req, {"type": type(s).__name__, "server_hostname": s.server_hostname,
                      "is_virtual": s.is_virtual, "names": s.names, "wild_names": s.wild_names,
                      "limit_req_line": s.limit_req_line,
                      "limit_req_fieldsize": s.limit_req_fieldsize,
                      "limit_req_fields": s.limit_req_fields,
                      "server_admin": s.server_admin,
                      "main_server_hostname": apache.main_server.server_hostname,
                      "base_server": req.connection.base_server.server_hostname})


def h_connection(req):
    c = req.connection
    return dump(req, {"type": type(c).__name__, "remote_ip": c.remote_ip,
                      "client_ip": c.client_ip, "local_ip": c.local_ip,
                      "remote_host": c.remote_host, "remote_logname": c.remote_logname,
                      "aborted": c.aborted, "double_reverse": c.double_reverse,
                      "keepalives": c.keepalives, "local_host": c.local_host,
                      "notes": repr(c.notes), "id_int": isinstance(c.id, int)})


def h_interp(req):
    return dump(req, {"interpreter": local(req, req.interpreter),
                      "apache_interpreter": local(req, apache.interpreter)})


def h_module_funcs(req):
    return dump(req, {
        "exists_config_define": apache.exists_config_define("NO_SUCH_DEFINE"),
        "mpm_threaded": apache.mpm_query(apache.AP_MPMQ_IS_THREADED),
        "mpm_forked": apache.mpm_query(apache.AP_MPMQ_IS_FORKED),
        "constants": [apache.OK, apache.DECLINED, apache.DONE, apache.HTTP_IM_A_TEAPOT,
                      apache.M_MERGE, apache.APLOG_NOTICE, apache.REMOTE_DOUBLE_REV,
                      apache.PROXYREQ_RESPONSE, apache.AP_CONN_KEEPALIVE, apache.APR_UNKFILE,
                      apache.REQ_ABORTED, apache.REQ_EXIT, apache.FINFO_FILETYPE],
        "stat_missing": apache.stat("/no/such/file", apache.APR_FINFO_MIN).filetype,
        "resolve": apache.resolve_object(json, "dumps").__name__,
        "argv": __import__("sys").argv,
    })


def h_env_after_common(req):
    req.add_common_vars()
    env = req.subprocess_env
    return dump(req, {"authorization": "HTTP_AUTHORIZATION" in env,
                      "proxy": "HTTP_PROXY" in env, "underscore": "HTTP_X_UNDER_SCORE" in env,
                      "dash": env.get("HTTP_X_DASH_ED"), "type": env.get("CONTENT_TYPE"),
                      "length": env.get("CONTENT_LENGTH")})


def h_build_cgi_env(req):
    env = apache.build_cgi_env(req)
    return dump(req, {k: env.get(k) for k in ("GATEWAY_INTERFACE", "SCRIPT_NAME", "PATH_INFO",
                                              "HTTP_AUTHORIZATION", "REQUEST_URI",
                                              "QUERY_STRING")})


def h_log_levels(req):
    req.log_error("api log notice", apache.APLOG_NOTICE)
    req.log_error("api log emerg-as-error", apache.APLOG_EMERG)
    apache.log_error("api apache.log_error")
    req.server.log_error("api server.log_error", apache.APLOG_ERR)
    req.connection.log_error("api connection.log_error", apache.APLOG_ERR)
    req.content_type = "text/plain"
    req.write("logged")
    return apache.OK


def cleanup_first(data):
    apache.log_error(f"api cleanup {data} first")


def cleanup_second(data):
    apache.log_error(f"api cleanup {data} second")


def h_register_cleanup(req):
    req.register_cleanup(cleanup_first, "order")
    req.register_cleanup(cleanup_second, "order")
    error = attempt(lambda: req.register_cleanup("not callable"))
    return dump(req, {"error": error})


# -- redirects ------------------------------------------------------------------------------


def h_redirect_from(req):
    req.notes["from"] = "1"
    req.subprocess_env["MINE"] = "v"
    req.internal_redirect("/a/redirect_to?q=2")
    return apache.OK


def h_redirect_to(req):
    prev = req.prev
    env = req.subprocess_env
    req.content_type = "text/plain"
    prev.write("prev wrote;")
    req.write(json.dumps({
        "uri": req.uri, "args": req.args, "unparsed_uri": req.unparsed_uri,
        "the_request": req.the_request, "prev_uri": prev.uri, "prev_next": prev.next is req,
        "notes_from": req.notes.get("from"), "prev_notes_from": prev.notes.get("from"),
        "redirect_mine": env.get("REDIRECT_MINE"), "redirect_status": env.get("REDIRECT_STATUS"),
        "status": req.status}, sort_keys=True))
    return apache.OK


def h_redirect_missing(req):
    req.internal_redirect("/a/static_nothing_here/../../no/such.txt")
    return apache.OK


# -- phases -------------------------------------------------------------------------------


def record(req, name):
    if not hasattr(req, "phases"):
        req.phases = []
    req.phases.append([name, req.phase])


def headerparserhandler(req):
    record(req, "headerparser")
    return apache.OK


def inithandler(req):
    record(req, "init")
    return apache.OK


def accesshandler(req):
    record(req, "access")
    return apache.DECLINED


def typehandler(req):
    record(req, "type")
    return apache.DECLINED


def fixuphandler(req):
    record(req, "fixup")
    return apache.OK


def phases_handler(req):
    record(req, "handler")
    req.content_type = "text/plain"
    req.write(json.dumps(req.phases))
    return apache.OK


def loghandler(req):
    apache.log_error(f"api loghandler phase={req.phase} status={req.status}")
    return apache.OK


def cleanuphandler(req):
    apache.log_error(f"api cleanuphandler phase={req.phase} after={req.status}")
    return apache.OK


def cleanup_after_error(req):
    apache.log_error("api cleanup after error ran")
    return apache.OK


def boom(req):
    raise ValueError("boom in handler")


# authentication with AuthType dummy (no mod_auth_basic involvement)


def authenhandler(req):
    req.user = "dummy"
    req.ap_auth_type = "dummy"
    return apache.OK


def authzhandler(req):
    return apache.OK


def auth_report(req):
    req.content_type = "application/json"
    req.write(json.dumps({"auth_type": req.auth_type(), "auth_name": req.auth_name(),
                          "user": req.user, "ap_auth_type": req.ap_auth_type,
                          "pw": req.get_basic_auth_pw()}, sort_keys=True))
    return apache.OK


def authen_wrong_user(req):
    req.user = "mallory"
    return apache.OK


def authen_declined(req):
    return apache.DECLINED


def authen_ok_no_user(req):
    return apache.OK


def authen_basic(req):
    password = req.get_basic_auth_pw()
    if (req.user, password) == ("sp\u00e1m", "\u00e9ggs") or (req.user, password) == (
            "alice", "secret"):
        return apache.OK
    return apache.HTTP_UNAUTHORIZED


def authz_forbid(req):
    return apache.HTTP_FORBIDDEN


# upstream test_phase_status


def phase_status_1(req):
    req.phases = [1]
    return apache.DECLINED


def phase_status_2(req):
    req.phases.append(2)
    req.user = "started"
    return apache.OK


def phase_status_3(req):
    req.phases.append(3)
    return apache.OK


def phase_status_4(req):
    req.phases.append(4)
    return apache.OK


def phase_status_5(req):
    req.phases.append(5)
    return apache.DECLINED


def phase_status_6(req):
    req.phases.append(6)
    return apache.OK


def phase_status_7(req):
    req.phases.append(7)
    return apache.OK


def phase_status_8(req):
    req.content_type = "text/plain"
    req.write("test ok" if req.phases == [1, 2, 4, 5, 6, 7] else f"test failed {req.phases!r}")
    return apache.OK


# stacking and dynamic handlers


def server_return_ok(req):
    req.content_type = "text/plain"
    req.write("one;")
    raise apache.SERVER_RETURN(apache.OK)


def second(req):
    req.write("two")
    return apache.OK


def add_later(req):
    req.secret = "carried"
    req.add_handler("PythonHandler", "api_handlers::added")
    req.content_type = "text/plain"
    req.write("first;")
    return apache.OK


def added(req):
    req.write("added sees " + req.secret + " in " + req.phase)
    return apache.OK


def fixup_adds_handler(req):
    req.handler = "mod_python"
    req.add_handler("PythonHandler", "api_handlers::added_from_fixup")
    return apache.OK


def added_from_fixup(req):
    req.content_type = "text/plain"
    req.write(f"content from fixup's handler, hlist={req.hlist.handler}")
    return apache.OK


def add_bad(req):
    req.add_handler("PythonHandler", "api_handlers::no_such_thing")
    req.content_type = "text/plain"
    req.write("before bad;")
    return apache.OK


def add_invalid_phase(req):
    return dump(req, {"error": attempt(lambda: req.add_handler("PythonNoSuchHandler", "x"))})


def pipe_py(req):
    req.content_type = "text/plain"
    req.write(f"pipe .py extension={req.extension!r}")
    return apache.OK


def pipe_plain(req):
    req.content_type = "text/plain"
    req.write(f"plain extension={req.extension!r}")
    return apache.OK


class Klass:
    def __init__(self, req):
        self.greeting = "from an instance"

    def method(self, req):
        req.content_type = "text/plain"
        req.write(self.greeting)
        return apache.OK


none_handler = None


def bool_result(req):
    return True


# -- filters ----------------------------------------------------------------------------


def outputfilter(filter):
    data = filter.read()
    while data:
        filter.write(data.upper())
        data = filter.read()
    if data is None:
        filter.close()


def bracket_filter(filter):
    data = filter.read()
    while data:
        filter.write(b"[" + data + b"]")
        data = filter.read()
    if data is None:
        filter.close()


def broken_filter(filter):
    raise ValueError("filter broke")


def input_a(filter):
    data = filter.read()
    while data:
        filter.write(data.replace(b"a", b"A"))
        data = filter.read()
    if data is None:
        filter.close()


def filtered(req):
    req.content_type = "text/plain"
    req.write("filtered output")
    return apache.OK


def add_filter_at_runtime(req):
    req.add_output_filter("UPPER")
    return filtered(req)


def register_filter_at_runtime(req):
    req.register_output_filter("BRACKETS", "api_handlers::bracket_filter")
    req.add_output_filter("BRACKETS")
    return filtered(req)


def echo(req):
    req.content_type = "text/plain"
    req.write(req.read())
    return apache.OK


# -- PythonHandlerModule ------------------------------------------------------------------


def where(req):
    return dump(req, {"filename": local(req, req.filename), "path_info": req.path_info,
                      "uri": req.uri, "hlist_directory": local(req, req.hlist.directory),
                      "is_location": req.hlist.is_location,
                      "interpreter": local(req, req.interpreter)})


def declined(req):
    return apache.DECLINED


def h_sysargv(req):
    import sys

    return dump(req, {"argv": sys.argv})


def interp_where(req):
    return dump(req, {"interpreter": local(req, req.interpreter)})


def same_module_version(req):
    req.content_type = "text/plain"
    req.write(os.path.basename(os.path.dirname(__file__)))
    return apache.OK
