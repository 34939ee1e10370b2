"""htpasswd hashes as apr_password_validate accepts them on Linux (httpd/authnfile.py):
bcrypt, apr1-MD5, {SHA} and crypt written by Debian's htpasswd; plain text refused."""

import shutil
import subprocess

import pytest

from prefork_modpy.httpd import authnfile

HTPASSWD = shutil.which("htpasswd")


@pytest.mark.skipif(HTPASSWD is None, reason="apache2-utils' htpasswd is not installed "
                                             "(tests/compat/install_apache.sh installs it)")
@pytest.mark.parametrize("flag", ["-B", "-m", "-s", "-d"])
def test_htpasswd_hashes_verify(flag):
    line = subprocess.run([HTPASSWD, "-nb", flag, "user", "s3cret"], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()
    stored = line.partition(":")[2]
    assert authnfile.verify("s3cret", stored)
    assert not authnfile.verify("s3cret!", stored)


def test_plain_text_and_garbage_are_refused():
    assert not authnfile.verify("s3cret", "s3cret")
    assert not authnfile.verify("x", "$2y$05$broken")
