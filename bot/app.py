"""The aiohttp application: ``/api/messages``, ``/healthz`` and ``/readyz``.

``create_app(settings)`` builds everything; stores and sessions open and close in ``cleanup_ctx``
so that a failed start-up cleans up only what it opened. No module-level singletons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp import web
from botbuilder.core import UserState

from bot import keys
from bot.adapter import BenefitsAdapter
from bot.auth import build_authentication, keep_identity_warm, login_url
from bot.door import INVOKES, SSO_INVOKES, ServiceUrls
from bot.handler import BenefitsBot
from bot.notifier import notifications_ctx
from bot.operator import add_routes as add_operator_routes
from bot.pages import add_routes as add_pages
from bot.sdk.connector import ConnectorPool
from bot.sdk.gc_tuning import collect_less_often_on_startup, tune_gc
from bot.server import when_serving
from bot.settings import DOMAIN_FILE, STATE_FILE, Settings, number_setting
from bot.signing_keys import signing_keys_ctx
from bot.state_storage import TinyDBStateStorage
from bot.stores import storage_config
from dialogs.registry import Workflows
from dialogs.sso import SsoGate
from domain.models import Role
from services.audit_archive import ARCHIVE_FOLDER, DEFAULT_RETENTION_DAYS, archive_periodically
from services.benefits import BenefitsService
from services.conversations import ConversationBook
from services.identity import MsalClients, build_directory, build_sso_verifier
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES, LATER, Repository
from services.storage import DocumentStore, open_engine
from services.storage.lock import data_folder_lock

log = logging.getLogger(__name__)

def create_app(settings: Settings) -> web.Application:
    # Teams sends plain JSON: a compressed body is refused (bot.door) without ever reaching aiohttp's
    # decompressor, so a broken or enormous one costs nothing and leaves no traceback.
    app = web.Application(handler_args={"auto_decompress": False})
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.append(signing_keys_ctx)
    app.cleanup_ctx.append(_stores)
    app.cleanup_ctx.append(notifications_ctx)
    app[keys.SERVING] = asyncio.Event()
    app.on_startup.append(collect_less_often_on_startup)
    app.router.add_post("/api/messages", messages)
    add_operator_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_pages(app)
    return app


async def _stores(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if storage_config(settings) is not None:  # a database shared by every instance: no data folder to own
        async for _ in _open(app, settings):
            yield
        return
    with data_folder_lock(settings.data_dir):
        async for _ in _open(app, settings):
            yield


async def _open(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    config = storage_config(settings)
    domain_store = await open_engine(config, settings.data_dir / DOMAIN_FILE, INDEXES, later=LATER)
    try:
        state_store = await open_engine(config, settings.data_dir / STATE_FILE, {})
    except BaseException:
        await domain_store.close()
        raise
    app[keys.DOMAIN_STORE] = domain_store
    app[keys.STATE_STORE] = state_store
    service = BenefitsService(domain_store)
    app[keys.SERVICE] = service
    await bootstrap(settings, service, new_store=domain_store.created)
    state = TinyDBStateStorage(state_store)
    conversations = ConversationBook(domain_store)
    identity_retry_s = float(settings.extra.get("IDENTITY_RETRY_SECONDS", "").strip() or 30)
    clients = MsalClients(settings.extra.get("MSAL_CA_BUNDLE", "").strip(), identity_retry_s)  # one per credential
    app[keys.MSAL_CLIENTS] = clients
    if settings.app_id and settings.app_password:  # the bot's own tokens: named in /readyz until Entra answers
        clients.get(settings.app_id, settings.app_password, login_url(settings))
    directory = build_directory(settings.extra, service.repo, clients)
    app[keys.DIRECTORY] = directory
    connectors = ConnectorPool()
    await connectors.open()  # one keep-alive session for every outbound Bot Connector call
    app[keys.ADAPTER] = BenefitsAdapter(build_authentication(settings, clients), connectors,
                                        ServiceUrls.from_setting(settings.extra.get("ALLOWED_SERVICE_URLS", "")),
                                        SSO_INVOKES if settings.sso_connection_name else INVOKES)
    user_state = UserState(state)
    sso_gate = None
    if settings.sso_connection_name:
        minutes = float(settings.extra.get("SSO_FRESH_MINUTES", "").strip() or 10)
        sso_gate = SsoGate(settings.sso_connection_name, build_sso_verifier(settings.extra, clients),
                           user_state, fresh_for=timedelta(minutes=minutes))
    app[keys.WORKFLOWS] = workflows = Workflows.load()  # every verb's declaration: phrases, menu, roles
    app[keys.BOT] = BenefitsBot(service, conversations, sso_configured=bool(settings.sso_connection_name),
                                settings=settings, directory=directory, user_state=user_state, sso_gate=sso_gate,
                                workflows=workflows)
    warming = asyncio.create_task(keep_identity_warm(clients, identity_retry_s), name="identity warm-up")
    after_start = asyncio.create_task(_after_start(app, domain_store), name="after the start")
    archiving = asyncio.create_task(archive_periodically(
        domain_store, settings.data_dir / ARCHIVE_FOLDER,
        number_setting(settings.extra, "AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)), name="audit archive")
    log.info("bot ready", extra={"settings": settings.safe_summary()})
    try:
        yield
    finally:
        warming.cancel()
        after_start.cancel()
        archiving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await archiving
        with contextlib.suppress(asyncio.CancelledError):
            await after_start  # before the store it reads closes
        await directory.close()
        await connectors.close()
        await domain_store.close()
        await state_store.close()


async def _after_start(app: web.Application, store: DocumentStore) -> None:
    """Once the server listens: read the tables left for later between turns, then freeze what the start
    built out of the collector's reach (``bot.sdk.gc_tuning``)."""
    await when_serving(app)
    try:
        await store.load_later()
    except Exception:  # logged by the store; a read of the table tries again, and fails, on its own
        log.exception("reading the tables left for after the start failed")
    tune_gc()


async def bootstrap(settings: Settings, service: BenefitsService, *, new_store: bool) -> None:
    """First start: demo data into a store created just now; make the configured people Global admins.

    Demo data goes only into a store this start created (``new_store``): a store that merely looks
    empty may be a damaged one, and the Contoso people must never be seeded over an organization.
    """
    repo: Repository = service.repo
    if settings.seed_demo and new_store and repo.organization() is None:
        inventory = parse_inventory(demo_inventory(datetime.now(UTC).date()))
        await import_inventory(service.store, inventory)
        log.info("demo data loaded", extra={"benefits": len(inventory.benefits), "people": len(inventory.people)})
    for who in settings.global_admins:
        # under the store's mutation lock: instances starting together (or one changing this person's roles)
        # see the newest version of the person, so no change made meanwhile is overwritten
        async with service.store.mutation_lock():
            person = repo.person(who) or repo.person_by_email(who) or repo.person_by("aad_object_id", who)
            if person is None:
                log.warning("GLOBAL_ADMINS names nobody in the directory yet", extra={"who": who})
                continue
            if not person.has(Role.GLOBAL_ADMIN):
                await service.store.apply([repo.put_person(replace(person, roles=person.roles | {Role.GLOBAL_ADMIN}))])


async def messages(request: web.Request) -> web.StreamResponse:
    app = request.app
    return await app[keys.ADAPTER].process(request, app[keys.BOT])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "up"})


async def readyz(request: web.Request) -> web.Response:
    engines = [request.app[keys.DOMAIN_STORE], request.app[keys.STATE_STORE]]
    stores = [engine.health() for engine in engines]
    identity = request.app[keys.MSAL_CLIENTS].status()
    ready = all(s.ready for s in stores) and all(i["ready"] for i in identity)
    healthy = ready and not any(s.quarantined for s in stores)
    body = {
        "status": "ready" if healthy else ("degraded" if ready else "not ready"),
        # ``loading``: tables still being read after the start; a turn that uses one waits for it
        "stores": [{"path": s.path, "ready": s.ready, "quarantined": list(s.quarantined), "detail": s.detail,
                    "loading": list(engine.loading())} for s, engine in zip(stores, engines, strict=True)],
        "identity_providers": [{"authority": i["authority"], "ready": i["ready"], "detail": i["detail"]}
                               for i in identity],
    }
    return web.json_response(body, status=200 if ready else 503)
