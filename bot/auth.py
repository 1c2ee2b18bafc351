"""Bot Framework authentication from settings (inbound JWT validation, outbound bot tokens)."""

from __future__ import annotations

from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import BotFrameworkAuthentication

from bot.settings import Settings


class BotConfiguration:
    """The attribute-style configuration object botbuilder reads (``APP_ID``, ``APP_PASSWORD``...)."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        # Without an app id authentication is off (local Playground); botbuilder only accepts an
        # empty id for the MultiTenant type, so the type is irrelevant then and set to that.
        self.APP_TYPE = settings.app_type if settings.app_id else "MultiTenant"
        self.APP_TENANTID = settings.tenant_id

    def __repr__(self) -> str:  # never print the password
        return f"BotConfiguration(APP_ID={self.APP_ID!r}, APP_TYPE={self.APP_TYPE!r})"


def build_authentication(settings: Settings, **overrides: Any) -> BotFrameworkAuthentication:
    return ConfigurationBotFrameworkAuthentication(BotConfiguration(settings), **overrides)
