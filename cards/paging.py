"""A page of a long list, and the way to the next, the previous and a search.

Every card that lists people, seats, requests, notifications or changes shows one page of them: a
directory of 150,000 people must never reach a card (Teams refuses one much over 80 KB). The caller
reads the page from the service (a sorted index answers it without reading everyone) and hands it
here with what the list is called; the buttons carry the page number and the search, and nothing
else, so they work with whatever else the card holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cards.base import card, execute, leave, text
from services.i18n import Translator

T = TypeVar("T")

#: Rows a page shows: enough to scan at a glance, few enough that the largest row keeps a card small.
PAGE_SIZE = 10
#: The search box's input id (the verb of a searchable list declares it as its only input).
QUERY_INPUT = "query"
#: What a search may hold: a name or an email, never a pasted essay.
MAX_QUERY = 120
#: In the data of the search form's own button: only that button sends (and the verb reads) the box.
FIND = "find"


@dataclass(frozen=True)
class Page(Generic[T]):
    """``rows``: what this page shows; ``total``: how many match in all; ``number``: from 0."""

    rows: Sequence[T]
    total: int
    number: int = 0
    query: str = ""
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return self.number * self.size


def page_number(value: Any) -> int:
    """The page a button asked for (anything else: the first)."""
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def clamp(number: int, total: int, size: int = PAGE_SIZE) -> int:
    """``number`` within the pages ``total`` rows make (a stale Next after rows went away: the last)."""
    return min(max(0, number), max(1, math.ceil(total / size)) - 1)


def query_of(data: dict[str, Any]) -> str:
    """The search a button or the search box sent, trimmed and bounded."""
    return " ".join(str(data.get(QUERY_INPUT) or "").split())[:MAX_QUERY]


def page_data(page: Page[Any], number: int, extra: dict[str, Any] | None = None, key: str = "page") -> dict[str, Any]:
    """What a button needs to show page ``number`` of the same list (the same search)."""
    data: dict[str, Any] = {**(extra or {}), key: number}
    if page.query:
        data[QUERY_INPUT] = page.query
    return data


def pager(t: Translator, page: Page[Any], verb: str, what: str, extra: dict[str, Any] | None = None,
          key: str = "page") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The "page x of y" line and the Previous/Next buttons (named after ``what`` they page through,
    so that two lists on one screen are told apart by a screen reader); ``key``: the data naming the
    page, for a card with two lists."""
    if page.pages <= 1:
        return [], []
    line = [text(t("paging.page", page=page.number + 1, pages=page.pages), isSubtle=True, size="Small")]
    buttons: list[dict[str, Any]] = []
    if page.number > 0:
        buttons.append(leave(t("paging.previous", what=what), verb, page_data(page, page.number - 1, extra, key)))
    if page.number + 1 < page.pages:
        buttons.append(leave(t("paging.next", what=what), verb, page_data(page, page.number + 1, extra, key)))
    return line, buttons


def search_lines(t: Translator, page: Page[Any]) -> list[dict[str, Any]]:
    """What the list shows: everyone, or what a search found (and that it found nothing)."""
    if not page.query:
        return []
    key = "paging.found" if page.total else "paging.nothing_found"
    return [text(t(key, query=page.query, count=page.total), weight="Bolder")]


def search_action(t: Translator, page: Page[Any], verb: str, what: str,
                  extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The search form in its own ``Action.ShowCard`` (what is typed there is sent only by its own
    button), and, while a search is shown, the way back to the whole list."""
    box = {"type": "Input.Text", "id": QUERY_INPUT, "label": t("paging.search_label"), "maxLength": MAX_QUERY,
           "placeholder": t("paging.search_hint")}
    if page.query:
        box["value"] = page.query
    form = card([box], [execute(t("paging.find", what=what), verb, {**(extra or {}), "page": 0, FIND: 1})])
    form.pop("msteams", None)
    form.pop("$schema", None)
    actions: list[dict[str, Any]] = [{"type": "Action.ShowCard", "title": t("paging.search", what=what),
                                      "card": form}]
    if page.query:
        actions.append(leave(t("paging.everyone", what=what), verb, {**(extra or {}), "page": 0}))
    return actions
