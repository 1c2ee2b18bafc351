"""Typed card data: each field read in one place; a bad one refused naming it as the person sees it,
quoting at most a short excerpt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from dialogs import payloads
from dialogs.registry import Workflows
from domain import errors
from domain.errors import EXCERPT_LENGTH, RuleViolation
from services.i18n import Translator
from tests._common.harness import ALEX, MEGAN, BotClient, all_text


@dataclass(frozen=True)
class Form:
    alternate_email: str = payloads.text("alternate_email", 254)
    name: str = payloads.text("name", 10, key="new_name", keep=True)
    page: int = payloads.page()
    mode: str = payloads.carried("mode", "add")


def refusal(data: dict[str, Any], locale: str = "en-US") -> str:
    with pytest.raises(RuleViolation) as refused:
        payloads.parse(Form, data)
    return str(Translator(locale)(refused.value.code, **refused.value.params))


def test_a_good_click_is_read_into_its_shape() -> None:
    form = payloads.parse(Form, {"alternate_email": "a@b.com", "new_name": "Pat", "page": "2", "mode": "change"})
    assert form == Form("a@b.com", "Pat", 2, "change")
    assert payloads.parse(Form, {}) == Form("", "", 0, "add")
    assert payloads.parse(Form, {"alternate_email": None, "page": [1], "mode": 5}) == Form("", "", 0, "add")
    assert payloads.parse(Form, {"new_name": "x" * 50}).name == "x" * 10  # kept as far as its input holds


@pytest.mark.parametrize("value", [["a@b.com"], {"a": 1}, True])
def test_a_value_that_is_not_text_is_refused_by_its_label(value: Any) -> None:
    said = refusal({"alternate_email": value})
    assert said.startswith("the alternate email address must be text") and "alternate_email" not in said
    assert "备用电子邮件地址" in refusal({"alternate_email": value}, "zh-CN")


def test_a_refusal_quotes_a_short_excerpt_only() -> None:
    pasted = ["https://evil.example/" + "A" * 50_000]
    said = refusal({"alternate_email": pasted})
    assert len(said) < 60 + EXCERPT_LENGTH and "AAAA" in said and "A" * EXCERPT_LENGTH not in said
    too_long = refusal({"alternate_email": "x" * 300})
    assert too_long == "Too long: the alternate email address (at most 254 characters)."


def test_a_shape_with_an_undeclared_field_is_a_programming_error() -> None:
    @dataclass(frozen=True)
    class Broken:
        raw: str

    with pytest.raises(TypeError, match="Broken.raw"):
        payloads.parse(Broken, {"raw": "x"})


async def test_a_forged_click_is_refused_in_the_card_and_changes_nothing(bot: BotClient) -> None:
    before = bot.service.repo.marketing_contact()
    status, body, _ = await bot.execute(MEGAN, "set_marketing_contact", {
        "person_id": MEGAN["aadObjectId"], "alternate_email": ["x@contoso.com"] * 1000, "phone": "+1 425 555 0100"})
    shown = all_text(body["value"])
    assert status == 200 and "the alternate email address must be text" in shown
    assert "alternate_email" not in shown and len(json.dumps(body)) < 20_000
    assert bot.service.repo.marketing_contact() == before
    assert errors.NOT_TEXT == "errors.not_text"


@pytest.mark.parametrize(("verb", "field", "label"), [
    ("add_user", "new_name", "the name"), ("add_person", "new_person_email", "the email address"),
    ("decide_request", "alternate_email", "the alternate email address"), ("submit_assistance", "topic", "the topic"),
    ("record_request_number", "request_id", "the request"), ("submit_benefit_request", "note", "the note"),
    ("close_request", "request_id", "the request"), ("request_card", "request_id", "the request"),
    ("service_request", "request_id", "the request"), ("cancel_package", "package_id", "the benefit package"),
    ("activate_offer", "benefit_id", "the benefit"), ("request_assistance", "benefit_id", "the benefit"),
])
async def test_every_typed_verb_names_the_field_it_refuses(bot: BotClient, verb: str, field: str, label: str) -> None:
    status, body, _ = await bot.execute(ALEX, verb, {field: {"nested": ["x"] * 100}})
    shown = all_text(body["value"])
    assert status == 200 and f"{label} must be text" in shown and field not in shown.replace(label, "")


@dataclass(frozen=True)
class RowForm:
    benefit_id: str = payloads.text("benefit", 20)
    person_id: str = payloads.text("person_id", 10, key=("person_id", "person-{benefit_id}"))
    field: str = payloads.carried("field")
    expires_on: str = payloads.text("expires_on", 10, key="{field}")
    back_data: dict[str, str] = payloads.carried_words("back_data")


def test_an_input_named_after_its_row_is_read_by_the_id_the_button_carries() -> None:
    assert payloads.parse(RowForm, {"benefit_id": "vs", "person-vs": "lee", "person-sw": "pat"}).person_id == "lee"
    assert payloads.parse(RowForm, {"benefit_id": "vs", "person_id": "pat", "person-vs": "lee"}).person_id == "pat"
    assert payloads.parse(RowForm, {"person-vs": "lee", "person-{benefit_id}": "x"}).person_id == ""
    assert payloads.parse(RowForm, {"field": "expires_2", "expires_2": "2027-01-01"}).expires_on == "2027-01-01"
    with pytest.raises(RuleViolation) as refused:
        payloads.parse(RowForm, {"benefit_id": "vs", "person-vs": ["lee"]})
    assert refused.value.params["field"] == "person_id"
    with pytest.raises(RuleViolation) as refused:
        payloads.parse(RowForm, {"field": "expires_0", "expires_0": "x" * 11})
    assert refused.value.code == errors.TOO_LONG and refused.value.params["field"] == "expires_on"
    words = payloads.parse(RowForm, {"back_data": {"page": "2", "query": ["x"], "n": 1}}).back_data
    assert words == {"page": "2"} and payloads.parse(RowForm, {"back_data": "page=2"}).back_data == {}


def test_every_verb_declares_the_shape_of_its_data() -> None:
    workflows = Workflows.load()
    untyped = [verb for verb in workflows if (declared := workflows.get(verb)) is None or declared.payload is None]
    assert not untyped, f"verbs reading raw card data: {untyped}"


def _state(bot: BotClient) -> tuple[Any, ...]:
    repo = bot.service.repo
    people = sorted((p.id, sorted(p.roles)) for p in repo.people())
    benefits = [b.id for b in repo.benefits()]
    return people, sorted(repo.all_assignments(), key=lambda a: a.id), repo.key_reveals(benefits)


#: (verb, forged click, the field's name in en-US, in zh-CN, in zh-TW); never the data's own key
FORGED = [
    ("assign_user", {"benefit_id": "vs-ent", "person-vs-ent": ["x"] * 50}, "the user", "用户", "使用者"),
    ("assign_user", {"benefit_id": "vs-ent", "person_id": MEGAN["aadObjectId"], "alternate-vs-ent": {"a": 1}},
     "the alternate email address", "备用电子邮件地址", "替代電子郵件地址"),
    ("reveal_keys", {"benefit_id": "sw-1", "language-sw-1": ["English"]}, "the language", "语言", "語言"),
    ("reveal_keys", {"benefit_id": "sw-1", "os": {"x": 64}}, "the operating system (OS) type", None, None),
    ("set_roles", {"person_id": MEGAN["aadObjectId"], "input": "roles_3", "roles_3": ["global_admin"]},
     "the roles", None, None),
    ("set_roles", {"person_id": ["x"] * 20, "roles": "", "confirm": "yes"}, "the user", "用户", "使用者"),
    ("mark_activated", {"target": "a-1", "field": "expires_0", "expires_0": {"y": 2027}}, "Expires", None, None),
    ("mark_activated", {"target": [1, 2], "field": "expires_0"}, "the benefit", "权益", "權益"),
    ("users", {"query": ["alex"] * 30, "find": 1}, "the search", "搜索", "搜尋"),
    ("assignees", {"benefit_id": {"id": "vs"}}, "the benefit", "权益", "權益"),
    ("assignees", {"benefit_id": "vs", "argument": ["a"]}, "the search", None, None),
    ("remove_assignment", {"assignment_id": ["a-1"], "confirm": "yes"}, "the assignment", "分配", "指派"),
    ("recent_changes", {"subject_id": {"id": "vs"}}, "the benefit or package", "权益或套餐", "權益或套件"),
    ("set_language", {"locale": ["zh-CN"]}, "the language", "语言", "語言"),
    ("language", {"argument": ["zh-TW"]}, "the language", "语言", "語言"),
]


@pytest.mark.parametrize(("verb", "data", "en", "zh_cn", "zh_tw"), FORGED)
async def test_a_forged_field_of_any_verb_is_refused_by_its_name_and_changes_nothing(
        bot: BotClient, verb: str, data: dict[str, Any], en: str, zh_cn: str | None, zh_tw: str | None) -> None:
    before = _state(bot)
    for locale, label, must in [("en-US", en, " must be text"), ("zh-CN", zh_cn, "必须是文本"),
                                ("zh-TW", zh_tw, "必須是文字")]:
        if label is None:
            continue
        bot.locale = locale
        status, body, sent = await bot.execute(ALEX, verb, data)
        shown = all_text(body["value"]) if isinstance(body, dict) and "value" in body else ""
        shown += " ".join(all_text(s) for s in sent)
        assert status == 200 and f"{label}{must}" in shown, (locale, shown[:300])
        assert not [key for key in data if key in shown.replace(label, "")], shown[:300]
        assert len(shown) < 2_000
    assert _state(bot) == before
