"""The main workflows in headless Chromium, as a person clicks them, a screenshot per step.

The browser is Alex Wilber (Global admin), the Playground's user. These journeys share the session
stack with the foundation journeys (which change no benefit); each sets up what it needs itself
(over the Playground's HTTP routes when it is not the point of the journey), so they hold in any order.
An employee's own view (Lee Gu) is covered over HTTP in ``test_http_workflows``: the Playground's
browser UI speaks only as its current user.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.e2e.journey import Journey
from tests.e2e.playground import Playground

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

LEE_ID = "00000000-0000-0000-0000-0000000000a3"


async def test_overview_then_a_category(journey: Journey) -> None:
    await journey.open()
    await journey.say("overview")
    await journey.expect_card("Benefits overview")
    await journey.click("Open: Visual Studio subscriptions")
    await journey.expect_card("Visual Studio Enterprise subscription", step="Visual Studio list")


async def test_assign_a_visual_studio_subscription_then_my_benefits(journey: Journey) -> None:
    await journey.open()
    await journey.say("visual studio")
    await journey.expect_card("Visual Studio Professional subscription")
    await journey.click("Details: Visual Studio Professional subscription")
    await journey.screenshot("row expanded")
    await journey.click("Assign user: Visual Studio Professional subscription")
    await journey.pick("Alex Wilber")
    await journey.screenshot("person chosen")
    await journey.click("Assign user")
    await journey.expect_card("Visual Studio Professional subscription is assigned to Alex Wilber")
    await journey.say("my benefits")
    await journey.expect_card("Visual Studio Professional subscription", step="my benefits")


async def test_marketing_contact_and_offer_activation_in_simplified_chinese(journey: Journey) -> None:
    await journey.open()
    await journey.say("language zh-CN")
    await journey.expect_text("简体中文")
    await journey.say("市场投放")
    await journey.expect_card("市场投放权益")
    await journey.click("添加")
    await journey.expect_card("营销联系人", step="contact form")
    await journey.pick("Megan Bowen", typed="Megan")
    await journey.fill("备用电子邮件", "megan.marketing@outlook.com")
    await journey.fill("联系电话", "+86 21 5555 0100")
    await journey.screenshot("contact form filled")
    await journey.click("分配用户")
    await journey.expect_card("Megan Bowen 现在是公司营销联系人")
    await journey.click(re.compile("^详细信息：.*金级核心"))
    await journey.screenshot("offer expanded")
    await journey.click(re.compile("^激活：.*金级核心"))
    await journey.expect_card("等待激活")


async def test_mark_activated_and_the_notification_arrives_in_traditional_chinese(
        journey: Journey, pg: Playground) -> None:
    # arranged over HTTP: a support seat for Lee waits for Microsoft's activation
    await pg.say("technical")
    page = await pg.expect(card="Product support incidents")
    await pg.execute(page, "assign_user", {"benefit_id": "tech-support", "person_id": LEE_ID,
                                           "alternate_email": "lee.gu@outlook.com"})
    expires = date.today() + timedelta(days=365)

    await journey.open()
    await journey.say("language zh-TW")
    await journey.expect_text("繁體中文")
    await journey.say("啟用")
    await journey.expect_card("Microsoft 產品支援事件")
    await journey.fill("到期日（不會到期則留空）", expires.isoformat(), row="Microsoft 產品支援事件")
    await journey.screenshot("expiry date entered")
    await journey.click(re.compile(r"^標記為已啟用"), row="Microsoft 產品支援事件")
    await journey.expect_card("已啟用。將通知")
    await journey.expect_card("您指派給 Lee Gu 的 Microsoft 產品支援事件 現已啟用", step="notification arrived")
    await journey.expect_card("作用中", step="notification says active")



async def test_assistance_request_is_prepared_then_its_partner_center_number_recorded(journey: Journey) -> None:
    await journey.open()
    await journey.say("technical")
    await journey.expect_card("Partner advisory hours")
    await journey.click("Details: Partner advisory hours")
    await journey.click("Request assistance: Partner advisory hours")
    await journey.expect_card("Request technical assistance: Partner advisory hours", step="assistance form")
    await journey.p.locator(".ac-adaptiveCard").last.get_by_text("Design", exact=True).click()
    await journey.fill("Topic", "Landing zone review")
    await journey.fill("Description", "Hub and spoke network for three regions")
    await journey.click("Prepare the request for Partner Center")
    await journey.expect_card("Assistance request: Partner advisory hours", step="prepared, ready to copy")
    await journey.expect_card("The bot can't file this request for you")
    await journey.fill("Number Partner Center gave you", "12")
    await journey.click("Record the number")  # the renderer checks the pattern: nothing is sent
    await journey.expect_card("4 to 40 letters", step="number refused in the card")
    await journey.fill("Number Partner Center gave you", "2611290010001234")
    await journey.click("Record the number")
    await journey.expect_card("Partner Center number 2611290010001234 recorded", step="number recorded")
    await journey.click("All requests")
    await journey.expect_card("Partner Center service requests still open", step="requests list")


async def test_assigning_yourself_azure_tells_you_how_to_start(journey: Journey) -> None:
    await journey.open()
    await journey.say("cloud")
    await journey.expect_card("Azure monthly credit")
    await journey.click("Details: Azure monthly credit")
    await journey.click(re.compile(r"^Assign myself"))
    await journey.expect_card("Go to the Microsoft Azure portal to manage the subscription.",
                              step="the seat notice arrives")
    await journey.expect_card("You have been assigned Azure monthly credit")
