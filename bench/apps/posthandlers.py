"""mod_python handlers for issue 16's POST workloads, the same file under Apache and
prefork-modpy (`SetHandler mod_python` + `PythonHandler posthandlers` on the post/ directory).

/post/read.txt reads the whole body with req.read(); /post/form.txt parses a multipart form
(a text field and a 100 KiB file part) with util.FieldStorage. Each answers with what it
read, so that the benchmark can check the body really arrived.
"""

from mod_python import apache, util


def read_body(req):
    body = req.read()
    return f"read {len(body)}\n"


def read_form(req):
    form = util.FieldStorage(req)
    upload = form["upload"]
    name = form.getfirst("name")
    # Apache's mod_python 3.5 gives this field as bytes, prefork-modpy as str.
    if isinstance(name, bytes):
        name = name.decode()
    return f"form {name} {len(upload.value)}\n"


def handler(req):
    answer = read_form(req) if req.filename.endswith("form.txt") else read_body(req)
    req.content_type = "text/plain"
    req.write(answer)
    return apache.OK
