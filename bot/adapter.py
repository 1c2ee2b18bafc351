"""The Bot Framework adapter: ``CloudAdapter`` with the 4.17.1 defects worked around in one place.

* Invoke responses: the stock ``process`` re-serializes an invoke body that the SDK already turned
  into a dict and answers 500 (``'dict' object has no attribute 'is_xml_model'``). Here a body is
  serialized only if it is still an msrest model; dicts and lists go out as they are.
* Authentication: any failure to authenticate a request is a 401, never a 500, and no bot code
  runs (the strict authentication object turns every validation error into ``PermissionError``).
* Bad requests: every activity is read and checked once by :mod:`bot.door` (bounded JSON, the SDK's
  schema, the fields a turn needs); a malformed one is a 400 with a short reason, and a service URL
  that neither the token nor ``ALLOWED_SERVICE_URLS`` vouches for a 403.
* Turn speed: the connector client of a turn comes from a :class:`bot.sdk.connector.ConnectorPool` (one
  keep-alive session, clients and credentials cached) instead of a new msrest client per turn, and the
  user-token client is built only if the turn uses it (:mod:`bot.sdk.user_tokens`); a token that passed
  validation is not validated again for a few minutes (:mod:`bot.sdk.auth_cache`, successes only).
* A card answering the turn (the common reply) is posted as its JSON body directly when nothing
  else could see the activity (:func:`send_card`); every other send goes the SDK's way.
* Outgoing activities are copied by :class:`bot.sdk.turn_context.FastCopyTurnContext` (the same copy as the
  SDK's ``deepcopy``, without its generic dispatch over every value of a card).
* Outgoing messages (replies, updates, invoke responses, proactive messages) pass through
  :func:`bot.outgoing.prepare`: text escaped for markdown, nothing over Teams' size limit.
* Turn errors: logged with the activity id (never the text of the message), answered with a
  short localized apology; no stack trace reaches the user.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from copy import Error
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes, ResourceResponse
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult
from msrest.serialization import Model

from bot.door import INVOKES, Refused, ServiceUrls, read_activity
from bot.outgoing import LOCALE_TURN_KEY, fits, prepare
from bot.sdk.auth_cache import ValidatedTokens
from bot.sdk.connector import BotConnectorClient, ConnectorPool, NotLean
from bot.sdk.turn_context import FastCopyTurnContext, card_reply_body, send_fresh
from bot.sdk.user_tokens import LazyUserTokenClient
from services.i18n import Translator, resolve_locale
from services.storage.errors import StoreUnavailableError

log = logging.getLogger(__name__)
__all__ = ["LOCALE_TURN_KEY", "BenefitsAdapter", "send_card", "serialize_invoke_body"]


def serialize_invoke_body(body: Any) -> Any:
    """An invoke body as JSON-ready data, whether the SDK left it a model or already a dict."""
    if body is None or isinstance(body, (dict, list, str, int, float, bool)):
        return body
    if isinstance(body, Model):
        return serializer_helper(body)
    return body


class BenefitsAdapter(CloudAdapter):
    """``CloudAdapter`` answering invokes correctly, 401 on bad credentials, 400 on bad bodies."""

    def __init__(self, auth: BotFrameworkAuthentication, connectors: ConnectorPool | None = None,
                 service_urls: ServiceUrls | None = None, invokes: frozenset[str] = INVOKES) -> None:
        super().__init__(auth)
        self.connectors = connectors or ConnectorPool()
        self.service_urls = service_urls or ServiceUrls()
        self.invokes = invokes
        self.validated_tokens = ValidatedTokens()
        self.on_turn_error = self._on_turn_error

    async def process_activity(self, auth_header_or_authenticate_request_result: str | AuthenticateRequestResult,
                               activity: Activity, logic: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        """``CloudAdapterBase.process_activity`` with pooled connector clients and a lazy user-token client."""
        auth = self.bot_framework_authentication
        if isinstance(auth_header_or_authenticate_request_result, str):
            key = self.validated_tokens.key(auth_header_or_authenticate_request_result, activity)
            result = self.validated_tokens.get(key)
            if result is None:
                result = await auth.authenticate_request(activity, auth_header_or_authenticate_request_result)
                self.validated_tokens.put(key, result)
        else:
            result = auth_header_or_authenticate_request_result
        identity = result.claims_identity
        self.service_urls.check(activity.service_url, identity.claims if identity is not None else None)
        activity.caller_id = result.caller_id
        if not result.connector_factory:
            raise Error("Unable to extract ConnectorClient from turn context.")
        connector_client = await self.connectors.client(result.connector_factory, activity.service_url,
                                                        result.audience)
        context = self._create_turn_context(
            activity, result.claims_identity, result.audience, connector_client,
            self._lazy_user_tokens(result.claims_identity), logic, result.connector_factory,
        )
        await self.run_pipeline(context, logic)
        return self._process_turn_results(context)

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> Any:
        return await super().send_activities(context, [prepare(context, a) for a in activities])

    async def update_activity(self, context: TurnContext, activity: Activity) -> Any:
        return await super().update_activity(context, prepare(context, activity))

    async def process_proactive(self, claims_identity: ClaimsIdentity, continuation_activity: Activity,
                                audience: str, logic: Callable[[TurnContext], Awaitable[Any]]) -> None:
        """Proactive turns (``continue_conversation``) share the pool too."""
        connector_factory = self.bot_framework_authentication.create_connector_factory(claims_identity)
        connector_client = await self.connectors.client(connector_factory, continuation_activity.service_url,
                                                        audience)
        context = self._create_turn_context(
            continuation_activity, claims_identity, audience, connector_client,
            self._lazy_user_tokens(claims_identity), logic, connector_factory,
        )
        await self.run_pipeline(context, logic)

    def _create_turn_context(self, activity: Activity, claims_identity: ClaimsIdentity, oauth_scope: str,
                             connector_client: Any, user_token_client: Any,
                             logic: Callable[[TurnContext], Awaitable[Any]], connector_factory: Any) -> TurnContext:
        """``CloudAdapterBase._create_turn_context`` (4.17.1), building a :class:`FastCopyTurnContext`."""
        context = FastCopyTurnContext(self, activity)
        context.turn_state[self.BOT_IDENTITY_KEY] = claims_identity
        context.turn_state[self.BOT_CONNECTOR_CLIENT_KEY] = connector_client
        context.turn_state[self.USER_TOKEN_CLIENT_KEY] = user_token_client
        context.turn_state[self.BOT_CALLBACK_HANDLER_KEY] = logic
        context.turn_state[self.CONNECTOR_FACTORY_KEY] = connector_factory
        context.turn_state[self.BOT_OAUTH_SCOPE_KEY] = oauth_scope
        return context

    def _lazy_user_tokens(self, claims_identity: ClaimsIdentity) -> LazyUserTokenClient:
        auth = self.bot_framework_authentication
        return LazyUserTokenClient(lambda: auth.create_user_token_client(claims_identity))

    async def process(self, request: web.Request, bot: Bot, ws_response: Any = None) -> web.StreamResponse:
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        try:
            activity = await read_activity(request, self.invokes)
        except Refused as refused:
            return refused.response()
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:  # bot.auth counted why (rate-limited)
            raise web.HTTPUnauthorized() from None
        except Refused as refused:
            log.warning("request refused", extra={"activity_id": activity.id, "reason": refused.reason})
            return refused.response()
        if invoke_response:
            return web.json_response(serialize_invoke_body(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        activity = context.activity
        extra = {"activity_id": activity.id, "activity_type": activity.type,
                 "conversation_id": activity.conversation.id if activity.conversation else None}
        store_away = _store_unavailable(error)
        if store_away is not None:  # the store says why (no secret in it); it comes back by itself
            log.warning("turn refused: the store is unavailable", extra={**extra, "reason": str(store_away)})
        else:
            log.error("turn failed", exc_info=error, extra=extra)
        try:
            locale = context.turn_state.get(LOCALE_TURN_KEY) or resolve_locale(None, activity.locale)
            apology = Translator(locale)("bot.store_unavailable" if store_away is not None else "bot.error_apology")
            if activity.type == ActivityTypes.invoke:
                # Teams shows an invoke's message response in place of the card action's spinner.
                body = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": apology}
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)))
            else:
                await context.send_activity(apology)
        except Exception:  # the connector may be what failed; never raise from the error handler
            log.warning("could not send the apology", extra={"activity_id": activity.id})


async def send_card(context: TurnContext, card: dict[str, Any]) -> ResourceResponse | None:
    """Send ``card`` as a new message answering the turn: what
    ``send_fresh(context, MessageFactory.attachment(CardFactory.adaptive_card(card)))`` sends.

    Why: the SDK's way builds and copies msrest models only to serialize them again (most of a
    reply's cost outside HTTP, on every turn that shows a card). When nothing can see those models
    (our adapter and connector client, no send handlers registered, replies not buffered) and the
    message fits Teams' limit, the body is built directly (:func:`bot.sdk.turn_context.card_reply_body`,
    tests hold it equal to the SDK's) and posted; otherwise, the SDK's way.
    """
    client = context.turn_state.get(CloudAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if (type(context) is FastCopyTurnContext and type(context.adapter) is BenefitsAdapter
            and type(client) is BotConnectorClient and not context._on_send_activities
            and context.activity.delivery_mode != DeliveryModes.expect_replies
            and isinstance(card, dict) and fits(card)):
        incoming = context.activity
        try:
            body = card_reply_body(incoming, card)
        except NotLean:
            body = None
        conversation = incoming.conversation
        if body is not None and conversation is not None and isinstance(conversation.id, str):
            response = await client.conversations.post_body(conversation.id, body.get("replyToId"), body)
            context.responded = True
            return response or ResourceResponse(id="")
    return await send_fresh(context, MessageFactory.attachment(CardFactory.adaptive_card(card)))


def _store_unavailable(error: BaseException) -> StoreUnavailableError | None:
    """The store's refusal behind a failed turn (the database is away, a disk error), if that is what
    failed: then nothing was written, and the person is told to try again in a moment."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StoreUnavailableError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
