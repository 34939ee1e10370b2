"""The directory's index page (site file pub/index.py) for mod_python.publisher."""


def index(req):
    return "root index"


def foobar(req):
    return "foobar from index"
