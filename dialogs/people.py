"""Who a card's person field names: our directory's id, the Teams people picker's Entra id, or an email.

With Microsoft Graph configured, someone the bot has not met yet (picked with the Teams people
picker) is read from the directory and added to our people table, with their company email — which
the alternate-email rule compares against. Without Graph, only people the bot knows can be chosen.
"""

from __future__ import annotations

import logging

from dialogs.turn import Turn
from domain.models import Person
from services.identity import DirectoryError

log = logging.getLogger(__name__)


def known_person(turn: Turn, value: str) -> Person | None:
    repo = turn.service.repo
    value = value.strip()
    if not value:
        return None
    return (repo.person(value) or repo.person_by("aad_object_id", value) or repo.person_by("teams_id", value)
            or (repo.person_by_email(value) if "@" in value else None))


async def resolve_person(turn: Turn, value: str) -> Person | None:
    """The person a card names, looked up in our table first, then in the directory (Graph)."""
    person = known_person(turn, value)
    directory = turn.directory
    if person is not None or not value.strip() or directory is None:
        return person
    if not directory.authoritative_roles:
        return None  # the local directory is our own table: nothing more to find
    try:
        found = await directory.get(value.strip())
    except DirectoryError:
        log.warning("directory lookup failed", extra={"activity_id": turn.context.activity.id})
        return None
    return await turn.service.upsert_person(found) if found is not None else None
