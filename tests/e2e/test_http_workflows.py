"""Every admin and employee workflow through the Agents Playground's HTTP and WebSocket routes.

What the bot answers is read from the conversation stream (proactive messages included); what it
stored is read back through a later answer (the list now shows the assignee) and from the journaled
store's files on disk. The Playground clicks as its current user, Alex Wilber (Global admin); Lee Gu
(employee) and Megan Bowen (MPN Partner admin) act through custom activities, which is also how a
Teams client in another locale speaks.

State: this module runs on its OWN stack (fresh demo data), so the browser journeys of the session
stack cannot change what it sees. Within it the tests run in file order and each uses benefits the
others leave alone, except where noted. Cancelling the Action Pack needs a package nobody has touched
(revealing a key bars the refund), so cancellation gets a second fresh stack of its own.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e import disk
from tests.e2e.playground import Message, Playground, all_text
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

ALEX_ID = "00000000-0000-0000-0000-0000000000a1"
MEGAN_ID = "00000000-0000-0000-0000-0000000000a2"
LEE_ID = "00000000-0000-0000-0000-0000000000a3"
NESTOR_ID = "00000000-0000-0000-0000-0000000000a4"
DIEGO_ID = "00000000-0000-0000-0000-0000000000a6"
LEE = {"id": "29:1-lee-gu", "name": "Lee Gu", "aadObjectId": LEE_ID}
MEGAN = {"id": "29:1-megan-bowen", "name": "Megan Bowen", "aadObjectId": MEGAN_ID}
LANGUAGE_CONFIRMATION = {"en-US": "speak English", "zh-CN": "简体中文", "zh-TW": "繁體中文"}


# --- fixtures: a stack of this module's own --------------------------------------------------------
async def _open(stack: Stack) -> Playground:
    pg = await Playground.connect(stack.playground_url)
    await pg.install()
    await pg.expect(card="Welcome, Alex Wilber!")
    return pg


@pytest.fixture(scope="module")
def wf_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("workflows")).start()
    yield running
    running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wf_playground(wf_stack: Stack) -> AsyncIterator[Playground]:
    pg = await _open(wf_stack)
    yield pg
    await pg.close()


@pytest_asyncio.fixture(loop_scope="session")
async def wf(wf_playground: Playground) -> AsyncIterator[Playground]:
    """Alex, speaking English again at the start of each test."""
    await speak(wf_playground, "en-US")
    yield wf_playground


@pytest.fixture(scope="module")
def cancel_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("cancel")).start()
    yield running
    running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cancel_pg(cancel_stack: Stack) -> AsyncIterator[Playground]:
    pg = await _open(cancel_stack)
    yield pg
    await pg.close()


# --- helpers ---------------------------------------------------------------------------------------
async def speak(pg: Playground, locale: str) -> None:
    """Alex's language preference, set with the bot's own ``language`` command."""
    await pg.say(f"language {locale}")
    await pg.expect(LANGUAGE_CONFIRMATION[locale])


def find_execute(value: Any, verb: str, **data: Any) -> dict[str, Any] | None:
    """The ``Action.Execute`` with this verb whose data contains ``data`` (inside ShowCards too)."""
    if isinstance(value, dict):
        if value.get("type") == "Action.Execute" and value.get("verb") == verb and all(
                (value.get("data") or {}).get(k) == v for k, v in data.items()):
            return value
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = find_execute(item, verb, **data)
            if found is not None:
                return found
    return None


def titles(card: dict[str, Any]) -> set[str]:
    out: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if str(value.get("type", "")).startswith("Action.") and value.get("title"):
                out.add(value["title"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(card)
    return out


async def press(pg: Playground, message: Message, verb: str, inputs: dict[str, Any] | None = None,
                **match: Any) -> Message:
    """Click the card's button ``verb`` (its data matching ``match``) with what the person typed or chose
    in ``inputs``; the answer replaces the card in place, returned as the same message with the new card."""
    button = find_execute(message.cards, verb, **match)
    assert button is not None, f"no {verb} {match} button on: {all_text(message.cards)[:300]}"
    card = await pg.execute(message, verb, {**(button.get("data") or {}), **(inputs or {})})
    return dataclasses.replace(message, cards=[card] if card else [])


def notice_of(message: Message) -> str:
    """The outcome line on top of an updated card."""
    return all_text(message.card["body"][0])


def notice_of_request(message: Message) -> str:
    """The outcome line of a service request card (under its title)."""
    return all_text(message.card["body"][1])


async def act_as(pg: Playground, who: dict[str, str], locale: str = "en-US", text: str = "",
                 value: dict[str, Any] | None = None) -> None:
    """Someone other than the Playground's user types ``text`` or clicks (the Action.Submit of) a
    button with ``value``, from a Teams client in ``locale``; in the personal chat, so the bot learns
    where to reach them proactively."""
    activity: dict[str, Any] = {"type": "message", "from": who, "text": text, "textFormat": "plain", "locale": locale,
                                "entities": [{"type": "clientInfo", "locale": locale}]}
    if value is not None:
        activity["value"] = value
    await pg.custom(activity)


def stored(stack: Stack, table: str, **fields: Any) -> list[dict[str, Any]]:
    """What the bot wrote to disk (its journaled store), documents of ``table`` matching ``fields``."""
    return disk.stored(stack.data_dir, table, **fields)


def held(stack: Stack, benefit_id: str) -> set[str]:
    """Who holds a seat of the benefit now, as stored on disk."""
    return {a["person_id"] for a in disk.current_assignments(stack.data_dir, benefit_id)}


def day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


# --- (1) benefits overview -------------------------------------------------------------------------
async def test_overview_in_three_languages(wf: Playground) -> None:
    await wf.say("overview")
    card = (await wf.expect(card="Benefits overview")).card
    rows = {c["id"]: all_text(c) for c in card["body"] if str(c.get("id", "")).startswith("category-")}
    assert "2 benefits · Not activated: 2" in rows["category-software"] and "14 licenses" in rows["category-software"]
    assert "8 subscriptions" in rows["category-visual_studio"]
    assert {"Microsoft Action Pack", "Gold Cloud Platform competency"} <= set(re.findall(
        r"Microsoft Action Pack|Gold Cloud Platform competency", all_text(card)))
    overview = await wf.expect(card="Benefits overview")
    software = await press(wf, overview, "list_software")
    assert "Microsoft 365 Apps for enterprise" in all_text(software.card)

    await speak(wf, "zh-CN")
    await wf.say("权益概览")
    text = all_text((await wf.expect(card="权益概览")).card)
    assert "软件" in text and "Visual Studio 订阅" in text and "未激活" in text and "权益套餐" in text

    await speak(wf, "zh-TW")
    await wf.say("權益概覽")
    text = all_text((await wf.expect(card="權益概覽")).card)
    assert "軟體" in text and "雲端" in text and "技術權益" in text and "未啟用" in text


# --- (2) software: Get keys ------------------------------------------------------------------------
async def test_software_get_keys_reveals_and_records(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("software")
    page = await wf.expect(card="Windows Server 2025 Standard")
    assert "Get keys" in titles(page.card)
    keys = await press(wf, page, "reveal_keys", {"language-sw-windows-server": "English",
                                                 "os-sw-windows-server": "64-bit"}, benefit_id="sw-windows-server")
    text = all_text(keys.card)
    assert "WINSR-00000-DEMO0-KEY00-00XYZ" in text  # English, 64-bit
    assert "WINSR-00001" not in text  # only the chosen language and OS type
    assert "Recorded: Alex Wilber revealed these keys" in text
    assert "https://my.visualstudio.com/Downloads?q=windows-server" in json.dumps(keys.card)
    # recorded: the reveal is on disk, and the list now shows the benefit active
    assert stored(wf_stack, "key_reveals", benefit_id="sw-windows-server", person_id=ALEX_ID, language="English",
                  os="64-bit")
    assert stored(wf_stack, "benefits", id="sw-windows-server", status="active")
    await wf.say("software")
    page = await wf.expect(card="Windows Server 2025 Standard")
    row = next(c for c in page.card["body"] if c.get("id") == "row-sw-windows-server")
    assert "Active" in all_text(row)


async def test_get_keys_in_chinese(wf: Playground) -> None:
    await speak(wf, "zh-CN")
    await wf.say("获取密钥")
    page = await wf.expect(card="获取密钥")
    assert "获取密钥" in titles(page.card)
    keys = await press(wf, page, "reveal_keys", {"language-sw-office": "Chinese (Simplified)",
                                                 "os-sw-office": "64-bit"}, benefit_id="sw-office")
    text = all_text(keys.card)
    assert "OFFIC-00002-DEMO0-KEY00-10XYZ" in text and "已记录：Alex Wilber" in text and "激活" in text

    await speak(wf, "zh-TW")
    await wf.say("取得金鑰")
    page = await wf.expect(card="取得金鑰")
    keys = await press(wf, page, "reveal_keys", {"language-sw-office": "Chinese (Traditional)",
                                                 "os-sw-office": "32-bit"}, benefit_id="sw-office")
    text = all_text(keys.card)
    assert "OFFIC-00005-DEMO0-KEY00-21XYZ" in text and "已記錄：Alex Wilber" in text and "啟用" in text


# --- (3) cloud ---------------------------------------------------------------------------------------
async def test_cloud_usage_based_to_yourself_and_license_keys(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("cloud")
    page = await wf.expect(card="Azure monthly credit")
    # someone else: refused with the seeds' rule; nothing stored
    refused = await press(wf, page, "assign_user", {"person_id": LEE_ID}, benefit_id="cloud-azure-credit")
    assert "assign yourself as a user" in notice_of(refused)
    assert held(wf_stack, "cloud-azure-credit") == set()
    mine = await press(wf, refused, "assign_user", benefit_id="cloud-azure-credit", person_id=ALEX_ID)
    assert "Azure monthly credit is active and assigned to you" in notice_of(mine)
    assert "Open the Azure portal" in titles(mine.card)
    assert "https://portal.azure.com/#home" in json.dumps(mine.card)
    assert "Assign myself" not in titles(mine.card)  # the one seat is now Alex's
    assert held(wf_stack, "cloud-azure-credit") == {ALEX_ID}
    # license-based: Get keys, with the special instructions
    keys = await press(wf, mine, "reveal_keys", {"language-cloud-dynamics": "English"},  # a SaaS key: no OS
                       benefit_id="cloud-dynamics")
    text = all_text(keys.card)
    assert "DYN36-00000-DEMO0-KEY00-00XYZ" in text and "Redeem the key in the Microsoft 365 admin center" in text

    await speak(wf, "zh-TW")
    await wf.say("雲端")
    page = await wf.expect(card="Azure 每月點數")
    text = all_text(page.card)
    assert "使用者" in text and "作用中" in text  # Alex's seat, shown active in Traditional Chinese


# --- (4) Visual Studio -------------------------------------------------------------------------------
async def test_visual_studio_assign_remove_reassign_and_add_user(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("visual studio")
    page = await wf.expect(card="Visual Studio Professional subscription")
    picker = json.dumps(page.card)
    assert '"dataset": "graph.microsoft.com/users"' in picker and "Lee Gu (leeg@contoso.com)" in picker
    assigned = await press(wf, page, "assign_user", {"person-vs-professional": LEE_ID}, benefit_id="vs-professional")
    assert "Visual Studio Professional subscription is assigned to Lee Gu" in notice_of(assigned)
    assert "Lee Gu (leeg@contoso.com), Active" in all_text(assigned.card)
    assert "Remove Lee Gu" in titles(assigned.card)
    assert held(wf_stack, "vs-professional") == {LEE_ID}
    [assignment] = disk.current_assignments(wf_stack.data_dir, "vs-professional")
    assignment_id = assignment["id"]

    asked = await press(wf, assigned, "remove_assignment", assignment_id=assignment_id)
    assert "Remove Lee Gu from Visual Studio Professional subscription?" in all_text(asked.card)
    assert held(wf_stack, "vs-professional") == {LEE_ID}  # nothing removed before the confirmation
    removed = await press(wf, asked, "remove_assignment", assignment_id=assignment_id, confirm="yes")
    assert "Lee Gu no longer has Visual Studio Professional subscription" in notice_of(removed)
    assert "Remove Lee Gu" not in titles(removed.card)
    reassigned = await press(wf, removed, "assign_user", {"person-vs-professional": NESTOR_ID},
                             benefit_id="vs-professional")
    assert "is assigned to Nestor Wilke" in notice_of(reassigned)
    assert "Nestor Wilke (nestorw@contoso.com), Active" in all_text(reassigned.card)
    assert "Lee Gu (leeg@contoso.com), Active" not in all_text(reassigned.card)

    # add someone who is not in the list (Account settings), then assign them
    added = await press(wf, reassigned, "add_person", {"new_person_name": "Pat Kim",
                                                       "new_person_email": "patk@contoso.com"})
    assert "Pat Kim was added to the directory" in notice_of(added)
    assert "Pat Kim (patk@contoso.com)" in json.dumps(added.card)
    [pat] = stored(wf_stack, "people", email="patk@contoso.com", name="Pat Kim")
    pat_id = pat["id"]
    with_pat = await press(wf, added, "assign_user", {"person-vs-professional": pat_id}, benefit_id="vs-professional")
    assert "is assigned to Pat Kim" in notice_of(with_pat)

    # a later answer shows what was stored
    await wf.say("visual studio")
    later = all_text((await wf.expect(card="Visual Studio Professional subscription")).card)
    assert held(wf_stack, "vs-professional") == {NESTOR_ID, pat_id}
    assert "Nestor Wilke (nestorw@contoso.com), Active" in later and "Pat Kim (patk@contoso.com), Active" in later


async def test_visual_studio_seat_limit_in_traditional_chinese(wf: Playground, wf_stack: Stack) -> None:
    await speak(wf, "zh-TW")
    await wf.say("visual studio")
    page = await wf.expect(card="Visual Studio 企業版訂閱")
    assert "指派使用者" in titles(page.card)
    for person in (LEE_ID, NESTOR_ID, DIEGO_ID):
        page = await press(wf, page, "assign_user", {"person-vs-enterprise": person}, benefit_id="vs-enterprise")
        assert "已將 Visual Studio 企業版訂閱 指派給" in notice_of(page)
    assert find_execute(page.card, "assign_user", benefit_id="vs-enterprise") is None  # no free seat: no form
    # a stale card (it still had the form) for a fourth person: refused with the reason, nothing stored
    stale = await wf.execute(page, "assign_user", {"benefit_id": "vs-enterprise", "person-vs-enterprise": MEGAN_ID})
    assert "Visual Studio 企業版訂閱 的所有席次均已指派（3/3）" in all_text(stale["body"][0])
    assert stale["body"][0]["style"] == "attention"
    assert held(wf_stack, "vs-enterprise") == {LEE_ID, NESTOR_ID, DIEGO_ID}


async def test_visual_studio_seat_limit_message_in_english(wf: Playground) -> None:
    await wf.say("visual studio")
    page = await wf.expect(card="Visual Studio Enterprise subscription")
    stale = await wf.execute(page, "assign_user", {"benefit_id": "vs-enterprise", "person_id": MEGAN_ID})
    assert "Every seat of Visual Studio Enterprise subscription is assigned (3 of 3)" in all_text(stale["body"][0])


# --- (5) technical -----------------------------------------------------------------------------------
async def test_technical_alternate_email_pending_activation_and_assistance(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("technical")
    page = await wf.expect(card="Product support incidents")
    refused = await press(wf, page, "assign_user", {"person-tech-support": LEE_ID,
                                                    "alternate-tech-support": "leeg@contoso.com"},
                          benefit_id="tech-support")
    # the refused form again, Lee still chosen, the reason under the alternate email
    assert "different from the email address associated with your company's Partner Center account" in all_text(
        refused.card)
    refused = await press(wf, refused, "assign_user", {"person-tech-support": LEE_ID,
                                                       "alternate-tech-support": "PartnerCenter@contoso.com"},
                          benefit_id="tech-support")
    assert "different from the email address" in all_text(refused.card)
    assert held(wf_stack, "tech-support") == set()
    pending = await press(wf, refused, "assign_user", {"person-tech-support": LEE_ID,
                                                       "alternate-tech-support": "lee@outlook.com"},
                          benefit_id="tech-support")
    assert "is assigned to Lee Gu and is pending activation" in notice_of(pending)
    assert "Lee Gu (leeg@contoso.com), Pending activation" in all_text(pending.card)
    assert "Alternate email: lee@outlook.com" in all_text(pending.card)
    [seat] = disk.current_assignments(wf_stack.data_dir, "tech-support")
    assert (seat["person_id"], seat["alternate_email"], seat["status"]) == (LEE_ID, "lee@outlook.com",
                                                                             "pending_activation")

    form = await press(wf, pending, "request_assistance", benefit_id="tech-advisory")
    assert "Prepare the request for Partner Center" in titles(form.card)
    done = await press(wf, form, "submit_assistance", {"phase": "design", "topic": "Landing zone",
                                                       "description": "Hub and spoke for the Contoso app"})
    assert "Assistance request: Partner advisory hours" in all_text(done.card)
    assert "Nothing has been sent to Microsoft yet" in all_text(done.card)
    assert disk.find(wf_stack.data_dir, kind="assistance", status="prepared", requested_by=ALEX_ID)
    filed = await press(wf, done, "record_request_number", {"partner_center_number": "2611290010001234"})
    assert "Partner Center number 2611290010001234 recorded" in notice_of_request(filed)
    assert disk.find(wf_stack.data_dir, kind="assistance", status="submitted",
                     partner_center_number="2611290010001234")


async def test_technical_in_simplified_chinese(wf: Playground) -> None:
    await speak(wf, "zh-CN")
    await wf.say("技术权益")
    page = await wf.expect(card="技术售前和部署服务")
    assert "分配用户" in titles(page.card)
    pending = await press(wf, page, "assign_user", {"person-tech-presales": NESTOR_ID,
                                                    "alternate-tech-presales": "nestor@outlook.com"},
                          benefit_id="tech-presales")
    assert "分配给 Nestor Wilke，正在等待激活" in notice_of(pending)
    form = await press(wf, pending, "request_assistance", benefit_id="tech-advisory")
    done = await press(wf, form, "submit_assistance", {"phase": "presales", "topic": "POC", "description": "x"})
    assert "若要请求帮助，请填写[请求表单]" in all_text(done.card) and "已准备" in all_text(done.card)


# --- (6) go-to-market --------------------------------------------------------------------------------
async def test_go_to_market_contact_activation_and_notification(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("go-to-market")
    page = await wf.expect(card="Go-to-market benefits")
    assert "No marketing contact is assigned yet" in all_text(page.card)
    refused = await press(wf, page, "activate_offer", benefit_id="gtm-gold-core")
    # the refusal on top of the page (the intro says the rule too: look at the attention notice only)
    [reason] = [all_text(c) for c in refused.card["body"] if c.get("style") == "attention"]
    assert "you must first assign a company marketing contact" in reason and "**Add**" in reason  # the way forward
    assert "Add" in titles(refused.card) and "Not activated" in all_text(refused.card)
    assert stored(wf_stack, "benefits", id="gtm-gold-core", status="not_activated")

    # Megan (MPN Partner admin) sets herself as the marketing contact from her own Teams client
    await act_as(wf, MEGAN, value={"action": "set_marketing_contact", "mode": "add", "person_id": MEGAN_ID,
                                   "alternate_email": "megan.marketing@outlook.com", "phone": "+1 425 555 0100",
                                   "preferred_language": "en-US"})
    saved = await wf.expect(card="Megan Bowen is now the company marketing contact")
    assert {"Update", "Change"} <= titles(saved.card)
    assert disk.find(wf_stack.data_dir, person_id=MEGAN_ID, alternate_email="megan.marketing@outlook.com",
                     phone="+1 425 555 0100")

    await wf.say("gtm")
    page = await wf.expect(card="Go-to-market benefits")
    pending = await press(wf, page, "activate_offer", benefit_id="gtm-gold-core")
    assert "Activation of Go-to-market benefits · Gold Core requested: status Pending activation" in all_text(
        pending.card)

    # Microsoft activated it: Alex marks it activated with its expiry date
    expires = date.today() + timedelta(days=365)
    await wf.say("activate")
    waiting = await wf.expect(card="Go-to-market benefits · Gold Core")
    row = next(r for r in waiting.card["body"] if "Gold Core" in all_text(r))
    field = row["items"][2]["id"]
    done = await press(wf, waiting, "mark_activated", {field: expires.isoformat()}, target="gtm-gold-core")
    assert "Go-to-market benefits · Gold Core is active. 2 people will be notified." in notice_of(done)
    # the proactive notifications arrive on the stream: Alex, who asked, and Megan, the contact
    told = await wf.expect(card="Go-to-market benefits · Gold Core is now active")
    assert day(expires) in all_text(told.card) and "Active" in all_text(told.card)
    await wf.expect(card="The go-to-market benefit Go-to-market benefits · Gold Core is now active")

    await wf.say("gtm")
    page = await wf.expect(card="Go-to-market benefits")
    gold = next(c for c in page.card["body"] if c.get("type") == "ColumnSet" and "Gold Core" in all_text(c))
    assert "Active" in all_text(gold) and day(expires) in all_text(gold)
    assert stored(wf_stack, "benefits", id="gtm-gold-core", status="active", expires_on=expires.isoformat())


async def test_go_to_market_in_traditional_chinese(wf: Playground) -> None:
    """Runs after the contact is set: activating the other offer in zh-TW, then marking it 作用中."""
    await speak(wf, "zh-TW")
    await wf.say("進入市場")
    page = await wf.expect(card="進入市場供應項目")
    assert "行銷連絡人" in all_text(page.card) and any(title.startswith("啟用：") for title in titles(page.card))
    pending = await press(wf, page, "activate_offer", benefit_id="gtm-isv-cosell")
    assert "已要求啟用 進入市場供應項目 · ISV 為共同銷售做好準備：狀態為等待啟用" in all_text(pending.card)
    await wf.say("啟用")
    waiting = await wf.expect(card="ISV 為共同銷售做好準備")
    done = await press(wf, waiting, "mark_activated", target="gtm-isv-cosell")
    assert "已啟用" in notice_of(done)
    told = await wf.expect(card="ISV 為共同銷售做好準備 現已啟用")
    assert "作用中" in all_text(told.card)


# --- (8) users and permissions; the employee's side -----------------------------------------------------
async def test_users_and_permissions(wf: Playground, wf_stack: Stack) -> None:
    await wf.say("users")
    page = await wf.expect(card="Users and permissions")
    megan = find_execute(page.card, "set_roles", person_id=MEGAN_ID)
    assert megan is not None
    saved = await press(wf, page, "set_roles", {megan["data"]["input"]: "mpn_partner_admin,user_admin"},
                        person_id=MEGAN_ID)
    assert re.search(r"Roles of Megan Bowen: (MPN Partner admin, User admin|User admin, MPN Partner admin)",
                     all_text(saved.card), re.I), all_text(saved.card)[:300]
    [megan_doc] = stored(wf_stack, "people", id=MEGAN_ID)
    assert sorted(megan_doc["roles"]) == ["mpn_partner_admin", "user_admin"]

    # an employee asks: refused, naming the admins; a forged click changes nothing
    await act_as(wf, LEE, text="users")
    refusal = await wf.expect("Alex Wilber")
    assert "global admin" in refusal.all_text.lower()
    await act_as(wf, LEE, value={"action": "set_roles", "person_id": LEE_ID, "roles": "global_admin"})
    await wf.expect("Alex Wilber")
    assert stored(wf_stack, "people", id=LEE_ID, roles=[])

    await act_as(wf, LEE, locale="zh-CN", text="用户")
    refusal = await wf.expect("Alex Wilber")
    assert "全局管理员" in refusal.all_text


async def test_employee_my_benefits_request_approve_and_told(wf: Playground, wf_stack: Stack) -> None:
    """Lee (zh-CN client) sees his holdings, asks for a benefit; Alex gets the request card proactively,
    approves it in place; Lee is told in his language, and his benefits now show it."""
    # A proactive message has no activity to take a locale from: it uses the person's stored preference
    # (the client locale of earlier messages is not remembered), so Lee sets his, as a person would.
    await act_as(wf, LEE, locale="zh-CN", text="语言 zh-CN")
    await wf.expect("简体中文")
    await act_as(wf, LEE, locale="zh-CN", text="我的权益")
    mine = await wf.expect(card="我的权益")
    text = all_text(mine.card)
    assert "Microsoft 产品支持事件" in text and "等待激活" in text  # assigned in the technical test
    assert "Visual Studio 企业版订阅" in text and "活动" in text

    await act_as(wf, LEE, locale="zh-CN", value={"action": "request_benefit"})
    form = await wf.expect(card="Visual Studio 专业版订阅")
    choices = {c["value"] for c in next(e for e in form.card["body"] if e.get("id") == "benefit_id")["choices"]}
    assert "vs-professional" in choices and "vs-enterprise" not in choices  # he holds Enterprise already
    await act_as(wf, LEE, locale="zh-CN", value={"action": "submit_benefit_request", "benefit_id": "vs-professional",
                                                 "note": "为 Contoso 应用"})
    submitted = await wf.expect(card="请求已提交")
    reference = re.search(r"BR-\d{8}-[0-9A-F]{6}", all_text(submitted.card))
    assert reference is not None
    # the admin's request card arrives by itself, in Alex's language, with the decision buttons
    request = await wf.expect(card=f"Benefit request {reference.group(0)}")
    assert "Lee Gu (leeg@contoso.com)" in all_text(request.card)
    assert {"Approve and assign user", "Decline"} <= titles(request.card)

    approved = await press(wf, request, "decide_request", decision="approve")
    assert "Approved: the benefit is assigned to Lee Gu" in all_text(approved.card["body"][:2])
    assert "Approve and assign user" not in titles(approved.card)
    told = await wf.expect(card=f"你对 Visual Studio 专业版订阅 的请求 {reference.group(0)} 已批准")
    assert "已批准" in all_text(told.card)
    assert disk.find(wf_stack.data_dir, reference=reference.group(0), status="approved", decided_by=ALEX_ID)
    assert LEE_ID in held(wf_stack, "vs-professional")

    await act_as(wf, LEE, locale="zh-CN", text="我的权益")
    mine = await wf.expect(card="我的权益")
    assert "Visual Studio 专业版订阅" in all_text(mine.card)
    await act_as(wf, LEE, locale="zh-TW", text="語言 zh-TW")  # and in Traditional Chinese: 作用中
    await wf.expect("繁體中文")
    await act_as(wf, LEE, locale="zh-TW", text="我的權益")
    mine = await wf.expect(card="我的權益")
    assert "Visual Studio 專業版訂閱" in all_text(mine.card) and "作用中" in all_text(mine.card)


# --- (7) cancel a benefit: its own stack, nothing revealed yet ---------------------------------------------
async def test_cancel_refused_for_gold_allowed_for_the_action_pack(cancel_pg: Playground, cancel_stack: Stack) -> None:
    pg = cancel_pg
    await speak(pg, "zh-CN")
    await pg.say("取消")
    page = await pg.expect(card="Microsoft Action Pack")
    gold = await pg.execute(page, "cancel_package", {"package_id": "pkg-gold-cloud", "confirm": "yes"})
    assert "必须在购买后的 30 天内发出请求" in all_text(gold)  # the refusal replaces the card: no stale message

    await speak(pg, "en-US")
    await pg.say("cancel")
    page = await pg.expect(card="Cancel a membership benefit")
    text = all_text(page.card)
    assert "The refund window has passed" in text  # Gold, bought 200 days ago
    assert find_execute(page.card, "cancel_package", package_id="pkg-gold-cloud") is None
    refused = await pg.execute(page, "cancel_package", {"package_id": "pkg-gold-cloud", "confirm": "yes"})
    assert "within 30 days of purchase" in all_text(refused)
    assert stored(cancel_stack, "packages", id="pkg-gold-cloud", status="active")

    confirm = await press(pg, page, "cancel_package", package_id="pkg-action-pack")
    assert "Cancel Microsoft Action Pack?" in all_text(confirm.card)
    assert "Visual Studio Enterprise subscription" in all_text(confirm.card)
    assert stored(cancel_stack, "packages", id="pkg-action-pack", status="active")
    done = await press(pg, confirm, "cancel_package", package_id="pkg-action-pack", confirm="yes")
    assert "Cancellation request: Microsoft Action Pack" in all_text(done.card)
    assert stored(cancel_stack, "packages", id="pkg-action-pack", status="active")  # until Microsoft cancels it
    filed = await press(pg, done, "record_request_number", {"partner_center_number": "2611290010005678"})
    closed = await press(pg, filed, "close_request", outcome="cancelled")
    assert "Microsoft cancelled Microsoft Action Pack" in notice_of_request(closed)
    assert stored(cancel_stack, "packages", id="pkg-action-pack", status="cancelled")
    assert stored(cancel_stack, "benefits", id="vs-enterprise", status="cancelled")
    assert disk.find(cancel_stack.data_dir, kind="cancellation", status="closed", outcome="cancelled",
                     partner_center_number="2611290010005678", package_id="pkg-action-pack")

    await pg.say("overview")
    assert "Microsoft Action Pack (cancelled)" in all_text((await pg.expect(card="Benefits overview")).card)
