"""The layers of ARCHITECTURE.md, enforced: dependencies point down, and only bot/ and dialogs/ use botbuilder."""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


PRODUCTION = ("bot", "cards", "dialogs", "domain", "services", "manifest")
TEST_AWARE = ("pytest", "PYTEST", "sys.modules", "unittest")


def test_no_production_module_checks_whether_it_runs_under_a_test() -> None:
    """Behaviour that differs under a test is behaviour no test checks."""
    offenders = {
        str(path.relative_to(ROOT)): [word for word in TEST_AWARE if word in path.read_text(encoding="utf-8")]
        for package in PRODUCTION for path in (ROOT / package).rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


PROJECT = PRODUCTION + ("bench",)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import the module may execute, at the top or inside a function (``if TYPE_CHECKING:`` is not run)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _names_type_checking(child.test):
            for other in child.orelse:
                yield from _runtime_imports(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _runtime_imports(child)


def _names_type_checking(test: ast.expr) -> bool:
    return getattr(test, "id", getattr(test, "attr", "")) == "TYPE_CHECKING"


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Project module -> the project modules it imports (``from a import b`` is ``a.b`` when that is a module)."""
    files = {module_name(path, root): path for package in packages if (root / package).is_dir()
             for path in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles_among_project_modules() -> None:
    """A circle means no module of it can be read, tested or moved without the others."""
    assert circles(import_graph(ROOT, PROJECT)) == []


def test_the_circle_check_finds_circles_through_deferred_and_relative_imports(tmp_path: Path) -> None:
    files = {
        "bot/__init__.py": "",
        "bot/app.py": "from bot.operator import routes\n",
        "bot/operator/__init__.py": "from . import routes\n",
        "bot/operator/routes.py": "def f():\n    from bot.app import X\n",
        "bot/alone.py": "import bot.app\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot.late\n",
        "bot/late.py": "import bot.alone\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, ("bot",))
    assert graph["bot.operator"] == {"bot.operator.routes"}
    assert circles(graph) == [["bot.app", "bot.operator.routes"]]
