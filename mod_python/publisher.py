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
(read from its bytecode, for any Python 3 version; a module-level name is read from the
page's globals). One that cannot be evaluated without running the function (an
expression, a closure, a name assigned twice) refuses the request as a failed check would:
401 with a challenge, or 403 for `__access__`. An `__auth__`/`__access__` attribute set on
a function object is enforced too (mod_python ignores it). Pages live in their own cache, keyed by
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


AUTH_NAMES = ("__auth__", "__access__", "__auth_realm__")


class _Unevaluable:
    """What a function body assigns to an auth name when the publisher cannot work the
    value out without running the function: the request is refused (never run)."""

    def __repr__(self) -> str:
        return "<unevaluable>"


UNEVALUABLE = _Unevaluable()

_STORES = ("STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF")
_NO_STACK_EFFECT = ("RESUME", "NOP", "CACHE", "EXTENDED_ARG", "COPY_FREE_VARS", "MAKE_CELL")
_SEQUENCES = {"BUILD_LIST": list, "BUILD_TUPLE": tuple, "BUILD_SET": set}


class _Stop(Exception):
    """The bytecode does something the evaluator does not model."""


def _nested_values(func: types.FunctionType) -> dict[str, Any]:
    """What a function body assigns to `__auth__`, `__access__` and `__auth_realm__`
    (mod_python's publisher.process_auth reads these from `co_consts` by position).

    A tiny evaluator over the function's bytecode that understands constants,
    list/tuple/set/dict displays, module-level names (read now from the function's
    globals, so `__auth__ = USERS` uses the current dict), names from an enclosing
    function, and `def`/`lambda` without closures. Any other expression, and a name
    assigned more than once, gives UNEVALUABLE: the caller refuses the request."""
    code = func.__code__
    names = (*code.co_varnames, *code.co_names, *code.co_cellvars, *code.co_freevars)
    if not any(name in names for name in AUTH_NAMES):
        return {}
    found: dict[str, Any] = {}
    stack: Optional[list[Any]] = []
    try:
        instructions = list(dis.get_instructions(code))
    except Exception:  # noqa: BLE001 - unreadable bytecode: refuse, never run
        return {name: UNEVALUABLE for name in AUTH_NAMES if name in names}
    for ins in instructions:
        if ins.opname in _STORES:
            if ins.argval in AUTH_NAMES:
                value = stack[0] if stack is not None and len(stack) == 1 else UNEVALUABLE
                found[ins.argval] = UNEVALUABLE if ins.argval in found else value
            stack = []
        elif stack is not None and ins.opname not in _NO_STACK_EFFECT:
            try:
                _step(func, ins, stack)
            except (_Stop, LookupError, TypeError, ValueError):
                stack = None  # unknown until the next statement's store
    return found


def _step(func: types.FunctionType, ins: dis.Instruction, stack: list[Any]) -> None:
    """Apply one instruction to the evaluator's stack, or raise _Stop."""
    op, arg = ins.opname, ins.arg or 0
    if op == "LOAD_CONST":
        stack.append(ins.argval)
    elif op == "LOAD_GLOBAL" and not arg & 1:  # bit 0 set: a NULL for a call follows
        stack.append(_global_value(func, ins.argval))
    elif op == "LOAD_DEREF" and ins.argval in func.__code__.co_freevars:
        index = func.__code__.co_freevars.index(ins.argval)
        stack.append((func.__closure__ or ())[index].cell_contents)
    elif op in _SEQUENCES:
        stack.append(_SEQUENCES[op](_pop(stack, arg)))
    elif op in ("LIST_EXTEND", "SET_UPDATE"):
        update = _pop(stack, 1)[0]
        stack[-1] = type(stack[-1])([*stack[-1], *update])
    elif op == "BUILD_MAP":
        items = _pop(stack, 2 * arg)
        stack.append(dict(zip(items[::2], items[1::2])))
    elif op == "BUILD_CONST_KEY_MAP":
        keys = _pop(stack, 1)[0]
        stack.append(dict(zip(keys, _pop(stack, arg))))
    elif op == "DICT_UPDATE":
        update = _pop(stack, 1)[0]
        stack[-1] = {**stack[-1], **update}
    elif op == "MAKE_FUNCTION":
        stack.append(_make_function(func, stack, arg))
    elif op == "SET_FUNCTION_ATTRIBUTE":  # Python 3.13+: attributes after MAKE_FUNCTION
        made, value = _pop(stack, 2)[::-1]
        _set_function_attribute(made, arg, value)
        stack.append(made)
    else:
        raise _Stop(op)


def _pop(stack: list[Any], count: int) -> list[Any]:
    if count < 0 or len(stack) < count:
        raise _Stop("stack underflow")
    items = stack[len(stack) - count:] if count else []
    del stack[len(stack) - count:]
    return items


def _global_value(func: types.FunctionType, name: str) -> Any:
    """A module-level name as the function would see it now (globals, then builtins);
    a plain dict lookup, which runs no code of the page."""
    if name in func.__globals__:
        return func.__globals__[name]
    builtins = func.__builtins__ if isinstance(func.__builtins__, dict) \
        else vars(func.__builtins__)
    return builtins[name]


def _make_function(func: types.FunctionType, stack: list[Any], flags: int) -> Any:
    top = _pop(stack, 1)[0]
    if isinstance(top, str):  # Python < 3.11 pushes the qualified name after the code
        top = _pop(stack, 1)[0]
    if not isinstance(top, types.CodeType) or flags & 0x08:
        raise _Stop("closure")  # its free variables live in the running frame
    made = types.FunctionType(top, func.__globals__, top.co_name)
    for flag in (0x04, 0x02, 0x01):  # annotations, keyword defaults, defaults (stack order)
        if flags & flag:
            _set_function_attribute(made, flag, _pop(stack, 1)[0])
    return made


def _set_function_attribute(made: Any, flag: int, value: Any) -> None:
    if not isinstance(made, types.FunctionType) or flag & 0x08:
        raise _Stop("closure")
    if flag == 0x01:
        made.__defaults__ = value
    elif flag == 0x02:
        made.__kwdefaults__ = value


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


def _log_unevaluable(req: Any, obj: Any, names: list[str]) -> None:
    req.log_error(f"mod_python.publisher: refusing {req.uri}: cannot evaluate "
                  f"{', '.join(names)} of {getattr(obj, '__qualname__', obj)!r} without "
                  "running it (use a literal, a module-level name or a nested def)",
                  apache.APLOG_ERR)


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
        # Attributes set on the function object (`page.__auth__ = USERS`): mod_python
        # ignores them and runs the function for anyone; an __auth__ that exists is
        # enforced here.
        if not found_auth and hasattr(func, "__auth__"):
            found_auth, auth = True, func.__auth__
        if not found_access and hasattr(func, "__access__"):
            found_access, access = True, func.__access__
    else:
        if hasattr(obj, "__auth__"):
            found_auth, auth = True, obj.__auth__
        if hasattr(obj, "__access__"):
            found_access, access = True, obj.__access__
    # An auth name the publisher cannot evaluate protects nothing it can check: it
    # answers as a failed check would (401 + challenge, or 403), never runs the object.
    if auth is UNEVALUABLE or realm is UNEVALUABLE:
        _log_unevaluable(req, obj, [name for name, value in
                                    (("__auth__", auth), ("__auth_realm__", realm))
                                    if value is UNEVALUABLE])
        shown = "unknown" if realm is UNEVALUABLE else realm
        req.err_headers_out["WWW-Authenticate"] = f'Basic realm="{shown}"'
        raise apache.SERVER_RETURN(apache.HTTP_UNAUTHORIZED)

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
        if access is UNEVALUABLE:
            _log_unevaluable(req, obj, ["__access__"])
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
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
