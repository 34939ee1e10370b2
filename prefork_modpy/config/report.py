"""`prefork-modpy --print-config`: what a config amounts to, in httpd's -S/-M spirit.

Owns rendering a `ServerConfig` as text: listeners, virtual hosts with their sections,
modules loaded by the config and implemented by prefork-modpy, server-wide settings with the
file:line that set them, and the warnings. Read-only.
"""

from __future__ import annotations

from . import catalog
from .server import ServerConfig, VirtualHost


def render(config: ServerConfig) -> str:
    lines = [f"ServerRoot: {config.server_root}", f"Main config: {config.path}",
             "Listen: " + ", ".join(f"{host}:{port}" for host, port in config.listen)]
    lines += ["", "Server-wide settings:"]
    for name, where in sorted(config.sources.items()):
        lines.append(f"  {name:<24} {_server_value(config, name):<32} {where}")
    lines += ["", "Virtual hosts:"]
    inherited = {id(section) for section in config.main.sections}
    lines += _host_lines(config.main, "main server", set())
    for vhost in config.vhosts:
        lines += _host_lines(vhost, " ".join(vhost.addresses), inherited)
    lines += ["", "Modules:"]
    for _key, module in sorted(config.loaded_modules.items()):
        info = catalog.module_info(module.name)
        state = "implemented" if info.implemented else f"not implemented: {info.reason}"
        lines.append(f"  loaded {module.name:<24} {state} ({module.file}:{module.line})")
    lines.append("  implemented by prefork-modpy: " + ", ".join(catalog.implemented_modules()))
    if config.warnings:
        lines += ["", "Warnings:"] + [f"  {warning}" for warning in config.warnings]
    return "\n".join(lines) + "\n"


def _server_value(config: ServerConfig, name: str) -> str:
    key = name.lower()
    values = {"errorlog": config.error_log or "stderr", "loglevel": config.log_level,
              "pidfile": config.processes.pid_file or "", "user": config.processes.user or "",
              "group": config.processes.group or "", "timeout": str(config.limits.timeout),
              "keepalive": str(config.limits.keepalive),
              "typesconfig": config.types_config, "traceenable": config.trace_enable,
              "acceptfilter": ", ".join(f"{protocol} {name}" for protocol, name
                                        in sorted(config.accept_filters.items()))}
    return str(values.get(key, "(see the line)"))


def _host_lines(host: VirtualHost, label: str, inherited: set[int]) -> list[str]:
    lines = [f"  {label}: {host.server_name}"
             + (f" (aliases {' '.join(host.aliases)})" if host.aliases else "")
             + (f" {host.file}:{host.line}" if host.line else ""),
             f"    DocumentRoot {host.document_root}"]
    for fake, real in host.url_aliases:
        lines.append(f"    Alias {fake} {real}")
    for path, fmt, env in host.custom_logs:
        condition = f" env={env}" if env else ""
        lines.append(f"    CustomLog {path} \"{fmt}\"{condition}")
    for section in host.sections:
        if id(section) in inherited:
            continue
        handler = section.settings.set_handler
        phases = ", ".join(sorted(section.settings.handlers))
        detail = "; ".join(part for part in (
            f"SetHandler {handler}" if handler else "",
            f"handlers: {phases}" if phases else "",
            f"Require {' | '.join(section.settings.requires)}" if section.settings.requires
            else "") if part)
        lines.append(f"    <{section.kind} {section.pattern}> {section.file}:{section.line}"
                     + (f"  {detail}" if detail else ""))
    return lines
