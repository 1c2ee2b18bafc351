"""The person who gets (or loses) a seat or becomes the marketing contact is told in Teams, in their
language, with the seeds' "how to start", through the durable outbox, once.

Real clicks over HTTP to the app on loopback; what the fake connector receives in each person's
1:1 chat is the proof. Lee speaks zh-CN, Nestor zh-TW, Alex en-US.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot.notifier import NOTIFICATIONS
from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, LEE, MEGAN, NESTOR, BotClient, all_text, bot_settings, cards_in, start_bot
from tests.bot.test_notify import until

ALEX_ID, LEE_ID, NESTOR_ID, MEGAN_ID = (u["aadObjectId"] for u in (ALEX, LEE, NESTOR, MEGAN))


def chat(user: dict[str, Any]) -> str:
    return f"a:personal-{user['id']}"


def received(bot: BotClient, user: dict[str, Any]) -> list[dict[str, Any]]:
    return cards_in([s for s in bot.connector.sent if s["_conversation"] == chat(user)])


def outbox(bot: BotClient) -> list[dict[str, Any]]:
    return bot.app[NOTIFICATIONS].outbox.store.all("outbox")


async def meet(bot: BotClient) -> None:
    """Everyone has talked to the bot (so it can reach them) and chosen a language."""
    await bot.say(ALEX, "help")
    await bot.say(MEGAN, "help")
    await bot.say(LEE, "language zh-CN")
    await bot.say(NESTOR, "language zh-TW")
    bot.connector.clear()


async def told(bot: BotClient, user: dict[str, Any], count: int = 1) -> list[str]:
    await until(lambda: len(received(bot, user)) >= count)
    return [all_text(c) for c in received(bot, user)]


async def test_visual_studio_seat_and_its_removal_are_told_in_zh_cn(bot: BotClient) -> None:
    await meet(bot)
    nonce = "card-1:assign_user:vs-professional"
    data = {"benefit_id": "vs-professional", "person_id": LEE_ID, "nonce": nonce}
    await bot.execute(ALEX, "assign_user", data)
    await bot.execute(ALEX, "assign_user", data)  # a double click tells nobody twice
    [card] = await told(bot, LEE)
    assert "已为你分配 Visual Studio 专业版订阅" in card
    assert "用户可以在 Visual Studio 门户中管理其订阅。" in card and "Alex Wilber" in card
    assert "https://my.visualstudio.com" in json.dumps(received(bot, LEE)[0])
    assignment = next(a for a in bot.service.repo.assignments_of_benefit("vs-professional") if a.is_current)
    await bot.execute(ALEX, "remove_assignment", {"assignment_id": assignment.id, "confirm": "yes"})
    cards = await told(bot, LEE, 2)
    assert "Visual Studio 专业版订阅 已不再分配给你" in cards[1]
    assert "Alex Wilber 移除了你的 Visual Studio 专业版订阅 席位" in cards[1]
    await asyncio.sleep(0.2)
    assert len(received(bot, LEE)) == 2 and not received(bot, ALEX)
    assert sorted(d["kind"] for d in outbox(bot)) == ["assigned", "unassigned"]
    assert {d["state"] for d in outbox(bot)} == {"delivered"}


async def test_technical_benefit_tells_the_days_and_the_alternate_address_in_zh_tw(bot: BotClient) -> None:
    await meet(bot)
    await bot.execute(ALEX, "assign_user", {"benefit_id": "tech-support", "person_id": NESTOR_ID,
                                            "alternate_email": "nestor.alt@example.com"})
    [card] = await told(bot, NESTOR)
    assert "已將 Microsoft 產品支援事件 指派給您" in card
    assert "可能需要數天來啟用這個權益及透過電子郵件傳送指示給受指派的使用者。" in card
    assert "nestor.alt@example.com" in card
    assert "啟用後我會在這裡通知您。" in card


async def test_azure_usage_based_points_to_the_azure_portal_in_en_us(bot: BotClient) -> None:
    await meet(bot)
    await bot.execute(ALEX, "assign_user", {"benefit_id": "cloud-azure-credit", "person_id": ALEX_ID})
    [card] = await told(bot, ALEX)
    assert "You have been assigned" in card and "Go to the Microsoft Azure portal to manage the subscription." in card
    assert "https://portal.azure.com/#home" in json.dumps(received(bot, ALEX)[0])


async def test_the_marketing_contact_and_the_one_replaced_are_told(bot: BotClient) -> None:
    await meet(bot)
    form = {"alternate_email": "marketing@outlook.com", "phone": "+1 425 555 0100", "preferred_language": "en-US"}
    await bot.execute(MEGAN, "set_marketing_contact", {**form, "person_id": LEE_ID})
    [card] = await told(bot, LEE)
    assert "你现在是公司营销联系人" in card and "此联系人将收到有关现行市场投放权益的跟进信件。" in card
    assert "向指定的营销联系人发送电子邮件说明和激活市场投放权益可能需要几天的时间。" in card
    await bot.execute(MEGAN, "set_marketing_contact", {**form, "person_id": LEE_ID, "phone": "+1 425 555 0199"})
    await bot.execute(MEGAN, "set_marketing_contact", {**form, "person_id": NESTOR_ID})
    [nestor] = await told(bot, NESTOR)
    assert "您現在是公司行銷連絡人" in nestor and "此連絡人將會收到有關您作用中進入市場供應項目的後續通訊。" in nestor
    cards = await told(bot, LEE, 2)
    assert "你已不再是公司营销联系人" in cards[1] and "Nestor Wilke" in cards[1]
    assert "+1 425 555" not in cards[1]  # the new contact's details are not the old one's business
    await asyncio.sleep(0.2)
    assert len(received(bot, LEE)) == 2  # updating Lee's phone told nobody


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as s:
        yield s


async def test_a_notice_owed_at_shutdown_is_sent_once_after_the_restart(
        connector: FakeConnector, data_dir: Path, session: ClientSession) -> None:
    async def start() -> tuple[web.AppRunner, BotClient]:
        runner, base = await start_bot(bot_settings(data_dir))
        return runner, BotClient(base, connector, session, app=runner.app)

    runner, bot = await start()
    await meet(bot)
    connector.script[chat(LEE)] = [429]
    connector.retry_after = "30"  # longer than this run lasts
    await bot.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise", "person_id": LEE_ID})
    await until(lambda: [d["state"] for d in outbox(bot)] == ["pending"] and outbox(bot)[0]["attempts"] == 1)
    await runner.cleanup()
    assert not received(bot, LEE)
    doc = outbox(bot)[0]
    doc_id = doc.pop("id")
    runner, bot = await start()
    try:  # the restarted bot finds the notice owed (its retry time brought forward, as after a long stop)
        await bot.app[NOTIFICATIONS].outbox.record({doc_id: {"not_before": ""}})
        bot.app[NOTIFICATIONS].outbox.wake()
        [card] = await told(bot, LEE)
        assert "已为你分配 Visual Studio 企业版订阅" in card
        await asyncio.sleep(0.2)
        assert len(received(bot, LEE)) == 1
    finally:
        await runner.cleanup()
