"""Static plans: which static-file requests the engine may answer by itself, and how.

Owns the decision that a request the default handler answered with a whole file will get
the same answer, byte for byte but the `Date`, every time it comes again while the file is
the same version, and the plan the engine then follows (`Engine.add_static_plan`,
rust/staticplan.rs): the file and its version, the headers that went out, and each access
log's line with the parts that vary left as fields the engine fills (client address,
`%t`, request headers, bytes sent). The dispatcher offers a request only where its route
says nothing acts per request (`Dispatcher._route_for`: no Python handler or phase,
access rule, rewrite, `.htaccess`, Options restriction, filter, httpd module); this module
adds what the route cannot know: plain HTTP/1.1 GET (over TLS too, where the directory
neither requires a client certificate nor reads one: `tls_plannable`), status 200 with the
file whole, a file last changed more than a second before the request (so the validators
no longer move with the clock), a file that fits one bounded write, and logs whose every
directive the engine can fill or that render the same for every repeat (a format with
`%D`, `%T`, `%k`, `%{...}e`, `%{...}n` or a strftime `%{...}t`, `json`, or an `env=`
condition gets no plan). The engine checks the rest per request (see rust/staticplan.rs).
Must not serve anything itself.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional, Union

from mod_python.apache import APLOG_DEBUG

from ..config import logformat
from ..config.logformat import JSON_FORMAT
from ..runtime.record import reason
from . import accesslog

if TYPE_CHECKING:
    from ..runtime.record import RequestRec
    from .accesslog import AccessLog, AccessLogger

# The engine's names of the parts of a line that vary between repeats.
_FIELDS: dict[tuple[str, Optional[str]], str] = {
    ("h", None): "peer", ("a", None): "peer", ("a", "c"): "peer",
    ("t", None): "time", ("t", ""): "time",
    ("b", None): "bytes-", ("B", None): "bytes", ("O", None): "bytes",
}
# Directives that render the same for every repeat of one request on one plan (its
# method, target, status, host, file, handler, response headers, the worker's pid).
_CONSTANT_LETTERS = frozenset("%lumrsUqHvVAfRP")
_CONSTANT_ARGS = {"p": frozenset({"", "canonical", "local"}), "P": frozenset({"", "pid"})}
# Larger files go through Python, where the watchdog sees a long write progress.
PLANNED_FILE_MAX = 64 * 1024
PLANS_MAX = 4096  # the engine's bound (rust/staticplan.rs PLANS_MAX)

Piece = Union[bytes, str, tuple[str, str]]


def _piece_kind(piece: logformat.Piece) -> Optional[str]:
    """"text", "field", "header", "constant" or None (the engine cannot write it)."""
    if isinstance(piece, str):
        return "text"
    letter, arg = piece
    if (letter, arg) in _FIELDS:
        return "field"
    if letter == "i" and arg:
        return "header"
    if letter == "o" and arg:
        return "constant"
    if arg is None and letter in _CONSTANT_LETTERS:
        return "constant"
    choices = _CONSTANT_ARGS.get(letter)
    return "constant" if choices is not None and (arg or "") in choices else None


def plannable_format(fmt: str) -> bool:
    """Whether every directive of `fmt` is one the engine can write for a planned request."""
    if fmt == JSON_FORMAT:
        return False
    return all(_piece_kind(piece) is not None for piece in logformat.parse(fmt))


def tls_plannable(req: RequestRec) -> bool:
    """Whether repeats over TLS get this answer on any connection without a client
    certificate (the only ones the engine answers): mod_ssl's per-request checks then
    always pass (ssl.check_client), unless the directory requires a certificate or sets
    req.user from one (SSLUserName, whose absence is logged per request). The SNI name is
    part of the key, so the 421 check (Host against SNI) answers as it did."""
    settings = req.per_dir_config
    return settings is not None and settings.ssl_verify != "require" \
        and not settings.ssl_user_name


def line_pieces(fmt: str, req: RequestRec) -> list[Piece]:
    """`fmt` as the engine's pieces: constants rendered from `req` (encoded as AccessLog
    writes them), the rest as field names."""
    pieces: list[Piece] = []
    text = ""
    for piece in logformat.parse(fmt):
        kind = _piece_kind(piece)
        if isinstance(piece, str):
            text += piece
            continue
        if kind == "constant":
            text += accesslog.getter(piece)(req)
            continue
        if text:
            pieces.append(text.encode("utf-8", "backslashreplace"))
            text = ""
        letter, arg = piece
        pieces.append(("header", arg) if kind == "header" and arg else _FIELDS[letter, arg])
    pieces.append((text + "\n").encode("utf-8", "backslashreplace"))
    return pieces


class StaticPlanner:
    """Offers the engine a plan for each static request that qualifies, once per version
    of its file (a repeat the engine sent to Python, with a condition or a range, is not
    offered again)."""

    def __init__(self, engine: Any, access_log: Optional[AccessLogger]) -> None:
        self.engine = engine
        # id(vhost) -> its logs, or None when one cannot be planned (env=, json, %D...)
        self.host_logs: dict[int, Optional[tuple[AccessLog, ...]]] = {}
        if access_log is not None:
            for host, logs in access_log.by_host.items():
                plannable = all(env is None and plannable_format(log.fmt) for log, env in logs)
                self.host_logs[host] = tuple(log for log, _ in logs) if plannable else None
        self.offered: dict[tuple[Any, ...], tuple[int, ...]] = {}

    def offer(self, req: RequestRec, info: os.stat_result) -> None:
        """`req` was answered 200 with the whole file `info` (stat'ed by its name before it
        was opened and sent) on a route where nothing acts per request."""
        raw = req.raw
        head = req.response.head
        if (req.method != "GET" or req.protocol != "HTTP/1.1" or head is None
                or head[0] != 200 or info.st_size > PLANNED_FILE_MAX or req.filename is None):
            return
        tls = raw.tls
        if tls is not None and not tls_plannable(req):
            return
        if info.st_mtime > req.request_time - 1:
            # Changed within the last second, or dated in the future: the ETag is weak and
            # Last-Modified is the request's time (conditional.file_validators), both still
            # moving with the clock.
            return
        logs = self.host_logs.get(id(req.vhost), ())
        if logs is None:
            return
        local, host, target = raw.local_addr, raw.header("Host"), raw.target
        sni = None if tls is None else (tls[2] or "")
        version = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        key = (local, host, target, sni)
        if self.engine.static_plans != len(self.offered):
            # The engine dropped a plan (its file changed or went away): forget what was
            # offered, so a file that comes back as it was gets its plan again.
            self.offered.clear()
        if self.offered.get(key) == version:
            return
        if len(self.offered) >= PLANS_MAX:
            self.clear()
        self.engine.add_static_plan(
            local, host, target, req.filename, version, reason(head[1]),
            head[2], [(log.fd, line_pieces(log.fmt, req)) for log in logs], sni)
        self.offered[key] = version
        req.runtime.error_log.log(
            f"static plan: the engine answers {target} (Host {host}) from {req.filename} "
            "while the file is unchanged", APLOG_DEBUG, "core")

    def clear(self) -> None:
        """Forget every plan: before the log files are reopened (their fds change)."""
        self.engine.clear_static_plans()
        self.offered.clear()
