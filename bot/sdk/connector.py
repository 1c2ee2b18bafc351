"""A small async Bot Connector client on one shared pool of keep-alive connections.

Why: the stock ``CloudAdapter`` builds a new msrest ``ConnectorClient`` (and a user-token client) for
every turn, and msrest sends each reply through ``requests`` in a worker thread on a new TCP
connection. Building that client (its retry policies and session) costs more than the rest of a
simple turn, and a new connection for every reply makes the reply wait for TCP and TLS set-up. Here:

* :class:`ConnectorPool` owns ONE pool of keep-alive connections (:class:`bot.sdk.http1.Http1Pool`,
  closed by the app's ``cleanup_ctx``) and caches one :class:`BotConnectorClient` per (service URL,
  credentials).
* Credentials come from the SDK's ``ServiceClientCredentialsFactory`` (whatever the authentication
  object was built with), created once per (app id, OAuth scope, login endpoint) instead of per turn.
  Tokens come from ``AppCredentials.get_access_token()`` in a worker thread (msal may block on the
  network), and the token string is kept until shortly before its ``exp``, so a turn normally costs
  no thread hop and no msal lookup.
* :class:`BotConnectorClient` implements the ``ConnectorClient`` operations a turn uses
  (``send_to_conversation``, ``reply_to_activity``, ``update_activity``, ``delete_activity``,
  ``get_conversation_member(s)``) with the SDK's own msrest models and serializer, so requests and
  results are the same as the stock client's and failures raise the same ``ErrorResponseException``.
  Every other operation (``teams``, ``attachments``, ``create_conversation``...) falls through to a
  stock ``ConnectorClient`` built once per service URL, so nothing of the SDK's surface is lost.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from copy import deepcopy
from enum import Enum
from typing import Any
from urllib.parse import quote, urljoin

import aiohttp
from botframework.connector import models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials, AuthenticationConstants
from botframework.connector.auth.connector_factory import ConnectorFactory
from botframework.connector.auth.service_client_credentials_factory import ServiceClientCredentialsFactory
from msrest.serialization import Deserializer, Model, Serializer
from msrest.universal_http import HTTPClientResponse

from bot.sdk.frozen import FrozenCard, FrozenDict, FrozenList
from bot.sdk.http1 import Disconnected, Http1Pool

log = logging.getLogger(__name__)

_CLIENT_MODELS: dict[str, Any] = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
_SERIALIZE = Serializer(_CLIENT_MODELS)
_DESERIALIZE = Deserializer(_CLIENT_MODELS)
_JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json; charset=utf-8"}
_ACCEPT = {"Accept": "application/json"}
USER_AGENT = "Microsoft-BotFramework/3.1 (BotBuilder Python; PartnerBenefitsBot fast connector)"
#: a token is reused until this many seconds before it expires (msal refreshes its own cache earlier)
TOKEN_MARGIN_S = 300.0
#: conversations whose activities URL a client remembers (all are forgotten when it is full)
MAX_REMEMBERED_CHATS = 4096
#: reuse of a token whose expiry cannot be read (not a JWT)
OPAQUE_TOKEN_TTL_S = 300.0


_PLAIN = (str, int, float, bool)


class _Fallback(Exception):
    """The fast serializer met something only msrest knows how to handle."""


class NotLean(Exception):
    """An activity holds something the lean reply does not build: it is sent the SDK's way."""


def serialize_model(model: Any, type_name: str, *, share: bool = False) -> Any:
    """``Serializer.body(model, type_name)`` for the plain models a bot sends, without msrest's walk.

    msrest walks every value of a card through its generic type machinery (and first round-trips the
    model through its deserializer). For models holding plain JSON values the result is the same
    dict; anything else (values of unexpected types, dicts where models are expected, flattened keys,
    validation rules) goes through msrest itself, so the output never differs.

    ``share=True``: values of type ``object`` (a card's JSON) are checked, not copied, so the result
    holds the model's own dicts and lists: for a body encoded at once and dropped (the send paths).
    """
    try:
        return _fast(type_name, model, _checked if share else _plain)
    except _Fallback:
        # msrest writes any dict or list that is not exactly one as its str(): frozen cards are thawed
        # (deepcopy gives plain copies) before it sees them.
        return _SERIALIZE.body(deepcopy(model), type_name)


def serialize_shared(value: Any, type_name: str) -> Any:
    """``serialize_model(value, type_name, share=True)`` for the lean reply of
    :func:`bot.sdk.turn_context.card_reply_body`; raises :class:`NotLean` where msrest would decide."""
    try:
        return _fast(type_name, value, _checked)
    except _Fallback:
        raise NotLean from None


#: what :func:`_json_value` answers for a type it leaves to its caller (models, msrest's own types)
_OTHER = object()


def _json_value(type_name: str, value: Any, convert: Callable[[str, Any, Callable[[Any], Any]], Any],
                plain: Callable[[Any], Any]) -> Any:
    """What serializing and deserializing do alike for msrest type ``type_name``: a string (an enum
    stands for its string value), free JSON (``object``, through ``plain``), a bool, int or float, or
    a list whose items go through ``convert``; ``_OTHER`` for any other type."""
    kind = type(value)
    if type_name == "str":
        if kind is str:
            return value
        if isinstance(value, Enum) and type(value.value) is str:  # msrest sends an enum's value
            return value.value
        raise _Fallback
    if type_name == "object":
        return plain(value)
    if type_name in ("bool", "int", "float"):
        if kind.__name__ == type_name:
            return value
        raise _Fallback
    if type_name[0] == "[" and type_name[-1] == "]":
        if kind is not list:
            raise _Fallback
        inner = type_name[1:-1]
        return [convert(inner, v, plain) if v is not None else _fallback() for v in value]
    return _OTHER


def _fast(type_name: str, value: Any, plain: Callable[[Any], Any]) -> Any:
    done = _json_value(type_name, value, _fast, plain)
    if done is not _OTHER:
        return done
    kind = type(value)
    if type_name in _SERIALIZE.serialize_type:  # dates, durations, decimals...: msrest's own converter
        return _SERIALIZE.serialize_data(value, type_name)
    if type_name not in _CLIENT_MODELS or not isinstance(value, Model):
        raise _Fallback  # e.g. a dict where msrest would build the model first
    out: dict[str, Any] = {}
    for attr, key, item_type in _PLANS.get(kind) or _plan(kind):
        item = getattr(value, attr, None)
        if item is None:
            continue
        if not key:
            raise _Fallback  # a flattened or unnamed key holds a value: msrest's own job
        # plain strings (most of an activity) inline, without a call
        out[key] = item if item_type == "str" and type(item) is str else _fast(item_type, item, plain)
    return out


#: per model class: (attribute, JSON key or "" if flattened/unnamed, msrest type) for ``_fast``
_PLANS: dict[type, tuple[tuple[str, str, str], ...]] = {}


def _plan(kind: Any) -> tuple[tuple[str, str, str], ...]:
    """What ``_fast`` walks for ``kind``; models with validation rules go to msrest."""
    if kind._validation:
        raise _Fallback
    plan = []
    for attr, desc in kind._attribute_map.items():
        key = desc["key"]
        plan.append((attr, "" if "." in key else key, desc["type"]))
    _PLANS[kind] = found = tuple(plan)
    return found


_SCALARS = frozenset({*_PLAIN, type(None)})
_DICTS = frozenset[type]((dict, FrozenDict, FrozenCard))
_LISTS = frozenset({list, FrozenList})


def _plain(value: Any) -> Any:
    kind = type(value)
    scalars = _SCALARS
    if kind in scalars:
        return value
    if kind in _DICTS:  # scalars inline (no call per string): a card is mostly strings
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _Fallback
            out[k] = v if type(v) in scalars else _plain(v)
        return out
    if kind in _LISTS:
        return [v if type(v) in scalars else _plain(v) for v in value]
    raise _Fallback


def _checked(value: Any) -> Any:
    """``value`` itself if :func:`_plain` would accept it (the same checks, no copy).

    A :class:`FrozenCard` is plain JSON by construction (parsed from its text) and cannot change:
    it is taken as it is, and :func:`encode_json` sends its text.
    """
    kind = type(value)
    scalars = _SCALARS
    if kind in scalars or kind is FrozenCard:
        return value
    if kind is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise _Fallback
            if type(v) not in scalars:
                _checked(v)
        return value
    if kind is list:
        for v in value:
            if type(v) not in scalars:
                _checked(v)
        return value
    raise _Fallback


def _fallback() -> Any:
    raise _Fallback


#: stands for a frozen card's text while the rest of a body is encoded (random: no sender can forge it)
_CARD_TOKEN = "\ue000pbb-card-" + secrets.token_hex(8) + "-{}"


def encode_json(body: Any) -> bytes:
    """``json.dumps(body).encode()``, with each :class:`FrozenCard` attachment's own bytes spliced in.

    Why: a memoized card (the overview) is several kilobytes of JSON; encoding it again on every turn
    was the largest single cost of a turn. The card's text is the JSON of the card itself, so the
    bytes decode to exactly what ``json.dumps`` would have produced.
    """
    attachments = body.get("attachments") if type(body) is dict else None
    if type(attachments) is not list:
        return json.dumps(body).encode()
    cards: list[FrozenCard] = []
    swapped: list[Any] = []
    for attachment in attachments:
        content = attachment.get("content") if type(attachment) is dict else None
        if type(content) is FrozenCard:
            swapped.append({**attachment, "content": _CARD_TOKEN.format(len(cards))})
            cards.append(content)
        else:
            swapped.append(attachment)
    if not cards:
        return json.dumps(body).encode()
    rest = json.dumps({**body, "attachments": swapped})
    parts: list[bytes] = []
    for i, card in enumerate(cards):
        before, token, rest = rest.partition(json.dumps(_CARD_TOKEN.format(i)))
        if not token:  # cannot happen (the token is random and placed above); never send a broken body
            return json.dumps(body).encode()
        parts += (before.encode(), card.utf8)
    parts.append(rest.encode())
    return b"".join(parts)


def deserialize_model(type_name: str, data: Any) -> Any:
    """``Deserializer(type_name, data)`` for JSON the channel sends, without msrest's generic machinery.

    Keys are matched exactly, as ``Model.deserialize`` does; values of unexpected types, polymorphic or
    validated models and flattened keys go through msrest itself.
    Unknown keys land in ``additional_properties`` as msrest puts them.
    """
    try:
        return _fast_model(type_name, data)
    except _Fallback:
        return _DESERIALIZE(type_name, data)


_KEYS: dict[type, tuple[dict[str, tuple[str, str]], tuple[str, ...]]] = {}


def _model_keys(cls: Any) -> tuple[dict[str, tuple[str, str]], tuple[str, ...]]:
    found = _KEYS.get(cls)
    if found is None:
        attrs = {a: d for a, d in cls._attribute_map.items()
                 if not (a == "additional_properties" and d["key"] == "")}
        if any("." in d["key"] or "\\" in d["key"] or not d["key"] for d in attrs.values()):
            raise _Fallback
        by_key = {d["key"]: (a, d["type"]) for a, d in attrs.items()}
        found = _KEYS[cls] = (by_key, tuple(attrs))
    return found


def _fast_model(type_name: str, data: Any) -> Any:
    cls = _CLIENT_MODELS.get(type_name)
    if cls is None or type(data) is not dict or getattr(cls, "_subtype_map", None) or cls._validation:
        raise _Fallback
    by_key, names = _model_keys(cls)
    blank = _BLANKS[cls] if cls in _BLANKS else _blank(cls, names)
    state: dict[str, Any] = dict(blank) if blank else dict.fromkeys(names)
    extra: dict[str, Any] = {}
    for key, value in data.items():
        entry = by_key.get(key)
        if entry is None:
            extra[key] = value  # msrest's model deserializer matches keys exactly too
        elif value is not None:  # plain strings (most of an activity) inline, without a call
            state[entry[0]] = value if entry[1] == "str" and type(value) is str else _fast_value(entry[1], value)
    if blank:  # what cls(**state) makes, without the call (see _blank)
        model = cls.__new__(cls)
        state["additional_properties"] = extra
        model.__dict__ = state
        return model
    model = cls(**state)
    if extra:
        model.additional_properties = extra
    return model


#: per model class: the ``__dict__`` of a model made with every attribute None, or ``{}`` if its
#: constructor does anything but store each argument under its own name (then it is called)
_BLANKS: dict[type, dict[str, Any]] = {}


def _blank(cls: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Whether ``cls(**values)`` only stores each value as the attribute of its name, next to an empty
    ``additional_properties``: checked once per class with a distinct marker per argument. Then a
    model is made by filling its ``__dict__`` (an incoming activity makes five, on every turn)."""
    markers = {name: object() for name in names}
    try:
        made = cls(**markers).__dict__
    except Exception:  # a constructor that reads its arguments does more than store them
        made = {}
    plain = made == {"additional_properties": {}, **markers} and list(made) == ["additional_properties", *names]
    _BLANKS[cls] = found = {"additional_properties": None, **dict.fromkeys(names)} if plain else {}
    return found


def _fast_value(type_name: str, value: Any, plain: Callable[[Any], Any] = _plain) -> Any:
    done = _json_value(type_name, value, _fast_value, plain)
    if done is not _OTHER:
        return done
    if type_name in _CLIENT_MODELS:
        return _fast_model(type_name, value)
    if type_name in _DESERIALIZE.deserialize_type:  # dates, durations...: msrest's own converter
        return _DESERIALIZE.deserialize_data(value, type_name)
    raise _Fallback


_JOIN_PREFIX: dict[str, str] = {}


def join_url(base_url: str, path: str) -> str:
    """``urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))``, without re-parsing the base every call.

    A path of plain segments (what quoted parameters make: no empty, ``.`` or ``..`` segment, no
    ``?``, ``#`` or ``;``) is appended to what the base resolves to; anything else goes to urljoin.
    """
    base = base_url.rstrip("/") + "/"
    relative = path.lstrip("/")
    segments = relative.split("/")
    if not relative or any(c in relative for c in "?#;") or any(s in ("", ".", "..") for s in segments):
        return urljoin(base, relative)
    prefix = _JOIN_PREFIX.get(base)
    if prefix is None:
        probe = urljoin(base, "x")
        if not probe.endswith("/x") or len(_JOIN_PREFIX) > 256:
            return urljoin(base, relative)
        prefix = _JOIN_PREFIX[base] = probe[:-1]
    return prefix + relative


#: what ``quote(value, safe="")`` leaves as it is (activity ids are hex; a conversation id has a colon)
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quoted(value: str) -> str:
    """``quote(value, safe="")``: a value of unreserved characters as it is, others remembered (a bot
    answers in the same conversations again and again)."""
    return value if _UNRESERVED.fullmatch(value) else _quoted_text(value)


@functools.lru_cache(maxsize=1024)
def _quoted_text(value: str) -> str:
    return quote(value, safe="")


class BufferedResponse(HTTPClientResponse):
    """An HTTP response already read, in the shape msrest's deserializer and exceptions expect."""

    def __init__(self, status: int, reason: str | None, headers: dict[str, str], body: bytes) -> None:
        super().__init__(None, None)  # type: ignore[arg-type]  # read already: no request, no aiohttp response
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self._body = body

    @property
    def internal_response(self) -> BufferedResponse:
        """Itself: what ``HttpOperationError`` exposes as ``.response`` (a property, not an attribute
        holding ``self``, so that a response is freed when dropped instead of by the cycle collector)."""
        return self

    @internal_response.setter
    def internal_response(self, _value: Any) -> None:
        """msrest's ``__init__`` assigns it; the response is always its own."""

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        if (self.status_code or 0) >= 400:
            raise aiohttp.ClientResponseError(
                request_info=None, history=(), status=self.status_code, message=self.reason or ""  # type: ignore[arg-type]  # no request to describe: msrest reads only the status
            )


class TokenSource:
    """The outbound bearer token of one ``AppCredentials``, read without blocking the event loop."""

    def __init__(self, credentials: AppCredentials) -> None:
        self.credentials = credentials
        self._token: str | None = None
        self._valid_until = 0.0
        self._pending: asyncio.Future[str] | None = None

    @property
    def enabled(self) -> bool:
        """The SDK's rule (``AppCredentials._should_set_token``): no app id, no token."""
        app_id = getattr(self.credentials, "microsoft_app_id", None)
        return bool(app_id) and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID

    async def header(self) -> str | None:
        if not self.enabled:
            return None
        if self._token is None or time.monotonic() >= self._valid_until:
            await self._refresh()
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        self._token = None

    async def _refresh(self) -> None:
        if self._pending is None:  # one token request for every turn waiting on it
            self._pending = asyncio.ensure_future(asyncio.to_thread(self.credentials.get_access_token))
        pending = self._pending
        try:
            token = await asyncio.shield(pending)
        finally:
            if self._pending is pending and pending.done():
                self._pending = None
        self._token = token
        self._valid_until = time.monotonic() + _lifetime(token)


def _lifetime(token: str) -> float:
    """Seconds to reuse ``token``: until ``TOKEN_MARGIN_S`` before its ``exp`` if it is a JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        left = float(claims["exp"]) - time.time() - TOKEN_MARGIN_S
        return max(0.0, min(left, 3600.0))
    except (IndexError, ValueError, KeyError, TypeError):
        return OPAQUE_TOKEN_TTL_S


class ConversationsOperations:
    """The conversation operations of a turn, on the shared session; the rest go to the stock client."""

    def __init__(self, client: BotConnectorClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client.stock.conversations, name)

    async def send_to_conversation(self, conversation_id: str, activity: models.Activity, **_: Any
                                   ) -> models.ResourceResponse | None:
        url = self._client.url("/v3/conversations/{conversationId}/activities", conversationId=conversation_id)
        body = serialize_model(activity, "Activity", share=True)
        return await self._client.call("POST", url, body, (200, 201, 202), "ResourceResponse")

    async def reply_to_activity(self, conversation_id: str, activity_id: str, activity: models.Activity, **_: Any
                                ) -> models.ResourceResponse | None:
        url = self._client.url("/v3/conversations/{conversationId}/activities/{activityId}",
                               conversationId=conversation_id, activityId=activity_id)
        body = serialize_model(activity, "Activity", share=True)
        return await self._client.call("POST", url, body, (200, 201, 202), "ResourceResponse")

    async def post_body(self, conversation_id: str, reply_to_id: str | None, body: dict[str, Any]
                        ) -> models.ResourceResponse | None:
        """``reply_to_activity`` (or ``send_to_conversation`` without ``reply_to_id``) of an activity
        already serialized (see :func:`bot.sdk.turn_context.card_reply_body`)."""
        url = self._client.activities_url(conversation_id, reply_to_id)
        return await self._client.call("POST", url, body, (200, 201, 202), "ResourceResponse")

    async def update_activity(self, conversation_id: str, activity_id: str, activity: models.Activity, **_: Any
                              ) -> models.ResourceResponse | None:
        url = self._client.url("/v3/conversations/{conversationId}/activities/{activityId}",
                               conversationId=conversation_id, activityId=activity_id)
        body = serialize_model(activity, "Activity", share=True)
        return await self._client.call("PUT", url, body, (200, 201, 202), "ResourceResponse")

    async def delete_activity(self, conversation_id: str, activity_id: str, **_: Any) -> None:
        url = self._client.url("/v3/conversations/{conversationId}/activities/{activityId}",
                               conversationId=conversation_id, activityId=activity_id)
        await self._client.call("DELETE", url, None, (200, 202), None)

    async def get_conversation_members(self, conversation_id: str, **_: Any) -> list[models.ChannelAccount]:
        url = self._client.url("/v3/conversations/{conversationId}/members", conversationId=conversation_id)
        return await self._client.call("GET", url, None, (200,), "[ChannelAccount]")

    async def get_conversation_member(self, conversation_id: str, member_id: str, **_: Any) -> models.ChannelAccount:
        url = self._client.url("/v3/conversations/{conversationId}/members/{memberId}",
                               conversationId=conversation_id, memberId=member_id)
        return await self._client.call("GET", url, None, (200,), "ChannelAccount")


class BotConnectorClient:
    """Stands where the SDK expects a ``ConnectorClient`` (``turn_state[BOT_CONNECTOR_CLIENT_KEY]``)."""

    def __init__(self, pool: ConnectorPool, service_url: str, credentials: AppCredentials, tokens: TokenSource
                 ) -> None:
        self._pool = pool
        self.base_url = service_url
        self.credentials = credentials
        self._tokens = tokens
        self._stock: ConnectorClient | None = None
        self._activities: dict[str, str] = {}
        self.conversations = ConversationsOperations(self)

    @property
    def stock(self) -> ConnectorClient:
        """The SDK's client for this service URL, built on first use of an operation we do not implement."""
        if self._stock is None:
            self._stock = ConnectorClient(self.credentials, base_url=self.base_url)
        return self._stock

    @property
    def config(self) -> Any:  # TeamsInfo builds its TeamsConnectorClient from config.credentials/base_url
        return self.stock.config

    def __getattr__(self, name: str) -> Any:  # teams, attachments, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.stock, name)

    def url(self, template: str, **params: str) -> str:
        """msrest's URL building: each parameter quoted whole, joined to the service URL."""
        path = template.format(**{k: _quoted(str(v)) for k, v in params.items()})
        return join_url(self.base_url, path)

    def activities_url(self, conversation_id: str, activity_id: str | None = None) -> str:
        """``url`` of a conversation's activities, or of one of them, with the conversation's part
        remembered (a bot answers in the same chats again and again); ``url`` itself wherever the
        two could differ (dot segments)."""
        template = "/v3/conversations/{conversationId}/activities"
        prefix = self._activities.get(conversation_id, "")
        if not prefix:
            prefix = self.url(template, conversationId=conversation_id)
            probe = self.url(template + "/{activityId}", conversationId=conversation_id, activityId="x")
            if probe != prefix + "/x":
                return self.url(template + "/{activityId}" if activity_id else template,
                                conversationId=conversation_id, **({"activityId": activity_id} if activity_id else {}))
            if len(self._activities) >= MAX_REMEMBERED_CHATS:
                self._activities.clear()
            self._activities[conversation_id] = prefix
        if not activity_id:
            return prefix
        quoted = _quoted(activity_id)
        if quoted in (".", ".."):
            return self.url(template + "/{activityId}", conversationId=conversation_id, activityId=activity_id)
        return f"{prefix}/{quoted}"


    async def call(self, method: str, url: str, body: Any, ok: tuple[int, ...], result_type: str | None) -> Any:
        headers = dict(_JSON_HEADERS if body is not None else _ACCEPT)
        auth = await self._tokens.header()
        if auth:
            headers["Authorization"] = auth
        data = encode_json(body) if body is not None else None
        http = self._pool.http1()
        try:
            answer = await http.request(method, url, headers, data)
        except Disconnected as error:
            # the service closed (or reset) a kept-alive connection as the request went out on it (its
            # idle timeout): nothing came back, so the request is sent once more, on a new connection
            log.info("connection closed by the service before it answered: sent again",
                     extra={"method": method, "error": type(error.__cause__ or error).__name__})
            answer = await http.request(method, url, headers, data, fresh=True)
        response = BufferedResponse(answer.status, answer.reason, answer.headers, answer.body)
        if response.status_code == 401:
            self._tokens.invalidate()  # the next call asks the credentials again
        if response.status_code not in ok:
            raise models.ErrorResponseException(_DESERIALIZE, response)
        if result_type is None or not response.body():
            return None
        return _result(result_type, response)


def _result(result_type: str, response: BufferedResponse) -> Any:
    """The result model of a JSON response, as msrest reads it (msrest itself for anything else)."""
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type") or ""
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(response.body())
        except ValueError:
            data = None
        if isinstance(data, dict):
            return deserialize_model(result_type, data)
    return _DESERIALIZE(result_type, response)


#: How long an idle connection is kept: under the idle timeouts of the services a bot sends to (Node's
#: HTTP server closes after 5 s), so the bot closes an idle connection before the service does.
KEEPALIVE_S = 4.0


class ConnectorPool:
    """One pool of keep-alive connections and one client per (service URL, credentials) for the whole app."""

    def __init__(self, limit: int = 100, timeout_s: float = 30.0) -> None:
        self._limit = limit
        self._timeout_s = timeout_s
        self._http: Http1Pool | None = None
        self._credentials: dict[tuple[Any, ...], tuple[AppCredentials, TokenSource]] = {}
        self._clients: dict[tuple[str, int], BotConnectorClient] = {}

    async def open(self) -> None:
        self.http1()

    def http1(self) -> Http1Pool:
        """The connections (opened on first use outside the app: a script, a test)."""
        if self._http is None:
            self._http = Http1Pool(user_agent=USER_AGENT, limit=self._limit, keepalive_s=KEEPALIVE_S,
                                   timeout_s=self._timeout_s)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._clients.clear()

    async def credentials(self, factory: ServiceClientCredentialsFactory, app_id: str, oauth_scope: str,
                          login_endpoint: str, validate_authority: bool) -> tuple[AppCredentials, TokenSource]:
        key = (factory, app_id, oauth_scope, login_endpoint, validate_authority)
        found = self._credentials.get(key)
        if found is None:
            credentials = await factory.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            found = self._credentials.setdefault(key, (credentials, TokenSource(credentials)))
        return found

    async def client(self, connector_factory: ConnectorFactory, service_url: str, audience: str | None = None
                     ) -> Any:
        """The connector client of a turn: ours when the factory is the SDK's, else whatever it builds."""
        params = _factory_params(connector_factory)
        if params is None:
            return await connector_factory.create(service_url, audience)
        factory, app_id, default_scope, login_endpoint, validate_authority = params
        credentials, tokens = await self.credentials(factory, app_id, audience or default_scope, login_endpoint,
                                                     validate_authority)
        key = (service_url, id(credentials))
        client = self._clients.get(key)
        if client is None:
            client = self._clients.setdefault(key, BotConnectorClient(self, service_url, credentials, tokens))
        return client


def _factory_params(connector_factory: ConnectorFactory) -> tuple[Any, ...] | None:
    """What the SDK's ``_ConnectorFactoryImpl.create`` would pass to the credentials factory."""
    if getattr(connector_factory, "_connector_client_configuration", None) is not None:
        return None  # a custom msrest configuration: let the SDK build its own client
    try:
        return (connector_factory._credential_factory, connector_factory._app_id,
                connector_factory._to_channel_from_bot_oauth_scope,
                connector_factory._login_endpoint, connector_factory._validate_authority)
    except AttributeError:
        return None
