"""Fake Microsoft identity endpoints on loopback, in their own thread and event loop.

* ``https`` (self-signed certificate made at start, msal refuses http authorities): the Entra
  authority ``/{tenant}/v2.0/.well-known/openid-configuration`` and its token endpoint
  (client credentials and on-behalf-of grants); every token request is recorded.
* ``http``: the Bot Connector's OpenID metadata and JWKS (keys endorsed for ``msteams``), a fake
  Microsoft Graph (``/v1.0/users`` with paging, ``/users/{id}``, ``transitiveMemberOf`` directory
  roles, ``/me``; scripted 429 / 403 answers) and the Bot Framework token service used by Teams SSO.

``mint()`` signs Bot Framework-style RS256 channel tokens with the served key (or any other).
The SDK and msal block on ``requests``, so a fake served on the bot's own loop would deadlock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests._common.loopback import LoopbackServer

ISSUER = "https://api.botframework.com"
APP_ID = "11111111-2222-3333-4444-555555555555"
APP_SECRET = "test-secret-not-real"
TENANT = "contoso-tenant"
KID = "test-key-1"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(key: rsa.RSAPrivateKey) -> bytes:
    import ipaddress

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakeIdentity:
    """All fake identity endpoints; tests read the recorded requests and set scripted answers."""

    #: Graph users (``id``, ``displayName``, ``mail``, ``userPrincipalName``)
    users: list[dict[str, Any]] = field(default_factory=list)
    #: Entra directory role template ids per user id
    roles: dict[str, list[str]] = field(default_factory=dict)
    page_size: int = 2
    #: statuses Graph answers before serving normally (e.g. [429] or [403])
    graph_failures: list[int] = field(default_factory=list)
    #: token service: users holding a token (GetToken 200), exchangeable SSO tokens -> aad object id
    user_tokens: dict[str, str] = field(default_factory=dict)
    exchangeable: dict[str, str] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    graph_requests: list[str] = field(default_factory=list)
    exchange_requests: list[dict[str, Any]] = field(default_factory=list)
    endorsements: list[str] = field(default_factory=lambda: ["msteams", "webchat"])
    #: Bot Connector signing keys: requests served, a delay and a status to answer with (outages)
    metadata_fetches: int = 0
    key_fetches: int = 0
    keys_in_flight: int = 0
    keys_delay_s: float = 0.0
    keys_status: int = 200
    kid: str = KID
    #: Entra authority (discovery and token endpoint) answers 503 while False
    entra_up: bool = True
    #: the client secret has expired (Entra answers AADSTS7000222)
    secret_expired: bool = False
    #: application permissions granted to the app: the ``roles`` of its Graph tokens
    granted: list[str] = field(default_factory=lambda: ["User.Read.All", "RoleManagement.Read.Directory",
                                                        "TeamsAppInstallation.ReadWriteSelfForUser.All"])
    #: Teams app catalog (catalog id -> manifest id) and personal installations (user id -> catalog ids)
    catalog: dict[str, str] = field(default_factory=dict)
    installed_apps: dict[str, list[str]] = field(default_factory=dict)
    install_requests: list[tuple[str, str]] = field(default_factory=list)

    def start(self) -> FakeIdentity:
        self.signing_key = new_key()
        tls_key = new_key()
        self._dir = tempfile.TemporaryDirectory()
        folder = Path(self._dir.name)
        self.ca_file = str(folder / "cert.pem")
        Path(self.ca_file).write_bytes(self_signed(tls_key))
        key_file = folder / "key.pem"
        key_file.write_bytes(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(self.ca_file, str(key_file))
        self._server = LoopbackServer(self._app(), (None, self._ssl)).start()
        self.http_port, self.https_port = self._server.ports
        return self

    def stop(self) -> None:
        self._server.stop()
        self._dir.cleanup()

    # --- addresses -------------------------------------------------------------------------------
    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/{TENANT}"

    @property
    def graph_url(self) -> str:
        return f"{self.http}/graph"

    def settings(self, **more: str) -> dict[str, str]:
        """Bot settings pointing every identity endpoint here (app id and secret set: auth on)."""
        return {
            "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": APP_SECRET, "MicrosoftAppType": "SingleTenant",
            "MicrosoftAppTenantId": TENANT,
            "BOT_OPENID_METADATA_URL": f"{self.http}/botframework/.well-known/openidconfiguration",
            "BOT_TOKEN_ISSUER": ISSUER, "BOT_LOGIN_URL": self.authority, "BOT_OAUTH_URL": f"{self.http}/tokensvc",
            "MSAL_CA_BUNDLE": self.ca_file, "GRAPH_URL": self.graph_url, **more,
        }

    def rotate_key(self) -> str:
        """Publish a new signing key under a new key id (the old one is withdrawn); returns the id."""
        self.signing_key = new_key()
        self.kid = f"rotated-{uuid.uuid4().hex[:8]}"
        return self.kid

    def mint(self, service_url: str, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
             alg: str = "RS256", **claims: Any) -> str:
        """A Bot Connector token for ``service_url``; ``claims`` override (``None`` removes one)."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60,
                                "iat": now - 60, "exp": now + 3600}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        kid = self.kid if kid is None else kid
        if alg == "HS256":
            return jwt.encode(body, "shared-secret-0123456789abcdef0123", algorithm="HS256", headers={"kid": kid})
        return jwt.encode(body, key or self.signing_key, algorithm=alg, headers={"kid": kid})

    # --- server ----------------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/botframework/.well-known/openidconfiguration", self._bf_metadata)
        r.add_get("/keys", self._jwks)
        r.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._aad_metadata)
        r.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        r.add_get("/graph/v1.0/users", self._users)
        r.add_get("/graph/v1.0/users/{id}", self._user)
        r.add_get("/graph/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole", self._member_of)
        r.add_get("/graph/v1.0/me", self._me)
        r.add_get("/graph/v1.0/users/{id}/teamwork/installedApps", self._installed_apps)
        r.add_post("/graph/v1.0/users/{id}/teamwork/installedApps", self._install_app)
        r.add_get("/tokensvc/api/usertoken/GetToken", self._get_token)
        r.add_get("/tokensvc/api/botsignin/GetSignInResource", self._sign_in_resource)
        r.add_post("/tokensvc/api/usertoken/exchange", self._exchange)
        return app

    async def _bf_metadata(self, request: web.Request) -> web.Response:
        self.metadata_fetches += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.http}/keys"})

    async def _jwks(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        if self.keys_delay_s:
            self.keys_in_flight += 1
            try:
                await asyncio.sleep(self.keys_delay_s)
            finally:
                self.keys_in_flight -= 1
        if self.keys_status != 200:
            return web.json_response({"error": "scripted"}, status=self.keys_status)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})

    async def _aad_metadata(self, request: web.Request) -> web.Response:
        if not self.entra_up:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        base = f"https://127.0.0.1:{self.https_port}/{request.match_info['tenant']}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{base}/discovery/v2.0/keys",
        })

    async def _token(self, request: web.Request) -> web.Response:
        if not self.entra_up:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.token_requests.append(form)
        if form.get("client_id") != APP_ID:
            return web.json_response({"error": "unauthorized_client", "error_description":
                                      f"AADSTS700016: Application with identifier '{form.get('client_id')}' was "
                                      "not found in the directory"}, status=400)
        if form.get("client_secret") != APP_SECRET:
            return web.json_response({"error": "invalid_client", "error_description":
                                      "AADSTS7000215: Invalid client secret provided."}, status=401)
        if self.secret_expired:
            return web.json_response({"error": "invalid_client", "error_description":
                                      "AADSTS7000222: The provided client secret keys are expired."}, status=401)
        grant = form.get("grant_type")
        if grant == "client_credentials" and "graph" in form.get("scope", ""):
            claims = {"aud": "https://graph.microsoft.com", "appid": APP_ID, "roles": self.granted,
                      "exp": int(time.time()) + 3600}
            token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": KID})
            return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": token})
        if grant == "client_credentials":
            token = f"app-token-{len(self.token_requests)}"
            return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": token})
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            user = self.exchangeable.get(form.get("assertion", ""))
            if user is None:
                return web.json_response({"error": "invalid_grant", "error_description": "bad assertion"},
                                         status=400)
            return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": f"graph-{user}",
                                      "scope": form.get("scope", "")})
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    # --- Graph -----------------------------------------------------------------------------------
    def _graph_gate(self, request: web.Request) -> web.Response | None:
        self.graph_requests.append(request.path_qs)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.graph_failures:
            status = self.graph_failures.pop(0)
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response({"error": {"code": "Throttled" if status == 429 else "Authorization_RequestDenied",
                                                "message": "scripted"}}, status=status, headers=headers)
        return None

    async def _users(self, request: web.Request) -> web.Response:
        if (refused := self._graph_gate(request)) is not None:
            return refused
        query = request.query
        found = list(self.users)
        if "$search" in query:
            if request.headers.get("ConsistencyLevel") != "eventual":
                return web.json_response({"error": {"code": "Request_UnsupportedQuery"}}, status=400)
            terms = [t.split(":", 1)[1].lower() for t in query["$search"].replace('"', " ").split() if ":" in t]
            found = [u for u in found if any(term in (u.get("displayName", "") + " " + (u.get("mail") or "")).lower()
                                             for term in terms)]
        if "$filter" in query:
            wanted = {part.split("'")[1].lower() for part in query["$filter"].split(" or ") if "'" in part}
            found = [u for u in found if (u.get("mail") or "").lower() in wanted
                     or u.get("userPrincipalName", "").lower() in wanted]
        skip = int(query.get("$skiptoken", "0"))
        page = found[skip:skip + self.page_size]
        body: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(found):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(skip + self.page_size)
            body["@odata.nextLink"] = f"{self.graph_url}/v1.0/users?{urlencode(rest)}"
        return web.json_response(body)

    async def _user(self, request: web.Request) -> web.Response:
        if (refused := self._graph_gate(request)) is not None:
            return refused
        for user in self.users:
            if request.match_info["id"] in (user["id"], user.get("userPrincipalName")):
                return web.json_response(user)
        return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)

    async def _member_of(self, request: web.Request) -> web.Response:
        if (refused := self._graph_gate(request)) is not None:
            return refused
        templates = self.roles.get(request.match_info["id"], [])
        return web.json_response({"value": [
            {"@odata.type": "#microsoft.graph.directoryRole", "id": uuid.uuid4().hex, "roleTemplateId": t,
             "displayName": "Global Administrator" if t == GLOBAL_ADMIN_TEMPLATE else "Other role"}
            for t in templates]})

    async def _installed_apps(self, request: web.Request) -> web.Response:
        if (refused := self._graph_gate(request)) is not None:
            return refused
        wanted = request.query.get("$filter", "").partition("teamsApp/externalId eq '")[2].rstrip("'")
        apps = [{"id": f"inst-{c}", "teamsApp": {"id": c, "externalId": self.catalog.get(c, ""),
                                                   "distributionMethod": "organization"}}
                for c in self.installed_apps.get(request.match_info["id"], [])
                if not wanted or self.catalog.get(c) == wanted]
        return web.json_response({"value": apps})

    async def _install_app(self, request: web.Request) -> web.Response:
        if (refused := self._graph_gate(request)) is not None:
            return refused
        body = await request.json()
        catalog_id = str(body.get("teamsApp@odata.bind", "")).rsplit("/", 1)[-1]
        user = request.match_info["id"]
        self.install_requests.append((user, catalog_id))
        if catalog_id not in self.catalog or not any(u["id"] == user for u in self.users):
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        if catalog_id in self.installed_apps.get(user, []):
            return web.json_response({"error": {"code": "Conflict"}}, status=409)
        self.installed_apps.setdefault(user, []).append(catalog_id)
        return web.Response(status=201)

    async def _me(self, request: web.Request) -> web.Response:
        self.graph_requests.append(request.path_qs)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token.startswith("graph-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        aad = token.removeprefix("graph-")
        user = next((u for u in self.users if u["id"] == aad), {"id": aad, "displayName": "Someone"})
        return web.json_response(user)

    # --- Bot Framework token service (Teams SSO) ---------------------------------------------------
    async def _get_token(self, request: web.Request) -> web.Response:
        user = request.query.get("userId", "")
        if user in self.user_tokens:
            return web.json_response({"channelId": "msteams", "connectionName": request.query.get("connectionName"),
                                      "token": self.user_tokens[user], "expiration": "2099-01-01T00:00:00Z"})
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    async def _sign_in_resource(self, request: web.Request) -> web.Response:
        return web.json_response({
            "signInLink": f"{self.http}/signin?state={request.query.get('state', '')[:16]}",
            "tokenExchangeResource": {"id": uuid.uuid4().hex, "uri": f"api://botid-{APP_ID}",
                                      "providerId": "aad"},
        })

    async def _exchange(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.exchange_requests.append({**dict(request.query), **body})
        token = body.get("token") or ""
        if token not in self.exchangeable:
            return web.json_response({"error": {"code": "BadRequest", "message": "token not exchangeable"}},
                                     status=400)
        return web.json_response({"channelId": "msteams", "connectionName": request.query.get("connectionName"),
                                  "token": token, "expiration": "2099-01-01T00:00:00Z"})
