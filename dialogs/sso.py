"""Teams SSO before secrets: revealing product keys and changing roles need a fresh sign-in.

When ``SSO_CONNECTION_NAME`` is configured, a verb declared with ``fresh_sign_in=True`` runs only if the person
confirmed who they are within the last ``SSO_FRESH_MINUTES`` (default 10). Confirming means: the Bot
Framework token service holds (or, via Teams' silent token exchange, obtains) a user token for the
connection; the bot exchanges it on behalf of the user for a Graph token (msal) and Graph ``/me``
must name the same Entra object id as the activity. Otherwise the bot sends an OAuth card (with the
token exchange resource, so Teams signs in silently), remembers the action and runs it once the
``signin/tokenExchange`` (or ``signin/verifyState``) invoke confirms the person.

Written against the user-token client directly rather than the stock SSO middleware because, in
4.17.1, a failed exchange crashes it (500 instead of 412) and it lets a repeated identical exchange
invoke through. Here a failed exchange answers 412 with ``failureDetail`` (Teams then shows the
sign-in button) and repeated invokes with the same exchange id are handled once.

Without SSO configured (local, demo) there is no gate: the Teams identity of the activity is used
and the welcome card says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, UserState
from botbuilder.schema import ActionTypes, CardAction, OAuthCard
from botframework.connector.auth import UserTokenClient
from botframework.connector.token_api.models import TokenExchangeRequest

from dialogs.actions import ActionResult
from dialogs.turn import Turn
from services.identity import SsoError, SsoVerifier

log = logging.getLogger(__name__)

SIGNIN_INVOKES = frozenset({"signin/tokenExchange", "signin/verifyState"})
FAILURE_DETAIL = "The bot could not exchange the token or confirm who signed in. Proceed with regular sign-in."
STATE_PROPERTY = "pbb.sso"
_REMEMBERED_EXCHANGES = 1000

Resume = Callable[[Turn, str, dict[str, Any]], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SsoGate:
    """Decides whether a secret-revealing verb may run now, and completes sign-ins."""

    def __init__(self, connection_name: str, verifier: SsoVerifier | None, user_state: UserState,
                 fresh_for: timedelta = timedelta(minutes=10), clock: Callable[[], datetime] = utc_now) -> None:
        self.connection_name = connection_name
        self.verifier = verifier
        self.fresh_for = fresh_for
        self.clock = clock
        self._property = user_state.create_property(STATE_PROPERTY)
        self._exchanges: OrderedDict[str, asyncio.Future[InvokeResponse]] = OrderedDict()

    # --- the gate -------------------------------------------------------------------------------
    async def check(self, turn: Turn, verb: str, data: dict[str, Any]) -> ActionResult | None:
        """``None`` when ``verb`` may run; otherwise what to answer (a sign-in was asked for)."""
        if verb not in turn.workflows.fresh_sign_in:
            return None
        turn.workflows.require(turn.person, verb)  # raises RuleViolation: refused before any sign-in
        state = await self._state(turn)
        if self._is_fresh(state, turn):
            return None
        client = _token_client(turn)
        if client is None or self.verifier is None:
            log.error("SSO is configured but the token service or the app credentials are missing")
            return ActionResult(None, (turn.t("sso.unavailable"),))
        activity = turn.context.activity
        try:
            held = await client.get_user_token(activity.from_property.id, self.connection_name,
                                               activity.channel_id, None)
        except Exception as error:
            log.warning("token service lookup failed", extra={"reason": type(error).__name__})
            held = None
        if held is not None and held.token:
            if await self._confirm(turn, held.token, state):
                return None
            return ActionResult(None, (turn.t("sso.not_you"),))
        state["pending"] = {"verb": verb, "data": {k: v for k, v in data.items() if k != "action"}}
        await self._send_sign_in(turn, client)
        return ActionResult()

    def _is_fresh(self, state: dict[str, Any], turn: Turn) -> bool:
        at, who = state.get("at"), state.get("aad")
        if not at or not who or not turn.person.aad_object_id or who.lower() != turn.person.aad_object_id.lower():
            return False
        signed_in = datetime.fromisoformat(at)
        return signed_in <= self.clock() < signed_in + self.fresh_for

    async def _send_sign_in(self, turn: Turn, client: UserTokenClient) -> None:
        resource = await client.get_sign_in_resource(self.connection_name, turn.context.activity, None)
        card = OAuthCard(
            text=turn.t("sso.sign_in_first"), connection_name=self.connection_name,
            buttons=[CardAction(type=ActionTypes.signin, title=turn.t("sso.sign_in"),
                                value=resource.sign_in_link)],
            token_exchange_resource=resource.token_exchange_resource,
        )
        await turn.context.send_activity(MessageFactory.attachment(CardFactory.oauth_card(card)))

    async def _confirm(self, turn: Turn, token: str, state: dict[str, Any]) -> bool:
        """On-behalf-of + Graph ``/me``: the token must belong to the person of the activity."""
        assert self.verifier is not None
        try:
            who = await self.verifier.who(token)
        except SsoError as error:
            log.warning("SSO confirmation failed", extra={"reason": str(error)[:300]})
            return False
        if not turn.person.aad_object_id or who.lower() != turn.person.aad_object_id.lower():
            log.warning("SSO token belongs to someone else", extra={"person_id": turn.person.id})
            return False
        state.update(aad=who, at=self.clock().isoformat())
        return True

    # --- sign-in invokes --------------------------------------------------------------------------
    async def on_signin_invoke(self, turn: Turn, resume: Resume) -> InvokeResponse:
        """``signin/tokenExchange`` and ``signin/verifyState``; identical repeats are handled once."""
        activity = turn.context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        ident = value.get("id") or value.get("state") or activity.id or ""
        key = f"{activity.name}:{activity.from_property.id}:{ident}"
        running = self._exchanges.get(key)
        if running is not None:
            log.info("repeated sign-in invoke ignored", extra={"activity_id": activity.id})
            return await asyncio.shield(running)
        future: asyncio.Future[InvokeResponse] = asyncio.get_running_loop().create_future()
        self._exchanges[key] = future
        while len(self._exchanges) > _REMEMBERED_EXCHANGES:
            self._exchanges.popitem(last=False)
        try:
            response = await self._sign_in(turn, value, resume)
        except BaseException as error:
            self._exchanges.pop(key, None)
            future.set_exception(error)
            future.exception()  # retrieved: duplicates waiting on it re-raise it themselves
            raise
        future.set_result(response)
        return response

    async def _sign_in(self, turn: Turn, value: dict[str, Any], resume: Resume) -> InvokeResponse:
        activity = turn.context.activity
        client = _token_client(turn)
        if client is None or self.verifier is None:
            return self._failed(value)
        token = None
        try:
            if activity.name == "signin/tokenExchange":
                request = TokenExchangeRequest(token=value.get("token"))
                result = await client.exchange_token(activity.from_property.id, self.connection_name,
                                                     activity.channel_id, request)
            else:  # signin/verifyState: the magic code of the sign-in page
                result = await client.get_user_token(activity.from_property.id, self.connection_name,
                                                     activity.channel_id, str(value.get("state") or ""))
            token = getattr(result, "token", None)
        except Exception as error:
            log.warning("token exchange failed", extra={"reason": type(error).__name__})
        state = await self._state(turn)
        if not token or not await self._confirm(turn, token, state):
            return self._failed(value)
        pending = state.pop("pending", None)
        if isinstance(pending, dict) and pending.get("verb") in turn.workflows.fresh_sign_in:
            await resume(turn, str(pending["verb"]), dict(pending.get("data") or {}))
        return InvokeResponse(status=HTTPStatus.OK,
                              body={"id": value.get("id"), "connectionName": self.connection_name})

    def _failed(self, value: dict[str, Any]) -> InvokeResponse:
        return InvokeResponse(status=HTTPStatus.PRECONDITION_FAILED, body={
            "id": value.get("id"), "connectionName": self.connection_name, "failureDetail": FAILURE_DETAIL})

    async def _state(self, turn: Turn) -> dict[str, Any]:
        return await self._property.get(turn.context, dict)


def _token_client(turn: Turn) -> UserTokenClient | None:
    adapter = turn.context.adapter
    key = getattr(adapter, "USER_TOKEN_CLIENT_KEY", "UserTokenClient")
    return turn.context.turn_state.get(key)
