"""Profile one prefork-modpy worker under one of issue 16's workloads (bench/profile.sh).

Not named profile.py: that would shadow the standard library's `profile`, which cProfile
imports, for every script in bench/.

Starts prefork-modpy (bench/.venv-bench, the suite's site and config: every phase,
autoreload and the combined access log on) with ONE worker, so that the worker profiled
serves every request; drives it with wrk (the workload's own arguments) for the whole
profile; then, one bounded window each:

1. `/proc/PID/stat` of the worker: its user and system CPU time over a window and the
   requests wrk completed in it -> CPU microseconds per request, split user / kernel;
2. py-spy, raw collapsed stacks with native frames (`--native`: Rust and C frames too),
   -> `<workload>-top.txt`: the top-N leaf functions and inclusive functions, and the user
   time per request split into buckets (engine, crossing, worker loop, dispatch, request
   record, httpd rules, access log, mod_python API, handler/app, stdlib, interpreter);
3. py-spy again, as a flame graph -> `<workload>-flame.svg`;
4. perf (when installed), `perf record -g` of the worker -> `<workload>-perf-dso.txt`:
   samples by shared object (kernel, _core, libpython, libc), which py-spy cannot see.

Everything goes to bench/results/profile-<stamp>/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import suite16
from suite16 import BY_NAME, VENV_BIN, Options, Site

import bench

TICK = 100  # USER_HZ: /proc/PID/stat counts clock ticks of 1/100 s on Linux


def worker_pid(pgid: int) -> int:
    for _ in range(100):
        workers = [p for p in bench.process_group_members(pgid) if p != pgid]
        if workers:
            return workers[0]
        time.sleep(0.1)
    raise RuntimeError("no worker process appeared")


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime, stime) of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


@contextmanager
def tree_server(tree: str, work: suite16.Workload, workers: int,
                name: str) -> Iterator[tuple[suite16.Running, str]]:
    """The suite's prefork-modpy (its site and config) run from the source tree `tree`
    (PYTHONPATH), checked to answer: yields it and the workload's URL; stopped and its site
    removed afterwards (bench/ab_cpu.py, bench/balance.py)."""
    site = suite16.make_site()
    plain_env = suite16.python_env
    suite16.python_env = lambda: dict(plain_env(), PYTHONPATH=tree)
    try:
        running = suite16.start_modpy(site, work, workers, site.logs(name))
    finally:
        suite16.python_env = plain_env
    try:
        url = work.url("prefork-modpy", running.port)
        suite16.check_answer(url, work, site)
        yield running, url
    finally:
        running.stop()
        shutil.rmtree(site.base, ignore_errors=True)


def start_load(url: str, work: suite16.Workload, opts: Options, seconds: int) -> subprocess.Popen:
    argv = suite16.wrk_argv(url, work, opts, seconds)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def requests_of(output: str) -> int:
    match = re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+)", output, re.M)
    return int(match.group(1)) if match else 0


# -- buckets -------------------------------------------------------------------------------

IDLE = "idle: waiting in epoll_wait (not CPU; left out of the split)"
SYSCALL = "kernel: system calls (send, read, stat...)"
ENGINE = "engine (Rust, _core)"
CROSSING = "crossing (PyO3 glue, argument conversion)"
# The innermost .py frame decides the rest (interpreter time counts for the Python code it
# was running); first match wins.
PYTHON_BUCKETS = (
    ("access log", lambda f: "httpd/accesslog.py" in f or "logformat" in f),
    ("worker loop, scoreboard (server/)", lambda f: "prefork_modpy/server/" in f),
    ("dispatch (modpy/)", lambda f: "prefork_modpy/modpy/" in f),
    ("request record, runtime (runtime/)", lambda f: "prefork_modpy/runtime/" in f),
    ("httpd rules (httpd/, config/)", lambda f: "prefork_modpy/httpd/" in f
     or "prefork_modpy/config/" in f),
    ("mod_python API (mod_python/)", lambda f: "mod_python/" in f),
    ("handler / application", lambda f: _is_app(_frame_path(f))),
)
# py-spy names files relative to their sys.path entry: "flask/app.py", "myscript.py".
APP_PACKAGES = ("flask/", "werkzeug/", "django/", "jinja2/", "markupsafe/", "itsdangerous/",
                "blinker/", "asgiref/", "sqlparse/")
APP_FILES = ("flask_app.py", "django_app.py", "posthandlers.py", "myscript.py",
             "hello_wsgi.py")


def _frame_path(frame: str) -> str:
    match = re.search(r"\(([^()]*):\d+\)$", frame)
    return match.group(1) if match else ""


def _is_app(path: str) -> bool:
    return path.startswith(APP_PACKAGES) or path.rsplit("/", 1)[-1] in APP_FILES
NATIVE_LIBS = ("libc.so", "[vdso]", "libpthread", "ld-linux")


def python_leaf(frames: list[str]) -> str:
    """The innermost frame that names a .py file (where Python code was when sampled)."""
    return next((f for f in reversed(frames) if ".py:" in f), "")


def bucket_of(frames: list[str]) -> str:
    leaf = frames[-1] if frames else ""
    if leaf.startswith(("epoll_wait ", "epoll_pwait ")):
        return IDLE
    if any(lib in leaf for lib in NATIVE_LIBS) and not leaf.startswith(("malloc ", "free ",
                                                                         "memcpy", "memmove")):
        return SYSCALL
    if "pyo3" in leaf:
        return CROSSING
    if "_core::" in leaf or ".rs:" in leaf:
        return ENGINE
    where = python_leaf(frames)
    for name, test in PYTHON_BUCKETS:
        if test(where):
            return name
    return "other (interpreter with no Python frame, allocator...)" if not where \
        else "other Python (stdlib...)"


def read_collapsed(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summary(stacks: list[tuple[list[str], int]], user_us: float, kernel_us: float,
            top: int) -> str:
    """Buckets, then top-N self and inclusive. Kernel time per request is the worker's system
    time (/proc); user time per request is spread over the samples that were neither idle
    nor in a system call. py-spy samples wall-clock time, so a sample inside a system call
    may be a wait (a preempted worker on a busy machine), hence the split."""
    total = sum(count for _, count in stacks) or 1
    buckets: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        buckets[bucket_of(frames)] += count
        leaves[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    user = (total - buckets[IDLE] - buckets[SYSCALL]) or 1
    lines = [f"{total} samples: {buckets[IDLE]} idle, {buckets[SYSCALL]} in system calls, "
             f"{user} in user space. CPU per request {user_us + kernel_us:.1f} us:", "",
             f"{'where':58} {'user share':>10} {'us/request':>11}",
             f"{'kernel (worker system time, /proc)':58} {'':>10} {kernel_us:11.2f}"]
    for name, count in buckets.most_common():
        if name not in (IDLE, SYSCALL):
            lines.append(f"{name:58} {count / user:10.1%} {user_us * count / user:11.2f}")
    lines += ["", f"top {top} functions by self samples (all samples):"]
    lines += [f"{count / total:7.1%}  {frame}" for frame, count in leaves.most_common(top)]
    lines += ["", f"top {top} functions by inclusive samples:"]
    lines += [f"{count / total:7.1%}  {frame}" for frame, count in inclusive.most_common(top)]
    return "\n".join(lines)


# -- the steps -----------------------------------------------------------------------------


def measure_cpu(pid: int, load_seconds: int, url: str, work: suite16.Workload,
                opts: Options) -> tuple[str, float, float]:
    """(report lines, user us/request, kernel us/request) over one wrk window."""
    before = cpu_ticks(pid)
    load = start_load(url, work, opts, load_seconds)
    output, _ = load.communicate(timeout=load_seconds + 60)
    after = cpu_ticks(pid)
    requests = requests_of(output) or 1
    user_us = (after[0] - before[0]) / TICK * 1e6 / requests
    kernel_us = (after[1] - before[1]) / TICK * 1e6 / requests
    text = (f"wrk window: {requests} requests; worker CPU per request: user {user_us:.1f} us, "
            f"kernel {kernel_us:.1f} us (from /proc/{pid}/stat, 10 ms ticks)\n\n{output}")
    return text, user_us, kernel_us


def py_spy(pid: int, seconds: int, fmt: str, out: Path, rate: int, native: bool) -> str:
    argv = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(seconds),
            "--rate", str(rate), "--format", fmt, "--output", str(out)]
    # --native (Rust and C frames) must pause the worker at each sample; without it py-spy
    # reads the worker's memory without stopping it.
    argv += ["--native"] if native else ["--nonblocking"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    return f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}"


def perf_dso(pid: int, seconds: int, out_dir: Path, name: str) -> str:
    perf = shutil.which("perf")
    if not perf:
        return "perf not installed: no kernel/shared-object split"
    data = out_dir / f"{name}-perf.data"
    record = [perf, "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(pid), "-o",
              str(data), "--", "sleep", str(seconds)]
    done = subprocess.run(record, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    if done.returncode != 0:
        return f"perf record failed: {done.stderr[-600:]}"
    report = subprocess.run([perf, "report", "-i", str(data), "--no-children", "--sort",
                             "dso", "--stdio", "-g", "none"],
                            capture_output=True, text=True, timeout=120, check=False)
    symbols = subprocess.run([perf, "report", "-i", str(data), "--no-children", "--sort",
                              "dso,sym", "--stdio", "-g", "none", "--percent-limit", "0.7"],
                             capture_output=True, text=True, timeout=120, check=False)
    text = (f"$ {' '.join(record)}\n\n## by shared object\n{report.stdout}\n"
            f"## by symbol (>= 0.7 %)\n{symbols.stdout}")
    (out_dir / f"{name}-perf-dso.txt").write_text(text)
    data.unlink(missing_ok=True)
    return f"perf: {out_dir / (name + '-perf-dso.txt')}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="profile one prefork-modpy worker")
    parser.add_argument("workload", choices=[w for w in BY_NAME if w != "static-64k"]
                        + ["static-64k"])
    parser.add_argument("-d", "--duration", type=int, default=10,
                        help="seconds of each profiling window (1..120)")
    parser.add_argument("-c", "--connections", type=int, default=50)
    parser.add_argument("--rate", type=int, default=499, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--python-only", action="store_true",
                        help="py-spy without --native: Python frames only, worker not paused")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        parser.error("duration must be 1..120 s")
    work = BY_NAME[args.workload]
    out_dir = bench.BENCH / "results" / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    out_dir.mkdir(parents=True)
    opts = Options(1, args.connections, args.duration, 0, 10, 1, (work.name,),
                   ("prefork-modpy",), 0, 0, out_dir)
    site: Site = suite16.make_site()
    running = None
    notes = []
    try:
        running = suite16.start_modpy(site, work, 1, site.logs("profile"))
        url = f"http://127.0.0.1:{running.port}{work.path('prefork-modpy')}"
        suite16.check_answer(url, work)
        pid = worker_pid(running.pgid)
        d = args.duration
        cpu_text, user_us, kernel_us = measure_cpu(pid, d, url, work, opts)
        name = work.name
        # py-spy and perf windows, each under load that outlasts it.
        load = start_load(url, work, opts, 2 * d + 4)
        time.sleep(1)
        notes.append(py_spy(pid, d, "raw", out_dir / f"{name}-stacks.txt", args.rate,
                            not args.python_only))
        notes.append(py_spy(pid, d, "flamegraph", out_dir / f"{name}-flame.svg", args.rate,
                            not args.python_only))
        load.communicate(timeout=2 * d + 60)
        load = start_load(url, work, opts, d + 3)
        time.sleep(1)
        notes.append(perf_dso(pid, d, out_dir, name))
        load.communicate(timeout=d + 60)
        stacks = read_collapsed(out_dir / f"{name}-stacks.txt") \
            if (out_dir / f"{name}-stacks.txt").exists() else []
        top = (f"# {name}: {work.title}; prefork-modpy, 1 worker, wrk -t1 "
               f"-c{args.connections}\n\n{cpu_text}\n"
               f"kernel CPU per request: {kernel_us:.1f} us (system time of the worker)\n\n"
               + summary(stacks, user_us, kernel_us, args.top) + "\n\n" + "\n".join(notes) + "\n")
        (out_dir / f"{name}-top.txt").write_text(top)
        print(top)
    finally:
        if running is not None:
            running.stop()
        shutil.rmtree(site.base, ignore_errors=True)
    print(f"flame graph, top-N, perf split: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
