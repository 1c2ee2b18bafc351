"""Remember, for a few minutes, which ``Authorization`` headers already passed validation.

The Bot Connector signs one token and sends it with every activity for about an hour; validating it
costs four JWT decodes and an RSA signature check, for a token the bot has already checked. The
cache sits in front of whatever authentication object the app was
built with (the strict wrapper of ``bot/auth.py``) and changes nothing about what is accepted:

* only successes are remembered; every failure goes through full validation every time;
* the key is the exact header plus every activity field the SDK's validation reads (channel id,
  service URL) and the tenant, so a token is never reused for another channel, endpoint or tenant;
* an entry lives until the token's own ``exp`` (no clock-skew grace) and at most ``MAX_AGE_S``;
* each turn gets its own copy of the result (claims are not shared between turns).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import ClaimsIdentity
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult

from bot.sdk.turn_context import same_attributes

MAX_AGE_S = 300.0
MAX_ENTRIES = 2048


class ValidatedTokens:
    def __init__(self, max_age_s: float = MAX_AGE_S, max_entries: int = MAX_ENTRIES) -> None:
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, AuthenticateRequestResult]] = OrderedDict()

    @staticmethod
    def key(auth_header: str, activity: Activity) -> tuple[Any, ...] | None:
        if not auth_header:
            return None  # anonymous requests (auth off) are cheap and never cached
        conversation = activity.conversation
        tenant = conversation.tenant_id if conversation is not None else None
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        channel_tenant = data.get("tenant")
        return (auth_header, activity.channel_id, activity.service_url, tenant,
                channel_tenant.get("id") if isinstance(channel_tenant, dict) else None)

    def get(self, key: tuple[Any, ...] | None) -> AuthenticateRequestResult | None:
        if key is None:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        valid_until, result = entry
        if time.time() >= valid_until:
            del self._entries[key]
            return None
        return _copy(result)

    def put(self, key: tuple[Any, ...] | None, result: AuthenticateRequestResult) -> None:
        identity = result.claims_identity
        if key is None or identity is None or not identity.is_authenticated:
            return
        try:
            expires = float(identity.claims["exp"])
        except (KeyError, TypeError, ValueError):
            return  # no expiry we can trust: validate every time
        valid_until = min(expires, time.time() + self.max_age_s)
        self._entries[key] = (valid_until, _copy(result))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def _copy(result: AuthenticateRequestResult) -> AuthenticateRequestResult:
    fresh = same_attributes(result)  # copy.copy's result without copyreg: this runs on every turn
    identity = result.claims_identity
    fresh.claims_identity = ClaimsIdentity(dict(identity.claims), identity.is_authenticated,
                                           identity.authentication_type)
    return fresh
