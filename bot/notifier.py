"""Proactive notifications wired into the app: the botbuilder ``Sender``, card rendering, and the
worker and reminder scheduler as asyncio tasks in the app's ``cleanup_ctx``.

``BotSender`` sends with ``CloudAdapter.continue_conversation`` and a stored conversation
reference. The adapter's ``on_turn_error`` would swallow a failed send (and send an apology into
the very conversation that failed), so the callback catches the error itself and the sender maps
it to a ``DeliveryError`` with the HTTP status, the connector's error code and ``Retry-After``.
Cards are rendered when sent, in the recipient's language (their saved preference, else their
directory locale, else en-US).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.bot_adapter import BotAdapter
from botbuilder.schema import ConversationReference
from msrest.exceptions import HttpOperationError

from bot import keys
from bot.server import when_serving
from cards.notifications import notification_card
from dialogs.requests import card_for as request_card_for
from manifest.settings import TEAMS_APP_ID_NAMESPACE
from services.benefits import BenefitsService
from services.conversations import ConversationBook
from services.i18n import DEFAULT_LOCALE, Translator, normalize_locale
from services.identity import GraphDirectory
from services.notifications import DeliveryError, Outbox, RateLimiter, RetryPolicy, Worker
from services.notifications.events import REQUEST_SUBMITTED, NotificationListener
from services.notifications.installer import AppInstaller
from services.notifications.scheduler import ReminderScheduler
from services.storage.base import Document

log = logging.getLogger(__name__)

NOTIFICATIONS: web.AppKey[Notifications] = web.AppKey("notifications")


def delivery_error(exc: BaseException) -> DeliveryError:
    """A connector failure as status, error code and Retry-After (0 = no HTTP answer)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, HttpOperationError):
        response = getattr(exc, "response", None)
        status = int(getattr(response, "status_code", 0) or getattr(response, "status", 0) or 0)
        error = getattr(getattr(exc, "error", None), "error", None)
        code = str(getattr(error, "code", "") or "")
        headers = getattr(response, "headers", None) or {}
        return DeliveryError(status, code, _seconds(headers.get("Retry-After")))
    return DeliveryError(0, type(exc).__name__)


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None  # an HTTP date: fall back to backoff


class BotSender:
    """``Sender`` over botbuilder: ``continue_conversation`` + ``send_activity`` with the card."""

    def __init__(self, adapter: BotAdapter, app_id: str | None) -> None:
        self.adapter = adapter
        self.app_id = app_id or None

    async def send(self, reference: dict[str, Any], card: dict[str, Any]) -> None:
        failure: list[BaseException] = []

        async def callback(context: TurnContext) -> None:
            try:
                await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
            except Exception as exc:  # keep it from on_turn_error: it is ours to classify
                failure.append(exc)

        try:
            await self.adapter.continue_conversation(ConversationReference().deserialize(reference), callback,
                                                     self.app_id)
        except Exception as exc:
            raise delivery_error(exc) from exc
        if failure:
            raise delivery_error(failure[0]) from failure[0]


class CardRenderer:
    """Renders an outbox entry in its recipient's language."""

    def __init__(self, service: BenefitsService, conversations: ConversationBook) -> None:
        self.service = service
        self.conversations = conversations

    def locale_of(self, person_id: str) -> str:
        preference = self.conversations.preferences(person_id).get("language")
        person = self.service.repo.person(person_id)
        return (normalize_locale(preference) or normalize_locale(person.locale if person else None)
                or DEFAULT_LOCALE)

    def __call__(self, doc: Document) -> dict[str, Any]:
        recipient = self.service.repo.person(doc["recipient"])
        translate = Translator(self.locale_of(doc["recipient"]), timezone=recipient.timezone if recipient else None)
        params = dict(doc.get("params") or {})
        if doc["kind"] == REQUEST_SUBMITTED:
            # Admins get the request card itself: approve or decline in place, refreshed for all.
            request = self.service.repo.request(str(params.get("request_id") or ""))
            admin = self.service.repo.person(doc["recipient"])
            if request is not None and admin is not None:
                return request_card_for(self.service, request, admin, translate)
        return notification_card(doc["kind"], params, translate)


class Notifications:
    """What the app holds: the outbox, the worker and the scheduler (tests reach them through the app)."""

    def __init__(self, outbox: Outbox, worker: Worker, scheduler: ReminderScheduler,
                 listener: NotificationListener) -> None:
        self.outbox = outbox
        self.worker = worker
        self.scheduler = scheduler
        self.listener = listener


def _float(settings: Any, name: str, default: float) -> float:
    try:
        return float(settings.extra.get(name, default))
    except (TypeError, ValueError):
        return default


def build_installer(service: BenefitsService, conversations: ConversationBook, directory: Any,
                    settings: Any) -> AppInstaller | None:
    """Proactive installation through Graph, when the directory is Graph and ``PROACTIVE_INSTALL`` allows."""
    enabled = str(settings.extra.get("PROACTIVE_INSTALL", "true")).strip().lower() not in ("0", "false", "no", "off")
    if not enabled or not isinstance(directory, GraphDirectory):
        return None
    # the manifest's id, as `make package` writes it (TEAMS_APP_ID, else derived from the bot's app id)
    teams_app_id = settings.extra.get("TEAMS_APP_ID", "").strip().lower() or (
        str(uuid.uuid5(TEAMS_APP_ID_NAMESPACE, settings.app_id.lower())) if settings.app_id else "")
    if not teams_app_id:
        return None

    def entra_id_of(person_id: str) -> str | None:
        person = service.repo.person(person_id)
        return person.aad_object_id if person is not None and person.aad_object_id else None

    def installed_for() -> list[str]:
        return [aad for pid in conversations.all_references() if (aad := entra_id_of(pid))]

    return AppInstaller(directory, teams_app_id, entra_id_of, installed_for,
                        settings.extra.get("TEAMS_CATALOG_APP_ID", "").strip())


def build_notifications(service: BenefitsService, conversations: ConversationBook, sender: Any,
                        settings: Any, directory: Any = None) -> Notifications:
    """The outbox, worker and scheduler for one store; limits from ``NOTIFY_*`` variables."""
    outbox = Outbox(service.store)
    limiter = RateLimiter(per_app_rps=_float(settings, "NOTIFY_APP_RPS", 50.0), share=service.store.instances)
    policy = RetryPolicy(max_attempts=int(_float(settings, "NOTIFY_MAX_ATTEMPTS", 6)),
                         base_delay=_float(settings, "NOTIFY_BACKOFF_SECONDS", 1.0))
    worker = Worker(outbox, sender, conversations.reference, CardRenderer(service, conversations), limiter, policy,
                    installer=build_installer(service, conversations, directory, settings),
                    install_wait=_float(settings, "NOTIFY_INSTALL_WAIT_SECONDS", 30.0),
                    owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
                    lease_seconds=_float(settings, "NOTIFY_LEASE_SECONDS", 120.0),
                    # several instances: what another one enqueued is seen at a catch-up, not by a wake-up
                    idle_interval=_float(settings, "NOTIFY_IDLE_SECONDS", 2.0 if service.store.shared else 60.0))
    scheduler = ReminderScheduler(service, outbox, interval=_float(settings, "NOTIFY_REMINDER_MINUTES", 15.0) * 60,
                                  reachable=lambda person_id: conversations.reference(person_id) is not None)
    listener = NotificationListener(service, outbox).subscribe()
    return Notifications(outbox, worker, scheduler, listener)


async def _reminders_once_serving(app: web.Application, scheduler: ReminderScheduler) -> None:
    """The reminder ticks, the first once the bot answers (a tick reads every benefit with an expiry)."""
    await when_serving(app)
    await scheduler.run()


async def notifications_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the worker and the scheduler beside the web server; stop them before the stores close."""
    settings = app[keys.SETTINGS]
    service = app[keys.SERVICE]
    conversations = app[keys.BOT].conversations  # the handler's book: it sees references being written
    sender = BotSender(app[keys.ADAPTER], settings.app_id)
    notifications = build_notifications(service, conversations, sender, settings, app.get(keys.DIRECTORY))
    app[NOTIFICATIONS] = notifications
    tasks = [asyncio.create_task(notifications.worker.run(), name="notification-worker"),
             asyncio.create_task(_reminders_once_serving(app, notifications.scheduler), name="expiry-reminders")]
    try:
        yield
    finally:
        notifications.listener.unsubscribe()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await notifications.worker.flush()
