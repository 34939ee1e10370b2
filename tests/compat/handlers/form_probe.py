"""Parse the request's form with util.FieldStorage and report what it cost (site file
lib/form_probe.py for test_form_scaling_compat.py; runs under both servers)."""

import json
import os
import time

from mod_python import apache, util


def handler(req):
    started = time.perf_counter()
    form = util.FieldStorage(req, keep_blank_values=1)
    seconds = time.perf_counter() - started
    total = 0
    for item in form.list:
        if item.filename:
            item.file.seek(0, 2)
            total += item.file.tell()
        else:
            total += len(item.value)
    req.content_type = "application/json"
    req.write(json.dumps({"seconds": seconds, "fields": len(form.list), "bytes": total,
                          "pid": os.getpid()}))
    return apache.OK
