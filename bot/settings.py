"""Configuration from environment variables (and an optional ``.env``), Bot Framework's names.

Everything has an embedded default so that ``make run`` works on a fresh machine: no app id means
authentication is off, which is what the local Agents Playground expects.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

log = logging.getLogger(__name__)

#: the files of ``DATA_DIR``: the domain data, and the bot's state (dialog stacks, user and chat state)
DOMAIN_FILE = "benefits.json"
STATE_FILE = "state.json"

#: Settings whose values are secrets: never logged, masked in ``repr``.
SECRET_NAMES = frozenset({"MicrosoftAppPassword", "ACTIVATIONS_SECRET", "BACKUP_SECRET", "GRAPH_CLIENT_SECRET"})


@dataclass(frozen=True)
class Settings:
    """The bot's configuration; see ``.env.example`` for every name."""

    app_id: str = ""
    """``MicrosoftAppId``: the Entra app (client) id of the bot. Empty: authentication off."""
    app_password: str = field(default="", repr=False)
    """``MicrosoftAppPassword``: the client secret. Never logged."""
    app_type: str = "SingleTenant"
    """``MicrosoftAppType``: SingleTenant (default), MultiTenant or UserAssignedMSI."""
    tenant_id: str = ""
    """``MicrosoftAppTenantId``: the Entra tenant of a single-tenant bot."""
    host: str = "127.0.0.1"
    """``HOST``: address to listen on."""
    port: int = 3978
    """``PORT``: port of ``/api/messages``."""
    data_dir: Path = Path("data")
    """``DATA_DIR``: folder of the TinyDB files."""
    log_level: str = "INFO"
    """``LOG_LEVEL``: DEBUG, INFO, WARNING, ERROR."""
    seed_demo: bool = False
    """``SEED_DEMO``: load the Contoso demo data when the store is created (a data folder that never held
    it); off by default, ``python -m bot dev`` (``make run``) turns it on."""
    global_admins: tuple[str, ...] = ()
    """``GLOBAL_ADMINS``: comma-separated emails or ids made Global admin at start (the first admin)."""
    activations_secret: str = field(default="", repr=False)
    """``ACTIVATIONS_SECRET``: bearer secret of ``POST /api/activations``; empty disables the endpoint."""
    backup_secret: str = field(default="", repr=False)
    """``BACKUP_SECRET``: bearer secret of ``GET /api/backup`` (loopback only), what ``export`` uses
    while the bot runs; empty disables the endpoint."""
    sso_connection_name: str = ""
    """``SSO_CONNECTION_NAME``: OAuth connection of the Azure Bot resource for Teams SSO."""
    playground_port: int = 56150
    """``PLAYGROUND_PORT``: where ``make run`` starts the Agents Playground."""
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Every raw variable, for parts that read optional endpoint overrides (tests, sovereign clouds)."""

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
        """Read the environment; a ``.env`` file fills in names the environment does not set."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        def get(name: str, default: str = "") -> str:
            return values.get(name, default).strip()

        admins = tuple(a.strip() for a in get("GLOBAL_ADMINS").split(",") if a.strip())
        return cls(
            app_id=get("MicrosoftAppId"),
            app_password=get("MicrosoftAppPassword"),
            app_type=get("MicrosoftAppType", "SingleTenant") or "SingleTenant",
            tenant_id=get("MicrosoftAppTenantId"),
            host=get("HOST", "127.0.0.1") or "127.0.0.1",
            port=int(get("PORT", "3978") or 3978),
            data_dir=Path(get("DATA_DIR", "data") or "data"),
            log_level=(get("LOG_LEVEL", "INFO") or "INFO").upper(),
            seed_demo=get("SEED_DEMO", "false").lower() in ("1", "true", "yes", "on"),
            global_admins=admins,
            activations_secret=get("ACTIVATIONS_SECRET"),
            backup_secret=get("BACKUP_SECRET"),
            sso_connection_name=get("SSO_CONNECTION_NAME"),
            playground_port=int(get("PLAYGROUND_PORT", "56150") or 56150),
            extra=dict(values),
        )

    def safe_summary(self) -> dict[str, object]:
        """What start-up logs: no secret, only whether each one is set."""
        return {
            "app_id": self.app_id or None,
            "app_type": self.app_type,
            "tenant_id": self.tenant_id or None,
            "auth": "on" if self.auth_enabled else "off",
            "app_password_set": bool(self.app_password),
            "activations_secret_set": bool(self.activations_secret),
            "backup_secret_set": bool(self.backup_secret),
            "sso": self.sso_connection_name or None,
            "port": self.port,
            "data_dir": str(self.data_dir),
        }


def number_setting(extra: Mapping[str, str], name: str, default: float, *, allow_zero: bool = False) -> float:
    """A numeric setting; a value that is not a number, negative (or zero unless ``allow_zero``) falls back
    to ``default`` with a warning naming the setting, so a typo never stops the bot."""
    raw = (extra.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        log.warning("ignoring a setting that is not a number", extra={"setting": name})
        return default
    return value if value > 0 or (allow_zero and value == 0) else default
