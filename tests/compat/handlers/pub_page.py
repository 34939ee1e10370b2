"""A mod_python.publisher page (site file pub/page.py) for test_library_compat.py."""

import os  # noqa: F401 - published as /os/system: modules are not traversable
import re  # noqa: F401 - /re: modules are not published
from platform import system  # noqa: F401 - an imported function (process-faults PB8)

_SECRET_PASSWORD = "secret"
__ANSWER = 42


def index(req):
    return "page index"


def hello(req, name="world", count=None):
    return f"hello {name} {count!r}"


def needs(req, a, b="-"):
    return f"needs {a} {b}"


def html(req):
    return "<html><body>hi</body></html>\n"


def upper_html(req):
    return "<HTML>x</HTML >  \n"


def starts_html(req):
    return "<html> without an end"


def settype(req):
    req.content_type = "application/json"
    return '{"a": 1}'


def nothing(req):
    return None


def writes(req):
    req.write("written directly\n")


def number(req):
    return 42


def whoami(req):
    return f"req is the request: {req.uri}"


def protected(req):
    __auth_realm__ = "Nested"  # noqa: F841 - read by the publisher

    def __auth__(req, user, passwd):
        return user == "spam" and passwd == "eggs"

    __access__ = ["spam"]  # noqa: F841 - read by the publisher
    return "nested auth ok"


class Sub:
    def page(self, req):
        return "sub page"

    def __call__(self, req):
        return "callable sub"


class InstanceTest:
    traverse = Sub()

    def __call__(self, req):
        return "callable instance"

    def method(self, req, word="1"):
        return "method " + word


class Guarded:
    __auth_realm__ = "Guarded"
    __auth__ = {"spam": "eggs"}

    def __call__(self, req):
        return "guarded ok"


instance = InstanceTest()
guarded = Guarded()
test_dict = {"a": 1}
test_dict_keys = test_dict.keys
a = Sub()
