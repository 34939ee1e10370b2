"""The bundled examples (examples/NAME) run as a user runs them: the example directory is
copied under a test's temporary directory and its one command, `python run.py`, is started
with `--bind` on a free loopback port.

Owns copying an example, starting its run.py and waiting for it to serve; the Server it
returns is stopped with `kill_server`. Must not change the example's files in the
repository (everything the example writes lands in the copy's var/).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .site import (
    Server,
    free_port,
    kill_server,
    serving_notices,
    wait_for_port,
    wait_until,
    worker_pids,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def start_example(name: str, base: Path, workers: int = 2, prepare_timeout: float = 90.0,
                  extra_args: tuple[str, ...] = (), config_extra: str = "") -> Server:
    """Copy examples/`name` to base/`name` and run its run.py; returns once the server
    accepts and its workers run. `config_extra` is appended to the copy's site.conf (a
    directive a test needs, e.g. `Timeout 10`). The master's output (and the ErrorLog,
    which the examples leave at its default, stderr) is base/master.log."""
    site = base / name
    shutil.copytree(EXAMPLES / name, site, ignore=shutil.ignore_patterns("var", "__pycache__"))
    if config_extra:
        with open(site / "site.conf", "a") as conf:
            conf.write("\n# added by the test\n" + config_extra + "\n")
    port = free_port()
    log = base / "master.log"
    served_before = serving_notices(log, base)
    with open(log, "ab") as output:
        proc = subprocess.Popen(
            [sys.executable, str(site / "run.py"), "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), *extra_args],
            stdout=output, stderr=subprocess.STDOUT, cwd=str(base))
    server = Server(site, port, proc, site / "site.conf", log)
    try:
        wait_for_port(port, lambda: proc.poll() is None, timeout=prepare_timeout)
        if not wait_until(lambda: len(worker_pids(proc.pid)) == workers):
            raise RuntimeError(f"{workers} workers did not start")
        # Every worker booted (the master's notice; the examples' ErrorLog is stderr).
        if not wait_until(lambda: serving_notices(log, base) > served_before):
            raise RuntimeError(f"the {workers} workers did not all become ready")
    except RuntimeError as exc:
        kill_server(server)
        raise RuntimeError(f"{exc}\n{server.master_output()[-3000:]}") from exc
    return server
