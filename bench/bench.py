#!/usr/bin/env python3
"""wrk against prefork-modpy and its peers, one server at a time, on 127.0.0.1.

Every server answers the mod_python tutorial's "Hello World!" (text/plain, 12 bytes) with the
same number of worker processes: prefork-modpy and Apache prefork + mod_python run the
tutorial handler file itself from the same config fragment; gunicorn (sync worker) and
granian (WSGI) run bench/hello_wsgi.py. For each server and each variant (HTTP/1.1
keep-alive, and `Connection: close`): start, check the reply, warm up, run
`wrk --latency`, stop. Prints a table with ratios to prefork-modpy's figures of the same run
and writes the raw wrk output and a markdown report to bench/results/.

Run through bench/run.sh, which installs wrk, Apache, the peers' venv and the project.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PEERS_BIN = BENCH / ".venv-peers" / "bin"
MODPY_BIN = REPO / ".venv" / "bin" / "prefork-modpy"
TUTORIAL_HANDLER = REPO / "examples" / "tutorial" / "srv" / "mywebdir" / "myscript.py"
PATH = "/mywebdir/myscript.py"
EXPECTED_BODY = b"Hello World!"

# The Apache launcher is shared with the compatibility suite (it imports tests.support).
sys.path.insert(0, str(REPO / "tests" / "compat"))
sys.path.append(str(REPO))
from apache import (  # noqa: E402
    MOD_PYTHON,  # noqa: F401 (for suite16's report)
    ApacheServer,
    Prefork,
    apache_available,
    make_shared_dir,
    process_group_members,
    wait_for_port,
)

# The tutorial's <Directory> block, verbatim, for both mod_python servers.
FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/mywebdir>
    AddHandler mod_python .py
    PythonHandler myscript
    PythonDebug On
</Directory>
"""

SERVERS = ("prefork-modpy", "apache", "apache-wide", "gunicorn", "granian")
VARIANTS = ("keepalive", "close")


@dataclass(frozen=True)
class Settings:
    workers: int
    connections: int
    duration: int
    warmup: int
    threads: int
    timeout: int
    servers: tuple[str, ...]
    variants: tuple[str, ...]
    repeat: int
    results: Path


@dataclass
class Result:
    server: str
    variant: str
    workers: int
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    error: str = ""
    runs: list[float] = field(default_factory=list)  # req/s of every repetition
    busy_before: float = 0.0  # whole-machine CPU use just before the run (0..1)

    @property
    def errors_total(self) -> int:
        return sum(self.socket_errors.values())


# -- server processes --------------------------------------------------------------------


class Process:
    """A server started in its own process group; `stop()` leaves nothing behind."""

    def __init__(self, argv: list[str], log: Path, cwd: Path,
                 env: Optional[dict[str, str]] = None) -> None:
        with open(log, "wb") as output:
            self.proc = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=str(cwd), env=env,
                                         start_new_session=True)
        self.log = log

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Workers that outlive their master (they should not) are still in its group.
        deadline = time.monotonic() + 5
        while process_group_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_group_members(self.proc.pid):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # gone between the check and the kill


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peer_env() -> dict[str, str]:
    """The peers' venv on PATH and nothing from the caller's Python environment."""
    return {"PATH": f"{PEERS_BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/root")}


def started(proc: Process, port: int) -> Callable[[], None]:
    """Wait for the port; a server that dies first is reported with its last output."""
    try:
        wait_for_port(port, proc.alive, 30)
    except RuntimeError as exc:
        proc.stop()
        tail = proc.log.read_text(errors="replace")[-1500:] if proc.log.exists() else ""
        raise RuntimeError(f"{exc}; its output ends: {tail!r}") from exc
    return proc.stop


def start_modpy(site: Path, port: int, workers: int, log: Path) -> Callable[[], None]:
    conf = site.parent / "modpy.conf"
    # The error log beside the raw wrk output: it says why a worker died, if one did.
    conf.write_text(f"Listen 127.0.0.1:{port}\nDocumentRoot {site}\n"
                    f"ErrorLog {log.with_suffix('.error.log')}\nLogLevel warn\n"
                    + FRAGMENT.format(root=site))
    env = {"PATH": f"{MODPY_BIN.parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    argv = [str(MODPY_BIN), "--config", str(conf), "--workers", str(workers)]
    return started(Process(argv, log, site.parent, env), port)


def start_apache(site: Path, port: int, workers: int, log: Path) -> Callable[[], None]:
    server = ApacheServer(site, FRAGMENT.format(root=site), port, Prefork(workers))
    server.start()  # its RuntimeError carries the end of Apache's error log

    def stop() -> None:
        log.write_text(server.error_log())
        server.stop()

    return stop


def start_gunicorn(site: Path, port: int, workers: int, log: Path) -> Callable[[], None]:
    argv = [str(PEERS_BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--chdir", str(BENCH), "--log-level", "warning",
            "hello_wsgi:app"]
    return started(Process(argv, log, BENCH, peer_env()), port)


def start_granian(site: Path, port: int, workers: int, log: Path) -> Callable[[], None]:
    argv = [str(PEERS_BIN / "granian"), "--interface", "wsgi", "--workers", str(workers),
            "--host", "127.0.0.1", "--port", str(port), "--working-dir", str(BENCH),
            "--log-level", "warning", "--no-ws", "hello_wsgi:app"]
    return started(Process(argv, log, BENCH, peer_env()), port)


def starter(name: str, settings: Settings) -> tuple[Callable, int]:
    """(start function, worker processes) for a server name."""
    if name == "apache-wide":
        # Prefork's usual sizing: one process per concurrent client (see README).
        return start_apache, settings.connections
    table = {"prefork-modpy": start_modpy, "apache": start_apache,
             "gunicorn": start_gunicorn, "granian": start_granian}
    return table[name], settings.workers


# -- wrk ---------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unknown wrk duration {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str, result: Result) -> Result:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rps:
        result.error = "no Requests/sec in wrk output"
        return result
    result.rps = float(rps.group(1))
    for percent, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.M)
        if match:
            setattr(result, attr, to_ms(match.group(1)))
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    result.requests = int(total.group(1)) if total else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result.non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    if errors:
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                                        map(int, errors.groups())))
    return result


def wrk(url: str, settings: Settings, variant: str, duration: int,
        latency: bool = True) -> str:
    argv = ["wrk", f"-t{settings.threads}", f"-c{settings.connections}", f"-d{duration}s",
            f"--timeout={settings.timeout}s"]
    if latency:
        argv.append("--latency")
    if variant == "close":
        argv += ["-H", "Connection: close"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=False,
                          timeout=duration + settings.timeout + 30)
    return done.stdout + done.stderr


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(interval: float = 1.0) -> float:
    busy0, total0 = cpu_times()
    time.sleep(interval)
    busy1, total1 = cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_until_quiet(limit: float = 0.2, max_wait: float = 90.0) -> float:
    """The machine may be shared (other people's builds and load tests): wait, bounded,
    until the CPUs are mostly idle, and return the busy fraction last seen."""
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > limit and time.monotonic() < deadline:
        busy = cpu_busy(2.0)
    return busy


def check_reply(url: str) -> None:
    """The server must say exactly what the tutorial says before it is measured."""
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        kind = response.headers.get("Content-Type")
    if (response.status, body, kind) != (200, EXPECTED_BODY, "text/plain"):
        raise RuntimeError(f"{url}: unexpected reply {response.status} {kind} {body[:80]!r}")


def measure(name: str, variant: str, settings: Settings, site: Path, run: int) -> Result:
    start, workers = starter(name, settings)
    result = Result(name, variant, workers)
    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    stop: Optional[Callable[[], None]] = None
    try:
        result.busy_before = wait_until_quiet()
        stop = start(site, port, workers, settings.results / f"{name}-{variant}-{run}.log")
        check_reply(url)
        if settings.warmup:
            wrk(url, settings, variant, settings.warmup, latency=False)
        output = wrk(url, settings, variant, settings.duration)
        header = f"# CPU busy before the run: {result.busy_before:.0%}\n"
        (settings.results / f"{name}-{variant}-{run}.txt").write_text(header + output)
        parse_wrk(output, result)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if stop is not None:
            stop()
    return result


# -- report ------------------------------------------------------------------------------


def median_result(runs: list[Result]) -> Result:
    """The repetition with the median req/s (the lower one of the middle pair), carrying
    every repetition's req/s and the errors of all of them: the VM's neighbours make single
    runs vary by 20-30 %."""
    ok = sorted((r for r in runs if not r.error), key=lambda r: r.rps)
    chosen = ok[(len(ok) - 1) // 2] if ok else runs[-1]
    merged = Result(**{**chosen.__dict__, "runs": [r.rps for r in runs]})
    merged.non_2xx = sum(r.non_2xx for r in runs)
    merged.socket_errors = {k: sum(r.socket_errors.get(k, 0) for r in runs)
                            for k in ("connect", "read", "write", "timeout")}
    merged.error = "; ".join(r.error for r in runs if r.error)
    merged.busy_before = max(r.busy_before for r in runs)
    return merged


def ratio(result: Result, baseline: Optional[Result]) -> str:
    if baseline is None or not baseline.rps or result.error:
        return "-"
    return f"{result.rps / baseline.rps:.2f}"


def errors_cell(result: Result) -> str:
    if result.error:
        return f"FAILED: {result.error}"
    parts = [f"{k} {v}" for k, v in result.socket_errors.items() if v]
    return ", ".join(parts) or "0"


def table(results: list[Result]) -> str:
    baselines = {r.variant: r for r in results if r.server == "prefork-modpy"}
    lines = ["| server | variant | workers | req/s | p50 ms | p99 ms | non-2xx | socket errors"
             " | req/s vs prefork-modpy | req/s of each run | CPU busy before |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|"]
    for r in results:
        runs = " / ".join(f"{rps:,.0f}" for rps in r.runs)
        lines.append(f"| {r.server} | {r.variant} | {r.workers} | {r.rps:,.0f} | "
                     f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.non_2xx} | {errors_cell(r)} | "
                     f"{ratio(r, baselines.get(r.variant))} | {runs} | {r.busy_before:.0%} |")
    return "\n".join(lines)


def command_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False,
                              env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    except OSError:
        return "not installed"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def environment(settings: Settings) -> str:
    commit = command_version(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    versions = {
        "prefork-modpy": command_version([str(REPO / ".venv/bin/python"), "-c",
                                          "import prefork_modpy as p; print(p.__version__)"])
        + f" (checkout {commit})",
        "apache2": command_version(["/usr/sbin/apache2", "-v"]),
        "mod_python": command_version(["dpkg-query", "-W", "-f=${Version}",
                                       "libapache2-mod-python"]),
        "gunicorn": command_version([str(PEERS_BIN / "gunicorn"), "--version"]),
        "granian": command_version([str(PEERS_BIN / "granian"), "--version"]),
        "wrk": command_version(["wrk", "--version"]),
        "python (.venv)": command_version([str(REPO / ".venv/bin/python"), "--version"]),
    }
    lines = [f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux "
             f"{platform.release()}; wrk and the server share the CPUs",
             f"- wrk: -t{settings.threads} -c{settings.connections} -d{settings.duration}s "
             f"--timeout {settings.timeout}s --latency, after a {settings.warmup}s warm-up; "
             f"URL http://127.0.0.1:PORT{PATH}; {settings.repeat} run(s), median shown"]
    lines += [f"- {name}: {version}" for name, version in versions.items()]
    return "\n".join(lines)


def write_report(results: list[Result], settings: Settings, started: str) -> Path:
    text = (f"# Benchmark run {started}\n\n{table(results)}\n\n"
            f"## Environment\n\n{environment(settings)}\n")
    report = settings.results / "results.md"
    report.write_text(text)
    shutil.copy(report, settings.results.parent / "latest.md")
    return report


# -- main --------------------------------------------------------------------------------


def parse_args(argv: Optional[list[str]] = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("-c", "--connections", type=int,
                        default=int(os.environ.get("C", 50)))
    parser.add_argument("-d", "--duration", type=int, default=int(os.environ.get("D", 10)))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help=f"comma-separated subset of {','.join(SERVERS)}")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="keepalive, close, or both")
    parser.add_argument("--repeat", type=int, default=1,
                        help="repetitions (servers interleaved); the median is reported")
    args = parser.parse_args(argv)
    servers = tuple(s for s in args.servers.split(",") if s)
    variants = tuple(v for v in args.variants.split(",") if v)
    unknown = set(servers) - set(SERVERS) | set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown server/variant: {', '.join(sorted(unknown))}")
    if not 1 <= args.duration <= 600 or not 1 <= args.connections <= 10000:
        parser.error("duration must be 1..600 s and connections 1..10000")
    if not 1 <= args.repeat <= 10:
        parser.error("repeat must be 1..10")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Settings(args.workers, args.connections, args.duration, args.warmup, args.threads,
                    args.timeout, servers, variants, args.repeat, BENCH / "results" / stamp)


def preflight(settings: Settings) -> list[str]:
    """Why some servers cannot run (missing tools); the rest still runs."""
    problems = []
    if not shutil.which("wrk"):
        problems.append("wrk is not installed (bench/run.sh installs it)")
    if "prefork-modpy" in settings.servers and not MODPY_BIN.exists():
        problems.append(f"{MODPY_BIN} missing: run `make install` at the repo root")
    if {"apache", "apache-wide"} & set(settings.servers):
        ok, reason = apache_available()
        if not ok:
            problems.append(reason)
    for peer in ("gunicorn", "granian"):
        if peer in settings.servers and not (PEERS_BIN / peer).exists():
            problems.append(f"{PEERS_BIN / peer} missing (bench/run.sh installs it)")
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--suite"] or args[:1] == ["--suite=issue16"]:
        # Issue 16's suite: every workload and every peer (bench/suite16.py).
        rest = args[1:] if "=" in args[0] else args[2:]
        if "=" not in args[0] and args[1:2] != ["issue16"]:
            print("--suite: the only suite is issue16", file=sys.stderr)
            return 2
        import suite16

        return suite16.main(rest)
    settings = parse_args(argv)
    problems = preflight(settings)
    if problems:
        print("cannot run:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    settings.results.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    base = make_shared_dir("bench-site-")  # readable by Apache's www-data workers
    site = base / "srv"
    (site / "mywebdir").mkdir(parents=True)
    shutil.copy(TUTORIAL_HANDLER, site / "mywebdir" / "myscript.py")
    runs: dict[tuple[str, str], list[Result]] = {}
    try:
        # Servers interleaved within each repetition, so that a slow spell of the machine
        # does not land on one server's runs only.
        for run in range(1, settings.repeat + 1):
            for variant in settings.variants:
                for name in settings.servers:
                    print(f"-- run {run}/{settings.repeat}: {name} ({variant})", flush=True)
                    result = measure(name, variant, settings, site, run)
                    runs.setdefault((name, variant), []).append(result)
                    time.sleep(1)  # let the previous server's sockets and CPU settle
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results = [median_result(r) for r in runs.values()]
    report = write_report(results, settings, started)
    print("\n" + table(results))
    print(f"\nraw wrk output and {report.name}: {settings.results}")
    return 1 if any(r.error or r.non_2xx or r.errors_total for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
