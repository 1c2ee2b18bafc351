"""``make run AS=...``: the Playground config copy keeps the strict schema's rules (bot/playground.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playground import (
    CONFIG,
    TOP_KEYS,
    USER_KEYS,
    UnknownPerson,
    as_person,
    check_config,
    dump_config,
    read_config,
    write_as,
)

ROOT = Path(__file__).parents[2]
BASE = read_config((ROOT / CONFIG).read_text(encoding="utf-8"))


@pytest.mark.parametrize("who, name", [("leeg@contoso.com", "Lee Gu"), ("Nestor Wilke", "Nestor Wilke"),
                                        ("diego", "Diego Siciliani"), ("MEGANB@CONTOSO.COM", "Megan Bowen"),
                                        ("isaiahl@contoso.com", "Isaiah Langer"), ("alexw@contoso.com", "Alex Wilber")])
def test_each_demo_person_becomes_the_current_user_and_the_rest_stay(who: str, name: str) -> None:
    config = as_person(BASE, who)
    check_config(config)
    assert config["currentUser"]["name"] == name
    everyone = {p["id"] for p in [BASE["currentUser"], *BASE["users"]]}
    assert {p["id"] for p in [config["currentUser"], *config["users"]]} == everyone
    assert len(config["users"]) == 5 and tuple(config) == TOP_KEYS
    assert all(tuple(p) == USER_KEYS for p in config["users"])
    assert config["tenantId"] == BASE["tenantId"] and config["bot"] == BASE["bot"] and config["team"] == BASE["team"]


def test_the_written_copy_reads_back_the_same(tmp_path: Path) -> None:
    path = write_as("leeg@contoso.com", ROOT / CONFIG, tmp_path)
    assert path.parent == tmp_path.resolve()
    assert read_config(path.read_text(encoding="utf-8")) == as_person(BASE, "leeg@contoso.com")
    assert read_config(dump_config(BASE)) == BASE


def test_the_checker_refuses_what_the_playground_refuses() -> None:
    six = {**BASE, "users": [*BASE["users"], BASE["currentUser"]]}
    with pytest.raises(ValueError):
        check_config(six)
    extra = {**BASE, "users": [{**BASE["users"][0], "title": "x"}, *BASE["users"][1:]]}
    with pytest.raises(ValueError):
        check_config(extra)


def test_an_unknown_person_is_refused_with_the_choices() -> None:
    with pytest.raises(UnknownPerson) as info:
        as_person(BASE, "mallory@example.com")
    assert "Lee Gu (leeg@contoso.com)" in str(info.value)
