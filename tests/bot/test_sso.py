"""Teams SSO before secrets, and Entra roles, through HTTP with the real app and fake identity services.

The gate works by verb name: the tests put a stand-in ``reveal_keys`` handler in the running app's
workflows for their duration (whatever the real one does, the gate must stop it before it runs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot import keys
from dialogs.actions import ActionResult
from dialogs.admin_keys import KeysForm
from dialogs.turn import Turn
from dialogs.users import RolesForm
from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import GLOBAL_ADMIN_TEMPLATE, FakeIdentity
from tests._common.harness import ALEX, LEE, MEGAN, BotClient, all_text, bot_settings, cards_in, start_bot, texts_in

OAUTH_CARD = "application/vnd.microsoft.card.oauth"
CONNECTION = "aad-sso"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity(exchangeable={"sso-alex": ALEX["aadObjectId"], "sso-megan": MEGAN["aadObjectId"]}).start()
    yield fake
    fake.stop()


@pytest.fixture
def revealed(request: pytest.FixtureRequest) -> list[str]:
    calls: list[str] = []
    client = request.getfixturevalue("sso_bot" if "sso_bot" in request.fixturenames else "bot")

    async def stand_in(turn: Turn, form: KeysForm) -> ActionResult:
        calls.append(turn.person.id)
        return ActionResult(None, (f"KEYS-SHOWN-{form.benefit_id}",))

    client.app[keys.WORKFLOWS].replace_handler("reveal_keys", stand_in)
    return calls


async def _client(runner_base: tuple[Any, str], connector: FakeConnector, session: ClientSession,
                  identity: FakeIdentity) -> BotClient:
    runner, base = runner_base
    client = BotClient(base, connector, session)
    client.headers = {"Authorization": "Bearer " + identity.mint(connector.url)}
    client.app = runner.app
    return client


@pytest.fixture
async def sso_bot(connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> AsyncIterator[BotClient]:
    started = await start_bot(bot_settings(data_dir, **identity.settings(SSO_CONNECTION_NAME=CONNECTION,
                                                                         GRAPH_ENABLED="false")))
    async with ClientSession() as session:
        client = await _client(started, connector, session, identity)
        client.clock = Clock()
        started[0].app[keys.BOT].sso_gate.clock = client.clock
        yield client
    await started[0].cleanup()


def _oauth_cards(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a["content"] for act in activities for a in act.get("attachments") or [] if a["contentType"] == OAUTH_CARD]


async def _exchange(bot: BotClient, user: dict[str, Any], token: str, ident: str = "x1") -> tuple[int, Any]:
    return await bot.post(bot.activity(user, type="invoke", name="signin/tokenExchange",
                                       value={"id": ident, "connectionName": CONNECTION, "token": token}))


async def test_reveal_waits_for_sign_in_then_runs_once(sso_bot: BotClient, identity: FakeIdentity,
                                                       revealed: list[str]) -> None:
    status, _, sent = await sso_bot.execute(ALEX, "reveal_keys", {"benefit_id": "b1"})
    assert status == 200 and revealed == []
    card = _oauth_cards(sent)[0]
    assert card["connectionName"] == CONNECTION and card["tokenExchangeResource"]["uri"].startswith("api://")
    assert "sign in" in card["text"]

    before = len(sso_bot.connector.sent)
    status, body = await _exchange(sso_bot, ALEX, "sso-alex")
    assert (status, body["id"]) == (200, "x1")
    assert revealed == [ALEX["aadObjectId"]]
    assert "KEYS-SHOWN-b1" in texts_in(sso_bot.connector.sent[before:])
    obo = [r for r in identity.token_requests if r.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert len(obo) == 1 and obo[0]["assertion"] == "sso-alex" and "User.Read" in obo[0]["scope"]

    status, _ = await _exchange(sso_bot, ALEX, "sso-alex")  # Teams repeats the identical invoke
    assert status == 200 and revealed == [ALEX["aadObjectId"]] and len(identity.exchange_requests) == 1

    status, _, sent = await sso_bot.execute(ALEX, "reveal_keys", {"benefit_id": "b2"})  # still fresh
    assert revealed == [ALEX["aadObjectId"]] * 2 and not _oauth_cards(sent) and "KEYS-SHOWN-b2" in texts_in(sent)


async def test_a_sign_in_goes_stale_after_ten_minutes(sso_bot: BotClient, revealed: list[str]) -> None:
    await sso_bot.execute(ALEX, "reveal_keys")
    assert (await _exchange(sso_bot, ALEX, "sso-alex"))[0] == 200
    sso_bot.clock.now += timedelta(minutes=9)
    await sso_bot.execute(ALEX, "reveal_keys")
    assert len(revealed) == 2
    sso_bot.clock.now += timedelta(minutes=2)
    _, _, sent = await sso_bot.execute(ALEX, "reveal_keys")
    assert len(revealed) == 2 and _oauth_cards(sent)


async def test_a_failed_exchange_is_412_and_reveals_nothing(sso_bot: BotClient, revealed: list[str]) -> None:
    await sso_bot.execute(ALEX, "reveal_keys")
    status, body = await _exchange(sso_bot, ALEX, "not-exchangeable")  # the token service answers 400
    assert status == 412 and body["failureDetail"] and body["connectionName"] == CONNECTION
    assert revealed == []


async def test_someone_elses_token_is_412(sso_bot: BotClient, revealed: list[str]) -> None:
    await sso_bot.execute(ALEX, "reveal_keys")
    status, body = await _exchange(sso_bot, ALEX, "sso-megan")  # Graph /me names Megan, Alex is speaking
    assert status == 412 and revealed == []
    _, _, sent = await sso_bot.execute(ALEX, "reveal_keys")
    assert _oauth_cards(sent) and revealed == []


async def test_a_held_token_confirms_without_a_card(sso_bot: BotClient, identity: FakeIdentity,
                                                    revealed: list[str]) -> None:
    identity.user_tokens[ALEX["id"]] = "sso-alex"
    _, _, sent = await sso_bot.execute(ALEX, "reveal_keys", {"benefit_id": "b3"})
    assert revealed == [ALEX["aadObjectId"]] and not _oauth_cards(sent)
    identity.user_tokens[MEGAN["id"]] = "sso-alex"  # a token for someone else: refused
    _, _, sent = await sso_bot.execute(MEGAN, "reveal_keys")
    assert len(revealed) == 1 and "isn't the one you use in Teams" in " ".join(texts_in(sent))


async def test_verify_state_completes_a_sign_in(sso_bot: BotClient, identity: FakeIdentity,
                                                revealed: list[str]) -> None:
    await sso_bot.execute(ALEX, "reveal_keys", {"benefit_id": "b4"})
    identity.user_tokens[ALEX["id"]] = "sso-alex"  # the sign-in page finished; the magic code redeems it
    status, _ = await sso_bot.post(sso_bot.activity(ALEX, type="invoke", name="signin/verifyState",
                                                    value={"state": "123456"}))
    assert status == 200 and revealed == [ALEX["aadObjectId"]]


async def test_submits_and_set_roles_are_gated_too(sso_bot: BotClient, revealed: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sent = await sso_bot.submit(ALEX, {"action": "reveal_keys", "benefit_id": "b5"})
    assert _oauth_cards(sent) and revealed == []
    changed: list[str] = []

    async def set_roles_stand_in(turn: Turn, form: RolesForm) -> ActionResult:
        changed.append(form.person_id)
        return ActionResult(None, ("ROLES-CHANGED",))

    sso_bot.app[keys.WORKFLOWS].replace_handler("set_roles", set_roles_stand_in)
    sent = await sso_bot.submit(ALEX, {"action": "set_roles", "person_id": LEE["aadObjectId"]})
    assert _oauth_cards(sent) and changed == []
    assert (await _exchange(sso_bot, ALEX, "sso-alex", ident="x9"))[0] == 200
    assert changed == [LEE["aadObjectId"]] and revealed == []  # the last action asked for is the one resumed


async def test_without_sso_there_is_no_gate(bot: BotClient, revealed: list[str]) -> None:
    _, _, sent = await bot.execute(ALEX, "reveal_keys", {"benefit_id": "b6"})
    assert revealed == [ALEX["aadObjectId"]] and not _oauth_cards(sent)


async def test_an_entra_global_administrator_is_global_admin(connector: FakeConnector, identity: FakeIdentity,
                                                             data_dir: Path) -> None:
    identity.roles = {LEE["aadObjectId"]: [GLOBAL_ADMIN_TEMPLATE]}
    started = await start_bot(bot_settings(data_dir, **identity.settings()))
    async with ClientSession() as session:
        bot = await _client(started, connector, session, identity)
        assert "Global admin" in all_text(cards_in(await bot.say(LEE, "help"))[0])
        for _ in range(3):
            await bot.say(MEGAN, "help")
        role_calls = [r for r in identity.graph_requests if "transitiveMemberOf" in r]
        assert len(role_calls) == 2  # Lee once, Megan once: cached, not per turn
    await started[0].cleanup()


async def test_someone_without_the_role_is_refused_before_any_sign_in(sso_bot: BotClient, revealed: list[str]) -> None:
    replies = await sso_bot.say(LEE, "reveal", value={"action": "reveal_keys", "benefit_id": "sw-office"})
    assert not _oauth_cards(replies) and not revealed
    assert "Only admins can do this" in " ".join(texts_in(replies))
