"""ISSUE 15 finding 1: a published function (or method) whose `__auth__`, `__access__` or
`__auth_realm__` is not a literal — a module-level name, a check function, an expression,
a closure — must never run for an unauthenticated client. Compared with Apache httpd +
mod_python 3.5 (which reads the names from `co_consts` and answers 401 without
credentials); with credentials Debian's publisher always answers 400 (`base64.decodestring`
is gone since Python 3.9), so those cases check prefork-modpy against the manual.
"""

from __future__ import annotations

import base64

import pytest

from .conftest import Pair, fetch

FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/pub>
    SetHandler mod_python
    PythonHandler mod_python.publisher
    PythonDebug On
</Directory>
"""

FILES = {"pub/guards.py": "handlers/pub_guards.py"}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# Apache answers 401 + `Basic realm="unknown"` without credentials: prefork-modpy must too.
SAME_AS_APACHE = ["global_dict", "auth_expression", "access_expression", "reassigned",
                  "conditional", "methods/method_global", "methods/method_expression"]

# Apache is wrong here: its `co_consts` offsets point past the tuple (500, the page's
# traceback) or at a truthy constant (200, the function runs for anyone); a function
# attribute `__auth__` it ignores. The manual's answer: challenge (401) or refuse (403).
APACHE_WRONG = {
    "global_check": (401, 'Basic realm="Globals"'),
    "realm_expression": (401, 'Basic realm="unknown"'),
    "closure_auth": (401, 'Basic realm="unknown"'),
    "attribute_auth": (401, 'Basic realm="unknown"'),
    "access_only_expression": (403, None),
}

# Values the publisher can read without running the page: the right credentials pass.
EVALUABLE = {"global_dict": b"global dict ok", "global_check": b"global check ok",
             "methods/method_global": b"method global ok"}

# Values it cannot: refused even with the right credentials, the function never runs.
UNEVALUABLE = {"auth_expression": 401, "access_expression": 403, "realm_expression": 401,
               "closure_auth": 401, "reassigned": 401, "conditional": 401,
               "methods/method_expression": 401, "access_only_expression": 403}


@pytest.mark.parametrize("name", SAME_AS_APACHE)
def test_non_literal_auth_challenges_like_apache(pair: Pair, name: str) -> None:
    ours, theirs = pair.both(f"/pub/guards.py/{name}")
    assert theirs.status == 401
    assert (ours.status, ours.header("www-authenticate")) == \
        (theirs.status, theirs.header("www-authenticate"))
    assert ours.body == theirs.body  # Apache's stock 401 page, not the function's output


@pytest.mark.parametrize("name", sorted(APACHE_WRONG))
def test_non_literal_auth_where_apache_fails(pair: Pair, name: str) -> None:
    ours, theirs = pair.both(f"/pub/guards.py/{name}")
    assert theirs.status in (200, 500)
    assert (ours.status, ours.header("www-authenticate")) == APACHE_WRONG[name]
    assert b"ran" not in ours.body and b" ok" not in ours.body


@pytest.mark.parametrize("name", sorted(EVALUABLE))
def test_module_level_auth_values_are_checked(pair: Pair, name: str) -> None:
    """Debian's publisher answers 400 to any credentials (base64.decodestring): the manual."""
    path = f"/pub/guards.py/{name}"
    good = fetch(pair.modpy_port, path, headers=basic("spam", "eggs"))
    assert (good.status, good.body) == (200, EVALUABLE[name])
    wrong = fetch(pair.modpy_port, path, headers=basic("spam", "ham"))
    assert wrong.status == 401 and wrong.header("www-authenticate") is not None


@pytest.mark.parametrize("name", sorted(UNEVALUABLE))
def test_unevaluable_auth_refuses_even_good_credentials(pair: Pair, name: str) -> None:
    reply = fetch(pair.modpy_port, f"/pub/guards.py/{name}", headers=basic("spam", "eggs"))
    assert reply.status == UNEVALUABLE[name]
    assert b"ran" not in reply.body
    assert "cannot evaluate" in pair.modpy_errors()
