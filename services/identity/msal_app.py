"""One place that builds msal ``ConfidentialClientApplication`` objects the way this bot needs them.

* ``instance_discovery=False``: msal would otherwise ask the public instance-discovery endpoint about
  every authority, which fails for sovereign/private authorities and offline.
* ``http_client``: a ``requests.Session`` with ``trust_env=False`` so that ``REQUESTS_CA_BUNDLE`` and
  proxy variables cannot silently override the certificate check we ask for (``MSAL_CA_BUNDLE``).
* One application per credential, shared: msal's in-memory token cache then serves later calls, so
  a busy bot does not ask the login endpoint for a token on every turn.
* Built on first use, not at start: msal asks the authority for its OpenID configuration when an
  application is created and raises when Entra cannot be reached, which made a login outage a crash
  loop. ``MsalClients.get`` hands out a :class:`LazyMsalApp` at once; it builds the msal application
  when first used and, while Entra stays unreachable, raises :class:`IdentityUnavailable` (trying
  again at most once per ``retry_s``). ``status()`` says what is missing (``/readyz``), ``warm()``
  tries the missing ones (the app calls it in the background until they all work).
* Every HTTP call msal makes has a timeout (``HTTP_TIMEOUT_S``): a login endpoint that accepts and
  never answers cannot hold a worker thread forever.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import msal
import requests

from services.identity.directory import DirectoryError

log = logging.getLogger(__name__)

PUBLIC_LOGIN = "https://login.microsoftonline.com"


def authority_for(tenant_id: str, login_url: str = "") -> str:
    """``BOT_LOGIN_URL`` when set (sovereign clouds, tests), else the public cloud's tenant authority."""
    if login_url:
        return login_url.rstrip("/")
    return f"{PUBLIC_LOGIN}/{tenant_id or 'botframework.com'}"


#: (connect, read) seconds of every HTTP call msal makes
HTTP_TIMEOUT_S = (5.0, 15.0)
#: least seconds between two attempts to build an application while Entra is unreachable
RETRY_S = 30.0


class _TimeoutSession(requests.Session):
    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = HTTP_TIMEOUT_S
        return super().request(method, url, *args, **kwargs)


def http_session(ca_bundle: str = "") -> requests.Session:
    session = _TimeoutSession()
    session.trust_env = False
    if ca_bundle:
        session.verify = ca_bundle
    return session


class IdentityUnavailable(DirectoryError):
    """The identity provider (Entra) could not be reached or answered with an error; try again later."""


class LazyMsalApp:
    """An msal ``ConfidentialClientApplication`` built on first use; stands in for it (same methods)."""

    def __init__(self, client_id: str, secret: str, authority: str, ca_bundle: str = "",
                 retry_s: float = RETRY_S, clock: Any = time.monotonic) -> None:
        self.client_id = client_id
        self._secret = secret
        self.authority = authority
        self.ca_bundle = ca_bundle
        self.retry_s = retry_s
        self.clock = clock
        self.last_error = ""
        self._app: msal.ConfidentialClientApplication | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._app is not None

    def app(self, *, force: bool = False) -> msal.ConfidentialClientApplication:
        """The msal application; ``IdentityUnavailable`` while the authority cannot be reached."""
        app = self._app
        if app is not None:
            return app
        with self._lock:
            if self._app is not None:
                return self._app
            if (not force and self._failed_at is not None
                    and self.clock() - self._failed_at < self.retry_s):
                raise IdentityUnavailable(self.last_error)
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id, client_credential=self._secret, authority=self.authority,
                    instance_discovery=False, http_client=http_session(self.ca_bundle),
                )
            except Exception as error:  # noqa: BLE001 - msal raises ValueError, requests errors, RuntimeError
                self._failed_at = self.clock()
                reason = f"{type(error).__name__}: {error}"
                self.last_error = f"identity provider {self.authority} unreachable: {reason}"[:400]
                log.warning("identity provider unreachable", extra={"authority": self.authority,
                                                                   "reason": self.last_error})
                raise IdentityUnavailable(self.last_error) from None
            if self._failed_at is not None:
                log.info("identity provider reachable again", extra={"authority": self.authority})
            self.last_error = ""
            return self._app

    def __getattr__(self, name: str) -> Any:  # acquire_token_for_client, acquire_token_silent, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.app(), name)

    def __repr__(self) -> str:  # never the secret
        return f"LazyMsalApp({self.client_id!r}, {self.authority!r}, ready={self.ready})"


class MsalClients:
    """The msal applications of one running bot, one per credential, created on first use.

    Owned by the application (no module-level singleton), shared by the Bot Connector credentials,
    the Graph directory and the SSO on-behalf-of exchange of the same app registration.
    """

    def __init__(self, ca_bundle: str = "", retry_s: float = RETRY_S) -> None:
        self.ca_bundle = ca_bundle
        self.retry_s = retry_s
        self._apps: dict[tuple[str, str, str], LazyMsalApp] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str, secret: str, authority: str) -> LazyMsalApp:
        key = (client_id, secret, authority)
        with self._lock:
            app = self._apps.get(key)
            if app is None:
                app = self._apps[key] = LazyMsalApp(client_id, secret, authority, self.ca_bundle, self.retry_s)
            return app

    def status(self) -> list[dict[str, object]]:
        """Each application: its authority, whether it works, and why not (for ``/readyz``)."""
        with self._lock:
            apps = list(self._apps.values())
        return [{"authority": a.authority, "client_id": a.client_id, "ready": a.ready,
                 "detail": "" if a.ready else a.last_error or f"identity provider {a.authority} not reached yet"}
                for a in apps]

    def warm(self) -> bool:
        """Build every application not built yet (blocking: run it in a thread); True when all work."""
        with self._lock:
            pending = [a for a in self._apps.values() if not a.ready]
        for app in pending:
            try:
                app.app(force=True)
            except IdentityUnavailable:
                pass
        return all(a.ready for a in pending)


def token_error(result: dict[str, object] | None) -> str:
    """A loggable reason from an msal error result (never the token)."""
    if not result:
        return "no response"
    return f"{result.get('error', 'unknown_error')}: {str(result.get('error_description', ''))[:200]}"
