"""mod_python.cache: the small caches mod_python 3.5 ships (Nicolas Lehuen's recipe).

Owns the public classes handlers import: `Cache` (an optional LRU bound, thread-safe, a
value built on first use and rebuilt when `check()` says it is stale), `WeakCache`,
`FileCache` (a file's content, rebuilt when its mtime changes), `ModuleCache` (a script
executed as a module outside sys.modules), `HTTPCache`/`HttpModuleCache` (a URL's entity,
revalidated with its ETag/Last-Modified and kept for its max-age/Expires), `FunctionCache`
(memoization) and `parseRFC822Time`. Must not depend on the server: plain Python, usable
from any handler.
"""

from __future__ import annotations

import re
import threading
import time
import types
import urllib.error
import urllib.request
import weakref
from collections import OrderedDict
from email.utils import parsedate
from typing import Any, Callable, Optional

NOT_INITIALIZED = object()


class Entry:
    """One cached value with its own lock (building one entry never blocks the others)."""

    def __init__(self, key: Any) -> None:
        self._key = key
        self._value: Any = NOT_INITIALIZED
        self._lock = threading.Lock()


class Cache:
    """A cache of `build()`'s results by key; `max_size` > 0 keeps only the most recently
    used entries."""

    def __init__(self, max_size: int = 0) -> None:
        self._maxsize = max_size
        self._dict: OrderedDict[Any, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __setitem__(self, name: Any, value: Any) -> None:
        entry = self._get_entry(self.key(name))
        with entry._lock:
            self._pack(entry, value)
            self.commit()

    def __getitem__(self, name: Any) -> Any:
        return self._checkitem(name)[2]

    def __delitem__(self, name: Any) -> None:
        with self._lock:
            del self._dict[self.key(name)]

    def _get_entry(self, key: Any) -> Entry:
        with self._lock:
            entry = self._dict.get(key)
            if entry is None:
                entry = self._dict[key] = Entry(key)
                if self._maxsize and len(self._dict) > self._maxsize:
                    self._dict.popitem(last=False)  # the least recently used
            elif self._maxsize:
                self._dict.move_to_end(key)
            return entry

    def _checkitem(self, name: Any) -> tuple[bool, Any, Any, Entry]:
        """(rebuilt, key, value, entry) for `name`, building the value when needed."""
        key = self.key(name)
        entry = self._get_entry(key)
        with entry._lock:
            value = self._unpack(entry)
            opened = self.check(key, name, entry)
            if value is NOT_INITIALIZED or opened is not None:
                value = self.build(key, name, opened, entry)
                self._pack(entry, value)
                self.commit()
                return True, key, value, entry
            return False, key, value, entry

    def mru(self) -> Any:
        """The most recently used key (None for an unbounded cache)."""
        with self._lock:
            return next(reversed(self._dict)) if self._maxsize and self._dict else None

    def lru(self) -> Any:
        """The least recently used key (None for an unbounded cache)."""
        with self._lock:
            return next(iter(self._dict)) if self._maxsize and self._dict else None

    def key(self, name: Any) -> Any:
        """The key for the name given to []; override to normalise names."""
        return name

    def commit(self) -> None:
        """Called after each change (override to persist the cache)."""

    def clear(self) -> None:
        with self._lock:
            self._dict.clear()

    def check(self, key: Any, name: Any, entry: Entry) -> Any:
        """None when the entry is fresh, else an opened resource for `build()`."""
        return None

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        raise NotImplementedError()

    def _pack(self, entry: Entry, value: Any) -> None:
        entry._value = value

    def _unpack(self, entry: Entry) -> Any:
        return entry._value


class WeakCache(Cache):
    """Holds weak references: a value nobody else uses any more leaves the cache."""

    def _pack(self, entry: Entry, value: Any) -> None:
        entry._value = weakref.ref(value, lambda _ref: self._forget(entry._key))

    def _forget(self, key: Any) -> None:
        with self._lock:
            self._dict.pop(key, None)

    def _unpack(self, entry: Entry) -> Any:
        if entry._value is NOT_INITIALIZED:
            return NOT_INITIALIZED
        value = entry._value()
        return NOT_INITIALIZED if value is None else value


class FileCache(Cache):
    """A file's content by file name, read again when its modification time changes."""

    def __init__(self, max_size: int = 0, mode: str = "rb") -> None:
        super().__init__(max_size)
        self.mode = mode

    def check(self, key: Any, name: Any, entry: Entry) -> Any:
        import os

        mtime = os.stat(key).st_mtime
        if entry._value is not NOT_INITIALIZED and getattr(entry, "_timestamp", None) == mtime:
            return None
        entry._timestamp = mtime  # type: ignore[attr-defined]
        return open(key, self.mode)  # noqa: SIM115 - build() closes it

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        with opened:
            return opened.read()


def parseRFC822Time(text: str) -> float:  # noqa: N802 - mod_python's name
    parsed = parsedate(text)
    if parsed is None:
        raise ValueError(f"not an RFC 822 date: {text!r}")
    return time.mktime(parsed)


re_max_age = re.compile(r"max-age\s*=\s*(\d+)", re.I)


class HTTPEntity:
    """A fetched body and its response headers."""

    def __init__(self, entity: Any, metadata: dict[str, str]) -> None:
        self.entity = entity
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"HTTPEntity({self.entity!r}, {self.metadata})"

    def __str__(self) -> str:
        return str(self.entity)


class HTTPCache(Cache):
    """A URL's entity: kept for its Cache-Control max-age (or Expires - Date), then
    revalidated with If-None-Match / If-Modified-Since (304 keeps the cached one)."""

    def check(self, key: Any, name: Any, entry: Entry) -> Any:
        if time.time() < getattr(entry, "_expires", 0.0):
            return None
        request = urllib.request.Request(key)
        validator: Optional[tuple[str, str]] = getattr(entry, "_validator", None)
        if validator is not None and entry._value is not NOT_INITIALIZED:
            request.add_header(*validator)
        try:
            opened = urllib.request.urlopen(request)  # noqa: S310 - the handler's own URL
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return None
            raise
        self._note_freshness(entry, opened.info())
        return opened

    @staticmethod
    def _note_freshness(entry: Entry, headers: Any) -> None:
        match = re_max_age.search(headers.get("cache-control") or "")
        if match:
            entry._expires = time.time() + int(match.group(1))  # type: ignore[attr-defined]
        elif headers.get("date") and headers.get("expires"):
            try:
                lifetime = parseRFC822Time(headers["expires"]) - parseRFC822Time(headers["date"])
                entry._expires = time.time() + lifetime  # type: ignore[attr-defined]
            except ValueError:
                pass
        if headers.get("etag"):
            entry._validator = ("If-None-Match", headers["etag"])  # type: ignore[attr-defined]
        elif headers.get("last-modified"):
            entry._validator = ("If-Modified-Since",  # type: ignore[attr-defined]
                                headers["last-modified"])

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        with opened:
            return HTTPEntity(opened.read(), dict(opened.info()))


re_not_word = re.compile(r"\W+")


def _module_from(source: bytes | str, key: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(re_not_word.sub("_", key))
    module.__file__ = key
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - the cached script
    return module


class ModuleCache(FileCache):
    """A Python script, by file name, executed as a module (not put in sys.modules) and
    executed again when the file changes."""

    def __init__(self, max_size: int = 0) -> None:
        super().__init__(max_size, "rb")

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        with opened:
            return _module_from(opened.read(), key, key)


class HttpModuleCache(HTTPCache):
    """A Python script fetched from a URL, executed as a module (not in sys.modules)."""

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        with opened:
            return _module_from(opened.read().replace(b"\r\n", b"\n"), key, name)


class FunctionCache(Cache):
    """Memoizes `function` by its arguments (which must be hashable)."""

    def __init__(self, function: Callable[..., Any], max_size: int = 0) -> None:
        super().__init__(max_size)
        self.function = function

    def __call__(self, *args: Any, **kw: Any) -> Any:
        return self[args, tuple(kw.items())]

    def build(self, key: Any, name: Any, opened: Any, entry: Entry) -> Any:
        args, kw = key
        return self.function(*args, **dict(kw))
