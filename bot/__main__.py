"""``python -m bot``: serve the bot, run it with the Agents Playground, seed, import and export data.

Subcommands that write the data folder take its lock and refuse while the bot is running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot import doctor
from bot.activations import add_cli as add_activate_cli
from bot.activations import cmd_activate
from bot.app import DOMAIN_FILE, create_app
from bot.backup import fetch_from_running_bot
from bot.logs import configure_logging
from bot.loopback import LOCAL
from bot.server import ServerLimits, run
from bot.settings import Settings
from services.inventory import (
    InventoryError,
    demo_inventory,
    import_inventory,
    parse_inventory,
    parse_inventory_text,
)
from services.repository import INDEXES
from services.storage import open_store
from services.storage.backup import DUMP_FORMAT, encode_export, import_data
from services.storage.journal import write_atomically
from services.storage.lock import DataFolderBusy, data_folder_lock

PLAYGROUND = Path("node_modules/.bin/agentsplayground")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Partner Benefits Bot for Microsoft Teams.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="serve /api/messages (default)")
    sub.add_parser("dev", help="serve the bot and start the Agents Playground (what `make run` does)")
    seed = sub.add_parser("seed", help="load data into an empty store")
    seed.add_argument("--demo", action="store_true", required=True, help="the Contoso demo data")
    imp = sub.add_parser("import", help="import a benefit inventory (JSON) or restore a backup made by export")
    imp.add_argument("file", type=Path)
    exp = sub.add_parser("export", help="write a backup of all domain data (JSON)")
    exp.add_argument("file", type=Path)
    for extension in _EXTENSIONS:
        extension(sub)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    command = args.command or "serve"
    try:
        if command == "serve":
            run(create_app(settings), settings.host, settings.port, ServerLimits.from_settings(settings.extra))
            return 0
        if command == "dev":
            return run_dev(settings)
        handler = _HANDLERS[command]
        return asyncio.run(handler(settings, args))
    except DataFolderBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


async def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    with data_folder_lock(settings.data_dir):
        store = open_store(settings.data_dir / DOMAIN_FILE, INDEXES)
        try:
            if store.all("organization"):
                print("the store already holds data; nothing changed (export it, then remove it to start over)")
                return 1
            inventory = parse_inventory(demo_inventory(datetime.now(UTC).date()))
            await import_inventory(store, inventory)
            print(f"demo data loaded: {len(inventory.people)} people, {len(inventory.benefits)} benefits")
            return 0
        finally:
            await store.close()


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: {path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}; nothing changed",
              file=sys.stderr)
        return 2
    with data_folder_lock(settings.data_dir):
        store = open_store(settings.data_dir / DOMAIN_FILE, INDEXES)
        try:
            if isinstance(raw, dict) and raw.get("format") == DUMP_FORMAT:
                try:
                    count = await import_data(store, raw)
                except ValueError as exc:
                    print(f"error: {path}: {exc}; nothing changed", file=sys.stderr)
                    return 2
                print(f"restored {count} records from {path}")
                return 0
            try:
                inventory = parse_inventory_text(text)
            except InventoryError as exc:
                print(f"error: {path}: {exc}; nothing changed", file=sys.stderr)
                return 2
            await import_inventory(store, inventory)
            print(f"imported {len(inventory.packages)} packages, {len(inventory.benefits)} benefits, "
                  f"{len(inventory.people)} people from {path}")
            return 0
        finally:
            await store.close()


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    try:
        with data_folder_lock(settings.data_dir):
            store = open_store(settings.data_dir / DOMAIN_FILE, INDEXES)
            try:
                body = await encode_export(store)
            finally:
                await store.close()
    except DataFolderBusy:  # the bot is running: it encodes the dump from its own tables
        body = fetch_from_running_bot(settings)
        if isinstance(body, int):
            return body
    write_atomically(args.file, body)
    records = sum(len(t) for t in json.loads(body)["tables"].values())
    print(f"exported {records} records to {args.file} (it contains product keys: keep it safe)")
    return 0


def run_dev(settings: Settings) -> int:
    """The bot and Microsoft's Agents Playground side by side; Ctrl-C stops both."""
    if not PLAYGROUND.exists():
        print("error: the Agents Playground is not installed; run `make run` (it runs npm ci)", file=sys.stderr)
        return 2
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    # Ctrl-C, and a plain `kill` too, stop both (a shell may have started us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=os.environ.copy())
    endpoint = f"http://127.0.0.1:{settings.port}/api/messages"
    _wait_for(f"http://127.0.0.1:{settings.port}/healthz", bot)
    playground = subprocess.Popen(
        [str(PLAYGROUND), "-e", endpoint, "-c", "msteams", "--disable-telemetry", "-p", str(settings.playground_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{settings.playground_port}/_debug/ping", playground)
        print(f"\n  Partner Benefits Bot is running at {endpoint}\n"
              f"  Open http://localhost:{settings.playground_port} to chat with it (Ctrl-C stops both)\n", flush=True)
        while bot.poll() is None and playground.poll() is None:
            time.sleep(0.5)
        time.sleep(1.0)  # a Ctrl-C that stopped a child first arrives here as KeyboardInterrupt
        if playground.poll() is not None:
            print("the Playground stopped; see devTools/m365agentsplayground.log", file=sys.stderr)
        return bot.returncode or 0
    except KeyboardInterrupt:
        # Ctrl-C reached the whole process group: let the children stop on their own first (a second
        # SIGINT would interrupt the bot's clean shutdown with a KeyboardInterrupt traceback)
        deadline = time.monotonic() + 3
        for proc in (playground, bot):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass  # only we were signalled (e.g. `kill`): the finally block stops them
        return 0
    finally:
        for proc in (playground, bot):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (playground, bot):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: {proc.args[0]} exited with {proc.returncode} before it was ready")
        try:
            with LOCAL.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"error: {url} did not answer within {timeout:.0f} s")


_HANDLERS = {"seed": cmd_seed, "import": cmd_import, "export": cmd_export}
#: Further subcommands (e.g. ``activate``) register here: a function adding a parser to ``sub``.
_EXTENSIONS: list = []
_EXTENSIONS.append(add_activate_cli)
_HANDLERS["activate"] = cmd_activate
_EXTENSIONS.append(doctor.add_cli)


async def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    return await asyncio.to_thread(doctor.run, settings, args)  # msal blocks


_HANDLERS["doctor"] = cmd_doctor

if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
