"""Command line: `prefork-modpy --config FILE [--workers N] [--bind ADDR] [-D NAME] [-t]`.

Owns argument parsing only; it hands the master what the user asked for. Must not fork,
bind or import handler code itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from .config.server import load_config, parse_address
from .config.syntax import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prefork-modpy",
        description="Serve mod_python handlers from an Apache-style config.")
    parser.add_argument("-f", "--config", required=True, help="the site config file")
    parser.add_argument("-w", "--workers", type=int, default=None,
                        help="worker processes (default: StartServers, else the number "
                             f"of CPUs, here {os.cpu_count() or 1})")
    parser.add_argument("-b", "--bind", action="append", default=[], metavar="[HOST:]PORT",
                        help="listen here instead of the config's Listen (repeatable)")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME",
                        help="define NAME for <IfDefine NAME> (repeatable)")
    parser.add_argument("-t", "--check-config", action="store_true",
                        help="check the config, print 'Syntax OK' and exit")
    parser.add_argument("--max-requests", type=int, default=None, metavar="N",
                        help="recycle a worker after N requests (MaxRequestsPerChild)")
    parser.add_argument("--max-requests-jitter", type=int, default=None, metavar="N",
                        help="add 0..N to each worker's --max-requests (MaxRequestsJitter)")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    defines = frozenset(args.defines)
    for name in ("workers", "max_requests", "max_requests_jitter"):
        value = getattr(args, name)
        if value is not None and value < (1 if name == "workers" else 0):
            print(f"prefork-modpy: --{name.replace('_', '-')} is out of range", file=sys.stderr)
            return 2
    try:
        binds = [parse_address(text) for text in args.bind]
        if args.check_config:
            load_config(args.config, defines)
            print("Syntax OK")
            return 0
    except ConfigError as exc:
        print(f"prefork-modpy: {exc}", file=sys.stderr)
        return 1
    from .server.master import Master, MasterOptions

    return Master(MasterOptions(args.config, args.workers, binds, defines, args.max_requests,
                                args.max_requests_jitter)).run()


if __name__ == "__main__":
    sys.exit(main())
