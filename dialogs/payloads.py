"""Typed card data: a verb that reads a form declares the shape of its data as a dataclass
(``@action(..., payload=Shape)``), and the data of every click is read here, in one place, before
the handler runs.

A field is declared with :func:`text` (what an input may hold: text, at most so long; a form that
shows what was typed again may ``keep`` the first part of a longer paste, as its input would),
:func:`page` (a page number), :func:`carried` (a word a button carries) or :func:`carried_words`
(words a button carries to hand back to another verb). A card that shows one form per row names each
row's input after the row (``person-{benefit_id}``): the field's ``key`` says so with the carried
value in braces, and the click's own data fills it in, as ``@action``'s ``inputs`` do. A value of another JSON
type (a list, an object, ``true``) or a text longer than the input allows is refused with a
localized message that names the field as the person sees it (``fields.<label>``: "the alternate
email address", never ``alternate_email``) and quotes at most a short excerpt of what came. What
the value *means* (an email address, a Partner Center number) stays with the domain's rules, which
the handler applies and answers in its form.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

from cards.paging import page_number
from domain import errors
from domain.errors import RuleViolation, excerpt

T = TypeVar("T")
_SPEC = "payload"


@dataclass(frozen=True)
class _Text:
    label: str
    max_length: int
    keys: tuple[str, ...]
    keep: bool


@dataclass(frozen=True)
class _Page:
    key: str


@dataclass(frozen=True)
class _Carried:
    key: str
    default: str


@dataclass(frozen=True)
class _CarriedWords:
    key: str


def text(label: str, max_length: int, key: str | tuple[str, ...] = "", keep: bool = False) -> Any:
    """A text input: ``label`` names it in the catalog (``fields.<label>``); ``key`` is its id in the
    card's data when it differs from the attribute's name, or the ids it may have, the first one that
    holds something read (an id may name a carried value in braces: ``person-{benefit_id}``);
    ``keep``: a longer text is cut to ``max_length`` instead of refused. Absent or ``null``: empty."""
    keys = (key,) if isinstance(key, str) else key
    return field(default="", metadata={_SPEC: _Text(label, max_length, tuple(k for k in keys if k), keep)})


def page(key: str = "page") -> Any:
    """A page number carried by a button: anything that is not a whole number is the first page."""
    return field(default=0, metadata={_SPEC: _Page(key)})


def carried(key: str, default: str = "") -> Any:
    """A word a button carries (never typed by the person): anything but text is ``default``."""
    return field(default=default, metadata={_SPEC: _Carried(key, default)})


def carried_words(key: str) -> Any:
    """Words a button carries under ``key`` as an object: those whose name and value are text."""
    return field(default_factory=dict, metadata={_SPEC: _CarriedWords(key)})


@dataclass(frozen=True)
class NoData:
    """A click (or a text command) that starts a verb which reads nothing from it."""


@dataclass(frozen=True)
class PageClick:
    """A click (or a text command) that asks for one page of a list and nothing else."""

    page: int = field(default=0, metadata={_SPEC: _Page("page")})


def parse(shape: type[T], data: dict[str, Any]) -> T:
    """``data`` read into ``shape``; raises ``RuleViolation`` naming the first bad field."""
    values: dict[str, Any] = {}
    for declared in fields(shape):  # type: ignore[arg-type]
        spec = declared.metadata.get(_SPEC)
        if isinstance(spec, _Text):
            values[declared.name] = _text(_typed(data, spec.keys or (declared.name,)), spec)
        elif isinstance(spec, _Page):
            values[declared.name] = page_number(data.get(spec.key))
        elif isinstance(spec, _Carried):
            given = data.get(spec.key)
            values[declared.name] = given if isinstance(given, str) and given else spec.default
        elif isinstance(spec, _CarriedWords):
            words = data.get(spec.key)
            values[declared.name] = {k: v for k, v in words.items() if isinstance(k, str) and isinstance(v, str)} \
                if isinstance(words, dict) else {}
        elif declared.default is MISSING and declared.default_factory is MISSING:
            raise TypeError(f"{shape.__name__}.{declared.name} is not declared with text(), page(), carried() "
                            "or carried_words()")
    return shape(**values)


def _typed(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The value under the first of ``keys`` that holds one; a key naming a carried value the click
    does not carry (as text) names no input."""
    for pattern in keys:
        try:
            key = pattern.format_map(_Words(data))
        except LookupError:
            continue
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


class _Words(dict[str, str]):
    """The click's carried words, for filling in an input's id (``{benefit_id}``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__((k, v) for k, v in data.items() if isinstance(v, str) and v)


def _text(value: Any, spec: _Text) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RuleViolation(errors.NOT_TEXT, field=spec.label, value=excerpt(json.dumps(value, ensure_ascii=False)))
    typed = value if isinstance(value, str) else str(value)
    if len(typed) > spec.max_length:
        if spec.keep:
            return typed[:spec.max_length]
        raise RuleViolation(errors.TOO_LONG, field=spec.label, max=spec.max_length)
    return typed
