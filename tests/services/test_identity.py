"""The directory over a fake Microsoft Graph (msal against a fake https authority) and locally."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.models import Person, Role
from services.benefits import BenefitsService
from services.identity import (
    DirectoryPermissionError,
    GraphDirectory,
    LocalDirectory,
    MsalClients,
    apply_directory_roles,
    build_directory,
    graph_enabled,
)
from services.repository import INDEXES
from services.storage import open_store
from tests._common.fake_identity import APP_ID, APP_SECRET, GLOBAL_ADMIN_TEMPLATE, FakeIdentity

USERS = [
    {"id": f"aad-{n}", "displayName": name, "mail": f"{name.split()[0].lower()}@contoso.com",
     "userPrincipalName": f"{name.split()[0].lower()}@contoso.onmicrosoft.com"}
    for n, name in enumerate(["Adele Vance", "Alex Wilber", "Alan Steiner", "Allan Deyoung", "Alice Pike", "Lee Gu"])
]


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity(users=list(USERS), roles={"aad-1": [GLOBAL_ADMIN_TEMPLATE], "aad-5": ["other"]}).start()
    yield fake
    fake.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def graph(identity: FakeIdentity) -> AsyncIterator[GraphDirectory]:
    config = identity.settings()
    directory = build_directory(config, repo=None, clients=MsalClients(identity.ca_file))
    assert isinstance(directory, GraphDirectory)
    directory.clock = Clock()
    yield directory
    await directory.close()


def _graph_token_requests(identity: FakeIdentity) -> list[dict[str, str]]:
    return [r for r in identity.token_requests if r.get("scope", "").startswith("https://graph.microsoft.com/")]


async def test_search_follows_every_page_with_eventual_consistency(graph: GraphDirectory,
                                                                   identity: FakeIdentity) -> None:
    identity.page_size = 3
    people = await graph.search("al")  # four names contain "al": pages of three
    assert [p.name for p in people] == ["Alex Wilber", "Alan Steiner", "Allan Deyoung", "Alice Pike"]
    assert sum("/users?" in r for r in identity.graph_requests) == 2
    assert people[0] == Person(id="aad-1", name="Alex Wilber", email="alex@contoso.com", aad_object_id="aad-1")
    assert len(_graph_token_requests(identity)) == 1  # msal's cache serves the other pages


async def test_search_stops_at_the_limit(graph: GraphDirectory) -> None:
    assert len(await graph.search("al", limit=3)) == 3


async def test_get_by_id_and_by_email_and_company_email(graph: GraphDirectory) -> None:
    assert (await graph.get("aad-5")).name == "Lee Gu"
    assert (await graph.get("LEE@contoso.com")).id == "aad-5"
    assert await graph.get("missing") is None
    assert await graph.company_email("aad-0") == "adele@contoso.com"


async def test_entra_global_administrator_is_global_admin_and_cached(graph: GraphDirectory,
                                                                     identity: FakeIdentity) -> None:
    assert await graph.is_global_admin("aad-1") is True
    assert await graph.is_global_admin("aad-5") is False
    calls = len(identity.graph_requests)
    assert await graph.is_global_admin("aad-1") is True
    assert len(identity.graph_requests) == calls  # served from the cache
    graph.clock.now += timedelta(minutes=16)
    identity.roles["aad-1"] = []
    assert await graph.is_global_admin("aad-1") is False
    assert len(identity.graph_requests) == calls + 1


async def test_throttling_honours_retry_after(graph: GraphDirectory, identity: FakeIdentity) -> None:
    identity.graph_failures = [429, 429]
    assert [p.id for p in await graph.search("lee")] == ["aad-5"]
    assert identity.graph_failures == []


async def test_403_names_the_permission_to_grant(graph: GraphDirectory, identity: FakeIdentity) -> None:
    identity.graph_failures = [403]
    with pytest.raises(DirectoryPermissionError) as users_error:
        await graph.search("lee")
    assert users_error.value.permission == "User.Read.All" and "User.Read.All" in str(users_error.value)
    identity.graph_failures = [403]
    with pytest.raises(DirectoryPermissionError) as roles_error:
        await graph.is_global_admin("aad-1")
    assert "RoleManagement.Read.Directory" in str(roles_error.value)
    calls = len(identity.graph_requests)
    with pytest.raises(DirectoryPermissionError):  # remembered for a while: no Graph call per turn
        await graph.is_global_admin("aad-1")
    assert len(identity.graph_requests) == calls
    graph.clock.now += timedelta(minutes=6)
    assert await graph.is_global_admin("aad-1") is True


def test_graph_is_chosen_by_configuration() -> None:
    creds = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": APP_SECRET, "MicrosoftAppTenantId": "t"}
    assert graph_enabled(creds)
    assert not graph_enabled({**creds, "GRAPH_ENABLED": "false"})
    assert not graph_enabled({})
    assert graph_enabled({"GRAPH_ENABLED": "true"})
    assert isinstance(build_directory({"GRAPH_ENABLED": "true"}, None, MsalClients()),
                      LocalDirectory)  # enabled but no credential: local, with a warning


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[BenefitsService]:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    yield BenefitsService(store)
    await store.close()


async def test_local_directory_searches_the_people_table(service: BenefitsService) -> None:
    await service.upsert_person(Person(id="p1", name="Megan Bowen", email="megan@contoso.com", aad_object_id="a1",
                                       roles=frozenset({Role.GLOBAL_ADMIN})))
    await service.upsert_person(Person(id="p2", name="Lee Gu", email="lee@contoso.com"))
    local = LocalDirectory(service.repo)
    assert [p.id for p in await local.search("MEG")] == ["p1"]
    assert [p.id for p in await local.search("contoso")] == ["p2", "p1"]
    assert (await local.get("a1")).id == "p1"
    assert await local.company_email("lee@contoso.com") == "lee@contoso.com"
    assert await local.is_global_admin("p1") and not await local.is_global_admin("p2")


async def test_entra_roles_make_a_global_admin_once(service: BenefitsService, graph: GraphDirectory,
                                                    identity: FakeIdentity) -> None:
    alex = await service.upsert_person(Person(id="aad-1", name="Alex", email="alex@contoso.com",
                                              aad_object_id="aad-1", roles=frozenset({Role.USER_ADMIN})))
    lee = await service.upsert_person(Person(id="aad-5", name="Lee", email="lee@contoso.com", aad_object_id="aad-5"))
    promoted = await apply_directory_roles(service, graph, alex)
    assert promoted.roles == {Role.GLOBAL_ADMIN, Role.USER_ADMIN}
    assert service.repo.person("aad-1").has(Role.GLOBAL_ADMIN)
    assert not (await apply_directory_roles(service, graph, lee)).roles
    calls = len(identity.graph_requests)
    await apply_directory_roles(service, graph, service.repo.person("aad-1"))
    assert len(identity.graph_requests) == calls  # already Global admin: no Graph call
    identity.graph_failures = [403]
    graph.clock.now += timedelta(hours=1)
    assert await apply_directory_roles(service, graph, lee) == lee  # Graph refused: unchanged, no crash


async def test_configured_global_admin_met_later_is_promoted(service: BenefitsService) -> None:
    local = LocalDirectory(service.repo)
    newcomer = await service.upsert_person(Person(id="p9", name="Nestor", email="nestor@contoso.com"))
    other = await service.upsert_person(Person(id="p8", name="Lee", email="lee@contoso.com"))
    promoted = await apply_directory_roles(service, local, newcomer, ("NESTOR@contoso.com",))
    assert promoted.has(Role.GLOBAL_ADMIN) and service.repo.person("p9").has(Role.GLOBAL_ADMIN)
    assert not (await apply_directory_roles(service, local, other, ("nestor@contoso.com",))).roles


async def test_global_admin_from_entra_follows_entra(service: BenefitsService, graph: GraphDirectory,
                                                     identity: FakeIdentity) -> None:
    """Partner Center's rule: Entra Global Administrators are Global admins; when Entra drops someone,
    the role they had from Entra goes too. Roles granted in the bot stay, and so does the last Global
    admin (logged, so that someone grants another)."""
    alex = await service.upsert_person(Person(id="aad-1", name="Alex", email="alex@contoso.com",
                                              aad_object_id="aad-1", roles=frozenset({Role.USER_ADMIN})))
    megan = await service.upsert_person(Person(id="aad-2", name="Megan", email="megan@contoso.com",
                                               aad_object_id="aad-2"))
    alex = await apply_directory_roles(service, graph, alex)
    assert alex.has(Role.GLOBAL_ADMIN) and alex.admin_from_directory

    identity.roles["aad-1"] = []  # Entra drops Alex while he is the only Global admin: kept
    graph.clock.now += timedelta(hours=1)
    alex = await apply_directory_roles(service, graph, alex)
    assert alex.has(Role.GLOBAL_ADMIN) and service.repo.person("aad-1").has(Role.GLOBAL_ADMIN)

    megan = await service.set_roles(alex, megan.id, frozenset({Role.GLOBAL_ADMIN}))  # the bot's own grant
    assert not megan.admin_from_directory
    alex = await apply_directory_roles(service, graph, alex)  # within the role cache: the same answer
    assert alex.roles == {Role.USER_ADMIN} and not alex.admin_from_directory
    assert service.repo.person("aad-1").roles == {Role.USER_ADMIN}
    entry = service.repo.audit_of("aad-1", 1)[0]
    assert entry.actor_id == "system" and entry.source == "entra"

    graph.clock.now += timedelta(hours=1)
    assert (await apply_directory_roles(service, graph, megan)).has(Role.GLOBAL_ADMIN)  # not Entra's to take

    identity.roles["aad-1"] = [GLOBAL_ADMIN_TEMPLATE]  # Entra lists Alex again
    graph.clock.now += timedelta(hours=1)
    alex = await apply_directory_roles(service, graph, alex)
    assert alex.has(Role.GLOBAL_ADMIN) and alex.admin_from_directory
    kept = await service.set_roles(megan, alex.id, frozenset({Role.GLOBAL_ADMIN, Role.ADMIN_AGENT}))
    assert kept.admin_from_directory  # still Entra's: editing his other roles does not make it the bot's


async def test_global_admin_granted_in_the_bot_is_not_entras_to_take(service: BenefitsService,
                                                                    graph: GraphDirectory) -> None:
    lee = await service.upsert_person(Person(id="aad-5", name="Lee", email="lee@contoso.com", aad_object_id="aad-5",
                                             roles=frozenset({Role.GLOBAL_ADMIN})))
    nestor = await service.upsert_person(Person(id="aad-9", name="Nestor", email="nestor@contoso.com",
                                                aad_object_id="aad-9"))
    nestor = await service.set_roles(lee, nestor.id, frozenset({Role.GLOBAL_ADMIN}))
    graph.clock.now += timedelta(hours=1)
    assert (await apply_directory_roles(service, graph, lee)).has(Role.GLOBAL_ADMIN)  # Entra: "other" role only
    assert (await apply_directory_roles(service, graph, nestor)).has(Role.GLOBAL_ADMIN)  # not in Entra at all
