"""Identity: the organization's directory (Graph or local), Entra roles and SSO confirmation.

``build_directory`` picks the source from configuration: Microsoft Graph when ``GRAPH_ENABLED=true``,
or when the bot has an app id, a secret and a tenant and Graph is not disabled; the local people
table otherwise. ``apply_directory_roles`` makes an Entra Global Administrator a Global admin here
(the directory caches its answers, so turns do not call Graph each time).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from domain.models import Person, Role
from services.benefits import BenefitsService
from services.identity.directory import (
    Directory,
    DirectoryError,
    DirectoryPermissionError,
    LocalDirectory,
)
from services.identity.graph import GRAPH_URL, GraphDirectory
from services.identity.msal_app import MsalClients, authority_for
from services.identity.sso import SsoError, SsoVerifier
from services.repository import Repository

__all__ = ["Directory", "DirectoryError", "DirectoryPermissionError", "GraphDirectory", "LocalDirectory",
           "MsalClients", "SsoError", "SsoVerifier", "apply_directory_roles", "build_directory", "build_sso_verifier"]

log = logging.getLogger(__name__)

_FALSE = ("0", "false", "no", "off")


def _get(config: Mapping[str, str], name: str) -> str:
    return (config.get(name) or "").strip()


def _credential(config: Mapping[str, str]) -> tuple[str, str, str]:
    """(client id, secret, tenant) for Graph: ``GRAPH_CLIENT_*`` if set, else the bot's own."""
    return (_get(config, "GRAPH_CLIENT_ID") or _get(config, "MicrosoftAppId"),
            _get(config, "GRAPH_CLIENT_SECRET") or _get(config, "MicrosoftAppPassword"),
            _get(config, "GRAPH_TENANT_ID") or _get(config, "MicrosoftAppTenantId"))


def graph_enabled(config: Mapping[str, str]) -> bool:
    flag = _get(config, "GRAPH_ENABLED").lower()
    if flag in _FALSE and flag:
        return False
    client_id, secret, tenant = _credential(config)
    if flag in ("1", "true", "yes", "on"):
        return True
    return bool(client_id and secret and tenant)


def build_directory(config: Mapping[str, str], repo: Repository, clients: MsalClients) -> Directory:
    if not graph_enabled(config):
        return LocalDirectory(repo)
    client_id, secret, tenant = _credential(config)
    if not (client_id and secret and tenant):
        log.warning("GRAPH_ENABLED needs an app id, a secret and a tenant id; using the local directory")
        return LocalDirectory(repo)
    minutes = float(_get(config, "GRAPH_ROLE_CACHE_MINUTES") or 15)
    msal_app = clients.get(client_id, secret, authority_for(tenant, _get(config, "BOT_LOGIN_URL")))
    return GraphDirectory(msal_app, _get(config, "GRAPH_URL") or GRAPH_URL, role_cache=timedelta(minutes=minutes))


def build_sso_verifier(config: Mapping[str, str], clients: MsalClients) -> SsoVerifier | None:
    """The on-behalf-of exchange uses the bot's own app registration (the SSO token's audience)."""
    client_id, secret, tenant = (_get(config, "MicrosoftAppId"), _get(config, "MicrosoftAppPassword"),
                                 _get(config, "MicrosoftAppTenantId"))
    if not (client_id and secret):
        return None
    authority = authority_for(tenant or "organizations", _get(config, "BOT_LOGIN_URL"))
    return SsoVerifier(clients.get(client_id, secret, authority), _get(config, "GRAPH_URL") or GRAPH_URL)


def is_configured_admin(person: Person, configured: tuple[str, ...]) -> bool:
    """``GLOBAL_ADMINS`` names the person by email, Entra object id or bot id."""
    names = {n.strip().lower() for n in configured if n.strip()}
    return bool(names & {v.lower() for v in (person.email, person.aad_object_id, person.id) if v})


async def apply_directory_roles(service: BenefitsService, directory: Directory, person: Person,
                                configured_admins: tuple[str, ...] = ()) -> Person:
    """The Global admins that do not come from the bot: Entra Global Administrators and the people
    ``GLOBAL_ADMINS`` names.

    Roles granted inside the bot and by ``GLOBAL_ADMINS`` are kept. Global admin that came from Entra
    follows Entra (checked at most once per ``role_cache`` of the directory): taken back when Entra no
    longer lists the person (see ``BenefitsService.sync_directory_admin``). ``GLOBAL_ADMINS`` is also
    applied at start-up, but only to people already known then; this covers people met later.
    """
    if person.has(Role.GLOBAL_ADMIN) and not person.admin_from_directory:
        return person  # the bot's own grant (or GLOBAL_ADMINS): not Entra's to take back
    if is_configured_admin(person, configured_admins):
        log.info("configured Global admin", extra={"person_id": person.id})
        return await service.upsert_person(replace(person, roles=person.roles | {Role.GLOBAL_ADMIN}))
    if not directory.authoritative_roles or not person.aad_object_id:
        return person
    try:
        is_admin = await directory.is_global_admin(person.aad_object_id)
    except DirectoryError as error:
        log.warning("directory roles unavailable", extra={"reason": str(error)[:300]})
        return person
    if is_admin == person.has(Role.GLOBAL_ADMIN):
        return person
    log.info("Global admin follows Entra", extra={"person_id": person.id, "entra_global_admin": is_admin})
    return await service.sync_directory_admin(person, is_admin)
