"""Serving the app so that idle and slow clients cannot starve it.

Why: every open connection holds a file descriptor, and aiohttp by itself accepts connections until
the process runs out of them. A client that opens connections and sends nothing, or sends its
request a byte at a time, then leaves the bot unable to accept the Bot Connector or ``/healthz`` and
unable to open its own files, and asyncio logs an error for every failed ``accept``. Here:

* a connection must deliver its first request head within ``HTTP_HEADER_TIMEOUT_SECONDS``, and a
  request's body must arrive within ``HTTP_BODY_TIMEOUT_SECONDS`` of its head;
* between requests (keep-alive), and while a later request head arrives, a connection may stay
  quiet for ``HTTP_IDLE_TIMEOUT_SECONDS`` (aiohttp's keep-alive timeout);
* at most ``HTTP_MAX_CONNECTIONS`` connections are open at once (by default well below the open-file
  limit). A connection past the cap closes the longest-idle connection (one with no request in
  progress); if every connection is busy with a request, the new one is answered 503 and closed;
* all of this, and failed ``accept`` calls, are counted and written as one log line per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot import keys
from bot.logs import RateLimitedLog
from bot.settings import number_setting
from services.waiting import wait_set

log = logging.getLogger(__name__)

#: what a connection refused at the cap reads before it is closed
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
           b"Content-Length: 0\r\n\r\n")
#: file descriptors kept for the bot's own files, outbound connections and threads, at the least
MIN_RESERVED_FILES = 64
_OUT_OF_FILES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def open_file_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


@dataclass(frozen=True)
class ServerLimits:
    """``HTTP_*`` settings (see ``.env.example``)."""

    idle_timeout_s: float = 30.0
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections: int = 0
    """0: derived from the open-file limit (three quarters of it)"""

    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> ServerLimits:
        def number(name: str, default: float) -> float:
            return number_setting(extra, name, default, allow_zero=True)

        return cls(idle_timeout_s=number("HTTP_IDLE_TIMEOUT_SECONDS", cls.idle_timeout_s) or cls.idle_timeout_s,
                   header_timeout_s=number("HTTP_HEADER_TIMEOUT_SECONDS", cls.header_timeout_s)
                   or cls.header_timeout_s,
                   body_timeout_s=number("HTTP_BODY_TIMEOUT_SECONDS", cls.body_timeout_s) or cls.body_timeout_s,
                   max_connections=int(number("HTTP_MAX_CONNECTIONS", 0)))

    def connection_cap(self, file_limit: int | None = None) -> int:
        """The cap actually used: never closer to the open-file limit than the reserve allows."""
        files = open_file_limit() if file_limit is None else file_limit
        reserve = max(MIN_RESERVED_FILES, files // 4)
        ceiling = max(8, files - reserve)
        if self.max_connections <= 0:
            return ceiling
        if self.max_connections > ceiling:
            log.warning("HTTP_MAX_CONNECTIONS is too close to the open-file limit; lowered",
                        extra={"asked": self.max_connections, "used": ceiling, "file_limit": files})
            return ceiling
        return self.max_connections


class GuardedServer(web.Server):
    """aiohttp's low-level server with a connection cap and head/body deadlines."""

    def __init__(self, handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]], *,
                 limits: ServerLimits, cap: int, events: RateLimitedLog, **kwargs: Any) -> None:
        super().__init__(self._guarded(handler), **kwargs)
        self.limits = limits
        self.cap = cap
        self.events = events
        #: connections with no request in progress, longest idle first
        self._idle: OrderedDict[RequestHandler, None] = OrderedDict()
        self._closing: set[RequestHandler] = set()
        self._head_timers: dict[RequestHandler, asyncio.TimerHandle] = {}

    @property
    def open_connections(self) -> int:
        return len(self._connections) - len(self._closing)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if self.open_connections > self.cap:
            # closed on the next loop pass: a connection's handler task must start before it is closed
            victim = next(iter(self._idle), None)
            if victim is None:
                transport.write(REFUSAL)
                self._close(handler, "refused_all_busy", soon=True)
                return
            self._close(victim, "closed_idle_at_cap", soon=True)
        self._idle[handler] = None
        self._head_timers[handler] = self._loop.call_later(self.limits.header_timeout_s, self._head_overdue, handler)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._forget(handler)
        self._closing.discard(handler)

    def _forget(self, handler: RequestHandler) -> None:
        self._idle.pop(handler, None)
        timer = self._head_timers.pop(handler, None)
        if timer is not None:
            timer.cancel()

    def _close(self, handler: RequestHandler, event: str, soon: bool = False) -> None:
        self._forget(handler)
        self._closing.add(handler)
        if soon:
            self._loop.call_soon(handler.force_close)
        else:
            handler.force_close()
        self.events.count(event)

    def _head_overdue(self, handler: RequestHandler) -> None:
        self._head_timers.pop(handler, None)
        if handler in self._idle:  # still no complete request head since it connected
            self._close(handler, "header_timeout")

    def _body_overdue(self, request: web.BaseRequest, task: asyncio.Task[Any]) -> None:
        if not request.content.is_eof():
            task.cancel()
            self._close(request.protocol, "body_timeout")

    def _guarded(self, inner: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
                 ) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
        async def handle(request: web.BaseRequest) -> web.StreamResponse:
            handler = request.protocol
            self._forget(handler)  # a request head arrived: the connection is busy, not idle
            watchdog = None
            if request.body_exists and not request.content.is_eof():
                task = asyncio.current_task()
                assert task is not None
                watchdog = self._loop.call_later(self.limits.body_timeout_s, self._body_overdue, request, task)
            try:
                return await inner(request)
            finally:
                if watchdog is not None:
                    watchdog.cancel()
                if handler in self._connections and handler not in self._closing:
                    self._idle[handler] = None  # idle again, the newest

        return handle


class GuardedRunner(web.AppRunner):
    """``AppRunner`` whose server is a :class:`GuardedServer`."""

    def __init__(self, app: web.Application, limits: ServerLimits, events: RateLimitedLog, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=limits.idle_timeout_s, **kwargs)
        self.limits = limits
        self.events = events
        self.cap = limits.connection_cap()

    def open_connections(self) -> int:
        """Connections open now (none before the server starts)."""
        return self.server.open_connections if isinstance(self.server, GuardedServer) else 0

    async def _make_server(self) -> web.Server:
        stock = await super()._make_server()
        return GuardedServer(stock.request_handler, limits=self.limits, cap=self.cap, events=self.events,
                             request_factory=stock.request_factory, handler_cancellation=stock.handler_cancellation,
                             loop=asyncio.get_running_loop(), **stock._kwargs)  # the app's handler_args too


def connection_events(details: Callable[[], dict[str, Any]] | None = None) -> RateLimitedLog:
    return RateLimitedLog(log, "connections closed or refused", details=details)


def _quiet_accept_failures(events: RateLimitedLog) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """asyncio logs every failed ``accept`` (out of files) with a traceback; count them instead."""
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in _OUT_OF_FILES:
            events.count("accept_failed")
            return
        loop.default_exception_handler(context)

    return handler


#: how long work left for after the start waits for the server to say it listens (under a runner that
#: does not say so, such as a test's, that work begins this much later)
SERVING_WAIT_SECONDS = 1.0


async def when_serving(app: web.Application) -> None:
    """Return once the server listens (:func:`run` says so), at most :data:`SERVING_WAIT_SECONDS` from now:
    what a start leaves for later (reading the audit trail, the first reminder scan) begins then, so that
    the bot answers first."""
    await wait_set(app[keys.SERVING], SERVING_WAIT_SECONDS)


async def _serve(app: web.Application, host: str, port: int, limits: ServerLimits) -> None:
    runner: GuardedRunner | None = None
    events = connection_events(lambda: {"open": runner.open_connections() if runner else 0,
                                        "cap": runner.cap if runner else 0})
    asyncio.get_running_loop().set_exception_handler(_quiet_accept_failures(events))
    runner = GuardedRunner(app, limits, events, handle_signals=True, shutdown_timeout=60.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        serving = app.get(keys.SERVING)
        if serving is not None:  # the app's work left for after the start begins now
            serving.set()
        log.info("serving", extra={"host": host, "port": port, "max_connections": runner.cap,
                                   "idle_timeout_s": limits.idle_timeout_s, "header_timeout_s": limits.header_timeout_s,
                                   "body_timeout_s": limits.body_timeout_s})
        await asyncio.Event().wait()  # until SIGINT/SIGTERM (GracefulExit) or cancellation
    finally:
        await runner.cleanup()
        events.flush()


def run(app: web.Application, host: str, port: int, limits: ServerLimits) -> None:
    """Serve until SIGINT/SIGTERM, then shut down cleanly (what ``web.run_app`` does, guarded)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, limits))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
