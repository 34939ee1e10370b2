"""Generate the HTTP/1.1 request corpus (raw bytes + expected outcomes).

    python tests/vectors/make_vectors.py          # rewrite valid/, invalid/, expected.json
    python tests/vectors/make_vectors.py --check  # exit 1 if the committed files are stale

Layout (read by tests/http/*.py and, later, by Rust tests; no TOML/YAML needed):

* ``valid/NNN-ID-slug.http`` and ``invalid/NNN-ID-slug.http``: the exact bytes a client
  sends (CRLF exact, written here so no editor ever normalises them).
* ``expected.json``: ``limits`` (the server limits the outcomes assume; the live test
  configures the server with them), ``canary`` (the follow-up request template) and
  ``vectors``, one object per file:

  ``id``, ``file``, ``status`` (200 = accepted, else the refusal status),
  ``must_close`` (the server must close after answering), ``stage`` ("head": refused by
  the head parser, "body": head accepted, refused by the chunked decoder), ``head_len``,
  ``source`` (RFC section / CVE / peer test; ids are those of
  /work/shared/http-vectors.md section 2 where one applies), optional ``note``.
  Accepted vectors also carry ``method``, ``target``, ``version`` (as served: HTTP/1.2
  is served as HTTP/1.1), ``header_count``, ``headers`` ([name, value] pairs, latin-1,
  values OWS-trimmed), ``content_length`` (int or null), ``chunked``, ``keepalive``,
  ``expect_continue``, ``body`` (the decoded body, latin-1) and ``extra_requests`` (how
  many further complete requests follow the first one in the file).
  ``live`` (optional) overrides what the end-to-end test expects: ``status``
  (int, or a list whose null entry means "no response"), ``canary`` ("run" / "not_run" /
  "any"), ``must_close`` (true / false / null = either), ``responses`` (responses before
  the canary's), ``eof`` (send, half-close, no canary), ``truncate_body`` (send only this
  many body bytes), ``handled`` (false: the server answers without running the handler),
  ``args`` (the req.args the handler must see), ``no_interim`` (no 100 Continue),
  ``close_header`` (false: the status was sent before the error was found, so the reply
  cannot carry ``Connection: close``; the server still closes), ``why``.

Smuggled requests embedded in vectors target ``/canary?id=<ID>-smuggled``: the live test
fails if such a request ever runs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent

LIMITS = {"request_line": 8190, "field_size": 8190, "fields": 100, "body": 1048576}
CANARY = "GET /canary?id={id} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

G = b"GET / HTTP/1.1\r\nHost: a\r\n"
P = b"POST / HTTP/1.1\r\nHost: a\r\n"
C = P + b"Transfer-Encoding: chunked\r\n\r\n"

VECTORS: list[dict[str, Any]] = []
RAW: dict[str, bytes] = {}


def smuggled(vid: str) -> bytes:
    return b"GET /canary?id=" + vid.encode() + b"-smuggled HTTP/1.1\r\nHost: a\r\n\r\n"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def _add(vid: str, slug: str, raw: bytes, entry: dict[str, Any]) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]+", vid), vid
    assert vid not in RAW, f"duplicate id {vid}"
    number = len(VECTORS) + 1
    folder = "valid" if entry["status"] == 200 else "invalid"
    name = f"{folder}/{number:03d}-{vid}-{_slug(slug)}.http"
    RAW[vid] = raw
    VECTORS.append({"id": vid, "file": name, **entry})


def bad(vid: str, slug: str, raw: bytes, status: int, source: str, *, stage: str = "head",
        note: Optional[str] = None, live: Optional[dict[str, Any]] = None) -> None:
    """A request the server must refuse with `status` (then close)."""
    assert status in (400, 413, 414, 417, 431, 501, 505), status
    entry: dict[str, Any] = {"status": status, "must_close": True, "stage": stage}
    end = raw.find(b"\r\n\r\n")
    entry["head_len"] = end + 4 if stage == "body" else None
    entry["source"] = source
    if note:
        entry["note"] = note
    if live:
        entry["live"] = live
    _add(vid, slug, raw, entry)


def _split_head(head: bytes) -> tuple[str, str, str, list[list[str]]]:
    """Independent, naive reading of a well-formed head (valid vectors only)."""
    text = head.decode("latin-1")
    while text.startswith("\r\n"):
        text = text[2:]
    assert text.endswith("\r\n\r\n"), head
    lines = text[:-4].split("\r\n")
    method, target, version = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers.append([name, value.strip(" \t")])
    return method, target, version, headers


def ok(vid: str, slug: str, head: bytes, source: str, *, body: bytes = b"",
       decoded: Optional[bytes] = None, extra: bytes = b"", extra_requests: int = 0,
       keepalive: Optional[bool] = None, version: Optional[str] = None,
       chunked: Optional[bool] = None,
       expect_continue: bool = False, note: Optional[str] = None,
       live: Optional[dict[str, Any]] = None) -> None:
    """A request the server must accept; `body` is what follows the head on the wire,
    `decoded` the body a handler reads (chunked only), `extra` more pipelined bytes."""
    method, target, sent_version, headers = _split_head(head)
    lower = {name.lower(): value for name, value in headers}
    if chunked is None:
        chunked = lower.get("transfer-encoding", "").lower() == "chunked"
    content_length = None if chunked or "content-length" not in lower \
        else int(lower["content-length"])
    if chunked:
        assert decoded is not None, vid
    else:
        assert decoded is None and len(body) == (content_length or 0), vid
        decoded = body
    version = version or sent_version
    if keepalive is None:
        tokens = [t.strip().lower() for t in lower.get("connection", "").split(",")]
        keepalive = "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens)
    entry: dict[str, Any] = {
        "status": 200, "must_close": not keepalive, "stage": None, "head_len": len(head),
        "source": source}
    if note:
        entry["note"] = note
    entry.update({
        "method": method, "target": target, "version": version,
        "header_count": len(headers), "headers": headers, "content_length": content_length,
        "chunked": chunked, "keepalive": keepalive, "expect_continue": expect_continue,
        "body": decoded.decode("latin-1"), "extra_requests": extra_requests})
    if live:
        entry["live"] = live
    _add(vid, slug, head + body + extra, entry)


# ---------------------------------------------------------------------------------------
# 2.1 Request line (RFC 9112 §3, §2.2, §2.3; RFC 9110 §9.1)

bad("RL1", "missing target", b"GET HTTP/1.1\r\n\r\n", 400,
    "RFC 9112 §3; gunicorn invalid/002, gunicorn#3235")
bad("RL2", "empty target", b"GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3 request-target is not empty; gunicorn#3235")
bad("RL3", "LF separators", b"GET\n/\nHTTP/1.1\r\n\r\n", 400,
    "RFC 9112 §2.2, §3; gunicorn invalid/003")
bad("RL4a", "two spaces after method", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3 exactly one SP; Apache http_strict.t")
bad("RL4b", "tab after method", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3 exactly one SP; httparse probe")
bad("RL4c", "space inside method", b"G ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3; Apache http_strict.t 'G ET'")
bad("RL4d", "two spaces before version", b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3 exactly one SP")
bad("RL5a", "space after version", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3; Apache http_strict.t; llhttp 'Invalid space after start line'")
bad("RL5b", "token after version", b"GET / HTTP/1.0 x\r\n\r\n", 400,
    "RFC 9112 §3; Apache http_strict.t")
bad("RL6a", "colon in method", b"bla:rgh /foo HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1 method = token; gunicorn invalid/003b")
bad("RL6b", "method with colon suffix", b"GET: / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1 method = token; gunicorn invalid/prefix_05")
bad("RL6c", "leading dash method", b"-bl /foo HTTP/1.1\r\nHost: a\r\n\r\n", 501,
    "RFC 9110 §9.1, §15.6.2; gunicorn invalid/003c",
    note="'-bl' is a syntactically valid token ('-' is a tchar), so it is an unknown method: "
         "501 (RFC 9110 §9.1). The catalogue lists gunicorn's 400; both refuse and close.")
bad("RL7a", "NUL after method", b"GET\0 /foo HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1; gunicorn invalid/prefix_01")
bad("RL7b", "NUL inside method", b"GET\0PROXY /foo HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1; gunicorn invalid/prefix_02")
bad("RL7c", "NUL splitting method", b"G\0ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1; Apache http_strict.t 'G\\0ET'")
bad("RL8", "non-ASCII method", b"GET\xc3\x9f /germans.. HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9110 §9.1; gunicorn invalid/nonascii_01")
bad("RL9", "lowercase method", b"get / HTTP/1.0\r\n\r\n", 501,
    "RFC 9110 §9.1 methods are case-sensitive; Apache http_strict.t expects 501")
bad("RL10", "unknown method BREW", b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501,
    "RFC 9110 §9.1, §15.6.2 (501 for an unrecognised method)")
bad("RL10b", "method PURGE", b"PURGE / HTTP/1.1\r\nHost: a\r\n\r\n", 501,
    "RFC 9110 §9.1, §15.6.2 (a method this server does not implement)")
bad("RL11a", "FTP protocol", b"GET /foo FTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3; gunicorn invalid/004")
bad("RL11b", "version trailing letter", b"GET /foo HTTP/1.1x\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3 HTTP/DIGIT.DIGIT; gunicorn invalid/018")
bad("RL11c", "version without dot", b"GET /foo HTTP/111\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3; gunicorn invalid/prefix_06")
bad("RL11d", "two-digit minor", b"GET /foo HTTP/1.11\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3 one digit each side")
bad("RL11e", "two-digit major", b"GET /foo HTTP/10.0\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3 one digit each side")
bad("RL11f", "80-digit version", b"GET /foo HTTP/1." + b"0" * 80 + b"\r\nHost: a\r\n\r\n",
    400, "RFC 9112 §2.3; Apache http_strict.t")
bad("RL11g", "lowercase http", b"GET /foo http/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.3 HTTP-name is case-sensitive")
bad("RL12", "HTTP 2.0", b"GET /foo HTTP/2.0\r\n\r\n", 505,
    "RFC 9110 §15.6.6; gunicorn invalid/version_02 (gunicorn answers 400)")
bad("RL13a", "HTTP 0.99", b"GET /foo HTTP/0.99\r\n\r\n", 400,
    "RFC 9112 §2.3; gunicorn invalid/version_01")
bad("RL13b", "HTTP 0.9 with version token", b"GET /foo HTTP/0.9\r\n\r\n", 505,
    "RFC 9110 §15.6.6; catalogue §1 rule: well-formed HTTP/d.d with major != 1 -> 505",
    note="Catalogue §2.1 lists 400 (Apache expects any error); §1 gives the rule used here: "
         "a well-formed version with major != 1 is 505.")
bad("RL14", "HTTP 0.9 request", b"GET /\r\n\r\n", 400,
    "RFC 9112 §2.3 (no HTTP/0.9); llhttp sample.md 'No HTTP version' accepts it")
bad("RL16a", "CR CR after version", b"GET / HTTP/1.0\r\r\n\r\n", 400,
    "RFC 9112 §2.2 bare CR; Apache http_strict.t")
bad("RL16b", "bare CR line end", b"GET / HTTP/1.1\rLine: 1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.2 bare CR; llhttp 'No LF after CR'")
ok("RL15", "HTTP 1.2 served as 1.1", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
   "RFC 9110 §2.5 (process as the highest supported minor version); Apache accepts",
   version="HTTP/1.1", note="Catalogue: 505 or handle as 1.1 (document it): handled as 1.1.")
ok("RL17a", "one leading CRLF", b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §2.2 SHOULD ignore at least one empty line; llhttp 'Prefix newline'")
ok("RL17b", "four leading CRLF", b"\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §2.2; the server caps leading empty lines at 4")
bad("RL17c", "five leading CRLF", b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    400, "RFC 9112 §2.2 (cap it); server limit: at most 4 leading empty lines")
bad("RL17d", "leading bare LF", b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.2 bare LF; waitress CVE-2019-16785")
bad("RL18", "asterisk GET", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3.2.4 asterisk-form only for OPTIONS; gunicorn "
    "invalid/rfc9112_target_asterisk_non_options_01")
ok("RL19", "OPTIONS asterisk", b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3.2.4; gunicorn valid/rfc9112_target_asterisk_options_01",
   live={"handled": False, "why": "OPTIONS * is answered by the server itself (200 + Allow), "
         "as httpd does; no handler runs"})
bad("RL20", "authority form GET", b"GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3.2.3 authority-form only for CONNECT; gunicorn "
    "invalid/rfc9112_target_authority_non_connect_01")
bad("RL21", "CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    501, "RFC 9110 §9.3.6 (not a proxy): 501")
bad("RL22", "relative target", b"GET foo/bar HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §3.2; gunicorn invalid/rfc9112_target_relative_01")
ok("RL23", "absolute form", b"GET http://evil/x HTTP/1.1\r\nHost: good\r\n\r\n",
   "RFC 9112 §3.2.2 MUST accept absolute-form; gunicorn valid/rfc9112_target_absolute_01")
for suffix, target in [("a", b"http://foo@localhost:80/"), ("b", b"http://localhost:80x/"),
                       ("c", b"http://localhost::80/"), ("d", b"http://0x7f.1/"),
                       ("e", b"http://017700000001/"), ("f", b"http://127.01.0.1/"),
                       ("g", b"http://%3127.0.0.1/"), ("h", b"http://[4712::abcd::]/")]:
    bad("RL24" + suffix, "absolute form " + target.decode()[7:],
        b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "RFC 9112 §3.2.2, RFC 3986 §3.2; Apache http_strict.t")
bad("RL25", "fragment in target", b"GET /#frag HTTP/1.0\r\n\r\n", 400,
    "RFC 9112 §3.2 (no fragment in request-target); Apache http_strict.t")
bad("RL26a", "SOH in target", b"GET /\x01 HTTP/1.0\r\n\r\n", 400,
    "RFC 9112 §3.2, RFC 3986 §3.3; Apache http_strict.t")
bad("RL26b", "NUL in target", b"GET /\0 HTTP/1.0\r\n\r\n", 400, "RFC 9112 §3.2; Apache")
bad("RL26c", "DEL in target", b"GET /foo\x7fohno HTTP/1.0\r\n\r\n", 400,
    "RFC 9112 §3.2; httparse test_request_with_del_in_path")
bad("RL27", "raw UTF-8 in target", b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "RFC 3986 §2 (percent-encode non-ASCII); llhttp uri.md strict mode")
bad("RL28", "garbage absolute target", b"PUT s://]ufd/: HTTP/1.1\r\nHost: a\r\n\r\n", 400,
    "gunicorn invalid/016, gunicorn#1023 (answered 500)")
bad("RL29", "request line over limit",
    b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414,
    "RFC 9112 §3 (414); gunicorn invalid/006; Apache limits.t requestline-fail")
ok("RL29ok", "request line at limit",
   b"GET /" + b"a" * (8190 - len("GET / HTTP/1.1")) + b" HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3; LimitRequestLine 8190 is inclusive")
ok("RL30", "keeping slashes", b"GET ///keeping_slashes HTTP/1.1\r\nHost: a\r\n\r\n",
   "gunicorn valid/100; waitress 1.3.1")

# ---------------------------------------------------------------------------------------
# 2.2 Header fields (RFC 9110 §5.1, §5.5, §5.6.2; RFC 9112 §5)

bad("H1", "NUL in name", G + b"ba\0z: bar\r\n\r\n", 400,
    "RFC 9110 §5.1 field-name = token; gunicorn invalid/005")
bad("H2", "non-ASCII name", G + b"Content-Length\xc3\x9f: 3\r\n\r\n", 400,
    "RFC 9110 §5.1; gunicorn invalid/nonascii_03")
bad("H3a", "space before colon CL", P + b"Content-Length : 3\r\n\r\nabc", 400,
    "RFC 9112 §5.1 MUST 400; gunicorn invalid/020")
bad("H3b", "space before colon", G + b"Foo :bar\r\n\r\n", 400,
    "RFC 9112 §5.1 MUST 400; Apache http_strict.t")
bad("H4", "empty name", G + b": x\r\n\r\n", 400, "RFC 9110 §5.1; Apache http_strict.t")
bad("H5", "no colon", G + b"Foo bar\r\n\r\n", 400, "RFC 9112 §5; waitress 'notvalid'")
for suffix, char in [("a", b"\x07"), ("b", b"\x7f"), ("c", b"\x01"), ("d", b"\x0b"),
                     ("e", b"\x0c"), ("f", b"\x00")]:
    bad("H6" + suffix, f"control 0x{char[0]:02x} in value",
        G + b"X: plain" + char + b"injected\r\n\r\n", 400,
        "RFC 9110 §5.5 field-vchar; gunicorn invalid/rfc9110_field_value_ctl_*; waitress")
bad("H7", "bare CR in value", G + b"X: a\rb\r\n\r\n", 400,
    "RFC 9110 §5.5, RFC 9112 §2.2; Apache 'Fo: bar\\r\\r\\n'")
_h8 = b"GET /canary?id=H8-smuggled HTTP/1.1\nHost: x\r\n\r\n"
bad("H8", "bare LF injects headers",
    G + b"Newline: a\nContent-Length: " + str(len(_h8)).encode() + b"\r\n\r\n" + _h8, 400,
    "RFC 9112 §2.2; gunicorn invalid/invalid_field_value_01, gunicorn#3144")
bad("H9", "bare LF ends head early",
    G + b"Useless:\n\nGET /canary?id=H9-smuggled HTTP/1.1\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.2; gunicorn#3144 (OpenLiteSpeed forwards bare LF)")
bad("H10", "obs-fold", b"GET / HTTP/1.1\r\nLong: one\r\n two\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §5.2 (server may reject obs-fold with 400); gunicorn invalid/obs_fold_01")
bad("H11", "obs-fold after TE", P + b"Transfer-Encoding: chunked\r\n \x0bchunked\r\n\r\n", 400,
    "RFC 9112 §5.2; llhttp 'Invalid OBS fold after chunked value'")
bad("H12", "whitespace before first header",
    b"GET / HTTP/1.1\r\n X: a\r\nHost: a\r\n\r\n", 400,
    "RFC 9112 §2.2 MUST reject or ignore; Apache ' Foo:bar'")
ok("H13", "OWS around value", G + b"Name: \t value \t \r\n\r\n",
   "RFC 9110 §5.5 OWS is not part of the value; gunicorn valid/padding_01")
ok("H14", "obs-text value", G + b"X: caf\xc3\xa9\r\n\r\n",
   "RFC 9110 §5.5 obs-text; gunicorn valid/rfc9110_field_value_obs_text_01")
bad("H15", "duplicate Host", G + b"Host: evil\r\n\r\n", 400,
    "RFC 9112 §3.2 MUST 400; gunicorn invalid/042; waitress")
bad("H16", "no Host on 1.1", b"GET / HTTP/1.1\r\n\r\n", 400, "RFC 9112 §3.2 MUST 400")
bad("H17", "duplicate Content-Type", G + b"Content-Type: a\r\nContent-Type: b\r\n\r\n", 400,
    "RFC 9110 §5.3 (singleton field sent twice); gunicorn invalid/041; waitress")
for suffix, host in [("a", b"abc\xa0"), ("b", b"abc\\foo"), ("c", b"localhost:80 x"),
                     ("d", b"4714::abcd:8001")]:
    bad("H18" + suffix, "bad Host " + host.decode("latin-1"),
        b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400,
        "RFC 9110 §7.2, RFC 3986 §3.2.2; Apache http_strict.t")
ok("H19", "underscore framing names",
   G + b"Transfer_Encoding: tricked\r\nContent-Length: 7\r\nContent_Length: -1E23\r\n\r\n",
   "gunicorn valid/040 (drop) and invalid/040 (refuse); RFC 9110 §5.1", body=b"abcdefg",
   note="Underscore names are ordinary fields (Apache keeps them in headers_in too) and never "
        "take part in framing: Content-Length 7 frames the body. gunicorn drops/refuses them "
        "because of WSGI environ collisions; the same concern applies to req.add_cgi_vars() "
        "here once it exists (Apache 2.4 skips such names when building the CGI env).")
bad("H20", "field over limit", G + b"X: " + b"a" * 8200 + b"\r\n\r\n", 431,
    "RFC 6585 §5; gunicorn invalid/007; Apache limits.t fieldsize")
ok("H20ok", "field at limit", G + b"X: " + b"a" * (8190 - 3) + b"\r\n\r\n",
   "RFC 6585 §5; LimitRequestFieldSize 8190 is inclusive")
bad("H21", "101 fields",
    G + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n", 431,
    "RFC 6585 §5; gunicorn invalid/009; Apache limits.t fieldcount")
ok("H21ok", "100 fields", G + b"".join(b"X-%d: v\r\n" % i for i in range(99)) + b"\r\n",
   "RFC 6585 §5; LimitRequestFields 100 is inclusive")
bad("H22", "head over 64 KiB",
    G + b"".join(b"X-%d: " % i + b"a" * 7000 + b"\r\n" for i in range(10)) + b"\r\n", 431,
    "RFC 6585 §5; Apache limits.t merged_fieldsize; the server caps a head at 64 KiB")
ok("H23", "forwarded scheme headers",
   G + b"X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n\r\n",
   "gunicorn invalid/019 (trusted proxy only)",
   note="Not applicable: the server has no trusted-proxy / forwarded-header support, so these "
        "are ordinary fields with no meaning to it.")
ok("H24", "empty value", G + b"X-Empty:\r\n\r\n", "RFC 9110 §5.5 field-value may be empty")
ok("H25", "all tchars in name", G + b"!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
   "RFC 9110 §5.6.2 tchar")
ok("H26", "tab inside value", G + b"X: a\tb  c\r\n\r\n", "RFC 9110 §5.5 (HTAB/SP inside value)")
ok("H27", "empty Host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
   "RFC 9112 §3.2 (empty Host when the target has no authority)")
ok("H28", "Host with port", b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
   "RFC 9110 §7.2")
ok("H29", "Host IPv6 literal", b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
   "RFC 9110 §7.2, RFC 3986 §3.2.2")
ok("H30", "Host dotted quad", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "RFC 3986 §3.2.2")
ok("H31", "Host trailing dot", b"GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n",
   "RFC 3986 §3.2.2 (a fully qualified name)")
ok("H32", "lowercase header names",
   b"GET / HTTP/1.1\r\nhost: a\r\nuser-agent: t\r\naccept: */*\r\n\r\n",
   "RFC 9110 §5.1 field names are case-insensitive")
ok("H33", "typical browser head",
   G + b"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,*/*;q=0.8\r\n"
   b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
   b"Cookie: a=1; b=2\r\nCache-Control: max-age=0\r\n\r\n", "RFC 9110 §5")
bad("H34", "NUL in header value middle", G + b"Cookie: a=1\0b=2\r\n\r\n", 400,
    "RFC 9110 §5.5 (NUL MUST be rejected or replaced)")
bad("H35", "bare LF after last header", G + b"X: a\n\r\n", 400,
    "RFC 9112 §2.2; waitress CVE-2019-16785")
bad("H36", "all bare LF head", b"GET / HTTP/1.1\nHost: a\n\n", 400,
    "RFC 9112 §2.2 (server refuses bare LF); waitress CVE-2019-16785")

# ---------------------------------------------------------------------------------------
# 2.3 Content-Length (RFC 9110 §8.6; RFC 9112 §6.2, §6.3)

bad("CL1", "two different CL", P + b"Content-Length: 3\r\nContent-Length: 2\r\n\r\nxyz", 400,
    "RFC 9112 §6.3(5); gunicorn invalid/021; llhttp 'Duplicate Content-Length'")
bad("CL2", "two equal CL", P + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400,
    "RFC 9110 §8.6 (MAY collapse; strict: refuse); gunicorn rejects every duplicate")
bad("CL3", "CL list form", P + b"Content-Length: 5, 5\r\n\r\nhello", 400,
    "RFC 9112 §6.3(5); gunicorn invalid/rfc9112_smuggle_cl_list_form_01")
for suffix, value in [("a", b"-1"), ("b", b"-0"), ("c", b"+1"), ("d", b"0_1"),
                      ("e", b"bla-bla-bla"), ("f", b"-1E23"), ("g", b"0x10"), ("h", b"")]:
    bad("CL4" + suffix, "CL " + (value.decode() or "empty"),
        P + b"Content-Length: " + value + b"\r\n\r\n", 400,
        "RFC 9110 §8.6 Content-Length = 1*DIGIT; gunicorn invalid/014-015, 022-024; "
        "waitress GHSA-4f7p-27jc-3c36")
for suffix, value in [("a", b"0 1"), ("b", b"3 1"), ("c", b"1 2")]:
    bad("CL5" + suffix, "CL inner space " + value.decode(),
        P + b"Content-Length: " + value + b"\r\n\r\nabc", 400,
        "RFC 9110 §8.6; gunicorn invalid/prefix_03-04; llhttp 'Spaces in Content-Length'")
ok("CL6a", "CL surrounding spaces", P + b"Content-Length:  42 \r\n\r\n",
   "RFC 9110 §5.5 OWS; llhttp 'Spaces in Content-Length (surrounding)'", body=b"x" * 42)
ok("CL6b", "CL surrounding tabs", P + b"Content-Length:\t42\t\r\n\r\n", "RFC 9110 §5.5 OWS",
   body=b"y" * 42)
bad("CL7", "CL overflow", P + b"Content-Length: 1000000000000000000000\r\n\r\n", 400,
    "RFC 9110 §8.6 (overflow); llhttp 'Error on Content-Length overflow'")
bad("CL8", "CL u64 max", P + b"Content-Length: 18446744073709551615\r\n\r\n", 413,
    "RFC 9110 §15.5.14; compare with the body limit before allocating")
bad("CL9", "CL over body limit", P + b"Content-Length: 2097152\r\n\r\n", 413,
    "RFC 9110 §15.5.14 (LimitRequestBody 1 MiB); Apache limits.t bodysize")
bad("CL10", "CR instead of dash", P + b"Content\rLength: 42\r\n\r\n", 400,
    "RFC 9112 §2.2; llhttp 'Content-Length with CR instead of dash'")
ok("CL11", "GET with body", G + b"Content-Length: 5\r\n\r\n",
   "RFC 9110 §9.3.1; gunicorn valid/rfc9110_body_framing_get_cl_nonzero_01", body=b"hello")
ok("CL12", "request in body", G + b"Content-Length: " +
   str(len(smuggled("CL12"))).encode() + b"\r\n\r\n",
   "RFC 9112 §6.3; the body is consumed even if the handler ignores it",
   body=smuggled("CL12"))
ok("CL13", "unread big body then pipelined",
   b"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 66000\r\n\r\n",
   "gunicorn tests/test_asgi_keepalive_smuggling.py; Apache CVE-2022-22720",
   body=b"0123456789" + smuggled("CL13") + b"z" * (66000 - 10 - len(smuggled("CL13"))),
   note="The file carries the whole 66000-byte body so every parser sees a complete "
        "request; the live test sends only the first 10 body bytes and the smuggled GET.",
   live={"truncate_body": 10 + len(smuggled("CL13")), "canary": "not_run", "must_close": True,
         "why": "/noread answers without reading; 66000 bytes is over the 64 KiB drain "
                "limit, so the server must close instead of parsing the rest"})
bad("CL14", "CL Arabic-Indic digit", P + b"Content-Length: \xd9\xa1\r\n\r\n", 400,
    "RFC 9110 §8.6 ASCII digits only; waitress GHSA-4f7p-27jc-3c36")
ok("CL15", "CL zero", P + b"Content-Length: 0\r\n\r\n", "RFC 9110 §8.6")
ok("CL16", "CL leading zeros", P + b"Content-Length: 007\r\n\r\n",
   "RFC 9110 §8.6 1*DIGIT (leading zeros allowed)", body=b"seven!!")
ok("CL17", "binary body", P + b"Content-Length: 8\r\nContent-Type: application/octet-stream"
   b"\r\n\r\n", "RFC 9110 §8.6 (body bytes are opaque)", body=b"\x00\r\n\xff\r\n\r\n")
ok("CL18", "HTTP 1.0 POST", b"POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\n",
   "RFC 9112 §6.2; Appendix C.2.2", body=b"data")
bad("CL19", "CL with trailing junk", P + b"Content-Length: 3;\r\n\r\nabc", 400,
    "RFC 9110 §8.6 1*DIGIT")

# ---------------------------------------------------------------------------------------
# 2.4 Transfer-Encoding (RFC 9112 §6.1, §6.3)

bad("TE1", "CL then TE chunked",
    P + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 (MAY reject, MUST close); gunicorn "
    "invalid/rfc9112_smuggle_cl_te_chunked_01; Apache teclchunk.t")
_te2 = b"GPOST /canary?id=TE2-smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
bad("TE2", "xchunked with CL",
    P + b"Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + _te2 +
    b"\r\n0\r\n\r\n", 501,
    "RFC 9112 §6.1 (501 for an unknown coding), never fall back to CL; gunicorn "
    "CVE-2024-6827 (GHSA-hc5x-x2vx-497g)")
bad("TE3", "TE chunked then TE x", P + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x"
    b"\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.3(4) chunked not final; gunicorn CVE-2024-1135 (GHSA-w3h3-4rj7-4ph4)")
bad("TE4", "identity chunked identity chunked",
    P + b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 chunked at most once; gunicorn invalid/chunked_04")
bad("TE5", "list chunked twice",
    P + b"Transfer-Encoding: identity, chunked, identity, chunked\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 chunked at most once; gunicorn invalid/chunked_03")
bad("TE6a", "chunked then identity list", P + b"Transfer-Encoding: chunked, identity\r\n\r\n"
    b"0\r\n\r\n", 400, "RFC 9112 §6.3(4) chunked must be final; gunicorn invalid/chunked_08")
bad("TE6b", "chunked then identity fields", P + b"Transfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400, "RFC 9112 §6.3(4)")
bad("TE7a", "chunked then gzip", P + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip"
    b"\r\n\r\n0\r\n\r\n", 400, "RFC 9112 §6.3(4); gunicorn invalid/chunked_06")
bad("TE7b", "chunked then deflate", P + b"Transfer-Encoding: chunked, deflate\r\n\r\n"
    b"0\r\n\r\n", 400, "RFC 9112 §6.3(4); llhttp 'chunked before other transfer coding'")
bad("TE8", "identity then chunked", P + b"Transfer-Encoding: identity, chunked\r\n\r\n"
    b"0\r\n\r\n", 501,
    "RFC 9112 §6.1; 'identity' is not a registered coding since RFC 7230: 501 is allowed by "
    "the catalogue (gunicorn accepts: valid/rfc9112_smuggle_te_identity_chunked_01)")
bad("TE9", "gzip then chunked", P + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
    "RFC 9112 §6.1 (no gzip request decoding); waitress GHSA-g2xc-35jw-c63p")
for suffix, coding in [("a", b"pigeons"), ("b", b"chunk"), ("c", b"chunkedchunked"),
                       ("d", b"xchunked"), ("e", b"chunked-false")]:
    bad("TE10" + suffix, "unknown coding " + coding.decode(),
        P + b"Transfer-Encoding: " + coding + b"\r\n\r\n0\r\n\r\n", 501,
        "RFC 9112 §6.1 SHOULD 501; llhttp 'Ignoring pigeons'; h11 error_status_hint=501")
bad("TE11", "empty TE with CL", P + b"Transfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc", 400,
    "RFC 9112 §6.1; llhttp 'POST with empty Transfer-Encoding and Content-Length'")
bad("TE12", "tab chunked with CL",
    P + b"Transfer-Encoding: \tchunked\r\nContent-Length: 12\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 CL and TE together; gunicorn invalid/chunked_02")
bad("TE13a", "VT before chunked", P + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", 400,
    "RFC 9110 §5.5; gunicorn#3364; waitress CVE-2019-16789")
bad("TE13b", "NEL before chunked", P + b"Transfer-Encoding:\x85chunked\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 (not a token); gunicorn#3364; waitress CVE-2019-16789",
    note="Catalogue: 400c/501c, never chunked.")
bad("TE13c", "unicode whitespace around chunked",
    P + b"Transfer-Encoding: \x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0chunked\x85\xa0\r\n\r\n0\r\n\r\n",
    400, "RFC 9110 §5.5; waitress invalid_whitespace, CVE-2019-16789")
bad("TE14", "Kelvin sign chunked", P + b"Transfer-Encoding: chun\xe2\x84\xaaed\r\n\r\n"
    b"0\r\n\r\n", 400,
    "RFC 9112 §6.1 transfer-coding = token; waitress "
    "test_parse_header_transfer_encoding_invalid_unicode (501)",
    note="The catalogue lists waitress's 501. The value is not a token at all (bytes >= 0x80), "
         "so it is malformed rather than an unknown coding: 400 (RFC 9110 §15.5.1). Either "
         "way it is refused, closed and never treated as chunked.")
bad("TE15a", "space before colon TE", P + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400,
    "RFC 9112 §5.1 MUST 400; gunicorn invalid/chunked_07")
ok("TE15b", "underscore TE not chunked", P + b"Transfer_Encoding: chunked\r\n\r\n",
   "RFC 9110 §5.1 (a different field name); gunicorn invalid/chunked_07",
   note="Catalogue: 400 or 'header dropped (not chunked)'. It is kept as an ordinary field "
        "and has no framing effect: no body.")
ok("TE16", "mixed case chunked", P + b"Transfer-Encoding: ChUnKeD\r\n\r\n",
   "RFC 9112 §7 coding names are case-insensitive; waitress test_parse_header_11_te_chunked",
   body=b"5\r\nhello\r\n0\r\n\r\n", decoded=b"hello")
bad("TE17", "TE on HTTP 1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n0\r\n\r\n", 400,
    "RFC 9112 §6.1 (TE in 1.0 means faulty framing); gunicorn invalid/chunked_05")
ok("TE18", "TE in trailer ignored", C, "RFC 9110 §6.5.1; gunicorn "
   "invalid/rfc9110_trailer_forbidden_te_01",
   body=b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n", decoded=b"hello",
   note="Catalogue: 400c or ignore. Trailer fields are discarded, never honoured or merged.")
ok("TE19", "TE chunked with OWS", P + b"Transfer-Encoding: \t chunked \t\r\n\r\n",
   "RFC 9110 §5.5 OWS", body=b"3\r\nabc\r\n0\r\n\r\n", decoded=b"abc")
bad("TE20", "TE chunked then CL", P + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\n", 400, "RFC 9112 §6.1 (TE.CL order); Apache teclchunk.t")
for suffix, value in [("a", b",chunked"), ("b", b"chunked, ")]:
    ok("TE21" + suffix, "TE list empty element " + value.decode(),
       P + b"Transfer-Encoding: " + value + b"\r\n\r\n",
       "RFC 9110 §5.6.1.2: a recipient MUST parse and ignore a reasonable number of empty "
       "list elements (Transfer-Encoding = #transfer-coding)",
       body=b"3\r\nabc\r\n0\r\n\r\n", decoded=b"abc", chunked=True,
       note="An empty list element is not a coding: the list means just 'chunked'.")

# ---------------------------------------------------------------------------------------
# 2.5 Chunked body (RFC 9112 §7.1, §7.1.1, §7.1.2); all start with C


def chunk_bad(vid: str, slug: str, body: bytes, source: str, status: int = 400,
              note: Optional[str] = None) -> None:
    bad(vid, slug, C + body, status, source, stage="body", note=note)


chunk_bad("CH1", "underscore in size", b"5\r\nhello\r\n6_0\r\n world\r\n0\r\n\r\n",
          "RFC 9112 §7.1 chunk-size = 1*HEXDIG; gunicorn invalid/chunked_01")
chunk_bad("CH2a", "minus size", b"-5\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/rfc9112_chunked_size_minus_sign_01")
chunk_bad("CH2b", "plus size", b"+5\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/rfc9112_chunked_size_plus_sign_01")
chunk_bad("CH2c", "0x size", b"0x5\r\nhello\r\n0\r\n\r\n", "RFC 9112 §7.1; uhttpd#3")
chunk_bad("CH3", "space after size", b"5\r\nhello\r\n0 \r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/chunked_09; llhttp 'Space after chunk header'")
chunk_bad("CH4", "space before size", b"5\r\nhello\r\n 0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/chunked_10")
chunk_bad("CH5", "empty size line", b"\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/chunked_13; httparse returns size 0")
chunk_bad("CH6", "extension only size line", b" ;foo=bar\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/chunked_12; httparse returns size 0")
chunk_bad("CH7", "bare LF after size", b"5\n;\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1; gunicorn invalid/chunked_11; llhttp")
chunk_bad("CH8", "bare CR in extension", b"5;ext=val\rue\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1; gunicorn invalid/chunked_14, PR#3327")
_ch9 = smuggled("CH9")
chunk_bad("CH9", "bare LF in extension",
          b"2;\nxx\r\n%x\r\n" % (len(_ch9) + 2) + b"0\r\n\r\n" + _ch9 + b"\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1; Go CVE-2025-22871 (golang/go#71988); Kestrel CVE-2025-55315; "
          "httparse accepts")
chunk_bad("CH10", "LF in unterminated quoted extension",
          b'1;ext="val\nX\n0\n\n' + smuggled("CH10") + b"\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1; 'funky chunks' (w4ke.info 2025); Jetty CVE-2026-2332")
ok("CH11", "quoted extension", C, "RFC 9112 §7.1.1; gunicorn "
   "valid/rfc9112_chunked_ext_quoted_01", body=b'5;foo="bar baz"\r\nhello\r\n0\r\n\r\n',
   decoded=b"hello")
ok("CH12a", "BWS before semicolon", C, "RFC 9112 §7.1.1 (BWS before ';')",
   body=b"5 ;foo\r\nhello\r\n0\r\n\r\n", decoded=b"hello")
chunk_bad("CH12b", "empty extension name", b"5;\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1 chunk-ext-name = token; llhttp 'No extension after semicolon'")
chunk_bad("CH13", "data without CRLF", b"5\r\nhelloXX0\r\n\r\n",
          "RFC 9112 §7.1; llhttp; h11 CVE-2025-43859")
chunk_bad("CH14", "missing last chunk", b"3\r\nfoo\r\n\r\n",
          "RFC 9112 §7.1; llhttp 'Missing last-chunk'")
bad("CH15", "last chunk then EOF", C + b"0\r\n", 400,
    "RFC 9112 §7.1; gunicorn invalid/rfc9112_chunked_missing_final_crlf_01", stage="body",
    note="decode_chunked refuses incomplete input with 400; on the wire the request is "
         "simply incomplete.",
    live={"eof": True, "status": [400, None], "canary": "not_run", "must_close": True,
          "why": "the client half-closes after '0\\r\\n': a 400 or no response, then close"})
ok("CH16", "leading zeros", C, "RFC 9112 §7.1; gunicorn valid/…leading_zeros_01; llhttp "
   "'triple zero prefixed end chunk'", body=b"0005\r\nhello\r\n000\r\n\r\n", decoded=b"hello")
chunk_bad("CH17", "17 hex digits", b"fffffffffffffffff\r\nx\r\n0\r\n\r\n",
          "RFC 9112 §7.1 (guard against overflow); httparse")
chunk_bad("CH17b", "17 digits leading zeros", b"00000000000000005\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1 (size-line length guard); catalogue §1 '17 digits, even leading "
          "zeros: Err (safe)'")
chunk_bad("CH18", "16 hex digits", b"ffffffffffffffff\r\nx\r\n0\r\n\r\n",
          "RFC 9110 §15.5.14 (chunk size over the body limit)", status=413)
chunk_bad("CH19a", "16 KiB extension", b"1;" + b"e" * 16384 + b"\r\nx\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1 (limit extensions); Go CVE-2023-39326; hyper PR#3495")
chunk_bad("CH19b", "extensions summing over 16 KiB",
          b"".join(b"1;" + b"e%d=" % i + b"v" * 4000 + b"\r\nx\r\n" for i in range(5))
          + b"0\r\n\r\n",
          "RFC 9112 §7.1.1; Go CVE-2023-39326; Bun PR#34504 (16 KiB like Node)")
for suffix, trailer in [("a", b"Content-Length: 99"), ("b", b"Host: evil"),
                        ("c", b"Transfer-Encoding: chunked")]:
    ok("CH20" + suffix, "forbidden trailer " + trailer.decode().split(":")[0], C,
       "RFC 9110 §6.5.1; gunicorn invalid/rfc9110_trailer_forbidden_*",
       body=b"5\r\nhello\r\n0\r\n" + trailer + b"\r\n\r\n", decoded=b"hello",
       note="Catalogue: 400c or discard. Trailer fields are discarded, never merged into "
            "headers_in.")
ok("CH21", "trailer field", C, "RFC 9112 §7.1.2; Apache chunkinput.t",
   body=b"5\r\nhello\r\n0\r\nX-Chunk-Trailer: 1\r\n\r\n", decoded=b"hello")
chunk_bad("CH22", "chunk over body limit", b"100001\r\nx\r\n0\r\n\r\n",
          "RFC 9110 §15.5.14 (1 MiB limit); Apache limits.t chunked body-size", status=413)
chunk_bad("CH23", "bare LF after data", b"5\r\nhello\n0\r\n\r\n", "RFC 9112 §7.1")
chunk_bad("CH24", "NUL in extension", b"5;a\0b\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1 (no CTLs); httparse probe")
chunk_bad("CH25", "LF in quoted extension", b'5;a="x\ny"\r\nhello\r\n0\r\n\r\n',
          "RFC 9112 §7.1.1; Jetty CVE-2026-2332")
chunk_bad("CH26", "tab after size", b"5\t\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1 (BWS only before ';')")
chunk_bad("CH27", "extension trailing space", b"5;a=b \r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1 (no whitespace after the last extension)")
chunk_bad("CH28", "extension equals no value", b"5;a=\r\nhello\r\n0\r\n\r\n",
          "RFC 9112 §7.1.1 chunk-ext-val = token / quoted-string")
chunk_bad("CH29", "malformed trailer", b"5\r\nhello\r\n0\r\nnot a field\r\n\r\n",
          "RFC 9112 §7.1.2 trailer-section = *( field-line CRLF )")
chunk_bad("CH30", "bare LF in trailer", b"5\r\nhello\r\n0\r\nX: a\n\r\n",
          "RFC 9112 §2.2, §7.1.2")
chunk_bad("CH31", "obs-fold in trailer", b"5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n",
          "RFC 9112 §5.2, §7.1.2")
chunk_bad("CH32", "chunk longer than size", b"3\r\nhello\r\n0\r\n\r\n", "RFC 9112 §7.1")
chunk_bad("CH33", "last chunk bare LF", b"5\r\nhello\r\n0\n\r\n", "RFC 9112 §7.1")
chunk_bad("CH34", "final CRLF missing CR", b"5\r\nhello\r\n0\r\n\n",
          "RFC 9112 §7.1 (last-chunk trailer-section CRLF)")
chunk_bad("CH35", "space in trailer name", b"5\r\nhello\r\n0\r\nX Y: 1\r\n\r\n",
          "RFC 9110 §5.1 field-name = token")
ok("CH36", "several chunks", C, "RFC 9112 §7.1",
   body=b"1\r\na\r\n2\r\nbc\r\nA\r\n0123456789\r\n0\r\n\r\n", decoded=b"abc0123456789")
ok("CH37", "uppercase hex", C, "RFC 5234 HEXDIG is case-insensitive",
   body=b"1A\r\n" + b"z" * 26 + b"\r\n0\r\n\r\n", decoded=b"z" * 26)
ok("CH38", "data with CRLF inside", C, "RFC 9112 §7.1 (chunk-data is opaque)",
   body=b"7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n", decoded=b"\r\n0\r\n\r\n")
ok("CH39", "quoted extension escapes", C, "RFC 9110 §5.6.4 quoted-pair",
   body=b'3;a="x\\"y";b=tok;c="\t"\r\nabc\r\n0;last\r\n\r\n', decoded=b"abc")
ok("CH40", "extension BWS around equals", C, "RFC 9112 §7.1.1 (BWS around '=')",
   body=b"3 ; a = b\r\nabc\r\n0\r\n\r\n", decoded=b"abc")
ok("CH41", "empty body", C, "RFC 9112 §7.1", body=b"0\r\n\r\n", decoded=b"")
ok("CH42", "two trailers", C, "RFC 9112 §7.1.2",
   body=b"3\r\nabc\r\n0\r\nX-A: 1\r\nX-B: \t2 \r\n\r\n", decoded=b"abc")
ok("CH43", "chunked GET", b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
   "RFC 9110 §9.3.1", body=b"3\r\nabc\r\n0\r\n\r\n", decoded=b"abc")

# The handler answers without reading the body (/noread): the framing error is found only
# when the engine drains the rest of the body after the 200, so the connection must close
# then, and nothing sent after it (smuggled requests, the canary) may run.
_NOREAD = {"status": 200, "close_header": False, "canary": "not_run",
           "why": "/noread answers 200 before the body is read; the bad framing is found while "
                  "draining it: close, nothing after it runs"}
_CN = b"POST /noread HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
bad("CH9n", "unread bare LF in extension",
    _CN + b"2;\nxx\r\n%x\r\n" % (len(_ch9) + 2) + b"0\r\n\r\n" + smuggled("CH9n") +
    b"\r\n0\r\n\r\n", 400, "as CH9 (Go CVE-2025-22871), body never read by the handler",
    stage="body", live=_NOREAD)
bad("CH10n", "unread LF in quoted extension",
    _CN + b'1;ext="val\nX\n0\n\n' + smuggled("CH10n") + b"\r\n0\r\n\r\n", 400,
    "as CH10 (Jetty CVE-2026-2332), body never read by the handler", stage="body", live=_NOREAD)
bad("CH13n", "unread data without CRLF",
    _CN + b"5\r\nhelloXX0\r\n\r\n" + smuggled("CH13n"), 400,
    "as CH13 (h11 CVE-2025-43859), body never read by the handler", stage="body", live=_NOREAD)
ok("CH44", "unread valid chunked body", _CN, "RFC 9112 §7.1; an unread body is drained",
   body=b"5\r\nhello\r\n0\r\n\r\n", decoded=b"hello")
ok("CL20", "unread body holding a request",
   b"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: " +
   str(len(smuggled("CL20"))).encode() + b"\r\n\r\n",
   "RFC 9112 §6.3; an unread body is discarded, never parsed as a request",
   body=smuggled("CL20"))

# ---------------------------------------------------------------------------------------
# 2.6 Connection management, Expect, pipelining (RFC 9112 §9; RFC 9110 §10.1.1)

ok("K1", "HTTP 1.1 keep-alive", G + b"\r\n", "RFC 9112 §9.3")
ok("K2", "HTTP 1.0 closes", b"GET / HTTP/1.0\r\n\r\n", "RFC 9112 §9.3, Appendix C.2.2")
ok("K3", "HTTP 1.0 keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
   "RFC 9112 Appendix C.2.2; llhttp connection.md 'keep-alive'")
ok("K5", "close then pipelined", G + b"Connection: close\r\n\r\n", "RFC 9112 §9.6; llhttp "
   "'Data after Connection: close'", extra=smuggled("K5"),
   live={"why": "data after Connection: close is never run as a request"})
ok("K6", "three pipelined GETs", b"GET /k6-1 HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §9.3.2; llhttp pipelining.md",
   extra=b"GET /k6-2 HTTP/1.1\r\nHost: a\r\n\r\nGET /k6-3 HTTP/1.1\r\nHost: a\r\n\r\n",
   extra_requests=2, live={"responses": 3})
bad("K7", "rejected POST then GET",
    P + b"Content-Length: abc\r\n\r\n" + smuggled("K7"), 400,
    "principle 2 (catalogue §0); RFC 9112 §6.3(5)")
ok("K8", "expect 100-continue", P + b"Expect: 100-continue\r\nContent-Length: 10\r\n\r\n",
   "RFC 9110 §10.1.1, §15.2.1", body=b"0123456789", expect_continue=True)
ok("K9", "expect then no read",
   b"POST /noread HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
   "RFC 9110 §10.1.1; gunicorn HeaderPolicy _expected_100_continue",
   body=b"0123456789", expect_continue=True,
   live={"canary": "any", "must_close": None, "no_interim": True,
         "why": "the handler answers without reading: no 100, then close or drain"})
ok("K10", "expect on HTTP 1.0",
   b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
   "RFC 9110 §10.1.1 MUST ignore on 1.0; gunicorn test_expect_ignored_in_http10",
   body=b"abcd", expect_continue=False)
bad("K11", "unknown expectation", G + b"Expect: something-else\r\n\r\n", 417,
    "RFC 9110 §10.1.1 (417); gunicorn ExpectationFailed")
ok("K12", "HEAD", b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9110 §9.3.2")
ok("K14a", "h2c upgrade ignored",
   G + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
   b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
   "RFC 9110 §7.8 (a server MAY ignore Upgrade); llhttp method.md")
bad("K14b", "HTTP2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505,
    "RFC 9113 §3.4 preface on an HTTP/1.1 port; RFC 9110 §15.6.6")
ok("K20", "expect list empty element",
   P + b"Expect: 100-continue,\r\nContent-Length: 3\r\n\r\n",
   "RFC 9110 §5.6.1.2 (MUST ignore empty list elements), §10.1.1 (Expect = #expectation)",
   body=b"abc", expect_continue=True)
ok("K21", "CRLF after body", P + b"Content-Length: 3\r\n\r\n",
   "RFC 9112 §2.2 (ignore an empty line before the next request; old clients send CRLF "
   "after a POST body)", body=b"abc", extra=b"\r\n")
ok("K16", "Connection close mixed case", G + b"Connection: Keep-Alive, CLOSE\r\n\r\n",
   "RFC 9110 §7.6.1 (connection options are case-insensitive; close wins)")
ok("K17", "lowercase connection name", b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
   "RFC 9110 §5.1, §7.6.1")
ok("K18", "expect case-insensitive", P + b"Expect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
   "RFC 9110 §10.1.1 (expectation is case-insensitive)", body=b"abc", expect_continue=True)
ok("K19", "HTTP 1.0 keep-alive then close", b"GET / HTTP/1.0\r\nConnection: keep-alive, close"
   b"\r\n\r\n", "RFC 9110 §7.6.1")

# ---------------------------------------------------------------------------------------
# Ordinary valid requests

ok("V1", "HTTP 1.1 query", b"GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3.2.1 origin-form")
ok("V2", "percent-encoded path", b"GET /a%20b/c%2Ed HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 3986 §2.1")
ok("V3", "sub-delims in target", b"GET /!$&'()*+,;=:@-._~?/? HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 3986 §3.3 pchar, §3.4 query")
ok("V4", "HTTP 1.0 no Host", b"GET /x HTTP/1.0\r\n\r\n", "RFC 9112 §3.2 (Host required in 1.1)")
ok("V5", "HTTP 1.0 with Host", b"GET /x HTTP/1.0\r\nHost: a\r\n\r\n", "RFC 9112 §3.2")
ok("V6", "PUT", b"PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", "RFC 9110 §9.3.4",
   body=b"put")
ok("V7", "DELETE", b"DELETE /d HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9110 §9.3.5")
ok("V8", "OPTIONS path", b"OPTIONS /o HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9110 §9.3.7")
ok("V9", "PATCH", b"PATCH /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n", "RFC 5789",
   body=b"{}")
ok("V10", "PROPFIND", b"PROPFIND /dav HTTP/1.1\r\nHost: a\r\nDepth: 0\r\n\r\n",
   "RFC 4918 §9.1 (a method Apache knows)")
ok("V12", "absolute https", b"GET https://a:8443/p?q=1 HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3.2.2")
ok("V13", "absolute IPv6", b"GET http://[::1]:80/v6 HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3.2.2, RFC 3986 §3.2.2")
ok("V14", "absolute no path", b"GET http://example.com HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3.2.2 (empty path means /)")
ok("V15", "POST form", P + b"Content-Type: application/x-www-form-urlencoded\r\n"
   b"Content-Length: 11\r\n\r\n", "RFC 9110 §9.3.3", body=b"a=1&b=2&c=3")
ok("V16", "long target query", b"GET /q?" + b"k=v&" * 500 + b"end HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 9112 §3 (well under LimitRequestLine)")
ok("V17", "many small headers", G + b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(40)) +
   b"\r\n", "RFC 9110 §5")
ok("V18", "repeated list header", G + b"Accept: a/b\r\nAccept: c/d\r\n\r\n",
   "RFC 9110 §5.3 (list-based fields may repeat)")
ok("V19", "value with colons", G + b"X-Time: 12:34:56\r\nReferer: http://x:1/y\r\n\r\n",
   "RFC 9110 §5.5 (only the first colon separates)")
ok("V20", "traversal target", b"GET /a/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 3986 §5.2.4; Apache (dot-segments above the root)",
   live={"status": 403, "why": "the parser accepts the bytes; URI translation refuses to "
         "climb above the document root (Apache answers 400 here; this server 403) and keeps "
         "the connection"})
ok("V22", "encoded NUL in path", b"GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 3986 §2.1 (the parser passes pct-encoding through)",
   live={"status": 400, "must_close": True, "canary": "not_run",
         "why": "URI translation refuses a NUL in the decoded path (Apache: 404); 400 closes"})
ok("V23", "backslashes in path", b"GET /..\\..\\etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
   "catalogue §1 ('/..\\..\\etc'); RFC 3986 §3.3",
   note="'\\' is not a pchar (RFC 3986), but it is printable ASCII that Apache and nginx "
        "accept; URI translation never treats it as a separator, so '..\\..' is one "
        "ordinary path segment.")
ok("V24", "absolute form query no path", b"GET http://a?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
   "RFC 3986 §3 (path-abempty may be empty), RFC 9112 §3.2.2",
   live={"args": "x=1", "why": "the query of an absolute-form target without a path"})
ok("V21", "TRACE", b"TRACE /t HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9110 §9.3.8",
   live={"handled": False, "why": "httpd's core answers TRACE itself (TraceEnable On: the "
                                  "request echoed as message/http), before any handler"})


# ---------------------------------------------------------------------------------------


def manifest() -> str:
    doc = {
        "format": 1,
        "about": "HTTP/1.1 request vectors; see make_vectors.py for the field meanings.",
        "limits": LIMITS,
        "canary": CANARY,
        "vectors": VECTORS,
    }
    return json.dumps(doc, indent=1, ensure_ascii=True) + "\n"


def wanted() -> dict[Path, bytes]:
    files = {HERE / v["file"]: RAW[v["id"]] for v in VECTORS}
    files[HERE / "expected.json"] = manifest().encode()
    return files


def main(argv: list[str]) -> int:
    files = wanted()
    existing = {p for d in ("valid", "invalid") for p in (HERE / d).glob("*.http")}
    if "--check" in argv:
        stale = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
        stale += sorted(existing - set(files))
        for path in stale:
            print(f"stale: {path.relative_to(HERE)}")
        return 1 if stale else 0
    for path in existing - set(files):
        path.unlink()
    for path, data in files.items():
        path.parent.mkdir(exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    valid = sum(v["status"] == 200 for v in VECTORS)
    print(f"{len(VECTORS)} vectors ({valid} valid, {len(VECTORS) - valid} refused)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
