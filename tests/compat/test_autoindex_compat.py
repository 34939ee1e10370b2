"""mod_autoindex compared with Apache httpd 2.4 byte for byte, under Debian's own
autoindex.conf (FancyIndexing HTMLTable VersionSort NameWidth=* ..., its icons and
IndexIgnore), with sorting queries, HeaderName/ReadmeName, AddDescription and the other
output formats. /list/pre/ and /list/table/ show httpd's merge order: their parent section
has a mod_autoindex directive, so their +keywords replace the server's options (httpd merges
the sections with each other before the server's settings); /plus/sub/'s parent has none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import Pair

DEBIAN_CONF = Path("/etc/apache2/mods-available/autoindex.conf")
APACHE_MODULES = (("autoindex_module", "mod_autoindex.so"),)


def _debian_conf() -> str:
    """Debian's autoindex.conf, without its <IfModule> wrapper (braces doubled for
    str.format)."""
    text = DEBIAN_CONF.read_text() if DEBIAN_CONF.exists() else ""
    return text.replace("{", "{{").replace("}", "}}")


FRAGMENT = _debian_conf() + """
<Directory {root}/list>
    Options +Indexes
    AddDescription "The <b>first</b> file" a.txt
    AddDescription "Version files &amp; more" v*.txt
</Directory>
<Directory {root}/other>
    Options +Indexes
    IndexOptions FancyIndexing HTMLTable
</Directory>
<Directory {root}/other/sub>
    IndexOptions +FoldersFirst
</Directory>
<Directory {root}/plus>
    Options +Indexes
</Directory>
<Directory {root}/plus/sub>
    IndexOptions +FoldersFirst -SuppressSize
</Directory>
<Directory {root}/list/pre>
    IndexOptions -HTMLTable +FoldersFirst
</Directory>
<Directory {root}/list/bare>
    IndexOptions None
</Directory>
<Directory {root}/list/table>
    IndexOptions +SuppressDescription +SuppressSize +IconsAreLinks
    IndexOrderDefault Descending Name
    IndexIgnore *.skip
</Directory>
"""

FILES = {
    "list/a.txt": "alpha\n",
    "list/b.html": "<p>bee</p>\n" * 50,
    "list/c.py": "print(1)\n" * 300,
    "list/d.tar.gz": "x" * 5000,
    "list/e.png": "png" * 100000,
    "list/v1.10.txt": "ten",
    "list/v1.9.txt": "nine",
    "list/we ird&<name>\".txt": "odd",
    "list/co:lon.bin": "c",
    "list/.hidden": "h",
    "list/backup~": "b",
    "list/README": "readme",
    "list/sub/HEADER.html": "<h2>Sub header</h2>\n",
    "list/sub/README.txt": "read <me> & more\n",
    "list/sub/file.c": "int main;\n",
    "list/pre/x.txt": "x",
    "list/pre/zdir/.keep": "",
    "list/pre/a-long-name-that-is-longer-than-the-default-width.txt": "l",
    "list/bare/one.txt": "1",
    "list/table/k.txt": "k",
    "list/table/k.skip": "k",
    "list/table/m.txt": "m",
    "noindex/f.txt": "f",
    "other/sub/f.txt": "f",
    "plus/sub/f.txt": "f",
    "plus/sub/d/.keep": "",
}

CASES = ["/list/", "/list/?C=M;O=D", "/list/?C=S;O=A", "/list/?C=N;O=D", "/list/?C=D;O=A",
         "/list/?C=S;O=D;F=1", "/list/?P=v*", "/list/?V=0", "/list/?F=0", "/list/sub/",
         "/list/pre/", "/list/bare/", "/list/table/",
         "/noindex/", "/other/sub/", "/other/sub/?C=M;O=D",
         "/plus/sub/"]


@pytest.fixture(scope="module", autouse=True)
def fixed_times(pair: Pair) -> None:
    """Fixed modification times (distinct per file), so the M column sorts the same way."""
    for number, path in enumerate(sorted(pair.root.rglob("*"))):
        stamp = 1_700_000_000 + number * 3600
        os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("path", CASES)
def test_listing_like_apache(pair: Pair, path: str) -> None:
    if not DEBIAN_CONF.exists():
        pytest.fail("Debian's autoindex.conf is missing (apache2 not installed)")
    ours, theirs = pair.both(path)
    assert ours.status == theirs.status, (ours.body[:500], theirs.body[:500])
    assert ours.header("content-type") == theirs.header("content-type")
    if ours.status == 200:
        assert ours.body.decode() == theirs.body.decode()


def test_head_has_no_listing(pair: Pair) -> None:
    ours, theirs = pair.both("/list/", method="HEAD")
    assert ours.status == theirs.status == 200
    assert ours.header("content-type") == theirs.header("content-type")
    assert ours.body == theirs.body == b""
