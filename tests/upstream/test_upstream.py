"""mod_python's own regression suite (vendor/test.py) against prefork-modpy and Apache.

One pytest test per test of test.py's suite(): the six per-instance tests (each starts its
own server) and the per-request tests that testPerRequestTests runs on one server. Each is
run on Apache + mod_python (when installed; recorded for the report only) and then on
prefork-modpy, where it must pass. The exceptions are deliberate differences, strict xfails
whose reason names the row of docs/migration.md that explains them.
"""

from __future__ import annotations

import pytest

from .conftest import DOCUMENTED, RESULTS, record
from .documented import CHECKS, outcome_of
from .harness import APACHE, MODPY, Outcome, Target, suite_names

PER_INSTANCE, PER_REQUEST = suite_names()

# test name -> why prefork-modpy deliberately answers differently (docs/migration.md)
DELIBERATE: dict[str, str] = {
    "testLoadModule": "GET /tests.py with no handler configured: Apache serves the handler's "
                      "source and the test looks for 'Python' in a Server header that "
                      "advertises versions; prefork-modpy never serves .py source (404) and "
                      "sends `Server: prefork-modpy`",
    "test_trans": "no PythonHandler after a PythonTransHandler: Apache serves tests.py's source "
                  "and the test checks its first line; prefork-modpy never serves .py source",
    "test_util_fieldstorage": "the test accepts only bytes keys on Python 3 (its str answer is "
                              "compared with bytes); prefork-modpy's keys are str "
                              "(test_documented.py checks the str answer)",
    "test_Session_Session": "the test splits every Set-Cookie attribute on '=', so the session "
                            "cookie's HttpOnly and SameSite=Lax break it "
                            "(test_documented.py checks path, domain and the cookie's reuse)",
    "test_Session_illegal_sid": "its session directory (test.py's TMP_DIR, made 0755) can be "
                                "listed by other users, and prefork-modpy keeps sessions only "
                                "in a 0700 directory (test_documented.py runs the same test "
                                "with the directory made private)",
    "test_psp_error": "the PSP page opens a session in test.py's TMP_DIR (0755): refused as "
                      "for test_Session_illegal_sid (test_documented.py runs the same test "
                      "with the directory made private)",
}


def params(names: list[str]) -> list:
    return [pytest.param(name, id=name, marks=pytest.mark.xfail(
        strict=True, reason=f"deliberate difference (docs/migration.md): {DELIBERATE[name]}"))
        if name in DELIBERATE else pytest.param(name, id=name) for name in names]


def check(name: str, outcomes: dict[str, Outcome]) -> None:
    mine = outcomes[MODPY]
    mine.deliberate = name in DELIBERATE
    for kind, outcome in outcomes.items():
        record(name, kind, outcome)
    assert mine.passed, f"{name} {mine.status} on prefork-modpy:\n{mine.detail}"


@pytest.mark.parametrize("name", params(PER_INSTANCE))
def test_per_instance(name: str, targets: dict[str, Target]) -> None:
    outcomes = {}
    if APACHE in targets:
        outcomes[APACHE] = targets[APACHE].run_per_instance(name)
    outcomes[MODPY] = targets[MODPY].run_per_instance(name)
    check(name, outcomes)


@pytest.mark.parametrize("name", params(PER_REQUEST))
def test_per_request(name: str, per_request: dict[str, Target]) -> None:
    outcomes = {kind: target.run_per_request(name) for kind, target in per_request.items()}
    outcomes = {kind: outcomes[kind] for kind in (APACHE, MODPY) if kind in outcomes}
    check(name, outcomes)


@pytest.mark.parametrize("name", list(CHECKS))
def test_documented(name: str, per_request: dict[str, Target]) -> None:
    """What mod_python documents, where a test above encodes its bug (documented.py); runs
    after the per-request tests, on the same servers."""
    label = name + DOCUMENTED
    for kind in (APACHE, MODPY):
        if kind in per_request:
            record(label, kind, outcome_of(CHECKS[name], per_request[kind]))
    mine = RESULTS[label][MODPY]
    assert mine.passed, mine.detail
