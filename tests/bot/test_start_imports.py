"""What a start of the bot imports: a bot on the data folder's store never loads the PostgreSQL driver
(opening its store included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_bot_on_its_data_folder_does_not_import_the_database_driver(tmp_path: Path) -> None:
    code = ("import asyncio, sys; import bot.cli, bot.app; from bot.stores import domain_store, storage_config; "
            "from bot.settings import Settings; settings = Settings.from_env(); "
            "assert storage_config(settings) is None\n"
            "async def main():\n"
            "    async with domain_store(settings) as store:\n"
            "        assert store.created\n"
            "asyncio.run(main())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool')))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
