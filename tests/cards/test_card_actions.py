"""Every button of every card the bot shows, as the Adaptive Cards renderer would run it.

The cards are collected by clicking through the bot over HTTP as each demo role (Global admin,
MPN partner admin, User admin, employee), from the menu, every button that only shows something
or asks first. For every card:
- a button validates and sends exactly the inputs its action reads (``dialogs.actions.INPUTS``):
  no input of another form can block it, and no input it needs is left behind;
- no two buttons shown together have the same accessible name (title, else tooltip), so a screen reader
  tells them apart;
- there is a way back to the menu;
- it offers only what the viewer may do (``dialogs.registry.Workflows.may``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dialogs.registry import Workflows
from tests._common.card_rules import (
    SENDING,
    all_inputs,
    associated_inputs,
    cards_within,
    same_named_actions,
    verb_and_data,
)
from tests._common.harness import ALEX, ISAIAH, LEE, MEGAN, BotClient, cards_in

WORKFLOWS = Workflows.load()
ROLES = {"global admin": ALEX, "MPN partner admin": MEGAN, "user admin": ISAIAH, "employee": LEE}
#: Buttons that change something with the data they carry alone; the walk does not press them.
CHANGES = {"activate_offer", "set_language", "mark_activated", "decide_request"}
MAX_CLICKS = 160


def _changes_at_once(verb: str, data: dict[str, Any]) -> bool:
    return (verb in CHANGES or data.get("confirm") == "yes"
            or (verb == "assign_user" and bool(data.get("person_id"))))


def _key(verb: str, data: dict[str, Any]) -> str:
    return json.dumps({"verb": verb, **{k: v for k, v in data.items() if k not in ("nonce", "action")}},
                      sort_keys=True)


async def walk(bot: BotClient, user: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(how it was reached, card) for every card reachable from the menu without changing anything."""
    found: list[tuple[str, dict[str, Any]]] = [("help", c) for c in cards_in(await bot.say(user, "help"))]
    for text in ("changes", "changes Lee Gu"):
        found += [(text, c) for c in cards_in(await bot.say(user, text))]
    done: set[str] = set()
    index = 0
    while index < len(found) and len(done) < MAX_CLICKS:
        _, card = found[index]
        index += 1
        for current, _ in cards_within(card):
            for action in _all_sending(current):
                verb, data = verb_and_data(action)
                key = _key(verb, data)
                if key in done or _changes_at_once(verb, data):
                    continue
                done.add(key)
                status, body, sent = await bot.execute(user, verb, {k: v for k, v in data.items() if k != "action"})
                assert status == 200, (verb, data)
                if isinstance(body, dict) and isinstance(body.get("value"), dict):
                    found.append((key, body["value"]))
                found += [(key, c) for c in cards_in(sent)]
    return found


def _all_sending(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a, _ in associated_inputs(card) if a.get("type") in SENDING]


@pytest.fixture
async def reached(bot: BotClient) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return {role: await walk(bot, user) for role, user in ROLES.items()}


def test_each_button_sends_exactly_the_inputs_its_action_reads(
        reached: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    problems = []
    checked = 0
    for role, cards in reached.items():
        for how, card in cards:
            present = set(all_inputs(card))
            for action, scope in associated_inputs(card):
                verb, data = verb_and_data(action)
                reads = WORKFLOWS.inputs_read(verb, data)
                validated = set(scope)
                checked += 1
                if validated - reads:
                    problems.append(f"{role} {how}: {action.get('title')!r} ({verb}) is validated by "
                                    f"another form's inputs {sorted(validated - reads)}")
                if (reads & present) - validated:
                    problems.append(f"{role} {how}: {action.get('title')!r} ({verb}) does not send "
                                    f"{sorted((reads & present) - validated)}")
    assert checked > 100
    assert not problems, "\n".join(problems)


def test_no_two_buttons_shown_together_share_a_name(reached: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    problems = [f"{role} {how}: {clash}" for role, cards in reached.items() for how, card in cards
                for clash in same_named_actions(card)]
    assert not problems, "\n".join(problems)


def test_every_card_leads_back_to_the_menu(reached: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    problems = []
    for role, cards in reached.items():
        for how, card in cards:
            verbs = {verb_and_data(a)[0] for a in _all_sending(card)}
            is_menu = "Action.Execute" in json.dumps(card) and verbs >= {"my_benefits"} and "language" in verbs
            if "help" not in verbs and not is_menu:
                problems.append(f"{role} {how}: {card['body'][0].get('text')!r} has no way back to the menu")
    assert not problems, "\n".join(problems)


def test_cards_offer_only_what_the_viewer_may_do(bot: BotClient,
                                                 reached: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    problems = []
    for role, cards in reached.items():
        person = bot.service.repo.person(ROLES[role]["aadObjectId"])
        for how, card in cards:
            for current, _ in cards_within(card):
                for action in _all_sending(current):
                    verb, _ = verb_and_data(action)
                    if not WORKFLOWS.may(person, verb):
                        problems.append(f"{role} {how}: {action.get('title')!r} ({verb}) would be refused")
    assert not problems, "\n".join(problems)
