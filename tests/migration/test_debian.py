"""Debian's stock /etc/apache2 (from the apache2 package, built at test time) with one
mod_python site enabled, read by prefork-modpy unchanged (see README.md)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from prefork_modpy.config import catalog
from prefork_modpy.config.server import load_config

# What the package's postinst enables on a fresh install (enable_default_mpm & co.).
DEFAULT_MODULES = ("mpm_event", "authz_host", "auth_basic", "access_compat", "authn_file",
                   "authz_user", "alias", "dir", "autoindex", "env", "mime", "negotiation",
                   "setenvif", "filter", "deflate", "status", "reqtimeout")
DEFAULT_CONFS = ("charset", "localized-error-pages", "other-vhosts-access-log", "security",
                 "serve-cgi-bin")
SITE = """<VirtualHost *:80>
    ServerName modpy.test
    DocumentRoot {root}
    ErrorLog ${{APACHE_LOG_DIR}}/error.log
    CustomLog ${{APACHE_LOG_DIR}}/access.log combined
    <Directory {root}>
        AddHandler mod_python .py
        PythonHandler hello
        Require all granted
    </Directory>
</VirtualHost>
"""
HANDLER = """from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("hello from the Debian layout")
    return apache.OK
"""


def _download(package: str, into: Path) -> Path:
    result = subprocess.run(["apt-get", "download", package], cwd=into, capture_output=True,
                            text=True, timeout=180, check=False)
    debs = sorted(into.glob(f"{package}_*.deb"))
    if result.returncode != 0 or not debs:
        pytest.skip(f"apt-get download {package} failed: {result.stderr.strip()[-200:]}")
    return debs[-1]


def _enable(etc: Path, kind: str, name: str, suffixes: tuple[str, ...]) -> None:
    """What a2enmod/a2enconf/a2ensite do: a relative symlink in X-enabled."""
    for suffix in suffixes:
        target = etc / f"{kind}-available" / f"{name}{suffix}"
        if target.exists():
            link = etc / f"{kind}-enabled" / f"{name}{suffix}"
            link.parent.mkdir(exist_ok=True)
            link.symlink_to(f"../{kind}-available/{name}{suffix}")


@pytest.fixture(scope="module")
def debian_tree(tmp_path_factory):
    """(the apache2.conf path, the site's document root, the environment for ${VAR})."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("needs apt-get and dpkg")
    work = tmp_path_factory.mktemp("debian")
    root = work / "root"
    for package in ("apache2", "libapache2-mod-python"):
        deb = _download(package, work)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, timeout=60)
    etc = root / "etc" / "apache2"
    for module in (*DEFAULT_MODULES, "python"):
        _enable(etc, "mods", module, (".load", ".conf"))
    for conf in DEFAULT_CONFS:
        _enable(etc, "conf", conf, (".conf",))
    _enable(etc, "sites", "000-default", (".conf",))
    site_root = work / "site"
    site_root.mkdir()
    (site_root / "hello.py").write_text(HANDLER)
    (etc / "sites-available" / "modpy-site.conf").write_text(SITE.format(root=site_root))
    _enable(etc, "sites", "modpy-site", (".conf",))
    logs = work / "log"
    logs.mkdir()
    user = pwd.getpwuid(os.getuid())
    env = {"APACHE_RUN_USER": user.pw_name, "APACHE_RUN_GROUP": _group_name(user.pw_gid),
           "APACHE_PID_FILE": str(work / "apache2.pid"), "APACHE_RUN_DIR": str(work),
           "APACHE_LOCK_DIR": str(work), "APACHE_LOG_DIR": str(logs)}
    return etc / "apache2.conf", site_root, env


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prefork_modpy", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env={**os.environ, **env})


def test_envvars_file_gives_debian_values(debian_tree, tmp_path):
    conf, _, _ = debian_tree
    result = _run(["--config", str(conf), "--envvars", str(conf.parent / "envvars"),
                   "--print-config"], {}, tmp_path)
    # Debian's envvars names /var/log/apache2: the ${APACHE_LOG_DIR} of ErrorLog is expanded
    # from it (the load may stop at a directive not wired yet; the expansion came first).
    text = result.stdout + result.stderr
    assert "${APACHE_LOG_DIR}" not in text
    assert "is not defined" not in text


def test_debian_tree_checks_ok_unchanged(debian_tree, tmp_path):
    """`-t` on the package's own apache2.conf with one mod_python site: Syntax OK, and
    what prefork-modpy does not apply is said in warning lines, never dropped silently."""
    conf, _, env = debian_tree
    result = _run(["--config", str(conf), "-t"], env, tmp_path)
    errors = [line for line in result.stderr.splitlines() if "warning:" not in line]
    assert result.returncode == 0, result.stderr
    assert "Syntax OK" in result.stdout + result.stderr
    assert not errors or errors == ["Syntax OK"], result.stderr


def test_debian_tree_loads_once_the_request_side_is_wired(debian_tree, monkeypatch):
    """With every catalog.PENDING_FIELDS name wired, the unchanged tree loads: nothing else
    (syntax, modules, includes, ${VAR}) stands in the way."""
    conf, site_root, env = debian_tree
    monkeypatch.setattr(catalog, "WIRED", frozenset(catalog.PENDING_FIELDS))
    config = load_config(str(conf), environ={**os.environ, **env})
    names = [vhost.server_name for vhost in config.vhosts]
    assert "modpy.test" in names
    site = config.vhosts[names.index("modpy.test")]
    assert site.document_root == str(site_root)
    assert "python" in config.loaded_modules and "mpm_event" in config.loaded_modules
    assert config.error_log == os.path.join(env["APACHE_LOG_DIR"], "error.log")
    # The stock <FilesMatch "^\.ht"> is a PCRE section that denies .htaccess and .htpasswd.
    denied = site.effective_settings(str(site_root / ".htpasswd"), "/.htpasswd")
    assert denied.requires == ("all denied",)
    # Debian's autoindex.conf is applied (mod_autoindex is implemented), not warned about.
    listing = site.effective_settings(str(site_root) + "/", "/").autoindex
    assert listing is not None
    assert {"fancyindexing", "htmltable", "versionsort"} <= listing.effective_options
    assert not any("mod_autoindex" in warning for warning in config.warnings)


def test_debian_tree_serves_the_mod_python_site(debian_tree, tmp_path):
    conf, _, env = debian_tree
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "prefork_modpy", "--config", str(conf),
                             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                            cwd=tmp_path, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = _get(port, "/hello.py", "modpy.test", proc)
        assert body == b"hello from the Debian layout"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, host: str, proc: subprocess.Popen) -> bytes:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read()[-800:]!r}")
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("no answer within 15 s")


@pytest.fixture(scope="module")
def debian_ssl_tree(debian_tree, tmp_path_factory):
    """A copy of the tree with what `a2enmod ssl` and `a2ensite default-ssl` enable; the
    snakeoil pair of ssl-cert is used where installed, else one made now takes its place
    (the copied default-ssl.conf then names it)."""
    conf, _, env = debian_tree
    work = tmp_path_factory.mktemp("debian-ssl")
    etc = work / "apache2"
    shutil.copytree(conf.parent, etc, symlinks=True)
    for module in ("ssl", "socache_shmcb"):
        _enable(etc, "mods", module, (".load", ".conf"))
    _enable(etc, "sites", "default-ssl", (".conf",))
    cert, key = Path("/etc/ssl/certs/ssl-cert-snakeoil.pem"), \
        Path("/etc/ssl/private/ssl-cert-snakeoil.key")
    if not (os.access(cert, os.R_OK) and os.access(key, os.R_OK)):
        from tests.support.certs import make_ca, make_server

        pair = make_server(work, make_ca(work / "ca"), "snakeoil.test")
        site = etc / "sites-available" / "default-ssl.conf"
        site.write_text(site.read_text().replace(str(cert), str(pair.cert))
                        .replace(str(key), str(pair.key)))
    return etc / "apache2.conf", env


def test_debian_default_ssl_site_checks_ok(debian_ssl_tree, tmp_path):
    """Debian's ssl.conf (SSLPassPhraseDialog exec:, shmcb session cache, SSLCipherSuite
    HIGH:!aNULL, SSLProtocol all -SSLv3, SSLSessionTickets off) and default-ssl.conf
    (SSLOptions +StdEnvVars in <FilesMatch> and <Directory>) load unchanged."""
    conf, env = debian_ssl_tree
    result = _run(["--config", str(conf), "-t"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Syntax OK" in result.stdout + result.stderr


def test_debian_default_ssl_site_settings(debian_ssl_tree, monkeypatch):
    conf, env = debian_ssl_tree
    monkeypatch.setattr(catalog, "WIRED", frozenset(catalog.PENDING_FIELDS))
    config = load_config(str(conf), environ={**os.environ, **env})
    tls = [address for address in config.tls_listen if address.address[1] == 443]
    assert tls and tls[0].protocols == ("TLSv1.2", "TLSv1.3") and not tls[0].tickets
    ssl_host = next(v for v in config.vhosts if v.ssl is not None and v.ssl.engine)
    cgi = ssl_host.effective_settings("/usr/lib/cgi-bin/x", "/cgi-bin/x")
    assert cgi.ssl_options == frozenset({"stdenvvars"})
    php = ssl_host.effective_settings("/var/www/html/index.php", "/index.php")
    assert php.ssl_options == frozenset({"stdenvvars"})
    html = ssl_host.effective_settings("/var/www/html/index.html", "/index.html")
    assert html.ssl_options == frozenset()
