"""The lean card reply (``bot.adapter.send_card``): the very request botbuilder's send path makes, built
directly; the SDK's way wherever anything could see or change the activity on its way out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes

from bot.adapter import BenefitsAdapter, send_card
from bot.outgoing import MAX_MESSAGE_BYTES, prepare
from bot.sdk.connector import _SERIALIZE, ConnectorPool, ConversationsOperations, deserialize_model
from bot.sdk.frozen import freeze_json
from bot.sdk.turn_context import FastCopyTurnContext, card_reply_body, send_fresh
from tests.bot.sdk.test_connector import RecordingConnector, client_for


def _card() -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "你好 *not bold* <b>", "wrap": True, "size": None, "n": 1.5, "ok": True},
        {"type": "ColumnSet", "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "x"}]}]},
    ], "actions": [{"type": "Action.Execute", "verb": "overview", "data": {"action": "overview", "page": 0}}]}


TEAMS = {
    "type": "message", "id": "1:in-1", "channelId": "msteams", "serviceUrl": "https://smba.example/amer/",
    "from": {"id": "29:1-alex", "name": "Alex Wilber", "aadObjectId": "aad-1", "role": "user",
             "properties": {"x": [1, {"y": None}]}, "unknownThing": 1},
    "recipient": {"id": "28:bot", "name": "Partner Benefits"}, "locale": "zh-TW", "text": "overview",
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1", "isGroup": False},
    "channelData": {"tenant": {"id": "t1"}},
}
INCOMING = [
    TEAMS,
    {**TEAMS, "locale": None, "serviceUrl": "http://127.0.0.1:9/"},
    {**TEAMS, "channelId": "webchat"},  # botbuilder answers webchat without replyToId
    {**TEAMS, "channelId": "directline", "recipient": None},
    {**TEAMS, "type": "conversationUpdate", "membersAdded": [{"id": "28:bot"}]},
    {**TEAMS, "id": None},
]


async def _sdk_sends(incoming: Activity, card: dict[str, Any]) -> Activity:
    """What botbuilder's own ``TurnContext.send_activity`` hands the adapter, after our ``prepare``."""
    sent: list[Activity] = []

    class Recording(BenefitsAdapter):
        async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[Any]:
            sent.extend(prepare(context, a) for a in activities)
            return [None for _ in activities]

    adapter = Recording.__new__(Recording)
    await TurnContext(adapter, incoming).send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
    return sent[0]


@pytest.mark.parametrize("body", INCOMING)
@pytest.mark.parametrize("frozen", [False, True])
async def test_the_lean_body_is_what_botbuilder_serializes(body: dict[str, Any], frozen: bool) -> None:
    card = _card()
    sent = await _sdk_sends(deserialize_model("Activity", body), card)
    shared = freeze_json(json.dumps(card)) if frozen else card
    lean = card_reply_body(deserialize_model("Activity", body), shared)
    stock = _SERIALIZE.body(sent, "Activity")  # msrest's own serializer, as the stock client sends it
    assert json.dumps(lean) == json.dumps(stock)  # the same keys, in the same order, with the same values
    assert lean.get("replyToId") == sent.reply_to_id


def _context(pool: ConnectorPool, fake: RecordingConnector, body: dict[str, Any] | None = None,
             kind: type[TurnContext] = FastCopyTurnContext) -> TurnContext:
    adapter = BenefitsAdapter.__new__(BenefitsAdapter)  # sending needs no authentication object
    incoming = deserialize_model("Activity", {**(body or TEAMS), "serviceUrl": fake.url})
    context = kind(adapter, incoming)
    context.turn_state[BenefitsAdapter.BOT_CONNECTOR_CLIENT_KEY] = client_for(pool, fake)
    return context


class _Refuse:
    """Makes the SDK's way of replying fail, to see which way a card went."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def refuse(*_: Any, **__: Any) -> None:
            raise AssertionError("sent the SDK's way")

        monkeypatch.setattr(ConversationsOperations, "reply_to_activity", refuse)
        monkeypatch.setattr(ConversationsOperations, "send_to_conversation", refuse)


@pytest.mark.parametrize("body", [TEAMS, {**TEAMS, "channelId": "webchat"}])
async def test_a_card_reply_reaches_the_connector_as_the_sdks_does(pool: ConnectorPool, fake: RecordingConnector,
                                                                   body: dict[str, Any]) -> None:
    lean_context, sdk_context = _context(pool, fake, body), _context(pool, fake, body)
    lean = await send_card(lean_context, _card())
    sdk = await send_fresh(sdk_context, MessageFactory.attachment(CardFactory.adaptive_card(_card())))
    ours, theirs = fake.requests
    assert (ours["method"], ours["path"], ours["auth"]) == (theirs["method"], theirs["path"], theirs["auth"])
    assert ours["body"] == theirs["body"] and ours["body"]["attachments"][0]["content"] == _card()
    assert lean.id.startswith("reply-") and type(lean) is type(sdk)
    assert lean_context.responded and sdk_context.responded


async def test_the_common_reply_skips_the_sdks_send_path(pool: ConnectorPool, fake: RecordingConnector,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _Refuse(monkeypatch)
    await send_card(_context(pool, fake), freeze_json(json.dumps(_card())))
    assert fake.requests[0]["path"] == "/v3/conversations/a%3A1/activities/1%3Ain-1"


async def test_send_handlers_see_the_card_reply(pool: ConnectorPool, fake: RecordingConnector) -> None:
    context = _context(pool, fake)
    seen: list[str] = []

    async def handler(ctx: TurnContext, activities: list[Activity], next_send: Any) -> Any:
        seen.extend(a.attachments[0].content_type for a in activities)
        activities[0].summary = "changed by a handler"
        return await next_send()

    context.on_send_activities(handler)
    await send_card(context, _card())
    assert seen == ["application/vnd.microsoft.card.adaptive"]
    assert fake.requests[0]["body"]["summary"] == "changed by a handler"


async def test_buffered_replies_stay_models(pool: ConnectorPool, fake: RecordingConnector) -> None:
    context = _context(pool, fake, {**TEAMS, "deliveryMode": DeliveryModes.expect_replies})
    await send_card(context, _card())
    assert not fake.requests and context.buffered_reply_activities[0].attachments[0].content == _card()


async def test_a_card_over_the_limit_becomes_the_note(pool: ConnectorPool, fake: RecordingConnector) -> None:
    huge = {**_card(), "body": [{"type": "TextBlock", "text": "x" * MAX_MESSAGE_BYTES}]}
    await send_card(_context(pool, fake), huge)
    sent = fake.requests[0]["body"]
    assert "attachments" not in sent and sent["textFormat"] == "markdown" and sent["text"]


async def test_other_contexts_and_odd_values_go_the_sdks_way(pool: ConnectorPool, fake: RecordingConnector,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _context(pool, fake, kind=TurnContext)
    await send_card(plain, _card())
    odd = _context(pool, fake)
    odd.activity.locale = ActivityTypes.message  # an enum where a string belongs: msrest decides
    await send_card(odd, _card())
    assert [r["body"]["locale"] for r in fake.requests] == ["zh-TW", "message"]
    _Refuse(monkeypatch)
    with pytest.raises(AssertionError, match="SDK's way"):
        await send_card(_context(pool, fake, kind=TurnContext), _card())
    with pytest.raises(AssertionError, match="SDK's way"):
        await send_card(_context(pool, fake), {"a": {1, 2}})  # not JSON: the SDK's serializer decides


def test_the_lean_body_shares_the_card() -> None:
    card = _card()
    incoming = deserialize_model("Activity", TEAMS)
    assert card_reply_body(incoming, card)["attachments"][0]["content"] is card


@pytest.mark.parametrize("base", ["http://127.0.0.1:9/", "https://smba.example/amer", "https://h/a/b/?q=1"])
@pytest.mark.parametrize("conversation", ["a:1", "19:x@thread.v2;messageid=1", ".", "..", "a/b", "ü", ""])
@pytest.mark.parametrize("activity", [None, "", "1:in-1", ".", "..", "a/b?c#d", "ü"])
def test_remembered_activity_urls_are_msrests(pool: ConnectorPool, base: str, conversation: str,
                                              activity: str | None) -> None:
    fake = RecordingConnector.__new__(RecordingConnector)
    fake.port = 0
    client = client_for(pool, fake)
    client.base_url = base
    for _ in range(2):  # built, then remembered
        expected = (client.url("/v3/conversations/{conversationId}/activities/{activityId}",
                               conversationId=conversation, activityId=activity) if activity
                    else client.url("/v3/conversations/{conversationId}/activities", conversationId=conversation))
        assert client.activities_url(conversation, activity) == expected
