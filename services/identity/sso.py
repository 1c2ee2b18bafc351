"""Confirm who signed in with Teams SSO: on-behalf-of exchange (msal) and Microsoft Graph ``/me``.

The token the Bot Framework token service hands over is a user token for the bot's own API. The
bot exchanges it on behalf of the user for a Graph token (``User.Read``) and asks Graph who that
is; the answer must be the person the activity says is speaking.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from services.identity.graph import GRAPH_URL
from services.identity.msal_app import IdentityUnavailable, token_error

USER_READ = "https://graph.microsoft.com/User.Read"


class SsoError(Exception):
    """The SSO token could not be exchanged or did not identify anyone."""


class SsoVerifier:
    def __init__(self, msal_app: Any, graph_url: str = GRAPH_URL) -> None:
        self.msal_app = msal_app
        self.base = graph_url.rstrip("/") + "/v1.0"

    async def who(self, user_token: str) -> str:
        """The Entra object id of the person ``user_token`` was issued to."""
        try:
            result = await asyncio.to_thread(self.msal_app.acquire_token_on_behalf_of, user_token, [USER_READ])
        except IdentityUnavailable as error:
            raise SsoError(str(error)) from None
        if not result or "access_token" not in result:
            raise SsoError(f"on-behalf-of exchange failed: {token_error(result)}")
        headers = {"Authorization": f"Bearer {result['access_token']}"}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                async with session.get(f"{self.base}/me", params={"$select": "id"}, headers=headers) as resp:
                    if resp.status != 200:
                        raise SsoError(f"Graph /me answered {resp.status}")
                    me = await resp.json()
        except aiohttp.ClientError as error:
            raise SsoError(f"Graph unreachable: {error}") from error
        if not isinstance(me, dict) or not me.get("id"):
            raise SsoError("Graph /me named nobody")
        return str(me["id"])
