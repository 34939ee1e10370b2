"""A Flask view returning a small JSON document (issue 16's "real WSGI app", Flask side).

The same module serves every server: mod_python.wsgi (`<Location /flask>`, so the view is
/flask/json) and granian, gunicorn and uWSGI natively (/json).
"""

from flask import Flask, jsonify

app = Flask(__name__)

ITEMS = [{"id": n, "name": f"item {n}", "price": n * 1.25} for n in range(5)]


@app.get("/json")
def small_json():
    return jsonify(status="ok", count=len(ITEMS), items=ITEMS)
