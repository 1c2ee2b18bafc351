"""A login outage at start: the bot starts anyway, ``/readyz`` names the identity provider, and it recovers.

The local Entra authority (``tests/_common/fake_identity.py``) answers 503 to discovery and token
requests while it is "down"; a closed port stands for an authority that cannot be reached at all.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import FakeIdentity
from tests._common.harness import LEE, BotClient, bot_settings, start_bot


async def _readyz(session: ClientSession, base: str) -> tuple[int, Any]:
    async with session.get(f"{base}/readyz") as resp:
        return resp.status, await resp.json()


async def _ready_within(session: ClientSession, base: str) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            status, body = await _readyz(session, base)
            if status == 200:
                return body
            await asyncio.sleep(0.1)


async def test_the_bot_starts_while_entra_is_down_and_recovers_without_a_restart(
        connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> None:
    identity.entra_up = False
    settings = bot_settings(data_dir, **identity.settings(IDENTITY_RETRY_SECONDS="0.2"))
    runner, base = await start_bot(settings)  # Graph directory and the bot's own credential: both need Entra
    try:
        async with ClientSession() as session:
            status, body = await _readyz(session, base)
            assert status == 503 and body["status"] == "not ready"
            providers = body["identity_providers"]
            assert providers and {p["authority"] for p in providers} == {identity.authority}
            assert not any(p["ready"] for p in providers)
            assert all(identity.authority in p["detail"] for p in providers)

            identity.entra_up = True
            body = await _ready_within(session, base)
            assert all(p["ready"] for p in body["identity_providers"])

            bot = BotClient(base, connector, session, headers={
                "Authorization": f"Bearer {identity.mint(connector.url)}"})
            assert await bot.say(LEE, "help")  # the reply carries a token from the recovered authority
            assert connector.sent[-1]["_auth"].startswith("Bearer app-token-")
    finally:
        await runner.cleanup()


async def test_an_authority_nobody_answers_for_is_named_and_turns_do_not_crash(
        connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"https://127.0.0.1:{probe.getsockname()[1]}/contoso"
        settings = bot_settings(data_dir, **identity.settings(BOT_LOGIN_URL=closed, IDENTITY_RETRY_SECONDS="60"))
        runner, base = await start_bot(settings)
        try:
            async with ClientSession() as session:
                async with asyncio.timeout(15):
                    while True:  # the first attempt runs in the background right after start
                        status, body = await _readyz(session, base)
                        if "unreachable" in body["identity_providers"][0]["detail"]:
                            break
                        await asyncio.sleep(0.05)
                assert status == 503
                assert {p["authority"] for p in body["identity_providers"]} == {closed}
                bot = BotClient(base, connector, session, headers={
                    "Authorization": f"Bearer {identity.mint(connector.url)}"})
                status, _ = await bot.post(bot.activity(LEE, text="help"))
                assert status < 500
                assert (await _readyz(session, base))[0] == 503
        finally:
            await runner.cleanup()
