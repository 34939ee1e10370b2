"""The access log: Apache's `LogFormat`/`CustomLog` syntax, compiled once, written by workers.

Owns parsing a format string (`%h %l %u %t "%r" %>s %b`, the built-in `common`, `combined`
and `vhost_combined` nicknames, and `json`) into a function of the request, escaping every
value that comes from the client (no log injection: control bytes, quotes and backslashes
become `\\xhh`, `\\"`, `\\\\` as in Apache), and writing each line with one `write(2)` to an
`O_APPEND` fd so lines from several workers never interleave. Reopening (SIGUSR1) swaps the
fd between requests, so no line is lost. Must not decide what a request does.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from ..config.server import ServerConfig
    from ..modpy.request import Request

Getter = Callable[["Request"], str]

BUILTIN_FORMATS = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "json": "json",
}
JSON_FORMAT = "json"

# %[<>]{arg}X  — Apache's status-code conditions (%400,501{..}i) are refused, not ignored.
_DIRECTIVE = re.compile(r"%([<>]?)(?:\{([^}]*)\})?([<>]?)([a-zA-Z%])")
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


def _status(req: Request) -> int:
    frozen = req._frozen
    return frozen[0] if frozen is not None else req.status


def _header_out(name: str) -> Getter:
    lower = name.lower()

    def get(req: Request) -> str:
        frozen = req._frozen
        for key, value in frozen[2] if frozen is not None else ():
            if key.lower() == lower:
                return escape(value)
        return "-"
    return get


_clf_cache: list = [0, ""]


def _clf_time(req: Request) -> str:
    """[10/Oct/2000:13:55:36 -0700], the request's arrival second, cached per second."""
    second = int(req.request_time)
    if _clf_cache[0] != second:
        _clf_cache[:] = [second, time.strftime("[%d/%b/%Y:%H:%M:%S %z]",
                                               time.localtime(second))]
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
    if arg == "remote":
        return lambda req: str(req._raw.remote_addr[1])
    return lambda req: str(req._raw.local_addr[1])


def _peer_ip(req: Request) -> str:
    """The TCP peer (the proxy, under TrustedProxies), as mod_remoteip's %{c}a."""
    raw = req._raw
    return (getattr(raw, "peer_addr", None) or raw.remote_addr)[0]


def _bytes(dash_for_zero: bool) -> Getter:
    def get(req: Request) -> str:
        sent = req._raw.bytes_sent
        return "-" if dash_for_zero and not sent else str(sent)
    return get


_SIMPLE: dict[str, Getter] = {
    "%": lambda req: "%",
    "a": lambda req: req.useragent_ip,
    "A": lambda req: req._raw.local_addr[0],
    "b": _bytes(True),
    "B": _bytes(False),
    "O": _bytes(False),  # body bytes only: the engine frames headers itself
    "D": _duration("us"),
    "f": lambda req: _dash(req.filename),
    "h": lambda req: req.useragent_ip,
    "H": lambda req: req.protocol,
    "k": lambda req: str(req._raw.keepalive_count - 1),
    "l": lambda req: "-",
    "m": lambda req: escape(req.method),
    "P": lambda req: str(os.getpid()),
    "q": lambda req: "?" + escape(req.args) if req.args else "",
    "r": lambda req: escape(req.the_request),
    "R": lambda req: _dash(req.handler),
    "s": lambda req: str(_status(req)),
    "u": lambda req: _dash(req.user),
    "U": lambda req: escape(req.uri),
    "v": lambda req: escape(req._vhost.server_name),
    "V": lambda req: escape(req.hostname),
}


def _with_arg(letter: str, arg: str) -> Optional[Getter]:
    if letter == "i":
        return lambda req: _dash(req._raw.header(arg))
    if letter == "o":
        return _header_out(arg)
    if letter == "n":
        return lambda req: _dash(req.notes.get(arg))
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


def parse_format(fmt: str) -> list[Getter]:
    """The getters for `fmt`, literals included; ValueError names what is not supported."""
    getters: list[Getter] = []
    pos = 0
    for match in _DIRECTIVE.finditer(fmt):
        if match.start() > pos:
            getters.append(_literal(fmt[pos:match.start()]))
        getters.append(_getter(match))
        pos = match.end()
    rest = fmt[pos:]
    if "%" in rest:
        raise ValueError(f"unsupported or malformed format directive at {rest!r}")
    if rest:
        getters.append(_literal(rest))
    return getters


def _literal(text: str) -> Getter:
    if "%" in text:
        bad = text[text.index("%"):][:8]
        raise ValueError(f"unsupported or malformed format directive at {bad!r}")
    # LogFormat strings use C escapes for tabs and newlines; only \t is meaningful here.
    text = text.replace("\\t", "\t")
    return lambda req: text


def _getter(match: re.Match) -> Getter:
    arg, letter = match.group(2), match.group(4)
    if arg is None:
        getter = _SIMPLE.get(letter)
        if letter in "tTp":
            getter = _with_arg(letter, "")
    else:
        getter = _with_arg(letter, arg)
    if getter is None:
        raise ValueError(f"format directive {match.group(0)!r} is not supported")
    return getter


def compile_format(fmt: str) -> Callable[[Request], str]:
    """Turn a LogFormat string (or `json`) into one function; done once per worker."""
    if fmt == JSON_FORMAT:
        return json_line
    getters = tuple(parse_format(fmt))

    def render(req: Request) -> str:
        return "".join([get(req) for get in getters])
    return render


def json_line(req: Request) -> str:
    """One JSON object per line; json.dumps escapes quotes and control characters."""
    raw = req._raw
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
        "vhost": req._vhost.server_name,
        "referer": raw.header("Referer"),
        "user_agent": raw.header("User-Agent"),
        "user": req.user,
        "handler": req.handler,
        "pid": os.getpid(),
    }
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def resolve_format(name_or_format: str, formats: dict[str, str]) -> str:
    """CustomLog's second argument: a nickname (LogFormat's or a built-in) or a format."""
    if name_or_format in formats:
        return formats[name_or_format]
    if name_or_format in BUILTIN_FORMATS:
        return BUILTIN_FORMATS[name_or_format]
    if "%" not in name_or_format:
        raise ValueError(f"unknown log format nickname {name_or_format!r}")
    return name_or_format


class AccessLog:
    """One CustomLog file: an O_APPEND fd and the function that renders a line."""

    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.render = compile_format(fmt)
        self.fd = self._open()

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        return os.open(self.path, flags, 0o640)

    def write(self, req: Request) -> None:
        line = self.render(req) + "\n"
        try:
            os.write(self.fd, line.encode("utf-8", "backslashreplace"))
        except OSError:
            pass  # a full disk must not fail the request that was already answered

    def reopen(self) -> None:
        """Open the path again (logrotate moved the file), then close the old fd. Lines
        are written between requests, so none is in flight while the fd changes."""
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


class RefusedRequest:
    """A request the engine answered itself (400, 408, 413, 414, 431, 501, 505, ...), shaped
    like a Request for the format getters: `%r` is the request line as far as it arrived,
    `%>s` the status, `%b` the error page's length; what was never parsed logs as "-"."""

    filename = handler = user = args = None
    _frozen = None

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
        self._vhost = vhost
        self._raw = _RefusedRaw(peer, local, sent, self.uri)
        self.notes: dict[str, str] = {}
        self.subprocess_env: dict[str, str] = {}


class AccessLogger:
    """The `Runtime(access_log=...)` hook: every request goes to its virtual host's logs."""

    def __init__(self, config: ServerConfig) -> None:
        self.main = config.main
        opened: dict[tuple[str, str], AccessLog] = {}
        self.by_host: dict[int, tuple[AccessLog, ...]] = {}
        for vhost in [config.main, *config.vhosts]:
            logs = []
            for path, fmt in vhost.custom_logs:
                if (path, fmt) not in opened:
                    opened[path, fmt] = AccessLog(path, fmt)
                logs.append(opened[path, fmt])
            self.by_host[id(vhost)] = tuple(logs)
        self.logs = list(opened.values())

    def __bool__(self) -> bool:
        return bool(self.logs)

    def __call__(self, req: Request) -> None:
        for log in self.by_host.get(id(req._vhost), ()):
            log.write(req)

    def refused(self, records: list[tuple]) -> None:
        """`Engine.take_refusals()` records, logged with the main server's logs (the
        request never got as far as choosing a virtual host)."""
        for record in records:
            req = RefusedRequest(record, self.main)
            for log in self.by_host.get(id(self.main), ()):
                log.write(req)  # type: ignore[arg-type]

    def reopen(self) -> None:
        for log in self.logs:
            log.reopen()
