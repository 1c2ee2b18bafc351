"""Inbound and outbound Bot Framework authentication through HTTP with the real app.

Only the Bot Connector may call ``/api/messages``: every kind of invalid credential gets 401 (never
500), no bot code runs and nothing is stored. Replies carry the bot's own token from msal, asked
for once and then served from msal's cache.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot import keys
from bot.auth import BotConfiguration, StrictAuthentication, build_authentication
from bot.settings import Settings
from services.conversations import ConversationBook
from tests._common.fake_connector import FakeConnector
from tests._common.fake_identity import APP_ID, FakeIdentity, new_key
from tests._common.harness import LEE, BotClient, bot_settings, start_bot, texts_in

MALLORY = {"id": "29:1-mallory", "name": "Mallory", "aadObjectId": "00000000-0000-0000-0000-00000000dead"}


@pytest.fixture
async def secured(connector: FakeConnector, identity: FakeIdentity, data_dir: Path) -> AsyncIterator[BotClient]:
    runner, base = await start_bot(bot_settings(data_dir, **identity.settings(GRAPH_ENABLED="false")))
    async with ClientSession() as session:
        client = BotClient(base, connector, session)
        client.app = runner.app
        yield client
    await runner.cleanup()


def _bad_tokens(identity: FakeIdentity, service_url: str) -> dict[str, str]:
    now = int(time.time())
    return {
        "missing": "",
        "garbage": "Bearer not.a.jwt",
        "expired": "Bearer " + identity.mint(service_url, iat=now - 3600, nbf=now - 3600, exp=now - 1200),
        "not_yet_valid": "Bearer " + identity.mint(service_url, iat=now + 1200, nbf=now + 1200, exp=now + 4800),
        "wrong_audience": "Bearer " + identity.mint(service_url, aud="someone-else"),
        "wrong_issuer": "Bearer " + identity.mint(service_url, iss="https://evil.example"),
        "wrong_signature": "Bearer " + identity.mint(service_url, key=new_key()),
        "unknown_kid": "Bearer " + identity.mint(service_url, kid="nobody-knows-me"),
        "service_url_mismatch": "Bearer " + identity.mint("https://smba.evil.example/"),
        "basic_scheme": "Basic " + "dXNlcjpwYXNzd29yZA==",
        "hs256": "Bearer " + identity.mint(service_url, alg="HS256"),
    }


async def _post(bot: BotClient, activity: dict[str, Any], auth: str) -> int:
    headers = {"Authorization": auth} if auth else {}
    async with bot.session.post(f"{bot.base}/api/messages", json=activity, headers=headers) as resp:
        await resp.read()
        return resp.status


async def test_every_invalid_credential_is_401_and_runs_no_bot_code(secured: BotClient,
                                                                     identity: FakeIdentity) -> None:
    statuses = {}
    for case, auth in _bad_tokens(identity, secured.connector.url).items():
        statuses[case] = await _post(secured, secured.activity(MALLORY, text="help"), auth)
    assert statuses == {case: 401 for case in statuses}
    assert secured.connector.sent == []
    repo = secured.app[keys.SERVICE].repo
    assert repo.person_by("teams_id", MALLORY["id"]) is None
    assert ConversationBook(repo.store).reference(MALLORY["aadObjectId"]) is None


async def test_refusals_are_logged_without_the_token(secured: BotClient, identity: FakeIdentity,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    token = identity.mint(secured.connector.url, key=new_key())
    with caplog.at_level("WARNING", logger="bot.auth"):
        assert await _post(secured, secured.activity(MALLORY, text="help"), f"Bearer {token}") == 401
    records = [r for r in caplog.records if r.name == "bot.auth"]
    assert records and "Signature" in str(records[0].events)
    assert all(token not in (r.getMessage() + str(r.__dict__)) for r in caplog.records)


async def test_a_flood_of_forged_tokens_writes_one_line(secured: BotClient, identity: FakeIdentity,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        for _ in range(30):
            token = identity.mint(secured.connector.url, key=new_key())
            assert await _post(secured, secured.activity(MALLORY, text="help"), f"Bearer {token}") == 401
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1


async def test_a_channel_the_key_does_not_endorse_is_401(secured: BotClient, identity: FakeIdentity) -> None:
    token = identity.mint(secured.connector.url)
    activity = secured.activity(MALLORY, text="help", channelId="slack")
    assert await _post(secured, activity, f"Bearer {token}") == 401
    assert secured.connector.sent == []


async def test_invoke_with_a_bad_token_is_401(secured: BotClient, identity: FakeIdentity) -> None:
    activity = secured.activity(MALLORY, type="invoke", name="adaptiveCard/action",
                                value={"action": {"type": "Action.Execute", "verb": "help", "data": {}}})
    assert await _post(secured, activity, "Bearer " + identity.mint(secured.connector.url, aud="x")) == 401


async def test_valid_tokens_pass_and_replies_carry_one_cached_bot_token(secured: BotClient,
                                                                        identity: FakeIdentity) -> None:
    for n in range(3):
        token = identity.mint(secured.connector.url)
        assert await _post(secured, secured.activity(LEE, text="help"), f"Bearer {token}") in (200, 201)
        secured.connector.wait_for(n + 1)
    bot_token_requests = [r for r in identity.token_requests if r.get("grant_type") == "client_credentials"
                          and r.get("scope") == "https://api.botframework.com/.default"]
    assert len(bot_token_requests) == 1
    assert {a["_auth"] for a in secured.connector.sent} == {"Bearer app-token-1"}


async def test_a_valid_token_is_accepted_after_failures(secured: BotClient, identity: FakeIdentity) -> None:
    assert await _post(secured, secured.activity(LEE, text="help"), "Bearer junk") == 401
    token = identity.mint(secured.connector.url)
    assert await _post(secured, secured.activity(LEE, text="language"), f"Bearer {token}") in (200, 201)
    assert secured.connector.wait_for(1)


def test_overrides_fill_in_every_parameterized_setting() -> None:
    settings = Settings.from_mapping({"MicrosoftAppId": APP_ID, "MicrosoftAppTenantId": "t1",
                                      "BOT_TOKEN_ISSUER": "https://issuer.example"})
    config = BotConfiguration(settings)
    assert config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://issuer.example"
    assert config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL.startswith("https://login.botframework.com/")
    assert config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL.startswith("https://login.microsoftonline.com/")
    assert config.TO_CHANNEL_FROM_BOT_LOGIN_URL == "https://login.microsoftonline.com/t1"
    assert config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE == "https://api.botframework.com"
    assert config.OAUTH_URL == "https://api.botframework.com"
    plain = BotConfiguration(Settings.from_mapping({"MicrosoftAppId": APP_ID}))
    assert not hasattr(plain, "OAUTH_URL")  # no override: the SDK's own public-cloud settings


async def test_authentication_off_without_an_app_id(bot: BotClient) -> None:
    assert isinstance(build_authentication(bot_settings("unused")), StrictAuthentication)
    assert texts_in(await bot.say(LEE, "language zh-CN"))


async def test_with_authentication_off_a_stray_token_is_not_checked_anywhere(bot: BotClient, monkeypatch: Any) -> None:
    """No app id: a junk ``Authorization`` header must not send the SDK to the public key endpoints
    (unreachable offline, and unable to vouch for a bot without an id)."""
    from botframework.connector.auth import JwtTokenValidation

    checked: list[str] = []

    async def spy(*args: Any, **kwargs: Any) -> Any:
        checked.append("validated")
        raise AssertionError("the header was validated")

    monkeypatch.setattr(JwtTokenValidation, "validate_auth_header", spy)
    bot.headers = {"Authorization": "Bearer " + ".".join(["eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ", "e30", "x"])}
    await bot.say(LEE, "help")  # answered (200), not refused
    assert checked == []
