"""What a person reads agrees with itself, and is in their language and time zone.

The real app over HTTP with the demo data (issue 14: statuses and counts that contradicted each
other, advice that contradicted itself, English inside Chinese, keys of a SaaS licence that asked
for an OS type, dates in UTC).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.models import Status
from services.inventory import InventoryError, parse_inventory
from tests._common.harness import ALEX, LEE, NESTOR, BotClient, all_text, cards_in, texts_in

ALEX_ID, LEE_ID, NESTOR_ID = ALEX["aadObjectId"], LEE["aadObjectId"], NESTOR["aadObjectId"]


def card_of(body: Any) -> dict[str, Any]:
    assert body["statusCode"] == 200, body
    return body["value"]


def block(card: dict[str, Any], block_id: str) -> str:
    found = [b for b in card["body"] if b.get("id") == block_id]
    assert found, f"no {block_id} in the card"
    return all_text(found[0])


async def list_card(bot: BotClient, verb: str) -> dict[str, Any]:
    _, body, _ = await bot.execute(ALEX, verb)
    return card_of(body)


# --- defect 4: one status model, one meaning per column, counts per unit ------------------------------
async def test_a_technical_benefit_with_a_pending_assignee_is_pending_everywhere(bot: BotClient) -> None:
    alex = bot.service.repo.person(ALEX_ID)
    await bot.service.assign(alex, "tech-support", NESTOR_ID, "nestor@outlook.com")
    card = await list_card(bot, "list_technical")
    row, details = block(card, "row-tech-support"), block(card, "details-tech-support")
    assert "Pending activation" in row and "Not activated" not in row
    assert "Not activated" not in details and "Pending activation" in details  # the assignee line agrees
    assert "20 support incidents · 1 person assigned" in row and "of 20 assigned" not in row


async def test_an_active_azure_subscription_shows_no_activate_by(bot: BotClient) -> None:
    _, body, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "cloud-azure-credit", "person_id": ALEX_ID})
    row = block(card_of(body), "row-cloud-azure-credit")
    assert "Active" in row and "Activate by" not in row
    package = bot.service.repo.package("pkg-action-pack")
    assert bot.service.today() and package is not None and package.expires_on is not None
    assert "Expires" in row  # the Expires column shows when it ends: the package's date


async def test_my_benefits_shows_the_expiry_of_an_active_benefit(bot: BotClient) -> None:
    alex = bot.service.repo.person(ALEX_ID)
    await bot.service.assign(alex, "vs-professional", LEE_ID)
    card = cards_in(await bot.say(LEE, "my benefits"))[0]
    text_ = all_text(card)
    assert "No expiry date yet" not in text_ and "Active" in text_
    expires = bot.service.repo.package("pkg-gold-cloud").expires_on
    assert f"{expires:%b} {expires.day}, {expires.year}" in text_
    assert "You hold 1 benefit." in text_ and "benefit(s)" not in text_  # a proper plural


async def test_the_go_to_market_row_counts_offers_by_status(bot: BotClient) -> None:
    repo = bot.service.repo
    gold = repo.benefit("gtm-gold-core")
    await bot.service.store.apply([repo.put_benefit(replace(gold, status=Status.ACTIVE,
                                                            activated_on=bot.service.today()))])
    bot.locale = "zh-CN"
    card = cards_in(await bot.say(ALEX, "权益概览"))[0]
    row = block(card, "category-go_to_market")
    assert "活动：1" in row and "未激活：1" in row and "2 项市场投放权益" not in row
    assert "已分配" not in row and "可用" not in row  # offers are not seats


async def test_technical_hours_incidents_and_services_are_never_added(bot: BotClient) -> None:
    card = cards_in(await bot.say(ALEX, "overview"))[0]
    row = block(card, "category-technical")
    assert "71" not in row
    assert "20 support incidents · 50 advisory hours · 1 service" in row


# --- defect 5: the rule that applies, said once -------------------------------------------------------
async def test_a_full_visual_studio_subscription_says_one_rule(bot: BotClient) -> None:
    alex = bot.service.repo.person(ALEX_ID)
    for person in (LEE_ID, NESTOR_ID, "00000000-0000-0000-0000-0000000000a6"):
        await bot.service.assign(alex, "vs-enterprise", person)
    card = await list_card(bot, "list_visual_studio")
    text_ = all_text(card)
    assert "any time" not in text_  # the seeds' old rule is not offered next to the lock
    details = block(card, "details-vs-enterprise")
    assert details.count("90 days") == 1 and "you can reassign one from" in details
    _, body, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                         "person_id": "00000000-0000-0000-0000-0000000000a2"})
    refusal = all_text(card_of(body)["body"][0])
    assert "remove an assigned user" not in refusal.lower() and "until" in refusal


# --- defect 13: ask only what the keys vary by ---------------------------------------------------------
async def test_dynamics_get_keys_asks_only_the_language(bot: BotClient) -> None:
    bot.locale = "zh-CN"
    card = await list_card(bot, "list_cloud")
    ids = {n.get("id") for n in _walk(card) if n.get("type") == "Input.ChoiceSet"}
    assert "language-cloud-dynamics" in ids and "os-cloud-dynamics" not in ids
    language = [n for n in _walk(card) if n.get("id") == "language-cloud-dynamics"][0]
    assert [c["title"] for c in language["choices"]] == ["英语", "简体中文", "繁体中文"]
    _, body, _ = await bot.execute(ALEX, "reveal_keys", {"benefit_id": "cloud-dynamics",
                                                         "language-cloud-dynamics": "Chinese (Simplified)"})
    keys = all_text(card_of(body))
    assert "DYN36-00002" in keys and "64" not in keys.split("DYN36")[0].split("简体中文")[-1]


async def test_software_keys_and_downloads_are_labelled_in_the_language(bot: BotClient) -> None:
    bot.locale = "zh-TW"
    _, body, _ = await bot.execute(ALEX, "reveal_keys", {"benefit_id": "sw-windows-server",
                                                         "language": "English", "os": "64-bit"})
    card = card_of(body)
    text_ = all_text(card)
    assert "英文，64 位元" in text_ and "下載 Windows Server 2025 標準版（英文，64 位元）" in text_
    assert "windows-server (" not in text_ and "English" not in text_


# --- defect 10: the bot's own words in the person's language ----------------------------------------
async def test_a_refusal_names_the_field_as_the_person_sees_it(bot: BotClient) -> None:
    bot.locale = "zh-CN"
    _, body, _ = await bot.execute(ALEX, "assign_user", {"benefit_id": "tech-support", "person_id": LEE_ID})
    shown = all_text(card_of(body))  # the refusal sits in the form, next to the field
    assert "请填写备用电子邮件地址。" in shown and "alternate_email" not in shown


async def test_did_you_mean_is_in_the_users_language(bot: BotClient) -> None:
    said = texts_in(await bot.say(ALEX, "visual stdio 订阅"))[0]  # closest to a Chinese phrase
    assert "Did you mean **visual studio**?" in said and "订阅" not in said
    bot.locale = "zh-TW"
    said = texts_in(await bot.say(ALEX, "visual studo"))[0]
    assert "visual studio 訂閱" in said


async def test_dates_and_times_are_in_the_persons_time_zone(bot: BotClient) -> None:
    """Teams sends the zone in ``clientInfo``; it is kept for later (proactive) messages too."""
    zone = "Pacific/Kiritimati"  # UTC+14: the local day differs from UTC's for ten hours of each day
    entities = [{"type": "clientInfo", "locale": "en-US", "timezone": zone}]
    before = datetime.now(UTC)
    _, body, _ = await bot.execute(ALEX, "reveal_keys", {"benefit_id": "sw-office", "language": "English",
                                                         "os": "64-bit"}, entities=entities)
    after = datetime.now(UTC)
    recorded = all_text(card_of(body)["body"][0])
    shown = {f"{t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"
             for t in (before.astimezone(ZoneInfo(zone)), after.astimezone(ZoneInfo(zone)))}
    assert any(s in recorded for s in shown), (recorded, shown)
    assert bot.service.repo.person(ALEX_ID).timezone == zone


async def test_an_unknown_time_zone_is_ignored(bot: BotClient) -> None:
    entities = [{"type": "clientInfo", "timezone": "Mars/Olympus_Mons"}]
    await bot.say(ALEX, "help", entities=entities, localTimezone="../../etc/passwd")
    assert bot.service.repo.person(ALEX_ID).timezone == ""
    await bot.say(ALEX, "help", localTimezone="Asia/Shanghai")
    assert bot.service.repo.person(ALEX_ID).timezone == "Asia/Shanghai"


# --- the inventory's per-locale wording ---------------------------------------------------------------
def _inventory(benefit: dict[str, Any]) -> dict[str, Any]:
    return {"organization": {"name": "Contoso", "account_email": "pc@contoso.com"},
            "packages": [{"id": "p", "name": "Pack", "purchased_on": "2026-11-01", "source_program": "Action Pack",
                          "benefits": [{"id": "b", "kind": "software", **benefit}]}]}


def test_the_inventory_reads_per_locale_names_in_both_forms_and_the_old_one() -> None:
    mapped = parse_inventory(_inventory({"name": {"en-US": "Office", "zh-CN": "办公", "zh-TW": "辦公"}}))
    assert mapped.benefits[0].name == "Office" and mapped.benefits[0].i18n == {"name": {"zh-CN": "办公",
                                                                                          "zh-TW": "辦公"}}
    beside = parse_inventory(_inventory({"name": "Office", "name_i18n": {"zh-CN": "办公"}}))
    assert beside.benefits[0].name == "Office" and beside.benefits[0].i18n == {"name": {"zh-CN": "办公"}}
    plain = parse_inventory(_inventory({"name": "Office"}))
    assert plain.benefits[0].name == "Office" and plain.benefits[0].i18n == {}
    with pytest.raises(InventoryError) as info:
        parse_inventory(_inventory({"name": {"en-US": "Office", "fr-FR": "Bureau"}}))
    assert info.value.where == "packages[0].benefits[0].name.fr-FR"


def test_the_demo_data_names_every_benefit_in_both_chinese_locales() -> None:
    from pathlib import Path

    raw = json.loads((Path(__file__).parents[2] / "examples" / "inventory.json").read_text(encoding="utf-8"))
    inventory = parse_inventory(raw)
    for record in (*inventory.packages, *inventory.benefits):
        assert set(record.i18n.get("name", {})) == {"zh-CN", "zh-TW"}, record.id
    offers = {b.id: b.i18n["offer_type"] for b in inventory.benefits if b.offer_type}
    assert offers["gtm-gold-core"] == {"zh-CN": "金级核心", "zh-TW": "金級核心"}
    assert offers["gtm-isv-cosell"]["zh-CN"] == "ISV 共同销售就绪"
    assert all("os" not in k.to_doc() or k.os == "" for b in inventory.benefits if b.id == "cloud-dynamics"
               for k in b.keys)


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
