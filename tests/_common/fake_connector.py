"""A Bot Connector service on loopback, in its own thread: records what the bot sends.

It answers the calls the SDK makes while replying (send, reply, update activities), the Teams
member lookup (``GET /v3/conversations/{id}/members/{member}``) and conversation creation. Tests
read ``sent`` to see the bot's replies. Served from its own thread and event loop because parts of
the SDK block (see shared/notes/offline-auth.md).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests._common.loopback import LoopbackServer

_CODES = {403: "ConversationBlockedByUser", 404: "ConversationNotFound", 412: "PreconditionFailed",
          429: "TooManyRequests", 503: "ServiceUnavailable"}


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    #: status to answer for sends to a conversation id (e.g. 403 for a blocked user)
    fail: dict[str, int] = field(default_factory=dict)
    #: statuses to answer, in turn, before sends to a conversation succeed (e.g. ``[429, 503]``)
    script: dict[str, list[int]] = field(default_factory=dict)
    #: ``Retry-After`` seconds sent with a scripted 429
    retry_after: str = "0"
    #: every send attempt per conversation, including refused ones
    attempts: dict[str, int] = field(default_factory=dict)
    port: int = 0
    #: largest roster page the fake answers with
    page_size: int = 2
    #: seconds a send takes to be answered, once it is recorded (a request the bot may die waiting on)
    delay: float = 0.0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities", self._send)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply_to}", self._send)
        app.router.add_put("/v3/conversations/{conv}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conv}/members/{member}", self._member)
        app.router.add_get("/v3/conversations/{conv}/pagedmembers", self._paged_members)
        app.router.add_post("/v3/conversations", self._create)
        self._server = LoopbackServer(app).start()
        self.port = self._server.ports[0]
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _send(self, request: web.Request) -> web.Response:
        conv = request.match_info["conv"]
        self.attempts[conv] = self.attempts.get(conv, 0) + 1
        if conv in self.fail:
            code = _CODES.get(self.fail[conv], "ConversationBlockedByUser")
            return web.json_response({"error": {"code": code, "message": code}}, status=self.fail[conv])
        if self.script.get(conv):
            status = self.script[conv].pop(0)
            headers = {"Retry-After": self.retry_after} if status == 429 else {}
            return web.json_response({"error": {"code": _CODES.get(status, "ServiceError"), "message": "scripted"}},
                                     status=status, headers=headers)
        body = await request.json()
        body["_conversation"] = conv
        body["_auth"] = request.headers.get("Authorization", "")
        with self._cond:
            self.sent.append(body)
            self._cond.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"id": uuid.uuid4().hex})

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._cond:
            self.updated.append(body)
            self._cond.notify_all()
        return web.json_response({"id": request.match_info["activity"]})

    async def _paged_members(self, request: web.Request) -> web.Response:
        """The roster in pages of at most ``page_size`` (small, so tests cross page boundaries)."""
        start = int(request.query.get("continuationToken") or 0)
        size = min(int(request.query.get("pageSize") or 200), self.page_size)
        members = list(self.members.values())[start:start + size]
        more = start + size < len(self.members)
        return web.json_response({"members": members, "continuationToken": str(start + size) if more else None})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"a:{uuid.uuid4().hex}"})

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` activities were sent; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.sent) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} activities, got {len(self.sent)}: {self.sent}")
                self._cond.wait(left)
            return list(self.sent)

    def clear(self) -> None:
        with self._cond:
            self.sent.clear()
            self.updated.clear()
