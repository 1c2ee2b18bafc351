"""The operators' HTTP endpoints (``/api/activations``, ``/api/backup``) and their CLI side.

Why a room of their own: they are not Teams traffic. They answer integrations and the operator's own
``python -m bot activate`` / ``export`` with a shared secret (``bearer``) instead of a Bot Connector
token, and they sit beside, not inside, the app that serves turns (``bot.app`` adds them with
:func:`add_routes`).
"""

from __future__ import annotations

from aiohttp import web

from bot.operator.activations import post_activations
from bot.operator.backup import get_backup


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/activations", post_activations)
    app.router.add_get("/api/backup", get_backup)
