"""Activation notices end to end: from chat, from ``POST /api/activations`` and from the CLI, over
HTTP on loopback, with what the fake connector receives as the proof; undeliverable people listed
for admins; a restart in the middle of a fan-out tells nobody twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot import keys
from bot.cli import main as cli_main
from bot.notifier import NOTIFICATIONS
from bot.operator.bearer import sign
from domain.models import Status
from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, LEE, BotClient, all_text, bot_settings, cards_in, start_bot

SECRET = "test-activations-secret"
ALEX_ID = ALEX["aadObjectId"]
LEE_ID = LEE["aadObjectId"]
ALEX_CONV = f"a:personal-{ALEX['id']}"
LEE_CONV = f"a:personal-{LEE['id']}"
TODAY = datetime.now(UTC).date()
EXPIRES = (TODAY + timedelta(days=365)).isoformat()


@dataclass
class Running:
    runner: web.AppRunner
    client: BotClient

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def port(self) -> int:
        return int(self.client.base.rsplit(":", 1)[1])

    @property
    def service(self) -> Any:
        return self.app[keys.SERVICE]

    def outbox_states(self) -> dict[str, str]:
        """Who is owed an activation notice, and its state (assignment notices aside)."""
        return {d["recipient"]: d["state"] for d in self.app[NOTIFICATIONS].outbox.store.all("outbox")
                if d["kind"] != "assigned"}

    def assignment_notices_sent(self) -> bool:
        docs = [d for d in self.app[NOTIFICATIONS].outbox.store.all("outbox") if d["kind"] == "assigned"]
        return bool(docs) and all(d["state"] == "delivered" for d in docs)


async def start(connector: FakeConnector, data_dir: Path, session: ClientSession, **env: str) -> Running:
    runner, base = await start_bot(bot_settings(data_dir, ACTIVATIONS_SECRET=SECRET, **env))
    return Running(runner, BotClient(base, connector, session))


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as s:
        yield s


@pytest.fixture
async def running(connector: FakeConnector, data_dir: Path, session: ClientSession) -> AsyncIterator[Running]:
    bot = await start(connector, data_dir, session)
    yield bot
    await bot.runner.cleanup()


async def until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def pending_assignment(bot: Running) -> str:
    """Alex (Global admin) and Lee have talked to the bot; Lee holds a pending support seat."""
    await bot.client.say(ALEX, "help")
    await bot.client.say(LEE, "language zh-CN")
    alex = bot.service.repo.person(ALEX_ID)
    assignment = await bot.service.assign(alex, "tech-support", LEE_ID, "lee.alt@example.com")
    assert assignment.status is Status.PENDING_ACTIVATION
    await until(bot.assignment_notices_sent)  # Lee is told of the seat first
    bot.client.connector.clear()
    return assignment.id


def received(connector: FakeConnector, conversation: str) -> list[dict[str, Any]]:
    return cards_in([s for s in connector.sent if s["_conversation"] == conversation])


async def post(bot: Running, body: Any, *, secret: str | None = SECRET, raw: bytes | None = None,
               signature: str | None = None) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    if signature is not None:
        headers["X-Signature"] = signature
    async with bot.client.session.post(f"{bot.client.base}/api/activations", data=data, headers=headers) as resp:
        return resp.status, await resp.json()


# --- from chat ---------------------------------------------------------------------------------------
async def test_activation_from_chat_tells_each_person_in_their_language(running: Running) -> None:
    assignment_id = await pending_assignment(running)
    card = cards_in(await running.client.say(ALEX, "activate"))[0]
    assert "Product support incidents for Lee Gu" in all_text(card)
    assert any(e.get("type") == "Input.Date" for item in card["body"] for e in item.get("items", []))
    running.client.connector.clear()
    status, body, _ = await running.client.execute(
        ALEX, "mark_activated", {"target": assignment_id, "field": "expires_0", "expires_0": EXPIRES})
    assert status == 200 and "2 people will be notified" in all_text(body["value"])
    await until(lambda: len(running.client.connector.sent) >= 2)
    lee_card, alex_card = received(running.client.connector, LEE_CONV), received(running.client.connector, ALEX_CONV)
    assert len(lee_card) == 1 and len(alex_card) == 1
    assert "你的权益 Microsoft 产品支持事件 现已激活" in all_text(lee_card[0])  # the official zh-CN name
    assert "活动" in all_text(lee_card[0])  # status in Lee's language
    assert "which you assigned to Lee Gu, is now active" in all_text(alex_card[0])
    assert "Expires" in all_text(alex_card[0])
    assert running.service.repo.assignment(assignment_id).status is Status.ACTIVE


async def test_a_forged_activation_by_an_employee_changes_nothing(running: Running) -> None:
    assignment_id = await pending_assignment(running)
    status, body, sent = await running.client.execute(LEE, "mark_activated", {"target": assignment_id})
    assert status == 200
    refusal = all_text(body["value"])  # the refusal replaces the clicked card
    assert sent == [] and ("管理员" in refusal or "admin" in refusal.lower())
    assert running.service.repo.assignment(assignment_id).status is Status.PENDING_ACTIVATION
    await asyncio.sleep(0.1)
    assert running.app[NOTIFICATIONS].outbox.pending() == []


# --- from the HTTP endpoint --------------------------------------------------------------------------
async def test_endpoint_activation_notifies_once_even_when_posted_twice(running: Running) -> None:
    assignment_id = await pending_assignment(running)
    body = {"assignment_id": assignment_id, "activated_on": TODAY.isoformat(), "expires_on": EXPIRES,
            "event_id": "crm-1"}
    status, answer = await post(running, body)
    assert (status, answer["changed"], answer["recipients"]) == (200, True, 2)
    await until(lambda: len(running.client.connector.sent) >= 2)
    status, answer = await post(running, {**body, "event_id": "crm-2"},
                                signature=sign(SECRET, json.dumps({**body, "event_id": "crm-2"}).encode()))
    assert (status, answer["changed"]) == (200, False)
    await asyncio.sleep(0.2)
    assert len(received(running.client.connector, LEE_CONV)) == 1
    assert len(received(running.client.connector, ALEX_CONV)) == 1


async def test_endpoint_refuses_bad_requests(running: Running) -> None:
    assignment_id = await pending_assignment(running)
    good = {"assignment_id": assignment_id, "activated_on": TODAY.isoformat(), "expires_on": None}
    assert (await post(running, good, secret=None))[0] == 401
    assert (await post(running, good, secret="wrong"))[0] == 401
    assert (await post(running, good, signature="sha256=" + "0" * 64))[0] == 401
    status, answer = await post(running, None, raw=b"{not json")
    assert status == 400 and answer["field"] == "$"
    status, answer = await post(running, {"activated_on": TODAY.isoformat()})
    assert status == 400 and answer["field"] == "benefit_id"
    status, answer = await post(running, {"assignment_id": assignment_id})
    assert status == 400 and answer["field"] == "activated_on"
    status, answer = await post(running, {**good, "activated_on": "22/11/2026"})
    assert status == 400 and answer["field"] == "activated_on" and "YYYY-MM-DD" in answer["error"]
    status, answer = await post(running, {**good, "expires_on": "2026-13-01"})
    assert status == 400 and answer["field"] == "expires_on"
    status, answer = await post(running, {**good, "expires_on": (TODAY - timedelta(days=1)).isoformat()})
    assert status == 400 and answer["field"] == "expires_on"
    status, answer = await post(running, {"benefit_id": "no-such-benefit", "activated_on": TODAY.isoformat()})
    assert status == 404 and answer["field"] == "benefit_id"
    status, answer = await post(running, {"benefit_id": "sw-office", "activated_on": TODAY.isoformat()})
    assert status == 409  # not pending activation
    assert running.service.repo.assignment(assignment_id).status is Status.PENDING_ACTIVATION


async def test_endpoint_is_off_without_a_secret(connector: FakeConnector, data_dir: Path,
                                                session: ClientSession) -> None:
    runner, base = await start_bot(bot_settings(data_dir))
    try:
        async with session.post(f"{base}/api/activations", json={"benefit_id": "x"},
                                headers={"Authorization": "Bearer "}) as resp:
            assert resp.status == 503 and "ACTIVATIONS_SECRET" in (await resp.json())["error"]
    finally:
        await runner.cleanup()


# --- from the CLI ---------------------------------------------------------------------------------------
def _cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, port: int) -> None:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("ACTIVATIONS_SECRET", SECRET)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")


async def test_cli_while_the_bot_runs_posts_to_it(running: Running, data_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assignment_id = await pending_assignment(running)
    _cli_env(monkeypatch, data_dir, running.port)
    code = await asyncio.to_thread(cli_main, ["activate", "--assignment", assignment_id, "--on", TODAY.isoformat(),
                                              "--expires", EXPIRES])
    assert code == 0
    await until(lambda: len(running.client.connector.sent) >= 2)
    assert len(received(running.client.connector, LEE_CONV)) == 1
    assert len(received(running.client.connector, ALEX_CONV)) == 1


async def test_cli_without_the_bot_leaves_notices_for_the_next_start(
        connector: FakeConnector, data_dir: Path, session: ClientSession, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = await start(connector, data_dir, session)
    assignment_id = await pending_assignment(bot)
    await bot.runner.cleanup()
    _cli_env(monkeypatch, data_dir, 9)
    code = await asyncio.to_thread(cli_main, ["activate", "--assignment", assignment_id, "--on", TODAY.isoformat()])
    assert code == 0 and connector.sent == []
    bot = await start(connector, data_dir, session)
    try:
        await until(lambda: len(connector.sent) >= 2)
        assert len(received(connector, LEE_CONV)) == 1 and len(received(connector, ALEX_CONV)) == 1
        assert bot.service.repo.assignment(assignment_id).status is Status.ACTIVE
    finally:
        await bot.runner.cleanup()


# --- who could not be reached -----------------------------------------------------------------------
async def test_undeliverable_people_are_listed_for_admins(running: Running) -> None:
    assignment_id = await pending_assignment(running)
    running.client.connector.fail[LEE_CONV] = 403
    status, _ = await post(running, {"assignment_id": assignment_id, "activated_on": TODAY.isoformat()})
    assert status == 200
    await until(lambda: running.outbox_states().get(LEE_ID) == "undeliverable")
    card = cards_in(await running.client.say(ALEX, "notifications"))[0]
    text = all_text(card)
    assert "Lee Gu" in text and "blocked the bot" in text
    replies = await running.client.say(LEE, "notifications")  # employees are refused
    assert not cards_in(replies)


# --- restart in the middle of a fan-out --------------------------------------------------------------
async def test_restart_mid_fan_out_tells_each_person_exactly_once(
        connector: FakeConnector, data_dir: Path, session: ClientSession) -> None:
    bot = await start(connector, data_dir, session)
    assignment_id = await pending_assignment(bot)
    before = connector.attempts.get(LEE_CONV, 0)
    connector.script[LEE_CONV] = [429]
    connector.retry_after = "1"
    body = {"assignment_id": assignment_id, "activated_on": TODAY.isoformat(), "expires_on": EXPIRES}
    assert (await post(bot, body))[0] == 200
    await until(lambda: bot.outbox_states() == {ALEX_ID: "delivered", LEE_ID: "pending"})
    await bot.runner.cleanup()  # stopped with Lee's notice still owed
    assert len(received(connector, LEE_CONV)) == 0
    bot = await start(connector, data_dir, session)
    try:
        assert (await post(bot, body))[1]["changed"] is False  # the integration retries too
        await until(lambda: bot.outbox_states() == {ALEX_ID: "delivered", LEE_ID: "delivered"})
        await asyncio.sleep(0.2)
        assert len(received(connector, LEE_CONV)) == 1 and len(received(connector, ALEX_CONV)) == 1
        assert connector.attempts[LEE_CONV] - before == 2  # the 429, then the delivery after Retry-After
    finally:
        await bot.runner.cleanup()


async def test_cli_refuses_bad_dates_and_a_locked_folder_without_secret(
        running: Running, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _cli_env(monkeypatch, data_dir, running.port)
    assert await asyncio.to_thread(cli_main, ["activate", "--benefit", "x", "--on", "tomorrow"]) == 2
    assert "activated_on" in capsys.readouterr().err
    monkeypatch.setenv("ACTIVATIONS_SECRET", "")
    code = await asyncio.to_thread(cli_main, ["activate", "--benefit", "gtm-gold-core", "--on", TODAY.isoformat()])
    assert code == 3 and "ACTIVATIONS_SECRET" in capsys.readouterr().err


# --- employee requests: the admins are asked, the employee hears the outcome -------------------------
async def test_a_benefit_request_reaches_the_admins_and_the_outcome_reaches_the_employee(running: Running) -> None:
    await running.client.say(ALEX, "help")
    await running.client.say(LEE, "language zh-TW")
    running.client.connector.clear()
    status, _, _ = await running.client.execute(LEE, "submit_benefit_request",
                                                {"benefit_id": "vs-professional", "note": "for the app"})
    assert status == 200
    request = next(r for r in running.service.repo.requests() if r.requested_by == LEE_ID)
    await until(lambda: bool(received(running.client.connector, ALEX_CONV)))
    asked = received(running.client.connector, ALEX_CONV)[0]
    assert request.reference in all_text(asked) and "decide_request" in json.dumps(asked)
    await running.client.execute(ALEX, "decide_request", {"request_id": request.id, "decision": "approve"})
    await until(lambda: any(request.reference in all_text(c) for c in received(running.client.connector, LEE_CONV)))
    told = next(all_text(c) for c in received(running.client.connector, LEE_CONV) if request.reference in all_text(c))
    assert "核准" in told  # in Lee's language (zh-TW)


async def test_notices_use_the_language_of_the_persons_teams_client(running: Running) -> None:
    await running.client.say(ALEX, "help")
    running.client.locale = "zh-TW"
    await running.client.say(LEE, "help")  # no language preference: the client speaks zh-TW
    running.client.locale = "en-US"
    alex = running.service.repo.person(ALEX_ID)
    assignment = await running.service.assign(alex, "tech-support", LEE_ID, "lee.alt@example.com")
    await until(running.assignment_notices_sent)
    running.client.connector.clear()
    await running.service.mark_activated(alex, assignment.id, TODAY, None)
    await until(lambda: bool(received(running.client.connector, LEE_CONV)))
    assert "已啟用" in all_text(received(running.client.connector, LEE_CONV)[0])
