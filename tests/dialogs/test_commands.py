"""Text commands: the phrase table lookup answers exactly what a scan of every phrase answers."""

from __future__ import annotations

import pytest

from dialogs import commands
from dialogs.commands import COMMANDS, Command, normalize, parse_command


def _scan(text: str) -> Command | None:
    """The reference: every phrase tried, the longest matching one wins (the first on a tie)."""
    said = normalize(text)
    if not said:
        return None
    best: Command | None = None
    best_len = -1
    for action, phrases in COMMANDS.items():
        for phrase in phrases:
            if (said == phrase or said.startswith(phrase + " ")) and len(phrase) > best_len:
                best, best_len = Command(action, said[len(phrase):].strip()), len(phrase)
    return best


SAMPLES = [p for ps in COMMANDS.values() for p in ps] + [
    "", "   ", "Overview!", "<at>Benefits</at> overview", "language zh-TW", "LANG  en-us", "visual studio",
    "visual studio subscriptions please", "go to market now", "benefits overview extra words", "? what",
    "权 益", "权益 概览", "request a benefit Azure credits", "ask for  keys", "keys", "get keys 2", "unknown words",
    "overviewing", "mine!", "my benefits today", "cancel a benefit x", "市场投放权益 更多",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_command_matches_the_phrase_scan(text: str) -> None:
    assert parse_command(text) == _scan(text)


def test_a_phrase_added_to_the_table_is_recognized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(commands.COMMANDS, "help", (*COMMANDS["help"], "what can you do"))
    assert parse_command("What can you do") == Command("help", "")
    monkeypatch.undo()
    assert parse_command("what can you do") is None
