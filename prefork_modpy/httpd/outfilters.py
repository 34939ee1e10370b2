"""httpd's own output filters after the Python ones: MOD_EXPIRES, DEFLATE, FIXUP_HEADERS_OUT.

Owns the response sink that runs them in httpd's order (CONTENT_SET-2, then the
CONTENT_SET filters in insertion order: DEFLATE by the core's insert_filter hook before
mod_headers' APR_HOOK_LAST one) when the first output passes: expires.py, deflate.py,
headers.py change the tables, then the head is taken again. Later batches are compressed
when DEFLATE chose to: each batch the response pushes is compressed and sync-flushed, so
streaming output stays streaming; the last carries the gzip trailer. A request whose
settings use none of these modules never gets this sink (DirSettings.httpd_output, decided
at config load). Python output filters hand their output here (modpy/filters.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from . import deflate, expires, headers

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec, Response

# What httpd's header filter removes from a 204 or 304 (static.py has the same set).
_CONTENT_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding",
                              "content-encoding", "content-language"})


class HttpdOutput:
    """The response's sink (or the Python filters' next stage) for one request."""

    def __init__(self, settings: DirSettings) -> None:
        self.settings = settings
        self.deflate_named = False  # SetOutputFilter/AddOutputFilter/add_output_filter
        self.started = False
        self.gzip: Any = None  # _core.GzipStream once DEFLATE compresses

    @property
    def may_change_body(self) -> bool:
        """Whether the body must pass through Python (DEFLATE may compress it)."""
        return self.deflate_named or bool(self.settings.deflate_types)

    # -- OutputSink ---------------------------------------------------------------------------

    def push(self, rec: RequestRec, response: Response, streaming: bool) -> None:
        self.feed(rec, response, response.take(), streaming, last=False)

    def finish(self, rec: RequestRec, response: Response) -> None:
        data = response.take()
        streaming = response.streaming or (not data and not response.bytes_queued
                                           and rec.method == "HEAD")
        self.feed(rec, response, data, streaming, last=True)
        response.raw.finish()

    # -- the filters --------------------------------------------------------------------------

    def feed(self, rec: RequestRec, response: Response, data: bytes, streaming: bool,
             last: bool) -> None:
        """One batch from the handler (or the Python filters) on to the engine."""
        if not self.started:
            self.started = True
            if not response.headers_sent and not response.headers_final:
                self.start(rec, response, len(data) if last else None)
        gzip = self.gzip
        if gzip is not None:
            data = gzip.finish(data) if last else gzip.compress(data, True)
            if last and rec.header_only and not response.headers_sent \
                    and response.head is not None:
                # httpd's content-length filter counts the compressed bytes of a HEAD
                status, line, items = response.head
                response.head = (status, line, [*items, ("Content-Length", str(len(data)))])
        response.send(rec, data, streaming)

    def start(self, rec: RequestRec, response: Response, whole_size: Optional[int]) -> None:
        """The first output: the filters change the tables, the head is taken again."""
        settings = self.settings
        if settings.expires_active:
            expires.apply(rec, settings)
        if self.deflate_named or deflate.by_type(rec, settings):
            self.gzip = deflate.start(rec, whole_size)
        if settings.header_actions:
            headers.fixup_output(rec, settings.header_actions)
        status, line, items = rec.response_head()
        if status in (204, 304):
            items = [(name, value) for name, value in items
                     if name.lower() not in _CONTENT_HEADERS]
        response.head = (status, line, items)


def error_headers(req: RequestRec, status: int) -> list[tuple[str, str]]:
    """`Header always` items for the error document of `status` (errordoc.py), if
    configured; their conditions see that status (REQUEST_STATUS), as httpd's error filter."""
    settings = req.per_dir_config
    if settings is None or not settings.header_actions:
        return []
    req.status = status
    return headers.error_headers(req, settings.header_actions)


def fixup(req: RequestRec, settings: DirSettings) -> None:
    """The fixup phase's part: RequestHeader."""
    if settings.request_header_actions:
        headers.fixup_request(req, settings.request_header_actions)
