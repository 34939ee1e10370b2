"""Run Debian's Apache httpd + mod_python on a loopback port, for side-by-side comparisons.

`ApacheServer(site_dir, include_conf_text, port)` writes a complete httpd.conf into a private
temp dir (ServerRoot, PidFile, ErrorLog, runtime/mutex dir all live there), loads only the
modules a mod_python site needs, `Include`s the shared config fragment and runs
`apache2 -f <conf> -DFOREGROUND` in its own process group with a clean environment.

Apache refuses to serve as root, so workers run as `user` (www-data): `site_dir` and every
parent must be world-traversable and the files world-readable (`make_shared_dir` helps).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tests.support.proc import process_group_members
from tests.support.site import wait_for_port

APACHE_BIN = Path("/usr/sbin/apache2")
MODULES_DIR = Path("/usr/lib/apache2/modules")
MOD_PYTHON = MODULES_DIR / "mod_python.so"

# log_config and unixd are compiled into Debian's apache2; these are the shared ones needed.
MODULES = (
    ("mpm_prefork_module", "mod_mpm_prefork.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("mime_module", "mod_mime.so"),
    ("dir_module", "mod_dir.so"),
    ("alias_module", "mod_alias.so"),
    ("python_module", "mod_python.so"),
)

# Debian's mod_python embeds /usr/bin/python3: a venv's variables would make it load the
# wrong standard library, so Apache gets exactly this environment and nothing inherited.
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class Prefork:
    """Prefork MPM sizing. The defaults pin the pool at `workers` processes so that Apache
    neither forks nor reaps children under load: the same fixed pool prefork-modpy runs."""

    workers: int = 2
    max_requests_per_child: int = 0

    def directives(self) -> str:
        n = self.workers
        return (f"StartServers {n}\nMinSpareServers {n}\nMaxSpareServers {n}\n"
                f"ServerLimit {n}\nMaxRequestWorkers {n}\n"
                f"MaxConnectionsPerChild {self.max_requests_per_child}\n")


def apache_available() -> tuple[bool, str]:
    """(True, "") when apache2 and mod_python are installed, else (False, why not)."""
    if not APACHE_BIN.exists():
        return False, f"{APACHE_BIN} is not installed"
    if not MOD_PYTHON.exists():
        return False, f"{MOD_PYTHON} is not installed (libapache2-mod-python)"
    for _, filename in MODULES:
        if not (MODULES_DIR / filename).exists():
            return False, f"{MODULES_DIR / filename} is missing"
    if os.geteuid() != 0:
        return False, "Apache must be started as root to switch to its User"
    return True, ""


def make_shared_dir(prefix: str) -> Path:
    """A fresh temp dir that Apache's unprivileged workers can traverse (mkdtemp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def check_world_readable(path: Path) -> None:
    """Fail early with a clear message instead of Apache's 403s for unreadable trees."""
    for part in [path, *path.parents]:
        if part.exists() and not os.stat(part).st_mode & 0o001:
            raise PermissionError(f"{part} is not traversable by others; Apache's workers "
                                  "could not read the site (use make_shared_dir)")


class ApacheServer:
    """One Apache instance: `start()`, `url(path)`, `error_log()`, `stop()`; also a context
    manager. Everything it writes lives in `self.workdir`, removed by `stop()` unless
    `keep_workdir`."""

    def __init__(self, site_dir: Path, include_conf_text: str, port: int,
                 prefork: Optional[Prefork] = None, user: str = "www-data",
                 extra_conf: str = "", keep_workdir: bool = False,
                 keepalive: bool = True,
                 extra_modules: tuple[tuple[str, str], ...] = (),
                 modules_before_python: tuple[tuple[str, str], ...] = ()) -> None:
        self.site_dir = Path(site_dir).resolve()
        self.include_conf_text = include_conf_text
        self.port = port
        self.prefork = prefork or Prefork()
        self.user = user
        self.extra_conf = extra_conf
        self.keep_workdir = keep_workdir
        self.keepalive = keepalive
        # Debian loads mods-enabled/*.load in name order: env, access_compat, auth* come
        # before python, and hooks of the same priority run in load order.
        python_at = [name for name, _ in MODULES].index("python_module")
        self.modules = (MODULES[:python_at] + tuple(modules_before_python) + MODULES[python_at:]
                        + tuple(extra_modules))
        self.workdir = Path(tempfile.mkdtemp(prefix="apache-compat-"))
        self.conf_path = self.workdir / "httpd.conf"
        self.proc: Optional[subprocess.Popen] = None

    # -- configuration -------------------------------------------------------------------

    def config_text(self) -> str:
        work = self.workdir
        loads = "".join(f"LoadModule {name} {MODULES_DIR / filename}\n"
                        for name, filename in self.modules)
        group = pwd.getpwnam(self.user).pw_gid
        return f"""# Generated by tests/compat/apache.py: a minimal Apache + mod_python site.
ServerRoot {work}
PidFile {work}/httpd.pid
DefaultRuntimeDir {work}/run
Mutex file:{work}/run default
ErrorLog {work}/error.log
LogLevel info
{loads}User {self.user}
Group #{group}
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1
TypesConfig /etc/mime.types
Timeout 30
KeepAlive {"On" if self.keepalive else "Off"}
MaxKeepAliveRequests 100
KeepAliveTimeout 5
{self.prefork.directives()}# mod_python's own global mutexes default to /tmp; keep them here.
PythonOption mod_python.mutex_directory {work}/run
DocumentRoot {self.site_dir}
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {self.site_dir}>
    AllowOverride None
    Require all granted
</Directory>
{self.extra_conf}
Include {work}/fragment.conf
"""

    def write_config(self) -> Path:
        run = self.workdir / "run"
        run.mkdir(exist_ok=True)
        # The workers (www-data) create lock files there after the switch from root.
        account = pwd.getpwnam(self.user)
        os.chown(run, account.pw_uid, account.pw_gid)
        self.workdir.chmod(0o755)
        (self.workdir / "fragment.conf").write_text(self.include_conf_text)
        self.conf_path.write_text(self.config_text())
        return self.conf_path

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> ApacheServer:
        ok, reason = apache_available()
        if not ok:
            raise RuntimeError(reason)
        check_world_readable(self.site_dir)
        self.write_config()
        log = open(self.workdir / "stdout.log", "wb")
        try:
            self.proc = subprocess.Popen(
                [str(APACHE_BIN), "-f", str(self.conf_path), "-DFOREGROUND"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=CLEAN_ENV, cwd=str(self.workdir), start_new_session=True)
        finally:
            log.close()
        try:
            wait_for_port(self.port, lambda: self.proc.poll() is None, timeout)
        except RuntimeError as exc:
            output = self.diagnostics()
            self.stop()
            raise RuntimeError(f"apache did not start: {exc}\n{output}") from exc
        return self

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        """SIGTERM to the parent (it stops its children), wait, then SIGKILL any member of
        its process group that is left. Returns the parent's exit status."""
        if self.proc is None:
            return None
        pgid = self.proc.pid  # start_new_session: the parent leads its own group
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reap_group(pgid, timeout=5.0)
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.proc.returncode

    @staticmethod
    def _reap_group(pgid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while process_group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_group_members(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> ApacheServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def diagnostics(self) -> str:
        stdout = self.workdir / "stdout.log"
        text = stdout.read_text(errors="replace") if stdout.exists() else ""
        return (text + self.error_log())[-4000:]
