"""What the test modules share, imported as `tests.support.*` (pyproject's `pythonpath`).

Owns the site factory that starts the real server (`site`), the one raw HTTP/1.1 client
and the read-until-close loop (`wire`), /proc readings (`proc`) and the handler modules
several suites copy into their sites (`handlers/`). Must not start anything at import time
or hold pytest fixtures: conftest.py files wrap these in fixtures.
"""
