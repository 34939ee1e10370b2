"""Interleaved A/B of one prefork-modpy worker's CPU per request between source trees.

For each window and each tree in turn: start issue 16's prefork-modpy (the suite's site and
config, one worker) from that tree (PYTHONPATH=TREE), warm it up for 2 s, then read the
worker's user and system time from /proc over one wrk window and divide by the requests wrk
completed. Medians over the windows. CPU per request, unlike req/s, barely moves when other
processes share the machine, and interleaving spreads a slow spell over every tree.

  bench/.venv-bench/bin/python bench/ab_cpu.py WORKLOAD TREE [TREE...] [--windows 5] [-d 6]

Each TREE is a checkout whose prefork_modpy/ holds a built _core*.so (a worktree made with
`git worktree add`, the extension copied in when the Rust code is the same).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile16  # noqa: E402
import suite16  # noqa: E402
from suite16 import BY_NAME, Options, Workload  # noqa: E402

WARMUP_SECONDS = 2


def one_window(tree: str, work: Workload, seconds: int, opts: Options) -> tuple[float, float]:
    """(user, kernel) microseconds per request of one fresh worker started from `tree`."""
    with profile16.tree_server(tree, work, 1, "ab") as (running, url):
        pid = profile16.worker_pid(running.pgid)
        profile16.start_load(url, work, opts, WARMUP_SECONDS).communicate(timeout=60)
        _, user, kernel = profile16.measure_cpu(pid, seconds, url, work, opts)
        return user, kernel


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=list(BY_NAME))
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--windows", type=int, default=5, help="1..15")
    parser.add_argument("-d", "--duration", type=int, default=6, help="seconds, 1..30")
    args = parser.parse_args(argv)
    if not (1 <= args.windows <= 15 and 1 <= args.duration <= 30):
        parser.error("windows must be 1..15 and duration 1..30 s")
    work = BY_NAME[args.workload]
    opts = Options(1, 50, args.duration, 0, 10, 1, (work.name,), ("prefork-modpy",), 0, 0,
                   suite16.BENCH / "results")
    trees = [os.path.abspath(tree) for tree in args.trees]
    got: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
    for window in range(1, args.windows + 1):
        for tree in trees:
            user, kernel = one_window(tree, work, args.duration, opts)
            got[tree].append((user, kernel))
            print(f"window {window} {tree}: user {user:.1f} kernel {kernel:.1f} "
                  f"total {user + kernel:.1f} us/request", flush=True)
    print(f"\n{work.name}: medians over {args.windows} windows "
          f"(load average at the end {os.getloadavg()[0]:.1f})")
    for tree, rows in got.items():
        totals = sorted(user + kernel for user, kernel in rows)
        print(f"  {tree}: user {statistics.median(u for u, _ in rows):.1f} us, total "
              f"{statistics.median(totals):.1f} us (every window: "
              f"{' '.join(f'{t:.1f}' for t in totals)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
