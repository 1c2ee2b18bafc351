"""Product keys, people's emails and admin cards are shown only in a person's 1:1 chat with the bot.

Over the real HTTP path with the fake connector, in a group chat and in a team channel: a text
command, an ``Action.Execute`` click and an ``Action.Submit`` fallback that would reveal keys or list
people answer "I've sent it to you privately" in the shared chat and send the answer to the 1:1
chat; someone who never opened the 1:1 chat is told how to, and nothing private is shown anywhere.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests._common.harness import ALEX, LEE, BotClient, cards_in, texts_in

PERSONAL = f"a:personal-{ALEX['id']}"
MESSAGE = "application/vnd.microsoft.activity.message"


def shared(kind: str) -> str:
    """The id of a group chat or a team channel."""
    return "19:group-chat@thread.v2" if kind == "groupChat" else "19:general@thread.tacv2;messageid=1"


def in_chat(bot: BotClient, user: dict[str, Any], kind: str, **fields: Any) -> dict[str, Any]:
    """An activity from ``user`` in a shared chat of ``kind``."""
    activity = bot.activity(user, conversation_id=shared(kind), **fields)
    activity["conversation"]["conversationType"] = kind
    if kind == "channel":
        activity["channelData"]["team"] = {"id": "19:general@thread.tacv2"}
    return activity


def keys_of(bot: BotClient) -> list[str]:
    office = bot.service.repo.benefit("sw-office")
    assert office is not None and office.keys
    return [k.key for k in office.keys]


def leaks(activities: list[dict[str, Any]], secrets: list[str]) -> list[str]:
    text = json.dumps(activities, ensure_ascii=False)
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("kind", ["groupChat", "channel"])
async def test_keys_and_people_go_to_the_personal_chat(bot: BotClient, kind: str) -> None:
    await bot.say(ALEX, "help")  # Alex has opened his 1:1 chat: the bot knows where to reach him
    secrets = keys_of(bot) + [p.email for p in bot.service.repo.people() if p.email]
    office = bot.service.repo.benefit("sw-office")
    assert office is not None
    reveal = {"benefit_id": "sw-office", "language": office.keys[0].language, "os": office.keys[0].os}
    conversation = shared(kind)

    bot.connector.clear()
    status, _ = await bot.post(in_chat(bot, ALEX, kind, text="<at>Partner Benefits</at> users"))
    assert status in (200, 201)
    in_shared = [a for a in bot.connector.sent if a["_conversation"] == conversation]
    private = [a for a in bot.connector.sent if a["_conversation"] == PERSONAL]
    assert texts_in(in_shared) == ["I've sent it to you privately, in your chat with me."]
    assert cards_in(private) and "Users and permissions" in json.dumps(private)
    assert not leaks(in_shared, secrets)

    bot.connector.clear()  # Action.Execute: the clicked shared card is left as it was
    activity = in_chat(bot, ALEX, kind, type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "reveal_keys", "data": {"action": "reveal_keys", **reveal}},
        "trigger": "manual"})
    status, body = await bot.post(activity)
    assert status == 200 and body["type"] == MESSAGE and "privately" in body["value"]
    assert not leaks([body], secrets)
    assert not [a for a in bot.connector.sent if a["_conversation"] == conversation]
    private = [a for a in bot.connector.sent if a["_conversation"] == PERSONAL]
    assert leaks(private, keys_of(bot)), "the keys reached the 1:1 chat"

    bot.connector.clear()  # Action.Submit fallback: no update of the shared card
    status, _ = await bot.post(in_chat(bot, ALEX, kind, value={"action": "reveal_keys", **reveal},
                                       replyToId="shared-card-1"))
    assert status in (200, 201)
    assert not bot.connector.updated
    in_shared = [a for a in bot.connector.sent if a["_conversation"] == conversation]
    assert texts_in(in_shared) and not leaks(in_shared, secrets)
    assert leaks([a for a in bot.connector.sent if a["_conversation"] == PERSONAL], keys_of(bot))


@pytest.mark.parametrize("kind", ["groupChat", "channel"])
async def test_someone_without_a_personal_chat_is_told_how_to_open_it(bot: BotClient, kind: str) -> None:
    secrets = keys_of(bot) + [p.email for p in bot.service.repo.people() if p.email]
    bot.connector.clear()
    status, _ = await bot.post(in_chat(bot, ALEX, kind, text="users"))
    assert status in (200, 201)
    [reply] = bot.connector.sent
    assert "Open a chat with me" in reply["text"] and not cards_in([reply]) and not leaks([reply], secrets)
    reveals = len(bot.service.repo.key_reveals(["sw-office"]))
    office = bot.service.repo.benefit("sw-office")
    assert office is not None
    status, body = await bot.post(in_chat(bot, ALEX, kind, type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "reveal_keys", "data": {
            "action": "reveal_keys", "benefit_id": "sw-office", "language": office.keys[0].language,
            "os": office.keys[0].os}}, "trigger": "manual"}))
    assert status == 200 and body["type"] == MESSAGE and "Open a chat with me" in body["value"]
    assert len(bot.service.repo.key_reveals(["sw-office"])) == reveals  # nothing was revealed, nor recorded


async def test_the_menu_and_language_still_answer_in_a_shared_chat(bot: BotClient) -> None:
    bot.connector.clear()
    status, _ = await bot.post(in_chat(bot, LEE, "groupChat", text="help"))
    assert status in (200, 201)
    [reply] = bot.connector.sent
    assert reply["_conversation"] == "19:group-chat@thread.v2" and cards_in([reply])
