"""The card validator of the test suite: it must accept what Teams renders and name what Teams rejects.

Every card test of the bot leans on ``tests/_common/card_validation.py``; if it let a broken card
through, or failed a card Teams accepts (the people picker, ``msteams``), those tests would lie.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests._common.card_validation import MAX_CARD_BYTES, assert_valid_cards, validate_cards


def good_card() -> dict[str, Any]:
    """A 1.5 card using what the bot's cards use: labelled inputs, people picker, Universal Actions."""
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "msteams": {"width": "Full"},
        "refresh": {
            "action": {"type": "Action.Execute", "verb": "benefits.refresh", "title": "Refresh"},
            "userIds": ["29:1abc"],
        },
        "body": [
            {"type": "TextBlock", "text": "Assign a Visual Studio subscription", "style": "heading"},
            {
                "type": "Input.Text",
                "id": "alternateEmail",
                "label": "Alternate email",
                "isRequired": True,
                "errorMessage": "Enter an email address outside your company domain.",
                "regex": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
                "style": "email",
            },
            {
                "type": "Input.ChoiceSet",
                "id": "assignee",
                "label": "Employee",
                "isRequired": True,
                "errorMessage": "Pick an employee.",
                "choices": [],
                "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
            },
            {
                "type": "Container",
                "id": "details",
                "isVisible": False,
                "items": [{"type": "TextBlock", "text": "No reassignment for 90 days.", "wrap": True}],
            },
        ],
        "actions": [
            {
                "type": "Action.Execute",
                "verb": "vs.assign",
                "title": "Assign user",
                "data": {"action": "vs.assign"},
                "fallback": {"type": "Action.Submit", "title": "Assign", "data": {"action": "vs.assign"}},
            },
            {"type": "Action.ToggleVisibility", "title": "Details", "targetElements": ["details"]},
        ],
    }


def _with(change: Any) -> dict[str, Any]:
    card = copy.deepcopy(good_card())
    change(card)
    return card


def test_a_good_teams_card_passes() -> None:
    assert validate_cards([good_card()]) == [[]]
    assert_valid_cards([good_card()])


def test_people_picker_needs_no_static_choices() -> None:
    card = _with(lambda c: c["body"][2].pop("choices"))
    assert validate_cards([card]) == [[]]


def test_no_cards_no_problems() -> None:
    assert validate_cards([]) == []


def _set_unknown_property(card: dict[str, Any]) -> None:
    card["body"][0]["colour"] = "accent"


def _duplicate_id(card: dict[str, Any]) -> None:
    card["body"][3]["id"] = "alternateEmail"


def _required_without_label(card: dict[str, Any]) -> None:
    del card["body"][1]["label"]
    del card["body"][1]["errorMessage"]


def _newer_than_15(card: dict[str, Any]) -> None:
    card["body"][1]["labelPosition"] = "inline"


def _unknown_element(card: dict[str, Any]) -> None:
    card["body"].append({"type": "Carousel", "pages": []})


def _bad_data_query(card: dict[str, Any]) -> None:
    card["body"][2]["choices.data"] = {"type": "Data.Query"}


def _bad_msteams(card: dict[str, Any]) -> None:
    card["msteams"] = {"width": "Wide"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(_set_unknown_property, ["schema: body/0:", "colour"], id="unknown property"),
        pytest.param(_duplicate_id, ["parser:", "DuplicateId", "alternateEmail"], id="duplicate id"),
        pytest.param(
            _required_without_label, ["parser:", "have a label", "error message"], id="required unlabeled"
        ),
        pytest.param(_newer_than_15, ["labelPosition", "1.6"], id="1.6 feature"),
        pytest.param(_unknown_element, ["Carousel"], id="unknown element"),
        pytest.param(_bad_data_query, ["choices.data", "dataset"], id="people picker without dataset"),
        pytest.param(_bad_msteams, ["msteams/width", "Wide"], id="bad msteams width"),
    ],
)
def test_broken_cards_fail_with_a_useful_message(change: Any, expected: list[str]) -> None:
    [problems] = validate_cards([_with(change)])
    assert problems, "the broken card passed"
    text = "\n".join(problems)
    for fragment in expected:
        assert fragment in text, text


def test_a_card_over_80_kb_fails() -> None:
    big = _with(lambda c: c["body"].append({"type": "TextBlock", "text": "x" * MAX_CARD_BYTES}))
    [problems] = validate_cards([big])
    assert any(p.startswith("size:") and "413" in p for p in problems), problems


def test_problems_stay_with_their_card() -> None:
    cards = [good_card(), _with(_duplicate_id), good_card(), _with(_set_unknown_property)]
    results = validate_cards(cards)
    assert [bool(r) for r in results] == [False, True, False, True]


def test_assert_valid_cards_reports_every_problem() -> None:
    with pytest.raises(AssertionError, match=r"card 1: parser: .*DuplicateId"):
        assert_valid_cards([good_card(), _with(_duplicate_id)])


def test_many_cards_are_checked_in_one_node_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests._common.card_validation as validation

    runs: list[object] = []
    real_run = validation.subprocess.run

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(validation.subprocess, "run", counted)
    assert validate_cards([good_card()] * 200) == [[]] * 200
    assert len(runs) == 1
