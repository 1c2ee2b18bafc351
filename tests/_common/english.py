"""Finds English UI words in what a zh-CN / zh-TW person reads in a card.

Only what the renderer shows counts (text, titles, labels, placeholders, error messages, tooltips,
fact values, choice titles); data payloads, verbs, URLs and ids never reach the eye. Brand and
product names, people, emails, URLs and product keys are allowed; the brand list is small and
explicit, so a new English word in a Chinese card fails until it is either translated or, being a
brand, added here on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

#: Brand and product names Partner Center itself leaves in Latin script in its zh-CN / zh-TW pages.
BRANDS = (
    "Microsoft 365 Apps", "Microsoft 365", "Microsoft Azure", "Microsoft", "Visual Studio", "Azure",
    "Dynamics 365 Sales", "Dynamics 365", "Windows Server", "Office", "Action Pack", "Teams", "MPN ID", "MPN", "ISV",
    "OS",
)
#: Keys of a card node whose string values a person reads.
_SHOWN = ("text", "title", "label", "placeholder", "errorMessage", "tooltip", "altText")
_URL = re.compile(r"https?://\S+|\]\([^)]*\)|\b(?:[A-Za-z0-9-]+\.)+(?:com|net|org|io)\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PRODUCT_KEY = re.compile(r"\b[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}\b")
_REFERENCE = re.compile(r"\b[A-Z]{2}-\d{8}-[0-9A-F]{6}\b")
_WORD = re.compile(r"[A-Za-z]{2,}")


def shown_texts(node: Any, parent: str = "") -> Iterator[str]:
    """Every string of a card that the renderer shows."""
    if isinstance(node, dict):
        if node.get("type") == "Action.OpenUrl" and parent == "selectAction":
            return
        for key, value in node.items():
            if key in ("data", "url", "choices.data", "$schema", "msteams", "id", "verb", "type"):
                continue
            if isinstance(value, str):
                if key in _SHOWN or (key == "value" and (parent == "facts" or node.get("type") == "Input.Text")):
                    yield value
            else:
                yield from shown_texts(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from shown_texts(item, parent)


def english_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Latin-script words left once brands, the ``allowed`` names, URLs, emails and keys are removed."""
    rest = _EMAIL.sub(" ", text)
    rest = _URL.sub(" ", rest)
    rest = _PRODUCT_KEY.sub(" ", rest)
    rest = _REFERENCE.sub(" ", rest)
    for name in sorted((*BRANDS, *allowed), key=len, reverse=True):
        if name:
            rest = re.sub(re.escape(name), " ", rest, flags=re.I)
    return _WORD.findall(rest)


def english_in_card(card: Any, allowed: Iterable[str] = ()) -> dict[str, list[str]]:
    """``{shown text: [English words]}`` for every shown text of the card that has any."""
    names = tuple(allowed)
    found: dict[str, list[str]] = {}
    for text in shown_texts(card):
        words = english_words(text, names)
        if words:
            found[text] = words
    return found
