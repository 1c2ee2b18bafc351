"""The layers of ARCHITECTURE.md, enforced: dependencies point down, and only bot/ and dialogs/ use botbuilder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDK = ("botbuilder", "botframework", "msrest")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": SDK + ("bot", "dialogs", "cards", "services", "tinydb", "psycopg", "psycopg_pool", "aiohttp", "msal",
                     "requests", "os",
                     "socket", "pathlib"),
    "services": SDK + ("bot", "dialogs", "cards"),
    "cards": SDK + ("bot", "dialogs", "tinydb", "psycopg", "psycopg_pool", "aiohttp", "msal"),
    "dialogs": ("bot",),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & set(FORBIDDEN[package]))
        for path in (ROOT / package).rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}
