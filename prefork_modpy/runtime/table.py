"""mod_python's ``mp_table`` (``apache.table``) in pure Python.

This module owns the multi-valued, case-insensitive string table used for
``req.headers_in``, ``headers_out``, ``err_headers_out``, ``subprocess_env``,
``notes`` and the config/option tables.  Semantics follow mod_python 3.5's
``tableobject.c`` on top of an APR table (spec section 3.3):

* lookups, ``in`` and ``del`` ignore ASCII case; a stored key keeps the case it
  was first written with (``t['a'] = x`` on an existing ``'A'`` keeps ``'A'``);
* ``t[k] = v`` replaces every value of ``k`` in place of the first one,
  ``t.add(k, v)`` appends a duplicate; ``t[k]`` is the value, or a list when there
  are several; ``get`` returns the first; ``getall``/``get_all`` return a list;
* keys and values must be ``str`` (Latin-1 range) or ``bytes`` (decoded Latin-1),
  anything else raises ``TypeError('not an ISO-8859-1 string')``;
* the constructor and ``update`` ``str()`` the items of other mappings/pair lists;
* ``len``, ``keys()``, ``values()``, ``items()`` include duplicates, in order;
* ``del t[missing]`` is silently ignored (``apr_table_unset``), ``popitem`` pops
  the oldest entry, ``repr`` lists entries newest first like the C code, and
  ``==`` compares a dict built from the table (``{key: t[key]}``) by content.

Layout (why it is fast enough for every request): ``_entries`` is the ordered list
of ``[key, value]`` cells and ``_index`` maps the folded key to the cells of that
key, in order.  Single-value get/set are one dict lookup plus a cell access;
only deletion and multi-value replacement walk the entry list.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple, Union

__all__ = ["Table"]

_TYPE_ERROR = "not an ISO-8859-1 string"

# APR compares keys with strcasecmp, i.e. ASCII-only case folding.  str.lower()
# also folds non-ASCII letters, so non-ASCII keys go through this table instead.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}

StrLike = Union[str, bytes]


def _as_str(obj: object) -> str:
    """Validate/convert one key or value the way MP_ANYSTR_AS_STR does."""
    if isinstance(obj, str):
        if obj.isascii():
            # str.__str__ gives an exact str even for subclasses overriding __str__
            return obj if type(obj) is str else str.__str__(obj)
        try:
            obj.encode("latin-1")
        except UnicodeEncodeError:
            raise TypeError(_TYPE_ERROR) from None
        return str.__str__(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).decode("latin-1")
    raise TypeError(_TYPE_ERROR)


def _fold(key: str) -> str:
    """Case-fold an already validated key for the index."""
    return key.lower() if key.isascii() else key.translate(_ASCII_LOWER)


def _lookup_key(key: object) -> str:
    """Folded index key for any accepted key type (slow path of lookups)."""
    return _fold(_as_str(key))


def _str_item(obj: object) -> str:
    """Conversion applied by the constructor/update: str() unless already a string."""
    if isinstance(obj, (str, bytes, bytearray)):
        return _as_str(obj)
    return _as_str(str(obj))


Cell = List[str]  # [key, value]; mutable so set() can replace the value in place


class Table:
    """A case-insensitive, multi-valued string table (mod_python's ``mp_table``)."""

    __slots__ = ("_entries", "_index")
    __hash__ = None  # type: ignore[assignment]  # mp_table objects are unhashable

    def __init__(self, items: Any = None, **kwargs: Any) -> None:
        self._entries: List[Cell] = []
        self._index: dict[str, List[Cell]] = {}
        if items is not None:
            self._merge(items)
        if kwargs:
            self._merge(kwargs)

    # -- fast constructors and wire access (used by the server, not by handlers) --

    @classmethod
    def _from_pairs(cls, pairs: Iterable[Tuple[str, str]], merge: bool = False) -> Table:
        """Build a table from already validated ``(str, str)`` pairs, skipping checks.

        With ``merge=True`` repeated names are joined with ``", "`` into the first
        occurrence, as httpd does for request headers (``X-Multi: a, b``)."""
        self = cls.__new__(cls)
        entries: List[Cell] = []
        index: dict[str, List[Cell]] = {}
        for key, value in pairs:
            lk = key.lower() if key.isascii() else key.translate(_ASCII_LOWER)
            cells = index.get(lk)
            if cells is None:
                cell = [key, value]
                entries.append(cell)
                index[lk] = [cell]
            elif merge:
                cells[0][1] = cells[0][1] + ", " + value
            else:
                cell = [key, value]
                entries.append(cell)
                cells.append(cell)
        self._entries = entries
        self._index = index
        return self

    def items_for_wire(self) -> List[Tuple[str, str]]:
        """``(name, value)`` pairs in insertion order, duplicates included, for sending."""
        return [(k, v) for k, v in self._entries]

    # -- mapping protocol --

    def __getitem__(self, key: StrLike) -> Union[str, List[str]]:
        if type(key) is str and key.isascii():
            cells = self._index.get(key.lower())
        else:
            cells = self._index.get(_lookup_key(key))
        if cells is None:
            raise KeyError(key)
        if len(cells) == 1:
            return cells[0][1]
        return [c[1] for c in cells]

    def __setitem__(self, key: StrLike, value: StrLike) -> None:
        # inlined apr_table_set: this is the hot path of headers_out
        if type(key) is str and key.isascii():
            lk = key.lower()
        else:
            key = _as_str(key)
            lk = _fold(key)
        if type(value) is not str or not value.isascii():
            value = _as_str(value)
        cells = self._index.get(lk)
        if cells is None:
            cell = [key, value]
            self._entries.append(cell)
            self._index[lk] = [cell]
        elif len(cells) == 1:
            cells[0][1] = value
        else:
            self._replace_all(cells, value)

    def _set(self, key: str, value: str) -> None:
        """apr_table_set on validated strings: replace the first cell, drop the rest."""
        lk = key.lower() if key.isascii() else key.translate(_ASCII_LOWER)
        cells = self._index.get(lk)
        if cells is None:
            cell = [key, value]
            self._entries.append(cell)
            self._index[lk] = [cell]
        else:
            self._replace_all(cells, value)

    def _replace_all(self, cells: List[Cell], value: str) -> None:
        """Put ``value`` in the first cell of a key and remove its other cells."""
        cells[0][1] = value
        if len(cells) > 1:
            extra = {id(c) for c in cells[1:]}
            self._entries = [c for c in self._entries if id(c) not in extra]
            del cells[1:]

    def __delitem__(self, key: StrLike) -> None:
        # apr_table_unset: deleting a missing key is not an error in mod_python.
        cells = self._index.pop(_lookup_key(key), None)
        if cells is None:
            return
        if len(cells) == 1 and self._entries[-1] is cells[0]:
            self._entries.pop()
            return
        gone = {id(c) for c in cells}
        self._entries = [c for c in self._entries if id(c) not in gone]

    def __contains__(self, key: object) -> bool:
        if type(key) is str and key.isascii():
            return key.lower() in self._index
        return _lookup_key(key) in self._index

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return self._iter(lambda c: c[0])

    def _iter(self, select: Callable[[Cell], Any]) -> Iterator[Any]:
        entries = self._entries
        size = len(entries)
        pos = 0
        while True:
            # like tableiter_next: mutation during iteration is an error
            if self._entries is not entries or len(entries) != size:
                raise RuntimeError("table changed size during iteration")
            if pos >= size:
                return
            yield select(entries[pos])
            pos += 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self._as_dict() == other._as_dict()
        if isinstance(other, dict):
            return self._as_dict() == other
        if hasattr(other, "keys"):
            try:
                return self._as_dict() == {k: other[k] for k in other.keys()}  # type: ignore[index]
            except Exception:
                return NotImplemented
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def _as_dict(self) -> dict[str, Union[str, List[str]]]:
        """What PyDict_Merge(dict, table, 0) yields: first spelling of a key wins."""
        result: dict[str, Union[str, List[str]]] = {}
        for key, _value in self._entries:
            if key not in result:
                result[key] = self[key]
        return result

    def __repr__(self) -> str:
        # tableobject.c walks the APR array from the end, so the newest entry is first.
        body = ", ".join(f"{k!r}: {v!r}" for k, v in reversed(self._entries))
        return "{" + body + "}"

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (self.__class__._from_pairs, (self.items_for_wire(),))

    # -- dict-like methods of mp_table --

    def get(self, key: StrLike, default: Any = None) -> Any:
        """First value of ``key``, or ``default``."""
        if type(key) is str and key.isascii():
            cells = self._index.get(key.lower())
        else:
            cells = self._index.get(_lookup_key(key))
        return default if cells is None else cells[0][1]

    def getall(self, key: StrLike, default: Any = None) -> List[str]:
        """Every value of ``key`` in order; ``[]`` (or ``default``) when absent."""
        cells = self._index.get(_lookup_key(key))
        if cells is None:
            return [] if default is None else default
        return [c[1] for c in cells]

    get_all = getall

    def has_key(self, key: StrLike) -> int:
        return 1 if key in self else 0

    def add(self, key: StrLike, value: StrLike) -> None:
        """Append a value without touching existing ones (apr_table_add)."""
        key = _as_str(key)
        value = _as_str(value)
        cell = [key, value]
        self._entries.append(cell)
        lk = _fold(key)
        cells = self._index.get(lk)
        if cells is None:
            self._index[lk] = [cell]
        else:
            cells.append(cell)

    def keys(self) -> List[str]:
        return [c[0] for c in self._entries]

    def values(self) -> List[str]:
        return [c[1] for c in self._entries]

    def items(self) -> List[Tuple[str, str]]:
        return [(k, v) for k, v in self._entries]

    def iterkeys(self) -> Iterator[str]:
        return self._iter(lambda c: c[0])

    def itervalues(self) -> Iterator[str]:
        return self._iter(lambda c: c[1])

    def iteritems(self) -> Iterator[Tuple[str, str]]:
        return self._iter(lambda c: (c[0], c[1]))

    def update(self, other: Any = None, **kwargs: Any) -> None:
        """Set (replace) every item of a mapping or ``(key, value)`` sequence."""
        if other is None and not kwargs:
            raise AttributeError("'NoneType' object has no attribute 'keys'")
        if other is not None:
            self._merge(other)
        if kwargs:
            self._merge(kwargs)

    def _merge(self, other: Any) -> None:
        if hasattr(other, "keys"):
            # errors raised by a user's keys()/iteration/__getitem__ propagate as is
            for key in other.keys():
                skey = _str_item(key)
                self._set(skey, _str_item(other[key]))
            return
        for i, item in enumerate(other):
            try:
                pair = tuple(item)
            except TypeError:
                raise TypeError(
                    f"cannot convert table update sequence element #{i} to a sequence"
                ) from None
            if len(pair) != 2:
                raise ValueError(
                    f"table update sequence element #{i} has length {len(pair)}; 2 is required"
                )
            self._set(_str_item(pair[0]), _str_item(pair[1]))

    def copy(self) -> Table:
        """A new table (same class) with the same entries, duplicates preserved."""
        entries = self._entries
        if len(entries) != len(self._index):  # a key twice: cells shared by one index key
            return self.__class__._from_pairs(self.items_for_wire())
        new = self.__class__.__new__(self.__class__)
        cells = [cell[:] for cell in entries]
        index = {}
        for cell in cells:
            key = cell[0]
            index[key.lower() if key.isascii() else key.translate(_ASCII_LOWER)] = [cell]
        new._entries, new._index = cells, index
        return new

    def setdefault(self, key: StrLike, default: Optional[StrLike] = None) -> str:
        """First value of ``key``; if absent store ``default`` (``''`` if omitted)."""
        found = self.get(key)
        if found is not None:
            return found
        value = "" if default is None else _as_str(default)
        self._set(_as_str(key), value)
        return value

    def pop(self, key: StrLike, *default: Any) -> Any:
        """Remove ``key`` and return its value(s) (an extension; mp_table lacks it)."""
        try:
            value = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return value

    def popitem(self) -> Tuple[str, str]:
        """Remove and return the oldest entry (``elts[0]`` in tableobject.c)."""
        if not self._entries:
            raise KeyError("popitem(): table is empty")
        cell = self._entries.pop(0)
        lk = _fold(cell[0])
        cells = self._index[lk]
        # the oldest entry overall is necessarily the oldest cell of its key
        if len(cells) == 1:
            del self._index[lk]
        else:
            del cells[0]
        return (cell[0], cell[1])

    def clear(self) -> None:
        self._entries = []
        self._index = {}


# Handlers see mod_python's type name (`type(req.headers_in).__name__ == 'mp_table'`); the
# alias keeps pickling by qualified name working.
Table.__name__ = Table.__qualname__ = "mp_table"
mp_table = Table
