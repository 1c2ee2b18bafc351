"""An aiohttp application served on 127.0.0.1 from its own thread and event loop.

Fakes of the Bot Connector, Entra, Graph and the token service run this way: parts of botbuilder
and msal block, so a fake served on the bot's own loop would deadlock (shared/notes/offline-auth.md).
"""

from __future__ import annotations

import asyncio
import ssl
import threading

from aiohttp import web


class LoopbackServer:
    """Serves ``app`` on one free port per entry of ``ssl_contexts`` (None = plain http)."""

    def __init__(self, app: web.Application, ssl_contexts: tuple[ssl.SSLContext | None, ...] = (None,)) -> None:
        self.app = app
        self.ssl_contexts = ssl_contexts
        self.ports: list[int] = []

    def start(self) -> LoopbackServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the loopback server did not start")
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        for context in self.ssl_contexts:
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
            self._loop.run_until_complete(site.start())
            self.ports.append(site._server.sockets[0].getsockname()[1])
        ready.set()
        self._loop.run_forever()
