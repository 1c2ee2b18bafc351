"""People and roles: who is in the directory, their roles, language and time zone."""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain import names, rules
from domain.errors import RuleViolation
from domain.models import Person, Role
from services.benefits.core import ServiceCore, log


class People(ServiceCore):
    """The people the bot knows and what they may do."""

    async def set_roles(self, actor: Person, person_id: str, roles_: frozenset[Role]) -> Person:
        """Global admins grant and remove roles; the last Global admin cannot be removed.

        Global admin granted here is the bot's own grant (Entra will not take it back); one that came
        from Entra and is kept stays Entra's.
        """
        rules.require_can_manage_roles(actor)
        async with self._lock:
            person = self._person(person_id)
            rules.require_keeps_a_global_admin(self.repo.global_admins(), person.id, roles_)
            from_directory = person.admin_from_directory and Role.GLOBAL_ADMIN in roles_
            after = replace(person, roles=roles_, admin_from_directory=from_directory)
            await self._commit([self.repo.put_person(after),
                                self._audit(actor, "person.roles", person.id, person, after)])
            return after

    async def add_person(self, actor: Person, name: str, email: str, roles_: frozenset[Role] = frozenset()) -> Person:
        """Seed: "add new users in Account settings" when someone is not in the list."""
        rules.require_can_manage_roles(actor)
        async with self._lock:
            address = rules.validate_email(email)
            existing = self.repo.person_by_email(address)
            if existing is not None:
                return existing
            clean = names.normalize_name(name)
            names.require_distinct_name(clean, self.repo.people_like(clean))
            person = Person(id=uuid.uuid4().hex, name=clean, email=address.lower(), roles=roles_)
            await self._commit([self.repo.put_person(person),
                                self._audit(actor, "person.added", person.id, None, person)])
            return person

    async def remember_locale(self, person: Person, locale: str, timezone: str | None = None) -> Person:
        """The language and time zone of the person's Teams client, for messages sent without an
        incoming activity. ``timezone`` is a name the caller has already validated (or None)."""
        async with self._lock:
            current = self.repo.person(person.id) or person
            zone = timezone or current.timezone
            if current.locale == locale and current.timezone == zone:
                return current
            updated = replace(current, locale=locale, timezone=zone)
            await self._commit([self.repo.put_person(updated)])
            return updated

    async def sync_directory_admin(self, person: Person, entra_global_admin: bool) -> Person:
        """Mirror Entra's Global Administrator role, as Partner Center does.

        Listed by Entra: Global admin (marked as coming from Entra). No longer listed: the role is
        taken back if it came from Entra, unless that would leave nobody Global admin
        (``rules.require_keeps_a_global_admin``; logged so that someone grants another one).
        """
        async with self._lock:
            current = self.repo.person(person.id) or person
            if entra_global_admin:
                if current.has(Role.GLOBAL_ADMIN):
                    return current
                after = replace(current, roles=current.roles | {Role.GLOBAL_ADMIN}, admin_from_directory=True)
            else:
                if not (current.has(Role.GLOBAL_ADMIN) and current.admin_from_directory):
                    return current
                roles_ = current.roles - {Role.GLOBAL_ADMIN}
                try:
                    rules.require_keeps_a_global_admin(self.repo.global_admins(), current.id, roles_)
                except RuleViolation:
                    log.warning("Entra no longer lists the last Global admin as Global Administrator; "
                                "kept until another Global admin is granted", extra={"person_id": current.id})
                    return current
                after = replace(current, roles=roles_, admin_from_directory=False)
            await self._commit([self.repo.put_person(after),
                                self._audit(None, "person.roles", current.id, current, after, source="entra")])
            return after

    async def upsert_person(self, person: Person) -> Person:
        """Directory sync (Teams roster, Graph): keep what we know, fill in ids and names."""
        person = replace(person, name=names.display_name(person.name))
        async with self._lock:
            existing = (self.repo.person(person.id) or self.repo.person_by("aad_object_id", person.aad_object_id)
                        or self.repo.person_by("teams_id", person.teams_id)
                        or (self.repo.person_by_email(person.email) if person.email else None))
            if existing is None:
                await self._commit([self.repo.put_person(person)])
                return person
            merged = replace(
                existing,
                name=existing.name or person.name,
                email=existing.email or person.email,
                aad_object_id=existing.aad_object_id or person.aad_object_id,
                teams_id=existing.teams_id or person.teams_id,
                roles=existing.roles | person.roles,
            )
            if merged != existing:
                await self._commit([self.repo.put_person(merged)])
            return merged
