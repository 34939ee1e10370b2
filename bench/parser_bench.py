"""Parser micro-benchmark: the engine's head parser against httptools (llhttp) on the same
request heads, in the same process.

Heads: the valid vectors of tests/vectors (each cut at the end of its head) that both
parsers accept, and three realistic heads (a browser navigation, a curl GET, an API POST).
Each variant parses every head of a set once per loop; the figure is the best of
`--repeat` timings of `--loops` loops (timeit's method), in nanoseconds per head.

  _core.parse_head          the Rust scanner + strict parser + framing checks, returning a
                            ParsedHead (header list built lazily, as the engine does)
  _core.parse_head+headers  the same, then the (name, value) list built in Python objects
  httptools (framing only)  a fresh HttpRequestParser per head, no callbacks
  httptools (url+headers)   a fresh parser with on_url/on_header/on_headers_complete
                            collecting what a server needs (what gunicorn/uvicorn-style
                            servers do)

Run: .venv/bin/python bench/parser_bench.py [--loops N] [--repeat R]
The Rust-only figure (no Python call in the loop) is `cargo test --release --lib
bench_parse_heads -- --ignored --nocapture`.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path

import httptools

from prefork_modpy import _core
from prefork_modpy.config.server import Limits

LIMITS = Limits()

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"

REALISTIC = [
    b"GET /articles/2026/11/http-parsing?page=2&sort=new HTTP/1.1\r\n"
    b"Host: www.example.org\r\n"
    b"Connection: keep-alive\r\n"
    b"sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n"
    b"sec-ch-ua-mobile: ?0\r\n"
    b"sec-ch-ua-platform: \"Linux\"\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/131.0.0.0 Safari/537.36\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    b"*/*;q=0.8\r\n"
    b"Sec-Fetch-Site: same-origin\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-User: ?1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Referer: https://www.example.org/articles/2026/11/\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n"
    b"Cookie: session=3f9a0c1e7b2d4e6f8a0b1c2d3e4f5a6b; theme=dark; consent=1\r\n"
    b"\r\n",
    b"GET /mywebdir/myscript.py HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    b"User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    b"POST /api/v1/orders HTTP/1.1\r\n"
    b"Host: api.example.org\r\n"
    b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dGVzdHNpZ25hdHVyZQ\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: 348\r\n"
    b"Accept: application/json\r\n"
    b"X-Request-Id: 0b5e2f0c-8a41-4c1e-9b1f-5d7c2a9e3f11\r\n"
    b"\r\n",
]


class _Nop:
    pass


class _Collect:
    __slots__ = ("url", "headers", "done")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.done = False

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.done = True


def corpus_heads() -> list[bytes]:
    manifest = json.loads((VECTORS / "expected.json").read_text())
    heads = []
    for meta in manifest["vectors"]:
        if meta["status"] != 200:
            continue
        head = (VECTORS / meta["file"]).read_bytes()[:meta["head_len"]]
        if _both_accept(head):
            heads.append(head)
    return heads


def _both_accept(head: bytes) -> bool:
    try:
        if _core.parse_head(head, LIMITS) is None:
            return False
        collect = _Collect()
        httptools.HttpRequestParser(collect).feed_data(head)
        return collect.done
    except (_core.BadRequestError, httptools.HttpParserError, httptools.HttpParserUpgrade):
        return False


def rust(heads: list[bytes]) -> None:
    parse, limits = _core.parse_head, LIMITS
    for head in heads:
        parse(head, limits)


def rust_headers(heads: list[bytes]) -> None:
    parse, limits = _core.parse_head, LIMITS
    for head in heads:
        parse(head, limits).headers  # noqa: B018 - building the list is the point


def httptools_framing(heads: list[bytes]) -> None:
    parser, nop = httptools.HttpRequestParser, _Nop()
    for head in heads:
        parser(nop).feed_data(head)


def httptools_collect(heads: list[bytes]) -> None:
    parser = httptools.HttpRequestParser
    for head in heads:
        collect = _Collect()
        p = parser(collect)
        p.feed_data(head)
        p.get_method()


VARIANTS = [
    ("_core.parse_head", rust),
    ("_core.parse_head+headers", rust_headers),
    ("httptools (framing only)", httptools_framing),
    ("httptools (url+headers)", httptools_collect),
]


def measure(heads: list[bytes], loops: int, repeat: int) -> dict[str, float]:
    out = {}
    for name, fn in VARIANTS:
        best = min(timeit.repeat(lambda fn=fn: fn(heads), number=loops, repeat=repeat))
        out[name] = best / (loops * len(heads)) * 1e9
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loops", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    sets = [("corpus", corpus_heads()), ("realistic", REALISTIC)]
    print(f"Python {sys.version.split()[0]}, httptools {httptools.__version__}; "
          f"best of {args.repeat} x {args.loops} loops\n")
    print("| heads | variant | ns/head | vs httptools (url+headers) |")
    print("|---|---|---:|---:|")
    for label, heads in sets:
        mean = sum(map(len, heads)) / len(heads)
        loops = max(1, args.loops * 3 // len(heads)) if label == "realistic" else args.loops
        result = measure(heads, loops, args.repeat)
        base = result["httptools (url+headers)"]
        for name, ns in result.items():
            print(f"| {label} ({len(heads)}, {mean:.0f} B avg) | {name} | {ns:,.0f} | "
                  f"{ns / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
