#!/usr/bin/env python3
"""The Trac example's one command: create a Trac environment in var/env and let
`trac-admin deploy` write its WSGI script (var/deploy/cgi-bin/trac.wsgi) the first time,
then serve site.conf with prefork-modpy. Arguments go to prefork-modpy
(`--bind 127.0.0.1:9000`)."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = os.path.join(HERE, "var", "env")
DEPLOY = os.path.join(HERE, "var", "deploy")


def trac_admin(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "trac.admin.console", ENV, *args], check=True,
                   stdout=subprocess.DEVNULL)


def prepare() -> None:
    if not os.path.isdir(ENV):
        os.makedirs(os.path.dirname(ENV), exist_ok=True)
        trac_admin("initenv", "prefork-modpy example", "sqlite:db/trac.db")
    if not os.path.isfile(os.path.join(DEPLOY, "cgi-bin", "trac.wsgi")):
        trac_admin("deploy", DEPLOY)


def main() -> None:
    prepare()
    command = [sys.executable, "-m", "prefork_modpy", "--config",
               os.path.join(HERE, "site.conf"), *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
