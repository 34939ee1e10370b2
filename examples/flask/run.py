#!/usr/bin/env python3
"""The Flask example's one command: create var/ (the session key lands there), then serve
site.conf with prefork-modpy. Arguments go to prefork-modpy (`--bind 127.0.0.1:9000`)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    os.makedirs(os.path.join(HERE, "var"), exist_ok=True)
    command = [sys.executable, "-m", "prefork_modpy", "--config",
               os.path.join(HERE, "site.conf"), *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
