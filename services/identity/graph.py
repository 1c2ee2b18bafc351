"""The tenant's directory from Microsoft Graph, read with the bot's own app identity (msal).

Why Graph: the bot's people picker, company emails and the first Global admin should come from the
organization's Entra directory rather than being typed in. Permissions (application, admin consent):
``User.Read.All`` for people, ``RoleManagement.Read.Directory`` for directory roles. An Entra Global
Administrator is a Global admin here.

msal blocks (``requests``), so its calls run in a worker thread; Graph calls use an aiohttp client.
Role answers are cached (``role_cache``) so that a turn does not call Graph every time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from urllib.parse import quote

import aiohttp

from domain.models import Person
from services.identity.directory import DirectoryError, DirectoryPermissionError
from services.identity.msal_app import token_error
from services.identity.permissions import INSTALL_PERMISSION, ROLES_PERMISSION, USERS_PERMISSION

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
#: Entra's "Global Administrator" directory role template id (the same in every tenant)
GLOBAL_ADMIN_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10"
_SELECT = "id,displayName,mail,userPrincipalName"


def person_from_graph(user: dict[str, Any]) -> Person:
    email = (user.get("mail") or user.get("userPrincipalName") or "").lower()
    return Person(id=user["id"], name=user.get("displayName") or email, email=email, aad_object_id=user["id"])


class GraphDirectory:
    """``Directory`` over Microsoft Graph v1.0 with the client-credentials flow."""

    authoritative_roles = True

    def __init__(self, msal_app: Any, graph_url: str = GRAPH_URL, role_cache: timedelta = timedelta(minutes=15),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), max_retries: int = 3,
                 max_wait: float = 30.0) -> None:
        self.msal_app = msal_app
        self.base = graph_url.rstrip("/") + "/v1.0"
        self.role_cache = role_cache
        self.clock = clock
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._roles: dict[str, tuple[bool | DirectoryError, datetime]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- Directory ------------------------------------------------------------------------------
    async def search(self, query: str, limit: int = 25) -> list[Person]:
        term = query.replace('"', "").replace("\\", "").strip()
        params = {"$select": _SELECT, "$top": str(min(limit, 999)), "$count": "true"}
        if term:
            params["$search"] = f'"displayName:{term}" OR "mail:{term}"'
        users = await self._collect("/users", params, USERS_PERMISSION, limit)
        return [person_from_graph(u) for u in users]

    async def get(self, person_id: str) -> Person | None:
        if not person_id:
            return None
        if "@" in person_id:
            address = person_id.strip().lower().replace("'", "''")
            users = await self._collect("/users", {
                "$select": _SELECT, "$count": "true",
                "$filter": f"mail eq '{address}' or userPrincipalName eq '{address}'"}, USERS_PERMISSION, 1)
            return person_from_graph(users[0]) if users else None
        body = await self._get(f"/users/{quote(person_id, safe='')}", {"$select": _SELECT}, USERS_PERMISSION)
        return person_from_graph(body) if body else None

    async def company_email(self, person_id: str) -> str | None:
        person = await self.get(person_id)
        return person.email if person and person.email else None

    async def is_global_admin(self, person_id: str) -> bool:
        """Entra Global Administrator (directly or through a group); cached for ``role_cache``."""
        now = self.clock()
        cached = self._roles.get(person_id)
        if cached is not None and cached[1] > now:
            if isinstance(cached[0], DirectoryError):
                raise cached[0]  # a refusal is remembered too: no Graph call per turn while it lasts
            return cached[0]
        try:
            roles = await self._collect(
                f"/users/{quote(person_id, safe='')}/transitiveMemberOf/microsoft.graph.directoryRole",
                {"$select": "id,displayName,roleTemplateId"}, ROLES_PERMISSION, 500, missing_ok=True)
        except DirectoryError as error:
            self._roles[person_id] = (error, now + min(self.role_cache, timedelta(minutes=5)))
            raise
        answer = any(r.get("roleTemplateId") == GLOBAL_ADMIN_TEMPLATE_ID for r in roles)
        self._roles[person_id] = (answer, now + self.role_cache)
        return answer

    # --- proactive installation -------------------------------------------------------------------
    async def catalog_app_id(self, teams_app_id: str, installed_for: Iterable[str]) -> str | None:
        """The org catalog's id of the Teams app whose manifest id is ``teams_app_id``, read from the
        installations of people who have it (the catalog itself needs a wider permission)."""
        external = teams_app_id.replace("'", "''")
        for user in islice(installed_for, 5):
            apps = await self._collect(f"/users/{quote(user, safe='')}/teamwork/installedApps",
                                       {"$expand": "teamsApp", "$filter": f"teamsApp/externalId eq '{external}'"},
                                       INSTALL_PERMISSION, 1, missing_ok=True)
            found = (apps[0].get("teamsApp") or {}).get("id") if apps else None
            if found:
                return str(found)
        return None

    async def install_app(self, user_id: str, catalog_app_id: str) -> bool:
        """Install the bot as a personal app for ``user_id``; False when Graph knows no such user or app.
        Already installed counts as installed (409)."""
        status, _ = await self._request(
            "POST", f"/users/{quote(user_id, safe='')}/teamwork/installedApps", None, INSTALL_PERMISSION,
            body={"teamsApp@odata.bind": f"{self.base}/appCatalogs/teamsApps/{catalog_app_id}"}, accept=(409,))
        return status != 404

    # --- HTTP -----------------------------------------------------------------------------------
    async def _token(self) -> str:
        result = await asyncio.to_thread(self.msal_app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
        if not result or "access_token" not in result:
            raise DirectoryError(f"no Graph token: {token_error(result)}")
        return str(result["access_token"])

    async def _collect(self, path: str, params: dict[str, str], permission: str, limit: int,
                       missing_ok: bool = False) -> list[dict[str, Any]]:
        """Every page of a collection (``@odata.nextLink``), up to ``limit`` items."""
        items: list[dict[str, Any]] = []
        url: str | None = self.base + path
        query: dict[str, str] | None = params
        while url and len(items) < limit:
            body = await self._get(url, query, permission, absolute=True)
            if body is None:
                if missing_ok:
                    return items
                break
            items.extend(body.get("value") or [])
            url, query = body.get("@odata.nextLink"), None  # the next link carries the query
        return items[:limit]

    async def _get(self, path: str, params: dict[str, str] | None, permission: str,
                   absolute: bool = False) -> dict[str, Any] | None:
        status, body = await self._request("GET", path, params, permission, absolute=absolute)
        return body if status == 200 else None

    async def _request(self, method: str, path: str, params: dict[str, str] | None, permission: str,
                       body: dict[str, Any] | None = None, absolute: bool = False,
                       accept: tuple[int, ...] = ()) -> tuple[int, dict[str, Any] | None]:
        """One Graph call with retries on throttling: (status, JSON body) for 2xx, 404 and ``accept``."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        url = path if absolute else self.base + path
        for attempt in range(self.max_retries + 1):
            headers = {"Authorization": f"Bearer {await self._token()}", "ConsistencyLevel": "eventual"}
            try:
                async with self._session.request(method, url, params=params, headers=headers, json=body) as resp:
                    if 200 <= resp.status < 300:
                        return resp.status, (await resp.json() if resp.content_length != 0
                                             and resp.content_type == "application/json" else None)
                    if resp.status == 404 or resp.status in accept:
                        return resp.status, None
                    detail = (await resp.text())[:300]
                    if resp.status == 403:
                        raise DirectoryPermissionError(permission, detail)
                    if resp.status in (429, 503, 504) and attempt < self.max_retries:
                        wait = _retry_after(resp.headers.get("Retry-After"), attempt, self.max_wait)
                        log.info("graph throttled", extra={"status": resp.status, "wait_s": wait})
                        await asyncio.sleep(wait)
                        continue
                    raise DirectoryError(f"Graph answered {resp.status}: {detail}")
            except aiohttp.ClientError as error:
                raise DirectoryError(f"Graph unreachable: {error}") from error
        raise DirectoryError("Graph kept throttling")


def _retry_after(header: str | None, attempt: int, cap: float) -> float:
    try:
        wait = float(header) if header is not None else 2.0 ** attempt
    except ValueError:
        wait = 2.0 ** attempt
    return max(0.0, min(wait, cap))
