"""The validated-token cache: successes are reused until expiry, failures are never remembered."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.auth import ClaimsIdentity
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult

from bot.adapter import BenefitsAdapter
from bot.sdk.auth_cache import ValidatedTokens
from tests.bot.sdk.test_connector import CountingFactory


class StubAuthentication:
    """Accepts ``Bearer good*`` headers (claims expire at ``exp``), refuses everything else."""

    def __init__(self, exp: float | None = None) -> None:
        self.calls = 0
        self.exp = exp if exp is not None else time.time() + 3600

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        self.calls += 1
        if not auth_header.startswith("Bearer good"):
            raise PermissionError("bad token")
        result = AuthenticateRequestResult()
        result.claims_identity = ClaimsIdentity({"aud": "app-1", "exp": self.exp}, True)
        result.connector_factory = _ConnectorFactoryImpl("app-1", "https://api.botframework.com", "https://l/x",
                                                         True, CountingFactory())
        return result

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        raise AssertionError("a plain turn must not build a user-token client")


def activity(service_url: str = "http://127.0.0.1:9/", tenant: str = "t1") -> Activity:
    return Activity(type="message", id="1", channel_id="msteams", service_url=service_url, text="hi",
                    from_property=ChannelAccount(id="u"), recipient=ChannelAccount(id="b"),
                    conversation=ConversationAccount(id="c", tenant_id=tenant))


async def turns(adapter: BenefitsAdapter, header: str, *activities: Activity) -> list[ClaimsIdentity]:
    seen: list[ClaimsIdentity] = []

    async def logic(context: TurnContext) -> None:
        seen.append(context.turn_state[adapter.BOT_IDENTITY_KEY])

    for act in activities:
        await adapter.process_activity(header, act, logic)
    return seen


async def test_a_valid_token_is_validated_once() -> None:
    auth = StubAuthentication()
    adapter = BenefitsAdapter(auth)
    seen = await turns(adapter, "Bearer good-1", activity(), activity(), activity())
    assert auth.calls == 1 and len(seen) == 3
    seen[0].claims["mutated"] = True  # one turn's claims never leak into another's
    assert "mutated" not in (await turns(adapter, "Bearer good-1", activity()))[0].claims
    await adapter.connectors.close()


async def test_failures_are_never_cached() -> None:
    auth = StubAuthentication()
    adapter = BenefitsAdapter(auth)
    for _ in range(3):
        with pytest.raises(PermissionError):
            await turns(adapter, "Bearer forged", activity())
    assert auth.calls == 3


async def test_another_endpoint_or_tenant_validates_again() -> None:
    auth = StubAuthentication()
    adapter = BenefitsAdapter(auth)
    await turns(adapter, "Bearer good-1", activity(), activity(service_url="http://127.0.0.1:10/"),
                activity(tenant="t2"))
    assert auth.calls == 3
    await adapter.connectors.close()


async def test_expired_tokens_are_validated_again() -> None:
    auth = StubAuthentication(exp=time.time() - 1)  # accepted by the (stub) validator, e.g. within clock skew
    adapter = BenefitsAdapter(auth)
    await turns(adapter, "Bearer good-1", activity(), activity())
    assert auth.calls == 2
    await adapter.connectors.close()


def test_anonymous_requests_are_not_cached() -> None:
    assert ValidatedTokens.key("", activity()) is None
