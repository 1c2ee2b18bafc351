"""A replayed click (same nonce) that carries different inputs is answered with what the first click did.

Real Action.Execute invokes over HTTP to the app on loopback; the store is read only to check what
happened. Each test clicks the same button of the same card twice, the second time with another
choice, and checks both the effect (one) and the answer (the first click's outcome).
"""

from __future__ import annotations

from typing import Any

from tests._common.harness import ALEX, LEE, MEGAN, NESTOR, BotClient, all_text

LEE_ID = LEE["aadObjectId"]
NESTOR_ID = NESTOR["aadObjectId"]
MEGAN_ID = MEGAN["aadObjectId"]


def top(body: dict[str, Any]) -> str:
    """The outcome notice at the top of the card that replaced the clicked one."""
    assert body["statusCode"] == 200, body
    return all_text(body["value"]["body"][0])


async def test_second_click_choosing_someone_else_is_answered_with_the_first_assignment(bot: BotClient) -> None:
    nonce = "card-7:assign_user:vs-professional"
    _, first, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": LEE_ID,
                                                          "nonce": nonce})
    _, second, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": NESTOR_ID,
                                                           "nonce": nonce})
    held = [a.person_id for a in bot.service.repo.assignments_of_benefit("vs-professional") if a.is_current]
    assert held == [LEE_ID]
    assert "assigned to Lee Gu" in top(first)
    assert "assigned to Lee Gu" in top(second) and "Nestor" not in top(second)


async def test_second_remove_click_is_answered_with_the_first_removal(bot: BotClient) -> None:
    alex = bot.service.repo.person(ALEX["aadObjectId"])
    lee = await bot.service.assign(alex, "vs-professional", LEE_ID)
    nestor = await bot.service.assign(alex, "vs-professional", NESTOR_ID)
    nonce = "card-8:remove_assignment:x"
    _, first, _ = await bot.execute(ALEX, "remove_assignment", {"assignment_id": lee.id, "nonce": nonce,
                                                                "confirm": "yes"})
    _, second, _ = await bot.execute(ALEX, "remove_assignment", {"assignment_id": nestor.id, "nonce": nonce,
                                                                 "confirm": "yes"})
    assert bot.service.repo.assignment(nestor.id).is_current  # one click, one removal
    assert not bot.service.repo.assignment(lee.id).is_current
    assert "Lee Gu" in top(first) and "Lee Gu" in top(second) and "Nestor" not in top(second)


async def test_second_marketing_contact_click_is_answered_with_the_contact_the_first_set(bot: BotClient) -> None:
    form = {"alternate_email": "marketing@outlook.com", "phone": "+1 425 555 0100", "preferred_language": "en-US",
            "nonce": "card-9:set_marketing_contact"}
    _, first, _ = await bot.execute(MEGAN, "set_marketing_contact", {**form, "person_id": MEGAN_ID})
    _, second, _ = await bot.execute(MEGAN, "set_marketing_contact", {**form, "person_id": NESTOR_ID})
    assert bot.service.repo.marketing_contact().person_id == MEGAN_ID
    assert "Megan Bowen is now the company marketing contact" in all_text(first["value"])
    assert "Megan Bowen is now the company marketing contact" in all_text(second["value"])
    assert "Nestor" not in all_text(second["value"]).split("marketing contact")[0]


async def test_second_activate_click_on_another_offer_is_answered_with_the_first_offer(bot: BotClient) -> None:
    await bot.service.set_marketing_contact(bot.service.repo.person(MEGAN_ID), MEGAN_ID, "marketing@outlook.com",
                                            "+1 425 555 0100", "en-US")
    nonce = "card-10:activate_offer"
    await bot.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-gold-core", "nonce": nonce})
    _, second, _ = await bot.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-isv-cosell", "nonce": nonce})
    assert bot.service.repo.benefit("gtm-isv-cosell").status.value == "not_activated"
    notice = all_text(second["value"]["body"][1])
    assert "Activation of Go-to-market benefits · Gold Core requested" in notice and "ISV" not in notice, notice
