"""The access log: `LogFormat`/`CustomLog` lines, compiled once, written by workers.

Owns turning a format (parsed by `config.logformat`: `%h %l %u %t "%r" %>s %b`, the
nicknames, `json`) into a function of the request record, escaping every
value that comes from the client (no log injection: control bytes, quotes and backslashes
become `\\xhh`, `\\"`, `\\\\` as in Apache), and writing each line with one `write(2)` to an
`O_APPEND` fd so lines from several workers never interleave. Reopening (SIGUSR1) swaps the
fd between requests, so no line is lost. Must not decide what a request does.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional

from ..config import logformat
from ..config.logformat import BUILTIN_FORMATS, JSON_FORMAT, Piece, resolve_format
from ..runtime import pipedlogs
from .cgienv import default_port
from .forwardedproto import HTTPS, scheme_of

if TYPE_CHECKING:
    from ..config.server import ServerConfig
    from ..runtime.record import RequestRec

Getter = Callable[["RequestRec"], str]
__all__ = ["BUILTIN_FORMATS", "JSON_FORMAT", "AccessLog", "AccessLogger", "compile_format",
           "escape", "json_line", "resolve_format"]

_ESCAPES = {i: f"\\x{i:02x}" for i in range(32)} | {0x7F: "\\x7f", 0x22: '\\"', 0x5C: "\\\\"}
_ESCAPES |= {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def escape(value: str) -> str:
    """Apache's ap_escape_logitem: printable ASCII stays, the rest becomes an escape."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    out = value.translate(_ESCAPES)
    if out.isascii():
        return out
    # Header bytes above 0x7f reach Python as Latin-1 characters: log the byte itself.
    return "".join(ch if ch.isascii() else "".join(f"\\x{b:02x}" for b in _raw_bytes(ch))
                   for ch in out)


def _raw_bytes(ch: str) -> bytes:
    return ch.encode("latin-1") if ord(ch) < 256 else ch.encode("utf-8")


def _dash(value: Optional[str]) -> str:
    return escape(value) if value else "-"


def _status(req: RequestRec) -> int:
    frozen = req.response.head
    return frozen[0] if frozen is not None else req.status


def _header_out(name: str) -> Getter:
    """`%{Name}o`. Content-Type is logged without its parameters, as mod_log_config's
    log_header_out logs r->content_type through ap_field_noparam ("text/html", not
    "text/html; charset=iso-8859-1")."""
    lower = name.lower()
    no_param = lower == "content-type"

    def get(req: RequestRec) -> str:
        frozen = req.response.head
        for key, value in frozen[2] if frozen is not None else ():
            if key.lower() == lower:
                return escape(value.partition(";")[0].rstrip() if no_param else value)
        return "-"
    return get


_clf_cache: list = [-1, ""]  # [second, its text]: the compiled lines read it inline


def _clf_time(req: RequestRec) -> str:
    """[10/Oct/2000:13:55:36 -0700], the request's arrival second, cached per second."""
    second = int(req.request_time)
    if _clf_cache[0] != second:
        # text first: a line reading the cache inline never sees the new second's old text
        _clf_cache[1] = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
        _clf_cache[0] = second
    return _clf_cache[1]


def _time(arg: str) -> Getter:
    if not arg:
        return _clf_time
    if arg in ("sec", "begin:sec"):
        return lambda req: str(int(req.request_time))
    if arg in ("msec", "begin:msec"):
        return lambda req: str(int(req.request_time * 1000))
    if arg in ("usec", "begin:usec"):
        return lambda req: str(int(req.request_time * 1e6))
    fmt = arg[6:] if arg.startswith("begin:") else arg
    if arg.startswith("end:"):
        return lambda req: time.strftime(arg[4:], time.localtime())
    return lambda req: time.strftime(fmt, time.localtime(req.request_time))


def _duration(unit: str) -> Getter:
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    return lambda req: str(int((time.time() - req.request_time) * scale))


def _port(arg: str) -> Getter:
    """mod_log_config's log_server_port: `%{remote}p`, `%{local}p` the connection's ports;
    `%p` and `%{canonical}p` ServerName's port, else the scheme's default (80 or 443),
    whatever port the connection came to."""
    if arg == "remote":
        return lambda req: str(req.raw.remote_addr[1])
    if arg == "local":
        return lambda req: str(req.raw.local_addr[1])
    return lambda req: str(req.vhost.server_port or default_port(req))


def _peer_ip(req: RequestRec) -> str:
    """The TCP peer (the proxy, under TrustedProxies), as mod_remoteip's %{c}a."""
    raw = req.raw
    return (getattr(raw, "peer_addr", None) or raw.remote_addr)[0]


def _bytes(dash_for_zero: bool) -> Getter:
    def get(req: RequestRec) -> str:
        sent = req.raw.bytes_sent
        return "-" if dash_for_zero and not sent else str(sent)
    return get


_SIMPLE: dict[str, Getter] = {
    "%": lambda req: "%",
    "a": lambda req: req.useragent_ip,
    "A": lambda req: req.raw.local_addr[0],
    "b": _bytes(True),
    "B": _bytes(False),
    "O": _bytes(False),  # body bytes only: the engine frames headers itself
    "D": _duration("us"),
    "f": lambda req: _dash(req.filename),
    "h": lambda req: req.useragent_ip,
    "H": lambda req: req.protocol,
    "k": lambda req: str(req.raw.keepalive_count - 1),
    "l": lambda req: "-",
    "m": lambda req: escape(req.method),
    "P": lambda req: str(os.getpid()),
    "q": lambda req: "?" + escape(req.args) if req.args else "",
    "r": lambda req: escape(req.the_request),
    "R": lambda req: _dash(req.handler),
    "s": lambda req: str(_status(req)),
    "u": lambda req: _dash(req.user),
    "U": lambda req: escape(req.uri),
    "v": lambda req: escape(req.vhost.server_name),
    "V": lambda req: escape(req.hostname),
}


def _https_variable(req: RequestRec) -> str:
    """`%{HTTPS}e`: "on" for a request a trusted proxy received over https, as mod_ssl's
    fixup sets it for every request (ssl_hook_Fixup)."""
    if scheme_of(req.raw) == HTTPS:
        return "on"
    return _dash(req.subprocess_env.get("HTTPS") or os.environ.get("HTTPS"))


def _with_arg(letter: str, arg: str) -> Optional[Getter]:
    if letter == "i":
        return lambda req: _dash(req.raw.header(arg))
    if letter == "o":
        return _header_out(arg)
    if letter == "n":
        return lambda req: _dash(req.notes.get(arg))
    if letter == "e" and arg == "HTTPS":  # -- forwardedproto --
        return _https_variable
    if letter == "e":
        return lambda req: _dash(req.subprocess_env.get(arg) or os.environ.get(arg))
    if letter == "t":
        return _time(arg)
    if letter == "T":
        return _duration(arg or "s") if (arg or "s") in ("us", "ms", "s") else None
    if letter == "p":
        return _port(arg) if arg in ("", "canonical", "local", "remote") else None
    if letter == "P":
        return _SIMPLE["P"] if arg in ("", "pid") else None
    if letter == "a":
        return _peer_ip if arg == "c" else None
    return None


def getter(piece: Piece) -> Getter:
    """The function of the request that renders one piece of a format."""
    if isinstance(piece, str):
        return lambda req: piece
    letter, arg = piece
    found = _with_arg(letter, arg or "") if arg is not None or letter in "tTp" \
        else _SIMPLE.get(letter)
    if found is None:  # logformat.parse and this table disagree: a bug of ours
        raise ValueError(f"format directive %{{{arg}}}{letter} has no getter")
    return found


# The directives every common/combined line has, as expressions of `req` inlined into the
# compiled renderer (no call per piece); the others call their getter. Each gives what its
# getter in _SIMPLE / _with_arg gives. `_clf` is _clf_time's cache, read inline when the
# second is the cached one.
_INLINE: dict[tuple[str, Optional[str]], str] = {
    ("h", None): "req.useragent_ip",
    ("a", None): "req.useragent_ip",
    ("l", None): "'-'",
    ("u", None): "(escape(_v) if (_v := req.user) else '-')",
    ("t", None): "(_clf[1] if int(req.request_time) == _clf[0] else _clf_time(req))",
    ("t", ""): "(_clf[1] if int(req.request_time) == _clf[0] else _clf_time(req))",
    ("r", None): "escape(req.the_request)",
    ("s", None): "(_h[0] if (_h := req.response.head) is not None else req.status)",
    ("b", None): "(req.raw.bytes_sent or '-')",
    ("B", None): "req.raw.bytes_sent",
    ("O", None): "req.raw.bytes_sent",
}


def compile_format(fmt: str, newline: bool = False) -> Callable[[RequestRec], str]:
    """Turn a LogFormat string (or `json`) into one function; done once per worker.
    The function is one f-string built from the pieces (as mod_log_config walks its
    precompiled item array), so a line costs no list, join or call per literal.
    `newline`: the line ends with "\n", ready to write."""
    if fmt == JSON_FORMAT:
        return (lambda req: json_line(req) + "\n") if newline else json_line
    namespace: dict[str, object] = {"_dash": _dash, "escape": escape, "_clf_time": _clf_time,
                                    "_status": _status, "_clf": _clf_cache}
    fields = []
    for index, piece in enumerate(logformat.parse(fmt)):
        name = f"p{index}"
        if isinstance(piece, str):
            namespace[name] = piece
            fields.append("{" + name + "}")
        elif piece[0] == "i" and piece[1] is not None:  # %{Name}i: a request header
            namespace[name] = piece[1]
            fields.append("{(escape(_v) if (_v := req.raw.header(" + name + ")) else '-')}")
        elif (piece[0], piece[1]) in _INLINE:
            fields.append("{" + _INLINE[piece[0], piece[1]] + "}")
        else:
            namespace[name] = getter(piece)
            fields.append("{" + name + "(req)}")
    end = "\\n" if newline else ""
    source = 'def render(req):\n    return f"' + "".join(fields) + end + '"\n'
    exec(compile(source, f"<LogFormat {fmt!r}>", "exec"), namespace)
    return namespace["render"]  # type: ignore[return-value]


def json_line(req: RequestRec) -> str:
    """One JSON object per line; json.dumps escapes quotes and control characters."""
    raw = req.raw
    now = time.time()
    record = {
        "time": datetime.fromtimestamp(req.request_time, timezone.utc).isoformat(
            timespec="microseconds"),
        "remote_addr": req.useragent_ip,
        "peer_addr": _peer_ip(req),
        "method": req.method,
        "uri": raw.target,
        "protocol": req.protocol,
        "status": _status(req),
        "bytes": raw.bytes_sent,
        "duration_us": int((now - req.request_time) * 1e6),
        "host": raw.header("Host"),
        "vhost": req.vhost.server_name,
        "referer": raw.header("Referer"),
        "user_agent": raw.header("User-Agent"),
        "user": req.user,
        "handler": req.handler,
        "pid": os.getpid(),
    }
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def _write_now(fd: int, line: bytes) -> None:
    try:
        os.write(fd, line)
    except OSError:
        pass  # a full disk must not fail the request that was already answered


class AccessLog:
    """One CustomLog file: an O_APPEND fd, the function that renders a line and the one that
    writes it (`os.write`, or in a worker the engine's `write_log`, which also holds lines
    under `BufferedLogs On`)."""

    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.render_line = compile_format(fmt, newline=True)
        self.fd = self._open()
        self.write_line: Callable[[int, bytes], None] = _write_now

    def _open(self) -> int:
        if pipedlogs.is_piped(self.path):  # `CustomLog "|command"`: the master's program
            return pipedlogs.writer_fd(self.path)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        return os.open(self.path, flags, 0o640)

    def write(self, req: RequestRec) -> None:
        self.write_line(self.fd, self.render_line(req).encode("utf-8", "backslashreplace"))

    def reopen(self) -> None:
        """Open the path again (logrotate moved the file), then close the old fd. Lines
        are written between requests, so none is in flight while the fd changes."""
        if pipedlogs.is_piped(self.path):
            return
        old, self.fd = self.fd, self._open()
        os.close(old)

    def close(self) -> None:
        os.close(self.fd)


class _RefusedRaw:
    """The engine-side facts of a refused request, as `RawRequest` names them."""

    keepalive_count = 1

    def __init__(self, peer: tuple[str, int], local: tuple[str, int], sent: int,
                 target: str) -> None:
        self.remote_addr = peer
        self.local_addr = local
        self.bytes_sent = sent
        self.target = target

    def header(self, name: str) -> None:
        return None


class _NoResponse:
    """A refused request's response as the getters read it: no handler froze a head."""

    head = None


class RefusedRequest:
    """A request the engine answered itself (400, 408, 413, 414, 431, 501, 505, ...), shaped
    like a RequestRec for the format getters: `%r` is the request line as far as it arrived,
    `%>s` the status, `%b` the error page's length; what was never parsed logs as "-"."""

    filename = handler = user = args = None
    response = _NoResponse()

    def __init__(self, record: tuple, vhost: object) -> None:
        peer, local, line, status, sent, when = record
        line = line or "-"  # (only empty lines arrived)
        words = line.split(" ")
        self.the_request = line
        self.method = words[0]
        self.uri = words[1] if len(words) > 1 else ""
        self.protocol = words[2] if len(words) > 2 else ""
        self.status = status
        self.request_time = when
        self.useragent_ip = peer[0]
        self.hostname = getattr(vhost, "server_name", "")
        self.vhost = vhost
        self.raw = _RefusedRaw(peer, local, sent, self.uri)
        self.notes: dict[str, str] = {}
        self.subprocess_env: dict[str, str] = {}


def _env_allows(req: RequestRec, env: str) -> bool:
    """mod_log_config's `env=name` (log when the variable is set, as SetEnvIf sets it) and
    `env=!name` (when it is not)."""
    if env.startswith("!"):
        return req.subprocess_env.get(env[1:]) is None
    return req.subprocess_env.get(env) is not None


class AccessLogger:
    """The `Runtime(access_log=...)` hook: every request goes to its virtual host's logs."""

    def __init__(self, config: ServerConfig) -> None:
        self.main = config.main
        opened: dict[tuple[str, str], AccessLog] = {}
        # Each host's logs with their env= condition (mod_log_config: None logs always).
        self.by_host: dict[int, tuple[tuple[AccessLog, Optional[str]], ...]] = {}
        for vhost in [config.main, *config.vhosts]:
            logs = []
            for path, fmt, env in vhost.custom_logs:
                if (path, fmt) not in opened:
                    opened[path, fmt] = AccessLog(path, fmt)
                logs.append((opened[path, fmt], env))
            self.by_host[id(vhost)] = tuple(logs)
        self.logs = list(opened.values())
        # A host with one unconditional log (the usual CustomLog): its writer, called directly.
        self.only_log = {host: logs[0][0].write for host, logs in self.by_host.items()
                         if len(logs) == 1 and logs[0][1] is None}

    def __bool__(self) -> bool:
        return bool(self.logs)

    def __call__(self, req: RequestRec) -> None:
        write = self.only_log.get(id(req.vhost))
        if write is not None:
            write(req)
            return
        for log, env in self.by_host.get(id(req.vhost), ()):
            if env is None or _env_allows(req, env):
                log.write(req)

    def refused(self, records: list[tuple]) -> None:
        """`Engine.take_refusals()` records, logged with the main server's logs (the
        request never got as far as choosing a virtual host)."""
        for record in records:
            req = RefusedRequest(record, self.main)
            for log, env in self.by_host.get(id(self.main), ()):
                if env is None or env.startswith("!"):  # no variable is set on a refusal
                    log.write(req)  # type: ignore[arg-type]

    def write_through(self, write_line: Callable[[int, bytes], None]) -> None:
        """Every log's lines go to `write_line(fd, line)` from now on (the worker's engine:
        one writer for Python's lines and the static plans', BufferedLogs in one place)."""
        for log in self.logs:
            log.write_line = write_line

    def reopen(self) -> None:
        """Open every log file again; what a buffer holds must be written first."""
        for log in self.logs:
            log.reopen()
