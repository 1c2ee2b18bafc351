"""What each botbuilder 4.17.1 workaround of ``bot/sdk/`` saves, one at a time, in this process.

Each figure is the stock SDK's way of doing one step of a turn against ours, on the overview card of the
demo data (the card ``turns_bench`` sends): microseconds per call, best of five runs, so a reader sees
which workaround pays for itself. ``turns_bench`` measures them together on real turns; these figures
are for ``bot/sdk/README.md``.

``python -m bench sdk_bench`` (``make bench`` runs it with the others).
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNS = 5


def per_call_us(fn: Callable[[], Any], seconds: float = 0.2) -> float:
    """Best of :data:`RUNS` of the mean time of one call of ``fn``, in microseconds."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * seconds / 0.2))
    return min(timer.repeat(RUNS, number)) / number * 1e6


def row(what: str, stock_us: float, ours_us: float) -> None:
    print(f"{what:<68} stock {stock_us:9.1f} us   ours {ours_us:8.1f} us   saves {stock_us - ours_us:9.1f} us "
          f"({stock_us / ours_us:5.1f}x)", flush=True)


async def overview_card() -> dict[str, Any]:
    """The overview card of the demo organization, as the bot renders it for a Global admin."""
    from cards.overview import overview_card as render
    from dialogs.registry import Workflows
    from services.benefits import BenefitsService
    from services.i18n import Translator
    from services.inventory import demo_inventory, import_inventory, parse_inventory
    from services.repository import INDEXES
    from services.storage import open_store

    with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
        store = open_store(Path(tmp) / "benefits.json", INDEXES)
        try:
            await import_inventory(store, parse_inventory(demo_inventory(datetime.now(UTC).date())))
            service = BenefitsService(store)
            admin = next(p for p in service.repo.people() if p.roles)
            t = Translator("en-US")
            verbs = Workflows.load().allowed_verbs(admin)
            summaries, packages = service.overview(admin), service.repo.packages()
            key = (tuple(summaries), tuple(packages), verbs)
            build = lambda: render(summaries, packages, t, set(verbs))  # noqa: E731
            from bot.sdk.card_memo import CardMemo

            memo = CardMemo()
            memo.get(t, key, build)
            row("overview card: built / memo hit (card_memo)", per_call_us(build),
                per_call_us(lambda: memo.get(t, key, build)))
            return build()
        finally:
            await store.close()


def activity_of(card: dict[str, Any]) -> Any:
    from botbuilder.core import CardFactory, MessageFactory
    from botbuilder.schema import ChannelAccount, ConversationAccount

    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.conversation = ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t")
    activity.from_property = ChannelAccount(id="28:bot", name="Partner Benefits")
    activity.recipient = ChannelAccount(id="29:alex", name="Alex Wilber", aad_object_id="a1")
    activity.service_url = "https://smba.trafficmanager.net/amer/"
    activity.channel_id = "msteams"
    activity.locale = "en-US"
    return activity


def copies(activity: Any) -> None:
    from bot.sdk.turn_context import copy_activity

    row("outgoing activity copy: deepcopy / copy_activity (turn_context)",
        per_call_us(lambda: copy.deepcopy(activity)), per_call_us(lambda: copy_activity(activity)))


def bodies(card: dict[str, Any]) -> None:
    from msrest.serialization import Serializer

    from bot.sdk.connector import _CLIENT_MODELS, encode_json, serialize_model
    from bot.sdk.frozen import freeze_json

    activity = activity_of(card)
    stock = Serializer(_CLIENT_MODELS)
    row("request body: msrest + json.dumps / fast walk (connector)",
        per_call_us(lambda: json.dumps(stock.body(activity, "Activity")).encode()),
        per_call_us(lambda: encode_json(serialize_model(activity, "Activity", share=True))))
    frozen = activity_of(freeze_json(json.dumps(card, ensure_ascii=False)))
    row("request body of a memoized card: fast walk / spliced text (frozen)",
        per_call_us(lambda: encode_json(serialize_model(activity, "Activity", share=True))),
        per_call_us(lambda: encode_json(serialize_model(frozen, "Activity", share=True))))


def clients() -> None:
    from botframework.connector.aio import ConnectorClient
    from botframework.connector.auth import MicrosoftAppCredentials
    from botframework.connector.auth._user_token_client_impl import _UserTokenClientImpl

    credentials = MicrosoftAppCredentials("00000000-0000-0000-0000-00000000b07a", "bench-only-not-a-secret")
    url = "https://smba.trafficmanager.net/amer/"
    pool: dict[tuple[str, str], Any] = {(url, "app"): ConnectorClient(credentials, base_url=url)}
    row("connector client per turn: new msrest client / pooled (connector)",
        per_call_us(lambda: ConnectorClient(credentials, base_url=url)), per_call_us(lambda: pool[(url, "app")]))
    from bot.sdk.user_tokens import LazyUserTokenClient

    async def never() -> Any:
        raise AssertionError("a turn that does not sign in never builds the client")

    row("user-token client per turn: built / lazy (user_tokens)",
        per_call_us(lambda: _UserTokenClientImpl("app", credentials, "https://token.botframework.com")),
        per_call_us(lambda: LazyUserTokenClient(never)))


def tokens() -> None:
    """What validating a Bot Connector token costs (one RS256 check and the decodes around it) against
    the cache's lookup; the SDK's own validation adds its issuer, audience and endorsement checks."""
    import jwt
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
    from botframework.connector.auth import ClaimsIdentity
    from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bot.sdk.auth_cache import ValidatedTokens

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": "app", "iat": now, "nbf": now, "exp": now + 3600,
              "serviceurl": "https://smba.trafficmanager.net/amer/"}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k"})
    public = key.public_key()

    def validate() -> Any:
        jwt.get_unverified_header(token)
        jwt.decode(token, options={"verify_signature": False})
        return jwt.decode(token, public, algorithms=["RS256"], audience="app", issuer=claims["iss"])

    activity = Activity(channel_id="msteams", service_url=claims["serviceurl"],
                        conversation=ConversationAccount(id="a:1", tenant_id="t"), from_property=ChannelAccount(id="u"))
    cache = ValidatedTokens()
    header = f"Bearer {token}"
    result = AuthenticateRequestResult()
    result.claims_identity = ClaimsIdentity(claims, True)
    cache.put(cache.key(header, activity), result)
    row("token of a request: RS256 validation / cache hit (auth_cache)", per_call_us(validate),
        per_call_us(lambda: cache.get(cache.key(header, activity))))


def collector() -> None:
    """A full collection over what the started bot holds, before and after ``gc.freeze``."""
    import bot.app  # noqa: F401  (everything a started bot has imported)
    from bot.sdk.gc_tuning import tune_gc

    gc.collect()
    started = time.perf_counter()
    gc.collect()
    before = (time.perf_counter() - started) * 1e6
    tune_gc()
    started = time.perf_counter()
    gc.collect()
    after = (time.perf_counter() - started) * 1e6
    gc.unfreeze()
    row("full GC pass over the started bot's objects (gc_tuning)", before, after)


def main(argv: list[str]) -> int:
    card = asyncio.run(overview_card())
    copies(activity_of(card))
    bodies(card)
    clients()
    tokens()
    collector()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
