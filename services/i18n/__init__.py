"""Message catalogs for en-US, zh-CN and zh-TW, and locale-aware dates.

Catalogs are JSON files ``catalogs/<locale>/<area>.json``; each area file belongs to one part of the
code so that parts can grow their strings independently. The zh-CN and zh-TW wording follows
Partner Center's official help pages (``shared/terms.tsv``) wherever they have the term.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


#: An IANA zone name as Teams sends it (``Asia/Shanghai``, ``America/Los_Angeles``, ``UTC``).
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}$")


def normalize_timezone(value: Any) -> str | None:
    """A time zone name the standard library knows, or None (bounded: a name is at most 64 characters)."""
    if not isinstance(value, str) or len(value) > 64 or not _ZONE_NAME.match(value.strip()):
        return None
    try:
        return ZoneInfo(value.strip()).key
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _local(value: datetime, timezone: str | None) -> datetime:
    """The moment in the person's zone (a naive value is taken as UTC, which is how we store it)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    zone = normalize_timezone(timezone) if timezone else None
    return aware.astimezone(ZoneInfo(zone)) if zone else aware.astimezone(UTC)


def format_date(value: date | datetime | None, locale: str, timezone: str | None = None) -> str:
    """Dates as each locale writes them: ``Nov 22, 2026`` / ``2026年11月22日`` (a moment: its day
    in the person's time zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, timezone).date()
    if locale in ("zh-CN", "zh-TW"):
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value:%b} {value.day}, {value.year}"


def format_datetime(value: datetime | None, locale: str, timezone: str | None = None) -> str:
    """A moment in the person's time zone: ``Nov 22, 2026, 3:05 PM`` / ``2026年11月22日 15:05``."""
    if value is None:
        return ""
    day = format_date(_local(value, timezone).replace(tzinfo=None), locale)
    separator = " " if locale in ("zh-CN", "zh-TW") else ", "
    return f"{day}{separator}{format_time(value, locale, timezone)}"


def format_time(value: datetime, locale: str, timezone: str | None = None) -> str:
    """The time of day of a moment in the person's zone: ``15:05`` / ``3:05 PM``."""
    local = _local(value, timezone)
    if locale in ("zh-CN", "zh-TW"):
        return f"{local:%H:%M}"
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def choice_key(area: str, value: str) -> str:
    """The catalog key of an inventory choice (``English`` → ``<area>.english``, ``64-bit`` → ``<area>.64_bit``)."""
    return f"{area}.{re.sub(r'[^a-z0-9]+', '_', value.lower()).strip('_')}"


#: ``datetime`` by another name, for annotations inside :class:`Translator` (whose method is named ``datetime``)
_DateTime = datetime


class Translator:
    """Looks up a key in one locale and fills in its parameters (dates formatted for the locale)."""

    def __init__(self, locale: str, catalogs: Mapping[str, Mapping[str, str]] | None = None,
                 timezone: str | None = None) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._catalogs = catalogs or load_catalogs()
        #: the person's IANA time zone (from their Teams client); dates of moments are shown in it
        self.timezone = normalize_timezone(timezone) if timezone else None

    def __call__(self, key: str, **params: Any) -> Message:
        text = self._catalogs[self.locale].get(key) or self._catalogs[DEFAULT_LOCALE].get(key)
        if text is None:
            raise KeyError(f"missing message {key!r}")
        if not params:
            return Message(text)
        values = {k: self._value(v) for k, v in params.items()}
        field = params.get("field")
        if isinstance(field, str) and self.has(f"fields.{field}"):
            values["field"] = self(f"fields.{field}")  # a form field by the name the person sees
        return Message(text.format(**values), text, values)

    def has(self, key: str) -> bool:
        return key in self._catalogs[DEFAULT_LOCALE]

    @property
    def catalogs(self) -> Mapping[str, Mapping[str, str]]:
        """The catalogs this translator reads (``load_catalogs()`` unless given others)."""
        return self._catalogs

    def date(self, value: date | datetime | None) -> str:
        return format_date(value, self.locale, self.timezone)

    def datetime(self, value: _DateTime | None) -> str:
        return format_datetime(value, self.locale, self.timezone)

    def time(self, value: _DateTime) -> str:
        return format_time(value, self.locale, self.timezone)

    def plural(self, key: str, count: int, **params: Any) -> str:
        """``<key>.one`` for exactly one, else ``<key>.other`` (every locale has both)."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", count=count, **params)

    def pick(self, record: Any, name: str) -> str:
        """A record's text in this locale: its per-locale wording from the inventory, else its own."""
        wording = (getattr(record, "i18n", None) or {}).get(name) or {}
        return str(wording.get(self.locale) or getattr(record, name, "") or "")

    def choice(self, area: str, value: str) -> str:
        """An inventory choice (a key's language or OS type) in this locale, as itself when unknown."""
        key = choice_key(area, value)
        return self(key) if self.has(key) else value

    def label(self, record: Any) -> str:
        """An inventory record's name in this locale; an offer adds its type (``市场投放权益 · 金级核心``)."""
        name = self.pick(record, "name")
        offer_type = self.pick(record, "offer_type") if getattr(record, "offer_type", "") else ""
        return f"{name} · {offer_type}" if offer_type else name

    def _value(self, value: Any) -> Any:
        if hasattr(value, "i18n") and hasattr(value, "name"):  # a benefit or package from the inventory
            return self.label(value)
        if isinstance(value, (list, tuple)) and value and all(hasattr(v, "i18n") for v in value):
            return self("choices.list_separator").join(self.label(v) for v in value)
        if isinstance(value, (date, datetime)):
            return Message(self.date(value))
        if isinstance(value, StrEnum):  # statuses and roles have catalog entries named after them
            for area in ("status", "roles", "categories"):
                key = f"{area}.{value.value}"
                if self.has(key):
                    return self(key)
            return value.value
        return value
