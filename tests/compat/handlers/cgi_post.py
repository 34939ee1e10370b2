"""A CGI-style script echoing its request body (site file cgi/post.py)."""

import sys

data = sys.stdin.read()
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
sys.stdout.write("body=" + data + "\n")
