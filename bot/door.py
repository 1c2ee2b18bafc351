"""The door of ``/api/messages``: every incoming activity is read and checked once, before any bot code.

Whatever reaches a turn has the shape the SDK and the handler assume, so a malformed request is a
400 with a short reason (JSON ``{"error": ...}``), never a 500, a traceback or an apology inside a
turn; and nothing in it can make a later step blow up (deep nesting in a recursive walk, a huge
integer in ``int()``, a lone surrogate in the journal's UTF-8, NaN in a stored document).

* The body is bounded (:data:`MAX_BODY`), strict UTF-8 and JSON without ``NaN``/``Infinity``,
  numbers of at most :data:`MAX_NUMBER` characters and finite, nesting at most :data:`MAX_DEPTH`.
* Every field of the activity, the Teams ``channelData`` included, has the JSON type of the SDK's
  own schema (the msrest attribute maps), dates parse, and the fields every turn relies on are there:
  ``type``, ``from.id``, ``conversation.id`` and an absolute http(s) ``serviceUrl``; ids are bounded.
* Lone surrogates: refused in protocol fields; in what a person typed or a card sent (``text``,
  ``value``...) replaced by U+FFFD, as a Teams client could send one in a message.
* ``serviceUrl`` trust (:class:`ServiceUrls`): the token's ``serviceurl`` claim is checked by the SDK
  when authentication is on; a request without that claim (authentication off, or a token type that
  does not carry it) may only name a loopback service URL or one of ``ALLOWED_SERVICE_URLS``, so no
  one who reaches a local bot can point stored conversation references elsewhere.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from botbuilder.schema import Activity, teams
from botframework.connector import models
from msrest.serialization import Deserializer

from bot.sdk.connector import deserialize_model
from dialogs.sso import SIGNIN_INVOKES

#: the largest activity body accepted (Teams sends messages of at most ~100 KB with their metadata)
MAX_BODY = 256 * 1024
#: deepest nesting of arrays and objects (Teams activities and card data nest about ten deep)
MAX_DEPTH = 32
#: longest number literal (an id or a count, never thousands of digits)
MAX_NUMBER = 40
#: longest id, service URL, locale or other protocol string
MAX_ID = 1024
#: the invokes the bot answers (card actions, answers to a file offered; sign-in ones with SSO on): the
#: SDK would read the value of any other into a model of its own and answer 501, so they are refused here
INVOKES = frozenset({"adaptiveCard/action", "fileConsent/invoke"})
SSO_INVOKES = INVOKES | SIGNIN_INVOKES
#: top-level fields holding what a person typed or a card sent: lone surrogates there are replaced
_FREE_TEXT = frozenset({"text", "value", "summary", "speak", "label"})

#: botbuilder's model classes, by name (Any to mypy: botbuilder has no type hints)
_MODELS: dict[str, Any] = {**{k: v for k, v in models.__dict__.items() if isinstance(v, type)},
                           **{k: v for k, v in teams.__dict__.items() if isinstance(v, type)}}
_DATES = Deserializer(_MODELS)
_SURROGATE = re.compile("[\ud800-\udfff]")
#: fields of the activity checked against their own schema beyond the SDK's ``object``
_TYPED_OBJECTS = {"channelData": "TeamsChannelData"}

class Refused(Exception):
    """The request is answered ``status`` with ``reason`` and goes no further."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.json_response({"error": self.reason}, status=self.status)


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused (413) as soon as it is longer than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await request.content.read(65536)
        except RequestPayloadError:  # e.g. a Content-Encoding the body is not in, or a broken chunked body
            raise Refused(400, "the body cannot be read") from None
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER:
        raise ValueError("a number is too long")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER:
        raise ValueError("a number is too long")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_int=_int, parse_float=_float)


def parse_json(raw: bytes) -> Any:
    """Bounded JSON: strict UTF-8, finite numbers of bounded length, nesting at most ``MAX_DEPTH``.

    Raises:
        Refused: 400 with the reason.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8") from None
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(text, MAX_DEPTH):
        raise Refused(400, f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        return _DECODER.decode(text)
    except RecursionError:  # unreachable after the depth check; kept as the parser's own limit
        raise Refused(400, f"the body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError, and so are the number checks
        reason = str(exc) if not isinstance(exc, json.JSONDecodeError) else "the body is not JSON"
        raise Refused(400, reason) from None


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_OPEN = {"[": 1, "{": 1, "]": -1, "}": -1}


def _deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests deeper than ``limit``, in one linear pass (no recursion)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    depth = 0
    for char in brackets:
        depth += _OPEN[char]
        if depth > limit:
            return True
    return False


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _clean_strings(value: Any, field: str) -> Any:
    """``value`` with lone surrogates replaced (free text) or refused (protocol fields); no recursion."""
    free = field in _FREE_TEXT
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        kind = type(item)
        if kind is str:
            if _SURROGATE.search(item):
                if not free:
                    raise Refused(400, f"'{field}' holds text that is not valid Unicode")
                holder[key] = _SURROGATE.sub("\ufffd", item)
        elif kind is dict:
            for name in list(item):
                if _SURROGATE.search(name):
                    if not free:
                        raise Refused(400, f"'{field}' holds text that is not valid Unicode")
                    item[_SURROGATE.sub("\ufffd", name)] = item.pop(name)
            stack.extend((item, k) for k in item)
        elif kind is list:
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


_DATE_TYPES = frozenset({"iso-8601", "rfc-1123", "date", "duration"})
_EXPECTED = {"str": "a string", "bool": "true or false", "int": "a number", "long": "a number", "float": "a number"}
_PLANS: dict[str, dict[str, str]] = {}
#: keys Teams sends that the SDK's schema spells otherwise (it reads ``tenantID``)
_TEAMS_KEYS = {"ConversationAccount": {"tenantId": "str"}}


def _plan(type_name: str) -> dict[str, str]:
    """JSON key -> msrest type of each attribute of a model."""
    plan = _PLANS.get(type_name)
    if plan is None:
        attributes = _MODELS[type_name]._attribute_map.values()
        plan = _PLANS[type_name] = {a["key"]: a["type"] for a in attributes if a["key"] and "." not in a["key"]}
        plan.update(_TEAMS_KEYS.get(type_name, {}))
    return plan


def _check_model(value: Any, type_name: str, path: str) -> None:
    """Refuse ``value`` unless every field has the JSON type the SDK's schema gives it (dates: a short
    string here; whether it parses is known when the SDK's deserializer reads it)."""
    if type(value) is not dict:
        raise Refused(400, f"'{path}' must be an object")
    plan = _PLANS.get(type_name) or _plan(type_name)
    for key, item in value.items():
        wanted = plan.get(key)
        if wanted is None or item is None or wanted == "object" or (wanted == "str" and type(item) is str):
            continue
        where = f"{path}.{key}" if path else key
        if wanted == "str":
            raise Refused(400, f"'{where}' must be a string")
        if wanted in _MODELS:
            _check_model(item, wanted, where)
        else:
            _check_value(item, wanted, where)


def _check_value(value: Any, type_name: str, path: str) -> None:
    kind = type(value)
    if type_name[0] == "[" and type_name[-1] == "]":
        if kind is not list:
            raise Refused(400, f"'{path}' must be an array")
        inner = type_name[1:-1]
        for i, item in enumerate(value):
            if item is not None:
                _check_model(item, inner, f"{path}[{i}]") if inner in _MODELS else _check_value(item, inner,
                                                                                                f"{path}[{i}]")
        return
    if type_name[0] == "{" and type_name[-1] == "}":
        if kind is not dict:
            raise Refused(400, f"'{path}' must be an object")
        inner = type_name[1:-1]
        for key, item in value.items():
            if item is not None:
                _check_model(item, inner, f"{path}.{key}") if inner in _MODELS else _check_value(item, inner,
                                                                                                f"{path}.{key}")
        return
    if type_name in _DATE_TYPES:
        ok = kind is str and len(value) <= 64
        expected = "a date"
    elif type_name == "str":
        ok, expected = kind is str, "a string"
    elif type_name == "bool":
        ok, expected = kind is bool, "true or false"
    elif type_name in ("int", "long"):
        ok, expected = kind is int, "a number"
    elif type_name == "float":
        ok, expected = kind is int or kind is float, "a number"
    else:
        return  # a type the SDK reads as it comes
    if not ok:
        raise Refused(400, f"'{path}' must be {expected}")


def _bad_date(activity: dict[str, Any]) -> str:
    """The first top-level date field of ``activity`` that msrest cannot read (for the reason of a 400)."""
    for key, wanted in _plan("Activity").items():
        if wanted in _DATE_TYPES and isinstance(activity.get(key), str):
            try:
                _DATES.deserialize_data(activity[key], wanted)
            except Exception:  # DeserializationError, or ValueError/OverflowError from datetime
                return key
    return ""


def check_activity(body: Any, invokes: frozenset[str] = INVOKES, surrogates: bool = True) -> dict[str, Any]:
    """The activity in ``body`` once it is safe for the SDK and the handler; lone surrogates in free
    text replaced (``surrogates=False``: the JSON text had no escaped surrogate, so none can be there).

    Raises:
        Refused: 400 with the first thing that is wrong.
    """
    if type(body) is not dict:
        raise Refused(400, "the body is not an activity")
    if surrogates:
        for field in list(body):
            body[field] = _clean_strings(body[field], field)
            if _SURROGATE.search(field):
                raise Refused(400, "a field name is not valid Unicode")
    _check_model(body, "Activity", "")
    for field, model in _TYPED_OBJECTS.items():
        if body.get(field) is not None:
            _check_model(body[field], model, field)
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise Refused(400, "the activity has no type")
    sender, chat, recipient = body.get("from") or {}, body.get("conversation") or {}, body.get("recipient") or {}
    if not sender.get("id"):
        raise Refused(400, "'from.id' is missing")
    if not chat.get("id"):
        raise Refused(400, "'conversation.id' is missing")
    ids = (body.get("id"), body.get("serviceUrl"), body.get("channelId"), body.get("locale"), body.get("replyToId"),
           body.get("name"), body["type"], sender["id"], sender.get("aadObjectId"), recipient.get("id"), chat["id"],
           chat.get("tenantId"), chat.get("conversationType"))
    if any(type(text) is str and len(text) > MAX_ID for text in ids):
        raise Refused(400, f"an id, locale or URL is longer than {MAX_ID} characters")
    if not _http_url(body.get("serviceUrl")):
        raise Refused(400, "'serviceUrl' must be an absolute http(s) URL")
    for field in ("membersAdded", "membersRemoved"):
        for member in body.get(field) or ():
            if not isinstance(member, dict) or not member.get("id"):
                raise Refused(400, f"'{field}' holds a member without an id")
    if body["type"] == "invoke" and body.get("name") not in invokes:
        raise Refused(400, "the bot does not handle this invoke")
    return body


def _http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    return _http_url_text(value)


@functools.lru_cache(maxsize=256)  # a bot hears from a handful of service URLs
def _http_url_text(value: str) -> bool:
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def read_activity(request: web.Request, invokes: frozenset[str] = INVOKES) -> Activity:
    """The checked activity of an ``/api/messages`` request; ``invokes``: the invoke names answered.

    Raises:
        Refused: 415, 413 or 400 with the reason.
    """
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise Refused(415, "Content-Type must be application/json")
    if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise Refused(415, "the body must not be compressed")  # the channel never compresses it
    raw = await read_body(request)
    body = check_activity(parse_json(raw), invokes, surrogates=_ESCAPED_SURROGATE.search(raw) is not None)
    try:
        return deserialize_model("Activity", body)
    except Exception:  # msrest's DeserializationError (a date it cannot read), or anything it trips on
        bad = _bad_date(body)
        raise Refused(400, f"'{bad}' must be a date" if bad else "the activity cannot be read") from None


class ServiceUrls:
    """Which service URLs a request may name when its token does not vouch for one.

    ``allowed``: origins (``https://smba.trafficmanager.net``) or prefixes of service URLs from
    ``ALLOWED_SERVICE_URLS``; loopback addresses are always allowed (the local Playground, tests).
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(a.strip().rstrip("/").lower() for a in allowed if a.strip())

    @classmethod
    def from_setting(cls, value: str) -> ServiceUrls:
        return cls(value.split(","))

    def permits(self, service_url: str) -> bool:
        try:
            host = urlsplit(service_url).hostname or ""
        except ValueError:
            return False
        if host == "localhost" or _loopback(host):
            return True
        wanted = service_url.rstrip("/").lower()
        return any(wanted == a or wanted.startswith(a + "/") for a in self.allowed)

    def check(self, service_url: str, claims: dict[str, Any] | None) -> None:
        """Refuse (403) a service URL that neither the token's claim nor the settings vouch for.

        A token carrying a ``serviceurl`` claim was already matched against the activity by the SDK.
        """
        if claims and claims.get("serviceurl"):
            if claims["serviceurl"] != service_url:  # the SDK checks it; kept here as the door's rule
                raise Refused(403, "'serviceUrl' does not match the token")
            return
        if not self.permits(service_url):
            raise Refused(403, "'serviceUrl' is not an allowed service URL (see ALLOWED_SERVICE_URLS)")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
