"""The request corpus of tests/vectors (see make_vectors.py) and the Rust engine's verdict on
one vector, shared by the tests in this directory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from prefork_modpy import _core
from prefork_modpy.config.server import Limits

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"
MANIFEST: dict[str, Any] = json.loads((VECTOR_DIR / "expected.json").read_text())
LIMITS: dict[str, int] = MANIFEST["limits"]
PROTO_NUM = {"HTTP/1.1": 1001, "HTTP/1.0": 1000}

# Engine bugs: vectors the Rust parser answers differently from the expected (RFC-right)
# outcome. Tests over these vectors are xfail(strict=True): fixing the engine turns them
# into XPASS failures until the entry is removed here.
ENGINE_BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Vector:
    id: str
    raw: bytes
    meta: dict[str, Any]

    @property
    def status(self) -> int:
        return self.meta["status"]

    @property
    def valid(self) -> bool:
        return self.meta["status"] == 200

    def __getitem__(self, key: str) -> Any:
        return self.meta[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)

    def canary(self) -> bytes:
        return MANIFEST["canary"].format(id=self.id).encode()


def load_vectors() -> list[Vector]:
    return [Vector(meta["id"], (VECTOR_DIR / meta["file"]).read_bytes(), meta)
            for meta in MANIFEST["vectors"]]


VECTORS = load_vectors()
BY_ID = {v.id: v for v in VECTORS}


def params(vectors: list[Vector], known: dict[str, str]) -> list[Any]:
    """pytest params for `vectors`; the ids in `known` (id -> bug description) are marked
    xfail(strict=True), so a fix makes the test fail until the entry is removed."""
    unknown = set(known) - {v.id for v in vectors}
    assert not unknown, f"known-bug entries for missing vectors: {unknown}"
    return [pytest.param(v, id=v.id, marks=pytest.mark.xfail(strict=True, reason=known[v.id]))
            if v.id in known else pytest.param(v, id=v.id) for v in vectors]


def core_limits() -> Limits:
    return Limits(**LIMITS)


@dataclass
class Outcome:
    """What the engine decides about the first request in `raw`."""

    status: Optional[int]  # 200 accepted, else the refusal status; None = incomplete
    stage: Optional[str] = None  # "head" or "body" for refusals
    message: str = ""
    head: Any = None  # _core.ParsedHead
    body: bytes = b""
    consumed: int = 0  # bytes of `raw` used by the whole request (head + body)
    notes: list[str] = field(default_factory=list)


def rust_outcome(raw: bytes, limits: Optional[Limits] = None) -> Outcome:
    limits = limits or core_limits()
    try:
        head = _core.parse_head(raw, limits)
    except _core.BadRequestError as exc:
        return Outcome(exc.status, "head", str(exc))
    if head is None:
        return Outcome(None)
    rest = raw[head.head_len:]
    if head.chunked:
        try:
            body, used = _core.decode_chunked(rest, limits.body)
        except _core.BadRequestError as exc:
            return Outcome(exc.status, "body", str(exc), head)
    else:
        length = head.content_length or 0
        if len(rest) < length:
            return Outcome(None, head=head)
        body, used = rest[:length], length
    return Outcome(200, head=head, body=body, consumed=head.head_len + used)
