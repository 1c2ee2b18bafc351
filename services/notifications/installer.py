"""Install the bot for someone who never opened it, so that a notification can reach them.

Teams lets a bot message a person only once its app is installed for them. Like Microsoft's Company
Communicator, the bot installs itself through Microsoft Graph (``TeamsAppInstallation.ReadWriteSelfForUser.All``,
which lets an app install only itself); Teams then sends the bot the new chat's ``installationUpdate``,
which stores the person's conversation reference, and the waiting notification goes out. Without the
permission, or for an app that is not in the organization's catalog, the reason is kept on the
notification so that admins see who could not be reached and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from services.identity.directory import DirectoryError, DirectoryPermissionError
from services.notifications.outbox import INSTALL_NOT_PERMITTED, INSTALL_REQUESTED, INSTALL_UNAVAILABLE

log = logging.getLogger(__name__)

__all__ = ["INSTALL_NOT_PERMITTED", "INSTALL_REQUESTED", "INSTALL_UNAVAILABLE", "AppCatalog", "AppInstaller"]


class AppCatalog(Protocol):
    """What the installer needs of Graph (``GraphDirectory``)."""

    async def catalog_app_id(self, teams_app_id: str, installed_for: Iterable[str]) -> str | None: ...

    async def install_app(self, user_id: str, catalog_app_id: str) -> bool: ...


class AppInstaller:
    """Installs the Teams app (manifest id ``teams_app_id``) for a person, by their Entra object id."""

    def __init__(self, graph: AppCatalog, teams_app_id: str, entra_id_of: Callable[[str], str | None],
                 installed_for: Callable[[], Iterable[str]], catalog_app_id: str = "") -> None:
        self.graph = graph
        self.teams_app_id = teams_app_id
        self.entra_id_of = entra_id_of
        self.installed_for = installed_for
        self._catalog_id = catalog_app_id

    async def install(self, person_id: str) -> str:
        """One of the outcomes above; never raises (a Graph failure is an outcome)."""
        user = self.entra_id_of(person_id)
        if not user:
            return INSTALL_UNAVAILABLE  # only Entra users can have apps installed for them
        try:
            if not self._catalog_id:
                self._catalog_id = await self.graph.catalog_app_id(self.teams_app_id, self.installed_for()) or ""
            if not self._catalog_id:
                log.warning("the app is not installed for anyone the bot knows: cannot find it in the catalog")
                return INSTALL_UNAVAILABLE
            installed = await self.graph.install_app(user, self._catalog_id)
        except DirectoryPermissionError:
            log.warning("installing the app for a person needs TeamsAppInstallation.ReadWriteSelfForUser.All")
            return INSTALL_NOT_PERMITTED
        except DirectoryError as error:
            log.warning("installing the app for a person failed", extra={"error": str(error)[:200]})
            return INSTALL_UNAVAILABLE
        return INSTALL_REQUESTED if installed else INSTALL_UNAVAILABLE
