"""Typed keys of the aiohttp application (``web.AppKey``), one per collaborator."""

from __future__ import annotations

from aiohttp import web

SETTINGS = web.AppKey("settings", "Settings")
DOMAIN_STORE = web.AppKey("domain_store", "DocumentStore")
STATE_STORE = web.AppKey("state_store", "DocumentStore")
SERVICE = web.AppKey("service", "BenefitsService")
ADAPTER = web.AppKey("adapter", "BenefitsAdapter")
BOT = web.AppKey("bot", "BenefitsBot")
WORKFLOWS = web.AppKey("workflows", "Workflows")
DIRECTORY = web.AppKey("directory", "Directory")
SIGNING_KEYS = web.AppKey("signing_keys", "SigningKeys")
MSAL_CLIENTS = web.AppKey("msal_clients", "MsalClients")
