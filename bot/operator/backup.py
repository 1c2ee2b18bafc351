"""``GET /api/backup``: a backup of the running bot's domain data, for ``python -m bot export``.

Why: the bot holds its data folder's lock while it runs, so ``export`` cannot open the data itself
without stopping the bot. Instead it asks the running bot, which writes its dump from a consistent view of its tables
(``services.storage.backup.encode_export``; no loop stall). The dump holds product keys, so the
endpoint answers only loopback callers that send ``BACKUP_SECRET`` (compared in constant time), is
off when that is not set, and never logs the body.
"""

from __future__ import annotations

import logging
import sys
import urllib.request

from aiohttp import web

from bot import keys
from bot.loopback import call_running_bot
from bot.operator.bearer import LOOPBACK, authenticated
from bot.settings import Settings
from services.storage.backup import encode_export

log = logging.getLogger(__name__)


def _refusal(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def get_backup(request: web.Request) -> web.Response:
    secret = request.app[keys.SETTINGS].backup_secret
    if not secret:
        return _refusal(503, "backups over HTTP are disabled: set BACKUP_SECRET to enable them")
    if request.remote not in LOOPBACK:
        return _refusal(403, "backups are served to this machine only")
    if not authenticated(secret, request.headers.get("Authorization", "")):
        return _refusal(401, "missing or wrong bearer secret")
    body = await encode_export(request.app[keys.DOMAIN_STORE])
    log.info("backup served", extra={"bytes": len(body)})
    return web.Response(body=body, content_type="application/json", headers={"Cache-Control": "no-store"})


def fetch_from_running_bot(settings: Settings) -> bytes | int:
    """The bot holds the data folder: ask it for the dump over loopback.

    Returns the dump, or the exit status after saying why there is none: 1 refused by the bot,
    3 the bot cannot be asked.
    """
    if not settings.backup_secret:
        print("error: the bot is running and BACKUP_SECRET is not set, so it cannot hand out a backup; "
              "set it (and restart the bot) or stop the bot and run this again", file=sys.stderr)
        return 3
    request = urllib.request.Request(f"http://127.0.0.1:{settings.port}/api/backup",
                                     headers={"Authorization": f"Bearer {settings.backup_secret}"})
    return call_running_bot(request, settings.port, timeout=300)
