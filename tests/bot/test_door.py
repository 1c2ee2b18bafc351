"""The door of /api/messages: malformed activities are a 400 with a reason, over HTTP to the real app."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot import keys
from bot.door import MAX_BODY, Refused, ServiceUrls, parse_json
from tests._common.harness import ALEX, LEE, BotClient, cards_in, texts_in


def deep(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


async def post_raw(bot: BotClient, body: bytes | str, content_type: str = "application/json") -> tuple[int, Any]:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    async with bot.session.post(f"{bot.base}/api/messages", data=data, headers={"Content-Type": content_type}) as resp:
        payload = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, payload


def with_field(bot: BotClient, path: str, value: Any, text: str = "help") -> dict[str, Any]:
    activity = json.loads(json.dumps(bot.activity(LEE, text=text)))  # LEE itself stays as it is
    holder = activity
    keys = path.split(".")
    for key in keys[:-1]:
        holder = holder[key]
    if value is _MISSING:
        holder.pop(keys[-1], None)
    else:
        holder[keys[-1]] = value
    return activity


_MISSING = object()

MALFORMED = [
    ("from", "x"), ("attachments", "x"), ("membersAdded", "x"), ("timestamp", "not-a-date"),
    ("from", _MISSING), ("conversation", _MISSING), ("serviceUrl", _MISSING), ("serviceUrl", "garbage"),
    ("serviceUrl", "http://[::1"), ("from.id", ""), ("from.properties", deep(600)), ("conversation.id", 5),
    ("entities", [1]), ("membersAdded", [{"id": 5}]), ("channelData", {"tenant": "x"}), ("type", ["message"]),
    ("localTimestamp", "2026-13-45T99:00:00Z"), ("recipient", []), ("conversation.isGroup", "yes"),
    ("conversation.tenantId", True), ("membersAdded", [{"name": "no id"}]),
]


@pytest.mark.parametrize(("path", "value"), MALFORMED, ids=[f"{p}={str(v)[:20]}" for p, v in MALFORMED])
async def test_a_malformed_activity_is_a_400_with_a_reason(bot: BotClient, path: str, value: Any,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    status, body = await post_raw(bot, json.dumps(with_field(bot, path, value)))
    assert status == 400, body
    assert isinstance(body, dict) and body["error"] and len(body["error"]) < 200
    assert not bot.connector.sent and "Traceback" not in caplog.text
    assert not any(r.exc_info for r in caplog.records)


LONE = "\ud800"
RAW_BODIES = {
    "900 deep": '{"type": "message", "value": ' + "[" * 900 + "]" * 900 + "}",
    "[ x 5000": "[" * 5000,
    "5000-digit integer": '{"type": "message", "value": {"page": ' + "9" * 5000 + "}}",
    "NaN": '{"type": "message", "value": {"page": NaN}}',
    "Infinity": '{"type": "message", "value": {"action": "users", "page": Infinity}}',
    "1e999": '{"type": "message", "value": {"page": 1e999}}',
    "invalid UTF-8": b'{"type": "message", "text": "\xff\xfe"}',
    "not JSON": "{not json",
    "not an object": "[1, 2]",
}


@pytest.mark.parametrize("name", list(RAW_BODIES))
async def test_bodies_the_parser_cannot_hold_are_a_400(bot: BotClient, name: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    status, body = await post_raw(bot, RAW_BODIES[name])
    assert status == 400, body
    assert body["error"]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("path", ["from.name", "locale", "conversation.id", "from.id", "serviceUrl"])
async def test_lone_surrogates_in_protocol_fields_are_a_400(bot: BotClient, path: str) -> None:
    activity = with_field(bot, path, "x" + LONE + "y")
    status, body = await post_raw(bot, json.dumps(activity))  # json escapes it as \\ud800
    assert status == 400 and "Unicode" in body["error"]
    assert (await bot.say(LEE, "help"))  # and nothing of it was stored: the next turn is answered


async def test_a_lone_surrogate_in_what_a_person_typed_is_replaced(bot: BotClient) -> None:
    before = len(bot.connector.sent)
    status, _ = await post_raw(bot, json.dumps(with_field(bot, "text", "help" + LONE)))
    assert status in (200, 201)
    replies = bot.connector.wait_for(before + 1)[before:]
    assert texts_in(replies) or cards_in(replies)
    assert "went wrong" not in " ".join(texts_in(replies))


async def test_a_body_larger_than_teams_sends_is_a_413(bot: BotClient) -> None:
    activity = with_field(bot, "text", "x" * (MAX_BODY + 1))
    status, body = await post_raw(bot, json.dumps(activity))
    assert status == 413 and body["error"]


async def test_a_wrong_content_type_is_a_415(bot: BotClient) -> None:
    status, _ = await post_raw(bot, json.dumps(bot.activity(LEE, text="help")), content_type="text/plain")
    assert status == 415


async def test_a_deeply_nested_sender_cannot_lock_anyone_out(bot: BotClient) -> None:
    """The ``from.properties`` 600 deep that used to be stored in the reference is refused at the door,
    and the person's next turns are answered."""
    status, _ = await post_raw(bot, json.dumps(with_field(bot, "from.properties", deep(600))))
    assert status == 400
    assert cards_in(await bot.say(LEE, "help"))
    assert cards_in(await bot.say(LEE, "help"))


async def test_a_service_url_nobody_vouches_for_is_refused_with_auth_off(bot: BotClient) -> None:
    activity = with_field(bot, "serviceUrl", "https://smba.evil.example/")
    status, body = await post_raw(bot, json.dumps(activity))
    assert status == 403 and "ALLOWED_SERVICE_URLS" in body["error"]
    assert not bot.connector.sent
    book = bot.app[keys.BOT].conversations
    assert book.reference("00000000-0000-0000-0000-0000000000a3") is None  # nothing points elsewhere


def test_service_urls_allowed_by_the_setting() -> None:
    urls = ServiceUrls.from_setting("https://smba.trafficmanager.net/amer/, https://smba.infra.gcc.teams.microsoft.com")
    assert urls.permits("http://127.0.0.1:5/") and urls.permits("http://[::1]:5/")
    assert urls.permits("http://localhost:3978/")
    assert urls.permits("https://smba.trafficmanager.net/amer/")
    assert urls.permits("https://smba.trafficmanager.net/amer")
    assert urls.permits("https://SMBA.infra.gcc.teams.microsoft.com/x/")
    assert not urls.permits("https://smba.trafficmanager.net/emea/")
    assert not urls.permits("https://smba.trafficmanager.net.evil.example/amer/")
    assert not urls.permits("https://evil.example/")
    with pytest.raises(Refused):
        urls.check("https://evil.example/", {})
    with pytest.raises(Refused):
        urls.check("https://evil.example/", {"serviceurl": "https://smba.trafficmanager.net/amer/"})
    urls.check("https://smba.trafficmanager.net/emea/", {"serviceurl": "https://smba.trafficmanager.net/emea/"})


def test_the_parser_is_bounded_without_recursion() -> None:
    for body in (b"[" * 100_000, b'{"a":' * 100_000, b'"' + b"\\\"" * 50_000 + b'"'):
        try:
            parse_json(body)
        except Refused as refused:
            assert refused.status == 400
    assert parse_json(b'{"s": "' + b"[" * 52 + b'"}') == {"s": "[" * 52}  # brackets inside strings do not count


async def test_a_normal_turn_still_works(bot: BotClient) -> None:
    assert cards_in(await bot.say(ALEX, "help"))


GARBAGE = ("x", [1], {"a": 1}, 1.5, -3, True, 10**18, "")
DATA_KEYS = ("page", "benefit_id", "person_id", "roles", "new_roles", "locale", "argument", "request_id", "package_id",
             "target", "field", "mode", "category", "subject_id", "input", "new_name", "new_email", "assignment_id",
             "decision", "confirm", "note", "phase", "topic", "description", "alternate_email")


async def test_real_verbs_with_garbage_data_never_get_the_apology(bot: BotClient,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Every verb, clicked with every data field of a wrong type: a refusal or a card, never a failed turn."""
    from dialogs.registry import Workflows

    for verb in sorted(Workflows.load()):
        for value in GARBAGE:
            status, body, sent = await bot.execute(ALEX, verb, dict.fromkeys(DATA_KEYS, value))
            assert status == 200, (verb, value, body)
            said = " ".join(texts_in(sent)) + json.dumps(body)
            assert "went wrong" not in said, (verb, value)
    assert "turn failed" not in caplog.text


@pytest.mark.parametrize("body", [
    '{"action": "users", "page": Infinity}', '{"action": "users", "page": NaN}',
    '{"action": "overview", "page": 1e999}', '{"action": "users", "page": -Infinity}',
])
async def test_non_finite_numbers_in_card_data_are_a_400(bot: BotClient, body: str) -> None:
    activity = json.dumps(bot.activity(ALEX, value={"x": 1})).replace('{"x": 1}', body)
    status, answer = await post_raw(bot, activity)
    assert status == 400 and "number" in answer["error"]
    assert not bot.connector.sent


@pytest.mark.parametrize("value", [{"action": []}, {"action": {}}, {"action": [1]}, {"action": "users", "page": "x"},
                                   {"action": "users", "page": [2]}, {"action": 5}])
async def test_submits_with_garbage_verbs_are_answered_without_the_apology(bot: BotClient, value: Any) -> None:
    replies = await bot.submit(ALEX, value)
    assert replies and "went wrong" not in " ".join(texts_in(replies))


async def test_a_compressed_body_is_a_415_on_the_serving_runner(
        connector: Any, data_dir: Any, caplog: pytest.LogCaptureFixture) -> None:
    """``python -m bot serve`` runs the app on ``GuardedRunner``: it too reads bodies as they come
    (the app's ``auto_decompress=False``), so junk claiming gzip is a 415 and never a traceback."""
    from aiohttp import ClientSession, web

    from bot.app import create_app
    from bot.logs import RateLimitedLog
    from bot.server import GuardedRunner, ServerLimits
    from tests._common.harness import bot_settings

    runner = GuardedRunner(create_app(bot_settings(data_dir)), ServerLimits(),
                           RateLimitedLog(logging.getLogger("test.door"), "closed"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        activity = {"type": "message", "text": "help", "from": LEE, "conversation": {"id": "a:1"},
                    "serviceUrl": connector.url}
        async with ClientSession() as session:
            for _ in range(3):  # the connection stays usable
                async with session.post(f"http://127.0.0.1:{port}/api/messages", data=json.dumps(activity).encode(),
                                        headers={"Content-Type": "application/json",
                                                 "Content-Encoding": "gzip"}) as resp:
                    assert resp.status == 415
    finally:
        await runner.cleanup()
    assert "Traceback" not in caplog.text and "Unhandled exception" not in caplog.text
