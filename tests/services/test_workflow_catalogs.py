"""The workflow catalogs (gtm, cancel, users, mine, requests, audit) say the same things in all
three locales: same keys, same placeholders, and the seeds' official terms."""

from __future__ import annotations

import json
import re

import pytest

from services.i18n import CATALOG_DIR, LOCALES

AREAS = ("gtm", "cancel", "users", "mine", "requests", "audit")


def _load(locale: str, area: str) -> dict[str, str]:
    return json.loads((CATALOG_DIR / locale / f"{area}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("area", AREAS)
def test_same_keys_and_placeholders_in_every_locale(area: str) -> None:
    english = _load("en-US", area)
    for locale in LOCALES[1:]:
        other = _load(locale, area)
        assert set(other) == set(english), locale
        for key, text in english.items():
            assert set(re.findall(r"{(\w+)}", other[key])) == set(re.findall(r"{(\w+)}", text)), (locale, key)


def test_official_terms() -> None:
    zh_cn, zh_tw = _load("zh-CN", "gtm"), _load("zh-TW", "gtm")
    assert (zh_cn["contact.add"], zh_cn["contact.update"], zh_cn["contact.change"]) == ("添加", "更新", "更改")
    assert (zh_tw["contact.add"], zh_tw["contact.update"], zh_tw["contact.change"]) == ("新增", "更新", "變更")
    assert (zh_cn["contact.assign"], zh_tw["contact.assign"]) == ("分配用户", "指派使用者")
    assert (zh_cn["activate"], zh_tw["activate"]) == ("激活", "啟用")
    assert (zh_cn["col.expires"], zh_tw["col.expires"]) == ("过期", "到期")
    assert "营销联系人" in zh_cn["contact.title"] and "行銷連絡人" in zh_tw["contact.title"]
