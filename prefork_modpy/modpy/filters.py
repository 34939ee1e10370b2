"""Python filters: `PythonOutputFilter`/`PythonInputFilter` and the `mp_filter` object.

Owns mod_python's filter protocol (filterobject.c, apache.FilterDispatch): a registered
filter `NAME` runs `module::outputfilter` (or `inputfilter`) with a filter object whose
`read()` gives the bytes that reached it (`b""` when this batch is used up, None at the end
of the stream), `write()` passes bytes (or str, as UTF-8) on, `close()` ends the stream,
`pass_on()` forwards what is left and `disable()` turns the filter into a pass-through. An
exception is logged like a handler's (and shown when PythonDebug is On) and disables the
filter. Filters are activated by `SetOutputFilter`/`SetInputFilter`, by extension with
`AddOutputFilter`/`AddInputFilter`, or per request with `req.add_output_filter(name)` after
an optional `req.register_output_filter(name, "mod::func")`.

How it meets the request: an output filter chain sees each batch of output when the
request pushes it (a `flush()`, a large response, the end); an input filter chain reads the
whole request body on the first `req.read()`. Requests without filters never reach this
module: the request's push and body-read methods are only replaced when a filter is added.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Optional

from mod_python import apache

from ..config.directives import HandlerEntry

if TYPE_CHECKING:
    from .request import Request

# Enough rounds for a filter that reads a little per call; a filter that neither reads
# nor closes is not called again.
_MAX_ROUNDS = 10_000


class mp_filter:  # noqa: N801 - mod_python's type name
    """What a filter function receives."""

    def __init__(self, req: Request, name: str, entry: HandlerEntry, is_input: bool) -> None:
        self.req = req
        self.name = name.lower()  # httpd registers filter names in lower case
        self.handler = entry.token
        self.dir = entry.directory
        self.is_input = int(is_input)
        self.closed = 0
        self.softspace = 0
        self._entry = entry
        self._in = b""
        self._eos = False
        self._out: list[bytes] = []
        self._disabled = False

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed filter")

    def read(self, length: int = -1) -> Optional[bytes]:
        self._check_open()
        if not self._in:
            if self._eos:
                self._eos = False  # the EOS bucket is consumed by the read that sees it
                return None
            return b""
        size = len(self._in) if length < 0 else length
        data, self._in = self._in[:size], self._in[size:]
        return data

    def readline(self, length: int = -1) -> Optional[bytes]:
        self._check_open()
        end = self._in.find(b"\n") + 1 or len(self._in)
        return self.read(end if length < 0 else min(end, length))

    def write(self, data: Any) -> None:
        self._check_open()
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("argument 1 must be str or bytes-like object")
        if data:
            self._out.append(bytes(data))

    def flush(self) -> None:
        self._check_open()

    def close(self) -> None:
        if not self.closed:
            self.closed = 1

    def pass_on(self) -> None:
        """Forward what is left of this batch unchanged."""
        self._out.append(self._in)
        self._in = b""

    def disable(self) -> None:
        self._disabled = True


def run_stage(stage: mp_filter, data: bytes, eos: bool) -> tuple[bytes, bool]:
    """One filter over one batch: (what it passed on, whether it passed the end)."""
    if stage.closed:
        return b"", False
    if stage._disabled:
        return data, eos
    stage._in, stage._eos = data, eos
    rounds = 0
    while not stage.closed and not stage._disabled and rounds < _MAX_ROUNDS:
        before = (len(stage._in), stage._eos)
        if not _call(stage) or (len(stage._in), stage._eos) == before:
            break  # failed, or made no progress: do not spin
        if not stage._in and not stage._eos:
            break
        rounds += 1
    if stage._disabled:  # disabled on the way (or by an error): pass the rest through
        stage._out.append(stage._in)
        stage._in = b""
    out = b"".join(stage._out)
    stage._out = []
    return out, bool(stage.closed) or (stage._disabled and eos)


def _call(stage: mp_filter) -> bool:
    """FilterDispatch: call the filter function; an error is reported and disables it."""
    req = stage.req
    runtime = req._runtime
    settings = req._settings
    config = settings.python_config if settings is not None else {}
    try:
        function = runtime.dispatcher._resolve(req, stage._entry, config, arg=stage)
        function(stage)
        return True
    except Exception as exc:
        # mod_python names the filter where a handler's phase would be; what the filter
        # had not read of this batch is lost, later batches pass through.
        stage._disabled = True
        stage._in = b""
        runtime.dispatcher.report_error(req, stage.name, stage._entry.token, exc, False)
        if config.get("PythonDebug") == "1":
            if not req._streaming and not req._raw.headers_sent:
                req.status = apache.HTTP_INTERNAL_SERVER_ERROR
                req.content_type = "text/html"
            stage._out.append(debug_block(stage.name, stage._entry.token, exc))
        return False


def run_chain(stages: list[mp_filter], data: bytes, eos: bool) -> bytes:
    for stage in stages:
        data, eos = run_stage(stage, data, eos)
    return data


# -- activation ---------------------------------------------------------------------------


def registered(req: Request, name: str, is_input: bool) -> Optional[HandlerEntry]:
    """The filter `name`: registered for this request, else by the configuration."""
    own = req._filter_registry.get((name.lower(), is_input)) if req._filter_registry else None
    if own is not None:
        return own
    settings = req._settings
    if settings is None:
        return None
    table = settings.input_filters if is_input else settings.output_filters
    return table.get(name.lower())


def register(req: Request, name: str, handler: str, directory: Optional[str],
             is_input: bool) -> None:
    """req.register_output_filter(name, 'mod::func'[, dir])."""
    module, _, obj = handler.partition("::")
    if directory is not None:
        directory = os.path.join(os.path.abspath(directory), "")
    entry = HandlerEntry(handler, module, obj or ("inputfilter" if is_input else
                                                  "outputfilter"), directory, False)
    registry = dict(req._filter_registry or {})
    registry[(name.lower(), is_input)] = entry
    req._filter_registry = registry


def add(req: Request, name: str, is_input: bool) -> None:
    """Insert filter `name` for this request (req.add_output_filter)."""
    entry = registered(req, name, is_input)
    if entry is None:
        raise ValueError(f"Unknown filter name {name!r} (prefork-modpy has Python filters "
                         "only)")
    stage = mp_filter(req, name, entry, is_input)
    if is_input:
        _add_input(req, stage)
    else:
        _add_output(req, stage)


def activate_configured(req: Request) -> None:
    """SetOutputFilter/AddOutputFilter (and the input forms) in effect for this request."""
    settings = req._settings
    if settings is None:
        return
    for is_input in (False, True):
        for name in configured_names(req, is_input):
            add(req, name, is_input)


def configured_names(req: Request, is_input: bool) -> list[str]:
    settings = req._settings
    assert settings is not None
    names = list(settings.set_input_filter if is_input else settings.set_output_filter)
    by_ext = settings.add_input_filters if is_input else settings.add_output_filters
    if by_ext and req.filename:
        from ..httpd.mime import extensions

        for ext in extensions(req.filename):
            names.extend(by_ext.get(ext, ()))
    return names


# -- output -------------------------------------------------------------------------------


def _add_output(req: Request, stage: mp_filter) -> None:
    if req._output_filters is None:
        req._output_filters = []
        req._push = functools.partial(_filtered_push, req)  # type: ignore[method-assign]
        req._finish_response = functools.partial(  # type: ignore[method-assign]
            _filtered_finish, req)
    req._output_filters.append(stage)


def _take(req: Request) -> bytes:
    body = b"".join(req._out)
    req._out.clear()
    req._out_len = 0
    return body


def _send(req: Request, data: bytes, streaming: bool) -> None:
    """Hand filtered bytes to the request's own push. Status and headers go out with
    the first batch, as httpd's header filter runs after the Python filters: a filter may
    still change them (Content-Encoding, Content-Length, a debug page's 500)."""
    from .request import Request as RequestClass

    if not req._streaming and not req._raw.headers_sent and req._frozen is not None \
            and not req._headers_final:
        req._freeze_headers()
    req._out.append(data)
    req._out_len = len(data)
    RequestClass._push(req, streaming)


def _filtered_push(req: Request, streaming: bool) -> None:
    _send(req, run_chain(req._output_filters, _take(req), eos=False), streaming)


def _filtered_finish(req: Request) -> None:
    if req._frozen is None:
        req._freeze_headers()
    data = run_chain(req._output_filters, _take(req), eos=True)
    streaming = req._streaming or (not data and not req._bytes_queued
                                   and req._raw.method == "HEAD")
    _send(req, data, streaming)
    req._raw.finish()


# -- input --------------------------------------------------------------------------------


def _add_input(req: Request, stage: mp_filter) -> None:
    if req._input_filters is None:
        req._input_filters = []
        req._read_body = functools.partial(_filtered_read, req)  # type: ignore[method-assign]
    req._input_filters.append(stage)


def _filtered_read(req: Request, size: int) -> bytes:
    """The body as the input filters left it, read whole on the first call."""
    from .request import Request as RequestClass

    if req._filtered_body is None:
        raw = RequestClass._read_body(req, -1)
        req._filtered_body = run_chain(req._input_filters, raw, eos=True)
    body = req._filtered_body
    size = len(body) if size < 0 else size
    data, req._filtered_body = body[:size], body[size:]
    return data


def debug_block(phase: str, token: str, exc: BaseException) -> bytes:
    """The PythonDebug page mod_python writes through a failed filter."""
    import html
    import traceback

    chunks = traceback.format_exception(type(exc), exc, exc.__traceback__)
    page = [f'\n<pre>\nMod_python error: "{phase} {token}"\n\n']
    page.extend(html.escape(chunk) + "\n" for chunk in chunks)
    page.append("</pre>\n")
    return "".join(page).encode("utf-8")

