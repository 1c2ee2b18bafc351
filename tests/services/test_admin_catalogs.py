"""The admin workflows' catalog areas: every key in every locale, with the same placeholders."""

from __future__ import annotations

import json
import string

import pytest

from services.i18n import CATALOG_DIR, LOCALES

AREAS = ("overview", "software", "cloud", "vs", "technical", "categories", "benefits")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("area", AREAS)
def test_area_has_same_keys_and_placeholders_everywhere(area: str) -> None:
    books = {loc: json.loads((CATALOG_DIR / loc / f"{area}.json").read_text(encoding="utf-8")) for loc in LOCALES}
    english = books["en-US"]
    for loc, book in books.items():
        assert set(book) == set(english), loc
        for key, text in book.items():
            assert text.strip(), (loc, key)
            assert placeholders(text) == placeholders(english[key]), (loc, key)


def test_official_wording_is_used() -> None:
    cn = json.loads((CATALOG_DIR / "zh-CN" / "software.json").read_text(encoding="utf-8"))
    tw = json.loads((CATALOG_DIR / "zh-TW" / "software.json").read_text(encoding="utf-8"))
    assert cn["get_keys"] == "获取密钥" and tw["get_keys"] == "取得金鑰"
    cn_b = json.loads((CATALOG_DIR / "zh-CN" / "benefits.json").read_text(encoding="utf-8"))
    tw_b = json.loads((CATALOG_DIR / "zh-TW" / "benefits.json").read_text(encoding="utf-8"))
    assert cn_b["assign_user"] == "分配用户" and tw_b["assign_user"] == "指派使用者"
    assert cn_b["expires"] == "过期" and tw_b["expires"] == "到期"
