"""Names in the order the people of each language expect.

A list of people is read in the viewer's language's order, as Teams and Partner Center show it: English
alphabetically with accents and case as tie-breaks ("Émile" beside "Emile"), zh-CN by pinyin, zh-TW by
stroke count. That order is the Unicode Collation Algorithm with CLDR's tailoring of each language (for
Chinese: Han before Latin), which ICU implements; neither the standard library nor the deployment image
has it (``locale.strxfrm`` has no compiled zh_CN/zh_TW locale), so it comes from ICU (``pyicu-wheels``).

ICU is loaded on first use, so a process that never lists people by name (a start, an import) never pays
for it. A collator is shared: its sort keys are made by a const ICU call, safe from any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from services.i18n import DEFAULT_LOCALE

#: The ICU locale whose collation each language reads names in. CLDR's default collation of zh_CN is
#: pinyin and of zh_TW (Traditional Chinese) stroke count; ``tests/services/test_collation.py`` holds ICU
#: to it.
ICU_LOCALES = {"en-US": "en_US", "zh-CN": "zh_CN", "zh-TW": "zh_TW"}

T = TypeVar("T")


@cache
def _collator(locale: str) -> Any:
    import icu  # type: ignore[import-untyped]  # PyICU ships no type hints

    return icu.Collator.createInstance(icu.Locale(ICU_LOCALES.get(locale, ICU_LOCALES[DEFAULT_LOCALE])))


def sort_key(locale: str, text: str) -> str:
    """``text``'s place in ``locale``'s order, as a string that sorts by code point as the texts collate.

    ICU's sort key is bytes; each byte becomes the code point of the same value (Latin-1), which keeps
    their order and stores in one byte a character.
    """
    key: bytes = _collator(locale).getSortKey(text)
    return key.decode("latin-1")


def collated(locale: str, items: list[T], name: Callable[[T], str]) -> list[T]:
    """``items`` sorted by ``name(item)`` in ``locale``'s order (a short list; a long one is an ordering)."""
    return sorted(items, key=lambda item: sort_key(locale, name(item)))
