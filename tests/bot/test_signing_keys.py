"""Signing keys of the Bot Connector: fetched off the loop, cached, and never on a junk token's say-so.

Real RS256 tokens from the local identity fake, real HTTP to the real app. The fake counts every
request for the key set, can answer slowly or fail, and can rotate its key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession

from bot.signing_keys import KeyPolicy, KeySet
from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import ISSUER, FakeIdentity, new_key
from tests._common.harness import LEE, BotClient, bot_settings, start_bot
from tests.bot.test_auth import MALLORY


async def _secured(connector: FakeConnector, identity: FakeIdentity, data_dir: Path,
                   **more: str) -> AsyncIterator[BotClient]:
    runner, base = await start_bot(bot_settings(data_dir, **identity.settings(GRAPH_ENABLED="false", **more)))
    async with ClientSession() as session:
        yield BotClient(base, connector, session, app=runner.app)
    await runner.cleanup()


@pytest.fixture
async def secured(connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> AsyncIterator[BotClient]:
    async for client in _secured(connector, identity, data_dir):
        yield client


def _junk(identity: FakeIdentity, service_url: str) -> list[str]:
    """Tokens carrying the Bot Framework issuer that no key of the Bot Connector signed."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "11111111-2222-3333-4444-555555555555", "serviceurl": service_url,
              "nbf": now - 60, "exp": now + 3600}
    return [
        jwt.encode(claims, None, algorithm="none", headers={"kid": identity.kid}),  # unsigned
        jwt.encode(claims, None, algorithm="none"),  # unsigned, no key id
        identity.mint(service_url, key=new_key()),  # bad signature, known key id
        identity.mint(service_url, kid="nobody-knows-me"),  # unknown key id
        identity.mint(service_url, key=new_key(), kid="another-stranger"),
        identity.mint(service_url, alg="HS256"),
        identity.mint(service_url, kid="x" * 5000),
        "not.a.jwt",
        "eyJhbGciOiJSUzI1NiJ9.e30.",  # RS256 without a key id
        "e30.e30.e30",
    ]


async def _post(bot: BotClient, token: str, user: dict[str, Any] = MALLORY) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with bot.session.post(f"{bot.base}/api/messages", json=bot.activity(user, text="help"),
                                headers=headers) as resp:
        await resp.read()
        return resp.status


async def _wait(predicate: Any) -> None:
    """Poll a counter of the fake (it runs in another thread: there is no event to wait on)."""
    async with asyncio.timeout(10):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_junk_tokens_never_fetch_keys_and_get_401(secured: BotClient, identity: FakeIdentity) -> None:
    assert await _post(secured, identity.mint(secured.connector.url), LEE) in (200, 201)
    fetched = identity.key_fetches, identity.metadata_fetches
    assert fetched[0] >= 1
    statuses = [await _post(secured, token) for _ in range(3) for token in _junk(identity, secured.connector.url)]
    assert set(statuses) == {401}
    assert (identity.key_fetches, identity.metadata_fetches) == fetched
    assert [a for a in secured.connector.sent if a.get("recipient", {}).get("id") == MALLORY["id"]] == []


async def test_a_failing_key_endpoint_is_503_fetched_once_per_interval_and_recovers(
        connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> None:
    identity.keys_status = 500
    async for bot in _secured(connector, identity, data_dir, SIGNING_KEYS_MIN_REFRESH_SECONDS="3600"):
        statuses = [await _post(bot, token) for token in _junk(identity, connector.url) * 2]
        statuses.append(await _post(bot, identity.mint(connector.url), LEE))
        assert set(statuses) <= {401, 503} and 503 in statuses
        assert identity.key_fetches == 1  # the start-up fetch; nothing asked again within the interval
        async with bot.session.post(f"{bot.base}/api/messages", json=bot.activity(LEE, text="help"),
                                    headers={"Authorization": f"Bearer {identity.mint(connector.url)}"}) as resp:
            assert resp.status == 503 and int(resp.headers["Retry-After"]) >= 1


async def test_after_an_outage_a_valid_token_gets_through(connector: FakeConnector, identity: FakeIdentity,
                                                           data_dir: Path) -> None:
    identity.keys_status = 503
    async for bot in _secured(connector, identity, data_dir, SIGNING_KEYS_MIN_REFRESH_SECONDS="1"):
        assert await _post(bot, identity.mint(connector.url), LEE) == 503
        identity.keys_status = 200
        await asyncio.sleep(1.1)  # the retry interval (1 s here) since the failed fetch has passed
        assert await _post(bot, identity.mint(connector.url), LEE) in (200, 201)


async def test_a_slow_key_endpoint_does_not_stall_the_bot(connector: FakeConnector, identity: FakeIdentity,
                                                          data_dir: Path) -> None:
    identity.keys_delay_s = 3.0
    async for bot in _secured(connector, identity, data_dir):
        waiting = asyncio.ensure_future(_post(bot, identity.mint(connector.url), LEE))
        await _wait(lambda: identity.keys_in_flight == 1)
        async with bot.session.get(f"{bot.base}/healthz") as resp:
            assert resp.status == 200
        assert identity.keys_in_flight == 1  # /healthz answered while the key set was on its way
        assert not waiting.done()
        assert await waiting in (200, 201)  # the waiting turn got the keys of that one fetch
        assert identity.key_fetches == 1


async def test_a_key_endpoint_that_never_answers_is_given_up(connector: FakeConnector, identity: FakeIdentity,
                                                             data_dir: Path) -> None:
    identity.keys_delay_s = 3.0
    async for bot in _secured(connector, identity, data_dir, SIGNING_KEYS_TIMEOUT_SECONDS="0.5"):
        assert await _post(bot, identity.mint(connector.url), LEE) == 503


async def test_a_new_key_id_refreshes_once_per_interval(connector: FakeConnector, identity: FakeIdentity,
                                                         data_dir: Path) -> None:
    async for secured in _secured(connector, identity, data_dir, SIGNING_KEYS_MIN_REFRESH_SECONDS="1"):
        await _rotation(secured, identity)


async def _rotation(secured: BotClient, identity: FakeIdentity) -> None:
    assert await _post(secured, identity.mint(secured.connector.url), LEE) in (200, 201)
    await asyncio.sleep(1.1)  # the interval (1 s here) since the last fetch has passed
    before = identity.key_fetches
    identity.rotate_key()
    statuses = await asyncio.gather(*(_post(secured, identity.mint(secured.connector.url), LEE) for _ in range(5)))
    assert set(statuses) <= {200, 201}
    assert identity.key_fetches == before + 1
    strangers = [identity.mint(secured.connector.url, kid=f"stranger-{n}") for n in range(5)]
    assert {await _post(secured, token) for token in strangers} == {401}
    assert identity.key_fetches == before + 1


async def test_old_keys_keep_serving_while_a_background_refresh_runs(identity: FakeIdentity) -> None:
    now = [0.0]
    keys = KeySet(f"{identity.http}/botframework/.well-known/openidconfiguration",
                  KeyPolicy(max_age_s=100.0, min_refresh_s=10.0), clock=lambda: now[0])
    key = await keys.get(identity.kid)
    assert identity.key_fetches == 1
    identity.keys_delay_s = 2.0
    now[0] = 150.0
    assert await keys.get(identity.kid) is key  # served at once, though stale
    await _wait(lambda: identity.key_fetches == 2)
    await _wait(lambda: keys.fetched_at == 150.0)
    assert await keys.get(identity.kid) is not None
