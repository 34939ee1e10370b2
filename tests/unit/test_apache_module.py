"""Unit tests for mod_python.apache: constants, SERVER_RETURN, stat, the unbound
fallbacks and delegation to a bound runtime."""

import os
import re
import sys
import time

import pytest

from mod_python import apache
from prefork_modpy.runtime.table import Table


def test_return_codes_and_selected_constants():
    assert (apache.OK, apache.REQ_PROCEED, apache.DECLINED, apache.REQ_NOACTION) == (0, 0, -1, -1)
    assert apache.DONE == -2
    assert apache.REQ_ABORTED == 500 and apache.REQ_EXIT == "REQ_EXIT"
    assert apache.HTTP_IM_A_TEAPOT == 418 and apache.HTTP_NOT_EXTENDED == 510
    assert apache.HTTP_LENGTH_REQUIRED == 411 and apache.HTTP_MOVED_TEMPORARILY == 302
    assert apache.M_GET == 0 and apache.M_INVALID == 26 and apache.M_MKWORKSPACE == 22
    assert [apache.APLOG_EMERG, apache.APLOG_ERR, apache.APLOG_DEBUG] == [0, 3, 7]
    assert apache.FINFO_FILETYPE == 12 and apache.URI_FRAGMENT == 8
    assert apache.AP_CONN_KEEPALIVE == 2 and apache.APR_UNKFILE == 127
    assert apache.APR_FINFO_NORM == 0x73B170 and apache.APR_FINFO_MIN == 0x8170
    assert apache.AP_MPMQ_MAX_DAEMONS == 12 and apache.AP_MPMQ_DYNAMIC == 2
    assert apache.MODULE_MAGIC_NUMBER_MAJOR == 20120211
    assert isinstance(apache.MODULE_MAGIC_NUMBER_MINOR, int)
    assert apache.DIR_MAGIC_TYPE == "httpd/unix-directory"
    assert apache.REQUEST_CHUNKED_DECHUNK == 2 and apache.PROXYREQ_RESPONSE == 3
    assert apache.AP_REQ_DEFAULT_PATH_INFO == 2 and apache.REMOTE_DOUBLE_REV == 3


def test_every_http_constant_of_the_spec():
    expected = {
        "CONTINUE": 100, "SWITCHING_PROTOCOLS": 101, "PROCESSING": 102, "OK": 200,
        "CREATED": 201, "ACCEPTED": 202, "NON_AUTHORITATIVE": 203, "NO_CONTENT": 204,
        "RESET_CONTENT": 205, "PARTIAL_CONTENT": 206, "MULTI_STATUS": 207,
        "MULTIPLE_CHOICES": 300, "MOVED_PERMANENTLY": 301, "MOVED_TEMPORARILY": 302,
        "SEE_OTHER": 303, "NOT_MODIFIED": 304, "USE_PROXY": 305, "TEMPORARY_REDIRECT": 307,
        "BAD_REQUEST": 400, "UNAUTHORIZED": 401, "PAYMENT_REQUIRED": 402, "FORBIDDEN": 403,
        "NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405, "NOT_ACCEPTABLE": 406,
        "PROXY_AUTHENTICATION_REQUIRED": 407, "REQUEST_TIME_OUT": 408, "CONFLICT": 409,
        "GONE": 410, "LENGTH_REQUIRED": 411, "PRECONDITION_FAILED": 412,
        "REQUEST_ENTITY_TOO_LARGE": 413, "REQUEST_URI_TOO_LARGE": 414,
        "UNSUPPORTED_MEDIA_TYPE": 415, "RANGE_NOT_SATISFIABLE": 416,
        "EXPECTATION_FAILED": 417, "IM_A_TEAPOT": 418, "UNPROCESSABLE_ENTITY": 422,
        "LOCKED": 423, "FAILED_DEPENDENCY": 424, "UPGRADE_REQUIRED": 426,
        "INTERNAL_SERVER_ERROR": 500, "NOT_IMPLEMENTED": 501, "BAD_GATEWAY": 502,
        "SERVICE_UNAVAILABLE": 503, "GATEWAY_TIME_OUT": 504, "VERSION_NOT_SUPPORTED": 505,
        "VARIANT_ALSO_VARIES": 506, "INSUFFICIENT_STORAGE": 507, "NOT_EXTENDED": 510,
    }
    for name, number in expected.items():
        assert getattr(apache, "HTTP_" + name) == number, name
    assert not hasattr(apache, "HTTP_PERMANENT_REDIRECT")  # no 308 in mod_python


def test_server_return():
    assert issubclass(apache.SERVER_RETURN, Exception)
    with pytest.raises(apache.SERVER_RETURN) as info:
        raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
    assert info.value.args == (404,)
    assert apache.SERVER_RETURN(apache.OK, 201).args == (0, 201)


def test_table_aliases():
    assert apache.table is Table and apache.make_table is Table


def test_parse_qs_reexports():
    assert apache.parse_qsl("a=1&b=2;a=3") == [("a", "1"), ("b", "2"), ("a", "3")]
    assert apache.parse_qs("a=1&a=2") == {"a": ["1", "2"]}


def test_stat_regular_file_and_index_access(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello")
    os.chmod(path, 0o644)
    fi = apache.stat(str(path), apache.APR_FINFO_NORM)
    assert fi.filetype == apache.APR_REG
    assert fi.fname == str(path)
    assert fi.size == 5
    assert fi.protection == 0x0644
    assert fi.valid & apache.APR_FINFO_NORM == apache.APR_FINFO_NORM
    assert isinstance(fi.mtime, int) and abs(fi.mtime - time.time()) < 100
    assert fi[apache.FINFO_SIZE] == 5
    assert fi[apache.FINFO_FNAME] == str(path)
    assert fi[apache.FINFO_FILETYPE] == apache.APR_REG
    assert fi[apache.FINFO_MODE] == 0x0644
    assert fi.name is None
    assert apache.stat(str(path), apache.APR_FINFO_NAME).name == "f.txt"
    with pytest.raises(IndexError):
        fi[13]


def test_stat_directory_link_and_missing(tmp_path):
    assert apache.stat(str(tmp_path), apache.APR_FINFO_MIN).filetype == apache.APR_DIR
    link = tmp_path / "l"
    link.symlink_to(tmp_path)
    assert apache.stat(str(link), apache.APR_FINFO_LINK).filetype == apache.APR_LNK
    assert apache.stat(str(link), apache.APR_FINFO_MIN).filetype == apache.APR_DIR
    missing = apache.stat(str(tmp_path / "nope"), apache.APR_FINFO_NORM)
    assert missing.filetype == apache.APR_NOFILE == 0
    assert missing.fname is None and missing.size is None and missing.valid is None
    assert missing.mtime is None and missing[apache.FINFO_SIZE] is None


def test_log_error_unbound_writes_apache_format(capsys):
    apache.log_error("hello\nworld", apache.APLOG_WARNING)
    apache.log_error("emerg becomes error", apache.APLOG_EMERG)
    apache.log_error(None)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    pattern = r"^\[\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}\] \[:warn\] \[pid \d+\] "
    assert re.match(pattern + r"hello\\nworld$", err[0])
    assert "[:error]" in err[1]


def test_unbound_server_queries():
    assert apache.exists_config_define("FOOBAR") is False
    assert apache.exists_config is apache.exists_config_define
    assert apache.server_root() == os.getcwd()
    assert apache.config_tree() == ()
    assert apache.mpm_query(apache.AP_MPMQ_IS_THREADED) == apache.AP_MPMQ_NOT_SUPPORTED
    assert apache.mpm_query(apache.AP_MPMQ_IS_FORKED) == apache.AP_MPMQ_DYNAMIC
    assert apache.mpm_query(999) == 0
    with pytest.raises(TypeError):
        apache.mpm_query("x")
    assert apache.interpreter is None and apache.main_server is None


def test_register_cleanup_requires_callable():
    with pytest.raises(ValueError):
        apache.register_cleanup(42)


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError):
        apache.no_such_thing  # noqa: B018


def test_run_cleanup_logs_errors(capsys):
    def bad(data):
        raise RuntimeError("boom " + data)

    apache._run_cleanup(bad, "x")
    err = capsys.readouterr().err
    assert "python_cleanup: Error calling cleanup object" in err
    assert "RuntimeError: boom x" in err


def test_allow_methods_bitmask():
    assert apache.allow_methods(apache.M_GET, apache.M_POST) == 0b101


class FakeRuntime:
    interpreter = "example.com"
    main_server = object()

    def __init__(self):
        self.calls = []

    def log_error(self, msg, level, server):
        self.calls.append(("log", msg, level, server))

    def import_module(self, name, autoreload, log, path):
        self.calls.append(("import", name, autoreload, log, path))
        return sys

    def register_cleanup(self, cb, data):
        self.calls.append(("cleanup", cb, data))

    def config_tree(self):
        return (("ServerName", "x"),)

    def exists_config_define(self, name):
        return name == "FOOBAR"

    def server_root(self):
        return "/srv"

    def mpm_query(self, code):
        return 42

    def allow_methods(self, mask):
        self.calls.append(("allow", mask))


@pytest.fixture
def runtime():
    rt = FakeRuntime()
    apache._bind_server(rt)
    yield rt
    apache._bind_server(None)


def test_bound_runtime_delegation(runtime):
    assert apache.interpreter == "example.com"
    runtime.interpreter = "vhost.example"  # switched per request by the server
    assert apache.interpreter == "vhost.example"
    from mod_python.apache import main_server
    assert main_server is FakeRuntime.main_server
    assert apache.main_server is FakeRuntime.main_server
    apache.log_error("m", 0, "srv")
    assert runtime.calls[-1] == ("log", "m", apache.APLOG_ERR, "srv")
    assert apache.import_module("x", log=1) is sys
    assert runtime.calls[-1] == ("import", "x", 1, 1, None)
    apache.register_cleanup(print, 5)
    assert runtime.calls[-1] == ("cleanup", print, 5)
    assert apache.config_tree() == (("ServerName", "x"),)
    assert apache.exists_config_define("FOOBAR") is True
    assert apache.server_root() == "/srv"
    assert apache.mpm_query(1) == 42
    apache.allow_methods(apache.M_PUT)
    assert runtime.calls[-1] == ("allow", 2)


def test_unbind_resets_attributes(runtime):
    apache._bind_server(None)
    assert apache.interpreter is None and apache.main_server is None


def test_init_sets_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x"])
    apache.init("main_interpreter", None)
    try:
        assert sys.argv == ["mod_python"] and apache.interpreter == "main_interpreter"
    finally:
        apache._unbound_attrs["interpreter"] = None


# --------------------------------------------------------------- import_module fallback


def _write_module(directory, name, body):
    path = directory / f"{name}.py"
    path.write_text(body)
    return path


def test_import_module_fallback_autoreload(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _write_module(tmp_path, "pmp_reload_mod", "version = 1\n")
    try:
        mod = apache.import_module("pmp_reload_mod", log=1)
        assert mod.version == 1 and mod.__mtime__ > 0
        assert "mod_python: (Re)importing module 'pmp_reload_mod'" in capsys.readouterr().err
        path.write_text("version = 2\n")
        os.utime(path, (time.time() + 10, time.time() + 10))
        # stat at most once per second
        assert apache.import_module("pmp_reload_mod").version == 1
        mod.__mtime_check__ = 0
        again = apache.import_module("pmp_reload_mod")
        assert again is mod and again.version == 2  # re-executed into the same object
        path.write_text("version = 3\n")
        os.utime(path, (time.time() + 20, time.time() + 20))
        mod.__mtime_check__ = 0
        assert apache.import_module("pmp_reload_mod", autoreload=0).version == 2
    finally:
        sys.modules.pop("pmp_reload_mod", None)


def test_import_module_fallback_path(tmp_path):
    first = tmp_path / "one"
    second = tmp_path / "two"
    first.mkdir()
    second.mkdir()
    _write_module(first, "pmp_path_mod", "where = 'one'\n")
    _write_module(second, "pmp_path_mod", "where = 'two'\n")
    try:
        assert apache.import_module("pmp_path_mod", path=[str(first)]).where == "one"
        assert apache.import_module("pmp_path_mod", path=[str(second)]).where == "two"
        with pytest.raises(ImportError):
            apache.import_module("pmp_path_mod_absent", path=[str(first)])
    finally:
        sys.modules.pop("pmp_path_mod", None)


def test_import_module_does_not_reexecute_fileless_modules():
    assert apache.import_module("sys") is sys


# ------------------------------------------------------------------- resolve_object


class Handlers:
    def __init__(self, req):
        self.req = req

    def method(self, req):
        return ("method", self.req, req)


def plain(req):
    return "plain"


def test_resolve_object_plain_and_class_instantiation():
    module = sys.modules[__name__]
    assert apache.resolve_object(module, "plain") is plain
    bound = apache.resolve_object(module, "Handlers.method", arg="REQ")
    assert bound("X") == ("method", "REQ", "X")


def test_resolve_object_missing_and_silent():
    module = sys.modules[__name__]
    message = r"module '.*test_apache_module.py' contains no 'nope'"
    with pytest.raises(AttributeError, match=message):
        apache.resolve_object(module, "nope")
    assert apache.resolve_object(module, "nope", silent=1) is None
    assert apache.resolve_object(module, "Handlers.nope", silent=1) is None


# ---------------------------------------------------------------------- CGI helpers


class CgiReq:
    def __init__(self, body=b""):
        self.subprocess_env = Table()
        self.headers_in = Table({"Authorization": "Basic x"})
        self.headers_out = Table()
        self.uri = "/cgi/script.py/extra"
        self.path_info = "/extra"
        self.body = body
        self.written = []
        self.status = 200
        self.content_type = None

    def add_cgi_vars(self):
        self.subprocess_env["REQUEST_METHOD"] = "POST"

    def read(self, n=-1):
        data, self.body = (self.body, b"") if n < 0 else (self.body[:n], self.body[n:])
        return data

    def write(self, data):
        self.written.append(data)


def test_build_cgi_env():
    env = apache.build_cgi_env(CgiReq())
    assert env["SCRIPT_NAME"] == "/cgi/script.py"
    assert env["GATEWAY_INTERFACE"] == "Python-CGI/1.1"
    assert env["HTTP_AUTHORIZATION"] == "Basic x"
    assert env["REQUEST_METHOD"] == "POST"


def test_setup_cgi_roundtrip():
    req = CgiReq(b"line1\nline2\n")
    saved_stdin, saved_stdout = sys.stdin, sys.stdout
    saved = apache.setup_cgi(req)
    try:
        assert os.environ["GATEWAY_INTERFACE"] == "Python-CGI/1.1"
        assert sys.stdin.readline() == "line1\n"
        print("Status: 201 Created")
        print("Content-Type: text/plain")
        print("X-Extra: 1")
        print()
        print("body")
        sys.stdout.buffer.write(b"raw")
    finally:
        apache.restore_nocgi(*saved)
    assert sys.stdin is saved_stdin and sys.stdout is saved_stdout
    assert "GATEWAY_INTERFACE" not in os.environ or os.environ.get("GATEWAY_INTERFACE") != (
        "Python-CGI/1.1")
    assert req.status == 201
    assert req.content_type == "text/plain"
    assert req.headers_out["X-Extra"] == "1"
    assert b"".join(req.written) == b"body\nraw"
