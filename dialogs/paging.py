"""What a paged, searchable list's verb reads from a click: the page, and the search box only when its
own *Find* button was clicked (every other button of the list carries the search in its data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.paging import FIND, MAX_QUERY, QUERY_INPUT
from dialogs import payloads


def search_inputs(data: dict[str, Any]) -> tuple[str, ...]:
    """The inputs a list verb reads: the search box, when its own button sent it."""
    return (QUERY_INPUT,) if data.get(FIND) else ()


@dataclass(frozen=True)
class SearchClick:
    """A page of a searchable list: the box (or the search its buttons carry), or a text command's
    argument; a search is cut as the box would cut it."""

    query: str = payloads.text("search", MAX_QUERY, key=QUERY_INPUT, keep=True)
    argument: str = payloads.text("search", MAX_QUERY, keep=True)
    #: its own Find button carries 1: the search box was sent, and its first page is asked for
    find: int = payloads.page(FIND)
    page: int = payloads.page()


def asked(click: SearchClick) -> tuple[int, str]:
    """(page number, search) asked for by a click or a text command's argument."""
    query = " ".join(click.query.split())[:MAX_QUERY] or " ".join(click.argument.split())[:MAX_QUERY]
    return (0 if click.find else click.page), query
