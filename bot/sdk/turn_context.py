"""``TurnContext`` whose outgoing activities are copied by a JSON-aware deep copy, not ``copy.deepcopy``.

Why: botbuilder's ``TurnContext.send_activities`` deep-copies every outgoing activity (so that the
caller's object is never changed by the conversation reference applied to it). With an Adaptive Card
attached, ``copy.deepcopy`` walks hundreds of dicts and strings through its generic dispatch, on the
event loop, for every reply. :func:`copy_activity` makes the same copy (new
dicts, lists and msrest models all the way down; shared and cyclic references kept as ``deepcopy``
keeps them) with a fast path for what an activity holds, and hands anything else to ``deepcopy``.

:class:`FastCopyTurnContext.send_activities` is botbuilder 4.17.1's method with that one change;
everything else is inherited (``tests/bot/test_turn_context.py`` pins the copy's equivalence).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from copy import copy, deepcopy
from enum import Enum
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, DeliveryModes, ResourceResponse
from botframework.connector import Channels
from msrest.serialization import Model

from bot.sdk.connector import NotLean, serialize_shared

_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})


def copy_activity(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """What ``copy.deepcopy(value)`` returns, for activities and the JSON they carry, faster."""
    return _copy(value, {} if memo is None else memo)


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    kind: Any = type(value)  # a model class of botbuilder (Any to mypy)
    if kind in _ATOMIC:
        return value
    found = memo.get(id(value), memo)
    if found is not memo:
        return found
    atomic = _ATOMIC
    if kind is dict:
        out: dict[Any, Any] = {}
        memo[id(value)] = out
        for key, item in value.items():  # scalars inline: most of a card is strings
            out[key if type(key) in atomic else deepcopy(key, memo)] = (
                item if type(item) in atomic else _copy(item, memo))
        return out
    if kind is list:
        items: list[Any] = []
        memo[id(value)] = items
        items.extend([item if type(item) in atomic else _copy(item, memo) for item in value])
        return items
    if isinstance(value, Enum):
        return value  # enums copy to themselves
    if isinstance(value, Model) and _plain_model(kind):
        model = kind.__new__(kind)
        memo[id(value)] = model
        model.__dict__.update({name: _copy(item, memo) for name, item in value.__dict__.items()})
        return model
    return deepcopy(value, memo)


_PLAIN_MODELS: dict[type, bool] = {}


def _plain_model(kind: type) -> bool:
    """A model that ``deepcopy`` copies by its ``__dict__`` (no custom copy or pickling hooks)."""
    plain = _PLAIN_MODELS.get(kind)
    if plain is None:
        hooks = ("__deepcopy__", "__reduce_ex__", "__reduce__", "__getstate__", "__setstate__", "__slots__")
        plain = not any(any(h in vars(c) for h in hooks) for c in kind.__mro__ if c is not object)
        _PLAIN_MODELS[kind] = plain
    return plain


def same_attributes(value: Any) -> Any:
    """A new object of ``value``'s class holding the same attribute values: what ``copy.copy`` makes
    of a plain model (see :func:`_plain_model`), without copyreg's generic reduce/reconstruct path."""
    kind: Any = type(value)  # a model class of botbuilder (Any to mypy)
    out = kind.__new__(kind)
    out.__dict__.update(value.__dict__)
    return out


def _shallow_copy(value: Any) -> Any:
    """``copy.copy(value)``, by :func:`same_attributes` for a plain model."""
    if value is None:
        return None
    return same_attributes(value) if isinstance(value, Model) and _plain_model(type(value)) else copy(value)


def conversation_reference(activity: Activity) -> ConversationReference:
    """``TurnContext.get_conversation_reference(activity)`` (botbuilder 4.17.1) with the accounts
    copied by :func:`_shallow_copy`: the same reference, computed on every send."""
    return ConversationReference(
        activity_id=(
            activity.id
            if activity.type != ActivityTypes.conversation_update
            and activity.channel_id != Channels.direct_line
            and activity.channel_id != Channels.webchat
            else None
        ),
        user=_shallow_copy(activity.from_property),
        bot=_shallow_copy(activity.recipient),
        conversation=_shallow_copy(activity.conversation),
        channel_id=activity.channel_id,
        locale=activity.locale,
        service_url=activity.service_url,
    )


def reply_to_id(activity: Activity) -> str | None:
    """The id a reply to ``activity`` answers (``ConversationReference.activity_id`` as botbuilder sets it)."""
    if activity.type != ActivityTypes.conversation_update and activity.channel_id not in (
            Channels.direct_line, Channels.webchat):
        return activity.id or None
    return None


#: the content type of an Adaptive Card attachment (``CardFactory.content_types.adaptive_card``)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def card_reply_body(incoming: Activity, card: dict[str, Any]) -> dict[str, Any]:
    """The JSON body botbuilder's send path posts for ``MessageFactory.attachment(CardFactory.adaptive_card
    (card))`` answering ``incoming``, built directly (the same keys in the same order).

    The SDK's way makes an activity and an attachment model, a conversation reference with copies of
    the three accounts, a copy of the activity it addresses, and walks all forty attributes of the
    activity to serialize it; what is left at the end is these eleven keys. The card itself is
    shared, not copied (the body is encoded at once); the accounts are serialized as the SDK
    serializes them. Raises :class:`NotLean` for values the SDK's serializer would treat otherwise.
    """
    body: dict[str, Any] = {"type": "message"}
    for key, value in (("serviceUrl", incoming.service_url), ("channelId", incoming.channel_id)):
        if value is not None:
            body[key] = _text(value)
    for key, account, type_name in (("from", incoming.recipient, "ChannelAccount"),
                                    ("conversation", incoming.conversation, "ConversationAccount"),
                                    ("recipient", incoming.from_property, "ChannelAccount")):
        if account is not None:
            body[key] = serialize_shared(account, type_name)
    body["attachmentLayout"] = "list"
    if incoming.locale is not None:
        body["locale"] = _text(incoming.locale)
    body["inputHint"] = "acceptingInput"
    body["attachments"] = [{"contentType": ADAPTIVE_CARD, "content": serialize_shared(card, "object")}]
    answered = reply_to_id(incoming)
    if answered is not None:
        body["replyToId"] = _text(answered)
    return body


def _text(value: Any) -> str:
    if type(value) is not str:
        raise NotLean  # msrest writes an enum's value, and fails on others: the SDK's way decides
    return value


def _shallow(activity: Activity) -> Activity:
    """A new activity object holding the same values (what sending changes is top-level attributes)."""
    return same_attributes(activity) if _plain_model(type(activity)) else copy_activity(activity)


async def send_fresh(context: TurnContext, activity: Activity) -> ResourceResponse | None:
    """``context.send_activity(activity)`` for an activity built for this one send and dropped after it.

    Sending only sets top-level attributes of its copy (the conversation reference, type, input hint,
    id), so the caller's object is left as it was; the deep copy of its card is skipped.
    """
    if isinstance(context, FastCopyTurnContext):
        result = await context.send_activities([activity], fresh=True)
        return result[0] if result else None
    return await context.send_activity(activity)


async def _run_handlers(context: TurnContext, handlers: Sequence[Callable[..., Awaitable[Any]]], index: int,
                        arg: Any) -> None:
    """Call ``handlers[index]`` with a ``next`` that runs the rest of the chain (botbuilder's middleware
    shape for send/update/delete handlers)."""
    if index < len(handlers):
        await handlers[index](context, arg, partial(_run_handlers, context, handlers, index + 1, arg))


class FastCopyTurnContext(TurnContext):
    """``TurnContext`` with :func:`copy_activity` in place of ``deepcopy`` when sending, and a handler
    chain that leaves no reference cycle behind.

    botbuilder 4.17.1's ``_emit`` builds the chain from a closure that refers to itself, so every turn's
    context (its activity, claims, replies and card) stayed alive until the cyclic garbage collector
    ran, and under load those collections came often and each stopped the event loop.
    """

    async def _emit(self, plugins: list[Any], arg: Any, logic: Awaitable[Any]) -> Any:
        # same order and arguments as TurnContext._emit; a partial chain instead of a recursive closure
        await _run_handlers(self, tuple(plugins), 0, arg)
        return await logic

    async def send_activities(self, activities: list[Activity], *, fresh: bool = False) -> list[ResourceResponse]:
        # botbuilder 4.17.1 TurnContext.send_activities, with copy_activity for deepcopy; ``fresh``
        # (see send_fresh): the activities' own values are not referenced by the caller afterwards.
        sent_non_trace_activity = False
        ref = conversation_reference(self.activity)

        def activity_validator(activity: Activity) -> Activity:
            nonlocal sent_non_trace_activity
            if not getattr(activity, "type", None):
                activity.type = ActivityTypes.message
            if activity.type != ActivityTypes.trace:
                sent_non_trace_activity = True
            if not activity.input_hint:
                activity.input_hint = "acceptingInput"
            activity.id = None
            return activity

        copier = _shallow if fresh else copy_activity
        output = [activity_validator(TurnContext.apply_conversation_reference(copier(act), ref))
                  for act in activities]

        async def logic() -> list[ResourceResponse]:
            nonlocal sent_non_trace_activity
            if self.activity.delivery_mode == DeliveryModes.expect_replies:
                responses = []
                for activity in output:
                    # msrest serializes the buffered replies: no frozen card may reach it (see bot.sdk.frozen)
                    activity = deepcopy(activity) if fresh else activity
                    self.buffered_reply_activities.append(activity)
                    # Ensure the TurnState has the InvokeResponseKey, since this activity
                    # is not being sent through the adapter, where it would be added to TurnState.
                    if activity.type == ActivityTypes.invoke_response:
                        self.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = activity
                    responses.append(ResourceResponse())
                if sent_non_trace_activity:
                    self.responded = True
                return responses
            responses = await self.adapter.send_activities(self, output)
            if sent_non_trace_activity:
                self.responded = True
            return responses

        return await self._emit(self._on_send_activities, output, logic())
