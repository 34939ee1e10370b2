"""A CGI-style script setting its own status (site file cgi/status.py)."""

print("Status: 201 Created")
print("Content-Type: text/html")
print()
print("<p>created</p>")
