"""The README keeps up with the code: the two commands first, every setting, every Graph permission."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_opens_with_make_run_and_make_test() -> None:
    commands = re.findall(r"^make (\w+)", README, re.M)
    assert commands[:2] == ["run", "test"]


def test_every_setting_of_env_example_is_documented() -> None:
    names = re.findall(r"^([A-Za-z_]+)=", (ROOT / ".env.example").read_text(), re.M)
    assert len(names) > 20
    missing = [n for n in names if f"`{n}`" not in README and f"{n}`" not in README]
    assert not missing, missing


def test_every_setting_the_code_reads_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    read = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "services").rglob("*.py")) + \
            list((ROOT / "manifest").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"""(?:get|_float|_int)\(\s*(?:settings,\s*)?["']([A-Z][A-Za-z_]{3,})["']""", text))
    headers = {"Authorization", "Content-Type", "Retry-After", "ConsistencyLevel"}
    missing = sorted(n for n in read - headers if f"{n}=" not in example)
    assert not missing, missing


def _graph_calls_made() -> set[tuple[str, str]]:
    """Every (method, Graph path) the identity services call, each interpolated segment as ``{id}``."""
    calls: set[tuple[str, str]] = set()
    for path in (ROOT / "services" / "identity").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        calls |= {("GET", p) for p in re.findall(r'(?:_collect|_get)\(\s*f?"(/[^"]*)"', text)}
        calls |= set(re.findall(r'_request\(\s*"([A-Z]+)",\s*f?"(/[^"]*)"', text))
        calls |= {("GET", p) for p in re.findall(r'session\.get\(f"\{self\.base\}(/[^"?]*)"', text)}
    return {(method, re.sub(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", "{id}", p)) for method, p in calls}


def test_every_graph_call_has_its_permission_and_the_readme_lists_exactly_those() -> None:
    from services.identity.permissions import GRAPH_CALLS

    called = _graph_calls_made()
    assert {("GET", "/users"), ("GET", "/users/{id}"), ("GET", "/me"),
            ("POST", "/users/{id}/teamwork/installedApps")} <= called
    assert called == set(GRAPH_CALLS), (sorted(called - set(GRAPH_CALLS)), sorted(set(GRAPH_CALLS) - called))
    rows = re.findall(r"^\s*\| `([A-Za-z.]+)` \| (Application|Delegated)\b", README, re.M)
    assert set(rows) == set(GRAPH_CALLS.values())
