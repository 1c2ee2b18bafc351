"""A lean HTTP/1.1 client for the Bot Connector's small JSON requests, on pooled keep-alive connections.

Why: every turn that answers posts its reply to the Bot Connector, and on that post aiohttp's client
spends most of its time on what a bot does not use (cookies, redirects, tracing, proxies, compression,
multidicts and URL objects built per request). A reply is one small request with a known body and a
small JSON answer, so here a request is one write of the head and body on a kept-alive connection, and
the answer is read by one protocol object per connection: status line, headers, then the body by
``Content-Length``, chunked, or up to the close.

What it keeps of a careful client: TLS with the system's verification (``https``), one connection per
request in flight, at most ``limit`` connections, idle connections closed after ``keepalive_s`` (and
never kept past the service's own ``Keep-Alive: timeout``), ``Connection: close`` honoured, a total time
limit per request, bounded heads and bodies, and a connection that did anything unexpected is closed,
never reused. :class:`Disconnected` says that the service closed the connection before any byte of an
answer (so the caller may send the request again); every other failure says the request may have been
handled.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

#: the largest response head (status line and headers) read before the connection is given up
MAX_HEAD = 64 * 1024
#: the largest response body read (a large team's member list is a few megabytes)
MAX_BODY = 64 * 1024 * 1024


class Disconnected(ConnectionError):
    """The connection was closed (or reset) before any byte of the answer came: the request was not answered."""


class ProtocolError(ConnectionError):
    """The service's answer was not HTTP/1.1 this client reads (or was larger than it reads)."""


class Response(NamedTuple):
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int
    authority: str  # the Host header


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection, reading one answer at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.idle_limit = 0.0
        self.deadline = 0.0  # the event loop's time by which the answer in progress must have come
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._head: tuple[int, str, dict[str, str]] | None = None
        self._body_start = 0
        self._length: int | None = None  # Content-Length; None: chunked or up to the close
        self._chunked = False
        self._cursor = 0  # chunked: where the next chunk's size line starts
        self._chunks: list[bytes] = []
        self._chunked_size = 0
        self._no_body = False
        self._http10 = False
        self._answered = False  # a byte of the answer came (then it is never sent again)
        self.reusable = True

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.reusable = False  # bytes nobody asked for: the connection is out of step
            self._close()
            return
        self._answered = True
        self._buffer += data
        try:
            self._parse()
        except ProtocolError as error:
            self._fail(error)

    def eof_received(self) -> bool:
        self._ended(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    # --- one exchange
    async def exchange(self, request: bytes, head_only: bool) -> Response:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._buffer.clear()
        self._head, self._length, self._chunked, self._cursor, self._no_body = None, None, False, 0, head_only
        self._chunks, self._chunked_size, self._answered = [], 0, False
        self.transport.write(request)
        try:
            return await self._waiter
        except BaseException:
            self.reusable = False  # cancelled or failed half-way: what comes next on it is unknown
            self._close()
            raise
        finally:
            self._waiter = None

    def _ended(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._length is None and not self._chunked and not self._no_body:
            self._finish(bytes(self._buffer[self._body_start:]))  # a body that ends with the connection
            return
        if not self._answered:
            error: Exception = Disconnected("the connection was closed before an answer came")
        else:
            error = ProtocolError("the connection was closed in the middle of an answer")
        if exc is not None:
            error.__cause__ = exc
        waiter.set_exception(error)

    def time_out(self) -> None:
        self._fail(TimeoutError("the service did not answer in time"))

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self._close()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _parse(self) -> None:
        buffer = self._buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise ProtocolError("the answer's head is too large")
                return
            status, reason, headers, self._http10 = _read_head(bytes(buffer[:end]))
            self._head = (status, reason, headers)
            if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
                del buffer[:end + 4]
                self._head = None
                self._parse()
                return
            self._body_start = end + 4
            if self._no_body or status in (204, 304):
                self._no_body = True
                self._finish(b"")
                return
            encoding = headers.get("transfer-encoding", "").lower()
            if encoding:
                if encoding != "chunked":
                    raise ProtocolError(f"transfer encoding {encoding!r} is not read")
                self._chunked = True
                self._cursor = self._body_start
            elif "content-length" in headers:
                try:
                    self._length = int(headers["content-length"])
                except ValueError:
                    raise ProtocolError("the answer's Content-Length is not a number") from None
                if self._length < 0 or self._length > MAX_BODY:
                    raise ProtocolError("the answer's Content-Length is out of bounds")
            else:
                self.reusable = False  # the body ends with the connection
        if self._chunked:
            self._parse_chunks()
        elif self._length is not None:
            if len(buffer) - self._body_start >= self._length:
                if len(buffer) - self._body_start > self._length:
                    self.reusable = False  # more than was announced: out of step
                self._finish(bytes(buffer[self._body_start:self._body_start + self._length]))
        elif len(buffer) - self._body_start > MAX_BODY:
            raise ProtocolError("the answer's body is too large")

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n", self._cursor)
            if line_end < 0:
                if len(buffer) - self._cursor > 1024:
                    raise ProtocolError("a chunk's size line is too long")
                return
            size_text = bytes(buffer[self._cursor:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("a chunk's size is not a number") from None
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if buffer[line_end:line_end + 4] == b"\r\n\r\n":
                    trailer_end = line_end
                if trailer_end < 0:
                    return
                if len(buffer) > trailer_end + 4:
                    self.reusable = False
                self._finish(b"".join(self._chunks))
                return
            if self._chunked_size + size > MAX_BODY:
                raise ProtocolError("the answer's body is too large")
            data_start = line_end + 2
            if len(buffer) < data_start + size + 2:
                return
            if buffer[data_start + size:data_start + size + 2] != b"\r\n":
                raise ProtocolError("a chunk does not end where its size says")
            self._chunks.append(bytes(buffer[data_start:data_start + size]))
            self._chunked_size += size
            self._cursor = data_start + size + 2

    def _finish(self, body: bytes) -> None:
        assert self._head is not None and self._waiter is not None
        status, reason, headers = self._head
        coding = headers.get("content-encoding", "").lower()
        if coding in ("gzip", "deflate") and body:
            try:  # not asked for (no Accept-Encoding is sent), but read if a service compresses anyway
                body = zlib.decompressobj(47 if coding == "gzip" else 15).decompress(body, MAX_BODY)
            except zlib.error:
                self._fail(ProtocolError("the answer's compressed body cannot be read"))
                return
        elif coding not in ("", "identity"):
            self._fail(ProtocolError(f"content encoding {coding!r} is not read"))
            return
        connection = headers.get("connection", "").lower()
        if "close" in connection or (self._http10 and "keep-alive" not in connection):
            self.reusable = False
        self.idle_limit = _keep_alive_timeout(headers.get("keep-alive", ""))
        self._waiter.set_result(Response(status, reason, headers, body))


def _read_head(head: bytes) -> tuple[int, str, dict[str, str], bool]:
    """Status, reason, headers (names in lower case; repeated ones joined with commas) and whether the
    answer is HTTP/1.0 (whose connections are not kept unless it says so)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise ProtocolError("the answer does not start with an HTTP/1.x status line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError("a header line of the answer is malformed")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers, parts[0] == "HTTP/1.0"


def _keep_alive_timeout(value: str) -> float:
    """The idle seconds a service announces in ``Keep-Alive: timeout=N`` (infinite if it says none)."""
    for part in value.split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() == "timeout":
            try:
                return max(0.0, float(number.strip()))
            except ValueError:
                return 0.0
    return float("inf")


class Http1Pool:
    """Keep-alive connections per origin, at most ``limit`` in use at once."""

    def __init__(self, *, user_agent: str, limit: int = 100, keepalive_s: float = 4.0, timeout_s: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.user_agent = user_agent
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(limit)
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._origins: dict[str, _Origin] = {}
        self._ssl = ssl_context  # None: the system's trust store, read on the first https request
        self._closed = False
        self._in_flight: set[_Connection] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.opened = 0  # connections made so far (tests and figures)

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None, *,
                      fresh: bool = False) -> Response:
        """Send one request and read its whole answer; ``fresh``: on a new connection, closed after."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        origin, target = self._split(url)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.authority}", f"User-Agent: {self.user_agent}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        if fresh:
            lines.append("Connection: close")
        if " " in target or any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a request target or header holds a space or a line break")  # never sent split
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        if self._slots.locked():  # every connection in use: wait for one, within the time limit
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # free: taken at once
        try:
            connection = None if fresh else self._checkout(origin)
            if connection is None:
                async with asyncio.timeout_at(deadline):
                    connection = await self._connect(origin)
            connection.deadline = deadline
            self._in_flight.add(connection)
            if self._sweeper is None or self._sweeper.done():
                self._sweeper = loop.create_task(self._sweep(), name="HTTP time limits")
            try:
                return await connection.exchange(request, method == "HEAD")
            finally:
                self._in_flight.discard(connection)
                self._checkin(origin, connection, fresh)
        finally:
            self._slots.release()

    async def _sweep(self) -> None:
        """Fail the answers that are late. One task watches every request in flight, instead of a timer
        set and cancelled for each (a reply on every turn); it ends when none is left."""
        loop = asyncio.get_running_loop()
        interval = min(1.0, self.timeout_s / 4)
        while self._in_flight:
            await asyncio.sleep(interval)
            now = loop.time()
            for connection in [c for c in self._in_flight if c.deadline <= now]:
                connection.time_out()

    def _split(self, url: str) -> tuple[_Origin, str]:
        """The origin of ``url`` (remembered per scheme and authority) and its request target."""
        scheme_end = url.find("://")
        path_start = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
        prefix = url if path_start < 0 else url[:path_start]
        found = self._origins.get(prefix)
        if found is None:
            parts = urlsplit(prefix)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
                raise ValueError(f"not an http(s) URL without credentials: {prefix!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname
            authority = f"[{host}]" if ":" in host else host
            if parts.port is not None:
                authority += f":{parts.port}"
            if len(self._origins) > 256:
                self._origins.clear()
            found = self._origins[prefix] = _Origin(parts.scheme, host, port, authority)
        target = "/" if path_start < 0 else url[path_start:]
        fragment = target.find("#")
        return found, target if fragment < 0 else target[:fragment]

    def _checkout(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be closing
            alive = not connection.closed and connection.transport is not None and not connection.transport.is_closing()
            if alive and now - connection.idle_since < min(self.keepalive_s, connection.idle_limit - 1.0):
                return connection
            connection._close()
        return None

    def _checkin(self, origin: _Origin, connection: _Connection, fresh: bool) -> None:
        if fresh or self._closed or not connection.reusable or connection.closed:
            connection._close()
            return
        now = connection.idle_since = time.monotonic()
        idle = self._idle.setdefault(origin, deque())
        idle.append(connection)
        while idle and (idle[0].closed or now - idle[0].idle_since >= self.keepalive_s):  # the longest idle
            idle.popleft()._close()

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        context = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        _, connection = await loop.create_connection(
            _Connection, origin.host, origin.port, ssl=context, server_hostname=origin.host if context else None)
        self.opened += 1
        return connection

    def idle_count(self) -> int:
        return sum(1 for idle in self._idle.values() for c in idle if not c.closed)

    async def close(self) -> None:
        """Close every idle connection; connections in use are closed as their requests end."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for idle in self._idle.values():
            for connection in idle:
                connection._close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports' close callbacks run
