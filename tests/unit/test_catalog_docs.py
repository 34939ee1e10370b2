"""docs/directives.md carries catalog.py's table unchanged."""

from pathlib import Path

from prefork_modpy.config import catalog

DOCS = Path(__file__).parents[2] / "docs" / "directives.md"


def test_directives_doc_has_the_catalog_table():
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("<!-- catalog:start -->\n") + len("<!-- catalog:start -->\n")
    end = text.index("<!-- catalog:end -->")
    assert text[start:end] == catalog.render_markdown()


def test_every_module_reason_is_stated():
    for name in ("mod_gnutls.c", "proxy_module", "mod_negotiation.c", "mpm_event_module"):
        info = catalog.module_info(name)
        assert not info.implemented and info.reason, name
    assert catalog.module_info("python_module").implemented
    assert catalog.module_info("prefork.c").implemented
    assert catalog.module_info("ssl_module").implemented  # -- mod_ssl (issue 14) --
