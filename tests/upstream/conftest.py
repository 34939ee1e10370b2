"""Servers and the report for tests/upstream (mod_python's own suite, see harness.py).

`targets` loads test.py once per server: prefork-modpy always, Apache httpd + mod_python
when it is installed (`make apache` installs it).
`per_request` starts each target's server with the config of all per-request tests, as
test.py's testPerRequestTests does. Every result is recorded; the report (each test with
both servers' results, then one closing line with the counts) is printed at the end of the
session and written to tests/upstream/report.txt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.compat.apache import apache_available

from .harness import APACHE, MODPY, Outcome, Target, describe, short_reason

collect_ignore = ["vendor"]

REPORT = Path(__file__).with_name("report.txt")
DOCUMENTED = " (documented)"  # suffix of the rows test_documented records
# test name -> server kind -> outcome, in the order the tests ran
RESULTS: dict[str, dict[str, Outcome]] = {}
APACHE_SKIPPED: list[str] = []


def apache_reason() -> str:
    return apache_available()[1]


@pytest.fixture(scope="session")
def targets() -> Iterator[dict[str, Target]]:
    loaded: dict[str, Target] = {}
    try:
        loaded[MODPY] = Target(MODPY).prepare()
        reason = apache_reason()
        if reason:
            APACHE_SKIPPED.append(reason)
        else:
            loaded[APACHE] = Target(APACHE).prepare()
        yield loaded
    finally:
        for target in loaded.values():
            target.cleanup()


@pytest.fixture(scope="session")
def per_request(targets: dict[str, Target]) -> Iterator[dict[str, Target]]:
    try:
        for target in targets.values():
            target.start_per_request_server()
        yield targets
    finally:
        for target in targets.values():
            target.stop()


def record(name: str, kind: str, outcome: Outcome) -> None:
    RESULTS.setdefault(name, {})[kind] = outcome


def report_lines() -> list[str]:
    width = max((len(name) for name in RESULTS), default=10)
    lines = [f"{'upstream test':<{width}}  {MODPY:<13}  {APACHE:<7}  why prefork-modpy failed"]
    for name, outcomes in RESULTS.items():
        mine = outcomes.get(MODPY)
        why = ""
        if mine is not None and not mine.passed:
            why = "deliberate, docs/migration.md" if mine.deliberate else short_reason(mine)
        lines.append(f"{name:<{width}}  {describe(mine):<13}  "
                     f"{describe(outcomes.get(APACHE)):<7}  {why}")
    if APACHE_SKIPPED:
        lines.append(f"Apache not run: {APACHE_SKIPPED[0]}")
    lines.append(closing_line())
    return lines


def closing_line() -> str:
    """Both servers' counts over test.py's suite, then over the documented checks."""
    suite = {name: o for name, o in RESULTS.items() if not name.endswith(DOCUMENTED)}
    checks = {name: o for name, o in RESULTS.items() if name.endswith(DOCUMENTED)}

    def count(kind: str) -> str:
        ran = [o[kind] for o in suite.values() if kind in o]
        if not ran:
            return f"{kind} not run"
        passed = sum(o.passed for o in ran)
        deliberate = sum(o.deliberate and not o.passed for o in ran)
        failed = len(ran) - passed - deliberate
        extra = f", {deliberate} deliberate differences" if deliberate else ""
        return f"{kind} {passed} passed{extra}, {failed} failed"

    def documented(kind: str) -> str:
        ran = [o[kind] for o in checks.values() if kind in o]
        return f"{kind} {sum(o.passed for o in ran)}/{len(ran)}"

    return (f"mod_python's suite, {len(suite)} tests: {count(MODPY)}; {count(APACHE)}"
            f" | documented-behaviour checks: {documented(MODPY)}, {documented(APACHE)}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    lines = report_lines()
    REPORT.write_text("\n".join(lines) + "\n")
    terminalreporter.section("mod_python's own test suite: prefork-modpy and Apache")
    for line in lines:
        terminalreporter.write_line(line)
