"""Typed card data: a verb that reads a form declares the shape of its data as a dataclass
(``@action(..., payload=Shape)``), and the data of every click is read here, in one place, before
the handler runs.

A field is declared with :func:`text` (what an input may hold: text, at most so long; a form that
shows what was typed again may ``keep`` the first part of a longer paste, as its input would),
:func:`page` (a page number) or :func:`carried` (a word a button carries). A value of another JSON
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
    key: str
    keep: bool


@dataclass(frozen=True)
class _Page:
    key: str


@dataclass(frozen=True)
class _Carried:
    key: str
    default: str


def text(label: str, max_length: int, key: str = "", keep: bool = False) -> Any:
    """A text input: ``label`` names it in the catalog (``fields.<label>``); ``key`` is its id in the
    card's data when it differs from the attribute's name; ``keep``: a longer text is cut to
    ``max_length`` instead of refused. Absent or ``null``: empty."""
    return field(default="", metadata={_SPEC: _Text(label, max_length, key, keep)})


def page(key: str = "page") -> Any:
    """A page number carried by a button: anything that is not a whole number is the first page."""
    return field(default=0, metadata={_SPEC: _Page(key)})


def carried(key: str, default: str = "") -> Any:
    """A word a button carries (never typed by the person): anything but text is ``default``."""
    return field(default=default, metadata={_SPEC: _Carried(key, default)})


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
            values[declared.name] = _text(data.get(spec.key or declared.name), spec)
        elif isinstance(spec, _Page):
            values[declared.name] = page_number(data.get(spec.key))
        elif isinstance(spec, _Carried):
            given = data.get(spec.key)
            values[declared.name] = given if isinstance(given, str) and given else spec.default
        elif declared.default is MISSING and declared.default_factory is MISSING:
            raise TypeError(f"{shape.__name__}.{declared.name} is not declared with text(), page() or carried()")
    return shape(**values)


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
