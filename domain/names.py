"""People's names: one normal form, and no one who merely looks like someone already listed.

Why: names are chosen from people pickers and read in admins' cards. A name with invisible
characters (``Diego\\u200b Siciliani``), another script's look-alike letters (Cyrillic ``а`` for
Latin ``a``) or a digit for a letter would sit beside the real person and be picked in their
place, so admins adding people get a clear refusal instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from domain import errors
from domain.errors import RuleViolation
from domain.models import Person

MAX_NAME_LENGTH = 120
#: Unicode categories dropped from names: controls, format characters (zero-width spaces and
#: joiners, bidirectional overrides), surrogates, private use and unassigned code points.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
#: Letters of other scripts (after case folding) that look like Latin ones.
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "г": "r", "һ": "h", "н": "h", "і": "l", "ї": "l", "ј": "j",
    "к": "k", "м": "m", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ь": "b", "ӏ": "l", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "l", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ı": "l", "ɡ": "g", "ℓ": "l",
    "0": "o", "1": "l", "i": "l", "|": "l", "5": "s",
})
#: Letter pairs that read as one letter at a glance.
_DIGRAPHS = (("rn", "m"), ("vv", "w"))


def _normal_form(value: str) -> str:
    text = unicodedata.normalize("NFKC", value)
    text = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace()
                   or unicodedata.category(ch) not in _DROPPED)
    return " ".join(text.split())


def normalize_name(value: str, field: str = "name") -> str:
    """``value`` in NFKC, without control or format characters, its spaces collapsed.

    Raises:
        RuleViolation: empty, longer than :data:`MAX_NAME_LENGTH`, or without a single letter.
    """
    text = _normal_form(value)
    if not text:
        raise RuleViolation(errors.MISSING_FIELD, field=field)
    if len(text) > MAX_NAME_LENGTH:
        raise RuleViolation(errors.TOO_LONG, field=field, max=MAX_NAME_LENGTH)
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise RuleViolation(errors.INVALID_NAME)
    return text


def display_name(value: str) -> str:
    """A name from a trusted source (Entra, the Teams roster) in normal form, cut to the bound."""
    return _normal_form(value)[:MAX_NAME_LENGTH].rstrip()


def skeleton(name: str) -> str:
    """What ``name`` looks like, ignoring case, accents, spacing, punctuation and look-alike letters:
    two names with the same skeleton are hard to tell apart in a list."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED
                   and not unicodedata.category(ch).startswith("M"))
    text = "".join(ch for ch in text.translate(_CONFUSABLE) if ch.isalnum())
    for pair, letter in _DIGRAPHS:
        text = text.replace(pair, letter)
    return text


def require_distinct_name(name: str, people: Iterable[Person], person_id: str = "") -> None:
    """Refuse ``name`` if it looks like the name of someone else already in the directory."""
    key = skeleton(name)
    for person in people:
        if person.id != person_id and person.name and skeleton(person.name) == key:
            raise RuleViolation(errors.NAME_LOOKS_LIKE, name=name, existing=person.name, email=person.email)
