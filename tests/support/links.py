"""A deploy's layout with symbolic links, for the static open's inside-the-root check
(httpd/servable.py): `release1/` holds the site, `current` links to it, and inside it links
that stay (relative, absolute) or leave (`escape.txt` -> `../outside.txt`)."""

from __future__ import annotations

from pathlib import Path


def make_release(base: Path, a_text: str) -> Path:
    """`base/release1` with a.txt (`a_text`), sub/b.txt, rel-link.txt -> sub/b.txt,
    abs-link.txt -> its absolute a.txt, escape.txt -> ../outside.txt; `base/current` ->
    release1. Returns release1."""
    release = base / "release1"
    (release / "sub").mkdir(parents=True)
    (release / "a.txt").write_text(a_text)
    (release / "sub" / "b.txt").write_text("b\n")
    (base / "outside.txt").write_text("secret\n")
    (release / "rel-link.txt").symlink_to("sub/b.txt")
    (release / "abs-link.txt").symlink_to(release / "a.txt")
    (release / "escape.txt").symlink_to("../outside.txt")
    (base / "current").symlink_to("release1")
    return release
