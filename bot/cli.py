"""The command line (``python -m bot``): serve the bot, run it with the Agents Playground, seed, import and
export data.

Subcommands that write the data folder take its lock and refuse while the bot is running.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from bot import copy_store, doctor
from bot import playground as playground_config
from bot.app import create_app
from bot.logs import configure_logging
from bot.loopback import LOCAL
from bot.operator.activations import add_cli as add_activate_cli
from bot.operator.activations import cmd_activate
from bot.operator.backup import fetch_from_running_bot
from bot.server import ServerLimits, run
from bot.settings import DOMAIN_FILE, STATE_FILE, Settings
from bot.stores import domain_store, storage_config
from services.inventory import (
    InventoryChanged,
    check_inventory_file,
    demo_inventory,
    import_inventory,
    import_inventory_file,
    parse_inventory,
)
from services.json_input import JsonInputError, load_json, stream_object
from services.repository import INDEXES
from services.restore import plan_restore
from services.storage import StoreDamagedError, StoreUnavailableError, open_store
from services.storage.backup import DUMP_FORMAT, encode_export, import_data
from services.storage.journal import write_atomically
from services.storage.lock import DataFolderBusy, data_folder_lock
from services.storage.postgres_config import PostgresConfig

PLAYGROUND = Path("node_modules/.bin/agentsplayground")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Partner Benefits Bot for Microsoft Teams.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="serve /api/messages (default)")
    dev = sub.add_parser("dev", help="serve the bot and start the Agents Playground (what `make run` does)")
    dev.add_argument("--as", dest="as_person", default="", metavar="PERSON",
                     help="chat as this demo person (an email, a name or a first name; `make run AS=...`)")
    seed = sub.add_parser("seed", help="load data into an empty store")
    seed.add_argument("--demo", action="store_true", required=True, help="the Contoso demo data")
    imp = sub.add_parser("import", help="import a benefit inventory (JSON) or restore a backup made by export")
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true",
                     help="let a backup replace a data folder that holds data (shown first as counts per table)")
    exp = sub.add_parser("export", help="write a backup of all domain data (JSON)")
    exp.add_argument("file", type=Path)
    rep = sub.add_parser("repair", help="check the data files; with --accept-loss, open damaged ones from what is "
                                        "readable")
    rep.add_argument("--accept-loss", action="store_true",
                     help="start from what is readable although acknowledged writes are lost (the damaged files "
                          "are moved aside, not deleted)")
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
            return run_dev(settings, args.as_person)
        handler = _HANDLERS[command]
        return asyncio.run(handler(settings, args))
    except DataFolderBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except StoreDamagedError as exc:
        logging.getLogger("bot").error("the data files are damaged; nothing was changed",
                                       extra={"event": "storage.refused", "losses": list(exc.losses)})
        print(f"error: {exc}.\nNothing was changed. {DAMAGED_HELP}", file=sys.stderr)
        return 4
    except StoreUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4


DAMAGED_HELP = ("Restore a backup (python -m bot import BACKUP.json --replace), or start from what is readable "
                "and accept the loss (python -m bot repair --accept-loss).")


async def cmd_repair(settings: Settings, args: argparse.Namespace) -> int:
    """Open each store of the data folder: report what is damaged, or (``--accept-loss``) open it from what
    is readable, which moves the damaged files aside and starts a new generation."""
    config = storage_config(settings)
    if config is not None:
        return await _repair_database(config, accept_loss=args.accept_loss)
    damaged = 0
    with data_folder_lock(settings.data_dir):
        for name, indexes in ((DOMAIN_FILE, INDEXES), (STATE_FILE, {})):
            stem = Path(name).stem
            if not [p for p in settings.data_dir.glob(f"{stem}.*") if p.suffix != ".lock"]:
                print(f"{name}: not created yet")
                continue
            try:
                store = open_store(settings.data_dir / name, indexes, accept_loss=args.accept_loss)
            except StoreDamagedError as exc:
                damaged += 1
                print(f"{name}: damaged: {'; '.join(exc.losses)}")
                continue
            health = store.health()
            await store.close()
            moved = "".join(f"\n  moved aside: {q}" for q in health.quarantined)
            print(f"{name}: {health.detail}{moved}")
    if damaged:
        print(f"nothing was changed. {DAMAGED_HELP}", file=sys.stderr)
        return 1
    return 0


async def _repair_database(config: PostgresConfig, *, accept_loss: bool) -> int:
    """``repair`` with ``STORAGE_URL``: check each store's bookkeeping in the database and tidy it."""
    from services.storage.postgres import PostgresStore  # the driver, only when a database is named

    if accept_loss:
        print("--accept-loss concerns a data folder's files; the database keeps its own consistency "
              "(restore a backup, or the server's point-in-time restore, to go back)")
    damaged = 0
    for name, indexes in ((DOMAIN_FILE, INDEXES), (STATE_FILE, {})):
        store = await PostgresStore.open(config, indexes, namespace=Path(name).stem, poll=False)
        try:
            lines = await store.repair()
        finally:
            await store.close()
        damaged += any(line.startswith("damaged") for line in lines)
        print(f"{config.safe_target}#{Path(name).stem}: " + "\n  ".join(lines))
    return 1 if damaged else 0


async def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    async with domain_store(settings) as store:
        if store.all("organization"):
            print("the store already holds data; nothing changed (export it, then remove it to start over)")
            return 1
        inventory = parse_inventory(demo_inventory(datetime.now(UTC).date()))
        await import_inventory(store, inventory)
        print(f"demo data loaded: {len(inventory.people)} people, {len(inventory.benefits)} benefits")
        return 0


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """An inventory is checked whole, then written, each reading a record at a time (see
    ``services.inventory.import_inventory_file``); a backup made by export is restored."""
    path: Path = args.file
    dump: Any = None
    try:
        file = path.open("rb", buffering=0)  # each read answers with what is there (a pipe need not be full)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    with file:
        try:
            head = _head(file)
            if _is_backup(head):
                dump = load_json(head + file.read())
            else:
                checked = check_inventory_file(_Replayed(head, file))
                if not file.seekable():
                    print(f"error: {path}: an inventory is read twice (checked, then written): give a file, not a "
                          "pipe; nothing changed", file=sys.stderr)
                    return 2
                file.seek(0)
        except OSError as exc:
            print(f"error: cannot read {path}: {exc.strerror}; nothing changed", file=sys.stderr)
            return 2
        except JsonInputError as exc:
            print(f"error: {path}: {exc}; nothing changed", file=sys.stderr)
            return 2
        if dump is not None:
            return await _restore(settings, path, dump, replace=args.replace)
        try:
            async with domain_store(settings) as store:
                await import_inventory_file(store, file, checked)
        except InventoryChanged as exc:
            print(f"error: {path}: {exc}; what was written so far stays: import the file again", file=sys.stderr)
            return 2
    print(f"imported {checked.packages} packages, {checked.benefits} benefits, {checked.people} people from {path}")
    return 0


def _head(file: BinaryIO, size: int = 256) -> bytes:
    """The first ``size`` bytes of ``file`` (fewer if it is shorter): room for a backup's format."""
    head = b""
    while len(head) < size and (data := file.read(size - len(head))):
        head += data
    return head


def _is_backup(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a backup made by export (whose first member is its format)."""
    try:
        first = next(stream_object(io.BytesIO(head)), None)
    except JsonInputError:
        return False
    return first is not None and first.key == "format" and first.value == DUMP_FORMAT


class _Replayed:
    """A file read on from its start although ``head`` was read from it already (a pipe cannot go back)."""

    def __init__(self, head: bytes, file: BinaryIO) -> None:
        self._head = head
        self._file = file

    def read(self, size: int = -1, /) -> bytes:
        if not self._head:
            return self._file.read(size)
        if size < 0:
            data, self._head = self._head + self._file.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


async def _restore(settings: Settings, path: Path, dump: dict[str, Any], *, replace: bool) -> int:
    """Restore a backup: every document checked first, what it replaces shown, ``--replace`` needed to
    overwrite data. With ``--replace`` a damaged store is opened from what is readable (it is replaced)."""
    try:
        plan_restore({}, dump)  # checked before the data folder is touched
    except ValueError as exc:
        print(f"error: {path}: {exc}; nothing changed", file=sys.stderr)
        return 2
    async with domain_store(settings, accept_loss=replace) as store, store.mutation_lock():
        plan = plan_restore({t: len(store.all(t)) for t in store.table_names()}, dump)
        print(f"restore of {path} (documents per table, now -> after):")
        for line in plan.lines():
            print(f"  {line}")
        if plan.replaces_data and not replace:
            print("error: the data folder holds data that this restore would replace; nothing changed. "
                  "Run again with --replace to replace it.", file=sys.stderr)
            return 1
        count = await import_data(store, dump, replace=True)
    print(f"restored {count} records from {path}")
    return 0


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    try:
        async with domain_store(settings) as store:
            body = await encode_export(store)
    except DataFolderBusy:  # the bot is running: it encodes the dump from its own tables
        fetched = fetch_from_running_bot(settings)
        if isinstance(fetched, int):
            return fetched
        body = fetched
    write_atomically(args.file, body)
    records = sum(len(t) for t in json.loads(body)["tables"].values())
    print(f"exported {records} records to {args.file} (it contains product keys: keep it safe)")
    return 0


def run_dev(settings: Settings, as_person: str = "") -> int:
    """The bot and Microsoft's Agents Playground side by side; Ctrl-C stops both.

    ``as_person``: the Playground chats as that demo person (``bot.playground``), not Alex.
    """
    if not PLAYGROUND.exists():
        print("error: the Agents Playground is not installed; run `make run` (it runs npm ci)", file=sys.stderr)
        return 2
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    who = ""
    if as_person:
        try:
            config = playground_config.write_as(as_person)
        except playground_config.UnknownPerson as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(config)
        who = f" as {playground_config.read_config(config.read_text(encoding='utf-8'))['currentUser']['name']}"
    # Ctrl-C, and a plain `kill` too, stop both (a shell may have started us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    bot_env = os.environ.copy()
    if "SEED_DEMO" not in settings.extra:  # neither the environment nor .env chose: a demo starts with data
        bot_env["SEED_DEMO"] = "true"
    bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=bot_env)
    endpoint = f"http://127.0.0.1:{settings.port}/api/messages"
    _wait_for(f"http://127.0.0.1:{settings.port}/healthz", bot)
    playground = subprocess.Popen(
        [str(PLAYGROUND), "-e", endpoint, "-c", "msteams", "--disable-telemetry", "-p", str(settings.playground_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{settings.playground_port}/_debug/ping", playground)
        print(f"\n  Partner Benefits Bot is running at {endpoint}\n"
              f"  Open http://localhost:{settings.playground_port} to chat with it{who} (Ctrl-C stops both)\n",
              flush=True)
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
            program = proc.args[0] if isinstance(proc.args, (list, tuple)) else proc.args
            name = program if isinstance(program, str) else repr(program)
            raise SystemExit(f"error: {name} exited with {proc.returncode} before it was ready")
        try:
            with LOCAL.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"error: {url} did not answer within {timeout:.0f} s")


_HANDLERS = {"seed": cmd_seed, "import": cmd_import, "export": cmd_export, "repair": cmd_repair}
#: Further subcommands (e.g. ``activate``) register here: a function adding a parser to ``sub``.
_EXTENSIONS: list[Callable[[Any], None]] = []
_EXTENSIONS.append(add_activate_cli)
_HANDLERS["activate"] = cmd_activate
_EXTENSIONS.append(doctor.add_cli)


async def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    return await asyncio.to_thread(doctor.run, settings, args)  # msal blocks


_HANDLERS["doctor"] = cmd_doctor
_EXTENSIONS.append(copy_store.add_cli)
_HANDLERS["copy-store"] = copy_store.cmd_copy_store

