"""An async driver for the Agents Playground's HTTP and WebSocket routes: Teams without a browser.

It clicks and types as the Playground's own UI does (install, messages, ``Action.Submit``,
``Action.Execute``), and reads what the bot says from the conversation stream, proactive messages
included. ``custom()`` sends any activity, the only way to speak another locale than en-US.

Every action sets a cursor; ``expect()`` waits for a bot message after the latest action, so a test
reads as the conversation: ``await pg.say("help"); card = await pg.expect(card="What I can do")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector, WSMsgType

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def all_text(value: Any) -> str:
    """Every string a person would read in a card (or any JSON)."""
    if isinstance(value, dict):
        return " ".join(all_text(v) for k, v in value.items() if k not in ("type", "id", "verb", "$schema"))
    if isinstance(value, list):
        return " ".join(all_text(v) for v in value)
    return value if isinstance(value, str) else ""


@dataclass
class Message:
    """A bot message as the Playground shows it (``createMessage``/``updateMessage``)."""

    action: str
    conversation_id: str
    id: str
    text: str
    cards: list[dict[str, Any]]

    @property
    def card(self) -> dict[str, Any]:
        assert self.cards, f"message {self.id} has no card: {self.text!r}"
        return self.cards[0]

    @property
    def all_text(self) -> str:
        return " ".join([self.text, *(all_text(c) for c in self.cards)])


class Playground:
    """One connection to a running Playground; use ``await Playground.connect(url)``."""

    def __init__(self, base: str, session: ClientSession, config: dict[str, Any]) -> None:
        self.base = base
        self.session = session
        self.config = config
        self.messages: list[Message] = []
        self.cursor = 0
        self.conversation_id: str = config["personalChat"]["id"]
        self._changed = asyncio.Condition()
        self._ws: ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    # --- set-up --------------------------------------------------------------------------------
    @classmethod
    async def connect(cls, base: str) -> Playground:
        # A new connection per request: Node closes idle keep-alive connections after 5 s, and a
        # request sent on one just as it closes fails with "Server disconnected" (seen in CI after
        # a module spent longer than that launching Chromium).
        session = ClientSession(connector=TCPConnector(force_close=True))
        async with session.get(f"{base}/_internal/v1/testConfig") as resp:
            resp.raise_for_status()
            config = (await resp.json())["config"]
        pg = cls(base, session, config)
        pg._ws = await session.ws_connect(base.replace("http", "ws", 1) + "/_ws_conversation/v1/conversations/stream")
        pg._reader = asyncio.create_task(pg._read())
        return pg

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        await self.session.close()

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != WSMsgType.TEXT:
                continue
            event = json.loads(frame.data)
            if event.get("action") not in ("createMessage", "updateMessage"):
                continue
            raw = event.get("message") or {}
            cards = [a.get("content") or {} for a in raw.get("attachments") or []
                     if a.get("contentType") == ADAPTIVE_CARD]
            message = Message(event["action"], event.get("actionConversationId", ""), str(raw.get("messageId", "")),
                              raw.get("text") or "", cards)
            async with self._changed:
                self.messages.append(message)
                self._changed.notify_all()

    # --- who and where ---------------------------------------------------------------------------
    @property
    def me(self) -> str:
        return self.config["currentUser"]["id"]

    @property
    def bot_id(self) -> str:
        return self.config["bot"]["id"]

    @property
    def bot_name(self) -> str:
        return self.config["bot"]["name"]

    @property
    def personal_chat(self) -> str:
        return self.config["personalChat"]["id"]

    @property
    def group_chat(self) -> str:
        return self.config["groupChats"][0]["id"]

    def user(self, name: str) -> str:
        """A mocked user's id by display name (``"Lee Gu"``)."""
        people = [self.config["currentUser"], *self.config["users"]]
        return next(p["id"] for p in people if p["name"] == name)

    def _start(self, conversation: str | None) -> str:
        self.cursor = len(self.messages)
        self.conversation_id = conversation or self.personal_chat
        return self.conversation_id

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.session.post(f"{self.base}{path}", json=body) as resp:
            text = await resp.text()
            assert resp.status == 200, f"POST {path} answered {resp.status}: {text[:500]}"
            return json.loads(text) if text.strip().startswith(("{", "[")) else text

    # --- what a person does ------------------------------------------------------------------------
    async def install(self, conversation: str | None = None) -> None:
        """Add the app: the Playground sends ``installationUpdate`` and ``conversationUpdate``."""
        conv = self._start(conversation)
        await self._post(f"/_debug/conversation/{conv}/installation", {})

    async def say(self, text: str, conversation: str | None = None, user: str | None = None,
                  mention: bool | None = None) -> str:
        """Type a message; in a group chat or channel the bot is @mentioned (it only hears mentions there)."""
        conv = self._start(conversation)
        body: dict[str, Any] = {"from": {"id": user or self.me}, "text": text, "textFormat": "plain"}
        if mention or (mention is None and conv != self.personal_chat):
            at = f"<at>{self.bot_name}</at>"
            body["text"] = f"{at} {text}"
            body["mentions"] = [{"mentioned": {"id": self.bot_id, "name": self.bot_name}, "text": at}]
        answer = await self._post(f"/_conversation/v1/conversations/{conv}/messages", body)
        return str(answer["messageId"])

    async def submit(self, card: Message, data: dict[str, Any], user: str | None = None) -> None:
        """Click an ``Action.Submit`` (or the fallback of an Execute) on the card of ``card``."""
        conv = self._start(card.conversation_id)
        await self._post("/_conversation/v1/submit", {"conversation": {"id": conv}, "from": {"id": user or self.me},
                                                      "replyToId": card.id, "value": data})

    async def execute(self, card: Message, verb: str, data: dict[str, Any] | None = None,
                      user: str | None = None) -> dict[str, Any]:
        """Click an ``Action.Execute``: returns the card the bot answered with (it replaces the clicked one)."""
        conv = self._start(card.conversation_id)
        body = await self._post("/_conversation/v1/invoke", {
            "name": "adaptiveCard/action", "conversation": {"id": conv}, "from": {"id": user or self.me},
            "replyToId": card.id,
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": {"action": verb, **(data or {})}},
                      "trigger": "manual"}})
        response = body.get("body", body) if isinstance(body, dict) else {}
        # the Playground answers the invoke response's body without its statusCode (502 when the bot failed)
        assert response.get("statusCode", 200) == 200, f"invoke {verb}: {body}"
        return response.get("value") or {} if response.get("type") == ADAPTIVE_CARD else {}

    async def click(self, card: Message, title: str, user: str | None = None) -> dict[str, Any]:
        """Click the button titled ``title`` on a card, as its JSON says (Execute or Submit)."""
        found = _find_action(card.cards, title)
        assert found is not None, f"no button {title!r} on the card: {all_text(card.cards)[:300]}"
        if found.get("type") == "Action.Execute":
            return await self.execute(card, found["verb"], dict(found.get("data") or {}), user=user)
        await self.submit(card, dict(found.get("data") or {}), user=user)
        return {}

    async def custom(self, activity: dict[str, Any], conversation: str | None = None) -> None:
        """Send any activity (the Playground's template filled with ``activity``) as it is."""
        conv = self._start(conversation)
        async with self.session.get(f"{self.base}/_internal/v1/customActivities/template",
                                    params={"conversationId": conv}) as resp:
            resp.raise_for_status()
            template = await resp.json()
        template.update({"id": str(uuid.uuid4()), **activity})
        await self._post("/_internal/v1/customActivities", template)

    async def say_in(self, locale: str, text: str, conversation: str | None = None,
                     sender: dict[str, str] | None = None) -> None:
        """A message from a Teams client running in ``locale`` (zh-CN, zh-TW, ...), optionally from
        another member (``{"id", "name"}``): the Playground's own routes always speak as its current user."""
        activity = {"type": "message", "text": text, "textFormat": "plain", "locale": locale,
                    "entities": [{"type": "clientInfo", "locale": locale}]}
        if sender:
            activity["from"] = sender
        await self.custom(activity, conversation)

    # --- what the bot says ---------------------------------------------------------------------------
    async def expect(self, text: str | None = None, *, card: str | None = None, timeout: float = 10.0,  # noqa: ASYNC109
                     conversation: str | None = None) -> Message:
        """The first bot message after the latest action (in its conversation) that contains ``text``
        (anywhere) or a card containing ``card``; fails with what the bot did say."""
        conv = conversation or self.conversation_id

        def match() -> Message | None:
            for m in self.messages[self.cursor:]:
                if m.conversation_id != conv:
                    continue
                if card is not None and not any(card in all_text(c) for c in m.cards):
                    continue
                if text is not None and text not in m.all_text:
                    continue
                return m
            return None

        try:
            async with self._changed:
                return await asyncio.wait_for(self._changed.wait_for(match), timeout)
        except TimeoutError:
            said = [m.all_text[:200] for m in self.messages[self.cursor:] if m.conversation_id == conv]
            raise AssertionError(f"the bot did not say {text or card!r} within {timeout} s; it said: {said}") from None

    def said_since(self, conversation: str | None = None) -> list[Message]:
        conv = conversation or self.conversation_id
        return [m for m in self.messages[self.cursor:] if m.conversation_id == conv]


def _find_action(value: Any, title: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith("Action.") and value.get("title") == title:
            return value
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find_action(item, title)
            if found is not None:
                return found
    return None
