"""mod_deflate's compression throughput on a 1 MiB text response: Python's zlib (the system
zlib Apache uses) against the Rust engine's GzipStream (zlib-rs), whole and in 64 KiB blocks
each sync-flushed as a streaming response is. Run: .venv/bin/python bench/deflate_bench.py"""

import time
import zlib

from prefork_modpy import _core

TEXT = "".join(f"row {n:06d} lorem ipsum dolor sit amet, consectetur adipiscing elit "
               f"{n * 7919 % 10007}\n" for n in range(16000)).encode()[:1 << 20]


def py_gzip(level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return compressor.compress(TEXT) + compressor.flush()


def rust_gzip(level: int) -> bytes:
    return _core.GzipStream(level).finish(TEXT)


def rust_blocks(level: int) -> bytes:
    stream = _core.GzipStream(level)
    out = [stream.compress(TEXT[i:i + 65536], True) for i in range(0, len(TEXT), 65536)]
    out.append(stream.finish(b""))
    return b"".join(out)


def main() -> None:
    assert len(TEXT) == 1 << 20
    for level in (1, 6, 9):
        for name, function in (("python zlib", py_gzip), ("rust zlib-rs", rust_gzip),
                               ("rust 64K sync-flushed", rust_blocks)):
            function(level)
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < 1.0 and count < 200:  # bounded: 1 s, 200 runs
                out = function(level)
                count += 1
            seconds = (time.perf_counter() - start) / count
            print(f"level {level} {name:22s} {seconds * 1000:7.2f} ms/MiB  "
                  f"{1 / seconds:7.1f} MiB/s  ratio {len(out) / len(TEXT):.3f}")


if __name__ == "__main__":
    main()
