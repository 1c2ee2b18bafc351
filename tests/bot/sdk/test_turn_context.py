"""The outgoing-activity copy of :mod:`bot.sdk.turn_context` equals ``copy.deepcopy``, and sending never
changes the caller's activity (what the SDK's copy protects)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from msrest.serialization import Model

from bot.adapter import BenefitsAdapter
from bot.sdk.connector import serialize_model
from bot.sdk.turn_context import FastCopyTurnContext, copy_activity


def _card() -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "你好", "wrap": True, "size": None, "n": 1.5, "ok": True},
        {"type": "ColumnSet", "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "x"}]}]},
    ], "actions": [{"type": "Action.Execute", "verb": "overview", "data": {"action": "overview", "page": 0}}]}


def _same_structure(a: Any, b: Any) -> None:
    """Equal values, and no dict, list or model of the copy is an object of the original."""
    assert type(a) is type(b)
    if isinstance(a, (dict, list, Model)):
        assert a is not b
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same_structure(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_structure(x, y)
    elif isinstance(a, Model):
        assert vars(a).keys() == vars(b).keys()
        for k in vars(a):
            _same_structure(vars(a)[k], vars(b)[k])
    else:
        assert a == b


def test_copy_of_a_card_activity_equals_deepcopy() -> None:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(_card()))
    activity.timestamp = datetime(2026, 11, 22, tzinfo=UTC)
    activity.from_property = ChannelAccount(id="28:bot", name="Bot")
    activity.additional_properties = {"x": [1, {"y": 2}]}
    fast, slow = copy_activity(activity), copy.deepcopy(activity)
    _same_structure(fast, slow)
    _same_structure(activity, fast)
    assert serialize_model(fast, "Activity") == serialize_model(slow, "Activity") == serialize_model(activity,
                                                                                                     "Activity")


def test_copy_keeps_shared_and_cyclic_references_as_deepcopy_does() -> None:
    shared: dict[str, Any] = {"a": 1}
    loop: list[Any] = []
    loop.append(loop)
    value = {"one": shared, "two": shared, "loop": loop}
    copied = copy_activity(value)
    assert copied["one"] is copied["two"] and copied["one"] is not shared
    assert copied["loop"][0] is copied["loop"]


def test_objects_with_their_own_copy_hooks_go_through_deepcopy() -> None:
    class Hooked(Model):
        def __deepcopy__(self, memo: dict[int, Any]) -> str:
            return "hooked"

    assert copy_activity({"v": Hooked()}) == {"v": "hooked"}


def _recording_adapter(record: Callable[[list[Activity]], None]) -> BenefitsAdapter:
    """Our adapter, handing what a turn sends to ``record`` instead of a connector (no authentication
    is needed to send within a test turn)."""

    class Adapter(BenefitsAdapter):
        async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[Any]:
            record(activities)
            return [None for _ in activities]

    return Adapter.__new__(Adapter)


def _incoming() -> Activity:
    """A message from Alex in chat ``a:1``."""
    return Activity(type=ActivityTypes.message, id="in-1", channel_id="msteams", service_url="http://127.0.0.1/",
                    from_property=ChannelAccount(id="29:alex"), recipient=ChannelAccount(id="28:bot"),
                    conversation=ConversationAccount(id="a:1"))


async def test_sending_does_not_change_the_callers_activity() -> None:
    sent: list[Activity] = []
    adapter = _recording_adapter(sent.extend)
    context = adapter._create_turn_context(_incoming(), None, "scope", None, None, None, None)
    assert isinstance(context, FastCopyTurnContext)
    card = _card()
    outgoing = MessageFactory.attachment(CardFactory.adaptive_card(card))
    outgoing.id = "mine"
    await context.send_activity(outgoing)
    assert outgoing.id == "mine" and outgoing.conversation is None and outgoing.reply_to_id is None
    assert sent[0].conversation.id == "a:1" and sent[0].reply_to_id == "in-1" and sent[0].id is None
    assert sent[0].attachments[0].content == card and sent[0].attachments[0].content is not card
    assert context.responded


async def test_send_fresh_sends_what_send_activity_sends_and_leaves_the_activity_as_it_was() -> None:
    from bot.sdk.turn_context import send_fresh

    sent: list[Activity] = []
    adapter = _recording_adapter(sent.extend)
    incoming = _incoming()
    context = adapter._create_turn_context(incoming, None, "scope", None, None, None, None)
    copied = MessageFactory.attachment(CardFactory.adaptive_card(_card()))
    fresh = MessageFactory.attachment(CardFactory.adaptive_card(_card()))
    fresh.id = "mine"
    before = serialize_model(fresh, "Activity")
    await context.send_activity(copied)
    await send_fresh(context, fresh)
    assert serialize_model(fresh, "Activity") == before  # the caller's object is unchanged
    assert serialize_model(sent[1], "Activity") == serialize_model(sent[0], "Activity")
    assert sent[1] is not fresh and sent[1].attachments[0].content is fresh.attachments[0].content  # no deep copy
    assert context.responded
    plain = TurnContext(adapter, incoming)  # any other context: an ordinary send_activity
    await send_fresh(plain, MessageFactory.text("hello"))
    assert sent[2].text == "hello" and sent[2].conversation.id == "a:1"


@pytest.mark.parametrize("activity", [
    Activity(type="message", id="a1", channel_id="msteams", locale="zh-TW", service_url="http://127.0.0.1:9/",
             from_property=ChannelAccount(id="29:1", name="Alex", aad_object_id="aad", role="user",
                                          properties={"x": 1}),
             recipient=ChannelAccount(id="28:bot", name="Bot"),
             conversation=ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t1")),
    Activity(type="conversationUpdate", id="a2", channel_id="webchat"),
    Activity(type="message", id="a3", channel_id="directline", from_property=ChannelAccount(id="u")),
])
def test_conversation_reference_is_the_sdks(activity: Activity) -> None:
    from bot.sdk.turn_context import conversation_reference

    ours, theirs = conversation_reference(activity), TurnContext.get_conversation_reference(activity)
    assert ours.serialize() == theirs.serialize()
    for name in ("user", "bot", "conversation"):
        mine, sdk = getattr(ours, name), getattr(theirs, name)
        assert (mine is None) == (sdk is None)
        if mine is not None:  # copies, as the SDK makes them: changing one leaves the activity alone
            assert type(mine) is type(sdk) and vars(mine) == vars(sdk)
            assert mine is not getattr(activity, {"user": "from_property", "bot": "recipient"}.get(name, name))


def _recording_context(kind: type[TurnContext], log: list[str]) -> TurnContext:
    adapter = _recording_adapter(lambda activities: log.append("sent " + ",".join(a.text for a in activities)))
    context = kind(adapter, _incoming())

    def handler(name: str, *, call_next: bool = True) -> Any:
        async def on_send(ctx: TurnContext, activities: list[Activity], next_handler: Any) -> None:
            assert ctx is context
            log.append(f"{name} sees " + ",".join(a.text for a in activities))
            activities[0].text += f"+{name}"
            if call_next:
                await next_handler()
                log.append(f"{name} after")
        return on_send

    context.on_send_activities(handler("a")).on_send_activities(handler("b"))
    context.on_send_activities(handler("c", call_next=False)).on_send_activities(handler("d"))
    return context


async def test_send_handlers_run_as_the_sdks_chain_does() -> None:
    """Order, the argument each handler sees, what a handler that does not call ``next`` stops (the
    rest of the chain, not the send: botbuilder's ``_emit`` always runs the logic) — all as the SDK."""
    ours: list[str] = []
    sdk: list[str] = []
    await _recording_context(FastCopyTurnContext, ours).send_activity(MessageFactory.text("hi"))
    await _recording_context(TurnContext, sdk).send_activity(MessageFactory.text("hi"))
    assert ours == sdk == ["a sees hi", "b sees hi+a", "c sees hi+a+b", "b after", "a after", "sent hi+a+b+c"]


async def test_a_turn_leaves_no_cyclic_garbage(bot: Any) -> None:
    """A turn's context, activities and replies are freed when the turn ends, not by the cycle
    collector: under load its passes stopped the event loop ~15 ms every few hundred milliseconds."""
    import gc

    from tests._common.harness import ALEX

    await bot.say(ALEX, "overview")  # warm: caches, memos, first-use objects
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            await bot.say(ALEX, "overview")
            await bot.say(ALEX, "help")
            status, _, _ = await bot.execute(ALEX, "overview")  # an Action.Execute invoke
            assert status == 200
        gc.collect()
        kinds = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    turn_objects = {"FastCopyTurnContext", "TurnContext", "Activity", "BufferedResponse", "ClaimsIdentity",
                    "Attachment", "DialogContext", "LazyUserTokenClient"}
    assert not kinds & turn_objects
