"""The master process: config errors, reload, stop, supervision, process titles."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.support.site import wait_until, worker_pids

OPTIONS_CONF = """
<Directory {root}/app>
    SetHandler mod_python
    PythonHandler behaviours::options
    PythonOption greeting {greeting}
</Directory>
"""


def fetch(server, path):
    with urllib.request.urlopen(server.url(path), timeout=10) as response:
        return response.read()


@pytest.fixture
def app(site):
    return site(OPTIONS_CONF.replace("{greeting}", "hello"),
                {"app/behaviours.py": "handlers/behaviours.py"}, workers=2)


def rewrite_greeting(server, value):
    text = server.conf.read_text()
    start = text.index("PythonOption greeting ")
    end = text.index("\n", start)
    server.conf.write_text(text[:start] + f"PythonOption greeting {value}" + text[end:])


def test_config_error_names_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("Listen 127.0.0.1:1\n\n<Directory /tmp>\n    PythonHandlr x\n</Directory>\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "--config", str(conf)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"{conf}:4: " in result.stderr
    assert "PythonHandlr" in result.stderr


def test_check_config(tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text("Listen 127.0.0.1:1\nPythonOption a b\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "--config", str(conf), "-t"],
                            capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout.strip()) == (0, "Syntax OK")


def test_sighup_picks_up_changed_option(app):
    assert json.loads(fetch(app, "/app/x"))["greeting"] == "hello"
    old_workers = set(app.workers())
    rewrite_greeting(app, "bonjour")
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: json.loads(fetch(app, "/app/x"))["greeting"] == "bonjour")
    assert wait_until(lambda: not (set(app.workers()) & old_workers))
    assert len(app.workers()) == 2


def test_sighup_with_broken_config_keeps_serving(app):
    old_workers = app.workers()
    app.conf.write_text(app.conf.read_text() + "\nNoSuchDirective 1\n")
    os.kill(app.pid, signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in app.master_output())
    assert f"{app.conf}:" in app.master_output()
    assert json.loads(fetch(app, "/app/x"))["greeting"] == "hello"
    assert app.workers() == old_workers
    assert app.proc.poll() is None


def test_sigterm_exits_zero_and_leaves_no_worker(app):
    workers = app.workers()
    assert len(workers) == 2
    assert app.stop(signal.SIGTERM) == 0
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie_free(pid)


def _is_zombie_free(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_killed_worker_is_replaced(app):
    victim = app.workers()[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in app.workers() and len(app.workers()) == 2)
    assert json.loads(fetch(app, "/app/x"))["greeting"] == "hello"


def test_process_titles(app):
    def title(pid):
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").strip().decode()

    assert title(app.pid).startswith("prefork-modpy: master")
    titles = sorted(title(pid) for pid in app.workers())
    assert titles == ["prefork-modpy: worker 1", "prefork-modpy: worker 2"]


def test_workers_count_matches_flag(site):
    server = site("", {}, workers=3)
    assert wait_until(lambda: len(worker_pids(server.pid)) == 3)
