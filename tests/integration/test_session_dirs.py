"""ISSUE 15 finding 8: session stores and locks must not be reachable by another local user.

mod_python (and prefork-modpy before the fix) kept `mp_sess.dbm`, its `.lck` file and one
lock file per session in the shared temp dir: a second local user could hold the store's
lock (every session request then waited until Timeout), plant a symlink the server followed
when creating a lock file, and every new session left a lock file behind. Each test starts
the real server with its own sticky, world-writable TMPDIR and plays the second user as
`nobody` (the tests need root to switch user, as a real attacker is another account).
"""

from __future__ import annotations

import fcntl
import http.client
import os
import pwd
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support.site import SiteFactory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as nobody")

PROBE = """from mod_python import apache, Session


def handler(req):
    sess = Session.Session(req)
    sess["n"] = sess.get("n", 0) + 1
    sess.save()
    req.content_type = "text/plain"
    req.write("%s %d" % (sess.id(), sess["n"]))
    return apache.OK
"""

CONFIG = """
<Directory {root}/dbm>
    SetHandler mod_python
    PythonHandler sess_probe
</Directory>
<Directory {root}/file>
    SetHandler mod_python
    PythonHandler sess_probe
    PythonOption mod_python.session.session_type FileSession
</Directory>
"""

FILES = {"dbm/sess_probe.py": PROBE, "file/sess_probe.py": PROBE}


@pytest.fixture
def shared_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory like /tmp (mode 1777) that the server takes as its TMPDIR."""
    path = Path(tempfile.mkdtemp(prefix="shared-tmp-"))
    path.chmod(0o1777)
    monkeypatch.setenv("TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start(tmp_path: Path, shared_tmp: Path) -> Iterator[Callable[[], object]]:
    factory = SiteFactory(tmp_path)
    yield lambda: factory.start(CONFIG, FILES, workers=1)
    factory.close()


def as_nobody(action: Callable[[], None]) -> int:
    """Run `action` in a child process as user nobody; the child's pid (it stays alive,
    holding whatever it opened, until killed) after it signalled that it is done."""
    nobody = pwd.getpwnam("nobody")
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(ready_r)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            action()
            os.write(ready_w, b"ok")
            while True:
                time.sleep(60)
        finally:
            os._exit(0)
    os.close(ready_w)
    assert os.read(ready_r, 2) == b"ok", "the attacker's setup failed"
    os.close(ready_r)
    return pid


def stop(pid: int) -> None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)


def get(port: int, path: str, timeout: float = 8.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def session_dir(shared_tmp: Path) -> Path:
    return shared_tmp / f"prefork-modpy-sessions-{os.geteuid()}"


def test_a_local_user_cannot_hold_the_session_locks(start, shared_tmp: Path) -> None:
    held: list[int] = []

    def hold_store_lock() -> None:  # mod_python's (and the old) lock file of the store
        fd = os.open(shared_tmp / "mp_sess.dbm.lck", os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.append(fd)

    attacker = as_nobody(hold_store_lock)
    try:
        server = start()
        status, body = get(server.port, "/dbm/x")  # used to hang until the client gave up
        assert status == 200 and body.endswith(b" 1")
        private = session_dir(shared_tmp)
        info = private.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o700)
        assert (private / "mp_sess.dbm.lck").exists()
    finally:
        stop(attacker)


def test_a_planted_symlink_does_not_make_the_server_create_files(
        start, shared_tmp: Path, tmp_path: Path) -> None:
    victim = tmp_path / "chosen-by-attacker"

    def plant() -> None:
        os.symlink(victim, shared_tmp / "mp_sess.dbm.lck")
        os.mkdir(shared_tmp / "mp_sess_locks", 0o777)

    stop(as_nobody(plant))
    server = start()
    status, _ = get(server.port, "/dbm/x")
    assert not victim.exists()
    assert status == 200
    assert list((shared_tmp / "mp_sess_locks").iterdir()) == []


def test_a_session_directory_of_another_user_is_refused(start, shared_tmp: Path) -> None:
    private = session_dir(shared_tmp)

    def squat() -> None:
        os.mkdir(private, 0o777)
        os.chmod(private, 0o777)

    stop(as_nobody(squat))
    server = start()
    status, _ = get(server.port, "/dbm/x")
    assert status == 500
    assert f"session directory {private} must be owned by uid 0" in server.errors()
    assert list(private.iterdir()) == []


@pytest.mark.parametrize("kind", ["dbm", "file"])
def test_new_sessions_leave_no_lock_file_each(start, shared_tmp: Path, kind: str) -> None:
    server = start()
    ids = set()
    for _ in range(200):
        status, body = get(server.port, f"/{kind}/x")
        assert status == 200
        ids.add(body.split()[0])
    assert len(ids) == 200
    lock_files = [p for p in shared_tmp.rglob("*") if ".lck" in p.name or ".locks" in p.name]
    assert len(lock_files) <= 2, sorted(str(p) for p in lock_files)[:5]
