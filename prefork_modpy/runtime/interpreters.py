"""Named interpreters inside one worker: one module namespace per interpreter name.

Owns what mod_python's sub-interpreters keep apart: `sys.modules`, `sys.path`,
`sys.meta_path`, `sys.path_hooks` and the attributes a handler adds to `sys`, one set per
interpreter name, installed into the running Python when a handler enters that name (one
request at a time per worker, so one namespace is live at a time). Shared by every name,
because their state is process-wide or the server hands their objects to handlers: built-in
and C extension modules, the modules CPython loads at startup (frozen), the import
machinery, `threading`, `copyreg`, `mod_python` and `prefork_modpy`. docs/architecture.md
("Named interpreters") gives the choice, its figures and its limits. Must not know about
requests, configuration or interpreter naming rules.
"""

from __future__ import annotations

import _imp
import importlib.abc
import importlib.machinery
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

# Top-level names whose modules every interpreter shares. mod_python and the server: one
# SERVER_RETURN, one request class. encodings/codecs: the codec registry is process-wide
# (encodings registers its search function on import). importlib: the import system itself.
# threading: threads are process-wide and interpreter exit joins through one module.
# copyreg: `_pickle` (a shared C module) keeps the dispatch table of the copy it imported.
SHARED_TOP_NAMES = frozenset({
    "mod_python", "prefork_modpy", "__main__", "encodings", "codecs", "importlib",
    "threading", "_threading_local", "copyreg", "site", "sitecustomize", "usercustomize",
    "_distutils_hack", "_virtualenv",
})

_EXTENSION = importlib.machinery.ExtensionFileLoader
_BUILTIN_OR_FROZEN = (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter)


def is_shared(name: str, module: Any) -> bool:
    """Whether every interpreter sees the same `module` under `name`."""
    if name.partition(".")[0] in SHARED_TOP_NAMES or name in sys.builtin_module_names:
        return True
    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None)
    # C extensions keep state per process (and PyO3 ones cannot be initialised twice);
    # frozen modules are CPython's startup set (os, io, abc, stat, _collections_abc...).
    return isinstance(loader, _EXTENSION) or loader in _BUILTIN_OR_FROZEN


@dataclass
class Namespace:
    """What one interpreter name owns while another one is installed."""

    name: Optional[str]  # None: the worker as it booted (the server's own modules)
    modules: dict[str, Any]  # its sys.modules, kept only while it is not installed
    path: list[str]
    meta_path: list[Any]
    path_hooks: list[Any]
    sys_attrs: dict[str, Any] = field(default_factory=dict)


class _SharedLoader(importlib.abc.Loader):
    """Gives an interpreter the shared module object instead of executing it again."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        # importlib's _init_module_attrs replaced __spec__ with ours: put the real one back.
        module.__spec__ = self.spec


class SharedFinder:
    """First on every interpreter's sys.meta_path: a shared module missing from the
    interpreter's namespace (loaded after the namespace was made) comes from the shared
    table; any other name is noted so the switch can promote it if it turns out shared."""

    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared
        self.attempted: set[str] = set()

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None
                  ) -> Optional[importlib.machinery.ModuleSpec]:
        module = self.shared.get(fullname)
        if module is None:
            self.attempted.add(fullname)
            return None
        return importlib.machinery.ModuleSpec(fullname, _SharedLoader(module),
                                              is_package=hasattr(module, "__path__"))

    def invalidate_caches(self) -> None:
        """importlib.invalidate_caches() calls this on every meta-path finder."""


class Namespaces:
    """The interpreters of one worker and the one installed now."""

    def __init__(self) -> None:
        self.shared: dict[str, Any] = {}
        self.finder = SharedFinder(self.shared)
        self._boot_sys_names = frozenset(sys.__dict__)
        self._boot_path = list(sys.path)
        self._boot_meta_path = list(sys.meta_path)
        self._boot_path_hooks = list(sys.path_hooks)
        self._by_name: dict[str, Namespace] = {}
        self.current = Namespace(None, {}, sys.path, sys.meta_path, sys.path_hooks)

    def enter(self, name: str) -> None:
        """Install `name`'s namespace in place of the current one (callers skip the call
        when the name is the current one: that is the hot path)."""
        target = self._by_name.get(name)
        # The global import lock: a handler's thread that misses a module while the
        # namespace is half installed waits in importlib's _get_module_lock, then re-reads
        # sys.modules (the new namespace).
        _imp.acquire_lock()
        try:
            self._save(self.current)
            if target is None:
                target = self._by_name[name] = self._create(name)
            self._install(target)
            self.current = target
        finally:
            _imp.release_lock()

    def _create(self, name: str) -> Namespace:
        """A fresh interpreter: the shared modules, the boot sys.path (mod_python's
        sub-interpreters start from the default path too)."""
        return Namespace(name, dict(self.shared), list(self._boot_path),
                         [self.finder, *self._boot_meta_path], list(self._boot_path_hooks))

    def _save(self, namespace: Namespace) -> None:
        modules = sys.modules
        namespace.modules = modules.copy()
        namespace.path, namespace.meta_path = sys.path, sys.meta_path
        namespace.path_hooks = sys.path_hooks
        added = sys.__dict__.keys() - self._boot_sys_names  # `sys.some_flag = 1` and such
        namespace.sys_attrs = {key: sys.__dict__.pop(key) for key in added}
        if namespace.name is None:
            candidates: Any = list(modules)  # the boot namespace: everything loaded so far
        else:
            candidates = self.finder.attempted
        for module_name in candidates:
            module = modules.get(module_name)
            if module is not None and module_name not in self.shared \
                    and is_shared(module_name, module):
                self.shared[module_name] = module
        self.finder.attempted = set()

    def _install(self, namespace: Namespace) -> None:
        modules = sys.modules  # the interpreter's own dict: it cannot be rebound
        modules.clear()
        modules.update(namespace.modules)
        namespace.modules = {}  # live in sys.modules now; a stale copy would pin old modules
        sys.path, sys.meta_path = namespace.path, namespace.meta_path
        sys.path_hooks = namespace.path_hooks
        sys.__dict__.update(namespace.sys_attrs)
