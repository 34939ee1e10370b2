"""How evenly a prefork-modpy's workers share a keep-alive load, run after run.

For each run: start issue 16's prefork-modpy (the suite's site and config) with 2 workers
from TREE (PYTHONPATH), warm up, then load it with the workload's wrk for -d seconds and
print req/s, each worker's CPU share over the window and, once a second, how many client
sockets each worker holds. A run where one worker holds nearly every connection and the
other idles shows as ~100 % / ~0 % and a low req/s (bench/README.md: AcceptFilter).

  bench/.venv-bench/bin/python bench/balance.py WORKLOAD TREE [--runs 5] [-d 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile16  # noqa: E402
import suite16  # noqa: E402
from suite16 import BY_NAME, Options  # noqa: E402

WORKERS = 2


def workers_of(pgid: int) -> list[int]:
    """The server's processes in its process group but the master (the group leader)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pgid:
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                found.append(int(entry))
    return found


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def client_sockets(pid: int, listening: int) -> int:
    """Sockets the worker holds, less the ones it has with no client (listener, handoff)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count - listening


def one_run(tree: str, work: suite16.Workload, seconds: int, opts: Options) -> str:
    with profile16.tree_server(tree, work, WORKERS, "balance") as (running, url):
        pids = workers_of(running.pgid)
        idle = {pid: client_sockets(pid, 0) for pid in pids}  # no client connected yet
        profile16.start_load(url, work, opts, 2).communicate(timeout=60)
        before = {pid: cpu_ticks(pid) for pid in pids}
        load = profile16.start_load(url, work, opts, seconds)
        held = []
        for _ in range(max(1, seconds - 1)):
            time.sleep(1)
            held.append("/".join(str(client_sockets(pid, idle[pid])) for pid in pids))
        output, _ = load.communicate(timeout=seconds + 60)
        shares = "/".join(f"{(cpu_ticks(pid) - before[pid]) / seconds:.0f}%" for pid in pids)
        rate = profile16.requests_of(output) / seconds
        return f"{rate:9.0f} req/s  worker CPU {shares}  client sockets per second {' '.join(held)}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=list(BY_NAME))
    parser.add_argument("tree")
    parser.add_argument("--runs", type=int, default=5, help="1..20")
    parser.add_argument("-d", "--duration", type=int, default=6, help="seconds, 2..30")
    args = parser.parse_args(argv)
    if not (1 <= args.runs <= 20 and 2 <= args.duration <= 30):
        parser.error("runs must be 1..20 and duration 2..30 s")
    work = BY_NAME[args.workload]
    opts = Options(WORKERS, 50, args.duration, 0, 10, 1, (work.name,), ("prefork-modpy",), 0,
                   0, suite16.BENCH / "results")
    for run in range(1, args.runs + 1):
        print(f"run {run}: {one_run(os.path.abspath(args.tree), work, args.duration, opts)}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
