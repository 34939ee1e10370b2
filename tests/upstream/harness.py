"""Run mod_python's own regression suite (vendor/test.py, unmodified) against a server.

Owns loading test.py once per server ("target") and replacing the only parts of it that
cannot apply here, from the outside:

* `mod_python.version` (made by mod_python's ./configure) is supplied: HTTPD is a small
  launcher script in the target's bin/ (answers test.py's `httpd -v` probe; `ab` is linked
  next to it so test_global_lock really measures the lock), TESTHOME a private copy of
  vendor/ (conf/, htdocs/), LIBEXECDIR and TEST_MOD_PYTHON_SO Debian's module paths.
* `HttpdCtrl.startHttpd`/`stopHttpd` start the server in the foreground in its own process
  group (Apache with a clean environment, as tests/compat does) instead of `httpd -k start`.
* test.py's generated config is used as written, except: for Apache running as root, `User`
  and `Group` are added; for prefork-modpy, `LoadModule`, `Mutex` and `TypesConfig` lines are
  dropped (there are no modules to load, no APR mutexes, and the system mime.types is used).

test.py's module-level `tr.run(suite())` is captured, not run: the suite's tests are driven
one by one (`run_case`), so pytest can report each. Must not edit vendor/ or know any
test's expected answer: every assertion is test.py's own.
"""

from __future__ import annotations

import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
import unittest
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from unittest import mock

import mod_python
from tests.compat.apache import (
    APACHE_BIN,
    CLEAN_ENV,
    MOD_PYTHON,
    MODULES_DIR,
    make_shared_dir,
)
from tests.support.proc import process_group_members
from tests.support.site import wait_for_port

VENDOR = Path(__file__).with_name("vendor")
AB = Path("/usr/bin/ab")
APACHE = "apache"
MODPY = "prefork-modpy"

# Config lines prefork-modpy has no use for (the only lines dropped from test.py's config).
DROPPED_FOR_MODPY = ("loadmodule", "mutex", "typesconfig")
# makeConfig writes this comment between its own config and the per-request tests' sections.
APPENDED_MARKER = "#  --APPENDED--\n"
CASE_TIMEOUT = 60.0  # test.py's connections have no timeout; one stuck request must not hang

LAUNCHER = """#!/bin/sh
# Written by tests/upstream/harness.py: test.py probes `$HTTPD -v` at import to choose its
# Apache 2.4 branches; the harness itself starts and stops the server.
if [ "$1" = "-v" ]; then
{version}
  exit 0
fi
echo "tests/upstream: the harness starts this server, not $0" >&2
exit 2
"""
# prefork-modpy implements httpd 2.4's behaviour; test.py reads "NAME/MAJOR.MINOR.PATCH".
MODPY_VERSION = '  echo "Server version: prefork-modpy/2.4.0"'
APACHE_VERSION = f"  exec env -i PATH={CLEAN_ENV['PATH']} {APACHE_BIN} -v"


@dataclass
class Outcome:
    """One upstream test's result on one server."""

    status: str  # "pass", "fail", "error", "skip"
    detail: str = ""
    deliberate: bool = False  # a failure docs/migration.md explains (a strict xfail)

    @property
    def passed(self) -> bool:
        return self.status == "pass"


class _CapturingRunner:
    """Stands in for unittest.TextTestRunner while test.py is loaded or builds its
    per-request suite: keeps the suite instead of running it."""

    captured: list[unittest.TestSuite] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run(self, suite: unittest.TestSuite) -> unittest.TestResult:
        _CapturingRunner.captured.append(suite)
        return unittest.TestResult()


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    cases: list[unittest.TestCase] = []
    for item in suite:
        cases.extend(_flatten(item) if isinstance(item, unittest.TestSuite) else [item])
    return cases


@dataclass
class Target:
    """One server under test, with its own copy of test.py (module) and TESTHOME."""

    kind: str  # APACHE or MODPY
    home: Path = field(default_factory=lambda: make_shared_dir("upstream-home-"))
    module: Any = None
    proc: Optional[subprocess.Popen] = None
    per_request: dict[str, unittest.TestCase] = field(default_factory=dict)
    # per-request test -> its config sections, as test.py appends them (in order)
    sections: list[tuple[str, Any]] = field(default_factory=list)
    # per-request test -> why prefork-modpy refused its section (`-t`'s message)
    refused: dict[str, str] = field(default_factory=dict)

    # -- setting up ----------------------------------------------------------------

    def prepare(self) -> Target:
        shutil.copytree(VENDOR / "htdocs", self.home / "htdocs")
        shutil.copytree(VENDOR / "conf", self.home / "conf")
        bin_dir = self.home / "bin"
        bin_dir.mkdir()
        launcher = bin_dir / "httpd"
        version = APACHE_VERSION if self.kind == APACHE else MODPY_VERSION
        launcher.write_text(LAUNCHER.format(version=version))
        launcher.chmod(0o755)
        if AB.exists():
            (bin_dir / "ab").symlink_to(AB)
        self.module = load_test_module(self)
        return self

    def version_module(self) -> types.ModuleType:
        module = types.ModuleType("mod_python.version")
        module.HTTPD = str(self.home / "bin" / "httpd")  # type: ignore[attr-defined]
        module.TESTHOME = str(self.home)  # type: ignore[attr-defined]
        if self.kind == APACHE:
            module.LIBEXECDIR = str(MODULES_DIR)  # type: ignore[attr-defined]
            module.TEST_MOD_PYTHON_SO = str(MOD_PYTHON)  # type: ignore[attr-defined]
        else:  # only LoadModule lines name them, and those are dropped
            module.LIBEXECDIR = str(self.home / "bin")  # type: ignore[attr-defined]
            module.TEST_MOD_PYTHON_SO = str(self.home / "bin" / "httpd")  # type: ignore
        module.HTTPD_VERSION = "2.4"  # type: ignore[attr-defined]
        module.version = mod_python.version  # type: ignore[attr-defined]
        return module

    # -- the server ------------------------------------------------------------------

    def adapted_config(self, text: str) -> str:
        if self.kind == APACHE:
            account = pwd.getpwnam("www-data")
            return text + f"User {account.pw_name}\nGroup #{account.pw_gid}\n"
        kept = [line for line in text.splitlines(keepends=True)
                if line.split(None, 1)[:1] == []
                or line.split(None, 1)[0].lower() not in DROPPED_FOR_MODPY]
        return "".join(kept)

    def command(self, conf: Path, extra: str) -> list[str]:
        defines = re.findall(r"-D\s*(\S+)", extra)
        if self.kind == APACHE:
            return [str(APACHE_BIN), "-f", str(conf), "-DFOREGROUND",
                    *(f"-D{name}" for name in defines)]
        flags = [arg for name in defines for arg in ("-D", name)]
        return [sys.executable, "-m", "prefork_modpy", "--config", str(conf), *flags]

    def start(self, extra: str = "") -> None:
        conf = Path(self.module.CONFIG)  # rewritten in place: test_internal checks its name
        generated = conf.read_text()
        conf.with_name("test.conf.generated").write_text(generated)
        if self.kind == APACHE:
            conf.write_text(self.adapted_config(generated))
            # Apache's children run as www-data (we are root); test.py's Apache runs as the
            # user who owns TESTHOME, so its tmp/ (sessions, mutexes) is writable to them.
            account = pwd.getpwnam("www-data")
            os.chown(self.module.TMP_DIR, account.pw_uid, account.pw_gid)
        else:
            conf.write_text(self.accepted_config(conf, generated))
        env = CLEAN_ENV if self.kind == APACHE else dict(os.environ)
        with open(self.home / "server-output.log", "ab") as output:
            self.proc = subprocess.Popen(
                self.command(conf, extra), stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, cwd=str(self.home), start_new_session=True)
        proc = self.proc
        try:
            wait_for_port(self.module.PORT, lambda: proc.poll() is None, timeout=30.0)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{self.kind} did not start: {exc}\n{self.output()}") from exc

    def accepted_config(self, conf: Path, generated: str) -> str:
        """The adapted config, minus the per-request tests' sections prefork-modpy refuses:
        test.py puts every per-request test in one server, so one refused directive would
        fail all of them; each refused test is recorded in `self.refused` with the
        server's `file:line: message` instead, and the others run."""
        base, marker, appended = generated.partition(APPENDED_MARKER)
        parts = [(name, str(part)) for name, part in self.sections]
        if "".join(text for _, text in parts) != appended:
            parts = [("", appended)]  # a per-instance test's own section, run as a whole
        for _ in range(len(parts) + 1):
            text, owners = self._assemble(base + marker, parts)
            conf.write_text(text)
            problem = self.check_config(conf)
            if not problem:
                return text
            line = re.search(r":(\d+): ", problem)
            owner = owners.get(int(line.group(1))) if line else None
            if not owner:
                return text  # not a test's own section: the start-up reports it
            self.refused[owner] = problem
            parts = [(name, part) for name, part in parts if name != owner]
        return text

    def _assemble(self, base: str, parts: list[tuple[str, str]]) -> tuple[str, dict[int, str]]:
        text = self.adapted_config(base)
        owners: dict[int, str] = {}
        for name, part in parts:
            first = text.count("\n") + 1
            text += self.adapted_config(part)
            owners.update({n: name for n in range(first, text.count("\n") + 1)})
        return text, owners

    def check_config(self, conf: Path) -> str:
        """prefork-modpy's own verdict on a config (`-t`): "" or its error message."""
        done = subprocess.run([sys.executable, "-m", "prefork_modpy", "--config", str(conf),
                               "-t"], capture_output=True, text=True, timeout=60,
                              cwd=str(self.home), check=False)
        return "" if done.returncode == 0 else (done.stderr.strip() or done.stdout.strip())

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        deadline = time.monotonic() + 5.0
        while process_group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_group_members(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def output(self) -> str:
        path = self.home / "server-output.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def error_log(self) -> str:
        path = self.home / "logs" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- the suite ---------------------------------------------------------------------

    def start_per_request_server(self) -> None:
        """testPerRequestTests builds the per-request suite (each case appends its
        virtual host), writes the config and starts the server; its runner is captured."""
        _CapturingRunner.captured.clear()
        holder = self.module.PerInstanceTestCase("testPerRequestTests")
        with mock.patch.object(unittest, "TextTestRunner", _CapturingRunner), \
                redirect_stdout(io.StringIO()):
            holder.testPerRequestTests()
        cases = _flatten(_CapturingRunner.captured[-1])
        self.per_request = {case._testMethodName: case for case in cases}

    def run_per_instance(self, name: str) -> Outcome:
        return run_case(self.module.PerInstanceTestCase(name))

    def run_per_request(self, name: str) -> Outcome:
        if name in self.refused:
            return Outcome("error", f"prefork-modpy refused this test's config section: "
                                    f"{self.refused[name]}")
        return run_case(self.per_request[name])


def _patch_server_control(module: Any, target: Target) -> None:
    def start_httpd(self: Any, extra: str = "") -> None:
        target.start(extra)
        self.httpd_running = 1

    def stop_httpd(self: Any) -> None:
        target.stop()
        self.httpd_running = 0

    module.HttpdCtrl.startHttpd = start_httpd
    module.HttpdCtrl.stopHttpd = stop_httpd

    original_init = module.PerRequestTestCase.__init__

    def init_recording_section(self: Any, methodName: str = "runTest") -> None:
        appended = self.__class__.appendConfig.args
        before = len(appended)
        original_init(self, methodName)
        target.sections.extend((methodName, part) for part in appended[before:])

    module.PerRequestTestCase.__init__ = init_recording_section


def load_test_module(target: Target) -> Any:
    """Execute vendor/test.py as a fresh module bound to `target`."""
    path = VENDOR / "test.py"
    module = types.ModuleType(f"mod_python_upstream_test_{target.kind.replace('-', '_')}")
    module.__file__ = str(path)
    package_version = mod_python.version
    sys.modules["mod_python.version"] = target.version_module()
    mod_python.version = sys.modules["mod_python.version"]  # type: ignore[assignment]
    try:
        with mock.patch.object(unittest, "TextTestRunner", _CapturingRunner), \
                redirect_stdout(io.StringIO()):
            exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    finally:
        del sys.modules["mod_python.version"]
        mod_python.version = package_version
    _patch_server_control(module, target)
    return module


def run_case(case: unittest.TestCase) -> Outcome:
    """Run one test.py test (setUp, test, tearDown) and say how it went."""
    result = unittest.TestResult()
    output = io.StringIO()
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CASE_TIMEOUT)
    try:
        with redirect_stdout(output):
            case.run(result)
    finally:
        socket.setdefaulttimeout(previous)
    if result.errors:
        return Outcome("error", result.errors[0][1])
    if result.failures:
        return Outcome("fail", result.failures[0][1])
    if result.skipped:
        return Outcome("skip", result.skipped[0][1])
    return Outcome("pass")


def suite_names() -> tuple[list[str], list[str]]:
    """(per-instance tests, per-request tests) of test.py's suite(), in its order, read by
    loading test.py with a server that is never started."""
    target = Target(MODPY)
    try:
        target.prepare()
        _CapturingRunner.captured.clear()
        # testPerRequestTests only runs the per-request tests: they are listed one by one.
        instance = [case._testMethodName for case in _flatten(_loaded_suite(target))
                    if case._testMethodName != "testPerRequestTests"]
        module = target.module
        module.HttpdCtrl.makeConfig = lambda self, append=None: None
        module.HttpdCtrl.startHttpd = lambda self, extra="": None
        target.start_per_request_server()
        return instance, list(target.per_request)
    finally:
        shutil.rmtree(target.home, ignore_errors=True)


def _loaded_suite(target: Target) -> unittest.TestSuite:
    # test.py ends with `tr.run(suite())`; calling suite() again gives the same list.
    return target.module.suite()


def describe(outcome: Optional[Outcome]) -> str:
    if outcome is None:
        return "-"
    return "xfail" if outcome.deliberate and not outcome.passed else outcome.status


def short_reason(outcome: Outcome) -> str:
    lines = [line for line in outcome.detail.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else ""

