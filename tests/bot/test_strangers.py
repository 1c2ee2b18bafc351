"""People the directory does not know are served as employees with no holdings and never listed.

A stranger may call himself anything: he does not become a second "Alex Wilber" in the people pickers,
cannot take a listed person's id, and gets nothing but an employee's answers. Someone an admin added
by email is recognized by the email Teams reports and keeps one entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from bot import keys
from domain.models import Role
from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, LEE, BotClient, all_text, bot_settings, cards_in, start_bot

STRANGER = {"id": "29:1-stranger", "name": "Alex Wilber", "aadObjectId": "aad-stranger"}


def pickers(card: Any) -> list[list[str]]:
    """The choice titles of each ChoiceSet of a card."""
    found: list[list[str]] = []
    if isinstance(card, dict):
        if card.get("type") == "Input.ChoiceSet":
            found.append([c["title"] for c in card.get("choices", [])])
        for value in card.values():
            found += pickers(value)
    elif isinstance(card, list):
        for value in card:
            found += pickers(value)
    return found


async def test_a_stranger_is_served_as_an_employee_and_never_listed(bot: BotClient) -> None:
    people = {p.id for p in bot.service.repo.people()}
    help_card = cards_in(await bot.say(STRANGER, "help"))[0]
    assert "Users and permissions" not in all_text(help_card)
    mine = all_text(cards_in(await bot.say(STRANGER, "my benefits"))[0])
    assert "you don't hold any benefit yet" in mine
    refused = await bot.say(STRANGER, "users")
    assert not cards_in(refused) and "global admin" in refused[0]["text"]
    assert {p.id for p in bot.service.repo.people()} == people
    assert [p.name for p in bot.service.repo.people()].count("Alex Wilber") == 1
    people_pickers = [p for p in pickers(cards_in(await bot.say(ALEX, "visual studio"))[0])
                      if any(t.startswith("Lee Gu") for t in p)]
    assert people_pickers and all(len([t for t in p if t.startswith("Alex Wilber")]) == 1 for p in people_pickers)


async def test_a_stranger_cannot_take_a_listed_persons_id(bot: BotClient) -> None:
    service = bot.service
    await bot.say(LEE, "help")
    status, _, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                           "person_id": LEE["aadObjectId"]})
    holder = service.repo.person(LEE["aadObjectId"])
    assert status == 200 and holder is not None and service.holdings(holder)
    impostor = {"id": holder.id, "name": holder.name}  # no Entra id; the holder's directory id as Teams id
    # Lee's seat notice may arrive in the same moment: read the answer to "my benefits" among the cards
    answers = [all_text(c) for c in cards_in(await bot.say(impostor, "my benefits"))]
    assert any("you don't hold any benefit yet" in a for a in answers), answers
    book = bot.app[keys.BOT].conversations
    assert book.reference(holder.id)["conversation"]["id"] == f"a:personal-{holder.teams_id}"
    assert service.repo.person(holder.id) == holder


async def test_someone_added_by_an_admin_is_recognized_by_email(bot: BotClient) -> None:
    status, _, _ = await bot.execute(ALEX, "add_user", {"new_name": "Pat Lee", "new_email": "pat@contoso.com"})
    assert status == 200
    pat = {"id": "29:1-pat", "name": "Pat L.", "aadObjectId": "aad-pat"}
    bot.connector.members[pat["id"]] = {**pat, "email": "Pat@contoso.com", "userPrincipalName": "pat@contoso.com"}
    count = len(bot.service.repo.people())
    assert cards_in(await bot.say(pat, "help"))
    assert len(bot.service.repo.people()) == count
    entry = bot.service.repo.person_by_email("pat@contoso.com")
    assert entry is not None and entry.name == "Pat Lee"
    assert entry.aad_object_id == "aad-pat" and entry.teams_id == "29:1-pat"


async def test_someone_named_by_global_admins_is_listed_as_global_admin(connector: FakeConnector,
                                                                       data_dir: Path) -> None:
    runner, base = await start_bot(bot_settings(data_dir, GLOBAL_ADMINS="kim@contoso.com"))
    kim = {"id": "29:1-kim", "name": "Kim Akers", "aadObjectId": "aad-kim"}
    connector.members[kim["id"]] = {**kim, "email": "kim@contoso.com", "userPrincipalName": "kim@contoso.com"}
    async with ClientSession() as session:
        client = BotClient(base, connector, session, app=runner.app)
        assert cards_in(await client.say(kim, "users"))  # a Global admin's card, not a refusal
        person = client.service.repo.person_by_email("kim@contoso.com")
        assert person is not None and person.id == "aad-kim" and person.has(Role.GLOBAL_ADMIN)
    await runner.cleanup()
