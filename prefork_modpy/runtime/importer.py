"""Handler module loading: per-interpreter module caches, PythonPath, autoreload.

Owns finding and executing handler modules. Each interpreter name (mod_python's
sub-interpreters) gets its own cache, so the same module name under two interpreters gives two
module objects with separate globals; within one interpreter a plain module name is cached by
its file path, so `s.py` in two directories gives two modules (mod_python 3.5 serves whichever
was imported first). Autoreload re-executes an edited module (mod_python 3.5 on Python 3 logs
"(Re)importing" but keeps the old code). Must not know about requests or sockets.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Callable, Optional

AUTORELOAD_CHECK_INTERVAL = 1.0

LogFn = Callable[[str], None]


@dataclass
class _Cached:
    module: types.ModuleType
    location: Optional[str]
    path: Optional[str]
    mtime: float
    checked: float


@dataclass
class Interpreter:
    """What mod_python keeps per sub-interpreter: modules and evaluated PythonPaths."""

    name: str
    modules: dict[tuple[str, Optional[str]], _Cached] = field(default_factory=dict)
    lookups: dict[tuple, _Cached] = field(default_factory=dict)
    evaluated_paths: set[str] = field(default_factory=set)


class ModuleCache:
    """All interpreters of one worker process."""

    def __init__(self) -> None:
        self.interpreters: dict[str, Interpreter] = {}

    def interpreter(self, name: str) -> Interpreter:
        interp = self.interpreters.get(name)
        if interp is None:
            interp = self.interpreters[name] = Interpreter(name)
        return interp

    def apply_python_path(self, interp: Interpreter, expression: str) -> None:
        """mod_python evaluates each distinct PythonPath once per interpreter and assigns
        the result to sys.path."""
        if expression in interp.evaluated_paths:
            return
        value = eval(expression, {"sys": sys, "os": os})  # the config is trusted
        sys.path[:] = list(value)
        interp.evaluated_paths.add(expression)

    def cached_module(self, interp: Interpreter, name: str, autoreload: bool,
                      directory: Optional[str]) -> Optional[types.ModuleType]:
        """import_module's usual answer without its work: the module `name` was already
        found for `directory` and autoreload (if on) is not due to look at its file. None
        when import_module has to run (first import, the autoreload check, a module given
        by path)."""
        cached = interp.lookups.get((name, directory, None))
        if cached is None or (autoreload and time.monotonic() - cached.checked
                              >= AUTORELOAD_CHECK_INTERVAL):
            return None
        return cached.module

    def import_module(self, interp: Interpreter, name: str, autoreload: bool = True,
                      log: Optional[LogFn] = None, path: Optional[list[str]] = None,
                      directory: Optional[str] = None) -> types.ModuleType:
        """Import `name` for `interp`, looking first in `path` (or `directory`, then
        sys.path), re-executing it if autoreload finds its file changed. An absolute
        `/dir/file.py` is that file (mod_python 3.x's handlers and PythonImport by path)."""
        if name.startswith("/"):
            return self._import_file(interp, name, autoreload, log)
        lookup_key = (name, directory, tuple(path) if path is not None else None)
        cached = interp.lookups.get(lookup_key)
        if cached is None:
            search = list(path) if path is not None else _search_path(directory)
            location = _find_source(name, search)
            cached = interp.modules.get((name, location))
            if cached is not None and not (autoreload and _changed(cached)):
                interp.lookups[lookup_key] = cached
                return cached.module
        else:  # the usual request: found by its lookup key, already remembered
            location = cached.location
            if not (autoreload and _changed(cached)):
                return cached.module
        if log is not None:
            where = f" with path set to '{path}'" if path is not None else ""
            log(f"mod_python: (Re)importing module '{name}'{where}")
        cached = self._load(name, location, previous=cached)
        interp.modules[(name, location)] = cached
        interp.lookups[lookup_key] = cached
        return cached.module

    def _import_file(self, interp: Interpreter, location: str, autoreload: bool,
                     log: Optional[LogFn]) -> types.ModuleType:
        """A module given as its file: named after the path (as mod_python's `_mp_` + md5
        of the path), so two files called handler.py stay two modules."""
        cached = interp.modules.get((location, location))
        if cached is not None and not (autoreload and _changed(cached)):
            return cached.module
        if not os.path.isfile(location):
            raise ImportError(f"No module file {location}", path=location)
        if log is not None:
            log(f"mod_python: (Re)importing module '{location}'")
        name = "_mp_" + hashlib.md5(location.encode(), usedforsecurity=False).hexdigest()
        cached = self._load(name, location, previous=cached)
        interp.modules[(location, location)] = cached
        return cached.module

    def is_module_file(self, filename: str) -> bool:
        """Whether `filename` is the source of a module a handler loaded (in any
        interpreter), its bytecode in __pycache__, or an editor backup of it (`x.py~`,
        `x.py.bak`, `x.py.orig`, `x.py.swp`). Only asked for such names, so rarely."""
        source = _source_of(filename)
        loaded = {os.path.realpath(cached.path)
                  for interp in self.interpreters.values()
                  for cached in interp.modules.values() if cached.path}
        return os.path.realpath(source) in loaded

    def _load(self, name: str, location: Optional[str], previous: Optional[_Cached]) -> _Cached:
        if location is None:
            module = _import_dotted(name, reload=previous is not None)
            path = getattr(module, "__file__", None)
        else:
            module, path = _exec_file(name, location), location
        now = time.monotonic()
        return _Cached(module, location, path, _mtime(path), now)


_BACKUP_SUFFIXES = ("~", ".bak", ".orig", ".swp")


def _source_of(filename: str) -> str:
    """The module source a bytecode or backup file stands for (itself otherwise)."""
    if "/__pycache__/" in filename and filename.endswith((".pyc", ".pyo")):
        try:
            return importlib.util.source_from_cache(filename)
        except ValueError:
            return filename
    for suffix in _BACKUP_SUFFIXES:
        if filename.endswith(suffix):
            return filename[:-len(suffix)]
    return filename


def _search_path(directory: Optional[str]) -> list[str]:
    if directory:
        return [directory.rstrip("/") or "/"] + [p for p in sys.path if p]
    return [p for p in sys.path if p]


def _find_source(name: str, search: list[str]) -> Optional[str]:
    """A plain (undotted) module's .py file, or a package's __init__.py; None for
    dotted names and for modules found only by the regular import system."""
    if "." in name:
        return None
    for entry in search:
        candidate = os.path.join(entry or ".", name + ".py")
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
        package = os.path.join(entry or ".", name, "__init__.py")
        if os.path.isfile(package):
            return os.path.abspath(package)
    return None


def _exec_file(name: str, location: str) -> types.ModuleType:
    is_package = location.endswith("__init__.py")
    spec = importlib.util.spec_from_file_location(
        name, location,
        submodule_search_locations=[os.path.dirname(location)] if is_package else None)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {location}")
    module = importlib.util.module_from_spec(spec)
    # Registered so pickling, `import name` from other modules and tracebacks work; the
    # cache above is what dispatch uses, so a same-named file elsewhere cannot take over.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _import_dotted(name: str, reload: bool) -> types.ModuleType:
    module = importlib.import_module(name)
    if reload:
        module = importlib.reload(module)
    return module


def _mtime(path: Optional[str]) -> float:
    if not path:
        return 0.0
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _changed(cached: _Cached) -> bool:
    """At most once a second per module: has its file's mtime moved?"""
    now = time.monotonic()
    if now - cached.checked < AUTORELOAD_CHECK_INTERVAL:
        return False
    cached.checked = now
    return _mtime(cached.path) != cached.mtime


_MISSING = object()


def resolve_object(module: types.ModuleType, dotted: str, arg: object = None,
                   silent: bool = False) -> object:
    """Walk `a.b.c` from `module`; when a parent on the way is a class, instantiate it
    with `arg` and continue from the instance (mod_python's resolve_object)."""
    if "." not in dotted:  # the usual `handler`: no class on the way to instantiate
        obj = getattr(module, dotted, _MISSING)
        if obj is not _MISSING:
            return obj
    obj = module
    parent: object = None
    for part in dotted.split("."):
        if parent is not None and isinstance(obj, type):
            obj = obj(arg)
        parent = obj
        if not hasattr(obj, part):
            if silent:
                return None
            where = getattr(module, "__file__", module.__name__)
            raise AttributeError(f"module '{where}' contains no '{part}'")
        obj = getattr(obj, part)
    return obj
