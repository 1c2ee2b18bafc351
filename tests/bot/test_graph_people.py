"""With Microsoft Graph, the Teams people picker can name someone the bot never met: they are read from
the directory (with their company email, which the alternate-email rule compares against)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import FakeIdentity
from tests._common.harness import ALEX, BotClient, bot_settings, start_bot

NEWCOMER = {"id": "11111111-2222-3333-4444-555555555555", "displayName": "Pradeep Gupta",
            "mail": "pradeepg@contoso.com", "userPrincipalName": "pradeepg@contoso.com"}


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity(users=[NEWCOMER]).start()
    yield fake
    fake.stop()


@pytest.fixture
async def graph_bot(connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> AsyncIterator[BotClient]:
    runner, base = await start_bot(bot_settings(data_dir, **identity.settings(GRAPH_ENABLED="true")))
    async with ClientSession() as session:
        client = BotClient(base, connector, session, app=runner.app)
        client.headers = {"Authorization": "Bearer " + identity.mint(connector.url)}
        yield client
    await runner.cleanup()


async def test_a_person_picked_from_graph_is_added_and_assigned(graph_bot: BotClient) -> None:
    assert graph_bot.service.repo.person(NEWCOMER["id"]) is None
    status, _, _ = await graph_bot.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                                   "person_id": NEWCOMER["id"], "nonce": "n1"})
    assert status == 200
    person = graph_bot.service.repo.person(NEWCOMER["id"])
    assert person is not None and person.email == "pradeepg@contoso.com"
    assert any(a.benefit_id == "vs-enterprise" for a in graph_bot.service.repo.assignments_of_person(person.id))


async def test_the_company_email_from_graph_is_refused_as_alternate_email(graph_bot: BotClient) -> None:
    status, body, sent = await graph_bot.execute(ALEX, "assign_user", {
        "benefit_id": "tech-support", "person_id": NEWCOMER["id"], "alternate_email": "PradeepG@contoso.com",
        "nonce": "n2"})
    assert status == 200
    assert not graph_bot.service.repo.assignments_of_benefit("tech-support")
    assert "different from the email address" in str(body) + str(sent)


async def test_an_unknown_id_is_refused(graph_bot: BotClient) -> None:
    status, body, sent = await graph_bot.execute(ALEX, "assign_user", {
        "benefit_id": "vs-enterprise", "person_id": "99999999-0000-0000-0000-000000000000", "nonce": "n3"})
    assert status == 200 and not graph_bot.service.repo.assignments_of_benefit("vs-enterprise")
    assert "can't find that person" in str(body) + str(sent)
