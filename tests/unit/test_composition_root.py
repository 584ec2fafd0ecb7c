"""The composition root: bootstrap is the one module outside adapters/ that imports an adapter
(import-linter holds the same rule in pyproject.toml; this walk also covers the package's own
``__init__`` and any new top-level module)."""

from __future__ import annotations

import ast
from pathlib import Path

import mesoscreen

PACKAGE = Path(mesoscreen.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_an_adapter(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "mesoscreen.adapters" or node.module.startswith(
                "mesoscreen.adapters."
            ):
                return True
            if node.module == "mesoscreen" and any(a.name == "adapters" for a in node.names):
                return True
        if isinstance(node, ast.Import) and any(
            a.name.startswith("mesoscreen.adapters") for a in node.names
        ):
            return True
    return False


def test_bootstrap_is_the_only_module_outside_adapters_that_imports_an_adapter() -> None:
    """Every import of mesoscreen.adapters, at module level or inside a function, is found."""
    importers = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if not _module_name(path).startswith("mesoscreen.adapters")
        and _imports_an_adapter(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert importers == {"mesoscreen.bootstrap"}


def test_the_walk_finds_an_adapter_import_wherever_it_is_written() -> None:
    """The three spellings of an adapter import are seen, and a look-alike is not."""
    seen = [
        "from mesoscreen.adapters.ndjson import Line",
        "def f():\n    from mesoscreen.adapters import spark",
        "import mesoscreen.adapters.db.engine",
        "from mesoscreen import adapters",
    ]
    assert all(_imports_an_adapter(ast.parse(source)) for source in seen)
    assert not _imports_an_adapter(ast.parse("from mesoscreen.services import ports"))
