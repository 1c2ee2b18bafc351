"""What leaves the bot: text messages as escaped markdown, and no message over Teams' size limit.

Why here: every reply, card update, invoke response and proactive message passes through the
adapter's ``send_activities`` / ``update_activity``, so one check covers them all. A message over
the limit would fail with 413 (``MessageSizeTooBig``) and the person would see nothing; it is
replaced by a short localized note and logged instead.
"""

from __future__ import annotations

import logging
from copy import copy

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from cards.text import json_size, markdown, utf16_size
from services.i18n import Translator, resolve_locale

log = logging.getLogger(__name__)

#: Teams answers 413 to a message much over 80 KB; measured as the UTF-16 text of its JSON.
MAX_MESSAGE_BYTES = 80_000
#: Room kept for the activity's envelope (ids, conversation, accounts, service URL).
ENVELOPE_BYTES = 4_000
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
#: Where the handler leaves the turn's resolved locale (the user's preference wins over the client's).
LOCALE_TURN_KEY = "pbb.locale"

def payload_size(activity: Activity) -> int:
    """The UTF-16 size of what an activity carries: text, attachments, an invoke response's body."""
    size = ENVELOPE_BYTES
    if isinstance(activity.text, str):
        size += utf16_size(activity.text)
    for attachment in activity.attachments or ():
        size += json_size(getattr(attachment, "content", None))
    if activity.type == ActivityTypes.invoke_response and isinstance(activity.value, InvokeResponse):
        size += json_size(activity.value.body)
    return size


def fits(card: object) -> bool:
    """Whether a message holding only ``card`` is within the size limit (what :func:`prepare` checks)."""
    return ENVELOPE_BYTES + json_size(card) <= MAX_MESSAGE_BYTES


def _too_large_text(context: TurnContext, activity: Activity) -> str:
    locale = context.turn_state.get(LOCALE_TURN_KEY) or resolve_locale(None, activity.locale
                                                                       or context.activity.locale)
    return markdown(Translator(locale)("bot.too_large"))


def prepare(context: TurnContext, activity: Activity) -> Activity:
    """``activity`` ready for the wire: its text escaped (see :mod:`cards.text`), and a message
    too large for Teams replaced by a note saying so."""
    if activity.type in (None, ActivityTypes.message) and isinstance(activity.text, str) \
            and activity.text_format is None:
        activity.text = markdown(activity.text)
        activity.text_format = "markdown"
    if activity.type not in (None, ActivityTypes.message, ActivityTypes.invoke_response):
        return activity
    size = payload_size(activity)
    if size <= MAX_MESSAGE_BYTES:
        return activity
    log.warning("message too large for Teams, replaced by a note", extra={
        "activity_id": context.activity.id if context.activity else None, "size": size,
        "limit": MAX_MESSAGE_BYTES})
    note = _too_large_text(context, activity)
    if activity.type == ActivityTypes.invoke_response:
        body = {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": note}
        status = activity.value.status if isinstance(activity.value, InvokeResponse) else 200
        return Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
    replaced = copy(activity)
    replaced.text, replaced.text_format, replaced.attachments = note, "markdown", None
    replaced.attachment_layout, replaced.suggested_actions, replaced.value = None, None, None
    return replaced
