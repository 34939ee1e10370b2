
from __future__ import print_function

print("Content-type: text/plain\n")
print("test ok")

