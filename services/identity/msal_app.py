"""One place that builds msal ``ConfidentialClientApplication`` objects the way this bot needs them.

* ``instance_discovery=False``: msal would otherwise ask the public instance-discovery endpoint about
  every authority, which fails for sovereign/private authorities and offline.
* ``http_client``: a ``requests.Session`` with ``trust_env=False`` so that ``REQUESTS_CA_BUNDLE`` and
  proxy variables cannot silently override the certificate check we ask for (``MSAL_CA_BUNDLE``).
* One application per credential, shared: msal's in-memory token cache then serves later calls, so
  a busy bot does not ask the login endpoint for a token on every turn.
"""

from __future__ import annotations

import threading

import msal
import requests

PUBLIC_LOGIN = "https://login.microsoftonline.com"


def authority_for(tenant_id: str, login_url: str = "") -> str:
    """``BOT_LOGIN_URL`` when set (sovereign clouds, tests), else the public cloud's tenant authority."""
    if login_url:
        return login_url.rstrip("/")
    return f"{PUBLIC_LOGIN}/{tenant_id or 'botframework.com'}"


def http_session(ca_bundle: str = "") -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if ca_bundle:
        session.verify = ca_bundle
    return session


class MsalClients:
    """The msal applications of one running bot, one per credential, created on first use.

    Owned by the application (no module-level singleton), shared by the Bot Connector credentials,
    the Graph directory and the SSO on-behalf-of exchange of the same app registration.
    """

    def __init__(self, ca_bundle: str = "") -> None:
        self.ca_bundle = ca_bundle
        self._apps: dict[tuple[str, str, str], msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str, secret: str, authority: str) -> msal.ConfidentialClientApplication:
        key = (client_id, secret, authority)
        with self._lock:
            app = self._apps.get(key)
            if app is None:
                app = msal.ConfidentialClientApplication(
                    client_id, client_credential=secret, authority=authority,
                    instance_discovery=False, http_client=http_session(self.ca_bundle),
                )
                self._apps[key] = app
            return app


def token_error(result: dict[str, object] | None) -> str:
    """A loggable reason from an msal error result (never the token)."""
    if not result:
        return "no response"
    return f"{result.get('error', 'unknown_error')}: {str(result.get('error_description', ''))[:200]}"
