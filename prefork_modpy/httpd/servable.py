"""Opening a static file for the default handler, only if it resolves inside its root.

Owns the check behind the project's rule, stricter than httpd's `FollowSymLinks`: a file is
sent only if its path, symbolic links followed, lies inside the document (or Alias) root
(`Runtime.is_servable`, which compares `os.path.realpath` results: one lstat(2) per path
component, about 12 us). The open itself answers it, with openat2(2) (Linux 5.6+):

1. most paths hold no symbolic link at all: RESOLVE_NO_SYMLINKS on the path as written
   both opens the file and proves that the path is its own real path, so "inside the root"
   is a string comparison;
2. a link on the way (a symlinked DocumentRoot such as a deploy's `current`, a relative
   link inside the site): RESOLVE_BENEATH from the root, opened just before (so a root
   switched to a new target is seen at once), succeeds only if every step of the
   resolution stays below the root;
3. anything else (an absolute link, a link that leaves and re-enters the root, a path not
   in normal form, a kernel without openat2 or a seccomp filter refusing it): the realpath
   check and a plain open(2), as before.

Must not decide statuses: the caller answers 403 when no descriptor comes back.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Optional

from .. import _core

if TYPE_CHECKING:
    from ..runtime.runtime import Runtime

# O_NONBLOCK: a FIFO put where the regular file stood a moment before does not block the
# open (the caller's checks then see what it is); regular files ignore the flag.
OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_NO_SYMLINKS = 0x04  # linux/openat2.h RESOLVE_NO_SYMLINKS
_BENEATH = 0x08  # RESOLVE_BENEATH
_AT_FDCWD = -100
_ROOT_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
# openat2 itself missing or refused (old kernel, seccomp): not tried again in this process.
_openat2_works = True
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EPERM, errno.EINVAL, errno.E2BIG})
# The resolution met a link (NO_SYMLINKS) or left the root (BENEATH): the next way decides.
_NOT_PROVEN = frozenset({errno.ELOOP, errno.EXDEV})
_FALLBACK = -1  # openat2 cannot tell: take the next way
_REFUSED = -2  # openat2 failed as open(2) would have (missing, not readable...)


def is_normal(path: str) -> bool:
    """Absolute, no empty, `.` or `..` component: realpath() of such a path without
    symbolic links is the path itself."""
    return (path.startswith("/") and "//" not in path and "/./" not in path
            and "/../" not in path and not path.endswith(("/.", "/..")))


def open_inside(runtime: Runtime, root: str, filename: str) -> Optional[int]:
    """A read-only descriptor of `filename` if its real path lies inside `root`'s (the
    caller closes it); None if it does not, or if the file cannot be opened."""
    if "\x00" in filename:
        return None  # no such name on any file system (open(2) cannot even be asked)
    prefix = root.rstrip("/") + "/"
    if _openat2_works and filename.startswith(prefix) and len(filename) > len(prefix):
        fd = _FALLBACK
        if is_normal(filename) and is_normal(prefix):
            fd = _call(_AT_FDCWD, filename, _NO_SYMLINKS)
        if fd == _FALLBACK:
            fd = _open_beneath(root, filename[len(prefix):])
        if fd >= 0:
            return fd
        if fd == _REFUSED:
            return None
    if not runtime.is_servable(root, filename):
        return None
    try:
        return os.open(filename, OPEN_FLAGS)
    except OSError:
        return None


def _open_beneath(root: str, relative: str) -> int:
    """openat2(root, relative, RESOLVE_BENEATH): every step of the resolution, links
    followed, stays below the root as it resolves now."""
    try:
        root_fd = os.open(root, _ROOT_FLAGS)
    except OSError:
        return _FALLBACK
    try:
        return _call(root_fd, relative, _BENEATH)
    finally:
        os.close(root_fd)


def _call(dir_fd: int, path: str, resolve: int) -> int:
    """One openat2(2) (the engine's `_core.openat2`): the descriptor, _FALLBACK or
    _REFUSED."""
    global _openat2_works
    try:
        return _core.openat2(dir_fd, path, OPEN_FLAGS, resolve)
    except OSError as exc:
        if exc.errno in _UNSUPPORTED:
            _openat2_works = False
            return _FALLBACK
        return _FALLBACK if exc.errno in _NOT_PROVEN else _REFUSED
    except ValueError:  # a NUL in the name: no such file anywhere
        return _REFUSED
