"""Handler for tests/compat/test_interpreters_compat.py: reports what this interpreter sees
(its `settings`, sys.path, a flag set on `sys`, a `logging` handler), and with ?set=X sets
that state, under Apache + mod_python 3.5 and prefork-modpy."""

import json
import logging
import sys

from mod_python import apache


def handler(req):
    try:
        import settings
    except ImportError:
        settings = None
    wanted = dict(part.split("=", 1) for part in (req.args or "").split("&") if "=" in part)
    probe = logging.getLogger("interp_probe")
    if "set" in wanted:
        sys.some_flag = wanted["set"]
        probe.addHandler(logging.NullHandler())
    report = {
        "interpreter": apache.interpreter,
        "settings": getattr(settings, "NAME", None),
        "settings_file": getattr(settings, "__file__", None),
        "flag": getattr(sys, "some_flag", None),
        "log_handlers": len(probe.handlers),
        "path_counts": {entry: sys.path.count(entry) for entry in sys.path
                        if "/compat-site-" in entry},
        "server_return_shared":
            apache.SERVER_RETURN is sys.modules["mod_python.apache"].SERVER_RETURN,
    }
    req.content_type = "application/json"
    req.write(json.dumps(report, sort_keys=True))
    return apache.OK
