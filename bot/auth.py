"""Bot Framework authentication from settings: strict inbound JWT validation, msal outbound tokens.

Inbound: with ``MicrosoftAppId`` set only the Bot Connector may call ``/api/messages``. The SDK
rejects bad tokens in many different ways (``PermissionError`` for some, ``KeyError``, PyJWT errors
and plain ``Exception`` for others), which the adapter would answer with 500. ``StrictAuthentication``
turns every failure into ``PermissionError`` (401) and logs the reason, never the token. A header that
cannot be a Bot Connector token (not ``Bearer``, not a JWT, an algorithm the SDK does not allow, no key
id) is refused before the SDK sees it, so it never makes the SDK look for a signing key; when no
signing key could be fetched yet the answer is 503 (``bot.signing_keys``).

Outbound: the SDK builds a fresh msal application per credentials object, and msal asks the public
instance-discovery endpoint about its authority first. ``MsalCredentialFactory`` hands the SDK
credentials that share one msal application per credential (``services.identity.msal_app``), so
msal's cache serves later turns and sovereign/private authorities work.

Endpoint overrides (sovereign clouds, offline tests): when any of ``BOT_OPENID_METADATA_URL``,
``BOT_TOKEN_ISSUER``, ``BOT_LOGIN_URL``, ``BOT_OAUTH_SCOPE``, ``BOT_OAUTH_URL`` is set, the SDK
switches to fully parameterized settings and fills in no default, so every attribute is set here,
the unset ones with their public-cloud values.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from msrest.authentication import Authentication

from bot.logs import RateLimitedLog
from bot.settings import Settings
from bot.signing_keys import SigningKeysUnavailable
from services.identity.msal_app import PUBLIC_LOGIN, MsalClients
from services.identity.regions import token_service_url

log = logging.getLogger(__name__)

#: Environment names of the endpoint overrides (documented in .env.example and docs/identity.md).
OVERRIDE_NAMES = ("BOT_OPENID_METADATA_URL", "BOT_TOKEN_ISSUER", "BOT_LOGIN_URL", "BOT_OAUTH_SCOPE", "BOT_OAUTH_URL")


def login_url(settings: Settings) -> str:
    """Where the bot gets its own tokens: ``BOT_LOGIN_URL``, else its tenant's public authority."""
    override = settings.extra.get("BOT_LOGIN_URL", "").strip()
    if override:
        return override.rstrip("/")
    tenant = settings.tenant_id if settings.app_type.lower() == "singletenant" and settings.tenant_id else ""
    return f"{PUBLIC_LOGIN}/{tenant or 'botframework.com'}"


class BotConfiguration:
    """The attribute-style configuration object botbuilder reads (``APP_ID``, ``APP_PASSWORD``...)."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        # Without an app id authentication is off (local Playground); botbuilder only accepts an
        # empty id for the MultiTenant type, so the type is irrelevant then and set to that.
        self.APP_TYPE = settings.app_type if settings.app_id else "MultiTenant"
        self.APP_TENANTID = settings.tenant_id
        extra = {name: settings.extra.get(name, "").strip() for name in OVERRIDE_NAMES}
        if any(extra.values()):
            metadata = extra["BOT_OPENID_METADATA_URL"]
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
                metadata or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                metadata or AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL)
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                extra["BOT_TOKEN_ISSUER"] or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = login_url(settings)
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                extra["BOT_OAUTH_SCOPE"] or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE)
            self.OAUTH_URL = extra["BOT_OAUTH_URL"] or AuthenticationConstants.OAUTH_URL
        region = settings.extra.get("BOT_TOKEN_SERVICE_REGION", "").strip()
        if region and not extra["BOT_OAUTH_URL"]:
            # a regional bot's sign-ins must stay in its data residency
            self.OAUTH_URL = token_service_url(region)

    def __repr__(self) -> str:  # never print the password
        return f"BotConfiguration(APP_ID={self.APP_ID!r}, APP_TYPE={self.APP_TYPE!r})"


class _SharedMsalCredentials(MicrosoftAppCredentials):
    """SDK credentials whose msal application is the shared one (its cache serves later turns)."""

    def __init__(self, app_id: str, password: str, oauth_scope: str, msal_app: Any) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.app = msal_app  # MicrosoftAppCredentials uses ``self.app`` when it is set


class MsalCredentialFactory(PasswordServiceClientCredentialFactory):
    """Credentials for the connector and the token service, from one msal app per credential."""

    def __init__(self, app_id: str, password: str, tenant_id: str, authority: str, clients: MsalClients) -> None:
        super().__init__(app_id, password, tenant_id)
        self.authority = authority
        self.clients = clients

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> Authentication:
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("credentials asked for an unknown app id")
        msal_app = self.clients.get(self.app_id, self.password, self.authority)
        return _SharedMsalCredentials(app_id, self.password, oauth_scope, msal_app)


class StrictAuthentication(BotFrameworkAuthentication):
    """Delegates everything; any failure to authenticate a request becomes ``PermissionError``.

    With authentication off (no app id: the local Playground) a request's ``Authorization`` header is
    not looked at: the SDK would otherwise try to check it against the public Bot Framework keys,
    which an offline bot cannot reach and which could not vouch for a bot without an id anyway.
    """

    def __init__(self, inner: BotFrameworkAuthentication, enabled: bool = True) -> None:
        self.inner = inner
        self.enabled = enabled
        self.refusals = RateLimitedLog(log, "requests not authenticated")

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        if not self.enabled:
            auth_header = ""
        try:
            _screen(auth_header)
            return await self.inner.authenticate_request(activity, auth_header)
        except SigningKeysUnavailable:
            raise
        except Exception as error:
            raise _refused(error, auth_header, getattr(activity, "channel_id", None), self.refusals) from None

    async def authenticate_streaming_request(self, auth_header: str,
                                             channel_id_header: str) -> AuthenticateRequestResult:
        try:
            _screen(auth_header)
            return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)
        except SigningKeysUnavailable:
            raise
        except Exception as error:
            raise _refused(error, auth_header, channel_id_header, self.refusals) from None

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            _screen(auth_header)
            return await self.inner.authenticate_channel_request(auth_header)
        except SigningKeysUnavailable:
            raise
        except Exception as error:
            raise _refused(error, auth_header, None, self.refusals) from None

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self.inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self.inner.get_originating_audience()

    async def generate_caller_id(self, *, credential_factory: ServiceClientCredentialsFactory,
                                 claims_identity: ClaimsIdentity, caller_id: str) -> str:
        return await self.inner.generate_caller_id(credential_factory=credential_factory,
                                                   claims_identity=claims_identity, caller_id=caller_id)

    def __getattr__(self, name: str) -> Any:  # anything a later SDK adds
        return getattr(self.inner, name)


#: the longest key id accepted in a token header (published ids are short)
MAX_KEY_ID = 128


def _screen(auth_header: str) -> None:
    """Refuse a non-empty header that cannot be a signed Bot Connector token, before any key lookup.

    An empty header is left to the SDK (with authentication off it means an anonymous caller).
    """
    if not auth_header:
        return
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token or " " in token:
        raise PermissionError("not a Bearer token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise PermissionError(f"not a JWT: {error}") from None
    if header.get("alg") not in AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS:
        raise PermissionError("token signing algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KEY_ID:
        raise PermissionError("the token names no usable signing key id")


def _refused(error: Exception, auth_header: str, channel: str | None, refusals: RateLimitedLog) -> PermissionError:
    """Count why a request was refused, without the credentials it carried: a flood of forged tokens
    writes one line per interval with the reasons counted, not a line per request."""
    reason = f"{type(error).__name__}: {error}"
    for secret in (auth_header or "").split():
        if len(secret) > 8:
            reason = reason.replace(secret, "<redacted>")
    scheme = (auth_header or "").split(" ", 1)[0] if auth_header else "none"
    refusals.count(f"{scheme[:20]} on {str(channel)[:40]}: {reason[:200]}")
    return PermissionError("Unauthorized")


async def keep_identity_warm(clients: MsalClients, retry_s: float) -> None:
    """Build the msal applications until Entra answers for each (``/readyz`` names the missing ones).

    A login outage at start must not stop the bot: it starts, reports what is missing and retries.
    """
    while True:
        if await asyncio.to_thread(clients.warm):
            return
        await asyncio.sleep(retry_s)


def build_authentication(settings: Settings, clients: MsalClients | None = None,
                         **overrides: Any) -> BotFrameworkAuthentication:
    """The strict authentication object; with an app id and a secret, outbound tokens come from msal."""
    clients = clients or MsalClients(settings.extra.get("MSAL_CA_BUNDLE", "").strip())
    if settings.app_id and settings.app_password and "credentials_factory" not in overrides:
        overrides["credentials_factory"] = MsalCredentialFactory(
            settings.app_id, settings.app_password, settings.tenant_id, login_url(settings), clients)
    return StrictAuthentication(ConfigurationBotFrameworkAuthentication(BotConfiguration(settings), **overrides),
                                enabled=settings.auth_enabled)
