"""Idle and slow connections against the real bot process (``python -m bot serve``), on loopback.

The bot runs with a low open-file limit, as on many hosts (1,024 there; 256 here to keep the test
small); the test opens more idle and half-sent connections than that, then checks that ``/healthz``
and a turn still answer, that slow clients are closed, and that the log stays a few lines long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.logs import RateLimitedLog
from bot.loopback import LOCAL
from bot.server import GuardedRunner, ServerLimits
from tests._common.fake_connector import FakeConnector
from tests._common.harness import BOT, LEE

ROOT = Path(__file__).resolve().parents[2]
FILE_LIMIT = 256
HEAD = b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # never finished


class BotProcess:
    def __init__(self, workdir: Path, **settings: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log_path = workdir / "bot.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(workdir / "data"), "PORT": str(self.port),
               "HOST": "127.0.0.1", "SEED_DEMO": "true", "LOG_LEVEL": "INFO", "MicrosoftAppId": "", **settings}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=workdir, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_low_file_limit)
        deadline = time.monotonic() + 30
        while self.get("/healthz") != 200:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(0.1)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 5.0) -> int:
        try:
            with LOCAL.open(self.base + path, timeout=timeout) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def say(self, connector: FakeConnector, text: str) -> int:
        activity = {"type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": connector.url,
                    "from": LEE, "recipient": BOT, "locale": "en-US", "text": text,
                    "conversation": {"id": f"a:personal-{LEE['id']}", "conversationType": "personal",
                                     "tenantId": "t1"}, "channelData": {"tenant": {"id": "t1"}}}
        request = urllib.request.Request(self.base + "/api/messages", data=json.dumps(activity).encode(),
                                         headers={"Content-Type": "application/json"})
        with LOCAL.open(request, timeout=30) as resp:
            return int(resp.status)

    def connect(self, first_bytes: bytes = HEAD) -> socket.socket:
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if first_bytes:
            conn.sendall(first_bytes)
        return conn

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def _closed_by_server(conn: socket.socket, within: float) -> bool:
    """True when the bot closes the connection (or answers and closes) before ``within`` seconds."""
    conn.settimeout(within)
    try:
        while conn.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


@pytest.fixture
def bot_process(tmp_path: Path) -> Iterator[BotProcess]:
    proc = BotProcess(tmp_path)
    yield proc
    proc.stop()


def test_more_idle_connections_than_open_files_do_not_starve_the_bot(bot_process: BotProcess,
                                                                     connector: FakeConnector) -> None:
    flood = []
    try:
        for n in range(FILE_LIMIT + 100):
            with contextlib.suppress(OSError):  # a refused connection is fine; a stalled bot is not
                flood.append(bot_process.connect(HEAD if n % 2 else b""))
        assert len(flood) >= FILE_LIMIT  # the bot accepted (and closed the oldest of) what we opened
        assert bot_process.get("/healthz") == 200
        assert bot_process.say(connector, "help") in (200, 201)
        assert connector.wait_for(1)
    finally:
        for conn in flood:
            conn.close()
    bot_process.stop()
    records = bot_process.records()
    assert not [r for r in records if r.get("level") == "ERROR"]
    summaries = [r for r in records if r.get("msg") == "connections closed or refused"]
    assert 1 <= len(summaries) <= 3
    assert sum(r["events"].get("closed_idle_at_cap", 0) for r in summaries) >= 100
    assert len(records) < 20


def test_slow_and_idle_clients_are_closed(tmp_path: Path, connector: FakeConnector) -> None:
    bot = BotProcess(tmp_path, HTTP_HEADER_TIMEOUT_SECONDS="1", HTTP_IDLE_TIMEOUT_SECONDS="1",
                     HTTP_BODY_TIMEOUT_SECONDS="1")
    try:
        silent = bot.connect(b"")
        half_head = bot.connect(HEAD)
        dribbling = bot.connect(b"P")
        for byte in b"OST /api/messages HTTP/1.1\r\n":  # a byte at a time, never the end of the head
            with contextlib.suppress(OSError):
                dribbling.sendall(bytes([byte]))
            time.sleep(0.1)
        half_body = bot.connect(b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 1000\r\n\r\n{\"type\": ")
        kept_alive = bot.connect(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for conn in (silent, half_head, dribbling, half_body, kept_alive):
            assert _closed_by_server(conn, within=15)
            conn.close()
        assert bot.get("/healthz") == 200
        assert bot.say(connector, "help") in (200, 201)
    finally:
        bot.stop()
    events: dict[str, int] = {}
    for record in bot.records():
        if record.get("msg") == "connections closed or refused":
            for name, count in record["events"].items():
                events[name] = events.get(name, 0) + count
    assert events.get("header_timeout", 0) >= 3 and events.get("body_timeout", 0) == 1
    assert not [r for r in bot.records() if r.get("level") == "ERROR"]


def test_the_connection_cap_stays_below_the_open_file_limit() -> None:
    assert ServerLimits().connection_cap(1024) == 768
    assert ServerLimits().connection_cap(256) == 192
    assert ServerLimits(max_connections=100).connection_cap(1024) == 100
    assert ServerLimits(max_connections=5000).connection_cap(1024) == 768
    limits = ServerLimits.from_settings({"HTTP_IDLE_TIMEOUT_SECONDS": "5", "HTTP_MAX_CONNECTIONS": "50",
                                         "HTTP_HEADER_TIMEOUT_SECONDS": "junk"})
    assert (limits.idle_timeout_s, limits.max_connections, limits.header_timeout_s) == (5.0, 50, 10.0)


def test_a_flood_of_events_is_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    events = RateLimitedLog(logging.getLogger("test.flood"), "closed", interval_s=10.0, clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="test.flood"):
        for _ in range(1000):
            events.count("header_timeout")  # the first is written at once, the rest wait for the interval
        now[0] = 10.0
        events.count("refused_all_busy")
        events.flush()
    assert [r.events for r in caplog.records] == [
        {"header_timeout": 1}, {"header_timeout": 999, "refused_all_busy": 1}]


async def test_at_the_cap_the_longest_idle_connection_goes_and_busy_ones_stay(
        caplog: pytest.LogCaptureFixture) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/fast", lambda request: _ok())
    events = RateLimitedLog(logging.getLogger("test.cap"), "closed")
    caplog.set_level("WARNING")
    runner = GuardedRunner(app, ServerLimits(max_connections=2), events)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        busy_reader, busy = await asyncio.open_connection("127.0.0.1", port)
        busy.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        await entered.wait()
        idle_reader, idle = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.05)
        third_reader, third = await asyncio.open_connection("127.0.0.1", port)  # past the cap: the idle one goes
        assert await asyncio.wait_for(idle_reader.read(), 5) == b""
        third.write(b"GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(third_reader.read(), 5)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(0.05)
        extra_reader, extra = await asyncio.open_connection("127.0.0.1", port)
        fourth_reader, fourth = await asyncio.open_connection("127.0.0.1", port)  # the idle `extra` goes
        assert await asyncio.wait_for(extra_reader.read(), 5) == b""
        fourth.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")  # now both connections are busy
        await asyncio.sleep(0.05)
        refused_reader, refused = await asyncio.open_connection("127.0.0.1", port)
        assert (await asyncio.wait_for(refused_reader.read(), 5)).startswith(b"HTTP/1.1 503")
        release.set()
        assert (await asyncio.wait_for(busy_reader.readuntil(b"done"), 5)).startswith(b"HTTP/1.1 200")
        for writer in (busy, idle, third, extra, fourth, refused):
            writer.close()
    finally:
        await runner.cleanup()
        events.flush()
    counted: dict[str, int] = {}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    for record in caplog.records:
        if record.name != "test.cap":
            continue
        for name, count in record.events.items():
            counted[name] = counted.get(name, 0) + count
    assert counted == {"closed_idle_at_cap": 2, "refused_all_busy": 1}


async def _ok() -> web.Response:
    return web.Response(text="ok")
