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

How it meets the request: the first output filter puts an `OutputFilters` sink in front of
the response, which then sees each batch of output when the response pushes it (a `flush()`,
a large response, the end); the first input filter gives the record an `InputFilters` chain
that reads the whole request body on the first `req.read()`. Requests without filters never
reach this module. Works on the request record; `modpy.request` calls in from above.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from mod_python import apache

from ..config.directives import HandlerEntry
from ..config.outputmods import DEFLATE
from ..httpd import include
from ..httpd.mime import extensions
from ..httpd.outfilters import HttpdOutput

if TYPE_CHECKING:
    from ..runtime.record import RequestRec, Response

# req.register_*_filter(): (lower-case name, is_input) -> the filter's handler entry.
Registry = dict[tuple[str, bool], HandlerEntry]

# -- mod_include -- the INCLUDES output filter (httpd/include.py), not a Python module
INCLUDES = HandlerEntry("INCLUDES", "", "", None, False)

# Enough rounds for a filter that reads a little per call; a filter that neither reads
# nor closes is not called again.
_MAX_ROUNDS = 10_000


class mp_filter:
    """What a filter function receives."""

    def __init__(self, req: RequestRec, name: str, entry: HandlerEntry, is_input: bool) -> None:
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


mp_filter.__module__ = "builtins"  # "<class 'mp_filter'>", as mod_python's C type


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
    runtime = req.runtime
    settings = req.per_dir_config
    config = settings.python_config if settings is not None else {}
    try:
        if stage._entry is INCLUDES:  # -- mod_include --
            function: Any = include.output_filter
        else:
            function = runtime.dispatcher.resolve(req, stage._entry, config, arg=stage)
        function(stage)
        return True
    except Exception as exc:
        # mod_python names the filter where a handler's phase would be; what the filter
        # had not read of this batch is lost, later batches pass through.
        stage._disabled = True
        stage._in = b""
        runtime.dispatcher.report_error(req, stage.name, stage._entry.token, exc, False)
        if config.get("PythonDebug") == "1":
            if not req.response.headers_sent:
                req.status = apache.HTTP_INTERNAL_SERVER_ERROR
                req.content_type = "text/html"
            stage._out.append(debug_block(stage.name, stage._entry.token, exc))
        return False


def run_chain(stages: list[mp_filter], data: bytes, eos: bool) -> bytes:
    for stage in stages:
        data, eos = run_stage(stage, data, eos)
    return data


# -- activation ---------------------------------------------------------------------------


def registered(req: RequestRec, registry: Optional[Registry], name: str,
               is_input: bool) -> Optional[HandlerEntry]:
    """The filter `name`: registered for this request, else by the configuration."""
    own = registry.get((name.lower(), is_input)) if registry else None
    if own is not None:
        return own
    settings = req.per_dir_config
    if settings is None:
        return None
    table = settings.input_filters if is_input else settings.output_filters
    entry = table.get(name.lower())
    if entry is None and not is_input and name.lower() == "includes":
        return INCLUDES  # httpd's own filter, unless a Python filter took the name
    return entry


def register(registry: Optional[Registry], name: str, handler: str, directory: Optional[str],
             is_input: bool) -> Registry:
    """req.register_output_filter(name, 'mod::func'[, dir]): the request's new registry."""
    module, _, obj = handler.partition("::")
    if directory is not None:
        directory = os.path.join(os.path.abspath(directory), "")
    entry = HandlerEntry(handler, module, obj or ("inputfilter" if is_input else
                                                  "outputfilter"), directory, False)
    updated = dict(registry or {})
    updated[(name.lower(), is_input)] = entry
    return updated


def add(req: RequestRec, registry: Optional[Registry], name: str, is_input: bool) -> None:
    """Insert filter `name` for this request (req.add_output_filter)."""
    if not is_input and name.lower() == DEFLATE and registered(req, registry, name,
                                                                is_input) is None:
        httpd_stage(req).deflate_named = True  # -- mod_deflate: httpd's own filter --
        return
    entry = registered(req, registry, name, is_input)
    if entry is None:
        raise ValueError(f"Unknown filter name {name!r} (prefork-modpy has Python filters "
                         "only)")
    stage = mp_filter(req, name, entry, is_input)
    if is_input:
        _add_input(req, stage)
    else:
        _add_output(req, stage)


def activate_configured(req: RequestRec, registry: Optional[Registry]) -> None:
    """SetOutputFilter/AddOutputFilter (and the input forms) in effect for this request."""
    settings = req.per_dir_config
    if settings is None:
        return
    for is_input in (False, True):
        for name in configured_names(req, is_input):
            add(req, registry, name, is_input)


def configured_names(req: RequestRec, is_input: bool) -> list[str]:
    settings = req.per_dir_config
    assert settings is not None
    names = list(settings.set_input_filter if is_input else settings.set_output_filter)
    by_ext = settings.add_input_filters if is_input else settings.add_output_filters
    if by_ext and req.filename:
        for ext in extensions(req.filename):
            names.extend(by_ext.get(ext, ()))
    return names


# -- output -------------------------------------------------------------------------------


class OutputFilters:
    """The response's output sink while output filters run: each batch goes through the
    chain, then to the engine with the first batch carrying the head. The head is taken
    again at that point, as httpd's header filter runs after the Python filters: a filter
    may still change it (Content-Encoding, Content-Length, a debug page's 500)."""

    def __init__(self) -> None:
        self.stages: list[mp_filter] = []
        self.next: Optional[HttpdOutput] = None  # httpd's filters after these (outfilters.py)

    def push(self, rec: RequestRec, response: Response, streaming: bool) -> None:
        self._send(rec, response, run_chain(self.stages, response.take(), eos=False),
                   streaming, last=False)

    def finish(self, rec: RequestRec, response: Response) -> None:
        data = run_chain(self.stages, response.take(), eos=True)
        streaming = response.streaming or (not data and not response.bytes_queued
                                           and rec.method == "HEAD")
        self._send(rec, response, data, streaming, last=True)
        response.raw.finish()

    def _send(self, rec: RequestRec, response: Response, data: bytes, streaming: bool,
              last: bool) -> None:
        if not response.headers_sent and response.head is not None \
                and not response.headers_final:
            response.head = rec.response_head()
        response.parts.append(data)  # after anything written while the chain ran
        if self.next is not None:
            self.next.feed(rec, response, response.take(), streaming, last)
        else:
            response.send(rec, response.take(), streaming)


def _add_output(req: RequestRec, stage: mp_filter) -> None:
    sink = req.response.sink
    if not isinstance(sink, OutputFilters):
        chain = req.response.sink = OutputFilters()
        chain.next = sink if isinstance(sink, HttpdOutput) else None
        sink = chain
    sink.stages.append(stage)


def httpd_stage(req: RequestRec) -> HttpdOutput:
    """httpd's output filters for this request, after the Python ones (created once)."""
    response = req.response
    sink = response.sink
    if isinstance(sink, HttpdOutput):
        return sink
    settings = req.per_dir_config
    assert settings is not None
    if isinstance(sink, OutputFilters):
        if sink.next is None:
            sink.next = HttpdOutput(settings)
        return sink.next
    stage = HttpdOutput(settings)
    response.sink = stage
    return stage


# -- input --------------------------------------------------------------------------------


class InputFilters:
    """The record's input chain: the body as the input filters left it, read whole on the
    first call."""

    def __init__(self) -> None:
        self.stages: list[mp_filter] = []
        self.body: Optional[bytes] = None

    def read(self, rec: RequestRec, size: int) -> bytes:
        if self.body is None:
            self.body = run_chain(self.stages, rec.read_unfiltered(-1), eos=True)
        body = self.body
        size = len(body) if size < 0 else size
        data, self.body = body[:size], body[size:]
        return data


def _add_input(req: RequestRec, stage: mp_filter) -> None:
    chain = req.input_chain
    if not isinstance(chain, InputFilters):
        chain = req.input_chain = InputFilters()
    chain.stages.append(stage)


def debug_block(phase: str, token: str, exc: BaseException) -> bytes:
    """The PythonDebug page mod_python writes through a failed filter."""
    import html
    import traceback

    chunks = traceback.format_exception(type(exc), exc, exc.__traceback__)
    page = [f'\n<pre>\nMod_python error: "{phase} {token}"\n\n']
    page.extend(html.escape(chunk) + "\n" for chunk in chunks)
    page.append("</pre>\n")
    return "".join(page).encode("utf-8")

