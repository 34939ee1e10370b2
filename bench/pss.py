"""Memory of a prefork-modpy master and its workers after 200 tutorial requests.

    .venv/bin/python bench/pss.py PYTHON PORT [REPEATS]

starts `PYTHON -m prefork_modpy` on the tutorial site with 2 workers on 127.0.0.1:PORT,
sends 200 requests, waits 2 s and prints Rss, Pss, Shared_* and Private_Dirty (KiB, from
/proc/PID/smaps_rollup) of the master and each worker. bench/README.md ("Memory") uses it.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Dirty")


def smaps(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in FIELDS:
                out[key] = int(value.split()[0])
    return out


def measure(python: str, port: int) -> None:
    proc = subprocess.Popen([python, "-m", "prefork_modpy", "-f", "examples/tutorial/site.conf",
                             "-w", "2", "-b", f"127.0.0.1:{port}"], cwd=ROOT,
                            start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/mywebdir/myscript.py"
        for _ in range(100):  # up to 10 s for the start
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(200):
            urllib.request.urlopen(url, timeout=5).read()
        time.sleep(2)
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as handle:
            workers = [int(pid) for pid in handle.read().split()]
        print("master", smaps(proc.pid))
        for pid in workers:
            print("worker", smaps(pid))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 1):
        measure(sys.argv[1], int(sys.argv[2]))
