"""httpd/servable.py: the default handler's open, which is also the "resolves inside the
root" check. Real files, links and FIFOs in a temporary directory; the realpath fallback
(Runtime.is_servable) is the real one, counted to show which way decided."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prefork_modpy.httpd import servable
from prefork_modpy.runtime.runtime import Runtime
from tests.support.links import make_release


class CountingRuntime:
    """Runtime.is_servable itself (it reads nothing of the runtime), counting its calls."""

    def __init__(self) -> None:
        self.realpath_checks = 0

    def is_servable(self, root: str, filename: str) -> bool:
        self.realpath_checks += 1
        return Runtime.is_servable(self, root, filename)  # type: ignore[arg-type]


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    """release1/ holds the site, `current` links to it (a deploy's layout)."""
    root = make_release(tmp_path, "a\n")
    (root / "etc-link").symlink_to("/etc")
    (root / "dir-link").symlink_to("sub")
    return tmp_path


def read(fd: int | None) -> bytes:
    assert fd is not None
    try:
        return os.pread(fd, 100, 0)
    finally:
        os.close(fd)


def opened(root: Path, path: str) -> tuple[int | None, int]:
    runtime = CountingRuntime()
    fd = servable.open_inside(runtime, str(root), str(root) + path)  # type: ignore[arg-type]
    return fd, runtime.realpath_checks


needs_openat2 = pytest.mark.skipif(not servable._openat2_works, reason="no openat2 here")


@needs_openat2
@pytest.mark.parametrize("path, body", [("/a.txt", b"a\n"), ("/sub/b.txt", b"b\n"),
                                        ("/rel-link.txt", b"b\n"), ("/dir-link/b.txt", b"b\n")])
def test_paths_inside_the_root_open_without_realpath(site: Path, path: str, body: bytes):
    for root in (site / "release1", site / "current"):
        fd, checks = opened(root, path)
        assert read(fd) == body
        assert checks == 0


def test_an_absolute_link_inside_the_root_is_served_through_realpath(site: Path):
    fd, checks = opened(site / "release1", "/abs-link.txt")
    assert read(fd) == b"a\n"
    assert checks == 1


@pytest.mark.parametrize("path", ["/escape.txt", "/etc-link/hostname", "/../outside.txt",
                                  "/sub/../../outside.txt"])
def test_paths_leaving_the_root_are_refused(site: Path, path: str):
    for root in (site / "release1", site / "current"):
        fd, _ = opened(root, path)
        assert fd is None


def test_path_not_in_normal_form_is_decided_by_realpath(site: Path):
    for path, body in (("/./a.txt", b"a\n"), ("//a.txt", b"a\n"), ("/sub/../a.txt", b"a\n")):
        assert read(opened(site / "release1", path)[0]) == body


def test_missing_file_and_nul_give_nothing(site: Path):
    assert opened(site / "release1", "/missing.txt")[0] is None
    assert opened(site / "release1", "/a.txt\x00.png")[0] is None


def test_a_switched_root_link_is_seen_at_once(site: Path):
    """A deploy points `current` at a new release: the next open sees the new files (the
    root is resolved per request, never remembered)."""
    (site / "release2").mkdir()
    (site / "release2" / "a.txt").write_text("new\n")
    assert read(opened(site / "current", "/a.txt")[0]) == b"a\n"
    (site / "next").symlink_to("release2")
    os.replace(site / "next", site / "current")
    assert read(opened(site / "current", "/a.txt")[0]) == b"new\n"
    # the realpath fallback agrees (an absolute link inside the new release)
    (site / "release2" / "abs.txt").symlink_to(site / "release2" / "a.txt")
    fd, checks = opened(site / "current", "/abs.txt")
    assert read(fd) == b"new\n" and checks == 1


def test_a_fifo_does_not_block_the_open(site: Path):
    """O_NONBLOCK: a FIFO put where the file was after the caller's stat opens at once
    instead of waiting for a writer."""
    os.mkfifo(site / "release1" / "pipe")
    fd, _ = opened(site / "release1", "/pipe")
    assert fd is not None
    os.close(fd)
