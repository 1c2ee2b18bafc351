"""The answer to a file offered (``fileConsent/invoke``) is read strictly: only an accept or decline of
a file the bot offered, with an upload place over HTTPS (plain HTTP to this machine only)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.files import consent_card, read_answer, uploadable
from dialogs.actions import FileResult
from tests._common.harness import ALEX, BotClient

CONTEXT = {"verb": "export_visual_studio", "data": {"page": 1}}
INFO = {"name": "a.csv", "uploadUrl": "https://contoso-my.sharepoint.com/upload?x=1",
        "contentUrl": "https://contoso-my.sharepoint.com/a.csv", "uniqueId": "u1", "fileType": "csv"}


def test_the_consent_card_names_the_file_and_brings_the_verb_back() -> None:
    card = consent_card("export_visual_studio", {"action": "export_visual_studio", "page": 1},
                        FileResult("a.csv", b"abc", "three bytes"))
    assert card.content_type == "application/vnd.microsoft.teams.card.file.consent" and card.name == "a.csv"
    assert card.content == {"description": "three bytes", "sizeInBytes": 3, "acceptContext": CONTEXT,
                            "declineContext": CONTEXT}


def test_an_accept_is_read() -> None:
    answer = read_answer({"type": "fileUpload", "action": "accept", "context": CONTEXT, "uploadInfo": INFO})
    assert answer is not None and answer.accepted and answer.verb == "export_visual_studio"
    assert (answer.upload_url, answer.unique_id, answer.data) == (INFO["uploadUrl"], "u1", {"page": 1})
    declined = read_answer({"action": "decline", "context": CONTEXT})
    assert declined is not None and not declined.accepted


@pytest.mark.parametrize("value", [
    None, "accept", [], {}, {"action": "maybe", "context": CONTEXT}, {"action": "accept", "context": CONTEXT},
    {"action": "accept", "context": {"verb": 3}, "uploadInfo": INFO}, {"action": "decline", "context": "x"},
    {"action": "accept", "context": CONTEXT, "uploadInfo": {**INFO, "uploadUrl": "http://evil.example/put"}},
    {"action": "accept", "context": CONTEXT, "uploadInfo": {**INFO, "uploadUrl": "file:///etc/passwd"}},
    {"action": "accept", "context": CONTEXT, "uploadInfo": {**INFO, "uniqueId": 5}},
])
def test_anything_else_is_not_an_answer(value: Any) -> None:
    assert read_answer(value) is None


def test_uploads_go_over_https_or_to_this_machine() -> None:
    assert uploadable("https://contoso-my.sharepoint.com/x")
    assert uploadable("http://127.0.0.1:8080/put") and uploadable("http://localhost/put")
    assert not uploadable("http://contoso.com/x") and not uploadable("ftp://127.0.0.1/x") and not uploadable("https://")


@pytest.mark.parametrize("value", [{"action": "accept", "context": CONTEXT}, {"action": "decline", "context": 5},
                                   {"action": ["x"]}, "accept"])
async def test_an_answer_the_bot_cannot_read_is_a_400_not_a_failed_turn(bot: BotClient, value: Any) -> None:
    status, _ = await bot.post(bot.activity(ALEX, type="invoke", name="fileConsent/invoke", value=value))
    assert status == 400
