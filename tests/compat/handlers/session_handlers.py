"""Session handlers for tests/compat/test_session_psp_compat.py: the same code runs under
Apache + mod_python 3.5 and prefork-modpy; each function answers text/plain."""

from mod_python import Session, apache


def _name(req):
    return req.uri.rstrip("/").rsplit("/", 1)[-1]


def counter(req):
    sess = Session.Session(req)
    sess["n"] = sess.get("n", 0) + 1
    sess.save()
    return (f"n={sess['n']} new={sess.is_new()} type={type(sess).__name__} "
            f"timeout={sess.timeout()}")


def filecounter(req):
    sess = Session.FileSession(req)
    sess["n"] = sess.get("n", 0) + 1
    sess.save()
    return f"n={sess['n']} new={sess.is_new()}"


def invalidate(req):
    sess = Session.Session(req)
    new = sess.is_new()
    sess.invalidate()
    return f"invalidated new={new}"


def unsaved(req):
    sess = Session.Session(req)
    sess["n"] = 99
    return f"unsaved new={sess.is_new()}"


def explicit_bad(req):
    try:
        Session.DbmSession(req, sid="../../etc/passwd")
    except ValueError as exc:
        return "ValueError " + str(exc)
    return "accepted"


def info(req):
    sess = Session.Session(req)
    return (f"{len(sess.id())} {sess.is_new()} {isinstance(sess, dict)} "
            f"{sess.created() <= sess.last_accessed()}")


def handler(req):
    req.content_type = "text/plain"
    req.write(globals()[_name(req)](req))
    return apache.OK
