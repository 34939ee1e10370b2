#!/usr/bin/env python3
"""The publisher example's one command: create var/sessions, then serve site.conf with
prefork-modpy from this directory (the session directory in site.conf is relative to it).
Arguments go to prefork-modpy (`--bind 127.0.0.1:9000`)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    os.makedirs(os.path.join(HERE, "var", "sessions"), exist_ok=True)
    os.chdir(HERE)
    command = [sys.executable, "-m", "prefork_modpy", "--config",
               os.path.join(HERE, "site.conf"), *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
