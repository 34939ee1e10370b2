"""URI decoding, normalisation and the URL → filename walk."""

import pytest

from prefork_modpy.httpd.translate import (
    HTTPError,
    decode_path,
    host_name,
    map_to_file,
    split_target,
)


def test_split_target():
    assert split_target("/a/b?x=1&y") == ("/a/b", "x=1&y", None)
    assert split_target("/a") == ("/a", None, None)
    assert split_target("/a?") == ("/a", "", None)
    assert split_target("http://host:8/p?q") == ("/p", "q", "host:8")
    assert split_target("http://a?x=1") == ("/", "x=1", "a")
    assert split_target("http://a") == ("/", None, "a")


def test_host_name():
    assert host_name("Example.TEST:8080") == "example.test"
    assert host_name("[::1]:80") == "::1"
    assert host_name("") is None


@pytest.mark.parametrize("raw,expected", [
    ("/a//b/./c", "/a/b/c"), ("/a/b/../c", "/a/c"), ("/a/", "/a/"), ("/", "/"),
    ("/a%20b", "/a b"), ("/%e2%82%ac", "/\u20ac"), ("/%252e", "/%2e"),
])
def test_decode_path(raw, expected):
    assert decode_path(raw) == expected


@pytest.mark.parametrize("raw,status", [
    ("/../etc/passwd", 403), ("/a/../../etc", 403), ("/%2e%2e/etc", 403),
    ("/a%2fb", 404), ("/%00", 400), ("/a\x00", 400), ("/%zz", 400), ("/%c0%ae", 400),
])
def test_decode_path_refusals(raw, status):
    with pytest.raises(HTTPError) as info:
        decode_path(raw)
    assert info.value.status == status


def test_map_to_file(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "x.py").write_text("")
    root = str(tmp_path)
    assert map_to_file(root, "/app/x.py") == (f"{root}/app/x.py", "", False)
    assert map_to_file(root, "/app/x.py/extra/path") == (f"{root}/app/x.py", "/extra/path", False)
    assert map_to_file(root, "/app/missing.py") == (f"{root}/app/missing.py", "", False)
    assert map_to_file(root, "/app/missing.py/more") == (f"{root}/app/missing.py", "/more", False)
    assert map_to_file(root, "/nodir/x") == (f"{root}/nodir", "/x", False)
    assert map_to_file(root, "/app/") == (f"{root}/app/", "", True)
    assert map_to_file(root, "/app") == (f"{root}/app", "", True)


def test_map_to_file_keeps_trailing_slash_in_path_info(tmp_path):
    (tmp_path / "page.py").write_text("")
    root = str(tmp_path)
    assert map_to_file(root, "/page.py/index/") == (f"{root}/page.py", "/index/", False)
    assert map_to_file(root, "/page.py/") == (f"{root}/page.py", "/", False)
