"""Where an answer may be shown: most answers belong in the person's 1:1 chat with the bot.

The bot can be installed in teams and group chats, where everyone reads the answer (and an
``Action.Submit`` fallback would replace the shared card with it). Product keys, people's emails,
admin cards and a person's own benefits and requests are shown only in their 1:1 chat; in a shared
chat only the verbs below answer in place, and every other answer is sent to the person privately.
A list of what may be shared, not of what is private, so that a new workflow is private by default.
"""

from __future__ import annotations

#: Verbs whose answer holds nothing private: the menu and the choice of language.
SHARED_CHAT_VERBS = frozenset({"help", "language", "set_language"})


def is_shared_chat(conversation_type: str | None) -> bool:
    """A team channel or a group chat (Teams says ``channel`` / ``groupChat``; 1:1 is ``personal``)."""
    return conversation_type not in (None, "", "personal")


def answers_privately(verb: str, conversation_type: str | None) -> bool:
    """Whether the answer to ``verb`` asked in this kind of chat must go to the person's 1:1 chat."""
    return is_shared_chat(conversation_type) and verb not in SHARED_CHAT_VERBS
