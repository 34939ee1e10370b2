"""Differential test: every vector through httptools (llhttp, strict by default) and through
the engine's parser; every disagreement must be documented in DISAGREEMENTS with the answer
that is right and why, and the engine must give that answer.

The comparison: accepted vs refused for the first request in the vector; when both accept,
method, request-target, version, header fields, body, keep-alive and the number of further
pipelined requests. Two llhttp reporting habits are normalised, not counted: its header
callback includes trailing OWS in values (RFC 9110 §5.5: OWS is not part of the value), and
it reports trailer fields through the same callback (only fields before
``on_headers_complete`` are compared; the engine discards trailers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import httptools
import pytest

from .vectorlib import BY_ID, ENGINE_BUGS, PROTO_NUM, VECTORS, Vector, params, rust_outcome

_NO_LIMITS = ("engine right: httptools (llhttp) enforces no size limits (servers built on it "
              "add their own); ")
_BAD_AUTHORITY = ("engine right: llhttp does not validate the authority of an absolute-form "
                  "target; ")
_NUMERIC_HOST = (_BAD_AUTHORITY + "this numeric host is a legal reg-name by grammar but an "
                 "ambiguous IPv4 spelling that resolvers expand differently (RFC 3986 §7.4 "
                 "'rare IP address formats'); refused as Apache's strict mode does (catalogue "
                 "RL24)")
_BAD_HOST = ("engine right: RFC 9112 §3.2 MUST respond 400 to a Host field with an invalid "
             "value; llhttp does not look at Host. ")
_TRAILER = ("engine right (both are safe): llhttp treats a framing field in the trailer section "
            "as if it were a header and refuses; RFC 9110 §6.5.1 forbids merging trailer "
            "fields into the header section and §6.5.2 allows discarding them, which the "
            "engine does (catalogue TE18/CH20: '400c or discard').")
# vector id -> which answer is right, and why.
DISAGREEMENTS: dict[str, str] = {
    # request line
    "RL4a": "engine right: two SP after the method. RFC 9112 §3 request-line = method SP "
            "request-target SP HTTP-version; §3 warns that whitespace-splitting leniency "
            "invites request smuggling (Apache http_strict.t refuses too).",
    "RL4d": "engine right: two SP before the version; RFC 9112 §3 exactly one SP.",
    "RL10b": "engine right: llhttp knows the PURGE extension method; this origin server does "
             "not implement it, and RFC 9110 §9.1 says an unrecognised or unimplemented "
             "method SHOULD get 501.",
    "RL12": "engine right: llhttp parses 'HTTP/2.0' as an HTTP/1-syntax message of version "
            "2.0; a major version the server does not support is 505 (RFC 9110 §2.5, "
            "§15.6.6).",
    "RL13b": "engine right: 'HTTP/0.9' as a version token has major version 0: 505 "
             "(RFC 9110 §15.6.6; catalogue §1 rule).",
    "RL14": "engine right: llhttp accepts an HTTP/0.9 simple request (no version); the server "
            "speaks only HTTP/1.x (RFC 9112 §2.3) and a 0.9 'response' has no status line "
            "to carry an error or framing: 400.",
    "RL15": "engine right: httptools refuses 'HTTP/1.2'; RFC 9110 §2.5 says a recipient "
            "SHOULD process a higher minor version as the highest minor it implements, so "
            "the engine serves it as HTTP/1.1.",
    "RL17c": "both conformant, engine's documented limit: RFC 9112 §2.2 asks only that at "
             "least one empty line before a request be ignored; llhttp skips any number, "
             "the engine caps them at four (catalogue RL17 'cap it').",
    "RL17d": "engine right: a bare LF before the request line. RFC 9112 §2.2 lets a "
             "recipient accept bare LF but the server refuses it everywhere in the head to "
             "avoid parser-disagreement smuggling (waitress CVE-2019-16785, gunicorn#3144).",
    "RL18": "engine right: RFC 9112 §3.2.4 asterisk-form is only for OPTIONS; 'GET *' is an "
            "invalid request-target (gunicorn invalid/rfc9112_target_asterisk_non_options_01)."
            " llhttp does not tie target forms to methods.",
    "RL21": "engine right: llhttp hands a CONNECT over as a tunnel (HttpParserUpgrade); this "
            "server is not a proxy, so CONNECT is not implemented: 501 (RFC 9110 §9.3.6, "
            "§15.6.2).",
    "RL24a": _BAD_AUTHORITY + "RFC 9110 §4.2.4: userinfo in an http(s) URI SHOULD be treated "
             "as an error by recipients (Apache http_strict.t).",
    "RL24b": _BAD_AUTHORITY + "port '80x' is not *DIGIT (RFC 3986 §3.2.3).",
    "RL24c": _BAD_AUTHORITY + "'localhost::80' is not host [':' port] (RFC 3986 §3.2).",
    "RL24d": _NUMERIC_HOST,
    "RL24e": _NUMERIC_HOST,
    "RL24f": _NUMERIC_HOST,
    "RL24g": _BAD_AUTHORITY + "a percent-encoded host that decodes to a dotted quad "
             "('%3127.0.0.1') is the RFC 3986 §7.4 ambiguity again; Apache refuses it.",
    "RL24h": _BAD_AUTHORITY + "'[4712::abcd::]' is not a valid IPv6 literal (two '::'; "
             "RFC 3986 §3.2.2, RFC 4291 §2.2).",
    "RL25": "engine right: a fragment is not part of a request-target (RFC 9112 §3.2 "
            "origin-form = absolute-path ['?' query]; RFC 9110 §4.2.5).",
    "RL28": "engine right: 's://]ufd/:' is neither origin-form nor an http(s) absolute-form "
            "(']' outside an IP-literal, RFC 3986 §3.2.2); gunicorn#1023 answered it 500.",
    "RL29": _NO_LIMITS + "RFC 9112 §3: a request-target longer than the server wishes to "
            "parse MUST get 414.",
    # header fields
    "H15": "engine right: RFC 9112 §3.2 MUST respond 400 to a request with more than one "
           "Host field line; llhttp does not look at Host.",
    "H16": "engine right: RFC 9112 §3.2 MUST respond 400 to an HTTP/1.1 request without Host.",
    "H18a": _BAD_HOST + "'abc\\xa0' is not a reg-name (RFC 3986 §3.2.2).",
    "H18b": _BAD_HOST + "a backslash is not allowed in a host (RFC 3986 §3.2.2).",
    "H18c": _BAD_HOST + "'localhost:80 x' has a space in the port.",
    "H18d": _BAD_HOST + "an IPv6 address must be bracketed (RFC 3986 §3.2.2).",
    "H20": _NO_LIMITS + "RFC 6585 §5: 431 for a header field over the limit.",
    "H21": _NO_LIMITS + "RFC 6585 §5: 431 for too many header fields.",
    "H22": _NO_LIMITS + "RFC 6585 §5: 431 for a header section over the limit.",
    "H17": "engine right: Content-Type is a singleton field (RFC 9110 §5.3, §8.3); two values "
           "make the request ambiguous, so the engine refuses it with 400 (gunicorn "
           "invalid/041, waitress); llhttp passes both on.",
    # Transfer-Encoding
    "TE8": "engine right: 'identity' has not been a transfer coding since RFC 7230 (IANA: "
           "reserved); RFC 9112 §6.1 says a server SHOULD answer 501 to a transfer coding "
           "it does not understand. llhttp only checks that chunked is last.",
    "TE9": "engine right: the server cannot decode a gzip transfer coding, so 501 (RFC 9112 "
           "§6.1); llhttp only removes the chunked framing and would hand gzip bytes on as "
           "the body (waitress GHSA-g2xc-35jw-c63p).",
    "TE17": "engine right: RFC 9112 §6.1 says Transfer-Encoding in an HTTP/1.0 message MUST "
            "be treated as faulty framing (then close); the engine refuses it with 400 "
            "(gunicorn invalid/chunked_05). llhttp decodes chunked on 1.0.",
    "TE18": _TRAILER,
    "TE19": "engine right: RFC 9110 §5.5 leading and trailing OWS is not part of a field value, "
            "so '\t chunked \t' is the coding 'chunked'; llhttp keeps the trailing OWS and "
            "calls the coding invalid.",
    "TE21b": "engine right: RFC 9110 §5.6.1.2 says a recipient MUST parse and ignore empty "
             "list elements, so 'chunked, ' is the coding 'chunked'; llhttp refuses the "
             "trailing empty element.",
    # chunked body
    "CH12a": "engine right: RFC 9112 §7.1.1 chunk-ext = *( BWS ';' BWS chunk-ext-name "
             "[ BWS '=' BWS chunk-ext-val ] ) allows whitespace before ';'; llhttp refuses.",
    "CH17b": "both conformant, engine's documented guard: the size line is limited to 16 hex "
             "digits, leading zeros included (RFC 9112 §7.1: recipients MUST anticipate "
             "overflow; catalogue §1 '17 digits, even leading zeros: Err (safe)'); llhttp "
             "accepts because the value is small.",
    "CH19a": _NO_LIMITS + "RFC 9112 §7.1.1: a server ought to limit chunk extension bytes and "
             "answer 4xx beyond it (Go CVE-2023-39326).",
    "CH19b": _NO_LIMITS + "RFC 9112 §7.1.1 (total extension bytes over the body; Go "
             "CVE-2023-39326, Bun PR#34504).",
    "CH20a": _TRAILER,
    "CH20c": _TRAILER,
    "CH28": "engine right: chunk-ext-val = token / quoted-string, neither of which can be "
            "empty (RFC 9112 §7.1.1); llhttp accepts 'a=' with no value.",
    "CH40": "engine right: BWS around '=' in a chunk extension is allowed by the RFC 9112 "
            "§7.1.1 grammar; llhttp refuses it.",
    # connection management
    "K11": "engine right: llhttp does not interpret Expect; RFC 9110 §10.1.1 lets a server "
           "answer 417 to an expectation it cannot meet (gunicorn does).",
    "K19": "engine right: with 'Connection: keep-alive, close' the close option wins "
           "(RFC 9110 §9.6, §7.6.1); llhttp's should_keep_alive() says True for this "
           "HTTP/1.0 request.",
}


@dataclass
class Message:
    url: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    method: Optional[bytes] = None
    version: Optional[str] = None
    keep_alive: Optional[bool] = None
    in_head: bool = True
    complete: bool = False


class Collector:
    """httptools callbacks, one Message per request."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.parser: Any = None

    def on_message_begin(self) -> None:
        self.messages.append(Message())

    def on_url(self, url: bytes) -> None:
        self.messages[-1].url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        msg = self.messages[-1]
        (msg.headers if msg.in_head else msg.trailers).append((name, value))

    def on_headers_complete(self) -> None:
        msg = self.messages[-1]
        msg.in_head = False
        msg.method = self.parser.get_method()
        msg.version = self.parser.get_http_version()

    def on_body(self, body: bytes) -> None:
        self.messages[-1].body += body

    def on_message_complete(self) -> None:
        msg = self.messages[-1]
        msg.complete = True
        msg.keep_alive = self.parser.should_keep_alive()


@dataclass
class HttptoolsOutcome:
    messages: list[Message]
    error: Optional[str]  # the HttpParserError subclass and message, if any

    @property
    def accepted(self) -> bool:
        return bool(self.messages) and self.messages[0].complete

    def describe(self) -> str:
        if self.accepted:
            return "accepts"
        return f"refuses ({self.error})" if self.error else "waits for more (incomplete)"


def httptools_outcome(raw: bytes) -> HttptoolsOutcome:
    collector = Collector()
    parser = httptools.HttpRequestParser(collector)
    collector.parser = parser
    error = None
    try:
        parser.feed_data(raw)
    except httptools.HttpParserUpgrade:
        pass  # Upgrade / CONNECT: llhttp stops after the head; not a refusal
    except httptools.HttpParserError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return HttptoolsOutcome(collector.messages, error)


def differences(v: Vector) -> list[str]:
    """How the engine and httptools disagree about `v` (empty: they agree)."""
    rust = rust_outcome(v.raw)
    ht = httptools_outcome(v.raw)
    if (rust.status == 200) != ht.accepted:
        verdict = "accepts" if rust.status == 200 else f"refuses ({rust.status} {rust.message})"
        return [f"engine {verdict}, httptools {ht.describe()}"]
    if rust.status != 200:
        return []
    head, msg = rust.head, ht.messages[0]
    found = []

    def differ(what: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            found.append(f"{what}: engine {ours!r}, httptools {theirs!r}")

    differ("method", head.method, (msg.method or b"").decode("latin-1"))
    differ("target", head.target, msg.url.decode("latin-1"))
    differ("version", head.proto_num, PROTO_NUM.get(f"HTTP/{msg.version}"))
    differ("headers", head.headers, [(n, val.rstrip(b" \t")) for n, val in msg.headers])
    differ("body", rust.body, msg.body)
    differ("keep-alive", head.client_keepalive, msg.keep_alive)
    if not v["must_close"]:
        differ("requests", 1 + v["extra_requests"], sum(m.complete for m in ht.messages))
    return found


@pytest.fixture(scope="module")
def all_differences() -> dict[str, list[str]]:
    return {v.id: found for v in VECTORS if (found := differences(v))}


def test_disagreements_are_exactly_the_documented_ones(all_differences):
    """A new disagreement (or one that went away) fails here until DISAGREEMENTS says which
    side is right."""
    unknown = set(DISAGREEMENTS) - set(BY_ID)
    assert not unknown, f"DISAGREEMENTS names vectors that do not exist: {unknown}"
    new = {k: all_differences[k] for k in sorted(set(all_differences) - set(DISAGREEMENTS))}
    gone = sorted(set(DISAGREEMENTS) - set(all_differences))
    assert not new, f"undocumented disagreements: {new}"
    assert not gone, f"documented disagreements that no longer occur: {gone}"


def _engine_matches_expected(v: Vector) -> None:
    out = rust_outcome(v.raw)
    assert (out.status, out.stage) == (v.status, v["stage"]), out.message
    if v.valid:
        assert out.head.method == v["method"] and out.head.target == v["target"]
        assert out.head.chunked == v["chunked"]
        assert out.head.content_length == v["content_length"]
        assert out.body.decode("latin-1") == v["body"]


@pytest.mark.parametrize("v", params([BY_ID[k] for k in DISAGREEMENTS if k in BY_ID],
                                     {k: r for k, r in ENGINE_BUGS.items()
                                      if k in DISAGREEMENTS}))
def test_engine_gives_the_right_answer_where_they_disagree(v: Vector):
    """Where the two parsers disagree, the engine's answer is the expected (RFC-right) one."""
    _engine_matches_expected(v)


def test_every_disagreement_names_the_right_side():
    """Each entry starts by saying who is right; 'httptools right' entries are exactly the
    engine bugs among the disagreements."""
    for vid, why in DISAGREEMENTS.items():
        assert why.startswith(("engine right", "both conformant", "httptools right")), vid
        assert why.startswith("httptools right") == (vid in ENGINE_BUGS), vid
