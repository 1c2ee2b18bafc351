"""Partner Center service requests (assistance, cancellation): the bot says it cannot file them,
prepares what Partner Center's form needs, opens the seeds' form, takes the number Partner Center
gave (checked, bounded) and follows the request (prepared, submitted, closed) in the card, the audit
trail and "recent changes". Nothing the bot shows looks like a number Microsoft never issued.

Real Action.Execute clicks over HTTP to the app on loopback; the store is read to check the effect.
"""

from __future__ import annotations

import json
import re
from typing import Any

from domain.models import RequestStatus, Status
from tests._common.harness import ALEX, ISAIAH, MEGAN, BotClient, cards_in

FORM = "https://partnercenter.microsoft.com/pcv/partnership/benefits/createadvisoryhoursservicerequest"
BENEFITS_PAGE = "https://partnercenter.microsoft.com/pcv/partnership/benefits"
#: what an invented reference looked like (CR-20261122-ABC123, SR-...)
#: card keys a person never reads
HIDDEN = ("data", "fallback", "verb", "url", "id", "regex", "refresh")
MADE_UP = re.compile(r"\b[A-Z]{2}-\d{8}-[0-9A-F]{6}\b")


def card(result: tuple[int, Any, list[dict[str, Any]]]) -> dict[str, Any]:
    status, body, _ = result
    assert status == 200 and body["statusCode"] == 200, body
    return body["value"]


def visible(node: Any) -> str:
    """What a person reads: texts, fact titles and values, input labels and values, button titles."""
    out: list[str] = []
    if isinstance(node, dict):
        for key in ("text", "title", "value", "label", "placeholder", "errorMessage"):
            if isinstance(node.get(key), str):
                out.append(node[key])
        for key, value in node.items():
            if key not in HIDDEN and isinstance(value, list | dict):
                out.append(visible(value))
    elif isinstance(node, list):
        out += [visible(v) for v in node]
    return " ".join(x for x in out if x)


def buttons(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if str(node.get("type", "")).startswith("Action.") else []
        return own + [b for k, v in node.items() if k != "fallback" for b in buttons(v)]
    if isinstance(node, list):
        return [b for v in node for b in buttons(v)]
    return []


async def prepare_assistance(bot: BotClient) -> tuple[dict[str, Any], Any]:
    prepared = card(await bot.execute(ALEX, "submit_assistance", {
        "benefit_id": "tech-advisory", "phase": "design", "topic": "Landing zone",
        "description": "Hub and spoke for three regions"}))
    [request] = [r for r in bot.service.repo.requests() if r.kind.value == "assistance"]
    return prepared, request


async def test_assistance_is_prepared_honestly_with_the_seeds_form_and_details_to_copy(bot: BotClient) -> None:
    prepared, request = await prepare_assistance(bot)
    text = visible(prepared)
    assert "The bot can't file this request for you" in text and "Nothing has been sent to Microsoft yet" in text
    assert f"fill in the [request form]({FORM}) and then select **Submit request**" in text
    assert {"type": "Action.OpenUrl", "title": "Open Partner Center's request form", "url": FORM} in buttons(prepared)
    for detail in ("Contoso", "4412345", "Partner advisory hours", "Design", "Landing zone",
                   "Hub and spoke for three regions", "Alex Wilber (alexw@contoso.com)"):
        assert detail in text, detail
    assert "Prepared" in text and "not recorded yet" in text
    assert MADE_UP.search(json.dumps(prepared)) is None and request.reference == ""
    assert request.status is RequestStatus.PREPARED and request.partner_center_number == ""


async def test_a_bad_number_is_refused_in_the_card_and_changes_nothing(bot: BotClient) -> None:
    _, request = await prepare_assistance(bot)
    for typed in ("", "12", "no digits here", "1234 5678", "x" * 40 + "1", "<b>99999</b>"):
        refused = card(await bot.execute(ALEX, "record_request_number", {"request_id": request.id,
                                                                         "partner_center_number": typed}))
        assert "Enter the number Partner Center gave you: 4 to 40 letters" in visible(refused), typed
        number = next(n for n in refused["body"] if n.get("id") == "partner_center_number")
        assert number["value"] == typed[:200] and number["maxLength"] == 40
        assert bot.service.repo.request(request.id) == request


async def test_number_recorded_then_closed_is_tracked_in_card_audit_and_recent_changes(bot: BotClient) -> None:
    _, request = await prepare_assistance(bot)
    data = {"request_id": request.id, "partner_center_number": " 2611290010001234 ", "nonce": "c1:record"}
    submitted = card(await bot.execute(ALEX, "record_request_number", data))
    again = card(await bot.execute(ALEX, "record_request_number", {**data, "partner_center_number": "99999"}))
    stored = bot.service.repo.request(request.id)
    assert stored.status is RequestStatus.SUBMITTED and stored.partner_center_number == "2611290010001234"
    for shown in (submitted, again):  # a double click answers with the number actually recorded
        assert "Partner Center number 2611290010001234 recorded" in visible(shown) and "99999" not in visible(shown)
    assert "Filed in Partner Center as number 2611290010001234" in visible(submitted)
    assert "record_request_number" not in json.dumps(submitted)  # recorded once
    listed = visible(cards_in(await bot.say(ALEX, "requests"))[0])
    assert "Assistance request: Partner advisory hours · Submitted · Partner Center number: 2611290010001234" in listed
    closed = card(await bot.execute(ALEX, "close_request", {"request_id": request.id, "outcome": "completed"}))
    assert "Closed" in visible(closed) and "Completed" in visible(closed)
    assert bot.service.repo.request(request.id).status is RequestStatus.CLOSED
    refused = card(await bot.execute(ALEX, "close_request", {"request_id": request.id, "outcome": "completed"}))
    assert "This request is closed." in visible(refused)
    changes = visible(card(await bot.execute(ALEX, "recent_changes", {"subject_id": "tech-advisory"})))
    assert "prepared a Partner Center service request" in changes
    assert "recorded Partner Center's number" in changes and "2611290010001234" in changes
    assert "closed a service request" in changes and "Completed" in changes
    assert "No Partner Center service request is open." in visible(cards_in(await bot.say(ALEX, "requests"))[0])


async def test_cancellation_is_prepared_and_the_package_cancelled_only_when_microsoft_did(bot: BotClient) -> None:
    prepared = card(await bot.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack", "confirm": "yes"}))
    text = visible(prepared)
    assert "Request the cancellation through a service request." in text
    assert {"type": "Action.OpenUrl", "title": "Open Partner Center's Benefits page", "url": BENEFITS_PAGE} in buttons(
        prepared)
    assert "Cancel the benefit package Microsoft Action Pack and refund it." in text
    assert "Visual Studio Enterprise subscription" in text and "Keep the reference" not in text
    assert MADE_UP.search(json.dumps(prepared)) is None
    assert bot.service.repo.package("pkg-action-pack").status is Status.ACTIVE
    # the packages list shows the open request instead of a second cancel button
    listing = card(await bot.execute(ALEX, "cancel_start"))
    assert "Cancellation request: Prepared · Partner Center number: not recorded yet" in visible(listing)
    assert '"package_id": "pkg-action-pack"' not in json.dumps(listing)
    [request] = [r for r in bot.service.repo.requests() if r.kind.value == "cancellation"]
    again = card(await bot.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack", "confirm": "yes"}))
    assert len([r for r in bot.service.repo.requests() if r.kind.value == "cancellation"]) == 1
    assert "Cancellation request: Microsoft Action Pack" in visible(again)
    # an MPN partner admin sees it but may neither record nor close it (checked on the server too)
    megan = card(await bot.execute(MEGAN, "service_request", {"request_id": request.id}))
    assert "record_request_number" not in json.dumps(megan) and "close_request" not in json.dumps(megan)
    _, refused, sent = await bot.execute(MEGAN, "record_request_number", {"request_id": request.id,
                                                                           "partner_center_number": "123456"})
    assert sent == [] and "global admin" in json.dumps(refused)  # the refusal replaces the clicked card
    await bot.execute(ISAIAH, "close_request", {"request_id": request.id, "outcome": "withdrawn"})
    assert bot.service.repo.request(request.id) == request
    # filed: Microsoft's outcome is recorded, and only "cancelled" cancels
    submitted = card(await bot.execute(ALEX, "record_request_number", {"request_id": request.id,
                                                                       "partner_center_number": "SR-7788"}))
    assert {b.get("title") for b in buttons(submitted)} >= {"Microsoft cancelled it", "Microsoft did not cancel it"}
    refused = card(await bot.execute(ALEX, "close_request", {"request_id": request.id, "outcome": "completed"}))
    assert "doesn't apply" in visible(refused)
    done = card(await bot.execute(ALEX, "close_request", {"request_id": request.id, "outcome": "cancelled"}))
    assert "Recorded: Microsoft cancelled Microsoft Action Pack" in visible(done)
    assert bot.service.repo.package("pkg-action-pack").status is Status.CANCELLED
    assert bot.service.repo.benefit("vs-enterprise").status is Status.CANCELLED
    changes = visible(card(await bot.execute(ALEX, "recent_changes", {"subject_id": "pkg-action-pack"})))
    assert "recorded Partner Center's number" in changes and "SR-7788" in changes
    assert "Microsoft cancelled the package" in changes


async def test_the_request_in_chinese_uses_the_official_sentences(bot: BotClient) -> None:
    bot.locale = "zh-CN"
    prepared = visible(card(await bot.execute(ALEX, "submit_assistance", {
        "benefit_id": "tech-advisory", "phase": "presales", "topic": "POC", "description": "x"})))
    assert f"若要请求帮助，请填写[请求表单]({FORM})，然后选择“提交请求”。" in prepared
    assert "机器人无法替你提交此请求" in prepared and "售前" in prepared
    bot.locale = "zh-TW"
    cancel = visible(card(await bot.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack",
                                                                     "confirm": "yes"})))
    assert "透過服務要求來要求取消。" in cancel and "已準備" in cancel
