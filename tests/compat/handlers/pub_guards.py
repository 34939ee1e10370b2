"""A mod_python.publisher page (site file pub/guards.py) for test_publisher_auth_compat.py:
`__auth__`/`__access__`/`__auth_realm__` that are not literals (ISSUE 15 finding 1)."""

USERS = {"spam": "eggs"}
ALLOWED = ["spam"]
REALM = "Globals"


def check_user(req, user, passwd):
    return USERS.get(user) == passwd


def global_dict(req):
    __auth__ = USERS  # noqa: F841 - read by the publisher
    return "global dict ok"


def global_check(req):
    __auth_realm__ = REALM  # noqa: F841
    __auth__ = check_user  # noqa: F841
    __access__ = ALLOWED  # noqa: F841
    return "global check ok"


def auth_expression(req):
    __auth__ = dict(USERS)  # noqa: F841 - a call: not evaluated without running it
    return "auth expression ran"


def access_expression(req):
    __auth__ = {"spam": "eggs"}  # noqa: F841
    __access__ = ["spam"] + []  # noqa: F841 - an operator: not evaluated
    return "access expression ran"


def access_only_expression(req):
    __access__ = ALLOWED + []  # noqa: F841
    return "access only expression ran"


def realm_expression(req):
    __auth_realm__ = "Realm " + REALM  # noqa: F841
    __auth__ = USERS  # noqa: F841
    return "realm expression ran"


def closure_auth(req):
    allowed = USERS

    def __auth__(req, user, passwd):  # a closure over a local of the running frame
        return allowed.get(user) == passwd

    return "closure auth ran"


def reassigned(req):
    __auth__ = {"spam": "eggs"}  # noqa: F841
    __auth__ = True  # noqa: F841 - assigned twice: which one holds depends on running it
    return "reassigned ran"


def conditional(req):
    __auth__ = USERS if req else {}  # noqa: F841
    return "conditional ran"


def attribute_auth(req):
    return "attribute auth ran"


attribute_auth.__auth__ = USERS


class Methods:
    def method_global(self, req):
        __auth__ = USERS  # noqa: F841
        return "method global ok"

    def method_expression(self, req):
        __auth__ = {**USERS, "x": "y"}.copy()  # noqa: F841
        return "method expression ran"


methods = Methods()
