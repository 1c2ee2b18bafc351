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


def test_every_graph_permission_the_code_names_is_in_the_readme() -> None:
    pattern = re.compile(r"\b(User\.Read(?:\.All)?|RoleManagement\.Read\.Directory|Directory\.Read\.All|"
                         r"TeamsAppInstallation\.[A-Za-z.]+)\b")
    used = {m for path in (ROOT / "services" / "identity").rglob("*.py")
            for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert used and not [p for p in used if f"`{p}`" not in README]
