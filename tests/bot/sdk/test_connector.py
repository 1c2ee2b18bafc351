"""The pooled Bot Connector client: same requests, results and errors as the SDK's, on few connections."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from aiohttp import ClientSession, web
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Mention,
    SuggestedActions,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials, MicrosoftAppCredentials
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from botframework.connector.auth.service_client_credentials_factory import ServiceClientCredentialsFactory
from botframework.connector.models import ErrorResponseException

from bot.sdk.connector import _SERIALIZE, BotConnectorClient, ConnectorPool, serialize_model
from bot.sdk.http1 import Disconnected
from bot.sdk.user_tokens import LazyUserTokenClient
from tests._common.harness import ALEX, LEE, BotClient, bot_settings, cards_in, start_bot
from tests._common.loopback import LoopbackServer
from tests._common.stream_service import StreamService


class RecordingConnector:
    """A Bot Connector on loopback (own thread) recording each request's path, headers and client port."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail: dict[str, int] = {}
        self.members = {"29:1-alex-wilber": {"id": "29:1-alex-wilber", "name": "Alex Wilber",
                                             "aadObjectId": ALEX["aadObjectId"], "email": "alexw@contoso.com"}}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ports(self) -> set[int]:
        return {r["port"] for r in self.requests}

    def start(self) -> RecordingConnector:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = LoopbackServer(app).start()
        self.port = self._server.ports[0]
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        peer = request.transport.get_extra_info("peername") if request.transport else ("", 0)
        self.requests.append({"method": request.method, "path": request.raw_path, "body": body,
                              "auth": request.headers.get("Authorization"), "port": peer[1]})
        parts = request.path.strip("/").split("/")
        conv = parts[2] if len(parts) > 2 else ""
        if conv in self.fail:
            return web.json_response({"error": {"code": "ConversationBlockedByUser", "message": "blocked"}},
                                     status=self.fail[conv])
        if parts[-2:-1] == ["members"]:
            member = self.members.get(parts[-1])
            if member is None:
                return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}},
                                         status=404)
            return web.json_response(member)
        if parts[-1] == "members":
            return web.json_response(list(self.members.values()))
        if request.method == "DELETE":
            return web.Response(status=200)
        return web.json_response({"id": f"reply-{uuid.uuid4().hex[:6]}"})


class TokenCredentials(AppCredentials):
    def __init__(self, app_id: str = "app-1") -> None:
        super().__init__(app_id=app_id)
        self.calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls += 1
        return f"token-{self.calls}"


def client_for(pool: ConnectorPool, fake: RecordingConnector | ClosingConnector,
               credentials: AppCredentials | None = None) -> BotConnectorClient:
    from bot.sdk.connector import TokenSource

    credentials = credentials or MicrosoftAppCredentials("", "")
    return BotConnectorClient(pool, fake.url, credentials, TokenSource(credentials))


def reply(text: str = "hi", conv: str = "a:1") -> Activity:
    activity = MessageFactory.text(text)
    activity.conversation = ConversationAccount(id=conv)
    return activity


async def test_send_reply_update_delete_reach_the_connector(pool: ConnectorPool, fake: RecordingConnector) -> None:
    client = client_for(pool, fake)
    sent = await client.conversations.send_to_conversation("a:1", reply("one"))
    replied = await client.conversations.reply_to_activity("a:1", "act-9", reply("two"))
    updated = await client.conversations.update_activity("a:1", "act-9", reply("three"))
    await client.conversations.delete_activity("a:1", "act-9")
    assert sent.id.startswith("reply-") and replied.id.startswith("reply-") and updated.id
    calls = [(r["method"], r["path"]) for r in fake.requests]
    assert calls == [
        ("POST", "/v3/conversations/a%3A1/activities"),
        ("POST", "/v3/conversations/a%3A1/activities/act-9"),
        ("PUT", "/v3/conversations/a%3A1/activities/act-9"),
        ("DELETE", "/v3/conversations/a%3A1/activities/act-9"),
    ]
    assert [r["body"]["text"] for r in fake.requests[:3]] == ["one", "two", "three"]
    assert fake.requests[0]["body"]["type"] == "message"


async def test_requests_match_the_stock_client(pool: ConnectorPool, fake: RecordingConnector) -> None:
    card = MessageFactory.attachment(CardFactory.adaptive_card({"type": "AdaptiveCard", "version": "1.5",
                                                                "body": [{"type": "TextBlock", "text": "x"}]}))
    card.conversation = ConversationAccount(id="a:1")
    await client_for(pool, fake).conversations.send_to_conversation("a:1", card)
    stock = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake.url)
    await stock.conversations.send_to_conversation("a:1", card)
    ours, theirs = fake.requests
    assert ours["path"] == theirs["path"] and ours["body"] == theirs["body"]


async def test_member_lookups(pool: ConnectorPool, fake: RecordingConnector) -> None:
    client = client_for(pool, fake)
    member = await client.conversations.get_conversation_member("a:1", "29:1-alex-wilber")
    assert isinstance(member, ChannelAccount)
    assert member.name == "Alex Wilber" and member.aad_object_id == ALEX["aadObjectId"]
    members = await client.conversations.get_conversation_members("a:1")
    assert [m.id for m in members] == ["29:1-alex-wilber"]


async def test_error_statuses_raise_what_the_sdk_raises(pool: ConnectorPool, fake: RecordingConnector) -> None:
    fake.fail["a:blocked"] = 403
    stock = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake.url)
    client = client_for(pool, fake)
    for call in (lambda c: c.conversations.send_to_conversation("a:blocked", reply()),
                 lambda c: c.conversations.get_conversation_member("a:1", "29:nobody")):
        with pytest.raises(ErrorResponseException) as ours:
            await call(client)
        with pytest.raises(ErrorResponseException) as theirs:
            await call(stock)
        assert ours.value.response.status_code == theirs.value.response.status_code
        assert str(ours.value) == str(theirs.value)
        assert ours.value.error.error.code == theirs.value.error.error.code


async def test_authorization_header_when_auth_is_on(pool: ConnectorPool, fake: RecordingConnector) -> None:
    credentials = TokenCredentials()
    client = client_for(pool, fake, credentials)
    for _ in range(5):
        await client.conversations.send_to_conversation("a:1", reply())
    assert [r["auth"] for r in fake.requests] == ["Bearer token-1"] * 5
    assert credentials.calls == 1  # the token is reused, not asked for on every call

    fake.requests.clear()
    await client_for(pool, fake).conversations.send_to_conversation("a:1", reply())
    assert fake.requests[0]["auth"] is None  # no app id (auth off): no header, like the SDK


async def test_a_401_makes_the_next_call_ask_for_a_new_token(pool: ConnectorPool, fake: RecordingConnector) -> None:
    credentials = TokenCredentials()
    client = client_for(pool, fake, credentials)
    fake.fail["a:1"] = 401
    with pytest.raises(ErrorResponseException):
        await client.conversations.send_to_conversation("a:1", reply())
    del fake.fail["a:1"]
    await client.conversations.send_to_conversation("a:1", reply())
    assert [r["auth"] for r in fake.requests] == ["Bearer token-1", "Bearer token-2"]


async def test_many_calls_share_few_connections(pool: ConnectorPool, fake: RecordingConnector) -> None:
    client = client_for(pool, fake)
    for _ in range(20):
        await client.conversations.send_to_conversation("a:1", reply())
    assert len(fake.ports) == 1
    await asyncio.gather(*(client.conversations.send_to_conversation("a:1", reply()) for _ in range(10)))
    await asyncio.gather(*(client.conversations.send_to_conversation("a:1", reply()) for _ in range(10)))
    assert len(fake.requests) == 40 and len(fake.ports) <= 10


class CountingFactory(ServiceClientCredentialsFactory):
    def __init__(self) -> None:
        self.created = 0

    async def is_valid_app_id(self, app_id: str) -> bool:
        return True

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        self.created += 1
        return TokenCredentials(app_id)


async def test_clients_and_credentials_are_built_once(pool: ConnectorPool, fake: RecordingConnector) -> None:
    factory = CountingFactory()
    connector_factory = _ConnectorFactoryImpl("app-1", "https://api.botframework.com", "https://login/x", True,
                                              factory)
    clients = [await pool.client(connector_factory, fake.url) for _ in range(5)]
    assert all(c is clients[0] for c in clients)
    other_scope = await pool.client(connector_factory, fake.url, "https://other.example")
    assert other_scope is not clients[0]
    assert factory.created == 2  # one per (app id, scope), not one per turn


async def test_unimplemented_operations_fall_through_to_the_stock_client(pool: ConnectorPool,
                                                                         fake: RecordingConnector) -> None:
    client = client_for(pool, fake)
    assert client.config.base_url.rstrip("/") == fake.url.rstrip("/")  # TeamsInfo builds its client from this
    assert hasattr(client.conversations, "create_conversation") and hasattr(client, "attachments")


async def test_user_token_client_is_built_on_first_use_only() -> None:
    built: list[int] = []

    class Stub:
        async def get_user_token(self, *args: Any) -> str:
            return "user-token"

    async def create() -> Any:
        built.append(1)
        return Stub()

    lazy = LazyUserTokenClient(create)
    assert not lazy.created and built == []
    assert await lazy.get_user_token("u", "conn", "msteams", None) == "user-token"
    assert await lazy.get_user_token("u", "conn", "msteams", None) == "user-token"
    assert built == [1]


@pytest.mark.parametrize("activity", [
    MessageFactory.text("hi"),
    MessageFactory.attachment(CardFactory.adaptive_card({"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "x", "wrap": True, "size": 1.5, "none": None}]})),
    Activity(type=ActivityTypes.message, text="x", timestamp=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
             entities=[Mention(mentioned=ChannelAccount(id="1"), text="<at>a</at>", type="mention")],
             suggested_actions=SuggestedActions(actions=[CardAction(type="imBack", title="a", value="a")]),
             channel_data={"notification": {"alert": True}}, conversation=ConversationAccount(id="c")),
    Activity(type="message", attachments=[{"contentType": "x", "content": {}}]),  # a dict: msrest's own path
    Activity(type="message", value={1: "non-string key"}),
])
def test_fast_serialization_is_msrest_serialization(activity: Activity) -> None:
    assert serialize_model(activity, "Activity") == _SERIALIZE.body(activity, "Activity")


def test_reference_serialization_is_msrest_serialization() -> None:
    reference = ConversationReference(activity_id="1", user=ChannelAccount(id="u", aad_object_id="a"),
                                      bot=ChannelAccount(id="b"), conversation=ConversationAccount(id="c"),
                                      channel_id="msteams", locale="en-US", service_url="http://x/")
    assert serialize_model(reference, "ConversationReference") == reference.serialize()


async def test_turns_through_the_app_reuse_one_connection(fake: RecordingConnector, data_dir: Any) -> None:
    runner, base = await start_bot(bot_settings(data_dir))
    try:
        async with ClientSession() as session:
            client = BotClient(base, fake, session)
            for who in (ALEX, LEE) * 5:
                status, _ = await client.post(client.activity(who, text="help"))
                assert status in (200, 201)
    finally:
        await runner.cleanup()
    sends = [r for r in fake.requests if r["method"] == "POST"]
    assert len(sends) == 10 and all(cards_in([r["body"]]) for r in sends)
    assert len(fake.ports) == 1


INBOUND = {
    "type": "message", "id": "1", "channelId": "msteams", "serviceUrl": "http://x/", "text": "help",
    "from": {"id": "29:1", "name": "A", "aadObjectId": "a1"}, "recipient": {"id": "28:b", "name": "B"},
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1"}, "locale": "en-US",
    "channelData": {"tenant": {"id": "t1"}}, "timestamp": "2026-11-22T00:49:00.123Z",
    "localTimestamp": "2026-11-22T08:49:00.123+08:00", "textFormat": "plain", "attachments": [],
    "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US"}], "unknownThing": {"a": 1},
}


@pytest.mark.parametrize("body", [
    INBOUND,
    {"type": "invoke", "name": "adaptiveCard/action",
     "value": {"action": {"type": "Action.Execute", "verb": "x", "data": {"a": [1, None, True]}}}},
    {"type": "message", "ChannelId": "msteams", "replyToId": None},  # keys match exactly, as in msrest
    {"type": "conversationUpdate", "membersAdded": [{"id": "1"}], "isGroup": "yes"},
    {"type": 5, "text": ["not", "a", "string"]},  # odd types: msrest decides
])
def test_fast_deserialization_is_msrest_deserialization(body: dict[str, Any]) -> None:
    from bot.sdk.connector import deserialize_model

    assert deserialize_model("Activity", body) == Activity().deserialize(body)


async def test_proactive_messages_use_the_pool(fake: RecordingConnector, tmp_path: Any) -> None:
    from bot.adapter import BenefitsAdapter
    from bot.auth import build_authentication

    adapter = BenefitsAdapter(build_authentication(bot_settings(tmp_path)))
    reference = ConversationReference(channel_id="msteams", service_url=fake.url, bot=ChannelAccount(id="28:bot"),
                                      user=ChannelAccount(id="29:1"), conversation=ConversationAccount(id="a:1"))

    async def say(context: Any) -> None:
        await context.send_activity("reminder")

    for _ in range(3):
        await adapter.continue_conversation(reference, say, None)
    await adapter.connectors.close()
    assert [r["body"]["text"] for r in fake.requests] == ["reminder"] * 3
    assert len(fake.ports) == 1


@pytest.mark.parametrize(("result_type", "body", "content_type"), [
    ("ResourceResponse", b'{"id": "abc"}', "application/json; charset=utf-8"),
    ("ResourceResponse", b'{"id": "abc", "extra": [1, 2]}', "application/json"),
    ("ChannelAccount", '{"id": "29:1", "name": "Alex", "aadObjectId": "a1", "email": "a@c.com", "role": "user"}'
     .encode(), "application/json"),
    ("TeamsChannelAccount", b'{"id": "29:1", "userPrincipalName": "a@c.com", "givenName": "A"}', "application/json"),
    ("[ChannelAccount]", b'[{"id": "29:1"}, {"id": "29:2", "name": "B"}]', "application/json"),
    ("ResourceResponse", b'{"id": "abc"}', "text/plain"),
    ("ResourceResponse", b'\xef\xbb\xbf{"id": "bom"}', "application/json"),
])
def test_results_are_what_msrest_reads(result_type: str, body: bytes, content_type: str) -> None:
    from bot.sdk.connector import _DESERIALIZE, BufferedResponse, _result

    def response() -> BufferedResponse:
        return BufferedResponse(200, "OK", {"Content-Type": content_type}, body)

    try:
        expected = _DESERIALIZE(result_type, response())
    except Exception as error:  # then ours must fail alike
        with pytest.raises(type(error)):
            _result(result_type, response())
        return
    got = _result(result_type, response())
    assert type(got) is type(expected)
    as_list = got if isinstance(got, list) else [got]
    for mine, theirs in zip(as_list, expected if isinstance(expected, list) else [expected], strict=True):
        assert type(mine) is type(theirs) and vars(mine) == vars(theirs)


@pytest.mark.parametrize("activity", [
    MessageFactory.text("hi"),
    MessageFactory.attachment(CardFactory.adaptive_card({"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "x", "wrap": True, "size": 1.5, "none": None, "items": [[1, {"a": []}]]}]})),
    Activity(type=ActivityTypes.message, text="x", channel_data={"notification": {"alert": True}},
             conversation=ConversationAccount(id="c")),
    Activity(type="message", attachments=[{"contentType": "x", "content": {}}]),  # a dict: msrest's own path
    Activity(type="message", value={1: "non-string key"}),
    Activity(type="message", value={"nested": [{"deep": {2: "non-string key"}}]}),
    Activity(type="message", value={"tuple": (1, 2)}),
])
def test_shared_serialization_encodes_as_msrest_serialization(activity: Activity) -> None:
    """``share=True`` (the send paths) gives the same JSON; only copying is skipped."""
    expected = _SERIALIZE.body(activity, "Activity")
    assert serialize_model(activity, "Activity", share=True) == expected
    assert json.dumps(serialize_model(activity, "Activity", share=True)) == json.dumps(expected)


@pytest.mark.parametrize("base", ["https://smba.trafficmanager.net/amer/", "https://smba.trafficmanager.net/amer",
                                  "http://127.0.0.1:1234", "http://127.0.0.1:1234/a//b/", "http://h/p?q=1",
                                  "http://h/p/x#frag", "http://h/p;params/"])
@pytest.mark.parametrize("path", ["/v3/conversations/a%3Apersonal-1/activities", "v3/conversations/x/activities/1",
                                  "/v3/conversations/../activities", "/v3/conversations//activities",
                                  "/v3/conversations/./activities/.", "/v3/a?b", "/v3/a#b", "/v3/a;b", "", "/"])
def test_join_url_is_urljoin(base: str, path: str) -> None:
    from urllib.parse import urljoin

    from bot.sdk.connector import join_url

    assert join_url(base, path) == urljoin(base.rstrip("/") + "/", path.lstrip("/"))
    assert join_url(base, path) == urljoin(base.rstrip("/") + "/", path.lstrip("/"))  # from the cached prefix


@pytest.mark.parametrize("value", ["", "0123456789abcdef", "a:personal-29:1-alex", "1:1_a.b~c-d", "a b/c?d#e%f",
                                   "權益", "é", "x\u2028y", "a:" * 50, "-_.~"])
def test_path_parameters_are_quoted_as_msrest_quotes_them(value: str) -> None:
    from urllib.parse import quote

    from bot.sdk.connector import _quoted

    assert _quoted(value) == quote(value, safe="")
    assert _quoted(value) == quote(value, safe="")  # remembered


def _frozen_card_activity(text: str = "before", conv: str = "a:1") -> tuple[Activity, dict[str, Any]]:
    from bot.sdk.frozen import freeze_json

    plain = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "權益 \"x\" \u2028"}]}
    activity = MessageFactory.attachment(CardFactory.adaptive_card(freeze_json(json.dumps(plain, ensure_ascii=False))))
    activity.attachments.append(CardFactory.adaptive_card({"type": "AdaptiveCard", "body": []}))  # a plain one too
    activity.attachments.append(CardFactory.adaptive_card(freeze_json('{"second": [1, 2.5, null]}')))
    activity.text = text
    activity.conversation = ConversationAccount(id=conv)
    return activity, plain


@pytest.mark.parametrize("text", ["before", '"\\ue000pbb-card-0000000000000000-0"', "\ue000pbb-card-"])
def test_frozen_cards_are_sent_as_their_text(text: str) -> None:
    """The spliced bytes are the JSON msrest would send for the same activity, whatever the text says."""
    from bot.sdk.connector import encode_json

    activity, plain = _frozen_card_activity(text)
    body = serialize_model(activity, "Activity", share=True)
    sent = encode_json(body)
    expected = _SERIALIZE.body(copy.deepcopy(activity), "Activity")  # msrest needs plain dicts (see below)
    assert json.loads(sent) == expected == json.loads(json.dumps(body))
    assert json.loads(sent)["attachments"][0]["content"] == plain and json.loads(sent)["text"] == text
    assert b"pbb-card-" not in sent.replace(json.dumps(text).encode(), b"")


def test_bodies_without_frozen_cards_are_plain_json_dumps() -> None:
    from bot.sdk.connector import encode_json

    for body in ({"text": "x", "attachments": [{"content": {"a": 1}}]}, {"attachments": None}, [1, 2], "x"):
        assert encode_json(body) == json.dumps(body).encode()


async def test_frozen_cards_reach_the_connector_whole(pool: ConnectorPool, fake: RecordingConnector) -> None:
    activity, plain = _frozen_card_activity()
    await client_for(pool, fake).conversations.send_to_conversation("a:1", activity)
    stock = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake.url)
    await stock.conversations.send_to_conversation("a:1", copy.deepcopy(activity))
    ours, theirs = fake.requests
    assert ours["body"] == theirs["body"] and ours["body"]["attachments"][0]["content"] == plain


def test_frozen_cards_reach_msrest_thawed_when_the_fast_path_falls_back() -> None:
    """msrest writes a dict subclass as its ``str()``; the fallback hands it plain copies instead."""
    activity, plain = _frozen_card_activity()
    activity.value = {1: "a key msrest must handle"}  # only msrest knows what to do with it
    for share in (True, False):
        body = serialize_model(activity, "Activity", share=share)
        assert body["attachments"][0]["content"] == plain and type(body["attachments"][0]["content"]) is dict


def test_models_are_filled_in_directly_only_when_their_constructor_just_stores_its_arguments() -> None:
    from msrest.serialization import Model

    from bot.sdk.connector import _blank, deserialize_model

    class Stores(Model):
        _attribute_map = {"a": {"key": "a", "type": "str"}, "b": {"key": "b", "type": "int"}}

        def __init__(self, *, a: Any = None, b: Any = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.a = a
            self.b = b

    class Changes(Stores):
        def __init__(self, *, a: Any = None, b: Any = None, **kwargs: Any) -> None:
            super().__init__(a=(a or "").upper(), b=b, **kwargs)

    assert _blank(Stores, ("a", "b")) == {"additional_properties": None, "a": None, "b": None}
    assert _blank(Changes, ("a", "b")) == {}
    activity = deserialize_model("Activity", {"type": "message", "from": {"id": "29:1", "extra": 1},
                                              "conversation": {"id": "a:1"}, "odd": True})
    assert activity.additional_properties == {"odd": True} and activity.from_property.additional_properties == {
        "extra": 1}
    assert activity.conversation.additional_properties == {} and activity.recipient is None
    assert activity.additional_properties is not activity.conversation.additional_properties


class ClosingConnector(StreamService):
    """A service on loopback that closes the first ``drop`` connections as each request arrives on them
    (its idle timeout firing as the bot reuses a kept-alive connection), and answers on the others."""

    def __init__(self, drop: int, reset: bool = False) -> None:
        self.drop = drop
        self.reset = reset
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line)
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            if number <= self.drop and self.reset:
                # closed with the request unread: the kernel answers the bot with a reset
                self.requests.append((number, await reader.readuntil(b"\r\n")))
                await asyncio.sleep(0.05)
                writer.transport.abort()
                return
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), b"0"))
                await reader.readexactly(length)
                self.requests.append((number, head.split(b"\r\n")[0]))
                if number <= self.drop:
                    break
                body = b'{"id": "reply-1"}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
async def test_a_reply_the_service_dropped_unanswered_is_sent_once_more_on_a_new_connection(
        pool: ConnectorPool, reset: bool) -> None:
    """The Playground (Node) closes a kept-alive connection after 5 s idle; a reply sent on it as it
    closed failed and the person got the bot's apology instead of the welcome card."""
    async with ClosingConnector(drop=1, reset=reset) as service:
        result = await client_for(pool, service).conversations.reply_to_activity("a:1", "act-1", reply("hi"))
    assert result.id == "reply-1"
    assert [number for number, _ in service.requests] == [1, 2]
    assert all(line.startswith(b"POST /v3/conversations/a%3A1/activities/act-1") for _, line in service.requests)


async def test_a_service_that_keeps_dropping_the_reply_fails_it_after_one_more_try(pool: ConnectorPool) -> None:
    async with ClosingConnector(drop=10) as service:
        with pytest.raises(Disconnected):
            await client_for(pool, service).conversations.reply_to_activity("a:1", "act-1", reply("hi"))
    assert len(service.requests) == 2
