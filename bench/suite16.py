"""Issue 16's benchmark suite: every workload, every peer, one command.

`bench/run.sh --suite issue16` (or `make bench`) installs the peers (bench/setup.sh), then
runs this through bench/bench.py. For each round, each workload and each server -- servers
in a rotated order in every round, so that a slow spell of a shared machine does not land on
one server only -- it starts the server on a free 127.0.0.1 port, checks the answer, warms
up, runs `wrk -t1 -c<C> -d<D>s --latency` (a Lua script for POST bodies, `-H 'Connection:
close'` for new connections), reads the RSS of all the server's processes and stops it.
Then the 10,000-connection phase (bench/manyconn.py) and the idle-memory phase (RSS and PSS
of every process of prefork-modpy and Apache + mod_python). Output: medians of the rounds,
ratios of prefork-modpy against each peer beside issue 16's targets, a markdown table and a
PNG chart of the ratios in bench/results/<stamp>/ (with every raw wrk output and log).

Every Python server runs on the interpreter of bench/.venv-bench, a venv made from
/usr/bin/python3 -- the CPython build Debian's mod_python embeds -- and the report prints that
build and the libpython Apache's mod_python links. prefork-modpy (and Apache) run with every
phase, `PythonAutoReload On` and a `combined` access log to a file.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import socket
import ssl
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import manyconn

import bench
from bench import Process, Result, free_port, parse_wrk, process_group_members, wait_for_port
from tests.support.certs import make_ca, make_server

REPO = bench.REPO
BENCH = bench.BENCH
APPS = BENCH / "apps"
VENV_BIN = BENCH / ".venv-bench" / "bin"
STATIC_SIZE = 64 * 1024
COMBINED = '"%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\""'

PYTHON_PEERS = ("granian", "gunicorn", "uwsgi")
SERVERS = ("prefork-modpy", *PYTHON_PEERS, "apache", "nginx")


# -- the site every server serves ------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One shared directory tree (Apache's and nginx's workers must read it)."""

    base: Path

    @property
    def root(self) -> Path:  # DocumentRoot
        return self.base / "srv"

    @property
    def apps(self) -> Path:
        return self.base / "apps"

    @property
    def cert(self) -> Path:  # the server certificate of the https workloads (CN localhost)
        return self.base / "pki" / "localhost.pem"

    @property
    def key(self) -> Path:
        return self.base / "pki" / "localhost.key"

    @property
    def ca(self) -> Path:
        return self.base / "pki" / "ca.pem"

    def logs(self, name: str) -> Path:
        path = self.base / "logs" / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
        return path


def make_site() -> Site:
    site = Site(bench.make_shared_dir("bench16-"))
    (site.root / "mywebdir").mkdir(parents=True)
    shutil.copy(bench.TUTORIAL_HANDLER, site.root / "mywebdir" / "myscript.py")
    (site.root / "static").mkdir()
    # Incompressible, deterministic bytes: the same file for every server and every run.
    block = bytes(range(256)) * (STATIC_SIZE // 256)
    (site.root / "static" / "64k.bin").write_bytes(block)
    (site.root / "post").mkdir()
    shutil.copy(APPS / "posthandlers.py", site.root / "post")
    for name in ("read.txt", "form.txt"):
        (site.root / "post" / name).write_text("(answered by posthandlers.py)\n")
    shutil.copytree(APPS, site.apps)
    shutil.copy(BENCH / "hello_wsgi.py", site.apps)
    for path in site.base.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    # One certificate for every server of the https workloads (EC P-256, made with openssl
    # by the tests' helper); the keys stay 0600: every server reads them as root.
    pki = site.base / "pki"
    make_server(pki, make_ca(pki), "localhost")
    pki.chmod(0o755)
    return site


def tls_directives(site: Site) -> str:
    """mod_ssl's lines both mod_python servers add for the https workloads."""
    return (f"SSLEngine on\nSSLCertificateFile {site.cert}\n"
            f"SSLCertificateKeyFile {site.key}\n")


def modpy_fragment(site: Site, logs: Path, wsgi: bool, buffered_logs: bool = False) -> str:
    """The config both mod_python servers load: the tutorial's <Directory> block verbatim,
    the POST handlers, the access log; for prefork-modpy also the WSGI apps (Apache's
    /usr/bin/python3 has neither Flask nor Django)."""
    text = f"""ServerName 127.0.0.1
LogFormat {COMBINED} combined
CustomLog {logs}/access.log combined
{"BufferedLogs On" if buffered_logs else ""}
PythonAutoReload On
<Directory {site.root}/mywebdir>
    AddHandler mod_python .py
    PythonHandler myscript
    PythonDebug On
</Directory>
<Directory {site.root}/post>
    SetHandler mod_python
    PythonHandler posthandlers
</Directory>
"""
    if wsgi:
        for name in ("flask", "django"):
            text += f"""<Location /{name}>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonPath "sys.path + ['{site.apps}']"
    PythonOption mod_python.wsgi.application {name}_app::app
</Location>
"""
    return text


# -- workloads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    servers: tuple[str, ...]
    paths: dict[str, str]  # server -> URL path; "*" for the others
    expect: bytes  # in the body of a correct answer
    app: str = "hello_wsgi"  # the WSGI module the native Python servers run
    script: str = ""  # wrk Lua script in bench/apps
    close: bool = False
    tls: bool = False  # HTTPS: every server with the same certificate (Site.cert)
    buffered_logs: bool = False  # `BufferedLogs On` in both mod_python servers' config
    # issue 16's targets: peer -> minimum ratio prefork-modpy / peer (strictly above when
    # the issue says "ahead of")
    targets: dict[str, float] = field(default_factory=dict)

    def path(self, server: str) -> str:
        return self.paths.get(server, self.paths["*"])

    def url(self, server: str, port: int) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{port}{self.path(server)}"


# Servers with TLS: Apache + mod_ssl, granian's own TLS (rustls), nginx (the ceiling).
TLS_SERVERS = ("prefork-modpy", "granian", "apache", "nginx")
HELLO_PATHS = {"prefork-modpy": bench.PATH, "apache": bench.PATH, "nginx": "/hello",
               "*": "/"}
WORKLOADS = (
    Workload("hello-keepalive", "tutorial handler, keep-alive", SERVERS, HELLO_PATHS,
             b"Hello World!", targets={"granian": 1.2, "apache": 2.0}),
    Workload("hello-close", "tutorial handler, Connection: close", SERVERS, HELLO_PATHS,
             b"Hello World!", close=True,
             targets={"apache": 1.3, "nginx": 0.9, "uwsgi": 1.0}),
    Workload("flask-json", "Flask view, small JSON (mod_python.wsgi vs native)",
             ("prefork-modpy", *PYTHON_PEERS), {"prefork-modpy": "/flask/json", "*": "/json"},
             b'"status":"ok"', app="flask_app", targets={"granian": 1.0, "gunicorn": 3.0}),
    Workload("django-template", "Django view rendering a template (mod_python.wsgi vs native)",
             ("prefork-modpy", *PYTHON_PEERS),
             {"prefork-modpy": "/django/page/", "*": "/page/"},
             b"20 rows", app="django_app", targets={"granian": 1.0, "gunicorn": 3.0}),
    Workload("static-64k", "64 KiB static file (default handler)",
             ("prefork-modpy", "nginx", "apache"), {"*": "/static/64k.bin"},
             b"", targets={"nginx": 0.9}),
    Workload("post-read", "100 KiB POST read with req.read()", ("prefork-modpy", "apache"),
             {"*": "/post/read.txt"}, b"read 102400", script="post.lua",
             targets={"apache": 1.0}),
    Workload("post-form", "100 KiB multipart form through util.FieldStorage",
             ("prefork-modpy", "apache"), {"*": "/post/form.txt"}, b"form bench 102400",
             script="form.lua", targets={"apache": 1.0}),
    # mod_log_config's BufferedLogs, on in both Apache and prefork-modpy (no target: the
    # issue's runs use the default, a write per request).
    Workload("hello-keepalive-buffered", "tutorial handler, keep-alive, BufferedLogs On",
             ("prefork-modpy", "apache"), HELLO_PATHS, b"Hello World!", buffered_logs=True),
    # Static plans over TLS (no target figure in the issue): the engine encrypts the file.
    Workload("https-static-64k", "64 KiB static file over HTTPS (default handler)",
             ("prefork-modpy", "nginx", "apache"), {"*": "/static/64k.bin"}, b"", tls=True),
    # Issue 14: the hello workloads over TLS (no target figure in the issue).
    Workload("https-keepalive", "tutorial handler over HTTPS, keep-alive", TLS_SERVERS,
             HELLO_PATHS, b"Hello World!", tls=True),
    Workload("https-close", "tutorial handler over HTTPS, Connection: close (a full "
             "handshake per request)", TLS_SERVERS, HELLO_PATHS, b"Hello World!", close=True,
             tls=True),
)
BY_NAME = {w.name: w for w in WORKLOADS}


# -- starting servers --------------------------------------------------------------------


@dataclass
class Running:
    port: int
    pgid: int
    stop: Callable[[], None]


def keepalive_timeout(work: Workload) -> int:
    """Apache's KeepAliveTimeout 5, except while 10,000 connections are held idle."""
    return 300 if work.name == "many" else 5


def python_env() -> dict[str, str]:
    """bench/.venv-bench on PATH and nothing from the caller's Python environment."""
    return {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/root")}


def spawn(argv: list[str], log: Path, cwd: Path, port: int,
          env: Optional[dict[str, str]] = None) -> Running:
    proc = Process(argv, log, cwd, env or python_env())
    try:
        wait_for_port(port, proc.alive, 60)
    except RuntimeError as exc:
        proc.stop()
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        raise RuntimeError(f"{exc}; its output ends: {tail!r}") from exc
    return Running(port, proc.proc.pid, proc.stop)


def start_modpy(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    conf = logs / "modpy.conf"
    conf.write_text(f"Listen 127.0.0.1:{port}\nDocumentRoot {site.root}\n"
                    f"ErrorLog {logs}/error.log\nLogLevel warn\n"
                    f"KeepAliveTimeout {keepalive_timeout(work)}\n"
                    + modpy_fragment(site, logs, wsgi=True, buffered_logs=work.buffered_logs)
                    + (tls_directives(site) if work.tls else ""))
    argv = [str(VENV_BIN / "prefork-modpy"), "--config", str(conf), "--workers", str(workers)]
    return spawn(argv, logs / "stdout.log", logs, port)


def start_apache(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    fragment = modpy_fragment(site, logs, wsgi=False, buffered_logs=work.buffered_logs)
    modules: tuple[tuple[str, str], ...] = ()
    if work.tls:
        fragment += tls_directives(site)
        modules = (("ssl_module", "mod_ssl.so"),)
    server = bench.ApacheServer(site.root, fragment, port, bench.Prefork(workers),
                                extra_modules=modules)
    server.start()
    assert server.proc is not None

    def stop() -> None:
        (logs / "error.log").write_text(server.error_log())
        server.stop()

    return Running(port, server.proc.pid, stop)


def start_nginx(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    conf = logs / "nginx.conf"
    tls = (f" ssl;\n        ssl_certificate {site.cert};\n"
           f"        ssl_certificate_key {site.key}") if work.tls else ""
    # Fixed body for the hello workloads (no Python: the machine's ceiling), the same
    # static file, the same keep-alive limit as Apache's MaxKeepAliveRequests, a combined
    # access log to a file.
    conf.write_text(f"""daemon off;
master_process on;
worker_processes {workers};
pid {logs}/nginx.pid;
error_log {logs}/error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 12000; }}
http {{
    include /etc/nginx/mime.types;
    access_log {logs}/access.log combined;
    client_body_temp_path {logs}/body;
    proxy_temp_path {logs}/proxy;
    fastcgi_temp_path {logs}/fastcgi;
    uwsgi_temp_path {logs}/uwsgi;
    scgi_temp_path {logs}/scgi;
    sendfile on;
    keepalive_requests 100;
    keepalive_timeout {keepalive_timeout(work)}s;
    ssl_protocols TLSv1.2 TLSv1.3;  # nginx 1.22's default also has 1.0 and 1.1 (no 1.3)
    server {{
        listen 127.0.0.1:{port}{tls};
        root {site.root};
        location = /hello {{ default_type text/plain; return 200 "Hello World!"; }}
    }}
}}
""")
    argv = ["/usr/sbin/nginx", "-p", str(logs), "-c", str(conf), "-e", f"{logs}/error.log"]
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    return spawn(argv, logs / "stdout.log", logs, port, env)


def start_granian(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    argv = [str(VENV_BIN / "granian"), "--interface", "wsgi", "--workers", str(workers),
            "--host", "127.0.0.1", "--port", str(port), "--working-dir", str(site.apps),
            "--log-level", "warning", "--no-ws", f"{work.app}:app"]
    if work.tls:
        # granian's minimum is TLS 1.3 by default; wrk negotiates 1.3 with every server.
        argv[-1:-1] = ["--ssl-certificate", str(site.cert), "--ssl-keyfile", str(site.key)]
    return spawn(argv, logs / "stdout.log", site.apps, port)


def start_gunicorn(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    argv = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--chdir", str(site.apps), "--log-level",
            "warning", f"{work.app}:app"]
    return spawn(argv, logs / "stdout.log", site.apps, port)


def start_uwsgi(site: Site, work: Workload, workers: int, logs: Path) -> Running:
    port = free_port()
    # --http-socket: uWSGI's own HTTP parser in each worker, no router process in front.
    argv = [str(VENV_BIN / "uwsgi"), "--master", "--processes", str(workers),
            "--http-socket", f"127.0.0.1:{port}", "--chdir", str(site.apps),
            "--module", f"{work.app}:app", "--need-app", "--die-on-term",
            "--disable-logging", "--listen", "1024"]
    return spawn(argv, logs / "stdout.log", site.apps, port)


STARTERS: dict[str, Callable[[Site, Workload, int, Path], Running]] = {
    "prefork-modpy": start_modpy, "apache": start_apache, "nginx": start_nginx,
    "granian": start_granian, "gunicorn": start_gunicorn, "uwsgi": start_uwsgi,
}


def unavailable(server: str) -> str:
    """Why a server cannot run here ("" when it can)."""
    if server == "apache":
        ok, reason = bench.apache_available()
        return "" if ok else reason
    if server == "nginx":
        return "" if Path("/usr/sbin/nginx").exists() else "nginx not installed (setup.sh)"
    binary = VENV_BIN / ("prefork-modpy" if server == "prefork-modpy" else server)
    if not binary.exists():
        missing = BENCH / ".venv-bench" / "MISSING"
        why = missing.read_text().strip() if missing.exists() else "run bench/setup.sh"
        return f"{binary} missing ({why})"
    return ""


# -- memory ------------------------------------------------------------------------------


def smaps_kib(pid: int) -> dict[str, int]:
    """Rss and Pss of one process in KiB (/proc/PID/smaps_rollup)."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key] = int(rest.split()[0])
    return values


def group_memory(pgid: int) -> dict[int, dict[str, int]]:
    memory = {}
    for pid in process_group_members(pgid):
        try:
            memory[pid] = smaps_kib(pid)
        except OSError:
            continue  # exited between the listing and the read
    return memory


def group_rss_kib(pgid: int) -> int:
    return sum(m.get("Rss", 0) for m in group_memory(pgid).values())


# -- one measurement ---------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    workers: int
    connections: int
    duration: int
    warmup: int
    timeout: int
    rounds: int
    workloads: tuple[str, ...]
    servers: tuple[str, ...]
    many: int
    quiet_wait: int
    results: Path
    publish: bool = False


@dataclass
class Measured(Result):
    rss_kib: int = 0
    workload: str = ""
    tls: str = ""  # https workloads: protocol, suite, resumed reconnections (tls_session)


def client_context(site: Site) -> ssl.SSLContext:
    """Verifies the chain to the run's CA; the URL's host is 127.0.0.1, not the
    certificate's name."""
    context = ssl.create_default_context(cafile=str(site.ca))
    context.check_hostname = False
    return context


RESUME_PROBES = 20


@dataclass(frozen=True)
class TlsVisit:
    version: str
    cipher: str
    reused: bool
    session: Optional[ssl.SSLSession]


def tls_get(context: ssl.SSLContext, port: int, path: str,
            session: Optional[ssl.SSLSession]) -> TlsVisit:
    """One GET on a new TLS connection (offering `session` for resumption), read to the end
    so that a TLS 1.3 ticket sent after the handshake has arrived."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(raw, session=session) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        while conn.recv(65536):
            pass
        cipher = conn.cipher()
        return TlsVisit(conn.version() or "?", cipher[0] if cipher else "?",
                        bool(conn.session_reused), conn.session)


def tls_session(site: Site, port: int, path: str) -> str:
    """The protocol and suite a default client negotiates (wrk's OpenSSL picks the same:
    the highest version both speak), and how many of RESUME_PROBES reconnections resumed
    the previous session. wrk offers its last session on every reconnection, so
    `https-close` measures resumed handshakes where the server resumes them (across
    processes only with shared ticket keys or a shared cache) and full ones elsewhere."""
    context = client_context(site)  # a session resumes only through its own context
    visit = tls_get(context, port, path, None)
    first, resumed = visit, 0
    for _ in range(RESUME_PROBES):
        visit = tls_get(context, port, path, visit.session)
        resumed += visit.reused
    return f"{first.version} {first.cipher}, {resumed}/{RESUME_PROBES} reconnections resumed"


def check_answer(url: str, work: Workload, site: Optional[Site] = None) -> None:
    """The server must give the workload's answer before it is measured."""
    context = client_context(site) if site is not None and work.tls else None
    data, headers = None, {}
    if work.script == "post.lua":
        data, headers = b"x" * 102400, {"Content-Type": "application/octet-stream"}
    elif work.script == "form.lua":
        boundary = "----benchboundary7MA4YWxkTrZu0gW"
        data = ("\r\n".join([f"--{boundary}", 'Content-Disposition: form-data; name="name"',
                             "", "bench", f"--{boundary}",
                             'Content-Disposition: form-data; name="upload"; '
                             'filename="data.bin"', "Content-Type: application/octet-stream",
                             "", "y" * 102400, f"--{boundary}--", ""])).encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=20, context=context) as response:
        body = response.read()
    if response.status != 200 or work.expect not in body:
        raise RuntimeError(f"{url}: unexpected answer {response.status} {body[:120]!r}")
    if work.name == "static-64k" and len(body) != STATIC_SIZE:
        raise RuntimeError(f"{url}: {len(body)} bytes, not {STATIC_SIZE}")


def wrk_argv(url: str, work: Workload, opts: Options, duration: int) -> list[str]:
    argv = ["wrk", "-t1", f"-c{opts.connections}", f"-d{duration}s",
            f"--timeout={opts.timeout}s", "--latency"]
    if work.close:
        argv += ["-H", "Connection: close"]
    if work.script:
        argv += ["-s", str(APPS / work.script)]
    return [*argv, url]


def run_wrk(argv: list[str], duration: int, timeout: int) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          timeout=duration + timeout + 30)
    return done.stdout + done.stderr


def measure(site: Site, work: Workload, server: str, opts: Options, round_no: int) -> Measured:
    result = Measured(server, work.name, opts.workers, workload=work.name)
    tag = f"{work.name}-{server}-{round_no}"
    logs = site.logs(tag)
    running: Optional[Running] = None
    try:
        result.busy_before = bench.wait_until_quiet(max_wait=opts.quiet_wait)
        running = STARTERS[server](site, work, opts.workers, logs)
        url = work.url(server, running.port)
        check_answer(url, work, site)
        if work.tls:
            result.tls = tls_session(site, running.port, work.path(server))
        session = f"# TLS: {result.tls}\n" if result.tls else ""
        if opts.warmup:
            run_wrk(wrk_argv(url, work, opts, opts.warmup), opts.warmup, opts.timeout)
        argv = wrk_argv(url, work, opts, opts.duration)
        output = run_wrk(argv, opts.duration, opts.timeout)
        result.rss_kib = group_rss_kib(running.pgid)
        (opts.results / f"{tag}.txt").write_text(
            f"# {' '.join(argv)}\n{session}# CPU busy before: {result.busy_before:.0%}\n"
            f"{output}")
        parse_wrk(output, result)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, AssertionError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if running is not None:
            running.stop()
        keep = opts.results / "logs" / tag
        shutil.copytree(logs, keep, dirs_exist_ok=True)
    return result


def median_of(runs: list[Measured]) -> Measured:
    """The round with the median req/s (the lower of the middle pair), with the median p50,
    p99 and RSS of the good rounds, every round's req/s and the errors of all of them."""
    ok = sorted((r for r in runs if not r.error), key=lambda r: r.rps)
    chosen = ok[(len(ok) - 1) // 2] if ok else runs[-1]
    merged = Measured(**{**chosen.__dict__, "runs": [r.rps for r in runs]})
    merged.non_2xx = sum(r.non_2xx for r in runs)
    merged.socket_errors = {k: sum(r.socket_errors.get(k, 0) for r in runs)
                            for k in ("connect", "read", "write", "timeout")}
    merged.error = "; ".join(r.error for r in runs if r.error)
    merged.busy_before = max(r.busy_before for r in runs)
    if ok:
        merged.p99_ms = statistics.median(r.p99_ms for r in ok)
        merged.p50_ms = statistics.median(r.p50_ms for r in ok)
        merged.rss_kib = int(statistics.median(r.rss_kib for r in ok))
    return merged


# -- the 10,000-connection and idle-memory phases ----------------------------------------


@dataclass
class ManyResult:
    server: str
    wanted: int
    opened: int = 0
    answered: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_before_kib: int = 0
    rss_idle_kib: int = 0
    open_seconds: float = 0.0
    error: str = ""
    probe: Result = field(default_factory=lambda: Result("", "", 0))

    @property
    def per_conn_bytes(self) -> float:
        if not self.opened or not self.rss_idle_kib:
            return 0.0
        return (self.rss_idle_kib - self.rss_before_kib) * 1024 / self.opened


def many_connections(site: Site, server: str, opts: Options) -> ManyResult:
    # The hello workload, with a keep-alive timeout longer than the phase on every server.
    work = dataclasses.replace(BY_NAME["hello-keepalive"], name="many")
    result = ManyResult(server, opts.many)
    logs = site.logs(f"many-{server}")
    running: Optional[Running] = None
    try:
        manyconn.raise_nofile()  # the server inherits the raised limit
        running = STARTERS[server](site, work, opts.workers, logs)
        check_answer(f"http://127.0.0.1:{running.port}{work.path(server)}", work)
        time.sleep(1)
        result.rss_before_kib = group_rss_kib(running.pgid)
        pgid = running.pgid

        port = running.port

        def sample() -> None:
            # With every connection idle: the memory, then wrk -c<C> beside them.
            result.rss_idle_kib = group_rss_kib(pgid)
            url = f"http://127.0.0.1:{port}{work.path(server)}"
            output = run_wrk(wrk_argv(url, work, opts, opts.duration), opts.duration,
                             opts.timeout)
            (opts.results / f"many-{server}-wrk.txt").write_text(output)
            result.probe.server = server  # ran (a 0 req/s run is a result too)
            parse_wrk(output, result.probe)

        held = manyconn.hold(running.port, work.path(server), opts.many, rounds=2,
                             timeout=10, on_idle=sample)
        result.opened, result.answered = held.opened, held.answered
        result.errors, result.open_seconds = held.errors, held.open_seconds
        result.p50_ms, result.p99_ms = held.percentile(0.5), held.percentile(0.99)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if running is not None:
            running.stop()
        shutil.copytree(logs, opts.results / "logs" / f"many-{server}", dirs_exist_ok=True)
    return result


@dataclass
class IdleMemory:
    server: str
    master: dict[str, int] = field(default_factory=dict)
    workers: list[dict[str, int]] = field(default_factory=list)
    error: str = ""


def idle_memory(site: Site, server: str, opts: Options) -> IdleMemory:
    """RSS and PSS of the parent and each child after 200 requests on new connections
    (every child has served), with the server idle."""
    work = BY_NAME["hello-close"]
    result = IdleMemory(server)
    logs = site.logs(f"idle-{server}")
    running: Optional[Running] = None
    try:
        running = STARTERS[server](site, work, opts.workers, logs)
        url = f"http://127.0.0.1:{running.port}{work.path(server)}"
        for _ in range(200):
            check_answer(url, work)
        time.sleep(2)
        for pid, memory in sorted(group_memory(running.pgid).items()):
            if pid == running.pgid:
                result.master = memory
            else:
                result.workers.append(memory)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if running is not None:
            running.stop()
    return result


# -- report ------------------------------------------------------------------------------


def ratio(ours: Optional[Measured], peer: Measured) -> Optional[float]:
    if ours is None or ours.error or peer.error or not ours.rps or not peer.rps:
        return None
    return ours.rps / peer.rps


def verdict(value: Optional[float], target: Optional[float], peer: str) -> str:
    if value is None or target is None:
        return ""
    strict = target == 1.0 and peer in ("apache", "uwsgi")  # "ahead of"
    met = value > target if strict else value >= target
    sign = ">" if strict else ">="
    return f"{sign} {target:g}x: {'met' if met else 'NOT met'}"


def workload_table(results: dict[str, list[Measured]]) -> tuple[str, list[tuple]]:
    lines = ["| workload | server | req/s | p50 ms | p99 ms | RSS MiB (all processes) "
             "| errors | prefork-modpy / server | target | req/s of each round "
             "| CPU busy before (max) |",
             "|---|---|---:|---:|---:|---:|---|---:|---|---|---:|"]
    chart = []
    for work in WORKLOADS:
        rows = results.get(work.name)
        if not rows:
            continue
        ours = next((r for r in rows if r.server == "prefork-modpy"), None)
        for r in rows:
            value = ratio(ours, r) if r.server != "prefork-modpy" else None
            cell = f"{value:.2f}x" if value is not None else "-"
            target = work.targets.get(r.server)
            if value is not None:
                chart.append((work.name, r.server, value, target))
            rounds = " / ".join(f"{x:,.0f}" for x in r.runs)
            lines.append(
                f"| {work.name} | {r.server} | {r.rps:,.0f} | {r.p50_ms:.2f} | "
                f"{r.p99_ms:.2f} | {r.rss_kib / 1024:.1f} | {bench.errors_cell(r)}"
                f"{f', non-2xx {r.non_2xx}' if r.non_2xx else ''} | {cell} | "
                f"{verdict(value, target, r.server)} | {rounds} | {r.busy_before:.0%} |")
    return "\n".join(lines), chart


def tls_table(results: dict[str, list[Measured]]) -> str:
    rows = [f"| {name} | {r.server} | {r.tls} |" for name, measured in results.items()
            for r in measured if r.tls]
    if not rows:
        return ""
    return "\n".join(["| workload | server | negotiated, resumed |", "|---|---|---|", *rows])


def many_table(rows: list[ManyResult]) -> str:
    lines = ["| server | connections wanted / opened | time to open | RSS before / with all "
             "idle (MiB) | growth per idle connection | wrk -c50 beside them: req/s, p99 ms, "
             "errors | burst on every connection: answered 200, p50 / p99 ms | errors |",
             "|---|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        errors = r.error or ", ".join(f"{k} {v}" for k, v in r.errors.items()) or "0"
        probe = r.probe
        probe_cell = "not run" if not probe.server else (
            f"{probe.rps:,.0f}, {probe.p99_ms:.2f}, {bench.errors_cell(probe)}")
        lines.append(f"| {r.server} | {r.wanted:,} / {r.opened:,} | {r.open_seconds:.1f} s | "
                     f"{r.rss_before_kib / 1024:.1f} / {r.rss_idle_kib / 1024:.1f} | "
                     f"{r.per_conn_bytes / 1024:.2f} KiB | {probe_cell} | "
                     f"{r.answered:,}, {r.p50_ms:.0f} / {r.p99_ms:.0f} | {errors} |")
    return "\n".join(lines)


def idle_table(rows: list[IdleMemory]) -> str:
    lines = ["| server | parent RSS / PSS MiB | each child RSS / PSS MiB | all RSS / PSS MiB |",
             "|---|---|---|---|"]
    for r in rows:
        if r.error:
            lines.append(f"| {r.server} | FAILED: {r.error} | | |")
            continue
        kids = ", ".join(f"{w['Rss'] / 1024:.1f} / {w['Pss'] / 1024:.1f}" for w in r.workers)
        every = [r.master, *r.workers]
        lines.append(f"| {r.server} | {r.master.get('Rss', 0) / 1024:.1f} / "
                     f"{r.master.get('Pss', 0) / 1024:.1f} | {kids} | "
                     f"{sum(m.get('Rss', 0) for m in every) / 1024:.1f} / "
                     f"{sum(m.get('Pss', 0) for m in every) / 1024:.1f} |")
    return "\n".join(lines)


def chart_png(chart: list[tuple], path: Path, title: str) -> str:
    """A horizontal bar per (workload, peer): prefork-modpy's req/s over the peer's, with
    issue 16's target as a tick. Returns "" or why no chart was drawn."""
    if not chart:
        return "no ratios to draw"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (bench/setup.sh installs it)"
    labels = [f"{w} vs {s}" for w, s, _, _ in chart]
    values = [v for _, _, v, _ in chart]
    fig, axis = plt.subplots(figsize=(9, 0.34 * len(chart) + 1.5))
    colours = ["#2b7bba" if t is None or v >= t else "#d9822b" for _, _, v, t in chart]
    axis.barh(range(len(chart)), values, color=colours)
    for index, (_, _, value, target) in enumerate(chart):
        axis.text(value, index, f" {value:.2f}x", va="center", fontsize=8)
        if target is not None:
            axis.plot([target, target], [index - 0.4, index + 0.4], color="black", lw=1.5)
    axis.axvline(1.0, color="grey", lw=0.8, ls="--")
    # Ratios from 0.1x to 5x and more: a log scale shows 0.5x and 2x at the same distance.
    axis.set_xscale("log")
    axis.set_xlim(min(0.5, min(values) / 1.3), max(2.0, max(values) * 1.6))
    axis.set_yticks(range(len(chart)), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("prefork-modpy req/s / peer req/s (black tick: issue 16 target; "
                    "orange: below it)")
    axis.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return ""


def interpreter_report() -> str:
    code = ("import sys, sysconfig; print(sys.version.replace(chr(10), ' '), '|', "
            "sys.executable, '| base', sys._base_executable, '|', "
            "sysconfig.get_config_var('LDLIBRARY'))")
    python = bench.command_version([str(VENV_BIN / "python"), "-I", "-c", code])
    system = bench.command_version(["/usr/bin/python3", "-I", "-c", code])
    linked = "?"
    try:
        ldd = subprocess.run(["ldd", str(bench.MOD_PYTHON)], capture_output=True, text=True,
                             timeout=20, check=False).stdout
        linked = next((line.strip() for line in ldd.splitlines() if "libpython" in line), "?")
    except OSError:
        pass
    return (f"- Python of every Python server (bench/.venv-bench): {python}\n"
            f"- /usr/bin/python3: {system}\n"
            f"- Apache's mod_python links: {linked}")


def environment(opts: Options) -> str:
    versions = {
        # -I: the installed package, not the checkout in the current directory.
        "prefork-modpy": bench.command_version([str(VENV_BIN / "python"), "-I", "-c",
                                                "import prefork_modpy as p; "
                                                "print(p.__version__, p.__file__)"])
        + " (checkout " + bench.command_version(["git", "-C", str(REPO), "describe",
                                                 "--always", "--dirty"]) + ")",
        "granian": bench.command_version([str(VENV_BIN / "granian"), "--version"]),
        "gunicorn": bench.command_version([str(VENV_BIN / "gunicorn"), "--version"]),
        "uwsgi": bench.command_version([str(VENV_BIN / "uwsgi"), "--version"]),
        "apache2": bench.command_version(["/usr/sbin/apache2", "-v"]),
        "mod_python": bench.command_version(["dpkg-query", "-W", "-f=${Version}",
                                             "libapache2-mod-python"]),
        "nginx": bench.command_version(["/usr/sbin/nginx", "-v"]),
        "wrk": bench.command_version(["wrk", "--version"]),
    }
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux "
             f"{platform.release()}; client and servers share the CPUs; load average at the "
             f"end {' '.join(load)}",
             f"- wrk -t1 -c{opts.connections} -d{opts.duration}s --timeout {opts.timeout}s "
             f"--latency after a {opts.warmup}s warm-up; {opts.rounds} round(s), servers in "
             f"a rotated order each round, medians shown; {opts.workers} workers each",
             interpreter_report()]
    lines += [f"- {name}: {version}" for name, version in versions.items()]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="bench.py --suite issue16",
                                     description="issue 16's workloads against every peer")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-c", "--connections", type=int, default=50)
    parser.add_argument("-d", "--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workloads", default=",".join(BY_NAME) + ",many,idle",
                        help="comma-separated subset of "
                             + ",".join(BY_NAME) + ",many,idle")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--many", type=int, default=10000,
                        help="connections held open in the 'many' phase")
    parser.add_argument("--publish", action="store_true",
                        help="also write bench/issue16-results.md and bench/issue16-ratios.png "
                             "(next to README.md; commit them only from a quiet machine)")
    parser.add_argument("--quiet-wait", type=int, default=30,
                        help="seconds to wait, at most, for idle CPUs before each run")
    args = parser.parse_args(argv)
    workloads = tuple(w for w in args.workloads.split(",") if w)
    servers = tuple(s for s in args.servers.split(",") if s)
    unknown = (set(workloads) - set(BY_NAME) - {"many", "idle"}) | (set(servers) - set(SERVERS))
    if unknown:
        parser.error(f"unknown workload/server: {', '.join(sorted(unknown))}")
    if not (1 <= args.duration <= 600 and 1 <= args.rounds <= 10
            and 1 <= args.connections <= 10000 and 1 <= args.many <= 15000):
        parser.error("duration 1..600 s, rounds 1..10, connections 1..10000, many 1..15000")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Options(args.workers, args.connections, args.duration, args.warmup, args.timeout,
                   args.rounds, workloads, servers, args.many, args.quiet_wait,
                   BENCH / "results" / f"issue16-{stamp}", args.publish)


def publish(results: Path) -> None:
    """The table and the chart next to bench/README.md, to be committed from a quiet run."""
    load = float(Path("/proc/loadavg").read_text().split()[1])
    if load > 0.5:
        print(f"note: 5-minute load average {load:.2f}: not a quiet machine; these figures "
              "are not the ones to commit", flush=True)
    shutil.copy(results / "results.md", BENCH / "issue16-results.md")
    if (results / "ratios.png").exists():
        shutil.copy(results / "ratios.png", BENCH / "issue16-ratios.png")
    print(f"published: {BENCH / 'issue16-results.md'}, {BENCH / 'issue16-ratios.png'}")


def runnable(opts: Options) -> tuple[list[str], list[str]]:
    """(servers that can run, notes on those that cannot)."""
    ok, notes = [], []
    for server in opts.servers:
        why = unavailable(server)
        if why:
            notes.append(f"- {server}: not run: {why}")
        else:
            ok.append(server)
    return ok, notes


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    opts.results.mkdir(parents=True)
    servers, notes = runnable(opts)
    print(interpreter_report(), flush=True)
    for note in notes:
        print(note, flush=True)
    site = make_site()
    results: dict[str, list[Measured]] = {}
    many: list[ManyResult] = []
    idle: list[IdleMemory] = []
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        runs: dict[tuple[str, str], list[Measured]] = {}
        for round_no in range(1, opts.rounds + 1):
            for work in WORKLOADS:
                if work.name not in opts.workloads:
                    continue
                order = [s for s in work.servers if s in servers]
                shift = (round_no - 1) % max(1, len(order))
                for server in order[shift:] + order[:shift]:
                    print(f"-- round {round_no}/{opts.rounds}: {work.name} on {server}",
                          flush=True)
                    measured = measure(site, work, server, opts, round_no)
                    print(f"   {measured.rps:,.0f} req/s, p99 {measured.p99_ms:.2f} ms"
                          f"{' ' + measured.error if measured.error else ''}"
                          f"{'; ' + measured.tls if measured.tls else ''}", flush=True)
                    runs.setdefault((work.name, server), []).append(measured)
        for (name, _), measured_runs in runs.items():
            results.setdefault(name, []).append(median_of(measured_runs))
        if "many" in opts.workloads:
            for server in ("prefork-modpy", "granian", "nginx"):
                if server in servers:
                    print(f"-- {opts.many:,} connections on {server}", flush=True)
                    many.append(many_connections(site, server, opts))
        if "idle" in opts.workloads:
            for server in ("prefork-modpy", "apache"):
                if server in servers:
                    print(f"-- idle memory of {server}", flush=True)
                    idle.append(idle_memory(site, server, opts))
    finally:
        shutil.rmtree(site.base, ignore_errors=True)
    text, chart = workload_table(results)
    why_no_chart = chart_png(chart, opts.results / "ratios.png",
                             f"prefork-modpy vs peers, {started}, {opts.rounds} round(s), "
                             f"-d{opts.duration}s")
    report = [f"# Issue 16 suite, {started}", "", text, ""]
    sessions = tls_table(results)
    if sessions:
        report += ["## HTTPS: what a default client negotiates", "",
                   f"Protocol and suite, and how many of {RESUME_PROBES} reconnections "
                   "resumed the previous session: wrk offers it on every new connection, so "
                   "`https-close` measures resumed handshakes where the server resumes them "
                   "and full ones elsewhere.", "", sessions, ""]
    if many:
        report += [f"## {opts.many:,} concurrent keep-alive connections",
                   "", "bench/manyconn.py opens them all (one GET each, KeepAliveTimeout 300 "
                   "on every server), samples the RSS with all idle, runs wrk -t1 -c50 "
                   "beside them (the p99 to read), then 2 bursts of one GET on every "
                   "connection at once (that latency includes the one-thread asyncio "
                   "client's own queueing).", "", many_table(many), ""]
    if idle:
        report += ["## Idle memory after 200 requests (smaps_rollup)", "", idle_table(idle),
                   ""]
    report += ["## Environment", "", environment(opts), *notes, ""]
    if why_no_chart:
        report.append(f"No chart: {why_no_chart}.")
    (opts.results / "results.md").write_text("\n".join(report))
    shutil.copy(opts.results / "results.md", opts.results.parent / "issue16-latest.md")
    print("\n".join(report))
    print(f"\nresults, chart, raw wrk output and logs: {opts.results}")
    if opts.publish:
        publish(opts.results)
    failed = any(r.error or r.non_2xx or r.errors_total for rows in results.values()
                 for r in rows) or any(m.error or m.errors or m.probe.errors_total
                                       for m in many)
    return 1 if failed else 0
