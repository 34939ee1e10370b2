""".htaccess files on the real server: re-read when they change, refused with httpd's 500
and log line when they hold what their override class does not allow, and mod_rewrite in
them next to mod_python's directives."""

from __future__ import annotations

import http.client
import os

from tests.support.site import wait_until

HANDLER = """from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("level=%s uri=%s" % (req.get_options().get("level"), req.uri))
    return apache.OK
"""

CONFIG = """<Directory {root}/app>
    AllowOverride FileInfo
</Directory>
"""


def get(server, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def rewrite_htaccess(path, text: str) -> None:
    """Write the file and move its mtime on, so a change within one second is seen."""
    before = os.stat(path).st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_changed_htaccess_is_read_again(site):
    server = site(CONFIG, {"app/h.py": HANDLER, "app/x.py": "",
                           "app/.htaccess": "AddHandler mod_python .py\nPythonHandler h\n"
                                            "PythonOption level one\n"})
    htaccess = server.root / "app" / ".htaccess"
    assert get(server, "/app/x.py") == (200, "level=one uri=/app/x.py")
    rewrite_htaccess(htaccess, "AddHandler mod_python .py\nPythonHandler h\n"
                               "PythonOption level two\nRewriteEngine On\n"
                               "RewriteRule ^alias$ x.py [L]\n")
    # every worker notices the change (stat per request), whichever answers
    for _ in range(4):
        assert get(server, "/app/x.py") == (200, "level=two uri=/app/x.py")
    assert get(server, "/app/alias") == (200, "level=two uri=/app/x.py")
    htaccess.unlink()
    # no handler any more: x.py is a plain file again, served as httpd would (issue 13
    # point 7: only what a configured Python handler would load is refused)
    assert get(server, "/app/x.py") == (200, "")


def test_directive_not_allowed_is_500_and_logged(site):
    server = site(CONFIG, {"app/page.txt": "page\n",
                           "app/.htaccess": "Options +Indexes\n"})
    assert get(server, "/app/page.txt")[0] == 500
    wait_until(lambda: "app/.htaccess: Options not allowed here" in server.errors())
    rewrite_htaccess(server.root / "app" / ".htaccess", "NoSuchDirective here\n")
    assert get(server, "/app/page.txt")[0] == 500
    wait_until(lambda: "Invalid command 'NoSuchDirective'" in server.errors())
    rewrite_htaccess(server.root / "app" / ".htaccess", "AddType text/x-page .txt\n")
    assert get(server, "/app/page.txt") == (200, "page\n")


def test_no_override_reads_nothing(site):
    server = site("", {"app/page.txt": "page\n", "app/.htaccess": "garbage line\n"})
    assert get(server, "/app/page.txt") == (200, "page\n")


def test_include_in_htaccess_is_refused(site):
    server = site(CONFIG, {"app/page.txt": "page\n", "app/other.conf": "AddType a/b .txt\n",
                           "app/.htaccess": "Include other.conf\n"})
    assert get(server, "/app/page.txt")[0] == 500
    wait_until(lambda: "app/.htaccess: Include not allowed here" in server.errors())
