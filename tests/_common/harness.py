"""Drive the real aiohttp app over HTTP on loopback, the way the Teams channel does."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from bot.app import create_app
from bot.settings import Settings
from tests._common.fake_connector import FakeConnector

ALEX = {"id": "29:1-alex-wilber", "name": "Alex Wilber", "aadObjectId": "00000000-0000-0000-0000-0000000000a1"}
MEGAN = {"id": "29:1-megan-bowen", "name": "Megan Bowen", "aadObjectId": "00000000-0000-0000-0000-0000000000a2"}
LEE = {"id": "29:1-lee-gu", "name": "Lee Gu", "aadObjectId": "00000000-0000-0000-0000-0000000000a3"}
NESTOR = {"id": "29:1-nestor-wilke", "name": "Nestor Wilke", "aadObjectId": "00000000-0000-0000-0000-0000000000a4"}
ISAIAH = {"id": "29:1-isaiah-langer", "name": "Isaiah Langer", "aadObjectId": "00000000-0000-0000-0000-0000000000a5"}
DIEGO = {"id": "29:1-diego-siciliani", "name": "Diego Siciliani",
         "aadObjectId": "00000000-0000-0000-0000-0000000000a6"}
BOT = {"id": "28:bot", "name": "Partner Benefits"}


def bot_settings(data_dir: Any, **overrides: str) -> Settings:
    values = {"DATA_DIR": str(data_dir), "PORT": "0", "LOG_LEVEL": "WARNING", "SEED_DEMO": "true", **overrides}
    return Settings.from_mapping(values)


@dataclass
class BotClient:
    """Posts activities to ``/api/messages`` and reads replies at the fake connector."""

    base: str
    connector: FakeConnector
    session: ClientSession
    locale: str = "en-US"
    headers: dict[str, str] = field(default_factory=dict)
    #: the running aiohttp application (its collaborators are under ``bot.keys``)
    app: Any = None

    @property
    def service(self) -> Any:
        from bot import keys

        return self.app[keys.SERVICE]

    def activity(self, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        conv = fields.pop("conversation_id", f"a:personal-{user['id']}")
        return {
            "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": self.connector.url,
            "from": user, "recipient": BOT, "locale": self.locale,
            "conversation": {"id": conv, "conversationType": "personal", "tenantId": "t1"},
            "channelData": {"tenant": {"id": "t1"}}, **fields,
        }

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with self.session.post(f"{self.base}/api/messages", json=activity, headers=self.headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            return resp.status, body

    async def say(self, user: dict[str, Any], text: str, **fields: Any) -> list[dict[str, Any]]:
        """Send a message; return the activities the bot sent in reply."""
        before = len(self.connector.sent)
        status, _ = await self.post(self.activity(user, text=text, **fields))
        assert status in (200, 201), status
        return self.connector.sent[before:]

    async def submit(self, user: dict[str, Any], data: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
        before = len(self.connector.sent)
        status, _ = await self.post(self.activity(user, value=data, **fields))
        assert status in (200, 201), status
        return self.connector.sent[before:]

    async def execute(self, user: dict[str, Any], verb: str, data: dict[str, Any] | None = None,
                      **fields: Any) -> tuple[int, Any, list[dict[str, Any]]]:
        """An ``Action.Execute`` click: returns (status, invoke body, other activities sent)."""
        before = len(self.connector.sent)
        activity = self.activity(user, type="invoke", name="adaptiveCard/action", value={
            "action": {"type": "Action.Execute", "verb": verb, "data": {"action": verb, **(data or {})}},
            "trigger": "manual"}, **fields)
        status, body = await self.post(activity)
        return status, body, self.connector.sent[before:]


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, connector: FakeConnector, session: ClientSession | None = None,
                      **client: Any) -> AsyncIterator[BotClient]:
    """The bot app of ``settings`` serving on loopback and a client of it (on ``session``, or on a
    session of its own); the app stops on leaving."""
    runner, base = await start_bot(settings)
    try:
        if session is not None:
            yield BotClient(base, connector, session, app=runner.app, **client)
        else:
            async with ClientSession() as own:
                yield BotClient(base, connector, own, app=runner.app, **client)
    finally:
        await runner.cleanup()


@dataclass
class App:
    """A bot client with the service behind it at hand (to arrange a state, or check what was stored)."""

    client: BotClient
    service: Any


async def start_bot(settings: Settings) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def cards_in(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a["content"] for act in activities for a in act.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


def texts_in(activities: list[dict[str, Any]]) -> list[str]:
    return [a.get("text") or "" for a in activities if a.get("text")]


def all_text(card: Any) -> str:
    """Every string in a card, for assertions on what a person would read."""
    if isinstance(card, dict):
        return " ".join(all_text(v) for k, v in card.items() if k not in ("type", "id", "verb"))
    if isinstance(card, list):
        return " ".join(all_text(v) for v in card)
    return card if isinstance(card, str) else ""
