"""What `prefork-modpy -t` checks beyond the syntax: everything start-up would trip over.

Owns checking a loaded `ServerConfig` against the machine: log files can be opened for
appending (their directory exists and is writable), the PidFile's directory exists, and every
`PythonImport` module can be found (`importlib.util.find_spec` on the top-level name, then
the submodule's file: no handler code runs). Must not start anything or change a file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Optional

from .server import ServerConfig


def startup_problems(config: ServerConfig) -> list[str]:
    """`file:line: problem` lines (or `config: problem` where no line is known)."""
    problems = file_problems(config)
    for module, _, file, line in config.python_imports:
        problem = _import_problem(module.partition("::")[0], config)
        if problem:
            problems.append(f"{file}:{line}: PythonImport {module}: {problem}")
    return sorted(set(problems))


def file_problems(config: ServerConfig) -> list[str]:
    """The log files, log programs and PidFile start-up would fail to open."""
    problems: list[str] = []
    where = config.sources.get
    if config.error_log:
        problems += _log_problem(config.error_log, where("ErrorLog", config.path), "ErrorLog")
    for vhost in config.vhosts:  # a <VirtualHost>'s own ErrorLog
        if vhost.error_log and vhost.error_log != config.error_log:
            problems += _log_problem(vhost.error_log, f"{vhost.file}:{vhost.line}", "ErrorLog")
    for host in [config.main, *config.vhosts]:
        for path, _, _ in host.custom_logs:
            source = config.custom_log_sources.get(path, f"{host.file}:{host.line}")
            problems += _log_problem(path, source, "CustomLog")
    if config.processes.pid_file:
        directory = os.path.dirname(config.processes.pid_file)
        if not os.path.isdir(directory):
            problems.append(f"{where('PidFile', config.path)}: PidFile: directory {directory} "
                            "does not exist")
    return sorted(set(problems))


def _log_problem(path: str, where: str, directive: str) -> list[str]:
    if path.startswith("|"):  # a piped log program: its executable must exist
        return _program_problem(path, where, directive)
    if path.startswith("syslog"):
        return []
    if os.path.exists(path):
        return [] if os.access(path, os.W_OK) else [f"{where}: {directive}: {path} is not "
                                                    "writable"]
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        return [f"{where}: {directive}: directory {directory} does not exist"]
    if not os.access(directory, os.W_OK):
        return [f"{where}: {directive}: cannot create {path} (directory not writable)"]
    return []


def _program_problem(target: str, where: str, directive: str) -> list[str]:
    import shlex
    import shutil

    command = target[1:].lstrip("|$")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return [f"{where}: {directive} {target}: {exc}"]
    if not words or shutil.which(words[0]) is None:
        program = words[0] if words else ""
        return [f"{where}: {directive}: piped log program {program!r} not found (PATH "
                f"{os.environ.get('PATH', '')})"]
    return []


def _import_problem(module: str, config: ServerConfig) -> Optional[str]:
    """Where the worker would look: the main server's PythonPath, else sys.path (named in
    the answer); a module given as a file path is that file."""
    if module.startswith("/"):
        return None if os.path.isfile(module) else f"file {module} does not exist"
    search_path = _python_path(config) or sys.path
    top, _, rest = module.partition(".")
    spec = importlib.util.find_spec(top) if search_path is sys.path else None
    if spec is None:
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(top, search_path)
    if spec is None:
        searched = ", ".join(entry or "." for entry in search_path)
        return f"module {top!r} not found on the Python path (searched: {searched})"
    locations = list(spec.submodule_search_locations or [])
    for part in rest.split(".") if rest else []:
        found = [base for base in locations
                 if os.path.exists(os.path.join(base, part + ".py"))
                 or os.path.isdir(os.path.join(base, part))]
        if not found:
            return f"submodule {part!r} not found in {top}"
        locations = [os.path.join(found[0], part)]
    return None


def _python_path(config: ServerConfig) -> Optional[list[str]]:
    expression = config.main.settings.python_config.get("PythonPath")
    if not expression:
        return None
    try:
        value = eval(expression, {"sys": sys, "__builtins__": {}})  # noqa: S307 - as mod_python
    except Exception:  # noqa: BLE001 - a bad PythonPath is reported by the worker
        return None
    return [str(item) for item in value] if isinstance(value, list) else None
