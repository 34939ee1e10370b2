"""``mod_python.Session`` for prefork-modpy: server-side sessions keyed by a cookie.

The API is mod_python 3.5's (spec section 5.3): ``Session(req, sid=0, secret=None,
timeout=0, lock=1)`` picks the class from ``PythonOption mod_python.session.session_type``
(``FileSession``, ``DbmSession``, ``MemorySession``; pre-3.3 alias ``session``), defaulting to
``DbmSession`` as mod_python does on a prefork server.  ``BaseSession`` is a ``dict`` with
``id()``, ``created()``, ``last_accessed()``, ``timeout()``, ``set_timeout()``, ``is_new()``,
``load()``, ``save()``, ``delete()``, ``invalidate()``, ``lock()``/``unlock()`` and
``cleanup()``; the cookie is ``pysid`` (``mod_python.session.cookie_name``), signed with
``Cookie.SignedCookie`` when a ``secret`` is given, with the path of
``mod_python.session.application_path`` or the handler's directory minus DocumentRoot.

Where prefork-modpy differs, and why (process-faults.md section 4.5):

* Session ids come from ``secrets.token_hex(16)`` (32 lowercase hex characters, the alphabet
  mod_python validates), not md5 of time, pid and ``random``; a cookie whose id is not exactly
  that is ignored and a new session is issued; an explicit bad ``sid`` raises ``ValueError``.
* Session directories: a store, its lock files and its MAC key live in a directory only the
  server's user can enter (``session_directory()``: created 0700; refused when it is a
  symlink, owned by another user, open to group or others, or inside a directory others may
  write without the sticky bit).  The default is ``<tempdir>/prefork-modpy-sessions-<uid>``,
  not mod_python's shared temp dir, where another local user could hold the locks or plant
  symlinks.  Lock and key files are opened with ``O_NOFOLLOW``.
* Locks: mod_python holds ``_apache._global_lock(server, sid)``, one of a few APR mutexes
  chosen by hash.  Here a session locks one byte (chosen by its id) of the single file
  ``.mp_sess.locks`` in its session directory with ``fcntl.lockf``; no file per session, so
  nothing is left behind.  The stores take ``flock`` on ``<store>.lck``.  The kernel frees
  these locks when their process dies, so a worker killed mid-request never leaves a session
  locked.  (``mod_python.mutex_directory`` is not used.)
* Stored records are pickles (any picklable value, as in mod_python) preceded by an
  HMAC-SHA256 of the pickle keyed by a random 32-byte key kept in ``.mp_sess.key`` (mode 0600,
  owned by the server's user) next to the store.  A record whose MAC does not verify is never
  unpickled; it counts as no session.  Store files are created 0600.
* The session cookie carries ``HttpOnly`` and ``SameSite=Lax`` (plus ``Secure`` over https).
* ``RedisSession`` (not in mod_python; ``session_type RedisSession`` with
  ``mod_python.session.redis_url``) keeps sessions in Redis or Valkey for several machines:
  the same signed records, expired by Redis TTL, locked with a Redis lock (see its section).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import hmac
import os
import pickle
import random
import re
import secrets
import stat
import tempfile
import time
from typing import Any, Callable, Dict, Optional

from mod_python import Cookie, apache

COOKIE_NAME = "pysid"
DFT_TIMEOUT = 30 * 60  # 30 min
DFT_LOCK = True
CLEANUP_CHANCE = 1000  # a cleanup runs with a 1 in CLEANUP_CHANCE chance per new session object

DFT_FAST_CLEANUP = True
DFT_VERIFY_CLEANUP = True
DFT_GRACE_PERIOD = 240
DFT_CLEANUP_TIME_LIMIT = 2
FS_STAT_VERSION = "MPFS_3.2"

tempdir = tempfile.gettempdir()

validate_sid_re = re.compile(r"[0-9a-f]{32}\Z")

_MAGIC = b"MPS1"
_MAC_LEN = 32


def _check_sid(sid: Any) -> bool:
    """True for a well-formed session id: exactly 32 lowercase hex characters."""
    return isinstance(sid, str) and validate_sid_re.match(sid) is not None


def _new_sid(req: Any = None) -> str:
    """A new unpredictable session id (128 bits from the OS CSPRNG)."""
    return secrets.token_hex(16)


def true_or_false(item: Any) -> bool:
    """mod_python's reading of an On/Off style option."""
    if isinstance(item, str):
        return item.strip().lower() in ("1", "true", "yes", "on")
    return bool(item)


# -- cross-process locks -----------------------------------------------------------------

class FileLock:
    """An exclusive ``fcntl.flock`` on a lock file, safe against the file being unlinked and
    recreated by another process while this one waits (the inode is re-checked)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: Optional[int] = None

    def acquire(self) -> None:
        if self.fd is not None:
            return
        session_directory(os.path.dirname(self.path))
        while True:
            fd = os.open(self.path, _LOCK_FILE_FLAGS, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                raise
            if same:
                self.fd = fd
                return
            os.close(fd)  # unlinked while we waited: lock the new file instead

    def release(self, remove: bool = False) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            if remove:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


_LOCK_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
SESSION_LOCKS = ".mp_sess.locks"
_lock_fds: Dict[str, int] = {}


class SidLock:
    """A session's cross-process lock: one byte of ``<directory>/.mp_sess.locks``, at an
    offset taken from the session id, locked with ``fcntl.lockf`` (mod_python's
    ``_global_lock`` uses one of a few mutexes chosen by hash; here the "mutexes" are 2**48
    bytes of one file, so different sessions practically never wait for each other and no
    file is created per session).  POSIX record locks belong to the process and are all
    dropped when any descriptor of the file is closed: each process keeps one descriptor
    per lock file open for its lifetime."""

    def __init__(self, directory: str, sid: str) -> None:
        self.path = os.path.join(directory, SESSION_LOCKS)
        self.offset = int(sid[:12], 16)
        self.held = False

    def _fd(self) -> int:
        fd = _lock_fds.get(self.path)
        if fd is None:
            session_directory(os.path.dirname(self.path))
            fd = _lock_fds[self.path] = os.open(self.path, _LOCK_FILE_FLAGS, 0o600)
        return fd

    def acquire(self) -> None:
        if not self.held:
            fcntl.lockf(self._fd(), fcntl.LOCK_EX, 1, self.offset)
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.lockf(self._fd(), fcntl.LOCK_UN, 1, self.offset)


def session_directory(path: str) -> str:
    """``path`` made safe to keep sessions in: created 0700 when missing, then refused
    (PermissionError saying why) unless it is a real directory owned by the server's user,
    closed to group and others, whose parent others cannot write (or has the sticky bit, as
    /tmp) -- so no other local user can hold its locks, read its key or plant symlinks."""
    path = os.path.abspath(path)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise PermissionError(f"session directory {path}: not a directory ({exc.strerror})"
                              ) from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise PermissionError(
            f"session directory {path} must be owned by uid {os.geteuid()} with mode 0700 "
            f"(it is uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}): another user "
            "could hold its locks or plant files; remove it or fix it")
    parent = os.stat(os.path.dirname(path))
    if parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not parent.st_mode & stat.S_ISVTX:
        raise PermissionError(
            f"session directory {path}: its parent is writable by others without the sticky "
            "bit, so it could be replaced; choose a directory in a private tree")
    return path


def default_session_directory() -> str:
    """Where sessions live unless configured: private to the server's user."""
    return os.path.join(tempdir, f"prefork-modpy-sessions-{os.geteuid()}")


# -- signed pickles ------------------------------------------------------------------------

_keys: Dict[str, bytes] = {}


def _store_key(directory: str) -> bytes:
    """The MAC key of the stores in ``directory``: created once (0600), then reused.  A key
    file owned by someone else or readable by others is refused."""
    directory = os.path.abspath(directory)
    key = _keys.get(directory)
    if key is not None:
        return key
    path = os.path.join(directory, ".mp_sess.key")
    session_directory(directory)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        fd = -1
    if fd >= 0:
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PermissionError(f"session key {path} must be owned by uid {os.geteuid()} "
                                  "and mode 0600")
        key = os.read(fd, 64)
    finally:
        os.close(fd)
    if len(key) < 32:  # being written by another worker right now
        time.sleep(0.05)
        return _store_key(directory)
    _keys[directory] = key
    return key


def _dumps(record: Dict[str, Any], key: bytes) -> bytes:
    payload = pickle.dumps(record, 2)
    return _MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload


def _loads(blob: Any, key: bytes) -> Optional[Dict[str, Any]]:
    """The record, or None when the blob was not written by us (never unpickled then)."""
    if not isinstance(blob, (bytes, bytearray)) or not blob.startswith(_MAGIC):
        return None
    blob = bytes(blob)
    mac, payload = blob[len(_MAGIC):len(_MAGIC) + _MAC_LEN], blob[len(_MAGIC) + _MAC_LEN:]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        return None
    record = pickle.loads(payload)
    return record if isinstance(record, dict) else None


def _expired(record: Dict[str, Any], grace: float = 0) -> bool:
    try:
        return (time.time() - record["_accessed"]) > record["_timeout"] + grace
    except (KeyError, TypeError):
        return True


def _cookie_name(config: Any) -> str:
    if "mod_python.session.cookie_name" in config:
        return config.get("mod_python.session.cookie_name", COOKIE_NAME)
    return config.get("session_cookie_name", COOKIE_NAME)


# -- sessions ------------------------------------------------------------------------------

class BaseSession(dict):
    """A session: a dict stored server-side between requests (subclasses supply
    ``do_load``/``do_save``/``do_delete``/``do_cleanup``).  Note mod_python's positional order:
    ``lock`` before ``timeout``."""

    def __init__(self, req: Any, sid: Any = None, secret: Any = None, lock: Any = 1,
                 timeout: Any = 0) -> None:
        dict.__init__(self)
        self._req, self._sid, self._secret = req, sid, secret
        self._lock = lock
        self._new = 1
        self._created: float = 0
        self._accessed: float = 0
        self._timeout: float = 0
        self._locked = 0
        self._invalid = 0
        self._sid_lock: Optional[SidLock] = None

        config = req.get_options()
        session_cookie_name = _cookie_name(config)

        if not self._sid:
            if secret:
                cookie = Cookie.get_cookie(req, session_cookie_name, Class=Cookie.SignedCookie,
                                           secret=self._secret, mismatch=Cookie.Cookie.IGNORE)
                if cookie is not None and not isinstance(cookie, Cookie.SignedCookie):
                    cookie = None  # never accept an unsigned cookie (MODPYTHON-191)
            else:
                cookie = Cookie.get_cookie(req, session_cookie_name)
            if cookie:
                self._sid = cookie.value

        if self._sid and not _check_sid(self._sid):
            if sid:
                raise ValueError(f"Invalid Session ID: sid={sid}")
            self._sid = None

        self.init_lock()

        if self._sid:
            self.lock()
            if self.load():
                self._new = 0

        if self._new:
            if self._sid:  # unlock the old sid
                if self._sid_lock is not None and self._locked:
                    self._sid_lock.release()
                self._locked = 0
            self._sid = _new_sid(self._req)
            self.lock()  # lock the new sid
            Cookie.add_cookie(self._req, self.make_cookie())
            self._created = time.time()
            self._timeout = timeout if timeout else DFT_TIMEOUT

        self._accessed = time.time()

        if random.randint(1, CLEANUP_CHANCE) == 1:
            self.cleanup()

    def make_cookie(self) -> Cookie.Cookie:
        config = self._req.get_options()
        name = _cookie_name(config)
        if self._secret:
            c: Cookie.Cookie = Cookie.SignedCookie(name, self._sid, secret=self._secret)
        else:
            c = Cookie.Cookie(name, self._sid)

        if "mod_python.session.application_domain" in config:
            c.domain = config["mod_python.session.application_domain"]
        if "mod_python.session.application_path" in config:
            c.path = config["mod_python.session.application_path"]
        elif "ApplicationPath" in config:
            c.path = config["ApplicationPath"]
        else:
            dirpath = self._req.hlist.directory
            if dirpath:
                docroot = self._req.document_root()
                c.path = dirpath[len(docroot):]
            else:
                c.path = "/"
            if not c.path or not self._req.uri.startswith(c.path):
                c.path = "/"
        c.samesite = "Lax"
        c.httponly = 1
        try:
            if self._req.is_https():
                c.secure = 1
        except AttributeError:
            pass
        return c

    def invalidate(self) -> None:
        c = self.make_cookie()
        c.expires = 0
        Cookie.add_cookie(self._req, c)
        self.delete()
        self._invalid = 1

    def load(self) -> int:
        record = self.do_load()
        if record is None:
            return 0
        if _expired(record):
            return 0
        self._created = record["_created"]
        self._accessed = record["_accessed"]
        self._timeout = record["_timeout"]
        self.update(record["_data"])
        return 1

    def save(self) -> None:
        if not self._invalid:
            self.do_save({"_data": self.copy(), "_created": self._created,
                          "_accessed": self._accessed, "_timeout": self._timeout})

    def delete(self) -> None:
        self.do_delete()
        self.clear()

    def init_lock(self) -> None:
        pass

    def lock(self) -> None:
        """Hold this session's cross-process lock until ``unlock()`` or the end of the
        request; a second request for the same session waits."""
        if self._lock and self._sid:
            if self._sid_lock is None or self._sid_lock.offset != int(self._sid[:12], 16):
                self._sid_lock = SidLock(self._session_dir(), self._sid)
            if not self._sid_lock.held:
                self._sid_lock.acquire()
                self._req.register_cleanup(unlock_session_cleanup, self)
            self._locked = 1

    def unlock(self) -> None:
        if self._lock and self._locked:
            if self._sid_lock is not None:
                self._sid_lock.release()
            self._locked = 0

    def _session_dir(self) -> str:
        """The directory holding this session's lock file (subclasses: their store's)."""
        return default_session_directory()

    def is_new(self) -> bool:
        return not not self._new

    def id(self) -> Optional[str]:
        return self._sid

    def created(self) -> float:
        return self._created

    def last_accessed(self) -> float:
        return self._accessed

    def timeout(self) -> float:
        return self._timeout

    def set_timeout(self, secs: float) -> None:
        self._timeout = secs

    def cleanup(self) -> None:
        self.do_cleanup()

    # subclasses
    def do_load(self) -> Optional[Dict[str, Any]]:
        raise NotImplementedError

    def do_save(self, record: Dict[str, Any]) -> None:
        raise NotImplementedError

    def do_delete(self) -> None:
        raise NotImplementedError

    def do_cleanup(self) -> None:
        pass

    def __del__(self) -> None:
        try:
            self.unlock()
        except Exception:
            pass


def unlock_session_cleanup(sess: BaseSession) -> None:
    sess.unlock()


# -- DbmSession ----------------------------------------------------------------------------

def _dbm_module(filename: str) -> Any:
    """The dbm module of an existing file (``dbm.whichdb``) or the best available one."""
    import dbm

    kind = dbm.whichdb(filename)
    if kind:
        return __import__(kind, fromlist=["open"])
    for name in ("dbm.gnu", "dbm.ndbm", "dbm.dumb"):
        try:
            return __import__(name, fromlist=["open"])
        except ImportError:
            continue
    raise ImportError("no dbm module")


def _dbm_open(filename: str, dbmtype: Any = None) -> Any:
    module = dbmtype if dbmtype is not None else _dbm_module(filename)
    return module.open(filename, "c", 0o600)


def dbm_cleanup(data: Any) -> None:
    filename = data[0]
    key = _store_key(os.path.dirname(os.path.abspath(filename)))
    with FileLock(filename + ".lck"):
        db = _dbm_open(filename)
        try:
            old = []
            for k in list(db.keys()):
                try:
                    record = _loads(db[k], key)
                except Exception:
                    record = None
                if record is None or _expired(record):
                    old.append(k)
            for k in old:
                try:
                    del db[k]
                except KeyError:
                    pass
        finally:
            db.close()


class DbmSession(BaseSession):
    """Sessions in one dbm file (``<dir>/mp_sess.dbm``) shared by every worker; each access
    holds ``<file>.lck``."""

    def __init__(self, req: Any, dbm: Optional[str] = None, sid: Any = 0, secret: Any = None,
                 dbmtype: Any = None, timeout: Any = 0, lock: Any = 1) -> None:
        if not dbm:
            opts = req.get_options()
            if "mod_python.dbm_session.database_filename" in opts:
                dbm = opts["mod_python.dbm_session.database_filename"]
            elif "session_dbm" in opts:
                dbm = opts["session_dbm"]
            elif "mod_python.dbm_session.database_directory" in opts:
                dbm = os.path.join(opts["mod_python.dbm_session.database_directory"],
                                   "mp_sess.dbm")
            elif "mod_python.session.database_directory" in opts:
                dbm = os.path.join(opts["mod_python.session.database_directory"], "mp_sess.dbm")
            else:
                dbm = os.path.join(opts.get("session_directory", default_session_directory()),
                                   "mp_sess.dbm")
        self._dbmfile: str = dbm
        self._dbmtype = dbmtype
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _key(self) -> bytes:
        return _store_key(self._session_dir())

    def _session_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self._dbmfile))

    def _run(self, action: Callable[[Any], Any]) -> Any:
        with FileLock(self._dbmfile + ".lck"):
            db = _dbm_open(self._dbmfile, self._dbmtype)
            try:
                return action(db)
            finally:
                db.close()

    def do_cleanup(self) -> None:
        self._req.register_cleanup(dbm_cleanup, [self._dbmfile, self._req.server])
        self._req.log_error("DbmSession: registered database cleanup.", apache.APLOG_NOTICE)

    def do_load(self) -> Optional[Dict[str, Any]]:
        sid = self._sid.encode()

        def action(db: Any) -> Any:
            return db[sid] if sid in db else None
        blob = self._run(action)
        return None if blob is None else _loads(blob, self._key())

    def do_save(self, record: Dict[str, Any]) -> None:
        blob = _dumps(record, self._key())
        sid = self._sid.encode()

        def action(db: Any) -> None:
            db[sid] = blob
        self._run(action)

    def do_delete(self) -> None:
        sid = self._sid.encode()

        def action(db: Any) -> None:
            try:
                del db[sid]
            except KeyError:
                pass
        self._run(action)


# -- FileSession ---------------------------------------------------------------------------

class FileSession(BaseSession):
    """One file per session, ``<dir>/mp_sess/<sid[:2]>/<sid>``, with mod_python's cleanup
    (fast cleanup by file mtime, optional verification, grace period, time limit)."""

    def __init__(self, req: Any, sid: Any = 0, secret: Any = None, timeout: Any = 0,
                 lock: Any = 1, fast_cleanup: Any = -1, verify_cleanup: Any = -1) -> None:
        opts = req.get_options()

        def option(new: str, old: str, default: Any) -> Any:
            return opts[new] if new in opts else opts.get(old, default)

        if fast_cleanup == -1:
            self._fast_cleanup = true_or_false(option(
                "mod_python.file_session.enable_fast_cleanup", "session_fast_cleanup",
                DFT_FAST_CLEANUP))
        else:
            self._fast_cleanup = fast_cleanup
        if verify_cleanup == -1:
            self._verify_cleanup = true_or_false(option(
                "mod_python.file_session.verify_session_timeout", "session_verify_cleanup",
                DFT_VERIFY_CLEANUP))
        else:
            self._verify_cleanup = verify_cleanup
        self._grace_period = int(option("mod_python.file_session.cleanup_grace_period",
                                        "session_grace_period", DFT_GRACE_PERIOD))
        self._cleanup_time_limit = int(option("mod_python.file_session.cleanup_time_limit",
                                              "session_cleanup_time_limit",
                                              DFT_CLEANUP_TIME_LIMIT))
        if "mod_python.file_session.database_directory" in opts:
            base = opts["mod_python.file_session.database_directory"]
        elif "mod_python.session.database_directory" in opts:
            base = opts["mod_python.session.database_directory"]
        else:
            base = opts.get("session_directory", default_session_directory())
            if base == default_session_directory():
                session_directory(base)  # mp_sess inside it is then private too
        self._sessdir = os.path.join(base, "mp_sess")
        self._cleanup_timeout = timeout if timeout else DFT_TIMEOUT
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _session_dir(self) -> str:
        return session_directory(self._sessdir)

    def _filename(self) -> str:
        sid: str = self._sid
        return os.path.join(self._sessdir, sid[0:2], sid)

    def do_cleanup(self) -> None:
        data = {"req": self._req, "sessdir": self._sessdir, "fast_cleanup": self._fast_cleanup,
                "verify_cleanup": self._verify_cleanup, "timeout": self._cleanup_timeout,
                "grace_period": self._grace_period,
                "cleanup_time_limit": self._cleanup_time_limit}
        self._req.register_cleanup(filesession_cleanup, data)
        self._req.log_error("FileSession: registered filesession cleanup.",
                            apache.APLOG_NOTICE)

    def do_load(self) -> Optional[Dict[str, Any]]:
        filename = self._filename()
        try:
            key = _store_key(self._session_dir())
            with open(filename, "rb") as fp:
                record = _loads(fp.read(), key)
        except FileNotFoundError:
            return None
        except Exception as exc:
            self._req.log_error(f"Error while loading a session : {exc!r}")
            return None
        if record is not None and not _expired(record):
            try:
                os.utime(filename, None)
            except OSError:
                pass
        return record

    def do_save(self, record: Dict[str, Any]) -> None:
        filename = self._filename()
        try:
            blob = _dumps(record, _store_key(self._session_dir()))
            os.makedirs(os.path.dirname(filename), mode=0o700, exist_ok=True)
            tmp = f"{filename}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fp:
                fp.write(blob)
            os.replace(tmp, filename)
        except Exception as exc:
            self._req.log_error(f"Error while saving a session : {exc!r}")

    def do_delete(self) -> None:
        try:
            os.unlink(self._filename())
        except OSError:
            pass


def filesession_cleanup(data: Dict[str, Any]) -> None:
    """Delete expired session files, resuming where the last run stopped (status file
    ``fs_status.txt``) and stopping after ``cleanup_time_limit`` seconds."""
    req, sessdir = data["req"], data["sessdir"]
    fast_cleanup, verify_cleanup = data["fast_cleanup"], data["verify_cleanup"]
    timeout, grace_period = data["timeout"], data["grace_period"]
    time_limit = data["cleanup_time_limit"]
    req.log_error(f"FileSession cleanup: (fast={fast_cleanup}, verify={verify_cleanup}) ...",
                  apache.APLOG_NOTICE)
    if not os.path.isdir(sessdir):
        return
    session_directory(sessdir)
    fd = os.open(os.path.join(sessdir, ".mp_sess.lck"), _LOCK_FILE_FLAGS, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                req.log_error("FileSession cleanup: another process is already running",
                              apache.APLOG_NOTICE)
                return
            raise
        status_path = os.path.join(sessdir, "fs_status.txt")
        try:
            with open(status_path) as fp:
                parts = fp.readline().split()
            if parts[0] != FS_STAT_VERSION:
                raise ValueError("wrong status file version")
            next_i, expired, total = int(parts[1]), int(parts[2]), int(parts[3])
            total_time = float(parts[4])
        except (OSError, ValueError, IndexError):
            next_i, expired, total, total_time = 0, 0, 0, 0.0
        key = _store_key(sessdir)
        start = time.time()
        for i in range(next_i, 256):
            path = os.path.join(sessdir, f"{i:02x}")
            names = os.listdir(path) if os.path.isdir(path) else []
            total += len(names)
            for name in names:
                filename = os.path.join(path, name)
                try:
                    if fast_cleanup and \
                            time.time() - os.stat(filename).st_mtime < timeout + grace_period:
                        continue
                    if fast_cleanup and not verify_cleanup:
                        delete = True
                    else:
                        with open(filename, "rb") as fp:
                            record = _loads(fp.read(), key)
                        delete = record is None or _expired(record, grace_period)
                    if delete:
                        os.unlink(filename)
                        expired += 1
                except Exception as exc:
                    req.log_error(f"FileSession cleanup error: {exc!r}", apache.APLOG_NOTICE)
            next_i = (i + 1) % 256
            if time_limit > 0 and time.time() - start > time_limit:
                break
        total_time += time.time() - start
        if next_i == 0:
            req.log_error(f"FileSession cleanup: deleted {expired} of {total} in {total_time:.4f} "
                          "seconds", apache.APLOG_NOTICE)
            expired, total, total_time = 0, 0, 0.0
        else:
            req.log_error("FileSession cleanup incomplete: next cleanup will start at index "
                          f"{next_i} ({next_i:02x})", apache.APLOG_NOTICE)
        with open(status_path, "w") as fp:
            fp.write(f"{FS_STAT_VERSION} {next_i} {expired} {total} {total_time:f}\n")
    finally:
        os.close(fd)


def make_filesession_dirs(sess_dir: str) -> None:
    """Create the 256 ``<sid[:2]>`` directories (mod_python's helper)."""
    for i in range(256):
        os.makedirs(os.path.join(sess_dir, f"{i:02x}"), mode=0o700, exist_ok=True)


# -- MemorySession -------------------------------------------------------------------------

def mem_cleanup(sdict: Dict[str, Any]) -> None:
    for sid in list(sdict.keys()):
        try:
            if _expired(sdict[sid]):
                del sdict[sid]
        except Exception:
            pass


class MemorySession(BaseSession):
    """Sessions in a class-level dict: per worker process, as mod_python under prefork (a
    session exists only in the worker that created it)."""

    sdict: Dict[str, Any] = {}

    def __init__(self, req: Any, sid: Any = 0, secret: Any = None, timeout: Any = 0,
                 lock: Any = 1) -> None:
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def do_cleanup(self) -> None:
        self._req.register_cleanup(mem_cleanup, MemorySession.sdict)
        self._req.log_error("MemorySession: registered session cleanup.", apache.APLOG_NOTICE)

    def do_load(self) -> Optional[Dict[str, Any]]:
        return MemorySession.sdict.get(self._sid)

    def do_save(self, record: Dict[str, Any]) -> None:
        MemorySession.sdict[self._sid] = record

    def do_delete(self) -> None:
        MemorySession.sdict.pop(self._sid, None)


# -- RedisSession --------------------------------------------------------------------------
#
# Not in mod_python: sessions every machine of a cluster shares.  Records are the signed
# pickles of the file stores (the key file `.mp_sess.key` of the key directory, which every
# machine must share), stored with `SET ... PX <timeout>` so Redis expires them (no cleanup
# sweeps).  The per-session lock is a Redis key taken with `SET NX PX` and a random token and
# released by a compare-and-delete script (redis-py's Lock): it plays the part of
# mod_python's `_apache._global_lock(server, sid)` across processes and machines.

REDIS_KEY_PREFIX = "mp_sess:"
REDIS_LOCK_POLL = 0.02  # seconds between two tries of a waiter for a held session lock
REDIS_RELEASE_RETRY = 10.0  # at most this long (and the lock timeout) to free a lock
REDIS_RELEASE_POLL = 0.1

_redis_clients: Dict[Any, Any] = {}


class SessionLockTimeout(Exception):
    """A session stayed locked by another request for longer than the lock timeout."""


def _redis_option(opts: Any, name: str, default: Any = None) -> Any:
    return opts.get(f"mod_python.session.redis_{name}", default)


def _seconds_option(opts: Any, name: str, default: float) -> float:
    value = _redis_option(opts, name)
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise ValueError(f"PythonOption mod_python.session.redis_{name} {value!r}: "
                         "expected a positive number of seconds")
    return seconds


def _redis_client(url: str) -> Any:
    """One client (and connection pool) per worker process and URL.  Dead pooled connections
    are noticed when taken from the pool (redis-py reconnects them), and commands that fail on
    the connection are retried a few times with a backoff, so a restarted Redis costs only the
    requests that were using it."""
    client = _redis_clients.get((os.getpid(), url))
    if client is not None:
        return client
    try:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise ImportError("RedisSession needs the redis package "
                          "(pip install 'prefork-modpy[redis]')") from exc
    client = redis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, socket_keepalive=True,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError], health_check_interval=30)
    _redis_clients[(os.getpid(), url)] = client
    return client


class RedisLock:
    """One session's lock in Redis: redis-py's ``Lock`` (``SET NX PX`` with a random token,
    token-checked delete), held at most ``timeout`` seconds so a killed holder cannot keep the
    session locked forever.  A waiter gives up a little (two polls) after that time: a holder
    that took the lock before the waiter began has then certainly lost it (redis-py stops
    trying up to one poll before its ``blocking_timeout``), so a waiter behind a killed holder
    gets the lock instead of an error."""

    def __init__(self, client: Any, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self.held = False
        self._lock = client.lock(name, timeout=timeout, sleep=REDIS_LOCK_POLL,
                                 thread_local=False)
        import redis.exceptions

        self._errors = redis.exceptions

    def acquire(self) -> None:
        if not self._lock.acquire(blocking_timeout=self.timeout + 2 * REDIS_LOCK_POLL):
            raise SessionLockTimeout(f"session lock {self.name} still held by another "
                                     f"request after {self.timeout:g} seconds")
        self.held = True

    def release(self, remove: bool = False) -> None:
        """Delete the lock key if it still holds our token (it may have expired and been
        taken by another request, which then keeps it).  While Redis is unreachable (being
        restarted), keep trying for a bounded time: a lock key that survived the restart would
        otherwise block its session until it expires.  This runs in the request's cleanup,
        after the response has been sent."""
        if not self.held:
            return
        self.held = False
        token = self._lock.local.token
        try:
            self._lock.release()
            return
        except (OSError, self._errors.ConnectionError, self._errors.TimeoutError):
            pass
        deadline = time.monotonic() + min(self.timeout, REDIS_RELEASE_RETRY)
        while True:
            time.sleep(REDIS_RELEASE_POLL)
            try:
                self._lock.do_release(token)  # the compare-and-delete script, same token
                return
            except (OSError, self._errors.ConnectionError, self._errors.TimeoutError):
                if time.monotonic() >= deadline:
                    raise


class RedisSession(BaseSession):
    """Sessions in Redis (or Valkey), shared by every worker on every machine that uses the
    same ``mod_python.session.redis_url``."""

    def __init__(self, req: Any, sid: Any = 0, secret: Any = None, timeout: Any = 0,
                 lock: Any = 1) -> None:
        opts = req.get_options()
        url = _redis_option(opts, "url")
        if not url:
            raise ValueError("RedisSession needs PythonOption mod_python.session.redis_url "
                             "(redis://host:port/db)")
        self._redis = _redis_client(url)
        self._prefix = _redis_option(opts, "key_prefix", REDIS_KEY_PREFIX)
        # The longest a request can hold a lock: the worker is killed past Timeout.
        self._lock_timeout = _seconds_option(opts, "lock_timeout",
                                             float(getattr(req.server, "timeout", 60) or 60))
        if "mod_python.session.database_directory" in opts:
            self._key_dir = opts["mod_python.session.database_directory"]
        else:
            self._key_dir = opts.get("session_directory", default_session_directory())
        self._redis_lock: Optional[RedisLock] = None
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _data_key(self) -> str:
        return f"{self._prefix}{self._sid}"

    def _lock_key(self) -> str:
        return f"{self._prefix}lock:{self._sid}"

    def lock(self) -> None:
        """As ``BaseSession.lock``, with the lock in Redis: a request for the same session on
        any machine waits until ``unlock()``, the end of the request or the lock timeout."""
        if self._lock and self._sid:
            name = self._lock_key()
            if self._redis_lock is not None and self._redis_lock.name != name:
                self._release_lock()  # the lock of an unknown sid replaced by a new one
            if self._redis_lock is None:
                self._redis_lock = RedisLock(self._redis, name, self._lock_timeout)
            if not self._redis_lock.held:
                self._redis_lock.acquire()
                self._req.register_cleanup(unlock_session_cleanup, self)
            self._locked = 1

    def unlock(self) -> None:
        if self._lock and self._locked:
            self._release_lock()
            self._locked = 0

    def _release_lock(self) -> None:
        held, self._redis_lock = self._redis_lock, None
        if held is None:
            return
        try:
            held.release()
        except Exception as exc:  # Redis restarted or the lock expired: nothing left to free
            self._req.log_error(f"RedisSession: releasing {held.name}: {exc!r}",
                                apache.APLOG_WARNING)

    def do_load(self) -> Optional[Dict[str, Any]]:
        blob = self._redis.get(self._data_key())
        if blob is None:
            return None
        try:
            record = _loads(blob, _store_key(self._key_dir))
        except Exception as exc:
            self._req.log_error(f"Error while loading a session : {exc!r}")
            return None
        if record is None:
            self._req.log_error(
                f"RedisSession: {self._data_key()} is not signed with the key in "
                f"{os.path.join(os.path.abspath(self._key_dir), '.mp_sess.key')}; every "
                "machine sharing this Redis needs the same key file", apache.APLOG_WARNING)
        return record

    def do_save(self, record: Dict[str, Any]) -> None:
        """Store the record with Redis expiring it ``timeout`` seconds from now.  A failure
        (Redis down) raises: the request must not look as if the session were saved."""
        blob = _dumps(record, _store_key(self._key_dir))
        ttl_ms = max(1, int(float(record["_timeout"]) * 1000))
        self._redis.set(self._data_key(), blob, px=ttl_ms)

    def do_delete(self) -> None:
        self._redis.delete(self._data_key())

    def do_cleanup(self) -> None:
        pass  # Redis expires records itself (SET PX)


def Session(req: Any, sid: Any = 0, secret: Any = None, timeout: Any = 0,
            lock: Any = 1) -> BaseSession:
    """The session class named by ``PythonOption mod_python.session.session_type`` (default
    DbmSession: prefork-modpy is a multi-process server)."""
    opts = req.get_options()
    if "mod_python.session.session_type" in opts:
        sess_type = opts["mod_python.session.session_type"]
    elif "session" in opts:
        sess_type = opts["session"]
    else:
        threaded = apache.mpm_query(apache.AP_MPMQ_IS_THREADED)
        forked = apache.mpm_query(apache.AP_MPMQ_IS_FORKED)
        daemons = apache.mpm_query(apache.AP_MPMQ_MAX_DAEMONS)
        if threaded and (not forked or daemons == 1):
            sess_type = "MemorySession"
        else:
            sess_type = "DbmSession"
    classes: Dict[str, Any] = {"FileSession": FileSession, "DbmSession": DbmSession,
                               "MemorySession": MemorySession, "RedisSession": RedisSession}
    if sess_type not in classes:
        raise Exception(f"Unknown session type {sess_type}")
    return classes[sess_type](req, sid=sid, secret=secret, timeout=timeout, lock=lock)
