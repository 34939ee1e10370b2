"""core's `Options` as httpd's directory walk applies it, compared with Apache httpd +
mod_python: without FollowSymLinks a symbolic link on the way to the file is 403 (AH00037
in the error log), SymLinksIfOwnerMatch lets a link through only when link and target
have one owner, and a directory without an index file is 403 with or without Indexes
(no mod_autoindex in either server)."""

from __future__ import annotations

import os
import pwd

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair

FRAGMENT = """LoadModule autoindex_module /usr/lib/apache2/modules/mod_autoindex.so
<Directory {root}/nolinks>
    Options None
</Directory>
<Directory {root}/minus>
    Options -FollowSymLinks
</Directory>
<Directory {root}/owner>
    Options SymLinksIfOwnerMatch
</Directory>
<Directory {root}/noindexes>
    Options -Indexes
</Directory>
<Directory {root}/indexes>
    Options +Indexes
</Directory>
<Directory {root}/py>
    Options None
    SetHandler mod_python
    PythonHandler core_directives
</Directory>
"""

FILES = {
    "target.txt": "the target\n",
    "realdir/file.txt": "in the real directory\n",
    "nolinks/plain.txt": "plain\n",
    "minus/.keep": "",
    "owner/.keep": "",
    "noindexes/.keep": "",
    "indexes/.keep": "",
    "py/core_directives.py": "handlers/core_directives.py",
}

LINKS = {
    "nolinks/link.txt": "../target.txt",
    "nolinks/dirlink": "../realdir",
    "minus/link.txt": "../target.txt",
    "owner/same.txt": "../target.txt",
    "owner/other.txt": "../target.txt",
    "linked": "realdir",  # at the top: FollowSymLinks (httpd's default) lets it through
    "py/html": "../target.txt",
}


@pytest.fixture(scope="module", autouse=True)
def links(pair: Pair) -> None:
    for name, target in LINKS.items():
        (pair.root / name).symlink_to(target)
    nobody = pwd.getpwnam("nobody")
    os.lchown(pair.root / "owner/other.txt", nobody.pw_uid, nobody.pw_gid)


SAME = [
    Case("options-none-link-403", "/nolinks/link.txt", mode="stock"),
    Case("options-none-dir-link-403", "/nolinks/dirlink/file.txt", mode="stock"),
    Case("options-none-plain-file", "/nolinks/plain.txt"),
    Case("options-minus-follow-403", "/minus/link.txt", mode="stock"),
    Case("owner-match-same-owner", "/owner/same.txt"),
    Case("owner-match-other-owner-403", "/owner/other.txt", mode="stock"),
    Case("follow-by-default", "/linked/file.txt"),
    Case("handler-behind-a-link", "/py/html", mode="stock"),
    Case("minus-indexes-directory", "/noindexes/", mode="stock"),
    Case("default-options-directory", "/realdir/", mode="stock"),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_indexes_lists_the_directory(pair: Pair) -> None:
    """`Options +Indexes`: mod_autoindex lists the directory, on both servers
    (tests/compat/test_autoindex_compat.py compares the listing pages byte for byte)."""
    ours, theirs = pair.both("/indexes/")
    assert theirs.status == ours.status == 200
    assert b"Index of /indexes" in theirs.body and b"Index of /indexes" in ours.body


def test_refused_link_is_logged_as_httpd(pair: Pair) -> None:
    pair.both("/minus/link.txt")
    assert "AH00037: Symbolic link not allowed or link target not accessible: " in \
        pair.modpy_errors()


@pytest.mark.parametrize("load, status, line", [
    ("LoadModule autoindex_module modules/mod_autoindex.so\n", 403, "AH01276"),
    ("LoadModule dir_module modules/mod_dir.so\n", 404, "AH00128"),
])
def test_directory_answer_follows_the_loaded_modules(tmp_path, load, status, line) -> None:
    """A config that loads mod_autoindex gets its 403; one whose LoadModule lines leave it
    out gets the default handler's 404, as httpd with those modules."""
    import http.client

    from tests.support.site import SiteFactory

    factory = SiteFactory(tmp_path)
    try:
        site = factory.start(load, {"dir/.keep": ""}, workers=1)
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        conn.request("GET", "/dir/")
        assert conn.getresponse().status == status
        conn.close()
        assert f"{line}: " in site.errors()
    finally:
        factory.close()
