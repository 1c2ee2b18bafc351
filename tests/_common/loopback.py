"""Loopback (127.0.0.1 only): free ports, servers in their own processes, and fakes in their own threads.

Fakes of the Bot Connector, Entra, Graph and the token service run in a thread: parts of botbuilder
and msal block, so a fake served on the bot's own loop would deadlock (shared/notes/offline-auth.md).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import ClientSession, web


def free_port() -> int:
    """A port of 127.0.0.1 that is free now (for a process started next to listen on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(session: ClientSession, base: str, proc: subprocess.Popen[bytes], *,
                     within: float = 40.0, interval: float = 0.1, log: Path | None = None,
                     failure: Callable[[str], BaseException] = AssertionError) -> None:
    """Until ``base``'s ``/readyz`` answers 200; ``failure(reason)`` is raised when the process ``proc``
    exits first or ``within`` seconds pass (the reason ends with the tail of its ``log``, if any)."""

    def reason(what: str) -> str:
        return f"{what}\n{log.read_text(errors='replace')[-4000:]}" if log is not None and log.exists() else what

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise failure(reason(f"the bot exited with {proc.returncode}"))
        try:
            async with session.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(interval)
    raise failure(reason(f"the bot did not get ready within {within:.0f} s"))


def stop_process(proc: subprocess.Popen[bytes], within: float = 60.0) -> None:
    """Stop a server process as Ctrl-C does (it closes its store cleanly), killed if it takes longer
    than ``within`` seconds."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a running process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


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
