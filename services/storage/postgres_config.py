"""Where the shared PostgreSQL database is, read from the settings, without loading its driver.

Why its own module: every start reads the settings to choose the engine, and most bots run on the data
folder's store; the driver (``psycopg``, with its pool) is imported by ``services.storage.postgres``, only
when a database is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql://", "postgres://")
#: conninfo keywords read from ``PG*`` settings (a ``.env`` file is not seen by libpq itself)
PG_SETTINGS = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password",
               "PGDATABASE": "dbname", "PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert",
               "PGAPPNAME": "application_name"}
NumberSetting = Callable[[Mapping[str, str], str, float], float]


def conninfo_module() -> ModuleType:
    """``psycopg.conninfo``, imported when a database is named (see the module docstring)."""
    from psycopg import conninfo

    return conninfo


@dataclass(frozen=True)
class PostgresConfig:
    """Where the database is and how the engine talks to it (see :meth:`from_settings`)."""

    conninfo: str
    """A ``postgresql://`` URL or libpq key=value string; empty: libpq's ``PG*`` environment."""
    pool_min: int = 2
    pool_max: int = 10
    connect_timeout: float = 5.0
    """Seconds to wait for a connection (from the pool or the server) before the operation fails."""
    statement_timeout: float = 15.0
    """Seconds a statement (or a lock wait) may take before the server cancels it."""
    poll_seconds: float = 1.0
    """How often an idle instance catches up with the others' writes (and checks the database)."""
    tombstone_seconds: float = 3600.0
    retries: int = 1
    """Times an operation whose pooled connection the server dropped (a restart, a failover) is tried again
    on a fresh one before the turn is told to try again later; a write only while none of it was sent."""

    @classmethod
    def from_settings(cls, extra: Mapping[str, str], number: NumberSetting) -> PostgresConfig | None:
        """The configuration that ``STORAGE_URL`` (or, when it is unset, ``PGHOST``) selects; None: TinyDB.

        ``STORAGE_URL=postgresql://user@host/db?sslmode=require`` names the database; ``STORAGE_URL=postgresql``
        alone takes every detail from ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE`` and
        ``PGSSLMODE``. Tunables: ``PG_POOL_MIN``, ``PG_POOL_MAX``, ``PG_CONNECT_TIMEOUT_SECONDS``,
        ``PG_STATEMENT_TIMEOUT_SECONDS``, ``PG_POLL_SECONDS``, ``PG_RETRIES``, read with
        ``number(extra, name, default)`` (the bot's own parser of numeric settings: positive, a typo falls
        back to the default).
        """
        url = (extra.get("STORAGE_URL") or "").strip()
        pg_vars = {key: extra[name].strip() for name, key in PG_SETTINGS.items() if (extra.get(name) or "").strip()}
        if url.startswith(URL_SCHEMES):
            conninfo = url
        elif url.rstrip(":/") in ("postgresql", "postgres") or (not url and "host" in pg_vars):
            conninfo = conninfo_module().make_conninfo("", **pg_vars)
        else:
            return None
        pool_min = int(number(extra, "PG_POOL_MIN", 2))
        return cls(
            conninfo=conninfo,
            pool_min=pool_min,
            pool_max=max(pool_min, 3, int(number(extra, "PG_POOL_MAX", 10))),
            connect_timeout=number(extra, "PG_CONNECT_TIMEOUT_SECONDS", 5.0),
            statement_timeout=number(extra, "PG_STATEMENT_TIMEOUT_SECONDS", 15.0),
            poll_seconds=number(extra, "PG_POLL_SECONDS", 1.0),
            retries=int(number(extra, "PG_RETRIES", 1)),
        )

    @property
    def safe_target(self) -> str:
        """The database named without its password, for logs and ``/readyz``."""
        if self.conninfo.startswith(URL_SCHEMES):
            parts = urlsplit(self.conninfo)
            host = parts.hostname or ""
            netloc = f"{parts.username}@{host}" if parts.username else host
            if parts.port:
                netloc += f":{parts.port}"
            return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        params = conninfo_module().conninfo_to_dict(self.conninfo)
        return "postgresql://{}@{}:{}/{}".format(params.get("user", ""), params.get("host", ""),
                                                 params.get("port", ""), params.get("dbname", ""))
