"""mod_python.publisher: `PythonHandler mod_python.publisher` (spec 5.4).

The URL names a module file and an object inside it: `/dir/page.py/obj/attr` loads
`dir/page.py` and publishes `page.obj.attr` (defaults: module `index`, object `index`). A
callable is called with the request's form fields as keyword arguments it declares
(`util.apply_fs_data`, `req` always the real request); the result is written as `str` with a
guessed content type (`text/html` when it ends with `</html>`, else `text/plain`) unless
the handler set one.

Security rules (process-faults 4.2): a path element starting with `_` is 403; modules,
built-in functions and classes are neither traversed nor published; other built-in types
are published but not traversed; a function the page imported from elsewhere is not
published unless the page lists it in `__all__` (mod_python publishes it: CVE-2002-0185's
pattern); an empty path element (`/index//x`) is 404. `__auth__`, `__access__` and
`__auth_realm__` are honoured on every traversed object, also when nested inside a function
(read from its bytecode, for any Python 3 version). Pages live in their own cache, keyed by
file name, re-executed when the file's mtime changes (unless `PythonAutoReload Off`), and
are never put in `sys.modules`.
"""

from __future__ import annotations

import base64
import binascii
import dis
import functools
import os
import re
import threading
import types
from typing import Any, Optional

from . import apache, util

__all__ = ["handler", "page_cache", "process_auth", "resolve_object", "publish_object"]

_NOT_WORD = re.compile(r"\W")
_HTML_END = re.compile(r"</HTML\s*>\s*$", re.I)


class PageCache:
    """Page modules by file name, re-executed when the file's mtime changes."""

    def __init__(self) -> None:
        self._pages: dict[str, tuple[float, types.ModuleType]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, req: Any) -> types.ModuleType:
        return self.get(req, req.filename)

    def get(self, req: Any, filename: str) -> types.ModuleType:
        config = req.get_config()
        autoreload = str(config.get("PythonAutoReload", "1")) != "0"
        with self._lock:
            cached = self._pages.get(filename)
            if cached is not None and not autoreload:
                return cached[1]
            try:
                mtime = os.stat(filename).st_mtime
            except OSError:
                raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND) from None
            if cached is not None and cached[0] == mtime:
                return cached[1]
            if str(config.get("PythonDebug", "0")) not in ("", "0"):
                verb = "loading" if cached is None else "reloading"
                req.log_error(f"Publisher {verb} page {filename}", apache.APLOG_NOTICE)
            module = types.ModuleType(_NOT_WORD.sub("_", filename))
            module.__file__ = filename
            with open(filename, "rb") as source:
                code = compile(source.read(), filename, "exec")
            exec(code, module.__dict__)
            self._pages[filename] = (mtime, module)
            return module

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


page_cache = PageCache()


def handler(req: Any) -> int:
    """Map the URL to a page module and an object path, check access, publish."""
    req.allow_methods(["GET", "POST", "HEAD"])
    if req.method not in ("GET", "POST", "HEAD"):
        raise apache.SERVER_RETURN(apache.HTTP_METHOD_NOT_ALLOWED)

    path, module_name, path_info = _split_filename(req.filename, req.path_info or "")
    if not module_name:
        module_name = "index"
    suffixes = ["py"] + req.get_addhandler_exts().split()
    if req.extension:
        suffixes.append(req.extension[1:])
    matcher = re.compile("|".join(r"\." + re.escape(s) + "$" for s in suffixes if s))
    module_name = matcher.sub("", module_name)

    func_path = ""
    if path_info:
        func_path = path_info[1:]
        if func_path.endswith("/"):
            func_path = func_path[:-1]

    filename = path + "/" + module_name + ".py"
    if not os.path.exists(filename):
        func_path = module_name + "/" + func_path if func_path else module_name
        module_name = "index"
        filename = path + "/index.py"
        if not os.path.exists(filename):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
    if not func_path:
        func_path = "index"
    func_path = func_path.replace("/", ".")
    req.filename = os.path.normpath(filename)

    module = page_cache[req]
    realm, user, passwd = process_auth(req, module)
    obj = resolve_object(req, module, func_path, realm, user, passwd)
    published = publish_object(req, obj)
    if not published and not req.bytes_sent and req.next is None:
        if str(req.get_config().get("PythonDebug", "0")) not in ("", "0"):
            req.log_error("mod_python.publisher: nothing to publish.")
    return apache.OK


def _split_filename(filename: str, path_info: str) -> tuple[str, str, str]:
    """(directory, file name, path_info) as Apache's directory walk gives them: when the
    server left a trailing-slash URL whole (`page.py/index/` as the file name), the longest
    existing file prefix is the file and the rest becomes path_info."""
    if filename.endswith("/") and not os.path.isdir(filename):
        probe = filename.rstrip("/")
        while probe and not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if probe and os.path.isfile(probe):
            path_info = filename[len(probe):] + path_info
            filename = probe
    path, name = os.path.split(filename)
    return path, name, path_info


# ------------------------------------------------------------------ authentication


def _is_callable(obj: Any) -> bool:
    return callable(obj)


def _nested_values(func: types.FunctionType) -> dict[str, Any]:
    """Constants and nested functions a function body assigns to `__auth__`,
    `__access__` and `__auth_realm__`: a tiny evaluator over its bytecode that understands
    constants, list/tuple/set/dict displays and `def` (no closures), whatever the Python
    version lays out in `co_consts`."""
    wanted = ("__auth__", "__access__", "__auth_realm__")
    code = func.__code__
    if not any(name in code.co_varnames or name in code.co_names for name in wanted):
        return {}
    found: dict[str, Any] = {}
    stack: Optional[list[Any]] = []
    for ins in dis.get_instructions(code):
        op, arg = ins.opname, ins.arg or 0
        if op in ("STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"):
            if stack and ins.argval in wanted:
                found[ins.argval] = stack[-1]
            stack = []
            continue
        if stack is None:
            continue
        if op in ("RESUME", "NOP", "CACHE", "EXTENDED_ARG"):
            continue
        if op == "LOAD_CONST":
            stack.append(ins.argval)
        elif op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET") and len(stack) >= arg:
            items = stack[len(stack) - arg:] if arg else []
            del stack[len(stack) - arg:]
            kind = {"BUILD_LIST": list, "BUILD_TUPLE": tuple, "BUILD_SET": set}[op]
            stack.append(kind(items))
        elif op in ("LIST_EXTEND", "SET_UPDATE") and len(stack) >= 2:
            stack[-2] = type(stack[-2])(list(stack[-2]) + list(stack.pop()))
        elif op == "BUILD_MAP" and len(stack) >= 2 * arg:
            items = stack[len(stack) - 2 * arg:] if arg else []
            del stack[len(stack) - 2 * arg:]
            stack.append(dict(zip(items[::2], items[1::2])))
        elif op == "BUILD_CONST_KEY_MAP" and len(stack) >= arg + 1:
            keys = stack.pop()
            values = stack[len(stack) - arg:] if arg else []
            del stack[len(stack) - arg:]
            stack.append(dict(zip(keys, values)))
        elif op == "DICT_UPDATE" and len(stack) >= 2:
            update = stack.pop()
            stack[-1] = {**stack[-1], **update}
        elif op == "MAKE_FUNCTION" and stack:
            top = stack.pop()
            if isinstance(top, str) and stack and isinstance(stack[-1], types.CodeType):
                top = stack.pop()  # Python < 3.11 pushes the qualified name too
            if not isinstance(top, types.CodeType) or arg & 0x08:
                stack = None
                continue
            defaults = kwdefaults = None
            if arg & 0x04:
                stack.pop()
            if arg & 0x02:
                kwdefaults = stack.pop()
            if arg & 0x01:
                defaults = stack.pop()
            made = types.FunctionType(top, func.__globals__, top.co_name, defaults)
            if kwdefaults:
                made.__kwdefaults__ = kwdefaults
            stack.append(made)
        else:
            stack = None
    return found


def _basic_credentials(req: Any) -> tuple[Optional[str], Optional[str]]:
    header = req.headers_in.get("Authorization")
    if not header:
        return None, None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None  # a Digest header is not the publisher's business
    try:
        text = base64.b64decode(encoded.strip().encode("ascii"), validate=False).decode("latin-1")
        user, passwd = text.split(":", 1)
    except (ValueError, binascii.Error, UnicodeError):
        raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST) from None
    return user, passwd


def process_auth(req: Any, obj: Any, realm: str = "unknown", user: Optional[str] = None,
                 passwd: Optional[str] = None) -> tuple[str, Optional[str], Optional[str]]:
    """Enforce `__auth__`/`__access__` found on `obj` (or nested in it if it is a
    function or method); returns the (realm, user, password) for the next step."""
    found_auth = found_access = False
    auth: Any = None
    access: Any = None
    if hasattr(obj, "__auth_realm__"):
        realm = obj.__auth_realm__
    func = obj.__func__ if isinstance(obj, types.MethodType) else obj
    if isinstance(func, types.FunctionType):
        nested = _nested_values(func)
        found_auth, auth = "__auth__" in nested, nested.get("__auth__")
        found_access, access = "__access__" in nested, nested.get("__access__")
        realm = nested.get("__auth_realm__", realm)
    else:
        if hasattr(obj, "__auth__"):
            found_auth, auth = True, obj.__auth__
        if hasattr(obj, "__access__"):
            found_access, access = True, obj.__access__

    if (found_auth or found_access) and not user:
        user, passwd = _basic_credentials(req)

    if found_auth:
        if not user:
            req.err_headers_out["WWW-Authenticate"] = f'Basic realm="{realm}"'
            raise apache.SERVER_RETURN(apache.HTTP_UNAUTHORIZED)
        if _is_callable(auth):
            ok = auth(req, user, passwd)
        elif isinstance(auth, dict):
            ok = user in auth and auth[user] == passwd
        else:
            ok = auth
        if not ok:
            req.err_headers_out["WWW-Authenticate"] = f'Basic realm = "{realm}"'
            raise apache.SERVER_RETURN(apache.HTTP_UNAUTHORIZED)
    if found_access:
        if _is_callable(access):
            ok = access(req, user)
        elif isinstance(access, (list, tuple)):
            ok = user in access
        else:
            ok = access
        if not ok:
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    return realm, user, passwd


# ------------------------------------------------------------------------ traversal

# (traversable, publishable) by type; every type the `types` module names is
# publishable but not traversable, modules, builtins and classes are neither.
TP_RULES: dict[type, tuple[bool, bool]] = {
    t: (False, True) for t in vars(types).values() if isinstance(t, type)}
TP_RULES.update({
    types.ModuleType: (False, False),
    types.BuiltinFunctionType: (False, False),
    type: (False, False),
    types.GeneratorType: (False, True),
})
DEFAULT_RULE = (True, True)


def _rule(obj: Any) -> tuple[bool, bool]:
    if isinstance(obj, type):
        return (False, False)  # every class, whatever its metaclass
    return TP_RULES.get(type(obj), DEFAULT_RULE)


def _foreign(module: types.ModuleType, name: str, obj: Any) -> bool:
    """A function or builtin the page imported rather than defined (and did not list in
    `__all__`): never published."""
    if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, functools.partial)):
        return False
    exported = getattr(module, "__all__", None)
    if exported is not None and name in exported:
        return False
    return getattr(obj, "__module__", None) != module.__name__


def resolve_object(req: Any, obj: Any, object_str: str, realm: Optional[str] = None,
                   user: Optional[str] = None, passwd: Optional[str] = None) -> Any:
    """Walk the dotted `object_str` from the page module with the publisher's rules."""
    module = obj
    first = True
    name = object_str
    for name in object_str.split("."):
        if not name:
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        if name[0] == "_":
            req.log_error(f"Cannot traverse {name} in {req.unparsed_uri} because "
                          "it starts with an underscore", apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        if first:
            first = False
        elif not _rule(obj)[0]:
            req.log_error(f"Cannot traverse {name} in {req.unparsed_uri} because "
                          f"{obj!r} is not a traversable object", apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        parent = obj
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND) from None
        if parent is module and _foreign(module, name, obj):
            req.log_error(f"Cannot publish {name} in {req.unparsed_uri} because "
                          "the page imported it", apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        realm, user, passwd = process_auth(req, obj, realm or "unknown", user, passwd)
    if not _rule(obj)[1]:
        req.log_error(f"Cannot publish {name} in {req.unparsed_uri} because "
                      f"{obj!r} is not publishable", apache.APLOG_WARNING)
        raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    return obj


# ----------------------------------------------------------------------- publishing


def publish_object(req: Any, obj: Any) -> bool:
    """Call callables with the form data, write anything else as `str`; False when
    there was nothing to write (None)."""
    while callable(obj):
        req.form = util.FieldStorage(req, keep_blank_values=1)
        obj = util.apply_fs_data(obj, req.form, req=req)
    if obj is None:
        return False
    result = str(obj)
    if not req._content_type_set:
        req.content_type = "text/html" if _HTML_END.search(result, max(0, len(result) - 100)) \
            else "text/plain"
    req.write(result, 0)
    return True
