"""Layer 3, the Apache behaviour a phase or a `req` method delegates to.

translate (ap_core_translate), auth, CGI variables, conditional GET, mod_mime, the default
handler, error documents and pages, proxies, the access log. Imports only from `config` and
`runtime`; works on the request record, never on mod_python's API above it.
"""
