"""Proactive installation: a notification for someone who never opened the bot installs the app for
them through Microsoft Graph (the local Graph of the identity fakes), waits for Teams' installationUpdate,
then goes out; without the permission admins are told who could not be reached and why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.notifier import NOTIFICATIONS
from services.notifications.events import ACTIVATED
from services.notifications.outbox import Notification
from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import GLOBAL_ADMIN_TEMPLATE, FakeIdentity
from tests._common.harness import ALEX, NESTOR, BotClient, all_text, bot_settings, cards_in, start_bot

TEAMS_APP_ID = "7d9a1c58-0000-4000-8000-00000000a99f"
CATALOG_ID = "cat-0001"
NESTOR_ID = NESTOR["aadObjectId"]
NOTICE = {"benefit": "Visual Studio Enterprise", "assignee": "Nestor Wilke", "status": "active",
          "activated_on": "2026-11-29", "category": "visual_studio", "role": "assignee"}


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity().start()
    fake.users = [{"id": p["aadObjectId"], "displayName": p["name"], "mail": f"{p['name'].split()[0].lower()}"
                   "@contoso.com", "userPrincipalName": f"{p['name'].split()[0].lower()}@contoso.com"}
                  for p in (ALEX, NESTOR)]
    fake.roles = {ALEX["aadObjectId"]: [GLOBAL_ADMIN_TEMPLATE]}
    fake.catalog = {CATALOG_ID: TEAMS_APP_ID}
    fake.installed_apps = {ALEX["aadObjectId"]: [CATALOG_ID]}
    yield fake
    fake.stop()


@pytest.fixture
async def bot(identity: FakeIdentity, connector: FakeConnector, data_dir: Path) -> AsyncIterator[BotClient]:
    settings = bot_settings(data_dir, **identity.settings(SEED_DEMO="true", GRAPH_ENABLED="true",
                                                          TEAMS_APP_ID=TEAMS_APP_ID, NOTIFY_INSTALL_WAIT_SECONDS="0.1"))
    runner, base = await start_bot(settings)
    async with ClientSession() as session:
        client = BotClient(base, connector, session, app=runner.app,
                           headers={"Authorization": f"Bearer {identity.mint(connector.url)}"})
        yield client
    await runner.cleanup()


async def until(predicate: Callable[[], bool], seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def state_of(bot: BotClient, recipient: str) -> dict[str, object]:
    docs = [d for d in bot.app[NOTIFICATIONS].outbox.store.all("outbox") if d["recipient"] == recipient]
    assert len(docs) == 1
    return docs[0]


async def notify_nestor(bot: BotClient) -> None:
    await bot.say(ALEX, "help")  # Alex has the app: the catalog id is found through his installation
    await bot.app[NOTIFICATIONS].outbox.enqueue([Notification("test:install", NESTOR_ID, ACTIVATED, NOTICE)])


async def test_someone_without_the_app_gets_it_installed_then_the_notice(bot: BotClient,
                                                                         identity: FakeIdentity) -> None:
    await notify_nestor(bot)
    await until(lambda: identity.install_requests == [(NESTOR_ID, CATALOG_ID)])
    await until(lambda: state_of(bot, NESTOR_ID).get("reason") == "install_requested")
    assert state_of(bot, NESTOR_ID)["state"] == "pending"
    before = len(bot.connector.sent)
    # Teams tells the bot about the new personal chat, as it does after a Graph installation
    status, _ = await bot.post(bot.activity(NESTOR, type="installationUpdate", action="add"))
    assert status in (200, 201)
    await until(lambda: state_of(bot, NESTOR_ID)["state"] == "delivered")
    to_nestor = [a for a in bot.connector.sent[before:] if a["conversation"]["id"] == f"a:personal-{NESTOR['id']}"]
    assert to_nestor and "Visual Studio Enterprise" in all_text(cards_in(to_nestor)[-1])
    assert identity.install_requests == [(NESTOR_ID, CATALOG_ID)]  # installed once


async def test_without_the_permission_admins_see_who_and_why(bot: BotClient, identity: FakeIdentity) -> None:
    await bot.say(ALEX, "help")
    identity.graph_failures = [403] * 8
    await bot.app[NOTIFICATIONS].outbox.enqueue([Notification("test:install", NESTOR_ID, ACTIVATED, NOTICE)])
    await until(lambda: state_of(bot, NESTOR_ID)["state"] == "undeliverable")
    assert state_of(bot, NESTOR_ID)["reason"] == "install_not_permitted"
    identity.graph_failures = []
    replies = await bot.say(ALEX, "notifications")
    text = " ".join(all_text(c) for c in cards_in(replies))
    assert "Nestor Wilke" in text and "TeamsAppInstallation.ReadWriteSelfForUser.All" in text
