"""The configuration the app package is built from.

The manifest must carry the tenant's own ids (the Entra app id of the bot, the Teams app id) and the
public host of the bot. They come from the environment or ``.env`` so that the same checkout builds
the package for a dev tunnel and for production without edits. A setting that is missing or malformed
is refused with a message naming the setting and where to find its value, because a package with a
wrong id uploads fine and then fails silently in Teams.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from services.identity.regions import TOKEN_SERVICE_HOSTS

DEFAULT_BOT_NAME = "Partner Benefits"
DEFAULT_APP_VERSION = "1.0.0"

#: Namespace of the Teams app ids derived from ``MicrosoftAppId`` when ``TEAMS_APP_ID`` is not set.
#: Never change it: a different id makes Teams treat the next upload as a different app.
TEAMS_APP_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:partner-benefits-bot:teams-app-id")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")

MISSING_APP_ID = (
    "MicrosoftAppId is not set. Fill it in .env (copy .env.example) or the environment with the "
    "'Application (client) ID' of the bot's Entra app registration (Azure portal > Microsoft Entra ID > "
    "App registrations > your bot > Overview; the Azure Bot resource shows the same id under "
    "Configuration > Microsoft App ID)."
)
BAD_APP_ID = "MicrosoftAppId must be a GUID like 00000000-0000-0000-0000-000000000000, got {value!r}."
MISSING_BOT_DOMAIN = (
    "BOT_DOMAIN is not set. Fill it in .env or the environment with the public host name of the bot, "
    "without https:// (for a dev tunnel, the host of the URL that `devtunnel host -p 3978 "
    "--allow-anonymous` prints, e.g. abcd1234-3978.euw.devtunnels.ms). It must match the host of the "
    "messaging endpoint of the Azure Bot resource."
)
BAD_BOT_DOMAIN = "BOT_DOMAIN must be a host name such as bot.contoso.com (no path, no port), got {value!r}."
BAD_TEAMS_APP_ID = (
    "TEAMS_APP_ID must be a GUID, got {value!r}. Leave it empty to derive a stable id from MicrosoftAppId."
)
BAD_APP_VERSION = "APP_VERSION must be MAJOR.MINOR.PATCH (e.g. 1.0.3), got {value!r}."
BAD_URL = "{name} must be an https:// URL, got {value!r}."
BAD_REGION = (
    "BOT_TOKEN_SERVICE_REGION must be empty (global) or one of {choices}, got {value!r}: it must be the data "
    "residency of the Azure Bot resource (Azure portal > your Azure Bot > Overview > Location)."
)
TOO_LONG = "{name} is at most {limit} characters in the manifest, got {length}: {value!r}."


class SettingsError(ValueError):
    """A setting needed by the app package is missing or malformed; ``str()`` says how to fix it."""


@dataclass(frozen=True)
class ManifestSettings:
    """Everything in the app package that differs between tenants and deployments."""

    app_id: str
    """``MicrosoftAppId``: the Entra application (client) id of the bot; also the SSO app id."""
    teams_app_id: str
    """``TEAMS_APP_ID``: the id of the Teams app (derived from ``app_id`` when not set)."""
    bot_domain: str
    """``BOT_DOMAIN``: public host name of the bot (messaging endpoint, SSO resource, valid domain)."""
    bot_name: str = DEFAULT_BOT_NAME
    """``BOT_NAME``: the name people see in Teams (at most 30 characters)."""
    developer_name: str = DEFAULT_BOT_NAME
    """``DEVELOPER_NAME``: the organization that runs the bot (at most 32 characters)."""
    developer_website: str = ""
    """``DEVELOPER_WEBSITE``: support page; defaults to ``https://<BOT_DOMAIN>/``."""
    privacy_url: str = ""
    """``PRIVACY_URL``: privacy statement; defaults to ``<DEVELOPER_WEBSITE>/privacy``."""
    terms_url: str = ""
    """``TERMS_URL``: terms of use; defaults to ``<DEVELOPER_WEBSITE>/terms``."""
    app_version: str = DEFAULT_APP_VERSION
    """``APP_VERSION``: version of the package; raise it for every upload that changes the manifest."""
    token_service_host: str = TOKEN_SERVICE_HOSTS[""]
    """The Bot Framework token service of the bot's data residency (``BOT_TOKEN_SERVICE_REGION``):
    Teams must be allowed to open its sign-in pages, so it is one of the package's valid domains."""
    defaulted: tuple[str, ...] = ()
    """Names of the settings that were not given and took their default (reported by the CLI)."""

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv_path: Path | None = None,
    ) -> ManifestSettings:
        """Read the settings from ``.env`` overlaid by the environment (non-empty variables win).

        Args:
            environ: the process environment (``os.environ`` when ``None``).
            dotenv_path: the ``.env`` file; ``None`` reads ``.env`` in the repository root, and a
                path that does not exist is ignored.

        Raises:
            SettingsError: a required setting is missing or a setting is malformed.
        """
        path = dotenv_path if dotenv_path is not None else Path(__file__).resolve().parent.parent / ".env"
        values: dict[str, str] = {}
        if path.is_file():
            values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        # The environment wins, but an empty variable does not blank out a value from .env.
        values.update({k: v for k, v in (os.environ if environ is None else environ).items() if v.strip()})
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ManifestSettings:
        """Validate ``values`` (setting name to text) and fill in the defaults.

        Raises:
            SettingsError: a required setting is missing or a setting is malformed.
        """

        def get(name: str) -> str:
            return (values.get(name) or "").strip()

        defaulted: list[str] = []
        app_id = get("MicrosoftAppId")
        if not app_id:
            raise SettingsError(MISSING_APP_ID)
        if not _GUID.match(app_id):
            raise SettingsError(BAD_APP_ID.format(value=app_id))

        bot_domain = _host_name(get("BOT_DOMAIN"))

        teams_app_id = get("TEAMS_APP_ID")
        if not teams_app_id:
            teams_app_id = str(uuid.uuid5(TEAMS_APP_ID_NAMESPACE, app_id.lower()))
            defaulted.append("TEAMS_APP_ID")
        elif not _GUID.match(teams_app_id):
            raise SettingsError(BAD_TEAMS_APP_ID.format(value=teams_app_id))

        def or_default(name: str, default: str) -> str:
            value = get(name)
            if value:
                return value
            defaulted.append(name)
            return default

        bot_name = _limited("BOT_NAME", or_default("BOT_NAME", DEFAULT_BOT_NAME), 30)
        developer_name = _limited("DEVELOPER_NAME", or_default("DEVELOPER_NAME", bot_name), 32)
        website = _https("DEVELOPER_WEBSITE", or_default("DEVELOPER_WEBSITE", f"https://{bot_domain}/"))
        base = website.rstrip("/")
        privacy_url = _https("PRIVACY_URL", or_default("PRIVACY_URL", f"{base}/privacy"))
        terms_url = _https("TERMS_URL", or_default("TERMS_URL", f"{base}/terms"))
        region = get("BOT_TOKEN_SERVICE_REGION").lower()
        if region not in TOKEN_SERVICE_HOSTS:
            raise SettingsError(BAD_REGION.format(choices=", ".join(sorted(filter(None, TOKEN_SERVICE_HOSTS))),
                                                  value=region))
        app_version = or_default("APP_VERSION", DEFAULT_APP_VERSION)
        if not _SEMVER.match(app_version):
            raise SettingsError(BAD_APP_VERSION.format(value=app_version))

        return cls(
            app_id=app_id.lower(),
            teams_app_id=teams_app_id.lower(),
            bot_domain=bot_domain,
            bot_name=bot_name,
            developer_name=developer_name,
            developer_website=website,
            privacy_url=privacy_url,
            terms_url=terms_url,
            app_version=app_version,
            token_service_host=TOKEN_SERVICE_HOSTS[region],
            defaulted=tuple(defaulted),
        )

    @property
    def sso_resource(self) -> str:
        """The Application ID URI of the bot's Entra app, as Teams SSO expects it for a bot without a tab.

        The host-free form does not tie SSO to the bot's host (a tunnel's host changes) and is accepted by
        tenants that restrict identifier URIs to verified domains.
        """
        return f"api://botid-{self.app_id}"

    def placeholders(self) -> dict[str, str]:
        """The ``${{NAME}}`` values of ``manifest.template.json``."""
        return {
            "MicrosoftAppId": self.app_id,
            "TEAMS_APP_ID": self.teams_app_id,
            "BOT_DOMAIN": self.bot_domain,
            "BOT_NAME": self.bot_name,
            "DEVELOPER_NAME": self.developer_name,
            "DEVELOPER_WEBSITE": self.developer_website,
            "PRIVACY_URL": self.privacy_url,
            "TERMS_URL": self.terms_url,
            "APP_VERSION": self.app_version,
            "SSO_RESOURCE": self.sso_resource,
            "TOKEN_SERVICE_HOST": self.token_service_host,
        }


def _host_name(raw: str) -> str:
    """Accept ``host``, ``https://host`` or ``https://host/api/messages``; return the bare host."""
    if not raw:
        raise SettingsError(MISSING_BOT_DOMAIN)
    text = raw if "://" in raw else f"https://{raw}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise SettingsError(BAD_BOT_DOMAIN.format(value=raw)) from error
    host = (parts.hostname or "").lower()
    if port is not None or parts.query or parts.path.rstrip("/") not in ("", "/api/messages"):
        raise SettingsError(BAD_BOT_DOMAIN.format(value=raw))
    if not _HOST.match(host) or "." not in host:
        raise SettingsError(BAD_BOT_DOMAIN.format(value=raw))
    return host


def _https(name: str, value: str) -> str:
    if not value.lower().startswith("https://") or len(value) > 2048:
        raise SettingsError(BAD_URL.format(name=name, value=value))
    return value


def _limited(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise SettingsError(TOO_LONG.format(name=name, limit=limit, length=len(value), value=value))
    return value
