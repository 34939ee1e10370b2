"""Layer 1, the site config: Apache syntax -> directives -> the server model (`ServerConfig`).

Owns reading files and turning them into immutable settings. Must not open sockets, import
handler code, or know about requests; it imports nothing from the layers above it.
"""
