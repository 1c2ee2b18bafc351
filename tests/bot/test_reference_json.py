"""The conversation reference the bot remembers is the SDK's, serialized, without the activity id."""

from __future__ import annotations

import json

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector import Channels

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
        assert json.dumps(reference_json(activity)) == json.dumps(expected)  # keys in the SDK's order too
        assert "activityId" not in reference_json(activity)


def test_odd_values_in_a_reference_are_serialized_as_msrest_does() -> None:
    activity = Activity(type="message", id="act-1", channel_id=Channels.ms_teams, locale=None,
                        from_property=ChannelAccount(id="29:1"), recipient=None,
                        conversation=ConversationAccount(id="a:1", properties={"x": [1]}))
    expected = serialize_model(TurnContext.get_conversation_reference(activity), "ConversationReference")
    expected.pop("activityId", None)
    assert reference_json(activity) == expected and expected["channelId"] == "msteams"
    activity.channel_id = "msteams"
    assert reference_json(activity) == expected
