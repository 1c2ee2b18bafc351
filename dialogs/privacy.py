"""Where an answer may be shown: most answers belong in the person's 1:1 chat with the bot.

The bot can be installed in teams and group chats, where everyone reads the answer (and an
``Action.Submit`` fallback would replace the shared card with it). Product keys, people's emails,
admin cards and a person's own benefits and requests are shown only in their 1:1 chat; in a shared
chat only the verbs below answer in place, and every other answer is sent to the person privately.
What may be shared is declared (``@action(..., shared=True)``: the menu and the choice of
language), not what is private, so that a new workflow is private by default.
"""

from __future__ import annotations

from collections.abc import Container


def is_shared_chat(conversation_type: str | None) -> bool:
    """A team channel or a group chat (Teams says ``channel`` / ``groupChat``; 1:1 is ``personal``)."""
    return conversation_type not in (None, "", "personal")


def answers_privately(verb: str, conversation_type: str | None, shared: Container[str]) -> bool:
    """Whether the answer to ``verb`` asked in this kind of chat must go to the person's 1:1 chat
    (``shared``: the verbs whose answer holds nothing private)."""
    return is_shared_chat(conversation_type) and verb not in shared
