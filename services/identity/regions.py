"""Where the Bot Framework token service of a bot's data residency lives.

Azure AI Bot Service runs the OAuth (token) service per data residency; a regional bot must use its
region's host at run time, in its OAuth redirect URI and in the Teams package's valid domains, or sign-in
data leaves the region.
"""

from __future__ import annotations

#: ``BOT_TOKEN_SERVICE_REGION`` → token service host ("" is the global service).
TOKEN_SERVICE_HOSTS: dict[str, str] = {
    "": "token.botframework.com",
    "europe": "europe.token.botframework.com",
    "unitedstates": "unitedstates.token.botframework.com",
    "india": "india.token.botframework.com",
}


def token_service_url(region: str) -> str:
    """The OAuth URL the bot calls for ``region``; ``ValueError`` names the accepted regions."""
    key = region.strip().lower()
    if key not in TOKEN_SERVICE_HOSTS:
        raise ValueError(f"BOT_TOKEN_SERVICE_REGION must be empty or one of "
                         f"{', '.join(sorted(filter(None, TOKEN_SERVICE_HOSTS)))}, got {region!r}")
    return f"https://{TOKEN_SERVICE_HOSTS[key]}"
