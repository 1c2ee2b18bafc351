"""The conversation reference the bot remembers is the SDK's, serialized, without the activity id."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.handler import reference_json
from bot.sdk.connector import serialize_model


def test_reference_json_is_the_sdk_reference_without_the_activity_id() -> None:
    for kind, channel in (("message", "msteams"), ("conversationUpdate", "msteams"), ("message", "webchat")):
        activity = Activity(type=kind, id="act-1", channel_id=channel, locale="zh-TW",
                            service_url="https://smba.example/amer/",
                            from_property=ChannelAccount(id="29:1", name="Alex", aad_object_id="aad-1"),
                            recipient=ChannelAccount(id="28:bot", name="Benefits"),
                            conversation=ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t"))
        expected = serialize_model(TurnContext.get_conversation_reference(activity), "ConversationReference")
        expected.pop("activityId", None)
        assert reference_json(activity) == expected
        assert "activityId" not in reference_json(activity)
