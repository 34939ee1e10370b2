"""WSGI applications run by mod_python.wsgi in test_library_compat.py."""

import json
import sys


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"default application\n"]


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "hello")])
    return [b"hello ", b"wsgi\n"]


KEYS = ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD", "CONTENT_TYPE",
        "CONTENT_LENGTH", "SERVER_PROTOCOL", "HTTP_X_TEST", "wsgi.url_scheme",
        "wsgi.multithread", "wsgi.multiprocess")


def environ_app(environ, start_response):
    data = {key: environ.get(key) for key in KEYS}
    data["wsgi.version"] = list(environ["wsgi.version"])
    data["errors_is_stderr"] = environ["wsgi.errors"] is sys.stderr
    data["input_has_read"] = hasattr(environ["wsgi.input"], "read")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(data, sort_keys=True).encode()]


def post_app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"got " + body]


def exc_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First-Call", "1")])
    try:
        raise ValueError("app failure")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/html")],
                       sys.exc_info())
    return [b"the application's error page\n"]


def status_app(environ, start_response):
    start_response("404 Not Here", [("Content-Type", "text/plain")])
    return [b"custom not found\n"]


def write_app(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"from write; ")
    return [b"from iterable\n"]


class Closing:
    def __iter__(self):
        yield b"closing body\n"

    def close(self):
        from mod_python import apache

        apache.log_error("closing_app_closed")


def closing_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing()


def req_env_handler(req):
    """mod_python 3.4+ request methods used directly, without mod_python.wsgi."""
    from mod_python import apache

    env = req.build_wsgi_env()
    start = req.wsgi_start_response("202 Accepted", [("X-Env", env["REQUEST_METHOD"])])
    start("script={} query={} input_is_req={}".format(
        env["SCRIPT_NAME"], env.get("QUERY_STRING"), env["wsgi.input"] is req))
    return apache.OK
