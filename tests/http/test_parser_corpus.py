"""Every vector of tests/vectors through the engine's own parser (`_core.parse_head`, then
`_core.decode_chunked` for chunked bodies), compared with the expected outcome; valid
vectors are also re-parsed from every prefix (split at every byte boundary)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from prefork_modpy import _core

from .vectorlib import (
    ENGINE_BUGS,
    PROTO_NUM,
    VECTOR_DIR,
    VECTORS,
    Vector,
    core_limits,
    params,
    rust_outcome,
)

VALID = [v for v in VECTORS if v.valid]
REFUSED = [v for v in VECTORS if not v.valid]


def test_corpus_is_generated_output():
    """The committed files are exactly what make_vectors.py writes."""
    result = subprocess.run([sys.executable, str(VECTOR_DIR / "make_vectors.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_corpus_shape():
    assert len(VECTORS) >= 100
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    for v in VECTORS:
        assert v["file"].startswith("valid/" if v.valid else "invalid/"), v.id
        assert v["source"], v.id
        assert v["must_close"] if not v.valid else v["must_close"] == (not v["keepalive"])


def _latin1(pairs):
    return [[name.decode("latin-1"), value.decode("latin-1")] for name, value in pairs]


def check_valid(v: Vector) -> None:
    out = rust_outcome(v.raw)
    assert out.status == 200, f"refused with {out.status} at {out.stage}: {out.message}"
    head = out.head
    assert head.method == v["method"]
    assert head.target == v["target"]
    assert head.proto_num == PROTO_NUM[v["version"]]
    assert head.head_len == v["head_len"]
    assert len(head.headers) == v["header_count"]
    assert _latin1(head.headers) == v["headers"]
    assert head.content_length == v["content_length"]
    assert head.chunked == v["chunked"]
    assert head.client_keepalive == v["keepalive"]
    assert head.expect_continue == v["expect_continue"]
    assert out.body.decode("latin-1") == v["body"]
    # Further pipelined requests are complete, valid requests of their own.
    rest = v.raw[out.consumed:]
    for _ in range(v["extra_requests"]):
        nxt = rust_outcome(rest)
        assert nxt.status == 200, (nxt.status, nxt.message)
        rest = rest[nxt.consumed:]
    if not v["must_close"]:
        # (empty lines before a next request are ignored, RFC 9112 §2.2)
        assert rest.replace(b"\r\n", b"") == b"", "bytes left over after the last request"


def check_refused(v: Vector) -> None:
    out = rust_outcome(v.raw)
    assert (out.status, out.stage) == (v.status, v["stage"]), out.message
    if out.stage == "body":
        assert out.head.chunked
        assert out.head.head_len == v["head_len"]
    # What follows on the connection never changes the verdict.
    after = rust_outcome(v.raw + v.canary())
    assert (after.status, after.stage) == (out.status, out.stage)


@pytest.mark.parametrize("v", params(VECTORS, ENGINE_BUGS))
def test_vector(v: Vector):
    if v.valid:
        check_valid(v)
    else:
        check_refused(v)


@pytest.mark.parametrize("v", params(VALID, {k: r for k, r in ENGINE_BUGS.items()
                                             if k in {v.id for v in VALID}}))
def test_valid_split_at_every_byte(v: Vector):
    """An incomplete prefix of a valid head is `None` (never an error); from the head's
    last byte on, the answer is the same head; a prefix of a valid chunked body is only
    ever 'incomplete'."""
    limits = core_limits()
    raw = v.raw
    head_len = v["head_len"]
    for cut in range(head_len):
        assert _core.parse_head(raw[:cut], limits) is None, cut
    for cut in (head_len, head_len + 1, len(raw)):
        head = _core.parse_head(raw[:cut], limits)
        assert head is not None and head.head_len == head_len, cut
    if v["chunked"]:
        body = raw[head_len:]
        complete, used = _core.decode_chunked(body, limits.body)
        for cut in range(used):
            with pytest.raises(_core.BadRequestError) as info:
                _core.decode_chunked(body[:cut], limits.body)
            assert info.value.status == 400 and "incomplete" in str(info.value), cut
        assert complete.decode("latin-1") == v["body"]


@pytest.mark.parametrize("v", params([v for v in REFUSED if len(v.raw) <= 4096], {}))
def test_refused_prefixes_never_accepted(v: Vector):
    """No prefix of a refused request is taken as a complete valid head (for head-stage
    refusals) or as a complete valid body (body-stage)."""
    limits = core_limits()
    if v["stage"] == "head":
        for cut in range(len(v.raw)):
            try:
                head = _core.parse_head(v.raw[:cut], limits)
            except _core.BadRequestError:
                continue
            assert head is None, f"prefix of {cut} bytes accepted"
    else:
        body = v.raw[v["head_len"]:]
        for cut in range(len(body)):
            try:
                _core.decode_chunked(body[:cut], limits.body)
            except _core.BadRequestError:
                continue
            pytest.fail(f"body prefix of {cut} bytes accepted")


def test_body_limit_boundaries():
    """LimitRequestBody is inclusive, for Content-Length and for the chunked total."""
    limits = core_limits()
    n = limits.body
    post = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
    assert _core.parse_head(post % n, limits).content_length == n
    with pytest.raises(_core.BadRequestError) as info:
        _core.parse_head(post % (n + 1), limits)
    assert info.value.status == 413
    body, _ = _core.decode_chunked(b"%x\r\n" % n + b"x" * n + b"\r\n0\r\n\r\n", n)
    assert len(body) == n
    half = n // 2 + 1
    with pytest.raises(_core.BadRequestError) as info:
        _core.decode_chunked((b"%x\r\n" % half + b"x" * half + b"\r\n") * 2 + b"0\r\n\r\n", n)
    assert info.value.status == 413
