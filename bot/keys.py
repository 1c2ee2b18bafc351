"""Typed keys of the aiohttp application (``web.AppKey``), one per collaborator."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # the collaborators import these keys: their types are named here, never imported at run time
    from bot.adapter import BenefitsAdapter
    from bot.handler import BenefitsBot
    from bot.settings import Settings
    from bot.signing_keys import SigningKeys
    from dialogs.registry import Workflows
    from services.benefits import BenefitsService
    from services.identity.directory import Directory
    from services.identity.msal_app import MsalClients
    from services.storage.base import DocumentStore

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DOMAIN_STORE: web.AppKey[DocumentStore] = web.AppKey("domain_store")
STATE_STORE: web.AppKey[DocumentStore] = web.AppKey("state_store")
SERVICE: web.AppKey[BenefitsService] = web.AppKey("service")
ADAPTER: web.AppKey[BenefitsAdapter] = web.AppKey("adapter")
BOT: web.AppKey[BenefitsBot] = web.AppKey("bot")
WORKFLOWS: web.AppKey[Workflows] = web.AppKey("workflows")
DIRECTORY: web.AppKey[Directory] = web.AppKey("directory")
SIGNING_KEYS: web.AppKey[SigningKeys] = web.AppKey("signing_keys")
MSAL_CLIENTS: web.AppKey[MsalClients] = web.AppKey("msal_clients")
#: set once the server listens (``bot.server``): the work left for after the start begins then
SERVING: web.AppKey[asyncio.Event] = web.AppKey("serving")
