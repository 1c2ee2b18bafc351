"""No English UI word in any card or message the bot sends a zh-CN or zh-TW person.

The real app over HTTP with the demo data: each demo role says every command in its own language,
then every button of every card reached is clicked (Action.Execute and Action.Submit, those inside
Action.ShowCard forms too, with the card's inputs left as rendered, so refusals are reached as well).
Everything shown (texts, titles, labels, fact values, choice titles, error messages, tooltips) and
every message is checked: brand and product names, people, emails, URLs and keys aside
(``tests/_common/english.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dialogs.registry import Workflows
from domain.models import Role
from services.i18n import Translator
from tests._common.english import english_in_card, english_words
from tests._common.harness import ALEX, ISAIAH, LEE, MEGAN, NESTOR, BotClient, cards_in

#: Clicks per role and language: enough to reach every kind of card from the menu (a crawl of ~100).
MAX_CLICKS = 160
#: What a person typed is theirs to write in any language.
TYPED_NOTE = "for the new project"
#: Verbs that would leave the language under test (the language card's other choices).
_LEAVES_LOCALE = ("set_language", "language")


def _buttons(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(verb, data) of every Execute/Submit button in a card, ShowCard forms included."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "Action.Execute" and node.get("verb"):
            data = {k: v for k, v in (node.get("data") or {}).items() if k != "action"}
            yield node["verb"], data
        elif kind == "Action.Submit" and isinstance(node.get("data"), dict) and node["data"].get("action"):
            data = {k: v for k, v in node["data"].items() if k != "action"}
            yield node["data"]["action"], data
        for key, value in node.items():
            if key != "fallback":
                yield from _buttons(value)
    elif isinstance(node, list):
        for item in node:
            yield from _buttons(item)


def _key(verb: str, data: dict[str, Any]) -> str:
    return json.dumps([verb, {k: v for k, v in data.items() if k != "nonce"}], sort_keys=True)


async def _history(bot: BotClient) -> None:
    """Something of every kind in the audit trail and the lists: keys revealed, seats assigned and
    pending, a marketing contact, an offer activated, a role granted, a request filed."""
    service = bot.service
    repo = service.repo
    alex, lee, nestor = (repo.person(u["aadObjectId"]) for u in (ALEX, LEE, NESTOR))
    await service.reveal_keys(alex, "sw-office", "Chinese (Simplified)", "64-bit")
    await service.reveal_keys(alex, "cloud-dynamics", "English", "")
    await service.assign(alex, "vs-enterprise", lee.id)
    await service.assign(alex, "tech-support", nestor.id, "nestor@outlook.com")
    await service.assign(alex, "cloud-azure-credit", alex.id)
    await service.set_marketing_contact(alex, lee.id, "lee@outlook.com", "+1 425 555 0100", "zh-CN")
    await service.request_offer_activation(alex, "gtm-gold-core")
    await service.mark_activated(alex, "gtm-gold-core", service.today(), None)
    await service.request_offer_activation(alex, "gtm-isv-cosell")
    await service.set_roles(alex, nestor.id, frozenset({Role.ADMIN_AGENT}))
    await service.request_benefit(lee, "vs-professional", TYPED_NOTE)


async def _crawl(bot: BotClient, user: dict[str, Any], locale: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every card and message one person reaches from the commands, in one language."""
    bot.locale = locale
    t = Translator(locale)
    cards: list[dict[str, Any]] = []
    messages: list[str] = []
    queue: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()

    def take(activities: list[dict[str, Any]]) -> None:
        for card in cards_in(activities):
            cards.append(card)
            queue.extend(_buttons(card))
        messages.extend(a["text"] for a in activities if a.get("text"))

    workflows = Workflows.load()
    parse_command = workflows.commands.parse
    for action in workflows.commands.commands:
        phrase = t(workflows.hint_key(action))
        assert parse_command(phrase) is not None and parse_command(phrase).action == action, (locale, phrase)
        take(await bot.say(user, phrase))
    clicks = 0
    while queue and clicks < MAX_CLICKS:
        verb, data = queue.pop(0)
        if verb in _LEAVES_LOCALE or _key(verb, data) in seen:
            continue
        seen.add(_key(verb, data))
        clicks += 1
        status, body, sent = await bot.execute(user, verb, data)
        assert status == 200, (verb, data, status)
        value = body.get("value") if isinstance(body, dict) else None
        if isinstance(value, dict) and value.get("type") == "AdaptiveCard":
            take([{"attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                    "content": body["value"]}]}])
        take(sent)
    return cards, messages


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
@pytest.mark.parametrize("user", [ALEX, MEGAN, ISAIAH, LEE], ids=lambda u: u["name"].split()[0])
async def test_every_card_a_person_reaches_is_in_their_language(bot: BotClient, user: dict[str, Any],
                                                                 locale: str) -> None:
    await _history(bot)
    cards, messages = await _crawl(bot, user, locale)
    assert len(cards) >= 5, "the crawl reached too few cards to mean anything"
    print(f"{user['name']} {locale}: {len(cards)} cards, {len(messages)} messages")
    people = [p.name for p in bot.service.repo.people()]
    allowed = (*people, *(part for name in people for part in name.split()), "Contoso", TYPED_NOTE)
    problems: dict[str, list[str]] = {}
    for card in cards:
        problems.update(english_in_card(card, allowed))
    for message in messages:
        words = english_words(message, allowed)
        if words:
            problems[message] = words
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:6000]


def test_the_detector_finds_english_and_allows_brands() -> None:
    card = {"type": "AdaptiveCard", "body": [
        {"type": "TextBlock", "text": "Visual Studio 企业版订阅 · Gold Core"},
        {"type": "FactSet", "facts": [{"title": "状态", "value": "Not activated"}]},
        {"type": "TextBlock", "text": "[下载](https://my.visualstudio.com/Downloads?q=office) alexw@contoso.com"},
        {"type": "ActionSet", "actions": [{"type": "Action.Execute", "title": "打开", "verb": "list_software",
                                           "data": {"action": "list_software"}}]},
    ]}
    found = english_in_card(card)
    assert found == {"Visual Studio 企业版订阅 · Gold Core": ["Gold", "Core"], "Not activated": ["Not", "activated"]}


#: Catalog words that are not English prose: a date pattern, a CPU architecture, a program's brand,
#: a Graph permission an admin must copy exactly.
CATALOG_ALLOWED = ("YYYY-MM-DD", "Arm64", "Microsoft AI", "TeamsAppInstallation.ReadWriteSelfForUser.All",
                   "Microsoft Entra ID", "Graph")
#: Areas that are not the bot's chat (the /privacy and /terms web pages name the product and services).
CATALOG_SKIPPED_AREAS = ("legal",)


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_no_catalog_sentence_has_english_words(locale: str) -> None:
    """Also the sentences no crawl reaches (rare refusals, notifications): placeholders aside."""
    import re

    from services.i18n import load_catalogs

    found = {}
    for key, text in load_catalogs()[locale].items():
        if key.split(".")[0] in CATALOG_SKIPPED_AREAS:
            continue
        words = english_words(re.sub(r"\{[^}]*\}", " ", text), CATALOG_ALLOWED)
        if words:
            found[key] = words
    assert not found, found
