"""The per-request cost of the .htaccess walk (httpd/htaccess.py) with cached files.

Not part of the test suite. Builds a site whose file lies four directories deep, each
directory with a .htaccess (AllowOverride All), and times `htaccess.effective_settings`
(stat of each file, then the cached merge) against the plain section merge of a config
with AllowOverride None. Run: PYTHONPATH=. python bench/htaccess_walk.py
"""

from __future__ import annotations

import os
import tempfile
import time

from prefork_modpy.config.server import load_config
from prefork_modpy.httpd import htaccess

ROUNDS = 200_000


def build(base: str, override: str) -> tuple[str, str]:
    root = os.path.join(base, override, "srv")
    deep = os.path.join(root, "a", "b", "c")
    os.makedirs(deep)
    for level in (root, os.path.join(root, "a"), os.path.join(root, "a", "b"), deep):
        with open(os.path.join(level, ".htaccess"), "w") as handle:
            handle.write("PythonOption level x\nAddType text/x-a .a\n")
    with open(os.path.join(deep, "page.txt"), "w") as handle:
        handle.write("page\n")
    conf = os.path.join(base, override, "site.conf")
    with open(conf, "w") as handle:
        handle.write(f"DocumentRoot {root}\n<Directory {root}>\nAllowOverride {override}\n"
                     "</Directory>\n")
    return conf, os.path.join(deep, "page.txt")


def per_call(function, *args) -> float:
    function(*args)
    start = time.perf_counter()
    for _ in range(ROUNDS):
        function(*args)
    return (time.perf_counter() - start) / ROUNDS * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as base:
        conf_all, filename = build(base, "All")
        conf_none, filename_none = build(base, "None")
        config = load_config(conf_all)
        plain = load_config(conf_none)
        uri = "/a/b/c/page.txt"
        walk = per_call(htaccess.effective_settings, config, config.main, filename, uri)
        merge = per_call(plain.main.effective_settings, filename_none, uri)
        print(f"AllowOverride All, 4 cached .htaccess files: {walk:.2f} us per request")
        print(f"AllowOverride None (no walk, route cache):    {merge:.2f} us per request")
        print(f"walk cost: {walk - merge:.2f} us per request ({(walk - merge) / 4:.2f} us "
              "per directory level)")


if __name__ == "__main__":
    main()
