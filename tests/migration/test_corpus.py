"""Public mod_python site configs through `prefork-modpy -t` (see README.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CORPUS = os.path.join(os.path.dirname(__file__), "corpus")

# file -> None (loads) or (directive, words of the reason) of the first refusal.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "modpython-publisher.conf": None,
    "modpython-auth.conf": None,
    "moin-modpy.conf": None,
    "cobbler.conf": ("ProxyRequests", "prefork-modpy is not a proxy"),
    # Fedora's ServerRoot /etc/httpd has logs/ -> /var/log/httpd; -t checks start-up's files
    "cobbler_web.conf": ("CustomLog", "logs does not exist"),
    "django-basic.conf": None,
    "django-media.conf": None,
    "django-vhosts.conf": None,
    "django-eggs.conf": ("PythonImport", "file /path/to/my/project/file.py does not exist"),
    "ivle-apache.conf": None,
    "ivle-setup.conf": None,
    "koji-hub.conf": None,
    "kojiweb.conf": None,
    "spacewalk-server-python.conf": ("Include", "no file matches the wildcard"),
    "spacewalk-xmlrpc.conf": None,
    "trac-single.conf": None,
    "trac-multi.conf": None,
    "trac-vhost.conf": None,
}


def test_every_corpus_file_is_listed_and_names_its_source():
    files = sorted(name for name in os.listdir(CORPUS) if name.endswith(".conf"))
    assert files == sorted(EXPECTED)
    assert len(files) >= 15
    for name in files:
        with open(os.path.join(CORPUS, name), encoding="utf-8") as handle:
            assert handle.readline().startswith("# Source: "), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_with_dash_t(name, tmp_path):
    path = os.path.join(CORPUS, name)
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "--config", path, "-t"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    errors = [line for line in result.stderr.splitlines() if "warning:" not in line]
    expected = EXPECTED[name]
    if expected is None:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Syntax OK"
        return
    assert result.returncode == 1
    assert len(errors) == 1, result.stderr
    directive, reason = expected
    # file:line: Directive...: why (and what to do instead)
    assert errors[0].startswith(f"prefork-modpy: {path}:"), errors[0]
    assert f": {directive}" in errors[0] and reason in errors[0], errors[0]
