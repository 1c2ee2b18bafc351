"""A failing turn is logged with its activity id and answered with a localized apology; logs hold no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import keys
from bot.logs import JsonFormatter, configure_logging, redact_text
from bot.settings import Settings
from dialogs.actions import Phrases, Workflow
from tests._common.harness import LEE, BotClient, texts_in


@pytest.fixture
def broken_action(bot: BotClient) -> Iterator[None]:
    async def explode(turn, data):
        raise RuntimeError("database on fire: SECRET-DETAIL")

    bot.app[keys.WORKFLOWS].add(Workflow("explode", explode, phrases=Phrases(en_US=("explode",))))
    yield


async def test_turn_error_is_apologized_for_in_the_users_language(
        bot: BotClient, broken_action: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        replies = await bot.say(LEE, "explode", id="act-123")
    text = " ".join(texts_in(replies))
    assert "Sorry, something went wrong" in text and "SECRET-DETAIL" not in text and "Traceback" not in text
    failed = [r for r in caplog.records if r.getMessage() == "turn failed"]
    assert failed and failed[0].activity_id == "act-123"
    await bot.say(LEE, "language zh-TW")
    replies = await bot.say(LEE, "explode")
    assert "抱歉" in " ".join(texts_in(replies))


async def test_invoke_errors_answer_with_an_apology_without_details(bot: BotClient, broken_action: None) -> None:
    status, body, sent = await bot.execute(LEE, "explode")
    assert status == 200 and "Sorry, something went wrong" in body["value"]
    assert "SECRET-DETAIL" not in json.dumps(body) and not sent


def test_json_logs_redact_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig and key ABCDE-12345-FGHIJ-67890-KLMNO",
                       extra={"password": "hunter2", "app_id": "visible", "nested": {"client_secret": "s3"}})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert "hunter2" not in stream.getvalue() and "s3" not in json.dumps(entry["nested"])
    assert "eyJ" not in entry["msg"] and "ABCDE-12345" not in entry["msg"]
    assert entry["app_id"] == "visible" and entry["level"] == "WARNING"


def test_redact_text_keeps_ordinary_words() -> None:
    assert redact_text("assigned Visual Studio to Lee") == "assigned Visual Studio to Lee"


def test_settings_summary_never_shows_secrets() -> None:
    settings = Settings.from_mapping({"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw-123",
                                      "ACTIVATIONS_SECRET": "act-456"})
    text = json.dumps(settings.safe_summary()) + repr(settings)
    assert "pw-123" not in text and "act-456" not in text and settings.auth_enabled


def test_settings_defaults() -> None:
    settings = Settings.from_mapping({})
    assert (settings.port, str(settings.data_dir), settings.app_type, settings.auth_enabled) == (
        3978, "data", "SingleTenant", False)


def test_configure_logging_is_idempotent() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        configure_logging("INFO")
        assert len(root.handlers) == 1
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
