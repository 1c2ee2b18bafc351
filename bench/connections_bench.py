"""Idle-connection flood: more half-open connections than the bot's open-file limit, on loopback.

Starts ``python -m bot serve`` with ``RLIMIT_NOFILE`` lowered (1,024 by default, common on hosts),
opens ``--connections`` connections that each send half a request head and then nothing, and for
``--seconds`` asks ``/healthz`` every 0.5 s. Prints how many connections were accepted, the
``/healthz`` latencies (or failures), how many the bot had closed by the end, and the size of its log
(lines, ERROR lines).

    python -m bench connections_bench      # or: python -m bench.connections_bench --connections 1100
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.loopback import LOCAL

ROOT = Path(__file__).resolve().parents[1]
HALF_HEAD = b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="connections_bench")
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--file-limit", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=7.0)
    args = parser.parse_args(argv)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if args.connections + 64 > hard:
        print(f"the hard open-file limit ({hard}) is too low for {args.connections} client connections")
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 256), hard))
    folder = Path(tempfile.mkdtemp(prefix="connections-bench-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORT": str(port), "HOST": "127.0.0.1",
           "DATA_DIR": str(folder / "data"), "LOG_LEVEL": "INFO", "SEED_DEMO": "true", "MicrosoftAppId": ""}

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.file_limit, hard))

    url = f"http://127.0.0.1:{port}/healthz"
    with open(folder / "bot.log", "wb") as log:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=folder, env=env, stdout=log,
                               stderr=subprocess.STDOUT, preexec_fn=limit)
        try:
            _wait(url)
            flood = []
            for _ in range(args.connections):
                try:
                    conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                    conn.sendall(HALF_HEAD)
                    flood.append(conn)
                except OSError:
                    pass
            latencies: list[str] = []
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    with LOCAL.open(url, timeout=3) as resp:
                        resp.read()
                    latencies.append(f"{(time.monotonic() - started) * 1000:.0f} ms")
                except OSError as error:
                    latencies.append(f"failed ({type(error).__name__})")
                time.sleep(0.5)
            closed = sum(_closed(conn) for conn in flood)
            for conn in flood:
                conn.close()
        finally:
            bot.terminate()
            bot.wait(60)
    lines = (folder / "bot.log").read_text(errors="replace").splitlines()
    print(f"file limit {args.file_limit}: {len(flood)} of {args.connections} half-open connections accepted")
    print(f"/healthz every 0.5 s for {args.seconds:.0f} s: {', '.join(latencies)}")
    print(f"closed by the bot by the end: {closed}")
    print(f"bot log: {len(lines)} lines, {sum(chr(34) + 'ERROR' + chr(34) in line for line in lines)} ERROR")
    return 0


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with LOCAL.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _closed(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
