"""The one phase table (config.directives.PHASES): what the config and the dispatcher read."""

from __future__ import annotations

from mod_python import apache
from prefork_modpy.config import directives
from prefork_modpy.config.directives import PHASE, PHASES


def test_results_are_mod_pythons_values():
    # config sits below mod_python.apache and keeps its own copy of OK and DECLINED.
    assert (directives.OK, directives.DECLINED) == (apache.OK, apache.DECLINED)


def test_stacking_rules_per_phase():
    run_first = {"PythonTransHandler", "PythonAuthenHandler", "PythonAuthzHandler",
                 "PythonTypeHandler"}
    for phase in PHASES:
        if phase.directive in run_first:
            assert phase.continue_on == {apache.DECLINED}, phase.directive
        elif phase.directive in ("PythonHandler", "PythonCleanupHandler"):
            assert phase.continue_on == {apache.OK}, phase.directive
        else:
            assert phase.continue_on == {apache.OK, apache.DECLINED}, phase.directive


def test_extension_lists_only_after_translation():
    assert [p.directive for p in PHASES if not p.by_extension] == [
        "PythonPostReadRequestHandler", "PythonTransHandler"]
    assert PHASE["PythonHandler"].default_object == "handler"
