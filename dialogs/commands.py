"""Text commands in plain words, in en-US, zh-CN and zh-TW, mapped to verbs.

The table is built from what each workflow declares (``@action(..., phrases=Phrases(...))``, see
``dialogs.registry``); a phrase two verbs declare is refused when the table is built. Matching ignores case, mentions,
surrounding punctuation and spaces between Chinese characters, and accepts a phrase followed by an
argument (``language zh-TW``).

Parsing is linear in the length of the message and considers at most :data:`MAX_TEXT` characters
(a Teams message is at most about 28 KB): a message is parsed on the event loop, so a long one must
not hold it up (mentions are paired in one pass, only prefixes as long as a phrase are looked up,
and a message too long to be near any phrase gets no suggestion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.memo import BoundedMemo

#: characters of a message considered as a command
MAX_TEXT = 28 * 1024
#: messages up to this long are remembered with what they parse to (menu words are typed again and again)
MAX_REMEMBERED_TEXT = 128
#: distinct messages remembered; past it the memory starts over
MAX_REMEMBERED = 1024
_MENTION_TAG = re.compile(r"<(/?)at>", re.I)
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


@dataclass(frozen=True)
class Command:
    action: str
    argument: str


def _without_mentions(text: str) -> str:
    """``text`` with each ``<at>...</at>`` replaced by a space, in one pass.

    As ``re.sub(r"<at>.*?</at>", " ", text, flags=re.I)``: an open tag pairs with the first close
    tag after it on its line; one left open on its line mentions nobody.
    """
    kept: list[str] = []
    start = 0  # where the text not yet kept begins
    opened = -1  # where the open mention tag begins, or -1
    line_end = -1  # where the line of ``opened`` ends
    for tag in _MENTION_TAG.finditer(text):
        at = tag.start()
        if opened >= 0 and at > line_end:
            opened = -1  # its line ended before any close tag
        if not tag.group(1):
            if opened < 0:
                opened = at
                if line_end < at:
                    line_end = text.find("\n", at)
                    line_end = len(text) if line_end < 0 else line_end
        elif opened >= 0:
            kept.append(text[start:opened])
            kept.append(" ")
            start, opened = tag.end(), -1
    kept.append(text[start:])
    return "".join(kept)


def normalize(text: str) -> str:
    text = _without_mentions((text or "")[:MAX_TEXT])
    text = text.replace("\u00a0", " ").strip().strip("!.。！？?,，;；:：").strip()
    text = _CJK_SPACE.sub("", text)
    return re.sub(r"\s+", " ", text).lower()


class PhraseTable:
    """Each phrase and the verb it starts."""

    def __init__(self, commands: dict[str, tuple[str, ...]]) -> None:
        table: dict[str, str] = {}
        for verb, phrases in commands.items():
            for phrase in phrases:
                if table.setdefault(phrase, verb) != verb:
                    raise ValueError(f"phrase {phrase!r} declared by {table[phrase]!r} and {verb!r}")
        self.commands = {verb: tuple(phrases) for verb, phrases in commands.items()}
        self._phrases = table
        self._longest = max(map(len, table), default=0)
        self._suggestible = [p for ps in self.commands.values() for p in ps if len(p) > 1]
        #: short messages and their command: the table never changes, and a ``Command`` is read-only
        self._parsed: BoundedMemo[str, Command | None] = BoundedMemo(MAX_REMEMBERED)

    def parse(self, text: str) -> Command | None:
        """The verb a message asks for, with any argument after the phrase; None if unknown.

        The longest phrase that is the whole message or its first words wins (lookups in a table of
        phrases, one per word boundary, instead of a scan of every phrase).
        """
        if type(text) is not str or len(text) > MAX_REMEMBERED_TEXT:
            return self._parse(text)
        try:
            return self._parsed[text]
        except KeyError:
            pass
        return self._parsed.remember(text, self._parse(text))

    def _parse(self, text: str) -> Command | None:
        said = normalize(text)
        if not said:
            return None
        phrases = self._phrases
        verb = phrases.get(said)
        if verb is not None:
            return Command(verb, "")
        # A phrase followed by " " and an argument: try every prefix ending before a space, longest
        # first (no prefix longer than the longest phrase can be one).
        end = said.rfind(" ", 0, self._longest + 1)
        while end > 0:
            verb = phrases.get(said[:end])
            if verb is not None:
                return Command(verb, said[end:].strip())
            end = said.rfind(" ", 0, end)
        return None

    def suggest(self, text: str) -> str | None:
        """The closest known phrase to an unknown message (for "did you mean ...")."""
        import difflib

        said = normalize(text)
        phrases = self._suggestible
        if len(said) > 3 * max(map(len, phrases), default=0):
            return None  # a ratio of 2*matches/(len(a)+len(b)) cannot reach the cutoff of 0.5
        match = difflib.get_close_matches(said, phrases, n=1, cutoff=0.5)
        return match[0] if match else None

    def suggest_action(self, text: str) -> str | None:
        """The verb of the closest known phrase, whatever its language: the hint is then said in the
        person's own language (catalog ``commands.<verb>``), not in the language of the phrase."""
        phrase = self.suggest(text)
        return self._phrases.get(phrase) if phrase else None
