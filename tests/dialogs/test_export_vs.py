"""Exporting the Visual Studio assignments: a CSV file offered through Teams' file consent in the 1:1
chat, uploaded with HTTP PUT to a real local server once accepted, Global admins only."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from dialogs.export_vs import csv_bytes, safe_cell
from tests._common.harness import ALEX, ISAIAH, LEE, BotClient, all_text, cards_in, texts_in

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
INFO = "application/vnd.microsoft.teams.card.file.info"
FORMULA_NAME = '=HYPERLINK("https://evil.example","Open")'


class Drive:
    """A local stand-in for the OneDrive upload session: keeps what each PUT brought."""

    def __init__(self) -> None:
        self.puts: list[tuple[bytes, dict[str, str]]] = []
        self.status = 201
        self.url = ""

    async def put(self, request: web.Request) -> web.Response:
        self.puts.append((await request.read(), dict(request.headers)))
        return web.json_response({"id": "file-1", "name": "x.csv"}, status=self.status)


@pytest.fixture
async def drive() -> AsyncIterator[Drive]:
    state = Drive()
    app = web.Application()
    app.router.add_put("/upload/{name}", state.put)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/upload/visual-studio.csv"
    yield state
    await runner.cleanup()


@pytest.fixture
async def assigned(bot: BotClient) -> BotClient:
    """Two Visual Studio seats held, one by someone whose name a spreadsheet would run."""
    service = bot.service
    alex = service.repo.person(ALEX["aadObjectId"])
    formula = await service.add_person(alex, FORMULA_NAME, "formula@contoso.com")
    await service.assign(alex, "vs-enterprise", LEE["aadObjectId"])
    await service.assign(alex, "vs-professional", formula.id)
    return bot


def consent_cards(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for act in activities for a in act.get("attachments") or [] if a["contentType"] == CONSENT]


def answer(bot: BotClient, user: dict[str, Any], card: dict[str, Any], action: str, url: str) -> dict[str, Any]:
    """The ``fileConsent/invoke`` Teams sends when the person acts on the consent card."""
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": card["content"][f"{action}Context"]}
    if action == "accept":
        value["uploadInfo"] = {"name": card["name"], "uploadUrl": url, "uniqueId": "u-1", "fileType": "csv",
                               "contentUrl": "https://contoso-my.sharepoint.com/personal/alex/x.csv"}
    return bot.activity(user, type="invoke", name="fileConsent/invoke", value=value)


def rows_of(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_a_global_admin_gets_the_csv_after_accepting(assigned: BotClient, drive: Drive) -> None:
    bot = assigned
    sent = await bot.say(ALEX, "export visual studio")
    (card,) = consent_cards(sent)
    assert card["name"].startswith("visual-studio-assignments-") and card["name"].endswith(".csv")
    assert "2 rows" in card["content"]["description"] and drive.puts == []  # nothing leaves before consent

    before = len(bot.connector.sent)
    status, _ = await bot.post(answer(bot, ALEX, card, "accept", drive.url))
    assert status == 200
    (content, headers), = drive.puts
    assert card["content"]["sizeInBytes"] == len(content)
    assert headers["Content-Range"] == f"bytes 0-{len(content) - 1}/{len(content)}"
    rows = rows_of(content)
    assert rows[0] == ["Subscription", "Name", "Email", "Status", "Assigned on", "Expires on"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Lee Gu"][0].startswith("Visual Studio") and by_name["Lee Gu"][2] == "leeg@contoso.com"
    assert by_name["'" + FORMULA_NAME][2] == "formula@contoso.com"  # shown, never run as a formula
    info = [a for act in bot.connector.sent[before:] for a in act.get("attachments") or [] if a["contentType"] == INFO]
    assert info == [{"contentType": INFO, "name": card["name"],
                     "contentUrl": "https://contoso-my.sharepoint.com/personal/alex/x.csv",
                     "content": {"uniqueId": "u-1", "fileType": "csv"}}]


async def test_the_menu_offers_it_to_global_admins_only(bot: BotClient) -> None:
    assert "Export Visual Studio assignments" in all_text(cards_in(await bot.say(ALEX, "help"))[0])
    for user in (ISAIAH, LEE):
        assert "Export Visual Studio" not in all_text(cards_in(await bot.say(user, "help"))[0])


async def test_declining_uploads_nothing_and_says_so(assigned: BotClient, drive: Drive) -> None:
    bot = assigned
    bot.locale = "zh-TW"
    (card,) = consent_cards(await bot.say(ALEX, "匯出 visual studio 訂閱"))
    before = len(bot.connector.sent)
    status, _ = await bot.post(answer(bot, ALEX, card, "decline", drive.url))
    assert status == 200 and drive.puts == []
    assert texts_in(bot.connector.sent[before:]) == ["好的，我沒有傳送該檔案。需要時請再詢問我。"]


async def test_the_file_is_in_the_persons_language(assigned: BotClient, drive: Drive) -> None:
    bot = assigned
    bot.locale = "zh-CN"
    (card,) = consent_cards(await bot.say(ALEX, "导出 visual studio 订阅"))
    await bot.post(answer(bot, ALEX, card, "accept", drive.url))
    assert rows_of(drive.puts[0][0])[0][:3] == ["订阅", "姓名", "电子邮件"]


@pytest.mark.parametrize("kind", ["groupChat", "channel"])
async def test_a_shared_chat_is_refused_and_nothing_is_offered(assigned: BotClient, kind: str) -> None:
    bot = assigned
    activity = bot.activity(ALEX, conversation_id="19:shared@thread.v2", text="export visual studio")
    activity["conversation"]["conversationType"] = kind
    before = len(bot.connector.sent)
    status, _ = await bot.post(activity)
    sent = bot.connector.sent[before:]
    assert status in (200, 201) and not consent_cards(sent)
    assert "only in your own chat" in " ".join(texts_in(sent))
    assert "leeg@contoso.com" not in str(sent)


async def test_people_who_are_not_global_admins_are_refused(assigned: BotClient, drive: Drive) -> None:
    bot = assigned
    for user in (ISAIAH, LEE):  # a User admin, an employee
        sent = await bot.say(user, "export visual studio")
        assert not consent_cards(sent) and "need to be the global admin" in " ".join(texts_in(sent))
    (card,) = consent_cards(await bot.say(ALEX, "export vs"))
    before = len(bot.connector.sent)
    status, _ = await bot.post(answer(bot, LEE, card, "accept", drive.url))  # a forged answer: checked again
    assert status == 200 and drive.puts == []
    assert "need to be the global admin" in " ".join(texts_in(bot.connector.sent[before:]))


async def test_a_failed_upload_is_said(assigned: BotClient, drive: Drive) -> None:
    bot = assigned
    drive.status = 500
    (card,) = consent_cards(await bot.say(ALEX, "export visual studio"))
    before = len(bot.connector.sent)
    await bot.post(answer(bot, ALEX, card, "accept", drive.url))
    sent = bot.connector.sent[before:]
    assert len(drive.puts) == 1 and "couldn't upload" in " ".join(texts_in(sent))
    assert not [a for act in sent for a in act.get("attachments") or [] if a["contentType"] == INFO]


async def test_nothing_assigned_is_said_without_a_file(bot: BotClient) -> None:
    sent = await bot.say(ALEX, "export visual studio")
    assert not consent_cards(sent) and "nothing to export" in " ".join(texts_in(sent))


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert rows_of(csv_bytes([[value]])) == [["'" + value]]


@pytest.mark.parametrize("value", ["Lee Gu", "a=b", "李 雷", "", "'quoted"])
def test_other_cells_are_kept(value: str) -> None:
    assert safe_cell(value) == value
