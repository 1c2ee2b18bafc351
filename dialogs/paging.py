"""What a paged, searchable list's verb reads from a click: the page, and the search box only when its
own *Find* button was clicked (every other button of the list carries the search in its data)."""

from __future__ import annotations

from typing import Any

from cards.paging import FIND, MAX_QUERY, QUERY_INPUT, page_number, query_of


def search_inputs(data: dict[str, Any]) -> tuple[str, ...]:
    """The inputs a list verb reads: the search box, when its own button sent it."""
    return (QUERY_INPUT,) if data.get(FIND) else ()


def asked(data: dict[str, Any]) -> tuple[int, str]:
    """(page number, search) asked for by a click or a text command's argument."""
    query = query_of(data) or " ".join(str(data.get("argument") or "").split())[:MAX_QUERY]
    return (0 if data.get(FIND) else page_number(data.get("page"))), query
