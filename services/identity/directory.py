"""Who is in the organization: the ``Directory`` protocol and the local (TinyDB) directory.

Two sources answer the same questions: Microsoft Graph (``services.identity.graph``) when the bot
may read the tenant's directory, and the bot's own people table otherwise (local runs, the demo,
tenants that did not grant Graph permissions). The local table is filled by imports, by the rosters
of the teams and chats the bot joins, and by admins adding people; someone who merely messages the
bot is not added (the handler serves them as an employee with no holdings).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from domain.models import Person, Role
from services.repository import Repository


class DirectoryError(Exception):
    """The directory could not answer (network, throttling that did not end, missing permission)."""


class DirectoryPermissionError(DirectoryError):
    """The app registration lacks a Graph permission; ``permission`` names the one to grant."""

    def __init__(self, permission: str, detail: str = "") -> None:
        super().__init__(f"Microsoft Graph refused the request: grant the application permission "
                         f"{permission} (with admin consent) to the bot's app registration. {detail}".strip())
        self.permission = permission


@runtime_checkable
class Directory(Protocol):
    """People of the organization; ids are Entra object ids where known."""

    #: True when ``is_global_admin`` reflects Entra roles (not only roles granted inside the bot)
    authoritative_roles: bool

    async def search(self, query: str, limit: int = 25) -> list[Person]:
        """People whose name or email contains ``query`` (case-insensitive)."""
        ...

    async def get(self, person_id: str) -> Person | None:
        """A person by id (Entra object id) or email."""
        ...

    async def company_email(self, person_id: str) -> str | None:
        """The person's company (work) email address."""
        ...

    async def is_global_admin(self, person_id: str) -> bool:
        """Whether the person is a Global admin (Entra Global Administrator for Graph)."""
        ...

    async def close(self) -> None:
        ...


class LocalDirectory:
    """The bot's own people table, through the repository."""

    authoritative_roles = False

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    async def search(self, query: str, limit: int = 25) -> list[Person]:
        needle = query.strip().lower()
        people = self.repo.people()
        if needle:
            people = [p for p in people if needle in p.name.lower() or needle in p.email.lower()]
        return people[:limit]

    async def get(self, person_id: str) -> Person | None:
        if not person_id:
            return None
        return (self.repo.person(person_id) or self.repo.person_by("aad_object_id", person_id)
                or self.repo.person_by("teams_id", person_id) or self.repo.person_by_email(person_id))

    async def company_email(self, person_id: str) -> str | None:
        person = await self.get(person_id)
        return person.email if person and person.email else None

    async def is_global_admin(self, person_id: str) -> bool:
        person = await self.get(person_id)
        return bool(person and person.has(Role.GLOBAL_ADMIN))

    async def close(self) -> None:
        return None
