"""ISSUE 15 finding 7: files under a path segment starting with a dot (`/.git/config`,
`/.svn/entries`, `/app/.env/db`) are never served by the default handler: 404, as for a
dotfile, unless `AllowDotSegments` names the segment (`.well-known` for ACME challenges).
Apache serves them (its stock config only denies `.ht*`), so this runs against
prefork-modpy alone."""

from __future__ import annotations

import http.client

import pytest

from tests.support.site import SiteFactory

FILES = {
    ".git/config": "[core]\n\tsecret = yes\n",
    ".git/index.html": "git index\n",
    "app/.env/db": "password=1\n",
    "app/.hidden": "hidden\n",
    ".well-known/acme-challenge/token": "challenge\n",
    "public/ok.txt": "ok\n",
}


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/.git/config", "/.git/", "/.git/index.html",
                                  "/app/.env/db", "/app/.hidden", "/%2egit/config",
                                  "/public/../.git/config",
                                  "/.well-known/acme-challenge/token"])
def test_dot_segments_are_refused_by_default(site, path: str) -> None:
    server = site("", FILES)
    status, body = get(server.port, path)
    assert status == 404, body
    assert b"secret" not in body and b"password" not in body and b"challenge" not in body
    assert get(server.port, "/public/ok.txt") == (200, b"ok\n")


def test_allow_dot_segments_serves_only_the_named_segment(site) -> None:
    server = site("AllowDotSegments .well-known\n", FILES)
    assert get(server.port, "/.well-known/acme-challenge/token") == (200, b"challenge\n")
    assert get(server.port, "/.git/config")[0] == 404
    assert get(server.port, "/app/.env/db")[0] == 404


def test_dot_segment_above_the_document_root_does_not_count(tmp_path) -> None:
    factory = SiteFactory(tmp_path / ".sites")
    (tmp_path / ".sites").mkdir()
    try:
        server = factory.start("", {"public/ok.txt": "ok\n"})
        assert get(server.port, "/public/ok.txt") == (200, b"ok\n")
    finally:
        factory.close()


@pytest.mark.parametrize("args, error", [
    ("", "needs at least one name"),
    ("well-known", "is not one path segment"),
    (".a/b", "is not one path segment"),
    ("..", "is not one path segment"),
])
def test_allow_dot_segments_refuses_bad_arguments(tmp_path, args: str, error: str) -> None:
    from prefork_modpy.config.server import ConfigError, load_config

    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:8080\nAllowDotSegments {args}\n")
    with pytest.raises(ConfigError, match=rf"site.conf:2: AllowDotSegments.*{error}"):
        load_config(str(conf))
