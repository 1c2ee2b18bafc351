"""What a start of the bot imports: a bot on the data folder's store never loads the PostgreSQL driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_bot_on_its_data_folder_does_not_import_the_database_driver() -> None:
    code = ("import sys; import bot.__main__, bot.app; from bot.stores import storage_config; "
            "from bot.settings import Settings; assert storage_config(Settings.from_env()) is None; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool')))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": "/nonexistent"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
