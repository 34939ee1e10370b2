"""Layer 4, mod_python proper: the dispatcher that walks the phases, the `req` object's API,
filters and internal redirects. Imports from the layers below; nothing below imports it.
"""
