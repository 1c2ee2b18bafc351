"""Typed card data: each field read in one place; a bad one refused naming it as the person sees it,
quoting at most a short excerpt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from dialogs import payloads
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
