"""Unit tests of the admin cards: pure functions from domain objects to Adaptive Card 1.5 JSON."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cards.assistance import assistance_form
from cards.benefit_list import PAGE_SIZE, ListView, list_card
from cards.keys import keys_card
from cards.overview import overview_card
from dialogs.registry import Workflows
from domain.models import (
    Assignment,
    Benefit,
    BenefitKind,
    BenefitPackage,
    Category,
    DownloadLink,
    Person,
    ProductKey,
    Role,
    Status,
    Unit,
)
from services.benefits import CategorySummary
from services.i18n import LOCALES, Translator
from tests._common.card_validation import assert_valid_cards

VERBS = frozenset(Workflows.load())
TODAY = date(2026, 11, 22)
ALEX = Person("alex", "Alex Wilber", "alexw@contoso.com", frozenset({Role.GLOBAL_ADMIN}))
LEE = Person("lee", "Lee Gu", "leeg@contoso.com")
PACKAGE = BenefitPackage("pkg", "Microsoft Action Pack", TODAY - timedelta(days=12), "Action Pack",
                         TODAY + timedelta(days=353))
KEYS = tuple(ProductKey(f"k{n}", lang, os_, f"KEY-{n}") for n, (lang, os_) in enumerate(
    [("English", "64-bit"), ("English", "32-bit"), ("Chinese (Simplified)", "64-bit")]))
DOWNLOADS = (DownloadLink("English", "64-bit", "https://example.com/en64", "Setup"),)


def SUMMARY(category: Category) -> CategorySummary:  # noqa: N802 - a fixture factory
    return CategorySummary(category, 2, ((Status.ACTIVE, 1), (Status.NOT_ACTIVATED, 1)),
                           ((Unit.SUBSCRIPTION, 2), (Unit.HOUR, 50)), seats=2, seats_assigned=1)


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def check(card: dict[str, Any]) -> None:
    """Serializable, 1.5, under 80 KB, ids unique, every Execute verb registered, no styles Teams lacks."""
    dumped = json.dumps(card, ensure_ascii=False)
    assert len(dumped.encode()) < 80_000
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    ids = Counter(n["id"] for n in walk(card) if isinstance(n.get("id"), str))
    assert not [i for i, c in ids.items() if c > 1]
    for node in walk(card):
        if node.get("type") == "Action.Execute":
            assert node["verb"] in VERBS, node["verb"]
            assert node["fallback"]["type"] == "Action.Submit"
        if node.get("type", "").startswith("Action."):
            assert node.get("style") not in ("positive", "destructive")
        if node.get("type", "").startswith("Input."):
            assert node.get("label")
        assert node.get("type") != "Media"


def view(category: Category, rows: list[tuple[Benefit, list[Assignment]]], **kw: Any) -> ListView:
    return ListView(category=category, rows=rows, actor=ALEX, today=TODAY, people={p.id: p for p in (ALEX, LEE)},
                    packages={PACKAGE.id: PACKAGE}, account_email="partnercenter@contoso.com", nonce="n1", **kw)


def benefits() -> dict[Category, list[tuple[Benefit, list[Assignment]]]]:
    vs = Benefit("vs", "pkg", BenefitKind.VISUAL_STUDIO, "VS Enterprise", quantity=1, fully_assigned_on=TODAY)
    assignment = Assignment("a1", "vs", "lee", "alex", datetime(2026, 11, 22, tzinfo=UTC), Status.ACTIVE)
    return {
        Category.SOFTWARE: [(Benefit("sw", "pkg", BenefitKind.SOFTWARE, "Office", 10, keys=KEYS, downloads=DOWNLOADS,
                                    special_instructions="Use the ODT."), [])],
        Category.CLOUD: [(Benefit("az", "pkg", BenefitKind.CLOUD_USAGE_BASED, "Azure credit",
                                  activate_by=TODAY + timedelta(days=60), portal_url="https://portal.azure.com"), []),
                         (Benefit("dyn", "pkg", BenefitKind.CLOUD_LICENSE_BASED, "Dynamics", 5, keys=KEYS), [])],
        Category.VISUAL_STUDIO: [(vs, [assignment])],
        Category.TECHNICAL: [(Benefit("ts", "pkg", BenefitKind.SUPPORT_INCIDENTS, "Support", 20), []),
                             (Benefit("adv", "pkg", BenefitKind.ADVISORY_HOURS, "Advisory", 50), [])],
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("category", [Category.SOFTWARE, Category.CLOUD, Category.VISUAL_STUDIO, Category.TECHNICAL])
def test_list_cards_are_valid(category: Category, locale: str) -> None:
    card = list_card(view(category, benefits()[category]), Translator(locale))
    check(card)


def test_rows_expand_from_a_toggle_at_the_far_right() -> None:
    card = list_card(view(Category.SOFTWARE, benefits()[Category.SOFTWARE]), Translator("en-US"))
    row = [b for b in card["body"] if b.get("id") == "row-sw"][0]
    last = row["columns"][-1]["items"][0]["selectAction"]
    assert last["type"] == "Action.ToggleVisibility" and last["targetElements"] == ["details-sw"]
    details = [b for b in card["body"] if b.get("id") == "details-sw"][0]
    assert details["isVisible"] is False


def test_keys_form_offers_the_languages_and_oses_of_the_product() -> None:
    card = list_card(view(Category.SOFTWARE, benefits()[Category.SOFTWARE]), Translator("zh-CN"))
    inputs = {n["id"]: n for n in walk(card) if n.get("type") == "Input.ChoiceSet"}
    assert [c["value"] for c in inputs["language-sw"]["choices"]] == ["English", "Chinese (Simplified)"]
    assert [c["value"] for c in inputs["os-sw"]["choices"]] == ["64-bit", "32-bit"]
    assert all(i["isRequired"] and i["errorMessage"] for i in inputs.values())
    verbs = [n for n in walk(card) if n.get("type") == "Action.Execute" and n["verb"] == "reveal_keys"]
    assert verbs and verbs[0]["title"] == "获取密钥" and verbs[0]["data"]["nonce"]
    assert "KEY-0" not in json.dumps(card)  # keys appear only after Get keys


def test_fully_assigned_visual_studio_shows_the_lock_and_no_remove() -> None:
    card = list_card(view(Category.VISUAL_STUDIO, benefits()[Category.VISUAL_STUDIO]), Translator("en-US"))
    dump = json.dumps(card)
    assert "you can reassign one from Feb 20, 2027" in dump
    assert "any time" not in dump and "remove an assigned user" not in dump.lower()  # one rule, said once
    assert '"verb": "remove_assignment"' not in dump


def test_people_picker_has_static_choices_and_the_graph_dataset() -> None:
    vs = Benefit("vs2", "pkg", BenefitKind.VISUAL_STUDIO, "VS Pro", quantity=5)
    card = list_card(view(Category.VISUAL_STUDIO, [(vs, [])]), Translator("en-US"))
    picker = [n for n in walk(card) if n.get("id") == "person-vs2"][0]
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert {c["value"] for c in picker["choices"]} == {"alex", "lee"}


def test_usage_based_offers_only_yourself() -> None:
    card = list_card(view(Category.CLOUD, benefits()[Category.CLOUD]), Translator("en-US"))
    assigns = [n for n in walk(card) if n.get("type") == "Action.Execute" and n["verb"] == "assign_user"
               and n["data"]["benefit_id"] == "az"]
    assert [a["data"]["person_id"] for a in assigns] == ["alex"]
    assert "Activate by Jan 21, 2027" in json.dumps(card) and "Action Pack" in json.dumps(card)


def test_many_benefits_are_paginated_under_80_kb() -> None:
    many = [(Benefit(f"b{n}", "pkg", BenefitKind.SUPPORT_INCIDENTS,
                     f"Benefit {n} " + "x" * 200, 5, description="d" * 1500), []) for n in range(60)]
    first = list_card(view(Category.TECHNICAL, many), Translator("en-US"))
    check(first)
    rows = [b for b in first["body"] if str(b.get("id", "")).startswith("row-")]
    assert len(rows) == PAGE_SIZE
    nxt = [a for a in first["actions"] if a.get("verb") == "list_technical"]
    assert nxt and nxt[0]["data"]["page"] == 1
    last = list_card(view(Category.TECHNICAL, many, page=99), Translator("en-US"))
    pages = -(-len(many) // PAGE_SIZE)
    assert f"Page {pages} of {pages}" in json.dumps(last)


def test_overview_and_keys_and_assistance_cards_are_valid() -> None:
    t = Translator("zh-TW")
    summaries = [SUMMARY(c) for c in Category]
    card = overview_card(summaries, [PACKAGE], t, set(VERBS))
    check(card)
    assert "list_go_to_market" not in json.dumps(card) or "list_go_to_market" in VERBS
    assert "2026年11月10日" in json.dumps(card, ensure_ascii=False)
    software = benefits()[Category.SOFTWARE][0][0]
    keys = keys_card(software, [KEYS[0]], "English", "64-bit", ALEX, datetime(2026, 11, 22, tzinfo=UTC), t)
    check(keys)
    assert "KEY-0" in json.dumps(keys) and "https://example.com/en64" in json.dumps(keys)
    form = assistance_form(benefits()[Category.TECHNICAL][1][0], t, "n")
    check(form)
    phases = [n for n in walk(form) if n.get("id") == "phase"][0]
    assert [c["value"] for c in phases["choices"]] == ["presales", "design", "deployment", "app_development"]


def test_a_big_directory_and_many_assignees_stay_under_80_kb() -> None:
    people = {f"p{n}": Person(f"p{n}", f"Person number {n}", f"person.number.{n}@contoso.com") for n in range(500)}
    rows = []
    for b in range(PAGE_SIZE):
        benefit = Benefit(f"vs{b}", "pkg", BenefitKind.VISUAL_STUDIO, f"VS {b}", quantity=1000)
        rows.append((benefit, [Assignment(f"a{b}-{n}", benefit.id, f"p{n}", "alex",
                                          datetime(2026, 11, 1, tzinfo=UTC), Status.ACTIVE) for n in range(300)]))
    card = list_card(ListView(Category.VISUAL_STUDIO, rows, ALEX, TODAY, people, {PACKAGE.id: PACKAGE}, nonce="n"),
                     Translator("en-US"))
    check(card)
    assert "more" in json.dumps(card)  # assignee lines were cut, with a count of the rest
    assert len([b for b in card["body"] if str(b.get("id", "")).startswith("row-")]) == PAGE_SIZE


def test_cards_pass_the_official_1_5_schema_and_parser() -> None:
    """The official schema and the official parser (tests/_common/card_validation.py), every locale."""
    vs_open = Benefit("vs2", "pkg", BenefitKind.VISUAL_STUDIO, "VS Pro", quantity=5)
    cards = []
    for locale in ("en-US", "zh-CN", "zh-TW"):
        t = Translator(locale)
        cards += [list_card(view(c, rows), t) for c, rows in benefits().items()]
        cards += [list_card(view(Category.VISUAL_STUDIO, [(vs_open, [])]), t),
                  overview_card([SUMMARY(c) for c in Category], [PACKAGE], t, set(VERBS)),
                  keys_card(benefits()[Category.SOFTWARE][0][0], [KEYS[0]], "English", "64-bit", ALEX,
                            datetime(2026, 11, 22, tzinfo=UTC), t),
                  assistance_form(benefits()[Category.TECHNICAL][1][0], t, "n")]
    assert_valid_cards(cards)
