"""Teams' member list fills the local directory (when Microsoft Graph is not configured).

When the bot joins a team or a group chat it reads the whole roster (paged), and when people join
later it reads them from the activity: everyone becomes choosable in the assign pickers without an
admin typing names. Known people keep their roles; only missing ids, names and emails are filled in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema.teams import TeamsChannelAccount

from domain.models import Person
from services.benefits import BenefitsService

log = logging.getLogger(__name__)
PAGE_SIZE = 200
MAX_PAGES = 100  # 20,000 members: far beyond a team's limit, a bound against a looping continuation


def person_of(member: TeamsChannelAccount) -> Person | None:
    """A directory entry for a Teams member (None for bots and members without an Entra id)."""
    aad = member.aad_object_id or ""
    if not aad:
        return None
    email = (member.email or member.user_principal_name or "").lower()
    return Person(id=aad, name=member.name or email, email=email, aad_object_id=aad, teams_id=member.id or "")


async def remember_members(service: BenefitsService, members: Iterable[TeamsChannelAccount]) -> int:
    count = 0
    for member in members:
        person = person_of(member)
        if person is not None:
            await service.upsert_person(person)
            count += 1
    return count


async def sync_roster(context: TurnContext, service: BenefitsService) -> int:
    """Read every member of the conversation (all pages) into the directory; returns how many."""
    token: str | None = None
    total = 0
    try:
        for _ in range(MAX_PAGES):
            page = await TeamsInfo.get_paged_members(context, token, PAGE_SIZE)
            total += await remember_members(service, page.members or [])
            token = page.continuation_token
            if not token:
                break
    except Exception:
        log.warning("roster sync failed", extra={"activity_id": context.activity.id, "members_read": total})
    return total
