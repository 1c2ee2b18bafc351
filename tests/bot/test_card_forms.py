"""What a person typed survives a refusal, a refusal lives in the card it refuses, and every card
leads back where the person came from (over HTTP, through the real app)."""

from __future__ import annotations

from typing import Any

from tests._common.card_rules import all_inputs
from tests._common.harness import ALEX, LEE, MEGAN, BotClient, all_text

LEE_ID = LEE["aadObjectId"]


def card_of(body: Any) -> dict[str, Any]:
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    return body["value"]


def after(card: dict[str, Any], input_id: str) -> str:
    """The text right under the input ``input_id`` in the card's body (where a refusal belongs)."""
    body = card["body"]
    index = next(i for i, element in enumerate(body) if element.get("id") == input_id)
    under = body[index + 1] if index + 1 < len(body) else {}
    return str(under.get("text") or "") if under.get("color") == "Attention" else ""


async def test_a_refused_technical_assignment_keeps_the_person_and_the_email(bot: BotClient) -> None:
    typed = {"benefit_id": "tech-support", "person-tech-support": LEE_ID,
             "alternate-tech-support": "leeg@contoso.com"}  # Lee's company address: refused
    status, body, sent = await bot.execute(ALEX, "assign_user", typed)
    card = card_of(body)
    assert sent == []  # the reason is in the card, not in a chat message
    inputs = all_inputs(card)
    assert inputs["person-tech-support"]["value"] == LEE_ID
    assert inputs["alternate-tech-support"]["value"] == "leeg@contoso.com"
    assert "different from" in after(card, "alternate-tech-support")
    assert not [a for a in bot.service.repo.assignments_of_benefit("tech-support") if a.is_current]
    # the form sends again as it is, and leads back to the list
    verbs = [a.get("verb") for a in card["actions"]]
    assert verbs[:2] == ["assign_user", "list_technical"] and "help" in verbs
    fixed = {**typed, "alternate-tech-support": "lee.gu@outlook.com"}
    _, body, _ = await bot.execute(ALEX, "assign_user", fixed)
    assert "Lee Gu" in all_text(card_of(body)["body"][0])
    assert [a.person_id for a in bot.service.repo.assignments_of_benefit("tech-support") if a.is_current] == [LEE_ID]


async def test_a_refused_new_user_keeps_what_was_typed(bot: BotClient) -> None:
    typed = {"new_name": "Pat Kim", "new_email": "pat@", "new_roles": "user_admin"}
    status, body, sent = await bot.execute(ALEX, "add_user", typed)
    card = card_of(body)
    inputs = all_inputs(card)
    assert sent == [] and inputs["new_name"]["value"] == "Pat Kim" and inputs["new_email"]["value"] == "pat@"
    assert inputs["new_roles"]["value"] == "user_admin"
    assert after(card, "new_email") == "Enter a valid email address."
    assert bot.service.repo.person_by_email("pat@") is None


async def test_a_role_refusal_replaces_the_clicked_card_with_the_reason_and_a_way_on(bot: BotClient) -> None:
    status, body, sent = await bot.execute(MEGAN, "assign_user", {"benefit_id": "vs-professional",
                                                                  "person_id": LEE_ID})
    card = card_of(body)
    assert sent == [] and "global admin" in all_text(card) and "Alex Wilber" in all_text(card)
    assert [a["verb"] for a in card["actions"]] == ["help"]


async def test_recent_changes_lead_back_to_where_they_were_opened(bot: BotClient) -> None:
    _, body, _ = await bot.execute(ALEX, "recent_changes", {"subject_id": LEE_ID, "back": "users"})
    assert [(a["title"], a["verb"]) for a in card_of(body)["actions"]] == [("Back", "users"), ("Menu", "help")]
    _, body, _ = await bot.execute(ALEX, "recent_changes", {"subject_id": "gtm-gold-core",
                                                            "back": "list_go_to_market"})
    assert [a["verb"] for a in card_of(body)["actions"]] == ["list_go_to_market", "help"]
    # a back the viewer may not open is not offered
    _, body, _ = await bot.execute(MEGAN, "recent_changes", {"subject_id": LEE_ID, "back": "users"})
    assert [a["verb"] for a in card_of(body)["actions"]] == ["help"]


async def test_an_mpn_partner_admin_is_not_offered_what_only_a_global_admin_may_do(bot: BotClient) -> None:
    for verb in ("list_visual_studio", "list_technical", "list_cloud"):
        _, body, _ = await bot.execute(MEGAN, verb)
        dumped = str(card_of(body))
        for hidden in ("assign_user", "add_person", "remove_assignment"):
            assert f"'verb': '{hidden}'" not in dumped, (verb, hidden)
    _, body, _ = await bot.execute(ALEX, "list_visual_studio")
    assert "'verb': 'assign_user'" in str(card_of(body)) and "'verb': 'add_person'" in str(card_of(body))


async def test_a_refused_marketing_contact_keeps_the_chosen_user_as_the_form_names_them(bot: BotClient) -> None:
    """The Teams people picker answers with an Entra id or an address, not our directory id: the refused
    form must select the person among its own choices, or the renderer shows the User empty."""
    typed = {"mode": "add", "person_id": "meganb@contoso.com", "alternate_email": "meganb@contoso.com",
             "phone": "+1 425 555 0100", "preferred_language": "en-US"}
    _, body, sent = await bot.execute(MEGAN, "set_marketing_contact", typed)
    card = card_of(body)
    picker = all_inputs(card)["person_id"]
    assert sent == [] and picker["value"] == MEGAN["aadObjectId"]
    assert picker["value"] in {c["value"] for c in picker["choices"]}
    assert all_inputs(card)["phone"]["value"] == "+1 425 555 0100"
    assert "different from" in after(card, "alternate_email")
    assert bot.service.repo.marketing_contact() is None


async def test_a_refused_assignment_selects_the_person_picked_by_address(bot: BotClient) -> None:
    typed = {"benefit_id": "tech-support", "person-tech-support": "leeg@contoso.com",
             "alternate-tech-support": "leeg@contoso.com"}
    _, body, _ = await bot.execute(ALEX, "assign_user", typed)
    picker = all_inputs(card_of(body))["person-tech-support"]
    assert picker["value"] == LEE_ID and LEE_ID in {c["value"] for c in picker["choices"]}
