"""``mod_python.util`` for prefork-modpy: form parsing, redirects, argument binding.

This module owns ``FieldStorage`` (query string plus urlencoded or multipart POST
bodies), its ``Field``/``StringField``/``FieldList`` items, ``parse_qs``/``parse_qsl``,
``parse_header``, ``redirect`` and ``apply_fs_data`` (spec section 5.1).

Deliberate difference from mod_python 3.5 on Python 3 (spec sections 5.1, 7): names and
plain values are ``str`` everywhere -- query string, urlencoded body and multipart --
as they were on Python 2, which is what handlers were written for.  Plain values are
``StringField`` (a ``str`` subclass with ``.value``), uploads are ``Field`` objects whose
``.value``/``.file`` hold bytes.  Bytes are decoded as UTF-8 (``FieldStorage.encoding``
/ ``.errors`` may be overridden in a subclass).  ``parse_qs``/``parse_qsl`` return str for
str input and bytes for bytes input, and never corrupt keys (issues #117/#144).
"""

from __future__ import annotations

import html
import re
import tempfile
from io import BytesIO
from types import FunctionType, MethodType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from mod_python import apache
from mod_python._querystring import parse_qs, parse_qsl, parse_qsl_blocks

__all__ = [
    "Field", "FieldList", "FieldStorage", "StringField", "apply_fs_data", "parse_header",
    "parse_qs", "parse_qsl", "readBlockSize", "redirect",
]

# Longest line read at once while parsing multipart bodies (mod_python's value).
readBlockSize = 65368

# --------------------------------------------------------------------- query strings
# parse_qs and parse_qsl live in _querystring, which apache re-exports them from too.

def parse_header(line: bytes) -> Tuple[bytes, Dict[bytes, str]]:
    """Parse a Content-Type like header value: ``(main value lower-cased, options)``.

    Option names are lower-cased bytes, option values str (Latin-1), quotes stripped --
    the same shapes as mod_python 3.5."""
    if not isinstance(line, bytes):
        raise TypeError("parse_header() only accepts bytes")
    plist = [part.strip() for part in line.split(b";")]
    key = plist.pop(0).lower()
    pdict: Dict[bytes, str] = {}
    for part in plist:
        name, eq, value = part.partition(b"=")
        if not eq:
            continue
        value = value.strip()
        if len(value) >= 2 and value[:1] == value[-1:] == b'"':
            value = value[1:-1]
        pdict[name.strip().lower()] = value.decode("latin-1")
    return key, pdict


# --------------------------------------------------------------------------- fields


class Field:
    """One uploaded file (or a part given a file by ``field_callback``).

    ``.file`` holds the content; ``.value`` reads it all (bytes)."""

    filename: Optional[str] = None

    def __init__(self, name: Optional[str], *args: Any, **kwargs: Any) -> None:
        self.name = name
        # Old third-party code (e.g. Trac) builds Field(name, file, ctype, ...) itself.
        if args or kwargs:
            self.__bc_init__(*args, **kwargs)

    def __bc_init__(self, file: Any, ctype: str, type_options: Dict[Any, str],
                    disp: Optional[str], disp_options: Dict[Any, str],
                    headers: Any = None) -> None:
        self.file = file
        self.type = ctype
        self.type_options = type_options
        self.disposition = disp
        self.disposition_options = disp_options
        self.filename = disp_options.get("filename", disp_options.get(b"filename"))
        self.headers = {} if headers is None else headers

    def __getattr__(self, name: str) -> Any:
        # computed on each access (the file may change); an assigned .value wins
        if name != "value":
            raise AttributeError(name)
        file = self.__dict__.get("file")
        if not file:
            return None
        file.seek(0)
        data = file.read()
        file.seek(0)
        return data

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.value!r})"

    def __del__(self) -> None:
        file = self.__dict__.get("file")
        if file is not None:
            try:
                file.close()
            except Exception:
                pass


class StringField(str):
    """A plain form value: a ``str`` with ``.value``, ``.name`` and a lazy ``.file``."""

    filename = None
    headers: Dict[str, str] = {}
    type = "text/plain"
    ctype = "text/plain"
    type_options: Dict[Any, str] = {}
    disposition = None
    disposition_options: Dict[Any, str] = {}
    disp_options = None
    name: Optional[str] = None
    value: str

    def __new__(cls, value: Union[str, bytes] = "") -> StringField:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        self = super().__new__(cls, value)
        self.value = str.__str__(self)
        return self

    def __getattr__(self, name: str) -> Any:
        if name != "file":
            raise AttributeError(name)
        self.file = BytesIO(self.value.encode("utf-8"))
        return self.file

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.value!r})"


class FieldList(list):
    """The ordered list of fields, with a cached name -> [fields] table."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._table: Optional[Dict[str, List[Any]]] = None

    def table(self) -> Dict[str, List[Any]]:
        if self._table is None:
            table: Dict[str, List[Any]] = {}
            for item in self:
                table.setdefault(item.name, []).append(item)
            self._table = table
        return self._table

    def _changed(self) -> None:
        self._table = None


def _invalidating(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def wrapper(self: FieldList, *args: Any) -> Any:
        self._table = None
        return method(self, *args)

    wrapper.__name__ = name
    return wrapper


for _name in ("__delitem__", "__iadd__", "__imul__", "__setitem__", "append", "extend",
              "insert", "pop", "remove", "clear", "sort", "reverse"):
    setattr(FieldList, _name, _invalidating(_name))
del _name


# ---------------------------------------------------------------------- body reader


class _BodyReader:
    """``readline(limit)`` over ``req.read(n)`` blocks, never past Content-Length.

    Keeps a read offset into the buffer so a line costs O(line), not O(buffer)."""

    def __init__(self, req: Any, length: Optional[int]) -> None:
        self._req = req
        self._left = length  # None: chunked, read until req.read() returns b''
        self._buf = b""
        self._pos = 0
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        want = 65536 if self._left is None else min(65536, self._left)
        data = self._req.read(want) if want > 0 else b""
        if not isinstance(data, bytes):
            raise TypeError("req.read() must return bytes")
        if not data:
            self._eof = True
            return False
        if self._left is not None:
            self._left -= len(data)
        self._buf = self._buf[self._pos:] + data
        self._pos = 0
        return True

    def readline(self, limit: int) -> bytes:
        while True:
            buf, pos = self._buf, self._pos
            end = buf.find(b"\n", pos, pos + limit)
            if end >= 0:
                end += 1
                break
            if len(buf) - pos >= limit:
                end = pos + limit
                break
            if not self._fill():
                end = len(buf)
                break
        self._pos = end
        return buf[pos:end]

    def blocks(self) -> Iterator[bytes]:
        """The rest of the body, block by block as `req.read()` returns it."""
        if self._pos < len(self._buf):
            yield self._buf[self._pos:]
        self._buf, self._pos = b"", 0
        while self._fill():
            yield self._buf
            self._buf = b""


def _is_chunked(req: Any) -> bool:
    te = req.headers_in.get("transfer-encoding")
    return bool(te) and "chunked" in te.lower()


# --------------------------------------------------------------------- FieldStorage


class FieldStorage:
    """All form data of a request, read at construction (spec 5.1).

    Query-string fields come first, then -- for POST only -- the body fields."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, req: Any, keep_blank_values: Any = 0, strict_parsing: Any = 0,
                 file_callback: Optional[Callable[[str], Any]] = None,
                 field_callback: Optional[Callable[[], Any]] = None) -> None:
        self.list = FieldList()
        if req.args:
            for key, value in parse_qsl(req.args, keep_blank_values, strict_parsing):
                self.add_field(key, value)
        if req.method != "POST":
            return
        length = self._content_length(req)
        ctype = req.headers_in.get("content-type") or "application/x-www-form-urlencoded"
        ctype_b = ctype.encode("latin-1")
        reader = _BodyReader(req, length)
        if ctype_b.lower().startswith(b"application/x-www-form-urlencoded"):
            for key, value in parse_qsl_blocks(reader.blocks(), keep_blank_values,
                                               strict_parsing):
                self.add_field(self._decode(key), self._decode(value))
            return
        if not ctype_b.lower().startswith(b"multipart/"):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_IMPLEMENTED)
        boundary = self._boundary(ctype_b)
        self._read_multipart(reader, boundary, file_callback, field_callback)

    # -- construction helpers --

    @staticmethod
    def _content_length(req: Any) -> Optional[int]:
        """Content-Length, or None for a chunked body; 411 when neither is usable."""
        if _is_chunked(req):
            return None  # prefork-modpy de-chunks request bodies, unlike mod_python
        raw = req.headers_in.get("content-length")
        try:
            length = int(raw)
        except (TypeError, ValueError):
            raise apache.SERVER_RETURN(apache.HTTP_LENGTH_REQUIRED) from None
        if length < 0:
            raise apache.SERVER_RETURN(apache.HTTP_LENGTH_REQUIRED)
        return length

    @staticmethod
    def _boundary(ctype: bytes) -> re.Pattern:
        i = ctype.lower().rfind(b"boundary=")
        if i < 0:
            raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
        boundary = ctype[i + 9:].split(b";")[0].strip()
        if len(boundary) >= 2 and boundary[:1] == boundary[-1:] == b'"':
            boundary = boundary[1:-1]
        if not boundary:
            raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
        return re.compile(b"--" + re.escape(boundary) + b"(--)?\r?\n?$")

    def _decode(self, data: bytes) -> str:
        return data.decode(self.encoding, self.errors)

    def _read_multipart(self, reader: _BodyReader, boundary: re.Pattern,
                        file_callback: Optional[Callable[[str], Any]],
                        field_callback: Optional[Callable[[], Any]]) -> None:
        _read_to_boundary(reader, boundary, None)  # skip the preamble
        while True:
            line = reader.readline(readBlockSize)
            match = boundary.match(line)
            if not line or match:
                # an empty part or a truncated body: tolerated like mod_python
                if not line or match.group(1) is not None:  # type: ignore[union-attr]
                    return
                continue
            headers, interrupted = _read_part_headers(reader, boundary, line)
            if interrupted is not None:
                if interrupted:  # the body ended inside a header block
                    return
                continue
            field = self._new_field(headers, file_callback, field_callback)
            last = _read_to_boundary(reader, boundary, field.file)
            field.file.seek(0)
            if not isinstance(field, Field):
                field = self._string_field(field)
            self.list.append(field)
            if last:
                return

    def _new_field(self, headers: List[Tuple[bytes, bytes]],
                   file_callback: Optional[Callable[[str], Any]],
                   field_callback: Optional[Callable[[], Any]]) -> Any:
        """A Field for an upload, else a placeholder holding the metadata of a plain
        part; either way ``.file`` is where the part's content goes."""
        disp, disp_options = self._header_options(headers, b"content-disposition", b"")
        ctype, type_options = self._header_options(headers, b"content-type", b"text/plain")
        if b"/" not in ctype:
            ctype = b"application/octet-stream"  # MSIE 6 sends rubbish for suffixless files
        if "filename" in disp_options:
            field: Any = Field(disp_options.get("name"))
            field.filename = disp_options["filename"]
            field.file = (file_callback(field.filename) if callable(file_callback)
                          else tempfile.TemporaryFile("w+b"))
        else:
            field = _PartInfo()
            field.name = disp_options.get("name")
            field.file = field_callback() if callable(field_callback) else BytesIO()
        field.type = ctype.decode("latin-1")
        field.type_options = type_options
        field.disposition = disp.decode("latin-1") if disp else None
        field.disposition_options = disp_options
        field.headers = apache.table(headers)
        return field

    def _header_options(self, headers: List[Tuple[bytes, bytes]], wanted: bytes,
                        default: bytes) -> Tuple[bytes, Dict[str, str]]:
        for name, value in headers:
            if name.lower() == wanted:
                main, options = parse_header(value)
                # browsers send field names and filenames UTF-8 encoded (HTML5)
                return main, {k.decode("latin-1"): self._decode(v.encode("latin-1"))
                              for k, v in options.items()}
        return default, {}

    def _string_field(self, info: _PartInfo) -> StringField:
        data = info.file.read()
        info.file.seek(0)
        field = StringField(self._decode(data) if isinstance(data, bytes) else data)
        field.__dict__.update(vars(info))
        return field

    # -- mapping API --

    def add_field(self, key: Union[str, bytes], value: Union[str, bytes]) -> None:
        """Append a plain field."""
        item = StringField(value)
        item.name = key.decode(self.encoding, self.errors) if isinstance(key, bytes) else key
        self.list.append(item)

    def __setitem__(self, key: Union[str, bytes], value: Union[str, bytes]) -> None:
        if isinstance(key, bytes):
            key = self._decode(key)
        if not isinstance(key, str) or not isinstance(value, (str, bytes)):
            raise TypeError("Field name and value must be str (or bytes)")
        if key in self:
            del self[key]
        self.add_field(key, value)

    def __getitem__(self, key: str) -> Any:
        found = self.list.table()[key]
        return found[0] if len(found) == 1 else found

    def __delitem__(self, key: str) -> None:
        doomed = {id(item) for item in self.list.table()[key]}
        self.list[:] = [item for item in self.list if id(item) not in doomed]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except (TypeError, KeyError):
            return default

    def getfirst(self, key: str, default: Any = None) -> Any:
        """The first value received for ``key``."""
        found = self.list.table().get(key)
        return found[0] if found else default

    def getlist(self, key: str) -> List[Any]:
        """Every value received for ``key`` (``[]`` if none)."""
        return list(self.list.table().get(key, ()))

    def keys(self) -> List[str]:
        return list(self.list.table().keys())

    def __iter__(self) -> Any:
        return iter(self.keys())

    def has_key(self, key: str) -> bool:
        return key in self.list.table()

    __contains__ = has_key

    def __len__(self) -> int:
        return len(self.list.table())

    def items(self) -> List[Tuple[str, Any]]:
        """``(name, field)`` pairs in submission order."""
        return [(item.name, item) for item in self.list]

    def clear(self) -> None:
        self.list = FieldList()

    def __repr__(self) -> str:
        return repr(self.list.table())


class _PartInfo:
    """Metadata of a plain multipart part until its StringField is built."""

    file: Any


def _read_part_headers(reader: _BodyReader, boundary: re.Pattern,
                       line: bytes) -> Tuple[List[Tuple[bytes, bytes]], Optional[bool]]:
    """Read one part's header block, unfolding continuation lines.  Returns the raw
    ``(name, value)`` pairs and None, or -- when a boundary or the end of the body
    interrupts the block, so the part is skipped -- whether that ended the body."""
    headers: List[Tuple[bytes, bytes]] = []
    while line not in (b"\r\n", b"\n", b"\r"):
        nextline = reader.readline(readBlockSize)
        while nextline[:1] in (b" ", b"\t"):
            line = line.rstrip(b"\r\n") + b" " + nextline.lstrip()
            nextline = reader.readline(readBlockSize)
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip(), value.strip()))
        line = nextline
        match = boundary.match(line)
        if not line or match:
            return headers, (not line) or match.group(1) is not None  # type: ignore[union-attr]
    return headers, None


def _read_to_boundary(reader: _BodyReader, boundary: re.Pattern, file: Any) -> bool:
    """Copy lines to ``file`` until a boundary line.  True at the final boundary or at
    the end of the body.  The CRLF before a boundary belongs to the boundary, so each
    line's delimiter is written only once the next line shows it was data; a ``\\r``
    split from its ``\\n`` by the block size is handled the same way (mod_python's
    algorithm, exercised by upstream's embedded_cr/split_boundary tests)."""
    delim = b""
    while True:
        line = reader.readline(readBlockSize)
        if not line:
            if file is not None and delim:
                file.write(delim)
            return True
        match = boundary.match(line)
        if match:
            return match.group(1) is not None
        if line == b"\n" and delim == b"\r":
            delim = b"\r\n"
            continue
        if file is not None and delim:
            file.write(delim)
        if line.endswith(b"\r\n"):
            body, delim = line[:-2], b"\r\n"
        elif line.endswith(b"\r"):
            body, delim = line[:-1], b"\r"
        else:
            body, delim = line, b""
        if file is not None and body:
            file.write(body)


# -------------------------------------------------------------------------- redirect


def redirect(req: Any, location: str, permanent: Any = 0, text: Optional[str] = None) -> None:
    """Send a 301/302 to ``location`` and stop the request (``SERVER_RETURN(DONE)``)."""
    if not isinstance(location, str):
        raise TypeError("location must be of type str")
    if "\r" in location or "\n" in location:
        raise ValueError("location must not contain CR or LF (response splitting)")
    if req.sent_bodyct:
        raise OSError("Cannot redirect after headers have already been sent.")
    req.err_headers_out["Location"] = location
    req.status = apache.HTTP_MOVED_PERMANENTLY if permanent else apache.HTTP_MOVED_TEMPORARILY
    if text is None:
        # escaped: mod_python interpolates the raw location into the HTML
        text = f'<p>The document has moved <a href="{html.escape(location)}">here</a></p>\n'
    req.write(text)
    raise apache.SERVER_RETURN(apache.DONE)


# --------------------------------------------------------------------- apply_fs_data


def _expected_args(obj: Any) -> Tuple[Any, Tuple[str, ...]]:
    """(code object or None, accepted argument names) of a callable."""
    if isinstance(obj, FunctionType):
        return obj.__code__, _arg_names(obj.__code__, 0)
    if isinstance(obj, MethodType) and isinstance(obj.__func__, FunctionType):
        return obj.__func__.__code__, _arg_names(obj.__func__.__code__, 1)
    if isinstance(obj, type):
        # mod_python inspects the class's __init__ as found on the class, inherited or not.
        init = obj.__init__  # type: ignore[misc]
        if isinstance(init, FunctionType):
            return init.__code__, _arg_names(init.__code__, 1)
        return None, ()
    call = next((k.__dict__["__call__"] for k in type(obj).__mro__ if "__call__" in k.__dict__),
                None)
    if isinstance(call, FunctionType):  # an instance of a class defining __call__
        return call.__code__, _arg_names(call.__code__, 1)
    return None, ()  # builtins and C callables get no arguments


def _arg_names(code: Any, skip: int) -> Tuple[str, ...]:
    count = code.co_argcount + code.co_kwonlyargcount
    return tuple(code.co_varnames[skip:count])


def apply_fs_data(object: Any, fs: FieldStorage, **args: Any) -> Any:
    """Call ``object`` with the form fields it declares as arguments (publisher's
    argument matching): uploads are passed as Field objects, others as str values,
    single-element lists are collapsed, undeclared names are dropped unless the
    callable takes ``**kwargs``; builtins get no arguments."""
    code, expected = _expected_args(object)
    collected: Dict[str, List[Any]] = {}
    for field in fs.list:
        # the caller's own arguments (publisher's req) cannot be overridden by the form
        if field.name not in args:
            collected.setdefault(field.name, []).append(
                field if field.filename else field.value)
    call_args = {k: (v[0] if len(v) == 1 else v) for k, v in collected.items()}
    call_args.update(args)
    if code is None:
        call_args = {}
    elif not code.co_flags & 0x08:  # CO_VARKEYWORDS
        call_args = {k: v for k, v in call_args.items() if k in expected}
    return object(**call_args)
