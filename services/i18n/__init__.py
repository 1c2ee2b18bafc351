"""Message catalogs for en-US, zh-CN and zh-TW, and locale-aware dates.

Catalogs are JSON files ``catalogs/<locale>/<area>.json``; each area file belongs to one part of the
code so that parts can grow their strings independently. The zh-CN and zh-TW wording follows
Partner Center's official help pages (``shared/terms.tsv``) wherever they have the term.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("en-US", "zh-CN", "zh-TW")
DEFAULT_LOCALE = "en-US"
CATALOG_DIR = Path(__file__).with_name("catalogs")

_ALIASES = {
    "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-sg": "zh-CN", "zh": "zh-CN", "zh-hans-cn": "zh-CN",
    "zh-tw": "zh-TW", "zh-hant": "zh-TW", "zh-hk": "zh-TW", "zh-mo": "zh-TW", "zh-hant-tw": "zh-TW",
}


def normalize_locale(value: str | None) -> str | None:
    """Map a BCP-47 tag (``zh-Hant-TW``, ``en-GB``, ``zh_cn``) to a supported locale, or None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag in _ALIASES:
        return _ALIASES[tag]
    if tag.startswith("zh-hant") or tag.endswith(("-tw", "-hk", "-mo")) and tag.startswith("zh"):
        return "zh-TW"
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en-US"
    return None


def resolve_locale(preference: str | None, activity_locale: str | None) -> str:
    """A user's saved preference wins, then the client's locale, then en-US."""
    return normalize_locale(preference) or normalize_locale(activity_locale) or DEFAULT_LOCALE


@lru_cache(maxsize=1)
def load_catalogs(directory: Path = CATALOG_DIR) -> dict[str, dict[str, str]]:
    """Every catalog, ``{locale: {key: text}}``; keys are ``<area>.<name>``."""
    catalogs: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        merged: dict[str, str] = {}
        for path in sorted((directory / locale).glob("*.json")):
            area = path.stem
            for name, text in json.loads(path.read_text(encoding="utf-8")).items():
                merged[f"{area}.{name}"] = text
        catalogs[locale] = merged
    return catalogs


class Message(str):
    """Catalog text with its parameters filled in, remembering the template and the parameters.

    Why: the catalog's own markup (``**help**``) is trusted and parameters (names, notes, inventory
    text) are not. Whoever renders a message as markdown (``cards.text.markdown``) escapes the
    parameters and keeps the template as written; used as plain text (an input label, a button),
    it is the filled-in string itself.
    """

    template: str
    params: Mapping[str, Any]

    def __new__(cls, value: str = "", template: str | None = None,
                params: Mapping[str, Any] | None = None) -> Message:
        message = super().__new__(cls, value)
        message.template = value if template is None else template
        message.params = params or {}
        return message


def format_date(value: date | datetime | None, locale: str) -> str:
    """Dates as each locale writes them: ``Nov 22, 2026`` / ``2026年11月22日``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if locale in ("zh-CN", "zh-TW"):
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value:%b} {value.day}, {value.year}"


class Translator:
    """Looks up a key in one locale and fills in its parameters (dates formatted for the locale)."""

    def __init__(self, locale: str, catalogs: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._catalogs = catalogs or load_catalogs()

    def __call__(self, key: str, **params: Any) -> Message:
        text = self._catalogs[self.locale].get(key) or self._catalogs[DEFAULT_LOCALE].get(key)
        if text is None:
            raise KeyError(f"missing message {key!r}")
        if not params:
            return Message(text)
        values = {k: self._value(v) for k, v in params.items()}
        return Message(text.format(**values), text, values)

    def has(self, key: str) -> bool:
        return key in self._catalogs[DEFAULT_LOCALE]

    @property
    def catalogs(self) -> Mapping[str, Mapping[str, str]]:
        """The catalogs this translator reads (``load_catalogs()`` unless given others)."""
        return self._catalogs

    def date(self, value: date | datetime | None) -> str:
        return format_date(value, self.locale)

    def _value(self, value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return Message(self.date(value))
        if isinstance(value, StrEnum):  # statuses and roles have catalog entries named after them
            for area in ("status", "roles", "categories"):
                key = f"{area}.{value.value}"
                if self.has(key):
                    return self(key)
            return value.value
        return value
