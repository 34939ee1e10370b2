"""Command line: `prefork-modpy --config FILE [--workers N] [--bind ADDR] [-D NAME] [-t]
[--envvars FILE] [--print-config]`.

Owns argument parsing, sourcing an envvars file into the environment (as apache2ctl does),
the config checks (-t) and report (--print-config), and printing the config's warnings at
start. Must not fork workers, bind or import handler code itself.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from typing import Optional

from .config.server import ServerConfig, load_config, parse_address
from .config.syntax import ConfigError


def version_text() -> str:
    """`prefork-modpy --version`: the package (from Cargo.toml), the Python running it and
    the engine's build, which is what a bug report needs (httpd's -v)."""
    from . import __version__, _core

    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"prefork-modpy {__version__} ({python}; engine {_core.__build__})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prefork-modpy",
        description="Serve mod_python handlers from an Apache-style config.")
    parser.add_argument("-v", "--version", action="version", version=version_text())
    parser.add_argument("-f", "--config", required=True, help="the site config file")
    parser.add_argument("-w", "--workers", type=int, default=None,
                        help="worker processes (default: StartServers, else the number "
                             f"of CPUs, here {os.cpu_count() or 1})")
    parser.add_argument("-b", "--bind", action="append", default=[], metavar="[HOST:]PORT",
                        help="listen here instead of the config's Listen (repeatable)")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME",
                        help="define NAME for <IfDefine NAME> (repeatable)")
    parser.add_argument("-t", "--check-config", action="store_true",
                        help="check the config and what start-up needs (log files, users, "
                             "PythonImport modules), print 'Syntax OK' and exit")
    parser.add_argument("-S", "-M", "--print-config", dest="print_config",
                        action="store_true",
                        help="print virtual hosts, modules and settings with file:line, exit")
    parser.add_argument("--envvars", metavar="FILE",
                        help="source this shell file (Debian: /etc/apache2/envvars) and take "
                             "its exported variables for ${VAR} in the config, as apache2ctl "
                             "does")
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
        if args.envvars:
            os.environ.update(source_envvars(args.envvars, args.config))
        binds = [parse_address(text) for text in args.bind]
        config = load_config(args.config, defines)
        for warning in config.warnings:
            print(f"prefork-modpy: warning: {warning}", file=sys.stderr)
        if args.print_config:
            from .config.report import render

            sys.stdout.write(render(config))
            return 0
        if args.check_config:
            return _check(config)
    except ConfigError as exc:
        print(f"prefork-modpy: {exc}", file=sys.stderr)
        return 1
    from .server.master import Master, MasterOptions

    return Master(MasterOptions(args.config, args.workers, binds, defines, args.max_requests,
                                args.max_requests_jitter)).run()


def _check(config: ServerConfig) -> int:
    from .config.checks import startup_problems
    from .server.tls import build_contexts

    problems = startup_problems(config)
    try:
        build_contexts(config)  # -- mod_ssl: the certificates and keys load and match --
    except ConfigError as exc:
        problems.append(str(exc))
    for problem in problems:
        print(f"prefork-modpy: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("Syntax OK")
    return 0


def source_envvars(path: str, config_path: str) -> dict[str, str]:
    """The variables a POSIX shell exports after sourcing `path` (apache2ctl's `. envvars`),
    with APACHE_CONFDIR set to the config's directory when the caller has not set it."""
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: --envvars: no such file")
    env = dict(os.environ)
    env.setdefault("APACHE_CONFDIR", os.path.dirname(os.path.abspath(config_path)))
    result = subprocess.run(["/bin/sh", "-c", '. "$1" >&2 && env -0', "sh", path],
                            env=env, capture_output=True, timeout=30, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise ConfigError(f"{path}: --envvars: the shell failed: {message}")
    pairs = (item.partition("=") for item in result.stdout.decode().split("\0") if item)
    shell_own = {"_", "SHLVL", "PWD", "OLDPWD"}
    return {name: value for name, _, value in pairs
            if name and name not in shell_own and os.environ.get(name) != value}


if __name__ == "__main__":
    sys.exit(main())
