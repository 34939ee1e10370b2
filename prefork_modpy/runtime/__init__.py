"""Layer 2, what a worker holds for all its requests: module caches, the error log, tables.

Imports only from `config`. Must not know about processes, sockets or a request's phases.
"""
