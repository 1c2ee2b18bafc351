"""Text commands: the phrase table lookup answers exactly what a scan of every phrase answers; the
table is built from the phrases each workflow declares."""

from __future__ import annotations

import pytest

from dialogs import commands
from dialogs.actions import ActionResult, Phrases, Workflow
from dialogs.commands import Command, PhraseTable, normalize
from dialogs.registry import Workflows

WORKFLOWS = Workflows.load()
TABLE = WORKFLOWS.commands
COMMANDS = TABLE.commands
parse_command = TABLE.parse


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


async def _nothing(turn: object, data: object) -> ActionResult:
    return ActionResult()


def test_a_declared_workflow_is_recognized_in_each_language() -> None:
    workflows = Workflows.load()
    assert workflows.commands.parse("what can you do") is None
    workflows.add(Workflow("capabilities", _nothing, phrases=Phrases(
        en_US=("what can you do",), zh_CN=("你能做什么",), zh_TW=("你能做什麼",))))
    assert workflows.commands.parse("What can you do") == Command("capabilities", "")
    assert workflows.commands.parse("你能做什么？") == Command("capabilities", "")
    assert workflows.commands.parse("你能做什麼") == Command("capabilities", "")
    assert WORKFLOWS.commands.parse("what can you do") is None  # another app's workflows are its own


def test_a_phrase_two_verbs_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="'help'"):
        PhraseTable({"help": ("help",), "other": ("help",)})
    with pytest.raises(ValueError, match="declared twice"):
        Workflows.load().add(Workflow("help", _nothing))


def _cpu(fn: object, text: str) -> float:
    """The least CPU time of a few runs of ``fn(text)`` (the least is the one others disturbed least)."""
    import time

    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        fn(text)
        best = min(best, time.process_time() - start)
    return max(best, 1e-4)


@pytest.mark.parametrize("unit", ["<at>", "<at>x</at> ", "a ", "help a ", "权 "])
@pytest.mark.parametrize("fn", [parse_command, TABLE.suggest], ids=["parse_command", "suggest"])
def test_parsing_grows_linearly_with_the_message(fn: object, unit: str) -> None:
    """Size scaling, not speed: 8x the text must cost far less than the 64x of a quadratic parse."""
    small, large = unit * (4000 // len(unit)), unit * (32000 // len(unit))
    assert _cpu(fn, large) / _cpu(fn, small) < 24


def test_mentions_are_removed_as_the_regular_expression_did() -> None:
    import random
    import re

    reference = re.compile(r"<at>.*?</at>", re.I)
    parts = ["<at>", "</at>", "<AT>", "</At>", "x", " ", "\n", "<a", "t>", "help"]
    rnd = random.Random(15)
    for _ in range(5000):
        text = "".join(rnd.choice(parts) for _ in range(rnd.randint(0, 12)))
        assert commands._without_mentions(text) == reference.sub(" ", text), text


def test_only_the_first_part_of_a_huge_message_is_considered() -> None:
    assert parse_command("help " + "x" * (commands.MAX_TEXT * 2)) == Command("help", "x" * (commands.MAX_TEXT - 5))


def test_a_message_parses_the_same_every_time_it_is_typed() -> None:
    table = PhraseTable({"overview": ("overview",), "set_language": ("language",)})
    for _ in range(3):
        assert table.parse("Overview!") == Command("overview", "")
        assert table.parse("language zh-TW") == Command("set_language", "zh-tw")
        assert table.parse("nothing known") is None
    long = "language " + "x" * (commands.MAX_REMEMBERED_TEXT + 10)
    assert table.parse(long) == Command("set_language", "x" * (commands.MAX_REMEMBERED_TEXT + 10))


def test_the_memory_of_parsed_messages_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "MAX_REMEMBERED", 4)
    table = PhraseTable({"overview": ("overview",)})
    for i in range(10):
        assert table.parse(f"overview {i}") == Command("overview", str(i))
        assert len(table._parsed) <= 4
