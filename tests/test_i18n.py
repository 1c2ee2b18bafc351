"""Every message exists in every locale, with the same placeholders; locales resolve as users expect."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.i18n import LOCALES, Translator, format_date, load_catalogs, normalize_locale, resolve_locale

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_no_key_is_missing_from_any_catalog() -> None:
    catalogs = load_catalogs()
    all_keys = set().union(*(set(c) for c in catalogs.values()))
    for locale in LOCALES:
        missing = sorted(all_keys - set(catalogs[locale]))
        assert not missing, f"{locale} lacks {missing}"


def test_placeholders_match_across_locales() -> None:
    catalogs = load_catalogs()
    for key, english in catalogs["en-US"].items():
        expected = set(_PLACEHOLDER.findall(english))
        for locale in LOCALES[1:]:
            assert set(_PLACEHOLDER.findall(catalogs[locale][key])) == expected, f"{locale} {key}"


def test_no_message_is_empty() -> None:
    for locale, catalog in load_catalogs().items():
        empty = [k for k, v in catalog.items() if not v.strip()]
        assert not empty, f"{locale}: {empty}"


@pytest.mark.parametrize(("tag", "expected"), [
    ("zh-CN", "zh-CN"), ("zh-Hans", "zh-CN"), ("zh-SG", "zh-CN"), ("zh_cn", "zh-CN"),
    ("zh-TW", "zh-TW"), ("zh-Hant-TW", "zh-TW"), ("zh-HK", "zh-TW"),
    ("en-GB", "en-US"), ("en", "en-US"), ("fr-FR", None), ("", None), (None, None),
])
def test_normalize_locale(tag: str | None, expected: str | None) -> None:
    assert normalize_locale(tag) == expected


def test_preference_wins_over_activity_locale_and_falls_back_to_english() -> None:
    assert resolve_locale("zh-TW", "en-US") == "zh-TW"
    assert resolve_locale(None, "zh-CN") == "zh-CN"
    assert resolve_locale(None, "de-DE") == "en-US"


def test_dates_in_each_locale() -> None:
    day = date(2026, 11, 22)
    assert format_date(day, "en-US") == "Nov 22, 2026"
    assert format_date(day, "zh-CN") == "2026年11月22日"
    assert Translator("zh-TW")("errors.reassign_locked", benefit="VS", until=day, days=90).count("2026年11月22日") == 1


def test_official_partner_center_wording() -> None:
    assert Translator("zh-CN")("roles.global_admin") == "全局管理员"
    assert Translator("zh-TW")("roles.global_admin") == "全域系統管理員"
    assert Translator("zh-TW")("roles.mpn_partner_admin") == "MPN 合作夥伴系統管理員"


def test_a_missing_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        Translator("en-US")("nope.missing")
